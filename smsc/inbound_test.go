package smsc

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

var (
	latin1DC0 = coding.Alphabet{Charset: coding.Latin1}
	asciiDC0  = coding.Alphabet{Charset: coding.ASCII}
	packedDC0 = coding.Alphabet{Charset: coding.GSM7, Packed: true}
)

// TestParseInboundOddReceipts: receipts whose esm_class has UDHI set over a
// plain-text body (0x44), or whose UDH is malformed, are still receipts:
// the TLVs first, then the text.
func TestParseInboundOddReceipts(t *testing.T) {
	text := "id:4097 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hello there, this is long enough"
	withTLVs := func(sm pdu.ShortMessage, id string, state uint8) pdu.ShortMessage {
		sm.TLVs.SetString(pdu.TagReceiptedMessageID, id)
		sm.TLVs.SetUint8(pdu.TagMessageState, state)
		return sm
	}
	tests := []struct {
		name  string
		sm    pdu.ShortMessage
		id    string
		state dlr.State
	}{
		{"0x44 with a plain-text body", pdu.ShortMessage{ESMClass: 0x44, Message: []byte(text)}, "4097", dlr.Delivered},
		{"0x44 with a short plain-text body", pdu.ShortMessage{ESMClass: 0x44, Message: []byte("id:77 stat:UNDELIV")}, "77", dlr.Failed},
		{"0x44 plain text and TLVs", withTLVs(pdu.ShortMessage{ESMClass: 0x44, Message: []byte(text)}, "ABC", 2), "ABC", dlr.Delivered},
		{"malformed UDH, TLVs", withTLVs(pdu.ShortMessage{ESMClass: 0x44, Message: []byte{0x09, 0x00, 0x03, 0x01}}, "00001001", 5), "00001001", dlr.Failed},
		{"malformed UDH before the text", pdu.ShortMessage{ESMClass: 0x44, Message: append([]byte{0x05, 0x00, 0x09}, " "+text...)}, "4097", dlr.Delivered},
		{"well-formed UDH before the text", pdu.ShortMessage{ESMClass: 0x44, Message: append([]byte{0x05, 0x00, 0x03, 0x01, 0x01, 0x01}, text...)}, "4097", dlr.Delivered},
		{"intermediate 0x60 with plain text", pdu.ShortMessage{ESMClass: 0x60, Message: []byte("id:9 stat:ENROUTE")}, "9", dlr.Intermediate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := tt.sm
			in, err := ParseInbound(wireRoundTrip(t, &sm), InboundOptions{})
			if err != nil {
				t.Fatalf("ParseInbound error = %v, want a receipt", err)
			}
			if r := in.Receipt; r == nil || r.ID != tt.id || r.State != tt.state || in.Concat != nil {
				t.Fatalf("ParseInbound = %+v (receipt %+v), want receipt id %q state %v", in, r, tt.id, tt.state)
			}
		})
	}
}

// TestParseInboundTextReceipts: receipt-shaped text without receipt
// esm_class bits or TLVs is a receipt only where the SMSC is configured to
// send receipts that way.
func TestParseInboundTextReceipts(t *testing.T) {
	tests := []struct {
		text    string
		on      bool
		receipt bool
	}{
		{"ID:12345 STAT: please call me", false, false},
		{"id:4097 sub:001 dlvrd:001 stat:DELIVRD err:000", false, false},
		{"id:4097 sub:001 dlvrd:001 stat:DELIVRD err:000", true, true},
		{"ID:12345 STAT: please call me", true, true},
		{"my id: 5, stat: ok", true, false},
	}
	for _, tt := range tests {
		sm := &pdu.ShortMessage{Message: []byte(tt.text)}
		in, err := ParseInbound(wireRoundTrip(t, sm), InboundOptions{TextReceipts: tt.on})
		if err != nil && !errors.Is(err, dlr.ErrNoID) {
			t.Fatalf("ParseInbound(%q): %v", tt.text, err)
		}
		if (in.Receipt != nil) != tt.receipt {
			t.Errorf("ParseInbound(%q, TextReceipts %v): receipt %v, want %v", tt.text, tt.on, in.Receipt != nil, tt.receipt)
		}
		if !tt.receipt {
			if got, _ := in.Text(); got != tt.text {
				t.Errorf("MO text = %q, want %q", got, tt.text)
			}
		}
	}
}

// TestParseInboundAlphabet decodes MO with data_coding 0 per SMSC setting.
func TestParseInboundAlphabet(t *testing.T) {
	udh := []byte{0x05, 0x00, 0x03, 0x42, 0x02, 0x01}
	tests := []struct {
		name   string
		a      coding.Alphabet
		sm     pdu.ShortMessage
		want   string
		concat bool
	}{
		{"gsm7", coding.Alphabet{}, pdu.ShortMessage{Message: []byte("a@b$")}, "a¡b¤", false},
		{"latin1", latin1DC0, pdu.ShortMessage{Message: []byte{'c', 'a', 'f', 0xE9, ' ', '@', '$'}}, "café @$", false},
		{"ascii", asciiDC0, pdu.ShortMessage{Message: []byte("[a@b]")}, "[a@b]", false},
		{"packed", packedDC0, pdu.ShortMessage{Message: []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}}, "hello", false},
		{"packed segment after a UDH", packedDC0, pdu.ShortMessage{ESMClass: 0x40,
			Message: append(bytes.Clone(udh), 0xD0, 0x65, 0x36, 0xFB, 0x0D)}, "hello", true},
		{"latin1 segment after a UDH", latin1DC0, pdu.ShortMessage{ESMClass: 0x40,
			Message: append(bytes.Clone(udh), 'n', 0xE9)}, "né", true},
		{"packed in message_payload", packedDC0, func() pdu.ShortMessage {
			var sm pdu.ShortMessage
			sm.TLVs.Set(pdu.TagMessagePayload, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06})
			return sm
		}(), "hello", false},
		{"latin1 leaves UCS2 alone", latin1DC0, pdu.ShortMessage{DataCoding: 8, Message: []byte{0, 0xE9}}, "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := tt.sm
			in, err := ParseInbound(wireRoundTrip(t, &sm), InboundOptions{Alphabet: tt.a})
			if err != nil || in.Receipt != nil || (in.Concat != nil) != tt.concat {
				t.Fatalf("ParseInbound = %+v, %v", in, err)
			}
			if got, err := in.Text(); err != nil || got != tt.want {
				t.Errorf("Text() = %q, %v; want %q", got, err, tt.want)
			}
			if got, err := tt.a.Decode(in.DataCoding, in.Payload, in.UDHLen); err != nil || got != tt.want {
				t.Errorf("Alphabet.Decode(Payload, UDHLen %d) = %q, %v; want %q", in.UDHLen, got, err, tt.want)
			}
		})
	}
}

