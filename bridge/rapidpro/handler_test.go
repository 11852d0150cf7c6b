package rapidpro

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

const (
	testChannel = "rp-main"
	testRecv    = "https://rapidpro.example.org/c/ex/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/receive"
	testUUID    = "0191e180-7d60-7000-aded-7d8b151cbd5b"
	testSecret  = "Bearer s3cret"
	sendPath    = "/rapidpro/" + testChannel + "/send"
	maxBody     = 4096
)

// fakeAccepter records every MT it is asked to accept and answers err, or
// "bridge-<n>" when err is nil.
type fakeAccepter struct {
	mu  sync.Mutex
	mts []bridge.MT
	err error
}

func (f *fakeAccepter) Accept(ctx context.Context, mt bridge.MT) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mts = append(f.mts, mt)
	if f.err != nil {
		return "", f.err
	}
	return fmt.Sprintf("bridge-%d", len(f.mts)), nil
}

func (f *fakeAccepter) calls() []bridge.MT {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bridge.MT(nil), f.mts...)
}

// MustAdapter builds an adapter for testChannel, with cfg overrides applied.
func MustAdapter(t testing.TB, acc bridge.Accepter, logger *slog.Logger, edit func(*Config)) *Adapter {
	t.Helper()
	cfg := Config{Channel: testChannel, ReceiveURL: testRecv}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg, acc, logger)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return a
}

// serve runs req through a mux the way the core mounts the adapter: body
// bounded by http.MaxBytesReader.
func serve(a http.Handler, req *http.Request) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle(sendPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		a.ServeHTTP(w, r)
	}))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

type sendCase struct {
	name   string
	method string // default POST
	query  string // appended to sendPath
	ctype  string // Content-Type; "-" for none
	auth   string // Authorization header, if any
	body   string
}

func (c sendCase) request() *http.Request {
	m := c.method
	if m == "" {
		m = http.MethodPost
	}
	target := sendPath
	if c.query != "" {
		target += "?" + c.query
	}
	req := httptest.NewRequest(m, target, strings.NewReader(c.body))
	if c.ctype != "-" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return req
}

const (
	form = "application/x-www-form-urlencoded"
	js   = "application/json"
	// courier's current and older default bodies (B.1.2), as on the wire.
	currentDefault = "uuid=" + testUUID + "&text=Love+is+patient.&to=%2B250788123123&to_no_plus=250788123123&from=2020&from_no_plus=2020&channel=8eb23e93-5ecb-45ba-b726-3b064e0c56ab"
	olderDefault   = "id=1241244&text=Love+is+patient.&to=%2B250788123123&to_no_plus=250788123123&from=2020&from_no_plus=2020&channel=8eb23e93-5ecb-45ba-b726-3b064e0c56ab"
)

func wantMT(id, to, from, text string) bridge.MT {
	sum := sha256.Sum256([]byte(text))
	return bridge.MT{
		Channel:     testChannel,
		To:          to,
		From:        from,
		Text:        text,
		ExternalID:  id,
		DedupKey:    "rapidpro:" + testChannel + ":" + id + ":" + hex.EncodeToString(sum[:]),
		DedupWindow: 24 * time.Hour,
	}
}

