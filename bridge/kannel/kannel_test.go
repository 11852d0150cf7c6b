package kannel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

// fakeAccepter records MTs; err, when set, is returned instead.
type fakeAccepter struct {
	mu  sync.Mutex
	mts []bridge.MT
	err func(bridge.MT) error
}

func (f *fakeAccepter) Accept(_ context.Context, mt bridge.MT) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		if err := f.err(mt); err != nil {
			return "", err
		}
	}
	f.mts = append(f.mts, mt)
	return fmt.Sprintf("id-%d", len(f.mts)), nil
}

func newTest(t *testing.T, mod func(*Config)) (*Adapter, *fakeAccepter) {
	t.Helper()
	cfg := Config{Channel: "kn", Username: "Username", Password: "Password",
		MOURL: "https://courier.example/c/kn/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/receive?backend=%i&sender=%p&message=%b&ts=%T&id=%I&to=%P"}
	if mod != nil {
		mod(&cfg)
	}
	acc := &fakeAccepter{}
	a, err := New(cfg, acc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, acc
}

func do(a *Adapter, method, target string, body string, header map[string]string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

type fixture struct {
	Name, Query, To, From, Text string
	DLRURL                      string `json:"dlr_url"`
}

// TestCourierRequests drives the adapter with sendsms calls shaped exactly
// as courier's KN handler sends them, in every generation (platforms.md
// C.1): each is accepted with Kannel's answer, its text decoded by the
// generation's rule, and its dlr-url kept for the reports.
func TestCourierRequests(t *testing.T) {
	raw, err := os.ReadFile("testdata/courier.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []fixture
	if err := json.Unmarshal(raw, &fixtures); err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			a, acc := newTest(t, nil)
			w := do(a, http.MethodGet, Path+"?"+f.Query, "", nil)
			if w.Code != http.StatusAccepted || w.Body.String() != "0: Accepted for delivery" {
				t.Fatalf("answer %d %q", w.Code, w.Body.String())
			}
			for k, v := range map[string]string{"Content-Type": "text/html", "Pragma": "no-cache", "Cache-Control": "no-cache"} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if len(acc.mts) != 1 {
				t.Fatalf("%d MTs", len(acc.mts))
			}
			mt := acc.mts[0]
			if mt.To != f.To || mt.From != f.From || mt.Text != f.Text || mt.Channel != "kn" {
				t.Errorf("MT %+v, want to %q from %q text %q", mt, f.To, f.From, f.Text)
			}
			if rp, ok := decodeReport(mt.ExternalID); !ok || rp.URL != f.DLRURL || rp.Mask != 27 || rp.To != f.To {
				t.Errorf("report data %q (%v), want dlr-url %q mask 27 to %q", mt.ExternalID, ok, f.DLRURL, f.To)
			}
			if mt.DedupKey == "" || !strings.Contains(mt.DedupKey, f.DLRURL) || mt.DedupWindow != DedupWindow {
				t.Errorf("dedup key %q window %v: want the dlr-url for 24h", mt.DedupKey, mt.DedupWindow)
			}
		})
	}
}

