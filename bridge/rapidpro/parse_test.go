package rapidpro

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseSend feeds arbitrary content types, query strings and bodies to
// the send-call parser: it must not panic, every rejection must be a 400 or
// 415 naming what is wrong, and every accepted call must satisfy B.1.3.
func FuzzParseSend(f *testing.F) {
	for _, s := range []struct{ ct, q, body string }{
		{form, "", currentDefault},
		{form, "", olderDefault + "&quick_reply=One&quick_reply=Two"},
		{js, "", `{"uuid":"` + testUUID + `","text":"Love is patient.","to":"+250788123123","from":"2020","channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","quick_replies":["A"]}`},
		{js, "", `{"id": 1241244, "text": "x \u003c", "to": "+250788123123", "channel": 346}`},
		{js, "id=42", `{"text":"q","to":"+1","from":null}`},
		{"", currentDefault, ""},
		{"", "", ` {"id":"9","text":"x","to":"+1"}`},
		{"text/xml", "", "<a/>"},
		{"application/json;;", "", "{}"},
		{form, "id=%zz", "text=%FF"},
		{js, "", `[1,2]`},
	} {
		f.Add(s.ct, s.q, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct, q string, body []byte) {
		s, err := parseSend(ct, q, body)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) {
				t.Fatalf("parseSend error %T %v, want *requestError", err, err)
			}
			if re.code != http.StatusBadRequest && re.code != http.StatusUnsupportedMediaType {
				t.Fatalf("parseSend code = %d, want 400 or 415 (%v)", re.code, err)
			}
			if re.msg == "" || re.field == "" {
				t.Fatalf("parseSend error %+v lacks a message or a field", re)
			}
			return
		}
		if !isUUID(s.id) && !isDigits(s.id) {
			t.Fatalf("accepted id %q is neither a UUID nor an integer", s.id)
		}
		if s.to == "" || strings.ContainsAny(s.to, " \t\r\n") {
			t.Fatalf("accepted to %q", s.to)
		}
		if s.text == "" {
			t.Fatal("accepted an empty text")
		}
		for _, v := range []string{s.id, s.to, s.from, s.text} {
			if !utf8.ValidString(v) {
				t.Fatalf("accepted invalid UTF-8 %q", v)
			}
		}
	})
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	got := clip(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > 64+len("…") {
		t.Errorf("clip(%q) = %q, want ≤ 64 bytes of whole runes and …", long, got)
	}
	if got := clip("short"); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
}