func TestSendAccepted(t *testing.T) {
	love := "Love is patient."
	tests := []struct {
		sendCase
		want bridge.MT
	}{
		{sendCase{name: "current default form", ctype: form, body: currentDefault},
			wantMT(testUUID, "+250788123123", "2020", love)},
		{sendCase{name: "older default form", ctype: form, body: olderDefault},
			wantMT("1241244", "+250788123123", "2020", love)},
		{sendCase{name: "recommended json current", ctype: js, body: `{"uuid":"` + testUUID + `","text":"Love is patient.","to":"+250788123123","from":"2020","channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","quick_replies":[]}`},
			wantMT(testUUID, "+250788123123", "2020", love)},
		{sendCase{name: "recommended json older", ctype: js, body: `{"id":"1241244","text":"Love is patient.","to":"+250788123123","from":"2020","channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","quick_replies":[]}`},
			wantMT("1241244", "+250788123123", "2020", love)},
		{sendCase{name: "json integer id and channel (seed 002)", ctype: js, body: `{"id": 1241244, "text": "Love is patient.", "to": "+250788123123", "to_no_plus": "250788123123", "from": "+5582999489287", "from_no_plus": "5582999489287", "channel": 346}`},
			wantMT("1241244", "+250788123123", "+5582999489287", love)},
		{sendCase{name: "json current id equals uuid", ctype: js, body: `{"uuid":"` + testUUID + `","id":"` + testUUID + `","text":"hi","to":"+250788123123"}`},
			wantMT(testUUID, "+250788123123", "", "hi")},
		{sendCase{name: "form id and uuid both", ctype: form, body: "id=" + testUUID + "&uuid=" + testUUID + "&text=hi&to=%2B250788123123"},
			wantMT(testUUID, "+250788123123", "", "hi")},
		{sendCase{name: "form empty uuid falls back to id", ctype: form, body: "uuid=&id=77&text=hi&to=%2B250788123123"},
			wantMT("77", "+250788123123", "", "hi")},
		{sendCase{name: "upper-case uuid kept as received", ctype: form, body: "uuid=" + strings.ToUpper(testUUID) + "&text=hi&to=%2B1"},
			wantMT(strings.ToUpper(testUUID), "+1", "", "hi")},
		{sendCase{name: "json go escapes and unicode", ctype: js, body: `{"uuid":"` + testUUID + `","text":"a \u003cb\u003e \u0026 \"q\"\nnew line 😀 ñ","to":"+250788123123"}`},
			wantMT(testUUID, "+250788123123", "", "a <b> & \"q\"\nnew line 😀 ñ")},
		{sendCase{name: "form unicode and reserved characters", ctype: form, body: "uuid=" + testUUID + "&text=1%2B1%3D2+%26+%F0%9F%98%80&to=%2B250788123123"},
			wantMT(testUUID, "+250788123123", "", "1+1=2 & 😀")},
		{sendCase{name: "json quick replies appended", ctype: js, body: `{"uuid":"` + testUUID + `","text":"Pick one","to":"+250788123123","quick_replies":["One","Two"]}`},
			wantMT(testUUID, "+250788123123", "", "Pick one\nOne\nTwo")},
		{sendCase{name: "form repeated quick_reply", ctype: form, body: olderDefault + "&quick_reply=One&quick_reply=Two"},
			wantMT("1241244", "+250788123123", "2020", love+"\nOne\nTwo")},
		{sendCase{name: "json empty text with quick replies", ctype: js, body: `{"id":"5","text":"","to":"+1","quick_replies":["Yes","No"]}`},
			wantMT("5", "+1", "", "Yes\nNo")},
		{sendCase{name: "json with attachment line", ctype: js, body: `{"id":"5","text":"See\nhttps://x.example/a.jpg","to":"+1"}`},
			wantMT("5", "+1", "", "See\nhttps://x.example/a.jpg")},
		{sendCase{name: "GET query only", method: http.MethodGet, ctype: form, query: olderDefault + "&quick_reply=A"},
			wantMT("1241244", "+250788123123", "2020", love+"\nA")},
		{sendCase{name: "GET with json content type", method: http.MethodGet, ctype: js, query: currentDefault},
			wantMT(testUUID, "+250788123123", "2020", love)},
		{sendCase{name: "PUT json", method: http.MethodPut, ctype: js, body: `{"uuid":"` + testUUID + `","text":"put","to":"+1"}`},
			wantMT(testUUID, "+1", "", "put")},
		{sendCase{name: "POST empty body, variables in send URL", ctype: form, query: currentDefault},
			wantMT(testUUID, "+250788123123", "2020", love)},
		{sendCase{name: "json body, id in send URL", ctype: js, query: "id=42", body: `{"text":"q","to":"+1"}`},
			wantMT("42", "+1", "", "q")},
		{sendCase{name: "body wins over query", ctype: form, query: "text=query&id=1", body: "text=body&id=2&to=%2B1"},
			wantMT("2", "+1", "", "body")},
		{sendCase{name: "to_no_plus and from_no_plus only", ctype: form, body: "id=9&text=x&to_no_plus=250788123123&from_no_plus=5582999489287"},
			wantMT("9", "250788123123", "5582999489287", "x")},
		{sendCase{name: "to wins over to_no_plus", ctype: js, body: `{"id":"9","text":"x","to":"+250788123123","to_no_plus":"250788123123"}`},
			wantMT("9", "+250788123123", "", "x")},
		{sendCase{name: "json nulls are absent", ctype: js, body: `{"id":"9","uuid":null,"text":"x","to":"+1","from":null,"quick_replies":null}`},
			wantMT("9", "+1", "", "x")},
		{sendCase{name: "alphanumeric sender with space", ctype: js, body: `{"id":"9","text":"x","to":"+1","from":"My Shop"}`},
			wantMT("9", "+1", "My Shop", "x")},
		{sendCase{name: "json charset parameter", ctype: "application/json; charset=utf-8", body: `{"id":"9","text":"x","to":"+1"}`},
			wantMT("9", "+1", "", "x")},
		{sendCase{name: "no content type, json sniffed", ctype: "-", body: ` {"id":"9","text":"x","to":"+1"}`},
			wantMT("9", "+1", "", "x")},
		{sendCase{name: "no content type, form sniffed", ctype: "-", body: "id=9&text=x&to=%2B1"},
			wantMT("9", "+1", "", "x")},
		{sendCase{name: "session_status and unknown keys ignored", ctype: form, body: olderDefault + "&session_status=W&extra=1"},
			wantMT("1241244", "+250788123123", "2020", love)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc := &fakeAccepter{}
			a := MustAdapter(t, acc, nil, nil)
			rec := serve(a, tc.request())
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			if got, want := rec.Body.String(), `{"status":"accepted","id":"bridge-1"}`+"\n"; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			mts := acc.calls()
			if len(mts) != 1 {
				t.Fatalf("Accept called %d times, want 1", len(mts))
			}
			if mts[0] != tc.want {
				t.Errorf("MT = %+v\nwant %+v", mts[0], tc.want)
			}
		})
	}
}

