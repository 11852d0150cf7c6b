package dlr

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		tlvID  string
		state  int
		netErr []byte
		want   Receipt
	}{
		{
			name:  "appendix B",
			text:  "id:4097 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hello world",
			state: -1,
			want: Receipt{ID: "4097", Sub: "001", Dlvrd: "001", SubmitDate: "2311221530", DoneDate: "2311221531",
				Stat: "DELIVRD", Err: "000", Text: "Hello world", State: Delivered, MessageState: -1},
		},
		{
			name:  "capital Text and keys in other case",
			text:  "ID:abc-1 SUB:1 DLVRD:1 Submit Date:2311221530 Done Date:2311221531 Stat:undeliv Err:0000 Text:x y z",
			state: -1,
			want: Receipt{ID: "abc-1", Sub: "1", Dlvrd: "1", SubmitDate: "2311221530", DoneDate: "2311221531",
				Stat: "undeliv", Err: "0000", Text: "x y z", State: Failed, MessageState: -1},
		},
		{
			name:  "submitdate without space, 12-digit dates, missing sub and dlvrd",
			text:  "id:77 submitdate:231122153000 donedate:231122153100 stat:EXPIRED err:0",
			state: -1,
			want:  Receipt{ID: "77", SubmitDate: "231122153000", DoneDate: "231122153100", Stat: "EXPIRED", Err: "0", State: Failed, MessageState: -1},
		},
		{
			name:  "submit_date with underscore and full SMPP time",
			text:  "id:77 submit_date:231122153000004+ done_date:231122153100004+ stat:ACCEPTD",
			state: -1,
			want:  Receipt{ID: "77", SubmitDate: "231122153000004+", DoneDate: "231122153100004+", Stat: "ACCEPTD", State: Intermediate, MessageState: -1},
		},
		{
			name:  "no text field, trailing NUL",
			text:  "id:1 stat:ENROUTE\x00",
			state: -1,
			want:  Receipt{ID: "1", Stat: "ENROUTE", State: Intermediate, MessageState: -1},
		},
		{
			name:  "empty text field",
			text:  "id:1 stat:DELIVRD err:000 text:",
			state: -1,
			want:  Receipt{ID: "1", Stat: "DELIVRD", Err: "000", State: Delivered, MessageState: -1},
		},
		{
			name:  "text with GSM escape and key-like words",
			text:  "id:1 stat:DELIVRD text:pay \x1b\x65 5 stat:REJECTD",
			state: -1,
			want:  Receipt{ID: "1", Stat: "DELIVRD", Text: "pay \x1be 5 stat:REJECTD", State: Delivered, MessageState: -1},
		},
		{
			name:  "space after colon",
			text:  "id: 12345 sub: dlvrd:1 stat: DELIVRD",
			state: -1,
			want:  Receipt{ID: "12345", Dlvrd: "1", Stat: "DELIVRD", State: Delivered, MessageState: -1},
		},
		{
			name:  "unknown stat is failed",
			text:  "id:9 stat:WEIRD",
			state: -1,
			want:  Receipt{ID: "9", Stat: "WEIRD", State: Failed, MessageState: -1},
		},
		{
			name:  "buffered variants are intermediate",
			text:  "id:9 stat:BUFFRED",
			state: -1,
			want:  Receipt{ID: "9", Stat: "BUFFRED", State: Intermediate, MessageState: -1},
		},
		{
			name:  "TLVs win over text",
			text:  "id:0000001001 stat:UNDELIV err:001",
			tlvID: "00001001\x00",
			state: 2,
			want:  Receipt{ID: "00001001", Stat: "UNDELIV", Err: "001", State: Delivered, MessageState: 2},
		},
		{
			name:   "TLV only, empty text",
			text:   "",
			tlvID:  "4097",
			state:  5,
			netErr: []byte{0x03, 0x00, 0x01},
			want:   Receipt{ID: "4097", Stat: "UNDELIV", State: Failed, MessageState: 5, NetworkError: "3:1"},
		},
		{
			name:   "network_error_code as ASCII digits",
			text:   "id:5 stat:UNDELIV",
			state:  -1,
			netErr: []byte("034"),
			want:   Receipt{ID: "5", Stat: "UNDELIV", State: Failed, MessageState: -1, NetworkError: "034"},
		},
		{
			name:  "SMPP 5.0 message_state 0 does not override stat",
			text:  "id:5 stat:DELIVRD",
			state: 0,
			want:  Receipt{ID: "5", Stat: "DELIVRD", State: Delivered, MessageState: 0},
		},
		{
			name:  "SMPP 5.0 message_state 9 without stat",
			text:  "id:5",
			state: 9,
			want:  Receipt{ID: "5", Stat: "SKIPPED", State: Failed, MessageState: 9},
		},
		{
			name:  "unknown message_state falls back to stat",
			text:  "id:5 stat:DELIVRD",
			state: 42,
			want:  Receipt{ID: "5", Stat: "DELIVRD", State: Delivered, MessageState: 42},
		},
		{
			name:  "ids longer than 64 bits stay as sent",
			text:  "id:123456789012345678901234567890 stat:DELIVRD",
			state: -1,
			want:  Receipt{ID: "123456789012345678901234567890", Stat: "DELIVRD", State: Delivered, MessageState: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.text), tt.tlvID, tt.state, tt.netErr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.text, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", tt.text, got, tt.want)
			}
		})
	}
}

