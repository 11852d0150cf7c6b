package custom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	testToken     = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"
	testChannelID = "gfd8g7fd89dgfd"
	testWebhook   = "https://app.telenet.example/custom/webhook"
)

// fakeAccepter records the MTs it accepts, or fails with err.
type fakeAccepter struct {
	mu  sync.Mutex
	mts []bridge.MT
	err error
}

func (f *fakeAccepter) Accept(_ context.Context, mt bridge.MT) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.mts = append(f.mts, mt)
	return fmt.Sprintf("b-01J0Z8K3Q%d", len(f.mts)), nil
}

func (f *fakeAccepter) accepted() []bridge.MT {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bridge.MT(nil), f.mts...)
}

func testConfig() Config {
	return Config{
		Channel:    "telenet",
		ChannelID:  testChannelID,
		APIToken:   testToken,
		WebhookURL: testWebhook,
		IDType:     IDTypePhone,
		Now:        func() time.Time { return time.UnixMilli(1718035300000) },
	}
}

// MustNew builds an adapter or fails the test.
func MustNew(t testing.TB, cfg Config, acc bridge.Accepter, logger *slog.Logger) *Adapter {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a, err := New(cfg, acc, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// post sends body to the handler with the given Authorization header ("" =
// none) and returns the recorded answer.
func post(h http.Handler, auth, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/custom/telenet/message", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// msg builds a /message body around a message object.
func msg(contactID, message string) string {
	return `{"channelId":"` + testChannelID + `","contactId":"` + contactID + `","message":` + message + `}`
}

func textMsg(text string) string {
	return msg("+60177872890", `{"type":"text","text":"`+text+`"}`)
}

func TestServeHTTPAccepts(t *testing.T) {
	long := strings.Repeat("é", maxText)
	replies10 := `["a","b","c","d","e","f","g","h","i","j"]`
	cases := []struct {
		name     string
		idType   string
		auth     string // "" means the right token
		body     string
		wantTo   string
		wantText string
	}{
		{name: "text", body: textMsg("Hello World"), wantText: "Hello World"},
		{name: "text seed 000 sample",
			body:     "{\n\t\"channelId\": \"gfd8g7fd89dgfd\",\n\t\"contactId\": \"+60177872890\",\n\t\"message\": {\n\t\t\"type\": \"text\",\n\t\t\"text\": \"Hello World\"\n\t}\n}",
			wantText: "Hello World"},
		{name: "text unicode and emoji", body: textMsg(`Tu turno es mañana 10:00 \ud83d\ude00 👍`), wantText: "Tu turno es mañana 10:00 😀 👍"},
		{name: "text html characters kept", body: textMsg(`a < b & c > d`), wantText: "a < b & c > d"},
		{name: "text newlines", body: textMsg(`line1\nline2`), wantText: "line1\nline2"},
		{name: "text exactly 7000 characters", body: textMsg(long), wantText: long},
		{name: "unknown fields ignored", body: `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","extra":{"x":[1]},"message":{"type":"text","text":"hi","quickReplies":null}}`, wantText: "hi"},
		{name: "surrounding whitespace", body: "\n  " + textMsg("hi") + "\n\n", wantText: "hi"},
		{name: "attachment seed sample",
			body:     msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"https://abc/japan.png","mimeType":"image/png","fileName":"company logo.png","description":"latest company logo"}}`),
			wantText: "latest company logo\nhttps://abc/japan.png"},
		{name: "attachment without description",
			body:     msg("+60177872890", `{"type":"attachment","attachment":{"type":"file","url":"http://files.example/a.pdf"}}`),
			wantText: "http://files.example/a.pdf"},
		{name: "attachment video", body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"video","url":"https://v.example/v.mp4","description":""}}`), wantText: "https://v.example/v.mp4"},
		{name: "attachment audio", body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"audio","url":"https://a.example/a.ogg","fileName":"a.ogg"}}`), wantText: "https://a.example/a.ogg"},
		{name: "attachment url of 2000 characters",
			body:     msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"https://x.example/`+strings.Repeat("a", 2000-len("https://x.example/"))+`"}}`),
			wantText: "https://x.example/" + strings.Repeat("a", 2000-len("https://x.example/"))},
		{name: "location with address",
			body:     msg("+60177872890", `{"type":"location","latitude":3.139,"longitude":101.6869,"address":"Kuala Lumpur"}`),
			wantText: "Kuala Lumpur\nhttps://maps.google.com/?q=3.139,101.6869"},
		{name: "location without address, negative",
			body:     msg("+60177872890", `{"type":"location","latitude":-34.6037,"longitude":-58.3816}`),
			wantText: "https://maps.google.com/?q=-34.6037,-58.3816"},
		{name: "location bounds and zero",
			body:     msg("+60177872890", `{"type":"location","latitude":-90,"longitude":180}`),
			wantText: "https://maps.google.com/?q=-90,180"},
		{name: "location negative zero",
			body:     msg("+60177872890", `{"type":"location","latitude":-0,"longitude":0}`),
			wantText: "https://maps.google.com/?q=0,0"},
		{name: "quick_reply",
			body:     msg("+60177872890", `{"type":"quick_reply","title":"Choose a language","replies":["Malay","English"]}`),
			wantText: "Choose a language\n1) Malay\n2) English"},
		{name: "quick_reply ten replies",
			body:     msg("+60177872890", `{"type":"quick_reply","title":"t","replies":`+replies10+`}`),
			wantText: "t\n1) a\n2) b\n3) c\n4) d\n5) e\n6) f\n7) g\n8) h\n9) i\n10) j"},
		{name: "custom id type", idType: IDTypeCustom,
			body: msg("user_42=+/@X", `{"type":"text","text":"hi"}`), wantTo: "user_42=+/@X", wantText: "hi"},
		{name: "custom id type takes phone numbers", idType: IDTypeCustom,
			body: textMsg("hi"), wantText: "hi"},
		{name: "lowercase bearer", auth: "bearer " + testToken, body: textMsg("hi"), wantText: "hi"},
		{name: "tab after scheme", auth: "Bearer\t" + testToken, body: textMsg("hi"), wantText: "hi"},
		{name: "whitespace around token", auth: "  Bearer   " + testToken + "  ", body: textMsg("hi"), wantText: "hi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.idType != "" {
				cfg.IDType = tc.idType
			}
			acc := &fakeAccepter{}
			a := MustNew(t, cfg, acc, nil)
			auth := tc.auth
			if auth == "" {
				auth = "Bearer " + testToken
			}
			rec := post(a, auth, tc.body)
			if rec.Code != http.StatusOK || rec.Body.String() != `{"mId":"b-01J0Z8K3Q1"}` {
				t.Fatalf("answer = %d %s, want 200 {\"mId\":\"b-01J0Z8K3Q1\"}", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			wantTo := tc.wantTo
			if wantTo == "" {
				wantTo = "+60177872890"
			}
			want := bridge.MT{Channel: "telenet", To: wantTo, Text: tc.wantText}
			mts := acc.accepted()
			if len(mts) != 1 || mts[0] != want {
				t.Fatalf("accepted %+v, want [%+v]", mts, want)
			}
		})
	}
}