// TestBuildSubmitsAlphabet checks the octets on the wire for data_coding 0
// per SMSC setting, and that 8-bit data_coding 0 is segmented as GSM.
func TestBuildSubmitsAlphabet(t *testing.T) {
	tests := []struct {
		name string
		a    coding.Alphabet
		long LongMode
		text string
		dc   uint8
		msgs [][]byte // short_message of each submit_sm
	}{
		{"gsm7", coding.Alphabet{}, LongUDH, "café @", 0, [][]byte{{'c', 'a', 'f', 0x05, ' ', 0x00}}},
		{"latin1", latin1DC0, LongUDH, "café @", 0, [][]byte{{'c', 'a', 'f', 0xE9, ' ', '@'}}},
		{"ascii", asciiDC0, LongUDH, "a@b [x]", 0, [][]byte{[]byte("a@b [x]")}},
		{"ascii falls back to UCS2", asciiDC0, LongUDH, "é", 8, [][]byte{{0x00, 0xE9}}},
		{"latin1 falls back to UCS2 for €", latin1DC0, LongUDH, "€", 8, [][]byte{{0x20, 0xAC}}},
		{"packed", packedDC0, LongUDH, "hello", 0, [][]byte{{0xE8, 0x32, 0x9B, 0xFD, 0x06}}},
		{"latin1 160 characters is one SMS", latin1DC0, LongUDH, strings.Repeat("é", 160), 0,
			[][]byte{bytes.Repeat([]byte{0xE9}, 160)}},
		{"latin1 161 characters is 153 + 8", latin1DC0, LongUDH, strings.Repeat("é", 161), 0, [][]byte{
			append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, bytes.Repeat([]byte{0xE9}, 153)...),
			append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x02}, bytes.Repeat([]byte{0xE9}, 8)...)}},
		{"latin1 SAR is 152 per part", latin1DC0, LongSAR, strings.Repeat("é", 161), 0, [][]byte{
			bytes.Repeat([]byte{0xE9}, 152), bytes.Repeat([]byte{0xE9}, 9)}},
		{"latin1 payload", latin1DC0, LongPayload, strings.Repeat("é", 161), 0, [][]byte{nil}},
		{"packed 161 septets: UDH, fill bit, 153 septets in 134 octets", packedDC0, LongUDH, strings.Repeat("a", 161), 0, [][]byte{
			append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, mustPack(t, strings.Repeat("a", 153), 6)...),
			append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x02}, mustPack(t, strings.Repeat("a", 8), 6)...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sms := MustBuild(t, tt.text, SubmitOptions{Alphabet: tt.a, Long: tt.long, Ref: 7})
			if len(sms) != len(tt.msgs) {
				t.Fatalf("%d submits, want %d", len(sms), len(tt.msgs))
			}
			for i, sm := range sms {
				if sm.DataCoding != tt.dc || !bytes.Equal(sm.Message, tt.msgs[i]) {
					t.Errorf("submit %d: dc %#x short_message % X, want dc %#x % X", i+1, sm.DataCoding, sm.Message, tt.dc, tt.msgs[i])
				}
			}
			if tt.long == LongPayload {
				p, _ := sms[0].TLVs.Get(pdu.TagMessagePayload)
				if !bytes.Equal(p, bytes.Repeat([]byte{0xE9}, 161)) {
					t.Errorf("message_payload % X, want 161 × E9", p)
				}
			}
			if got := reassembleWith(t, sms, tt.a); got != tt.text {
				t.Errorf("the SMSC's view of the parts reads %q, want %q", got, tt.text)
			}
		})
	}
}

func mustPack(t *testing.T, text string, udhLen int) []byte {
	t.Helper()
	b, err := packedDC0.Encode(coding.GSM7, text, udhLen)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reassembleWith parses every segment as an inbound deliver_sm on an SMSC
// with alphabet a and joins their text in order.
func reassembleWith(t *testing.T, sms []*pdu.ShortMessage, a coding.Alphabet) string {
	t.Helper()
	parts := make([]string, len(sms))
	for i, sm := range sms {
		in, err := ParseInbound(wireRoundTrip(t, sm), InboundOptions{Alphabet: a})
		if err != nil || in.Receipt != nil {
			t.Fatalf("ParseInbound(segment %d) = %+v, %v", i+1, in, err)
		}
		seq := i + 1
		if in.Concat != nil {
			seq = in.Concat.Seq
		}
		if parts[seq-1], err = in.Text(); err != nil {
			t.Fatalf("segment %d Text(): %v", i+1, err)
		}
	}
	return strings.Join(parts, "")
}
