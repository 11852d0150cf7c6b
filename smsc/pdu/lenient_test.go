package pdu

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// lenientCase is a PDU an SMSC may send that breaks a SMPP 3.4 field limit,
// with the value a lenient decoder must keep whole.
type lenientCase struct {
	name  string
	in    []byte
	field string // named in the tolerated deviation
	want  func(p *PDU) string
	value string
	cause error // what strict decoding fails with
}

func lenientCases(t testing.TB) []lenientCase {
	sysID16 := "SIXTEEN-CHARS-ID"
	src21 := strings.Repeat("1", 21)
	id70 := strings.Repeat("a1b2c3d4e5", 7)
	bindID := func(p *PDU) string { return p.Body.(*BindResp).SystemID }
	msgID := func(p *PDU) string { return p.Body.(*MessageResp).MessageID }
	return []lenientCase{
		{"bind_transceiver_resp 16-character system_id",
			frame(t, BindTransceiverResp, 0, 1, hexStr(sysID16)+"00 0210 0001 34"),
			"system_id", bindID, sysID16, ErrFieldTooLong},
		{"bind_transmitter_resp system_id without NUL",
			frame(t, BindTransmitterResp, 0, 1, hexStr("SMSC")),
			"system_id", bindID, "SMSC", ErrTruncated},
		{"deliver_sm 21-digit source_addr",
			frame(t, DeliverSM, 0, 7, smBody(hexStr(src21)+"00", "3432343200", smTail+" 02 4869")),
			"source_addr", func(p *PDU) string { return p.Body.(*ShortMessage).SourceAddr }, src21, ErrFieldTooLong},
		{"deliver_sm 21-character destination_addr",
			frame(t, DeliverSM, 0, 7, smBody("3100", hexStr(src21)+"00", smTail+" 02 4869")),
			"destination_addr", func(p *PDU) string { return p.Body.(*ShortMessage).DestAddr }, src21, ErrFieldTooLong},
		{"submit_sm_resp 70-character message_id",
			frame(t, SubmitSMResp, 0, 2, hexStr(id70)+"00"),
			"message_id", msgID, id70, ErrFieldTooLong},
		{"submit_sm_resp message_id without NUL",
			frame(t, SubmitSMResp, 0, 2, hexStr("4097")),
			"message_id", msgID, "4097", ErrTruncated},
		{"submit_sm_resp 70-character message_id without NUL",
			frame(t, SubmitSMResp, 0, 2, hexStr(id70)),
			"message_id", msgID, id70, ErrFieldTooLong},
		{"data_sm_resp 70-character message_id",
			frame(t, DataSMResp, 0, 2, hexStr(id70)+"00"),
			"message_id", msgID, id70, ErrFieldTooLong},
	}
}

func TestLenientDecodeAcceptsWhatSMSCsSend(t *testing.T) {
	for _, tc := range lenientCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.in); !errors.Is(err, tc.cause) {
				t.Fatalf("strict Decode error = %v, want %v", err, tc.cause)
			}
			var tolerated []error
			o := DecodeOptions{Lenient: true, Tolerated: func(h Header, err error) {
				if h.ID != parseHeader(tc.in).ID {
					t.Errorf("Tolerated header %v", h)
				}
				tolerated = append(tolerated, err)
			}}
			p, err := o.Decode(tc.in)
			if err != nil {
				t.Fatalf("lenient Decode: %v", err)
			}
			if got := tc.want(p); got != tc.value {
				t.Errorf("value = %q, want %q (kept whole)", got, tc.value)
			}
			if len(tolerated) != 1 || !strings.Contains(tolerated[0].Error(), tc.field) {
				t.Errorf("Tolerated called with %v, want one deviation naming %s", tolerated, tc.field)
			}
			rp, err := o.Read(bytes.NewReader(tc.in), 0)
			if err != nil || tc.want(rp) != tc.value {
				t.Errorf("lenient Read = %v, %v; want the same as Decode", rp, err)
			}
			// What we send stays strict: an over-long value does not encode.
			if _, err := p.MarshalBinary(); errors.Is(tc.cause, ErrFieldTooLong) && !errors.Is(err, ErrFieldTooLong) {
				t.Errorf("MarshalBinary of the over-long value: %v, want ErrFieldTooLong", err)
			}
		})
	}
}

func TestLenientDecodeLimits(t *testing.T) {
	var calls int
	o := DecodeOptions{Lenient: true, Tolerated: func(Header, error) { calls++ }}
	tests := []struct {
		name   string
		in     []byte
		status Status
		cause  error
	}{
		{"message_id of 256 characters", frame(t, SubmitSMResp, 0, 2, hexStr(strings.Repeat("9", 256))+"00"),
			StatusInvMsgID, ErrFieldTooLong},
		{"source_addr without NUL swallows the body", frame(t, DeliverSM, 0, 1, smBody("3100", hexStr("4242"), "")),
			StatusInvCmdLen, ErrTruncated},
		{"sm_length beyond body", frame(t, DeliverSM, 0, 1, smBody("3100", "3100", smTail+" 05 41 42")),
			StatusInvMsgLen, ErrTruncated},
		{"malformed TLV", frame(t, DeliverSM, 0, 1, smBody("3100", "3100", smTail+" 00 0204 0003 0001")),
			StatusInvParLen, ErrBadTLV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = 0
			_, err := o.Decode(tc.in)
			var de *DecodeError
			if !errors.As(err, &de) || de.Status != tc.status || !errors.Is(err, tc.cause) {
				t.Fatalf("lenient Decode error = %v, want %v with %v", err, tc.cause, tc.status)
			}
			if calls != 0 {
				t.Errorf("Tolerated called %d times for a PDU that did not decode", calls)
			}
		})
	}
}

func TestLenientDecodeOfGoodPDUsIsStrictDecode(t *testing.T) {
	called := false
	o := DecodeOptions{Lenient: true, Tolerated: func(Header, error) { called = true }}
	for _, tc := range goldens {
		raw := MustReadHex(t, "testdata/"+tc.name+".hex")
		want, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := o.Decode(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: lenient Decode = %s, %v; want %s", tc.name, describe(got), err, describe(want))
		}
	}
	if called {
		t.Error("Tolerated called for a conforming PDU")
	}
}