// TestSendDedupKey checks the idempotency key of §0.1: chunks of one
// message (same id, different text) get different keys; a retry of one
// chunk gets the same key.
func TestSendDedupKey(t *testing.T) {
	acc := &fakeAccepter{}
	a := MustAdapter(t, acc, nil, nil)
	for _, text := range []string{"part+one", "part+two", "part+one"} {
		c := sendCase{ctype: form, body: "uuid=" + testUUID + "&to=%2B1&text=" + text}
		if rec := serve(a, c.request()); rec.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", rec.Code)
		}
	}
	mts := acc.calls()
	if mts[0].DedupKey == mts[1].DedupKey {
		t.Errorf("chunks share DedupKey %q", mts[0].DedupKey)
	}
	if mts[0].DedupKey != mts[2].DedupKey {
		t.Errorf("retry DedupKey = %q, want %q", mts[2].DedupKey, mts[0].DedupKey)
	}
	if mts[0].ExternalID != mts[1].ExternalID {
		t.Errorf("chunk ExternalIDs differ: %q, %q", mts[0].ExternalID, mts[1].ExternalID)
	}
}

func TestSendRejected(t *testing.T) {
	good := `"id":"9","text":"x","to":"+1"`
	tests := []struct {
		sendCase
		code    int
		field   string // "" when the error names no field
		errText string // substring of the JSON "error"
	}{
		{sendCase{name: "missing text", ctype: js, body: `{"id":"9","to":"+1"}`}, 400, "text", `missing field "text"`},
		{sendCase{name: "empty text", ctype: form, body: "id=9&to=%2B1&text="}, 400, "text", `field "text": empty`},
		{sendCase{name: "missing to", ctype: form, body: "id=9&text=x&from=%2B2"}, 400, "to", `missing field "to"`},
		{sendCase{name: "empty to", ctype: js, body: `{"id":"9","text":"x","to":""}`}, 400, "to", `missing field "to"`},
		{sendCase{name: "missing id and uuid", ctype: form, body: "text=x&to=%2B1"}, 400, "uuid", `missing field "uuid" or "id"`},
		{sendCase{name: "empty id and uuid", ctype: js, body: `{"id":"","uuid":"","text":"x","to":"+1"}`}, 400, "uuid", `missing field "uuid" or "id"`},
		{sendCase{name: "uuid not a uuid", ctype: form, body: "uuid=1241244&text=x&to=%2B1"}, 400, "uuid", `field "uuid": not a UUID`},
		{sendCase{name: "uuid left as literal template", ctype: form, body: "id=5&uuid={{uuid}}&text=x&to=%2B1"}, 400, "uuid", `"{{uuid}}"`},
		{sendCase{name: "id not integer nor uuid", ctype: form, body: "id=abc&text=x&to=%2B1"}, 400, "id", `field "id": not an integer or a UUID`},
		{sendCase{name: "id and uuid differ", ctype: js, body: `{"id":"7","uuid":"` + testUUID + `","text":"x","to":"+1"}`}, 400, "id", `fields "id" and "uuid" differ`},
		{sendCase{name: "json id float", ctype: js, body: `{"id":1.5,"text":"x","to":"+1"}`}, 400, "id", `field "id": must be a string or an integer`},
		{sendCase{name: "json id negative", ctype: js, body: `{"id":-3,"text":"x","to":"+1"}`}, 400, "id", `field "id"`},
		{sendCase{name: "json id object", ctype: js, body: `{"id":{},"text":"x","to":"+1"}`}, 400, "id", `field "id"`},
		{sendCase{name: "json to number", ctype: js, body: `{"id":"9","text":"x","to":250788123123}`}, 400, "to", `field "to": must be a string`},
		{sendCase{name: "json text array", ctype: js, body: `{"id":"9","text":["x"],"to":"+1"}`}, 400, "text", `field "text": must be a string`},
		{sendCase{name: "json uuid number", ctype: js, body: `{"uuid":5,"text":"x","to":"+1"}`}, 400, "uuid", `field "uuid": must be a string`},
		{sendCase{name: "json quick_replies string", ctype: js, body: `{` + good + `,"quick_replies":"One"}`}, 400, "quick_replies", `field "quick_replies": must be an array of strings`},
		{sendCase{name: "json quick_replies numbers", ctype: js, body: `{` + good + `,"quick_replies":[1,2]}`}, 400, "quick_replies", `"quick_replies"`},
		{sendCase{name: "invalid json", ctype: js, body: `{"id":"9","text":"x",`}, 400, "body", "body: invalid JSON"},
		{sendCase{name: "json unquoted variable", ctype: js, body: `{"id":9,"text":Love is patient,"to":+1}`}, 400, "body", "body: invalid JSON"},
		{sendCase{name: "json array", ctype: js, body: `[{` + good + `}]`}, 400, "body", "body: must be a JSON object"},
		{sendCase{name: "json null", ctype: js, body: `null`}, 400, "body", "body: must be a JSON object"},
		{sendCase{name: "json trailing data", ctype: js, body: `{` + good + `} {}`}, 400, "body", "body: invalid JSON"},
		{sendCase{name: "json body sent as form", ctype: form, body: `{` + good + `}`}, 400, "body", "looks like JSON"},
		{sendCase{name: "form bad escape", ctype: form, body: "id=9&to=%2B1&text=%zz"}, 400, "body", "form body"},
		{sendCase{name: "query bad escape", ctype: js, query: "id=%zz", body: `{` + good + `}`}, 400, "query", "query string"},
		{sendCase{name: "form text not utf-8", ctype: form, body: "id=9&to=%2B1&text=%FF%FE"}, 400, "text", `field "text" (form body): not valid UTF-8`},
		{sendCase{name: "query quick_reply not utf-8", ctype: form, query: "quick_reply=%C3", body: "id=9&to=%2B1&text=x"}, 400, "quick_reply", `not valid UTF-8`},
		{sendCase{name: "unescaped plus in to", ctype: "text/plain-custom", query: "id=9&text=x&to=+250788123123"}, 400, "to", `field "to": contains white space`},
		{sendCase{name: "to_no_plus with space", ctype: form, body: "id=9&text=x&to_no_plus=250+788"}, 400, "to_no_plus", `field "to_no_plus": contains white space`},
		{sendCase{name: "unescaped plus in from", ctype: form, body: "id=9&text=x&to=%2B1&from=+5582999489287"}, 400, "from", `field "from": contains white space`},
		{sendCase{name: "control character in to", ctype: js, body: `{"id":"9","text":"x","to":"+1\u0000"}`}, 400, "to", `field "to": contains control characters`},
		{sendCase{name: "xml body", ctype: "text/xml; charset=utf-8", body: `<msg><id>9</id></msg>`}, 415, "Content-Type", `"text/xml" not supported`},
		{sendCase{name: "multipart body", ctype: "multipart/form-data; boundary=x", body: "--x--"}, 415, "Content-Type", "not supported"},
		{sendCase{name: "malformed content type", ctype: "application/json;;", body: `{` + good + `}`}, 415, "Content-Type", "Content-Type"},
		{sendCase{name: "DELETE", method: http.MethodDelete, ctype: js, body: `{` + good + `}`}, 405, "", "method DELETE not allowed"},
		{sendCase{name: "body too large", ctype: form, body: "id=9&to=%2B1&text=" + strings.Repeat("a", maxBody)}, 413, "body", fmt.Sprintf("body larger than %d bytes", maxBody)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc := &fakeAccepter{}
			a := MustAdapter(t, acc, nil, nil)
			rec := serve(a, tc.request())
			checkError(t, rec, tc.code, tc.field, tc.errText)
			if n := len(acc.calls()); n != 0 {
				t.Errorf("Accept called %d times, want 0", n)
			}
			if tc.code == 405 && rec.Header().Get("Allow") != "GET, POST, PUT" {
				t.Errorf("Allow = %q, want %q", rec.Header().Get("Allow"), "GET, POST, PUT")
			}
		})
	}
}