// utf16be encodes ASCII s as UTF-16BE.
func utf16be(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		b = append(b, 0, s[i])
	}
	return b
}

func TestParseUTF16Body(t *testing.T) {
	got, err := Parse(utf16be("id:abc stat:DELIVRD text:hi"), "", -1, nil)
	if err != nil || got.ID != "abc" || got.State != Delivered || got.Text != "hi" {
		t.Errorf("Parse(UTF-16BE receipt) = %+v, %v", got, err)
	}
	// Latin-1 bodies with 8-bit text are not mistaken for UTF-16.
	got, err = Parse([]byte("id:7 stat:DELIVRD text:caf\xe9"), "", -1, nil)
	if err != nil || got.Text != "café" {
		t.Errorf("Parse(Latin-1 receipt) = %+v, %v", got, err)
	}
}

func TestParseNoID(t *testing.T) {
	got, err := Parse([]byte("stat:DELIVRD err:000"), "", -1, nil)
	if !errors.Is(err, ErrNoID) {
		t.Fatalf("Parse without id: error = %v, want ErrNoID", err)
	}
	if got.Stat != "DELIVRD" {
		t.Errorf("Parse without id still returns the rest: got %+v", got)
	}
	if _, err := Parse(nil, "", -1, nil); !errors.Is(err, ErrNoID) {
		t.Errorf("Parse(nil) error = %v, want ErrNoID", err)
	}
	if r, err := Parse(nil, "77", -1, nil); err != nil || r.ID != "77" || r.State != Failed {
		t.Errorf("Parse(nil, TLV id) = %+v, %v; want id 77, no state means failed", r, err)
	}
}

func TestLooksLikeReceipt(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"id:123 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:", true},
		{"ID:123 STAT:DELIVRD", true},
		{"id:x stat:", true},
		{"hello id:123 stat:DELIVRD", false},
		{"id: 123 stat:DELIVRD", false},
		{"id:123", false},
		{"id:123 no state here", false},
		{"", false},
		{"Hi, what is my id: and stat:?", false},
	}
	for _, tt := range tests {
		if got := LooksLikeReceipt([]byte(tt.text)); got != tt.want {
			t.Errorf("LooksLikeReceipt(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if !LooksLikeReceipt(utf16be("id:1 stat:DELIVRD")) {
		t.Error("LooksLikeReceipt(UTF-16BE receipt) = false, want true")
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Failed: "failed", Intermediate: "intermediate", Delivered: "delivered"} {
		if s.String() != want {
			t.Errorf("State(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}
