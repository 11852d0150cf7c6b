package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
)

// Each platform gets one error shape from the core too (404, 405), the
// one its adapter uses: RapidPro {"status":"error","error":…}, the custom
// channel {"error":{"message":…}}.
func TestServeHTTPErrorShapePerPlatform(t *testing.T) {
	b, _ := MustBridge(t)
	for _, c := range []struct {
		method, path string
		code         int
		rapidpro     bool
	}{
		{"POST", "/rapidpro/nope/send", 404, true},
		{"POST", "/rapidpro/ch/send", 404, true}, // a custom channel
		{"POST", "/rapidpro/ch/receive", 404, true},
		{"POST", "/rapidpro", 404, true},
		{"POST", "/custom/nope/message", 404, false},
		{"GET", "/custom/ch/message", 405, false},
		{"POST", "/other/x/y", 404, false},
	} {
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader("{}")))
		if rec.Code != c.code {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, rec.Code, c.code)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body %q: %v", c.method, c.path, rec.Body, err)
		}
		if c.rapidpro {
			if body["status"] != "error" || body["error"] == nil || len(body) > 3 {
				t.Errorf("%s %s: body %s, want the RapidPro shape {\"status\":\"error\",\"error\":…}", c.method, c.path, rec.Body)
			}
			continue
		}
		if e, ok := body["error"].(map[string]any); !ok || e["message"] == nil || len(body) != 1 {
			t.Errorf("%s %s: body %s, want the custom shape {\"error\":{\"message\":…}}", c.method, c.path, rec.Body)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, c := range []struct {
		err        error
		field, msg string
	}{
		{&InvalidError{Field: "text", Msg: "empty"}, "text", "empty"},
		{invalidf("", "unknown channel %q", "x"), "", `unknown channel "x"`},
		{wrapf("%w: text too long", ErrInvalid), "", "text too long"},
	} {
		field, msg := Invalid(c.err)
		if field != c.field || msg != c.msg {
			t.Errorf("Invalid(%v) = %q, %q; want %q, %q", c.err, field, msg, c.field, c.msg)
		}
	}
}

func wrapf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// The max_parts check counts parts the way the SMSC's long_messages mode
// splits: a 16-bit reference (udh16, sar) leaves 152 GSM-7 characters a
// part, so 1,525 characters are 11 parts there (10 with udh).
func TestAcceptCountsPartsOfTheLongMode(t *testing.T) {
	b, _ := MustBridge(t)
	text := strings.Repeat("x", 1525)
	for _, c := range []struct {
		long  smsc.LongMode
		parts int
	}{{smsc.LongUDH, 10}, {smsc.LongUDH16, 11}, {smsc.LongSAR, 11}, {smsc.LongPayload, 10}} {
		b.t().smscs["b"].Long, b.t().smscs["b"].MaxParts = c.long, 10
		_, err := b.Accept(context.Background(), MT{Channel: "ch", To: "+447700900123", Text: text})
		if c.parts <= 10 {
			if err != nil {
				t.Errorf("%v: Accept = %v, want accepted (%d parts)", c.long, err, c.parts)
			}
			continue
		}
		if _, msg := Invalid(err); !errors.Is(err, ErrInvalid) || !strings.Contains(msg, fmt.Sprintf("needs %d SMS parts", c.parts)) {
			t.Errorf("%v: Accept = %v, want refused: needs %d SMS parts", c.long, err, c.parts)
		}
	}
}
