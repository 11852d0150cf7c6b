package custom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/bridge"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// formatRequests renders requests for a golden file: the request line, the
// headers in sorted order, a blank line and the body exactly as sent.
func formatRequests(reqs []bridge.Request) []byte {
	var b bytes.Buffer
	for i, r := range reqs {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(r.Method + " " + r.URL + "\n")
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range r.Header {
				if !yield(k) {
					return
				}
			}
		}) {
			b.WriteString(k + ": " + r.Header[k] + "\n")
		}
		b.WriteString("\n")
		b.Write(r.Body)
	}
	b.WriteString("\n")
	return b.Bytes()
}

// MustMatchGolden compares reqs with testdata/name.golden (or rewrites it
// with -update).
func MustMatchGolden(t *testing.T, name string, reqs []bridge.Request) {
	t.Helper()
	got := formatRequests(reqs)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("requests differ from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
	for _, r := range reqs {
		if !json.Valid(r.Body) {
			t.Errorf("body is not valid JSON: %s", r.Body)
		}
	}
}

func TestMOGolden(t *testing.T) {
	received := time.UnixMilli(1718035200123)
	cases := []struct {
		golden string
		mo     bridge.MO
	}{
		{"mo_text", bridge.MO{ID: "mo-7f3c2a9e4b1d", Channel: "telenet", SMSC: "agg-a", From: "+5491122334455",
			To: "+60177872890", Text: "Hola, quiero info", Received: received, Parts: 1}},
		{"mo_unicode_malaysia", bridge.MO{ID: "01J0Z8K3Q4ABCDEFGHJKMNPQRS", Channel: "telenet", From: "+60177872890",
			To: "+60177872891", Text: "Terima kasih 😀 <ok> & \"done\"\nline 2", Received: received, Parts: 2}},
		{"mo_alphanumeric_sender", bridge.MO{ID: "mo-2", Channel: "telenet", From: "MyBank", To: "+60177872890",
			Text: "Your code is 1234", Received: received}},
		{"mo_non_geographic", bridge.MO{ID: "mo-3", Channel: "telenet", From: "+80012345678", To: "+60177872890",
			Text: "hi", Received: received}},
		{"mo_no_received_time", bridge.MO{ID: "mo-4", Channel: "telenet", From: "+5491122334455", To: "+60177872890",
			Text: "uses the clock"}},
		{"mo_empty_incomplete", bridge.MO{ID: "mo-5", Channel: "telenet", From: "+5491122334455", To: "+60177872890",
			Text: "", Received: received, Parts: 3, Incomplete: true}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
			reqs, err := a.MO(tc.mo)
			if err != nil {
				t.Fatalf("MO: %v", err)
			}
			MustMatchGolden(t, tc.golden, reqs)
		})
	}
}

func TestStatusGolden(t *testing.T) {
	at := time.UnixMilli(1718035265000)
	base := bridge.Status{MTID: "b-01J0Z8K3Q4", To: "+5491122334455", Channel: "telenet",
		SMSC: "agg-a", SMSCMsgID: "5f3a", At: at}
	with := func(edit func(*bridge.Status)) bridge.Status { s := base; edit(&s); return s }
	cases := []struct {
		golden string
		st     bridge.Status
	}{
		{"status_sent", with(func(s *bridge.Status) { s.State = bridge.StateSent })},
		{"status_delivered", with(func(s *bridge.Status) { s.State = bridge.StateDelivered })},
		{"status_failed", with(func(s *bridge.Status) {
			s.State, s.ErrorCode, s.Description = bridge.StateFailed, "0x0000000b", "SMSC rejected: 0x0000000b Invalid Dest Addr"
		})},
		{"status_failed_code_apart", with(func(s *bridge.Status) {
			s.State, s.ErrorCode, s.Description = bridge.StateFailed, "001", "UNDELIV"
		})},
		{"status_failed_code_only", with(func(s *bridge.Status) { s.State, s.ErrorCode = bridge.StateFailed, "0x00000045" })},
		{"status_failed_no_reason", with(func(s *bridge.Status) { s.State = bridge.StateFailed })},
		{"status_no_time", with(func(s *bridge.Status) { s.State, s.At = bridge.StateDelivered, time.Time{} })},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
			reqs, err := a.Status(tc.st)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			MustMatchGolden(t, tc.golden, reqs)
		})
	}
}