// TestAnswers checks Kannel's exact status codes and bodies (C.1.2).
func TestAnswers(t *testing.T) {
	base := "username=Username&password=Password&from=2020&text=hi"
	cases := []struct {
		name, query string
		accErr      error
		code        int
		body        string
	}{
		{"wrong password", "username=Username&password=nope&to=1&text=hi", nil, 403, "Authorization failed for sendsms"},
		{"no password", "username=Username&to=1&text=hi", nil, 403, "Authorization failed for sendsms"},
		{"user/pass aliases", "user=Username&pass=Password&from=2020&to=123&text=hi", nil, 202, "0: Accepted for delivery"},
		{"missing to", base, nil, 400, "Missing receiver number, rejected"},
		{"empty to", base + "&to=", nil, 400, "Empty receiver number not allowed, rejected"},
		// What real Kannel does (make interop): numbers read as C atoi, a
		// dlr-mask is only refused below -1.
		{"dlr-mask not a number", base + "&to=123&dlr-mask=x", nil, 202, "0: Accepted for delivery"},
		{"dlr-mask 64", base + "&to=123&dlr-mask=64", nil, 202, "0: Accepted for delivery"},
		{"dlr-mask -5", base + "&to=123&dlr-mask=-5", nil, 400, "DLR-Mask field misformed, rejected"},
		{"only spaces in to", base + "&to=+++", nil, 400, "Number(s) has/have been denied by white- and/or black-lists."},
		{"no text", "username=Username&password=Password&to=123", nil, 202, "0: Accepted for delivery"},
		{"bad coding", base + "&to=123&coding=3", nil, 400, "Coding field misformed, rejected"},
		{"bad mclass", base + "&to=123&mclass=4", nil, 400, "MClass field misformed, rejected"},
		{"bad priority", base + "&to=123&priority=9", nil, 400, "Priority field misformed, rejected"},
		{"bad validity", base + "&to=123&validity=-5", nil, 400, "Validity field misformed, rejected"},
		{"bad deferred", base + "&to=123&deferred=-2", nil, 400, "Deferred field misformed, rejected"},
		{"bad alt-dcs", base + "&to=123&alt-dcs=2", nil, 400, "Alt-DCS field misformed, rejected"},
		{"udh too long", base + "&to=123&udh=%8f" + strings.Repeat("a", 143), nil, 400, "UDH field is too long, rejected"},
		{"udh length mismatch", base + "&to=123&udh=%05%00%03%01", nil, 400, "UDH field misformed, rejected"},
		{"odd UTF-16BE", "username=Username&password=Password&from=2020&to=123&coding=2&text=%00U%00", nil, 400, "Charset or body misformed, rejected"},
		{"bad utf-8", "username=Username&password=Password&from=2020&to=123&text=%FF", nil, 400, "Charset or body misformed, rejected"},
		{"unknown charset", base + "&to=123&charset=klingon", nil, 400, "Charset or body misformed, rejected"},
		{"commit failed", base + "&to=123", bridge.ErrUnavailable, 503, "Temporal failure, try again later."},
		{"no route", base + "&to=123", fmt.Errorf("%w: 123", bridge.ErrNoRoute), 403, "Not routable. Do not try again."},
		{"not a number", base + "&to=abc", &bridge.InvalidError{Field: "to", Msg: "not a phone number"}, 400, "Number(s) has/have been denied by white- and/or black-lists."},
		{"text refused", base + "&to=123", &bridge.InvalidError{Field: "text", Msg: "too long"}, 400, "Charset or body misformed, rejected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, acc := newTest(t, nil)
			if c.accErr != nil {
				acc.err = func(bridge.MT) error { return c.accErr }
			}
			w := do(a, http.MethodGet, Path+"?"+c.query, "", nil)
			if w.Code != c.code || w.Body.String() != c.body {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), c.code, c.body)
			}
			if c.code != 202 && len(acc.mts) != 0 {
				t.Errorf("refused send queued %d MTs", len(acc.mts))
			}
		})
	}
}