func TestServeHTTPRejects(t *testing.T) {
	const good = "Bearer " + testToken
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name     string
		method   string // default POST
		idType   string
		auth     string
		body     string
		wantCode int
		wantMsg  string
	}{
		// Authentication (A.2).
		{name: "no Authorization", body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "wrong token", auth: "Bearer nope", body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "token prefix", auth: "Bearer " + testToken[:10], body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "token plus suffix", auth: "Bearer " + testToken + "x", body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "empty token", auth: "Bearer   ", body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "scheme only", auth: "Bearer", body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "bare token", auth: testToken, body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "Basic scheme", auth: "Basic " + testToken, body: textMsg("hi"), wantCode: 401, wantMsg: "unauthorized"},
		{name: "wrong token and bad body", auth: "Bearer nope", body: "{", wantCode: 401, wantMsg: "unauthorized"},
		{name: "GET", method: http.MethodGet, auth: good, wantCode: 405, wantMsg: "method: must be POST"},

		// Body as a whole.
		{name: "empty body", auth: good, body: "", wantCode: 400, wantMsg: "body: required (a JSON object)"},
		{name: "blank body", auth: good, body: " \n", wantCode: 400, wantMsg: "body: required (a JSON object)"},
		{name: "null", auth: good, body: "null", wantCode: 400, wantMsg: "body: must be a JSON object"},
		{name: "array", auth: good, body: "[]", wantCode: 400, wantMsg: "body: must be a JSON object"},
		{name: "form body", auth: good, body: "channelId=x&contactId=y", wantCode: 400, wantMsg: "body: must be a JSON object"},
		{name: "truncated JSON", auth: good, body: `{"channelId":"gfd8g7fd89dgfd"`, wantCode: 400, wantMsg: "body: invalid JSON: unexpected end of input"},
		{name: "trailing comma (seed 000 sample)", auth: good,
			body:     `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Welcome to telenet",}}`,
			wantCode: 400, wantMsg: "body: invalid JSON at byte 111: invalid character '}' looking for beginning of object key string"},
		{name: "data after the object", auth: good, body: textMsg("hi") + `{}`, wantCode: 400, wantMsg: "body: unexpected data after the JSON object"},

		// Envelope (A.4.1).
		{name: "channelId missing", auth: good, body: `{"contactId":"+60177872890","message":{"type":"text","text":"hi"}}`, wantCode: 400, wantMsg: "channelId: required"},
		{name: "channelId mismatch", auth: good, body: `{"channelId":"other","contactId":"+60177872890","message":{"type":"text","text":"hi"}}`, wantCode: 400, wantMsg: "channelId: does not match this channel's Channel ID"},
		{name: "channelId number", auth: good, body: `{"channelId":5,"contactId":"+60177872890","message":{"type":"text","text":"hi"}}`, wantCode: 400, wantMsg: "channelId: must be a string, got a number"},
		{name: "contactId missing", auth: good, body: `{"channelId":"gfd8g7fd89dgfd","message":{"type":"text","text":"hi"}}`, wantCode: 400, wantMsg: "contactId: required"},
		{name: "contactId number", auth: good, body: `{"channelId":"gfd8g7fd89dgfd","contactId":60177872890,"message":{"type":"text","text":"hi"}}`, wantCode: 400, wantMsg: "contactId: must be a string, got a number"},
		{name: "contactId without plus", auth: good, body: msg("60177872890", `{"type":"text","text":"hi"}`), wantCode: 400, wantMsg: `contactId: must be an E.164 phone number with "+" (e.g. +60177872890), got "60177872890"`},
		{name: "contactId with letters", auth: good, body: msg("+6017787abc", `{"type":"text","text":"hi"}`), wantCode: 400, wantMsg: `contactId: must be an E.164 phone number with "+" (e.g. +60177872890), got "+6017787abc"`},
		{name: "contactId 16 digits", auth: good, body: msg("+1234567890123456", `{"type":"text","text":"hi"}`), wantCode: 400, wantMsg: `contactId: must be an E.164 phone number with "+" (e.g. +60177872890), got "+1234567890123456"`},
		{name: "contactId custom bad character", idType: IDTypeCustom, auth: good, body: msg("john doe", `{"type":"text","text":"hi"}`), wantCode: 400, wantMsg: "contactId: may only contain A-Z, a-z, 0-9, _, =, +, / and @"},
		{name: "contactId custom over 50", idType: IDTypeCustom, auth: good, body: msg(long(51), `{"type":"text","text":"hi"}`), wantCode: 400, wantMsg: "contactId: longer than 50 characters"},
		{name: "message missing", auth: good, body: `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890"}`, wantCode: 400, wantMsg: "message: required"},
		{name: "message null", auth: good, body: msg("+60177872890", `null`), wantCode: 400, wantMsg: "message: required"},
		{name: "message string", auth: good, body: msg("+60177872890", `"hi"`), wantCode: 400, wantMsg: "message: must be an object, got a string"},

		// Message types (A.4.2).
		{name: "type missing", auth: good, body: msg("+60177872890", `{"text":"hi"}`), wantCode: 400, wantMsg: "message.type: required"},
		{name: "type unknown", auth: good, body: msg("+60177872890", `{"type":"sticker"}`), wantCode: 400, wantMsg: `message.type: unsupported "sticker" (want text, attachment, location or quick_reply)`},
		{name: "type seed 001 translation", auth: good, body: msg("+60177872890", `{"type":"respuesta_rápida","title":"t","replies":["a"]}`), wantCode: 400, wantMsg: `message.type: unsupported "respuesta_rápida" (want text, attachment, location or quick_reply)`},
		{name: "type bool", auth: good, body: msg("+60177872890", `{"type":true}`), wantCode: 400, wantMsg: "message.type: must be a string, got a boolean"},

		{name: "text missing", auth: good, body: msg("+60177872890", `{"type":"text"}`), wantCode: 400, wantMsg: "message.text: required"},
		{name: "text empty", auth: good, body: textMsg(""), wantCode: 400, wantMsg: "message.text: required"},
		{name: "text blank", auth: good, body: textMsg(` \n `), wantCode: 400, wantMsg: "message.text: required"},
		{name: "text 7001 characters", auth: good, body: textMsg(strings.Repeat("é", 7001)), wantCode: 400, wantMsg: "message.text: longer than 7000 characters"},
		{name: "text object", auth: good, body: msg("+60177872890", `{"type":"text","text":{"body":"hi"}}`), wantCode: 400, wantMsg: "message.text: must be a string, got an object"},

		{name: "attachment missing", auth: good, body: msg("+60177872890", `{"type":"attachment"}`), wantCode: 400, wantMsg: "message.attachment: required"},
		{name: "attachment type missing", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"url":"https://a/b.png"}}`), wantCode: 400, wantMsg: "message.attachment.type: required"},
		{name: "attachment type unknown", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"sticker","url":"https://a/b.png"}}`), wantCode: 400, wantMsg: `message.attachment.type: unsupported "sticker" (want image, video, audio or file)`},
		{name: "attachment url missing", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image"}}`), wantCode: 400, wantMsg: "message.attachment.url: required"},
		{name: "attachment url over 2000", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"https://x.example/`+long(2001-len("https://x.example/"))+`"}}`), wantCode: 400, wantMsg: "message.attachment.url: longer than 2000 characters"},
		{name: "attachment url relative", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"/b.png"}}`), wantCode: 400, wantMsg: "message.attachment.url: must be an absolute http or https URL"},
		{name: "attachment url ftp", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"ftp://a/b.png"}}`), wantCode: 400, wantMsg: "message.attachment.url: must be an absolute http or https URL"},
		{name: "attachment fileName over 256", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"file","url":"https://a/b","fileName":"`+long(257)+`"}}`), wantCode: 400, wantMsg: "message.attachment.fileName: longer than 256 characters"},
		{name: "attachment description over 256", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"https://a/b","description":"`+long(257)+`"}}`), wantCode: 400, wantMsg: "message.attachment.description: longer than 256 characters"},
		{name: "attachment url number", auth: good, body: msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":7}}`), wantCode: 400, wantMsg: "message.attachment.url: must be a string, got a number"},

		{name: "latitude missing", auth: good, body: msg("+60177872890", `{"type":"location","longitude":1}`), wantCode: 400, wantMsg: "message.latitude: required"},
		{name: "latitude null", auth: good, body: msg("+60177872890", `{"type":"location","latitude":null,"longitude":1}`), wantCode: 400, wantMsg: "message.latitude: required"},
		{name: "latitude 90.5", auth: good, body: msg("+60177872890", `{"type":"location","latitude":90.5,"longitude":1}`), wantCode: 400, wantMsg: "message.latitude: must be between -90 and 90"},
		{name: "latitude -91", auth: good, body: msg("+60177872890", `{"type":"location","latitude":-91,"longitude":1}`), wantCode: 400, wantMsg: "message.latitude: must be between -90 and 90"},
		{name: "latitude string", auth: good, body: msg("+60177872890", `{"type":"location","latitude":"3.1","longitude":1}`), wantCode: 400, wantMsg: "message.latitude: must be a number, got a string"},
		{name: "latitude huge", auth: good, body: msg("+60177872890", `{"type":"location","latitude":1e400,"longitude":1}`), wantCode: 400, wantMsg: "message.latitude: number out of range"},
		{name: "longitude missing", auth: good, body: msg("+60177872890", `{"type":"location","latitude":1}`), wantCode: 400, wantMsg: "message.longitude: required"},
		{name: "longitude 180.1", auth: good, body: msg("+60177872890", `{"type":"location","latitude":1,"longitude":180.1}`), wantCode: 400, wantMsg: "message.longitude: must be between -180 and 180"},
		{name: "longitude -181", auth: good, body: msg("+60177872890", `{"type":"location","latitude":1,"longitude":-181}`), wantCode: 400, wantMsg: "message.longitude: must be between -180 and 180"},
		{name: "address over 256", auth: good, body: msg("+60177872890", `{"type":"location","latitude":1,"longitude":1,"address":"`+long(257)+`"}`), wantCode: 400, wantMsg: "message.address: longer than 256 characters"},

		{name: "title missing", auth: good, body: msg("+60177872890", `{"type":"quick_reply","replies":["a"]}`), wantCode: 400, wantMsg: "message.title: required"},
		{name: "title over 256", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"`+long(257)+`","replies":["a"]}`), wantCode: 400, wantMsg: "message.title: longer than 256 characters"},
		{name: "replies missing", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t"}`), wantCode: 400, wantMsg: "message.replies: required (1 to 10 replies)"},
		{name: "replies empty", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":[]}`), wantCode: 400, wantMsg: "message.replies: required (1 to 10 replies)"},
		{name: "replies eleven", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":["1","2","3","4","5","6","7","8","9","10","11"]}`), wantCode: 400, wantMsg: "message.replies: more than 10 replies"},
		{name: "reply empty", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":["a",""]}`), wantCode: 400, wantMsg: "message.replies[1]: required (empty reply)"},
		{name: "reply over 256", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":["a","b","`+long(257)+`"]}`), wantCode: 400, wantMsg: "message.replies[2]: longer than 256 characters"},
		{name: "replies string", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":"a"}`), wantCode: 400, wantMsg: "message.replies: must be an array, got a string"},
		{name: "reply number", auth: good, body: msg("+60177872890", `{"type":"quick_reply","title":"t","replies":["a",2]}`), wantCode: 400, wantMsg: "message.replies: items must be strings, got a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.idType != "" {
				cfg.IDType = tc.idType
			}
			acc := &fakeAccepter{}
			a := MustNew(t, cfg, acc, nil)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/custom/telenet/message", strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			wantBody := MustErrorBody(t, tc.wantMsg)
			if rec.Code != tc.wantCode || rec.Body.String() != wantBody {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, tc.wantCode, wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := rec.Header().Get("WWW-Authenticate"); (tc.wantCode == 401) != (got != "") {
				t.Errorf("WWW-Authenticate = %q on a %d answer", got, rec.Code)
			}
			if mts := acc.accepted(); len(mts) != 0 {
				t.Errorf("accepted %+v on a rejected request", mts)
			}
		})
	}
}

// MustErrorBody is the JSON error answer carrying msg.
func MustErrorBody(t testing.TB, msg string) string {
	t.Helper()
	b, err := marshal(map[string]map[string]string{"error": {"message": msg}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServeHTTPAcceptErrors(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		wantCode int
		wantMsg  string
	}{
		{"unavailable", bridge.ErrUnavailable, 503, "temporarily unavailable, retry later"},
		{"wrapped unavailable", fmt.Errorf("store: %w", bridge.ErrUnavailable), 503, "temporarily unavailable, retry later"},
		{"unexpected error", errors.New("disk on fire"), 503, "temporarily unavailable, retry later"},
		{"context canceled", context.Canceled, 503, "temporarily unavailable, retry later"},
		{"no route", bridge.ErrNoRoute, 400, "contactId: no route to this destination"},
		{"invalid", fmt.Errorf("%w: text needs 300 SMS parts, the channel allows 10", bridge.ErrInvalid), 400,
			"text needs 300 SMS parts, the channel allows 10"},
		{"invalid field", &bridge.InvalidError{Field: "text", Msg: `needs 12 SMS parts; smsc "a" allows at most 10 (max_parts)`}, 400,
			`message: needs 12 SMS parts; smsc "a" allows at most 10 (max_parts)`},
		{"invalid number", &bridge.InvalidError{Field: "to", Msg: `"x" is not a phone number`}, 400,
			`contactId: "x" is not a phone number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acc := &fakeAccepter{err: tc.err}
			a := MustNew(t, testConfig(), acc, nil)
			rec := post(a, "Bearer "+testToken, textMsg("hi"))
			want := MustErrorBody(t, tc.wantMsg)
			if rec.Code != tc.wantCode || rec.Body.String() != want {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, tc.wantCode, want)
			}
		})
	}
}

func TestServeHTTPBodyTooLarge(t *testing.T) {
	acc := &fakeAccepter{}
	a := MustNew(t, testConfig(), acc, nil)
	// Wrap the handler the way the core does.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64)
		a.ServeHTTP(w, r)
	})
	rec := post(h, "Bearer "+testToken, textMsg(strings.Repeat("x", 100)))
	want := MustErrorBody(t, "body: larger than 64 bytes")
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != want {
		t.Errorf("answer = %d %s, want 413 %s", rec.Code, rec.Body, want)
	}
	if mts := acc.accepted(); len(mts) != 0 {
		t.Errorf("accepted %+v on a rejected request", mts)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestServeHTTPBodyReadError(t *testing.T) {
	acc := &fakeAccepter{}
	a := MustNew(t, testConfig(), acc, nil)
	req := httptest.NewRequest(http.MethodPost, "/custom/telenet/message", io.NopCloser(failingReader{}))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	want := MustErrorBody(t, "body: could not be read")
	if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
		t.Errorf("answer = %d %s, want 400 %s", rec.Code, rec.Body, want)
	}
	if mts := acc.accepted(); len(mts) != 0 {
		t.Errorf("accepted %+v on a rejected request", mts)
	}
}

func TestServeHTTPDedupKey(t *testing.T) {
	body1, body2 := textMsg("ok"), textMsg("ok ")
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

	t.Run("off", func(t *testing.T) {
		acc := &fakeAccepter{}
		a := MustNew(t, testConfig(), acc, nil)
		post(a, "Bearer "+testToken, body1)
		if mts := acc.accepted(); len(mts) != 1 || mts[0].DedupKey != "" || mts[0].DedupWindow != 0 {
			t.Errorf("accepted %+v, want one MT without DedupKey/DedupWindow", mts)
		}
	})
	t.Run("on", func(t *testing.T) {
		cfg := testConfig()
		cfg.DedupWindow = 10 * time.Second
		acc := &fakeAccepter{}
		a := MustNew(t, cfg, acc, nil)
		for _, b := range []string{body1, body1, body2} {
			if rec := post(a, "Bearer "+testToken, b); rec.Code != 200 {
				t.Fatalf("answer = %d %s, want 200", rec.Code, rec.Body)
			}
		}
		mts := acc.accepted()
		if len(mts) != 3 {
			t.Fatalf("accepted %d MTs, want 3", len(mts))
		}
		for i, want := range []string{sum(body1), sum(body1), sum(body2)} {
			if mts[i].DedupKey != want || mts[i].DedupWindow != 10*time.Second {
				t.Errorf("MT %d: DedupKey, DedupWindow = %q, %v, want %q, 10s", i, mts[i].DedupKey, mts[i].DedupWindow, want)
			}
		}
		if mts[0].DedupKey == mts[2].DedupKey {
			t.Error("different bodies share a DedupKey")
		}
	})
}

// TestServeHTTPLogsNoSecrets drives every logging path and checks the token
// never reaches the log while the channel does.
func TestServeHTTPLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	acc := &fakeAccepter{err: errors.New("disk on fire")}
	a := MustNew(t, testConfig(), acc, logger)
	post(a, "Bearer "+testToken+"x", textMsg("hi"))
	post(a, "Bearer "+testToken, textMsg("hi"))
	req := httptest.NewRequest(http.MethodPost, "/custom/telenet/message", io.NopCloser(failingReader{}))
	req.Header.Set("Authorization", "Bearer "+testToken)
	a.ServeHTTP(httptest.NewRecorder(), req)
	out := buf.String()
	if strings.Contains(out, testToken[:12]) {
		t.Errorf("log contains the token:\n%s", out)
	}
	for _, want := range []string{"channel=telenet", "err=\"disk on fire\"", "err=\"connection reset\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"channel missing", func(c *Config) { c.Channel = "" }, "channel id: required"},
		{"channel_id missing", func(c *Config) { c.ChannelID = "" }, "channel_id: required"},
		{"channel_id too long", func(c *Config) { c.ChannelID = strings.Repeat("x", 51) }, "channel_id: must be at most 50 characters"},
		{"api_token missing", func(c *Config) { c.APIToken = "" }, "api_token: required"},
		{"webhook_url missing", func(c *Config) { c.WebhookURL = "" }, "webhook_url: required"},
		{"webhook_url relative", func(c *Config) { c.WebhookURL = "/custom/webhook" }, `webhook_url: must be an http or https URL, got scheme ""`},
		{"webhook_url no host", func(c *Config) { c.WebhookURL = "https:///x" }, "webhook_url: has no host"},
		{"webhook_url unparsable", func(c *Config) { c.WebhookURL = "https://a b/%zz" }, "webhook_url: not a valid URL"},
		{"id_type unknown", func(c *Config) { c.IDType = "email" }, `id_type: must be "phone" or "custom", got "email"`},
		{"dedup_window negative", func(c *Config) { c.DedupWindow = -time.Second }, "dedup_window: must be 0 (off) or positive, got -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg)
			_, err := New(cfg, &fakeAccepter{}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("New error contains the token: %v", err)
			}
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := New(Config{Channel: "x", IDType: "email"}, &fakeAccepter{}, nil)
		for _, want := range []string{"channel_id", "api_token", "webhook_url", "id_type"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("New: %v, want it to name %s", err, want)
			}
		}
	})
	t.Run("nil Accepter", func(t *testing.T) {
		if _, err := New(testConfig(), nil, nil); err == nil {
			t.Error("New with a nil Accepter succeeded")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		cfg := testConfig()
		cfg.IDType, cfg.Now = "", nil
		a, err := New(cfg, &fakeAccepter{}, nil)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if a.cfg.IDType != IDTypePhone || a.cfg.Now == nil {
			t.Errorf("IDType = %q, Now set = %t; want phone, true", a.cfg.IDType, a.cfg.Now != nil)
		}
	})
}

func BenchmarkServeHTTPText(b *testing.B) {
	a := MustNew(b, testConfig(), discardAccepter{}, nil)
	body := textMsg("Hola, tu turno es mañana a las 10:00. Responde SI para confirmar.")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/custom/telenet/message", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("answer = %d %s", rec.Code, rec.Body)
		}
	}
}

type discardAccepter struct{}

func (discardAccepter) Accept(context.Context, bridge.MT) (string, error) { return "b-1", nil }