// TestRoundTrip feeds the recipient the handler accepted back through
// Status, as the core does.
func TestRoundTrip(t *testing.T) {
	acc := &fakeAccepter{}
	a := MustNew(t, testConfig(), acc, nil)
	rec := post(a, "Bearer "+testToken, msg("+5491122334455", `{"type":"text","text":"hi"}`))
	var ans struct{ MID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.MID == "" {
		t.Fatalf("answer %d %s: no mId (%v)", rec.Code, rec.Body, err)
	}
	mt := acc.accepted()[0]
	reqs, err := a.Status(bridge.Status{MTID: ans.MID, To: mt.To, State: bridge.StateDelivered, At: time.UnixMilli(1)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"channelId":"gfd8g7fd89dgfd","contactId":"+5491122334455","events":[{"type":"message_status","mId":"` +
		ans.MID + `","timestamp":1,"status":{"value":"delivered"}}]}`
	if got := string(reqs[0].Body); got != want {
		t.Errorf("status body = %s, want %s", got, want)
	}
}

func TestMOSplitsLongText(t *testing.T) {
	a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
	text := strings.Repeat("ü", 7000) + strings.Repeat("😀", 7000) + "end"
	reqs, err := a.MO(bridge.MO{ID: "mo-long", From: "+5491122334455", Text: text, Received: time.UnixMilli(1000)})
	if err != nil {
		t.Fatalf("MO: %v", err)
	}
	if len(reqs) != 3 {
		t.Fatalf("MO built %d requests, want 3", len(reqs))
	}
	var joined strings.Builder
	for i, r := range reqs {
		var env envelope
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if len(env.Events) != 1 {
			t.Fatalf("request %d has %d events, want 1", i, len(env.Events))
		}
		ev := env.Events[0]
		wantMID := "mo-long-" + string(rune('1'+i))
		if ev.MID != wantMID || ev.Timestamp != 1000+int64(i) || ev.Type != "message" {
			t.Errorf("event %d: type %q mId %q timestamp %d, want message %q %d", i, ev.Type, ev.MID, ev.Timestamp, wantMID, 1000+i)
		}
		if n := utf8.RuneCountInString(ev.Message.Text); n > maxText {
			t.Errorf("event %d text has %d characters, want ≤ %d", i, n, maxText)
		}
		joined.WriteString(ev.Message.Text)
	}
	if joined.String() != text {
		t.Error("the parts do not add up to the text")
	}
}

func TestMOExactly7000IsOneEvent(t *testing.T) {
	a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
	reqs, err := a.MO(bridge.MO{ID: "mo-1", From: "+5491122334455", Text: strings.Repeat("a", 7000)})
	if err != nil || len(reqs) != 1 || !bytes.Contains(reqs[0].Body, []byte(`"mId":"mo-1"`)) {
		t.Errorf("MO = %d requests, %v; want one with mId mo-1", len(reqs), err)
	}
}

func TestStatusFailedReasonTruncated(t *testing.T) {
	a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
	reqs, err := a.Status(bridge.Status{MTID: "b-1", To: "+5491122334455", State: bridge.StateFailed,
		Description: strings.Repeat("ñ", 300)})
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(reqs[0].Body, &env); err != nil {
		t.Fatal(err)
	}
	got := env.Events[0].Status.Message
	if n := utf8.RuneCountInString(got); n != maxStatusMsg || !strings.HasSuffix(got, "…") {
		t.Errorf("reason has %d characters (%q…), want %d ending in …", n, got[:10], maxStatusMsg)
	}
}

func TestMOAndStatusErrors(t *testing.T) {
	a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
	long := strings.Repeat("1", 51)
	moCases := map[string]bridge.MO{
		"no sender":        {ID: "mo-1", Text: "hi"},
		"sender over 50":   {ID: "mo-1", From: long, Text: "hi"},
		"no id":            {From: "+5491122334455", Text: "hi"},
		"id over 50":       {ID: long, From: "+5491122334455", Text: "hi"},
		"split id over 50": {ID: strings.Repeat("x", 49), From: "+5491122334455", Text: strings.Repeat("a", 7001)},
	}
	for name, mo := range moCases {
		if reqs, err := a.MO(mo); err == nil || len(reqs) != 0 || !strings.HasPrefix(err.Error(), "custom: ") {
			t.Errorf("%s: MO = %d requests, %v; want a custom: error", name, len(reqs), err)
		}
	}
	stCases := map[string]bridge.Status{
		"unknown state": {MTID: "b-1", To: "+5491122334455", State: bridge.State(42)},
		"zero state":    {MTID: "b-1", To: "+5491122334455"},
		"no contact":    {MTID: "b-1", State: bridge.StateSent},
		"no mId":        {To: "+5491122334455", State: bridge.StateSent},
	}
	for name, st := range stCases {
		if reqs, err := a.Status(st); err == nil || len(reqs) != 0 || !strings.HasPrefix(err.Error(), "custom: ") {
			t.Errorf("%s: Status = %d requests, %v; want a custom: error", name, len(reqs), err)
		}
	}
}

// TestSpecExamples checks the bodies against the examples of platforms.md
// A.3.4, copied from the document, independently of the golden files.
func TestSpecExamples(t *testing.T) {
	const moExample = `{
  "channelId": "gfd8g7fd89dgfd",
  "contactId": "+5491122334455",
  "events": [
    {
      "type": "message",
      "mId": "mo-7f3c2a9e4b1d",
      "timestamp": 1718035200123,
      "message": { "type": "text", "text": "Hola, quiero info" }
    }
  ],
  "contact": { "phone": "+5491122334455", "countryCode": "AR" }
}`
	const statusExample = `{
  "channelId": "gfd8g7fd89dgfd",
  "contactId": "+5491122334455",
  "events": [
    {
      "type": "message_status",
      "mId": "b-01J0Z8K3Q4",
      "timestamp": 1718035265000,
      "status": { "value": "failed", "message": "SMSC rejected: 0x0000000b Invalid Dest Addr" }
    }
  ]
}`
	a := MustNew(t, testConfig(), &fakeAccepter{}, nil)
	mo, err := a.MO(bridge.MO{ID: "mo-7f3c2a9e4b1d", From: "+5491122334455", To: "+60177872890",
		Text: "Hola, quiero info", Received: time.UnixMilli(1718035200123)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Status(bridge.Status{MTID: "b-01J0Z8K3Q4", To: "+5491122334455", State: bridge.StateFailed,
		Description: "SMSC rejected: 0x0000000b Invalid Dest Addr", ErrorCode: "0x0000000b", At: time.UnixMilli(1718035265000)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got     bridge.Request
		example string
	}{{mo[0], moExample}, {st[0], statusExample}} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(c.example)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.got.Body, want.Bytes()) {
			t.Errorf("body = %s, want %s", c.got.Body, want.Bytes())
		}
		if c.got.Method != "POST" || c.got.URL != testWebhook || c.got.Header["Authorization"] != "Bearer "+testToken ||
			c.got.Header["Content-Type"] != "application/json" || len(c.got.Header) != 2 {
			t.Errorf("request = %s %s %v, want POST %s with Bearer token and JSON content type", c.got.Method, c.got.URL, c.got.Header, testWebhook)
		}
	}
}

func BenchmarkMO(b *testing.B) {
	a := MustNew(b, testConfig(), &fakeAccepter{}, nil)
	mo := bridge.MO{ID: "01J0Z8K3Q4ABCDEFGHJKMNPQRS", From: "+5491122334455", Text: "Hola, quiero info",
		Received: time.UnixMilli(1718035200123)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.MO(mo); err != nil {
			b.Fatal(err)
		}
	}
}