// TestSeveralReceivers: to holds several numbers separated by spaces; each
// gets its own MT and its own dedup key and report data.
func TestSeveralReceivers(t *testing.T) {
	a, acc := newTest(t, nil)
	q := url.Values{"username": {"Username"}, "password": {"Password"}, "from": {"2020"}, "text": {"hi"},
		"to": {"+250788000001 +250788000002  0788000003"}, "dlr-url": {"http://x/dlr?s=%d"}, "dlr-mask": {"1"}}
	w := do(a, http.MethodGet, Path+"?"+q.Encode(), "", nil)
	if w.Code != 202 {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	if len(acc.mts) != 3 {
		t.Fatalf("%d MTs, want 3", len(acc.mts))
	}
	keys := map[string]bool{}
	for i, want := range []string{"+250788000001", "+250788000002", "0788000003"} {
		if acc.mts[i].To != want {
			t.Errorf("MT %d to %q, want %q", i, acc.mts[i].To, want)
		}
		keys[acc.mts[i].DedupKey] = true
	}
	if len(keys) != 3 {
		t.Errorf("dedup keys not per receiver: %v", keys)
	}
}

// TestSomeReceiversFail: receivers that cannot be committed are named in
// a 500; the others stay accepted; denied numbers are skipped.
func TestSomeReceiversFail(t *testing.T) {
	a, acc := newTest(t, nil)
	acc.err = func(mt bridge.MT) error {
		switch mt.To {
		case "222":
			return bridge.ErrUnavailable
		case "333":
			return fmt.Errorf("%w: 333", bridge.ErrNoRoute)
		case "abc":
			return &bridge.InvalidError{Field: "to", Msg: "not a number"}
		}
		return nil
	}
	w := do(a, http.MethodGet, Path+"?username=Username&password=Password&text=hi&to="+url.QueryEscape("111 222 abc 333 444"), "", nil)
	if w.Code != 500 || w.Body.String() != "Sending failed. Failed receivers are: 222 333" {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
	if len(acc.mts) != 2 || acc.mts[0].To != "111" || acc.mts[1].To != "444" {
		t.Errorf("accepted %+v, want 111 and 444", acc.mts)
	}
}

// TestPostForms: Kannel's POST sendsms with X-Kannel-* headers and the
// text as body, and a POST with a form body.
func TestPostForms(t *testing.T) {
	a, acc := newTest(t, nil)
	w := do(a, http.MethodPost, Path, "\x00h\x00i\x26\x3a", map[string]string{"Content-Type": "text/plain; charset=UTF-16BE",
		"X-Kannel-Username": "Username", "X-Kannel-Password": "Password", "X-Kannel-To": "123", "X-Kannel-From": "2020"})
	if w.Code != 202 || len(acc.mts) != 1 || acc.mts[0].Text != "hi☺" || acc.mts[0].To != "123" {
		t.Fatalf("headers form: %d %q %+v", w.Code, w.Body.String(), acc.mts)
	}
	w = do(a, http.MethodPost, Path, "username=Username&password=Password&to=456&text=yo", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if w.Code != 202 || len(acc.mts) != 2 || acc.mts[1].Text != "yo" || acc.mts[1].To != "456" {
		t.Fatalf("form body: %d %q %+v", w.Code, w.Body.String(), acc.mts)
	}
}

// TestSubmitParams: priority, validity, deferred and binfo reach the MT.
func TestSubmitParams(t *testing.T) {
	a, acc := newTest(t, nil)
	w := do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&text=hi&priority=2&validity=90&deferred=5&binfo=abc", "", nil)
	if w.Code != 202 || len(acc.mts) != 1 {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	want := bridge.SubmitParams{Priority: 2, Validity: 90 * time.Minute, Deferred: 5 * time.Minute, ServiceType: "abc"}
	if got := acc.mts[0].Submit; got != want {
		t.Errorf("submit %+v, want %+v", got, want)
	}
	do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&text=hi&validity=999999&binfo=toolongbinfo", "", nil)
	if got := acc.mts[1].Submit; got.Validity != 99*24*time.Hour || got.ServiceType != "" {
		t.Errorf("submit %+v: want validity cut to 99 days, binfo over 5 characters dropped", got)
	}
}

// TestHeadIsGet: Kannel sends on HEAD as on GET (make interop).
func TestHeadIsGet(t *testing.T) {
	a, acc := newTest(t, nil)
	if w := do(a, http.MethodHead, Path+"?username=Username&password=Password&to=123&text=hi", "", nil); w.Code != 202 || len(acc.mts) != 1 {
		t.Fatalf("HEAD: %d, %d MTs", w.Code, len(acc.mts))
	}
}

// TestDefaultFromInReports: without from, %P of the reports is the
// channel's number the MT goes out from.
func TestDefaultFromInReports(t *testing.T) {
	a, acc := newTest(t, func(c *Config) { c.From = "+250788000020" })
	do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&text=hi&dlr-mask=8&dlr-url=http%3A%2F%2Fx%2F%3FP%3D%25P", "", nil)
	reqs, err := a.Status(bridge.Status{State: bridge.StateSent, ExternalID: acc.mts[0].ExternalID})
	if err != nil || len(reqs) != 1 || reqs[0].URL != "http://x/?P=%2B250788000020" {
		t.Errorf("%+v %v", reqs, err)
	}
}

// TestDedupOnlyOnIdentifyingDLRURL: courier's dlr-url names its message,
// so a repeat of it (and of the text, to the same receiver) is a
// duplicate; a client's dlr-url template filled through Kannel's codes
// (%F, %I, %p, ...) is the same for many messages and de-duplicates
// nothing.
func TestDedupOnlyOnIdentifyingDLRURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://c.example/c/kn/8eb23e93/status?uuid=0191e180&status=%d": true,
		"https://c.example/c/kn/8eb23e93/status?id=10&status=%d&x=%2F%%": true,
		"http://app.example/dlr.php?status=%d&id=%F":                     false,
		"http://app.example/dlr?s=%d&msg=%I":                             false,
		"http://app.example/dlr?s=%d&to=%p":                              false,
		"http://app.example/dlr?s=%d&r=%A%C3%A9":                         false,
	} {
		if got := identifies(u); got != want {
			t.Errorf("identifies(%q) = %v, want %v", u, got, want)
		}
	}
	a, acc := newTest(t, nil)
	for _, text := range []string{"one", "two"} {
		do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&dlr-mask=1&text="+text+
			"&dlr-url="+url.QueryEscape("http://app.example/dlr?s=%d&id=%F"), "", nil)
		do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&dlr-mask=1&text="+text+
			"&dlr-url="+url.QueryEscape("https://c.example/status?uuid=u1&status=%d"), "", nil)
	}
	if acc.mts[0].DedupKey != "" || acc.mts[2].DedupKey != "" {
		t.Errorf("template dlr-url got dedup keys %q, %q", acc.mts[0].DedupKey, acc.mts[2].DedupKey)
	}
	if k1, k2 := acc.mts[1].DedupKey, acc.mts[3].DedupKey; k1 == "" || k2 == "" || k1 == k2 {
		t.Errorf("courier dlr-url dedup keys %q, %q: want set, and apart for other texts", k1, k2)
	}
}

