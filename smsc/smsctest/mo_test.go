package smsctest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// TestBuildMOFor: MO from an SMSC whose data_coding 0 is Latin-1, ASCII
// or packed GSM is encoded that way, and passes that SMSC's own checks.
func TestBuildMOFor(t *testing.T) {
	long := strings.Repeat("Packed long text @ {x} ", 12)
	tests := []struct {
		dc0    smsctest.DC0
		text   string
		wantDC uint8
		want   []byte // first part's short_message; nil: not checked
		parts  int
	}{
		{smsctest.DC0Latin1, "café", 0, []byte("caf\xe9"), 1},
		{smsctest.DC0Latin1, "Привет", 8, nil, 1},
		{smsctest.DC0ASCII, "cafe {x}", 0, []byte("cafe {x}"), 1},
		{smsctest.DC0ASCII, "café", 8, nil, 1},
		{smsctest.DC0GSM7, "café", 0, []byte("caf\x05"), 1},
		{smsctest.DC0GSM7Packed, "hello", 0, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 1}, // smpp.md §6.3
		{smsctest.DC0GSM7Packed, long, 0, nil, 2},
		{smsctest.DC0Latin1, strings.Repeat("é", 300), 0, nil, 3}, // 134 per part
	}
	for _, tt := range tests {
		t.Run(tt.dc0.String()+" "+tt.text[:min(len(tt.text), 10)], func(t *testing.T) {
			sms, err := smsctest.BuildMOFor("+15550001111", "12345", tt.text, 9, tt.dc0)
			if err != nil {
				t.Fatal(err)
			}
			if len(sms) != tt.parts || sms[0].DataCoding != tt.wantDC || (tt.want != nil && !bytes.Equal(sms[0].Message, tt.want)) {
				t.Fatalf("%d parts, data_coding %d, first % x; want %d, %d, % x", len(sms), sms[0].DataCoding, sms[0].Message, tt.parts, tt.wantDC, tt.want)
			}
			// The same bodies as submit_sm pass an SMSC with this dc0.
			srv := newServer(t, smsctest.WithDC0(tt.dc0))
			e := dialESME(t, srv)
			e.bind(pdu.BindTransmitter, "esme", "secret")
			for _, sm := range sms {
				if resp := e.call(pdu.SubmitSM, sm); resp.Status != pdu.StatusOK {
					t.Errorf("part answered %v", resp.Status)
				}
			}
		})
	}
	// Packed parts unpack to the text: the septets start after the UDH
	// and its fill bit (6 octets + 1 bit = 7 septets).
	sms, _ := smsctest.BuildMOFor("1", "2", long, 9, smsctest.DC0GSM7Packed)
	var septets []byte
	for _, sm := range sms {
		n := (len(sm.Message)*8)/7 - 7
		if (n+7)*7 <= (len(sm.Message)-1)*8 { // a whole spare septet of fill
			n--
		}
		septets = append(septets, coding.UnpackGSM7(sm.Message, n+7)[7:]...)
		if !bytes.Equal(sm.Message[:6], []byte{5, 0, 3, 9, 2, sm.Message[5]}) {
			t.Errorf("UDH % x", sm.Message[:6])
		}
	}
	if got, err := coding.Decode(0, septets); err != nil || got != long {
		t.Errorf("packed parts read %q, %v\nwant %q", got, err, long)
	}
}