// checkError asserts a JSON error answer.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, code int, field, errText string) {
	t.Helper()
	if rec.Code != code {
		t.Errorf("status = %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q is not a JSON object of strings: %v", rec.Body, err)
	}
	if got["status"] != "error" {
		t.Errorf(`body "status" = %q, want "error"`, got["status"])
	}
	if got["field"] != field {
		t.Errorf(`body "field" = %q, want %q (error %q)`, got["field"], field, got["error"])
	}
	if !strings.Contains(got["error"], errText) {
		t.Errorf(`body "error" = %q, want it to contain %q`, got["error"], errText)
	}
	if strings.Contains(rec.Body.String(), "accepted") {
		t.Errorf("error body %q contains \"accepted\" (would pass courier's mt_response_check)", rec.Body)
	}
}

func TestSendAuthorization(t *testing.T) {
	body := `{"id":"9","text":"x","to":"+1"}`
	tests := []struct {
		name   string
		header []string // Authorization values sent
		code   int
	}{
		{"exact value", []string{testSecret}, 200},
		{"missing", nil, 401},
		{"empty", []string{""}, 401},
		{"wrong token", []string{"Bearer s3creT"}, 401},
		{"scheme case differs", []string{"bearer s3cret"}, 401},
		{"prefix only", []string{"Bearer s3cre"}, 401},
		{"longer", []string{testSecret + "x"}, 401},
		{"token without scheme", []string{"s3cret"}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc := &fakeAccepter{}
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			a := MustAdapter(t, acc, logger, func(c *Config) { c.SendAuthorization = testSecret })
			req := sendCase{ctype: js, body: body}.request()
			for _, v := range tc.header {
				req.Header.Add("Authorization", v)
			}
			rec := serve(a, req)
			if tc.code == 200 {
				if rec.Code != 200 || len(acc.calls()) != 1 {
					t.Fatalf("status = %d, accepted %d; want 200 and 1", rec.Code, len(acc.calls()))
				}
			} else {
				checkError(t, rec, tc.code, "Authorization", "Authorization")
				if n := len(acc.calls()); n != 0 {
					t.Errorf("Accept called %d times, want 0", n)
				}
			}
			if strings.Contains(logs.String(), "s3cre") {
				t.Errorf("log contains the secret or the value sent: %s", logs.String())
			}
			if rec.Code == 401 && !strings.Contains(logs.String(), "channel="+testChannel) {
				t.Errorf("log lacks channel=%s: %s", testChannel, logs.String())
			}
		})
	}
}