// TestNoDLRNoDedup: without a dlr-url there is no id to de-duplicate on.
func TestNoDLRNoDedup(t *testing.T) {
	a, acc := newTest(t, nil)
	do(a, http.MethodGet, Path+"?username=Username&password=Password&to=123&text=hi", "", nil)
	if len(acc.mts) != 1 || acc.mts[0].DedupKey != "" || acc.mts[0].ExternalID != "" {
		t.Fatalf("%+v", acc.mts)
	}
}

func statusFor(t *testing.T, a *Adapter, mask int, st bridge.Status) []bridge.Request {
	t.Helper()
	st.ExternalID = report{URL: "https://c.example/dlr?uuid=u1&status=%d&a=%A&f=%F&p=%p&P=%P&i=%i&I=%I&T=%T&n=%n",
		Mask: mask, To: "+250788383383", From: "2020", User: "Username"}.encode()
	reqs, err := a.Status(st)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// TestDLRTypes maps each state to Kannel's DLR type, filtered by dlr-mask
// (C.4.1), with the %A text of each (C.4.2).
func TestDLRTypes(t *testing.T) {
	a, _ := newTest(t, nil)
	at := time.Unix(1700000000, 0)
	rcpt := "id:abc sub:001 dlvrd:001 submit date:2311142213 done date:2311142213 stat:DELIVRD err:000 text:hi"
	cases := []struct {
		name  string
		mask  int
		st    bridge.Status
		query string // "" = no request
	}{
		{"sent", 27, bridge.Status{State: bridge.StateSent, SMSCMsgID: "abc"}, "status=8&a=ACK%2F&f=abc"},
		{"delivered", 27, bridge.Status{State: bridge.StateDelivered, SMSCMsgID: "abc", Report: rcpt}, "status=1&a=" + url.QueryEscape(rcpt) + "&f=abc"},
		{"receipt failed", 27, bridge.Status{State: bridge.StateFailed, SMSCMsgID: "abc", ErrorCode: "001", Report: strings.Replace(rcpt, "DELIVRD", "UNDELIV", 1)},
			"status=2&a=" + url.QueryEscape(strings.Replace(rcpt, "DELIVRD", "UNDELIV", 1)) + "&f=abc"},
		{"submit rejected", 27, bridge.Status{State: bridge.StateFailed, ErrorCode: "0x0B"}, "status=16&a=NACK%2F0x0000000b%2FInvalid+Destination+Address&f="},
		{"retries exhausted", 27, bridge.Status{State: bridge.StateFailed, Description: "retries exhausted"}, "status=16&a=NACK%2F&f="},
		{"buffered", 31, bridge.Status{State: bridge.StateBuffered, SMSCMsgID: "abc", Report: strings.Replace(rcpt, "DELIVRD", "ENROUTE", 1)},
			"status=4&a=" + url.QueryEscape(strings.Replace(rcpt, "DELIVRD", "ENROUTE", 1)) + "&f=abc"},
		{"buffered not in mask", 27, bridge.Status{State: bridge.StateBuffered, SMSCMsgID: "abc"}, ""},
		{"sent not in mask", 1, bridge.Status{State: bridge.StateSent}, ""},
		{"failed not in mask", 9, bridge.Status{State: bridge.StateFailed, SMSCMsgID: "abc"}, ""},
		{"submit reject only", 16, bridge.Status{State: bridge.StateFailed}, "status=16&a=NACK%2F&f="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.st.MTID, c.st.SMSC, c.st.At = "MT1", "agg-a", at
			reqs := statusFor(t, a, c.mask, c.st)
			if c.query == "" {
				if len(reqs) != 0 {
					t.Fatalf("got %+v, want no report", reqs)
				}
				return
			}
			if len(reqs) != 1 || reqs[0].Method != http.MethodGet {
				t.Fatalf("got %+v", reqs)
			}
			want := "https://c.example/dlr?uuid=u1&" + c.query + "&p=%2B250788383383&P=2020&i=agg-a&I=MT1&T=1700000000&n=Username"
			if reqs[0].URL != want {
				t.Errorf("url\n got %s\nwant %s", reqs[0].URL, want)
			}
		})
	}
}

