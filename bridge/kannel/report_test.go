package kannel

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/bridge"
)

// jsonForm is a report as versions before the current form queued it.
func jsonForm(r report) string {
	b, _ := json.Marshal(r)
	return string(b)
}

var reportCases = []report{
	{},
	{URL: "https://rapidpro.example.org/c/kn/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/status?uuid=0191e180-7d60-7000-aff4-c8d3f7bcc9d3&status=%d",
		Mask: 27, To: "+250788383383", From: "12345", User: "rapidpro"},
	{URL: "http://x/?a=%A&D=%D", Mask: 31, To: "1", From: "MyBrand", User: "u", Meta: "?smpp?x=1&?app?k=v&"},
	{URL: "http://x/é☺𝄞?t=日本語", Mask: 1, To: "٠١٢", From: "Ünïcödé", User: "用户", Meta: "?a?b=ß&"},
	{URL: "http://x/\x00\x01\x7f:12:{}\"\\\n\t%", Mask: -1, To: ":", From: "0:", User: "\x01", Meta: "{"},
	{URL: "http://x/?bad=\xff\xfe\xc3&cut=\xe2\x98", Mask: 64, To: "\x80", From: "a\xffb", User: "\xed\xa0\x80", Meta: "\xf4\x90\x80\x80"},
	{URL: "u", Mask: 1<<31 - 1, To: strings.Repeat("9", 300), Meta: strings.Repeat("?g?k=v&", 200)},
	{URL: "u", Mask: -1 << 31},
}

// TestReportRoundTrip: every field comes back; bytes that are not UTF-8
// come back as the JSON form gave them (U+FFFD each).
func TestReportRoundTrip(t *testing.T) {
	for _, r := range reportCases {
		enc := r.encode()
		if enc == "" || enc[0] != reportV1 {
			t.Errorf("%+v encodes as %q", r, enc)
		}
		got, ok := decodeReport(enc)
		if !ok {
			t.Errorf("%q does not decode", enc)
			continue
		}
		var want report // what the JSON form gave
		if err := json.Unmarshal([]byte(jsonForm(r)), &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%+v: decoded %+v, want %+v", r, got, want)
		}
		if utf8.ValidString(r.URL+r.To+r.From+r.User+r.Meta) && got != r {
			t.Errorf("%+v: decoded %+v", r, got)
		}
	}
}

// TestReportOldJSONForm: report data of MTs queued as JSON by older
// versions still decodes, and the statuses of such an MT make the same
// requests as with the current form.
func TestReportOldJSONForm(t *testing.T) {
	for _, r := range reportCases {
		got, ok := decodeReport(jsonForm(r))
		if !ok || (utf8.ValidString(r.URL+r.To+r.From+r.User+r.Meta) && got != r) {
			t.Errorf("%s: %+v %v", jsonForm(r), got, ok)
		}
	}
	// As written by the JSON form's encoder (field order, omitempty).
	old := `{"u":"https://c.example/dlr?uuid=u1\u0026status=%d\u0026p=%p\u0026P=%P\u0026n=%n","m":27,"t":"+250788383383","f":"2020","n":"Username"}`
	want := report{URL: "https://c.example/dlr?uuid=u1&status=%d&p=%p&P=%P&n=%n", Mask: 27, To: "+250788383383", From: "2020", User: "Username"}
	if got, ok := decodeReport(old); !ok || got != want {
		t.Fatalf("%s: %+v %v", old, got, ok)
	}
	a, _ := newTest(t, nil)
	for _, state := range []bridge.State{bridge.StateSent, bridge.StateDelivered, bridge.StateFailed} {
		st := bridge.Status{MTID: "m1", State: state, SMSC: "agg-a", SMSCMsgID: "abc", Report: "id:abc stat:DELIVRD err:000"}
		st.ExternalID = old
		before, err1 := a.Status(st)
		st.ExternalID = want.encode()
		after, err2 := a.Status(st)
		if err1 != nil || err2 != nil || len(before) != 1 || len(after) != 1 || before[0].URL != after[0].URL {
			t.Errorf("%s: JSON form %+v %v, current form %+v %v", state, before, err1, after, err2)
		}
	}
}

// TestReportJSONSafe: the encoded report is valid UTF-8 and survives, byte
// for byte, the JSON round trip of the MT record that holds it.
func TestReportJSONSafe(t *testing.T) {
	type record struct {
		ExternalID string `json:"ext,omitempty"`
	}
	for _, r := range reportCases {
		enc := r.encode()
		if !utf8.ValidString(enc) {
			t.Errorf("%q is not UTF-8", enc)
		}
		data, err := json.Marshal(record{enc})
		if err != nil {
			t.Fatal(err)
		}
		var back record
		if err := json.Unmarshal(data, &back); err != nil || back.ExternalID != enc {
			t.Errorf("%q came back from JSON as %q (%v)", enc, back.ExternalID, err)
		}
	}
}

// TestReportMalformed: what is neither form is refused, never read in part.
func TestReportMalformed(t *testing.T) {
	good := report{URL: "http://x/", Mask: 8, To: "1", From: "2", User: "u", Meta: "m"}.encode()
	bad := []string{"", "x", "\x02" + good[1:], "\x01", "\x018", "\x01x:", "\x018:", "\x018:9:http://x/1:12:2", "{",
		"\x018:-1:", "\x018:1", "\x018::", "\x018:99999999999999999999:", good + "0:", good[:len(good)-1]}
	for i := 1; i < len(good); i++ {
		bad = append(bad, good[:i])
	}
	for _, s := range bad {
		if r, ok := decodeReport(s); ok {
			t.Errorf("%q decodes as %+v", s, r)
		}
	}
	if _, ok := decodeReport(good); !ok {
		t.Fatalf("%q does not decode", good)
	}
}

// TestStatusDecodesWithoutAllocating: reading the report data of a status
// allocates nothing (the reason for the form).
func TestStatusDecodesWithoutAllocating(t *testing.T) {
	enc := reportCases[1].encode()
	if n := testing.AllocsPerRun(100, func() { decodeReport(enc) }); n != 0 {
		t.Errorf("decodeReport: %v allocations", n)
	}
}
