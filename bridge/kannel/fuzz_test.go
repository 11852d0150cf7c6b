package kannel

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// kannelCodes are the status codes a sendsms can get from the adapter.
var kannelCodes = map[int]bool{202: true, 400: true, 403: true, 413: true, 500: true, 503: true}

// FuzzSendsms feeds arbitrary query strings and POST bodies to the
// adapter: it must not panic, it answers one of Kannel's status codes with
// text/html, and whatever it accepts is valid UTF-8 text for receivers
// with no spaces.
func FuzzSendsms(f *testing.F) {
	for _, q := range []string{
		"username=Username&password=Password&to=%2B250788383383&text=hi&dlr-mask=27&dlr-url=https%3A%2F%2Fx%2F%3Fs%3D%25d",
		"username=Username&password=Password&to=1+2&coding=2&text=%00h%26%3A",
		"username=Username&password=Password&to=1&coding=2&charset=utf8&text=%E2%98%BA",
		"username=Username&password=Password&to=1&udh=%05%00%03%01%02%01&validity=x&priority=9",
		"user=Username&pass=Password&to=&text=", "%", "to=%zz", "",
	} {
		f.Add(q, "", false)
		f.Add(q, "body text", true)
	}
	f.Fuzz(func(t *testing.T, query, body string, post bool) {
		a, acc := newTest(t, nil)
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, "/cgi-bin/sendsms", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("X-Kannel-Username", "Username")
		r.Header.Set("X-Kannel-Password", "Password")
		r.Header.Set("X-Kannel-To", "123")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if !kannelCodes[w.Code] || w.Header().Get("Content-Type") != "text/html" {
			t.Fatalf("%s %q: answer %d %q (%s)", method, query, w.Code, w.Body.String(), w.Header().Get("Content-Type"))
		}
		for _, mt := range acc.mts {
			if !utf8.ValidString(mt.Text) || mt.To == "" || strings.ContainsAny(mt.To, " \t\n") {
				t.Fatalf("accepted %+v", mt)
			}
		}
	})
}

// FuzzExpand: any template and values expand without panicking, and a
// template without % comes back unchanged.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"https://x/?s=%d&a=%A&%", "%s%S%r%k%a", "%%%z%", "plain"} {
		f.Add(s, "some words *here*")
	}
	f.Fuzz(func(t *testing.T, tmpl, body string) {
		got := expand(tmpl, vars{body: body, reply: body, sender: body})
		if !strings.Contains(tmpl, "%") && got != tmpl {
			t.Fatalf("expand(%q) = %q", tmpl, got)
		}
	})
}

// FuzzDecodeReport: any ExternalID decodes without panicking; a report
// that decodes re-encodes to one that decodes the same; any report
// encodes to valid UTF-8 that decodes to what its JSON form gave.
func FuzzDecodeReport(f *testing.F) {
	for _, r := range reportCases {
		f.Add(r.encode(), r.URL, r.To, r.From, r.User, r.Meta, r.Mask)
		f.Add(jsonForm(r), r.URL, r.To, r.From, r.User, r.Meta, r.Mask)
	}
	f.Add("\x0127:3:abc0:0:0:0:", "", "", "", "", "", 0)
	f.Fuzz(func(t *testing.T, ext, url, to, from, user, meta string, mask int) {
		if r, ok := decodeReport(ext); ok {
			if again, ok := decodeReport(r.encode()); !ok || (utf8.ValidString(r.URL+r.To+r.From+r.User+r.Meta) && again != r) {
				t.Fatalf("%q: %+v re-decodes as %+v (%v)", ext, r, again, ok)
			}
		}
		r := report{URL: url, Mask: mask, To: to, From: from, User: user, Meta: meta}
		enc := r.encode()
		var want report
		if err := json.Unmarshal([]byte(jsonForm(r)), &want); err != nil {
			t.Fatal(err)
		}
		if got, ok := decodeReport(enc); !ok || got != want || !utf8.ValidString(enc) {
			t.Fatalf("%+v encodes as %q, decodes as %+v (%v), want %+v", r, enc, got, ok, want)
		}
	})
}