// TestAccountAndMeta: %o is the bind's system_id for reports from a
// receipt (1, 2, 4) and empty for 8 and 16; %D is Kannel's meta-data of
// the report; coding, class and MWI are undefined in a report, and %O
// makes the coding 7-bit for the codes after it (make interop compares
// all of them with Kannel's).
func TestAccountAndMeta(t *testing.T) {
	a, _ := newTest(t, func(c *Config) { c.SystemIDs = map[string]string{"agg-a": "sys1"} })
	rp := report{URL: "http://x/?o=%o&D=%D&c=%c&m=%m&M=%M&O=%O&c2=%c", Mask: 31, To: "1"}.encode()
	for _, c := range []struct {
		st   bridge.Status
		want string
	}{
		{bridge.Status{State: bridge.StateSent}, "http://x/?o=&D=%3Fsmpp_resp%3F%3Forig_msg%3Fdlr_mask%3D31%26&c=-1&m=-1&M=-1&O=00&c2=0"},
		{bridge.Status{State: bridge.StateDelivered, SMSCMsgID: "m", Report: "id:m stat:DELIVRD err:000 text:"},
			"http://x/?o=sys1&D=%3Forig_msg%3Fdlr_mask%3D31%26%3Fsmpp%3Fdlr_err%3D%2503%2500%2500%26&c=-1&m=-1&M=-1&O=00&c2=0"},
		{bridge.Status{State: bridge.StateFailed, SMSCMsgID: "m", Report: "id:m stat:UNDELIV err:261 text:"},
			"http://x/?o=sys1&D=%3Forig_msg%3Fdlr_mask%3D31%26%3Fsmpp%3Fdlr_err%3D%2503%2501%2505%26&c=-1&m=-1&M=-1&O=00&c2=0"},
		{bridge.Status{State: bridge.StateBuffered, SMSCMsgID: "m", Report: "id:m stat:ENROUTE err:000 text:"},
			"http://x/?o=sys1&D=%3Forig_msg%3Fdlr_mask%3D31%26%3Fsmpp%3Fdlr_err%3D%2503%2500%2500%26&c=-1&m=-1&M=-1&O=00&c2=0"},
	} {
		c.st.SMSC, c.st.ExternalID, c.st.MTID = "agg-a", rp, "m1"
		reqs, err := a.Status(c.st)
		if err != nil || len(reqs) != 1 || reqs[0].URL != c.want {
			t.Errorf("%v: %+v %v\n want %s", c.st.State, reqs, err, c.want)
		}
	}
}

// TestReportMetaWithClientMeta: the sendsms meta-data leads a submit
// report and loses its smpp group to a receipt's (as Kannel, make interop).
func TestReportMetaWithClientMeta(t *testing.T) {
	rp := report{Mask: 31, Meta: "?smpp?x=1&?app?k=v&"}
	if got, want := reportMeta(rp, dlrSubmit, ""), "?smpp?x=1&?app?k=v&?orig_msg?dlr_mask=31&?smpp_resp?"; got != want {
		t.Errorf("submit: %q, want %q", got, want)
	}
	if got, want := reportMeta(rp, dlrDelivered, "id:1 stat:DELIVRD err:000"), "?app?k=v&?orig_msg?dlr_mask=31&?smpp?dlr_err=%03%00%00&"; got != want {
		t.Errorf("receipt: %q, want %q", got, want)
	}
	if got := withoutGroup("?a?x=1&?b?y=2&", "a"); got != "?b?y=2&" {
		t.Errorf("withoutGroup = %q", got)
	}
}

