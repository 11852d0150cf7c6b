package bridge

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestRedactPayload: a callback is shown as readable JSON with every
// secret masked — Authorization (scheme kept), token and key headers,
// cookies, the URL's userinfo password and secret query parameters, secret
// fields of a JSON or form body — and any other payload is left as it is.
func TestRedactPayload(t *testing.T) {
	reqs := []Request{
		{Method: "POST", URL: "https://hook.example/custom?x=1", Header: map[string]string{
			"Authorization": "Bearer s3cret-bearer", "Content-Type": "application/json", "X-Auth-Token": "s3cret-xtok",
			"apikey": "s3cret-apikey", "Cookie": "sid=s3cret-cookie"},
			Body: []byte(`{"channelId":"c1","events":[{"text":"hello there","token":"s3cret-body"}]}`)},
		{Method: "GET", URL: "http://user:s3cret-userinfo@kannel.example/dlr?password=s3cret-query&type=1&text=hi"},
		{Method: "POST", URL: "https://rp.example/receive", Header: map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Authorization": "s3cret-bare"},
			Body: []byte("from=%2B250788&text=hi+there&password=s3cret-form")},
	}
	for _, r := range reqs {
		items := callbackItems("ch", "+250788", statusOf{MTID: "mt-1"}, []Request{r})
		out, ok := RedactPayload(items[0].Lane, items[0].Payload)
		if !ok {
			t.Fatalf("RedactPayload(%s) not a callback", items[0].Payload)
		}
		if bytes.Contains(out, []byte("s3cret")) {
			t.Errorf("secret left in %s", out)
		}
		var v struct {
			Req struct {
				Method, URL string
				Header      map[string]string
				Body        json.RawMessage
			}
			MT string `json:"mt"`
		}
		if err := json.Unmarshal(out, &v); err != nil || v.Req.Method != r.Method || v.MT != "mt-1" {
			t.Errorf("RedactPayload = %s (%v)", out, err)
		}
		if ct := r.Header["Content-Type"]; ct != "" && v.Req.Header["Content-Type"] != ct {
			t.Errorf("Content-Type = %q, want %q kept", v.Req.Header["Content-Type"], ct)
		}
		if !strings.Contains(v.Req.URL, r.URL[:strings.Index(r.URL, ":")]) {
			t.Errorf("url = %q", v.Req.URL)
		}
	}
	out, _ := RedactPayload("http:ch", callbackItems("ch", "c", statusOf{}, reqs[:1])[0].Payload)
	for _, want := range []string{`"Authorization":"Bearer ***"`, `"text":"hello there"`, `"token":"***"`, `"X-Auth-Token":"***"`, `"apikey":"***"`, `"Cookie":"***"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("RedactPayload lacks %s: %s", want, out)
		}
	}
	out, _ = RedactPayload("http:ch", callbackItems("ch", "c", statusOf{}, reqs[2:])[0].Payload)
	if !strings.Contains(string(out), `text=hi+there`) || !strings.Contains(string(out), `"Authorization":"***"`) {
		t.Errorf("form callback = %s", out)
	}
	// An MT comes back as its record, a password in its report data masked.
	if out, ok := RedactPayload("mt:agg-a", []byte(`{"to":"+5511","text":"hi","ext":"{\"u\":\"http://x/?password=p\u0026a=1\"}"}`)); !ok ||
		!strings.Contains(string(out), `"to":"+5511"`) || strings.Contains(string(out), "password=p") || !strings.Contains(string(out), "password=xxxxx") {
		t.Errorf("RedactPayload(mt) = %s, %v", out, ok)
	}
	for _, tc := range []struct{ lane, payload string }{
		{"http:ch", "\xff\x00\x01"},
		{"in:agg-a", `{"req":{"header":{"Authorization":"Bearer x"}}}`},
	} {
		if out, ok := RedactPayload(tc.lane, []byte(tc.payload)); ok || string(out) != tc.payload {
			t.Errorf("RedactPayload(%s, %q) = %q, %v; want it unchanged", tc.lane, tc.payload, out, ok)
		}
	}
}