func TestSendAcceptFails(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int
		field   string
		errText string
	}{
		{"unavailable", bridge.ErrUnavailable, 503, "", "temporarily unavailable"},
		{"wrapped unavailable", fmt.Errorf("store: %w", bridge.ErrUnavailable), 503, "", "temporarily unavailable"},
		{"unexpected error", errors.New("disk on fire"), 503, "", "temporarily unavailable"},
		{"context canceled", context.Canceled, 503, "", "temporarily unavailable"},
		{"no route", fmt.Errorf("route +1: %w", bridge.ErrNoRoute), 400, "to", "no route to destination"},
		{"invalid", fmt.Errorf("%w: text longer than 1600 characters", bridge.ErrInvalid), 400, "", "text longer than 1600 characters"},
		{"invalid field", &bridge.InvalidError{Field: "text", Msg: `needs 12 SMS parts; smsc "a" allows at most 10 (max_parts)`},
			400, "text", `needs 12 SMS parts; smsc "a" allows at most 10 (max_parts)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc := &fakeAccepter{err: tc.err}
			var logs bytes.Buffer
			a := MustAdapter(t, acc, slog.New(slog.NewTextHandler(&logs, nil)), nil)
			rec := serve(a, sendCase{ctype: js, body: `{"id":"9","text":"x","to":"+1"}`}.request())
			checkError(t, rec, tc.code, tc.field, tc.errText)
			if strings.Contains(rec.Body.String(), "bridge:") {
				t.Errorf("error body leaks an internal prefix: %s", rec.Body)
			}
			if n := len(acc.calls()); n != 1 {
				t.Errorf("Accept called %d times, want 1", n)
			}
			if rec.Code == 503 && strings.Contains(rec.Body.String(), "fire") {
				t.Errorf("503 body leaks the internal error: %s", rec.Body)
			}
			if !strings.Contains(logs.String(), "err=") || !strings.Contains(logs.String(), "channel="+testChannel) {
				t.Errorf("log lacks err= or channel=: %s", logs.String())
			}
		})
	}
}

// writeCounter counts WriteHeader and Write calls on the response.
type writeCounter struct {
	*httptest.ResponseRecorder
	writes int
}

func (w *writeCounter) WriteHeader(code int) { w.writes++; w.ResponseRecorder.WriteHeader(code) }
func (w *writeCounter) Write(b []byte) (int, error) {
	w.writes++
	return w.ResponseRecorder.Write(b)
}

// peekAccepter records how many writes the response had when Accept ran.
type peekAccepter struct {
	w      *writeCounter
	writes []int
}

func (p *peekAccepter) Accept(ctx context.Context, mt bridge.MT) (string, error) {
	p.writes = append(p.writes, p.w.writes)
	return "id-1", nil
}

func TestSendAnswersAfterCommit(t *testing.T) {
	w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
	acc := &peekAccepter{w: w}
	a := MustAdapter(t, acc, nil, nil)
	a.ServeHTTP(w, sendCase{ctype: js, body: `{"id":"9","text":"x","to":"+1"}`}.request())
	if len(acc.writes) != 1 || acc.writes[0] != 0 {
		t.Fatalf("writes before Accept = %v, want [0]", acc.writes)
	}
	if w.Code != 200 || w.writes == 0 {
		t.Errorf("after Accept: code %d, %d writes; want 200 and a body", w.Code, w.writes)
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	for _, c := range []sendCase{
		{name: "json", ctype: js, body: `{"uuid":"` + testUUID + `","text":"Love is patient. Love is kind.","to":"+250788123123","from":"2020","channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","quick_replies":[]}`},
		{name: "form", ctype: form, body: currentDefault},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := MustAdapter(b, discardAccepter{}, nil, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				a.ServeHTTP(rec, c.request())
				if rec.Code != http.StatusOK {
					b.Fatalf("status = %d", rec.Code)
				}
			}
		})
	}
}

type discardAccepter struct{}

func (discardAccepter) Accept(context.Context, bridge.MT) (string, error) { return "id", nil }