// TestExpand covers every escape code of C.4.2.
func TestExpand(t *testing.T) {
	v := vars{typ: 1, reply: "a b", foreign: "F/1", sender: "0044 77", receiver: "00123", smsc: "s 1", id: "I1",
		at: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), body: "  Join  the *club now ", coding: 2, charset: "UTF-16BE",
		mclass: "1", mwi: "2", dcs: "8", udh: "\x05", billing: "b i", account: "acc", user: "u s", dlrURL: "http://x/?a=%d",
		meta: "?smpp?x=1", validity: "10", deferred: "5"}
	cases := map[string]string{
		"%d": "1", "%A": "a+b", "%F": "F%2F1", "%p": "0044+77", "%P": "00123", "%q": "%2B44+77", "%Q": "%2B123",
		"%i": "s+1", "%I": "I1", "%T": "1767323045", "%t": "2026-01-02+03:04:05", "%b": "++Join++the+*club+now+",
		"%a": "Join+the+*club+now", "%k": "Join", "%s%s": "the*club", "%S": "the", "%s%S": "the~club", "%s%r": "the*club+now",
		"%c": "2", "%C": "UTF-16BE", "%m": "1", "%M": "2", "%O": "8", "%u": "%05", "%B": "b+i", "%o": "acc", "%n": "u+s",
		"%R": "http%3A%2F%2Fx%2F%3Fa%3D%25d", "%D": "%3Fsmpp%3Fx%3D1", "%v": "10", "%V": "5", "%f": "", "%%": "%",
		"%z": "%z", "50%": "50%", "a%db": "a1b",
	}
	for in, want := range cases {
		if got := expand(in, v); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMO builds courier's KN receive call (C.3): POST, everything in the
// query string, empty body; and the GET form.
func TestMO(t *testing.T) {
	mo := bridge.MO{ID: "0191e180-7d60-7000-aff4-c8d3f7bcc9d3", SMSC: "claro-ar", From: "+2349067554729", To: "24453",
		Text: "Join ☺", Received: time.Unix(1493735509, 0)}
	a, _ := newTest(t, nil)
	reqs, err := a.MO(mo)
	if err != nil || len(reqs) != 1 {
		t.Fatal(reqs, err)
	}
	want := "https://courier.example/c/kn/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/receive?backend=claro-ar&sender=%2B2349067554729&message=Join+%E2%98%BA&ts=1493735509&id=0191e180-7d60-7000-aff4-c8d3f7bcc9d3&to=24453"
	if r := reqs[0]; r.Method != http.MethodPost || r.URL != want || len(r.Body) != 0 {
		t.Errorf("got %s %s body %q\nwant POST %s", r.Method, r.URL, r.Body, want)
	}
	g, _ := newTest(t, func(c *Config) { c.MOMethod = "get"; c.MOURL = "http://app.example/mo?from=%p&text=%a&kw=%k" })
	reqs, _ = g.MO(mo)
	if r := reqs[0]; r.Method != http.MethodGet || r.URL != "http://app.example/mo?from=%2B2349067554729&text=Join+%E2%98%BA&kw=Join" {
		t.Errorf("GET: %s %s", r.Method, r.URL)
	}
	n, _ := newTest(t, func(c *Config) { c.MOURL = "" })
	if _, err := n.MO(mo); err == nil {
		t.Error("MO without mo_url: no error")
	}
}

// TestEscape: Kannel's URL encoding (make interop compares raw URLs).
func TestEscape(t *testing.T) {
	if got, want := escape("a Z9-_.!~*'()+%/?&=é"), "a+Z9-_.!~*'()%2B%25%2F%3F%26%3D%C3%A9"; got != want {
		t.Errorf("escape = %q, want %q", got, want)
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"12": 12, " 7x": 7, "x": 0, "": 0, "-3": -3, "+4": 4, "-": 0} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestConfigMasksPassword(t *testing.T) {
	c := Config{Channel: "kn", Username: "u", Password: "s3cret"}
	if strings.Contains(c.String(), "s3cret") || strings.Contains(fmt.Sprint(c.LogValue()), "s3cret") {
		t.Error("password shown")
	}
	if _, err := New(Config{Channel: "kn", Username: "u"}, &fakeAccepter{}, nil); err == nil {
		t.Error("no password accepted")
	}
	if _, err := New(Config{Channel: "kn", Username: "u", Password: "p", MOMethod: "PUT"}, &fakeAccepter{}, nil); err == nil {
		t.Error("mo_method PUT accepted")
	}
}

// TestDCSParams: coding=1, udh, mclass, alt-dcs, pid and rpi reach the
// MT as Kannel's smsbox reads them (a UDH without coding means 8-bit;
// 8-bit text is not decoded), and mwi; compress and account do not.
func TestDCSParams(t *testing.T) {
	a, acc := newTest(t, nil)
	auth := Path + "?username=Username&password=Password&to=123"
	cases := []struct {
		name, query string
		want        bridge.SubmitParams
		text        string
	}{
		{"coding=1", "&text=%FF%00%80&coding=1", bridge.SubmitParams{Binary: true, Data: "\xff\x00\x80"}, ""},
		{"coding=1 charset ignored", "&text=%C3%A9&coding=1&charset=utf-8", bridge.SubmitParams{Binary: true, Data: "\xc3\xa9"}, ""},
		{"udh alone is 8-bit", "&text=%01%02&udh=%06%05%04%0B%84%23%F0", bridge.SubmitParams{Binary: true, Data: "\x01\x02", UDH: "\x06\x05\x04\x0b\x84\x23\xf0"}, ""},
		{"udh with coding=0", "&text=hi&coding=0&udh=%05%00%03%07%02%01", bridge.SubmitParams{UDH: "\x05\x00\x03\x07\x02\x01"}, "hi"},
		{"udh with coding=2", "&text=%00h&coding=2&udh=%05%00%03%07%02%01", bridge.SubmitParams{UDH: "\x05\x00\x03\x07\x02\x01"}, "h"},
		{"mclass 0", "&text=hi&mclass=0", bridge.SubmitParams{Class: 1}, "hi"},
		{"mclass 3", "&text=hi&mclass=3", bridge.SubmitParams{Class: 4}, "hi"},
		{"alt-dcs", "&text=hi&alt-dcs=1", bridge.SubmitParams{AltDCS: true}, "hi"},
		{"alt-dcs 0", "&text=hi&alt-dcs=0", bridge.SubmitParams{}, "hi"},
		{"pid", "&text=hi&pid=65", bridge.SubmitParams{PID: 65}, "hi"},
		{"rpi 1", "&text=hi&rpi=1", bridge.SubmitParams{RPI: true}, "hi"},
		{"rpi 2", "&text=hi&rpi=2", bridge.SubmitParams{RPI: true}, "hi"},
		{"rpi 0", "&text=hi&rpi=0", bridge.SubmitParams{}, "hi"},
		{"mwi 0", "&text=hi&mwi=0", bridge.SubmitParams{MWI: 1}, "hi"},
		{"mwi 7", "&text=hi&mwi=7", bridge.SubmitParams{MWI: 8}, "hi"},
		{"ignored", "&text=hi&compress=1&account=acc", bridge.SubmitParams{}, "hi"},
	}
	for i, c := range cases {
		w := do(a, http.MethodGet, auth+c.query, "", nil)
		if w.Code != 202 || len(acc.mts) != i+1 {
			t.Fatalf("%s: %d %q", c.name, w.Code, w.Body.String())
		}
		mt := acc.mts[i]
		if mt.Submit != c.want || mt.Text != c.text {
			t.Errorf("%s: submit %+v text %q, want %+v %q", c.name, mt.Submit, mt.Text, c.want, c.text)
		}
	}
	// POST: the body's octets as they came.
	w := do(a, http.MethodPost, Path, "\xff\xfe", map[string]string{"Content-Type": "application/octet-stream",
		"X-Kannel-Username": "Username", "X-Kannel-Password": "Password", "X-Kannel-To": "123", "X-Kannel-Coding": "1"})
	if w.Code != 202 || acc.mts[len(acc.mts)-1].Submit != (bridge.SubmitParams{Binary: true, Data: "\xff\xfe"}) {
		t.Errorf("POST coding=1: %d %+v", w.Code, acc.mts[len(acc.mts)-1].Submit)
	}
}
