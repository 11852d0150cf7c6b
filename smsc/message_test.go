package smsc

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

var (
	testSrc = Address{Addr: "12345", TON: 3, NPI: 0}
	testDst = Address{Addr: "5582999489287", TON: 1, NPI: 1}
)

// MustBuild calls BuildSubmits and fails the test on error.
func MustBuild(t *testing.T, text string, o SubmitOptions) []*pdu.ShortMessage {
	t.Helper()
	sms, err := BuildSubmits(testSrc, testDst, text, o)
	if err != nil {
		t.Fatalf("BuildSubmits(%d chars, %+v): %v", len(text), o, err)
	}
	return sms
}

// wireRoundTrip encodes sm as a deliver_sm and decodes it again, so that
// tests see what a peer would receive.
func wireRoundTrip(t *testing.T, sm *pdu.ShortMessage) *pdu.ShortMessage {
	t.Helper()
	b, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM, Seq: 1}, Body: sm}).MarshalBinary()
	if err != nil {
		t.Fatalf("encode deliver_sm: %v", err)
	}
	p, err := pdu.Decode(b)
	if err != nil {
		t.Fatalf("decode deliver_sm: %v", err)
	}
	return p.Body.(*pdu.ShortMessage)
}

// reassemble parses every segment (shuffled) as an inbound deliver_sm and
// joins their decoded text in sequence order.
func reassemble(t *testing.T, sms []*pdu.ShortMessage) string {
	t.Helper()
	parts := make([]string, len(sms))
	for _, i := range rand.Perm(len(sms)) {
		in, err := ParseInbound(wireRoundTrip(t, sms[i]), InboundOptions{})
		if err != nil {
			t.Fatalf("ParseInbound(segment %d): %v", i+1, err)
		}
		if in.Receipt != nil {
			t.Fatalf("segment %d parsed as a receipt", i+1)
		}
		seq := 1
		if len(sms) > 1 {
			if in.Concat == nil || in.Concat.Total != len(sms) {
				t.Fatalf("segment %d: Concat = %+v, want total %d", i+1, in.Concat, len(sms))
			}
			seq = in.Concat.Seq
		}
		text, err := in.Text()
		if err != nil {
			t.Fatalf("segment %d Text(): %v", i+1, err)
		}
		parts[seq-1] = text
	}
	return strings.Join(parts, "")
}

func TestBuildSubmitsSingle(t *testing.T) {
	sms := MustBuild(t, "Hi @ {x}", SubmitOptions{RegisteredDelivery: true})
	if len(sms) != 1 {
		t.Fatalf("got %d submits, want 1", len(sms))
	}
	sm := sms[0]
	want := []byte{0x48, 0x69, 0x20, 0x00, 0x20, 0x1B, 0x28, 0x78, 0x1B, 0x29}
	if !bytes.Equal(sm.Message, want) || sm.DataCoding != 0 || sm.ESMClass != 0 || sm.RegisteredDelivery != 1 {
		t.Errorf("submit = msg % X dc %d esm %#x reg %d, want % X dc 0 esm 0 reg 1", sm.Message, sm.DataCoding, sm.ESMClass, sm.RegisteredDelivery, want)
	}
	if sm.SourceAddr != "12345" || sm.SourceTON != 3 || sm.DestAddr != "5582999489287" || sm.DestTON != 1 || sm.DestNPI != 1 {
		t.Errorf("addresses = %q %d/%d -> %q %d/%d", sm.SourceAddr, sm.SourceTON, sm.SourceNPI, sm.DestAddr, sm.DestTON, sm.DestNPI)
	}
	if len(sm.TLVs) != 0 {
		t.Errorf("single submit has TLVs %v", sm.TLVs)
	}
	// 160 septets is still one SMS, in every long mode.
	for _, mode := range []LongMode{LongUDH, LongUDH16, LongSAR, LongPayload} {
		sms := MustBuild(t, strings.Repeat("a", 160), SubmitOptions{Long: mode})
		if len(sms) != 1 || len(sms[0].Message) != 160 || sms[0].ESMClass != 0 {
			t.Errorf("%v: 160 septets gave %d submits", mode, len(sms))
		}
	}
}

func TestBuildSubmitsCodingChoice(t *testing.T) {
	tests := []struct {
		text      string
		preferred coding.Coding
		dc        uint8
	}{
		{"hello €", coding.GSM7, 0x00},
		{"hello 😀", coding.GSM7, 0x08},
		{"café", coding.Latin1, 0x03},
		{"plain", coding.ASCII, 0x01},
		{"Привет", coding.Latin1, 0x08},
	}
	for _, tt := range tests {
		sms := MustBuild(t, tt.text, SubmitOptions{Coding: tt.preferred})
		if sms[0].DataCoding != tt.dc {
			t.Errorf("BuildSubmits(%q, %v) data_coding = %#x, want %#x", tt.text, tt.preferred, sms[0].DataCoding, tt.dc)
		}
		if got, err := coding.Decode(sms[0].DataCoding, sms[0].Message); err != nil || got != tt.text {
			t.Errorf("decoded submit = %q, %v, want %q", got, err, tt.text)
		}
	}
}

func TestBuildSubmitsUDH(t *testing.T) {
	text := strings.Repeat("a", 152) + "{" + strings.Repeat("b", 10) // escape pair pushed to part 2
	sms := MustBuild(t, text, SubmitOptions{Ref: 0x1A7})
	if len(sms) != 2 {
		t.Fatalf("got %d submits, want 2", len(sms))
	}
	for i, sm := range sms {
		udh := []byte{0x05, 0x00, 0x03, 0xA7, 0x02, byte(i + 1)}
		if !bytes.HasPrefix(sm.Message, udh) || sm.ESMClass != pdu.ESMClassUDHI || sm.DataCoding != 0 {
			t.Errorf("segment %d: msg % X esm %#x, want UDH % X and esm 0x40", i+1, sm.Message[:8], sm.ESMClass, udh)
		}
	}
	if len(sms[0].Message) != 6+152 || !bytes.Equal(sms[1].Message[6:8], []byte{0x1B, 0x28}) {
		t.Errorf("segment 1 has %d octets, segment 2 starts % X; want 158 and the whole escape pair in segment 2", len(sms[0].Message), sms[1].Message[6:8])
	}
	if got := reassemble(t, sms); got != text {
		t.Errorf("reassembled %q, want %q", got, text)
	}
}

func TestBuildSubmitsUCS2EmojiAcrossBoundary(t *testing.T) {
	text := strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 10)
	sms := MustBuild(t, text, SubmitOptions{Ref: 7, RegisteredDelivery: true})
	if len(sms) != 3 {
		t.Fatalf("got %d submits, want 3", len(sms))
	}
	wantLens := []int{6 + 66*2, 6 + 67*2, 6 + 13*2} // part 1 stops before the emoji; part 2 starts with it
	for i, sm := range sms {
		if sm.DataCoding != 0x08 || sm.RegisteredDelivery != 1 || len(sm.Message) != wantLens[i] {
			t.Errorf("segment %d: dc %#x reg %d len %d, want dc 0x08 reg 1 len %d", i+1, sm.DataCoding, sm.RegisteredDelivery, len(sm.Message), wantLens[i])
		}
		if _, err := coding.Decode(0x08, sm.Message[6:]); err != nil {
			t.Errorf("segment %d does not decode on its own (split surrogate pair?): %v", i+1, err)
		}
		if sm.Message[5] != byte(i+1) || sm.Message[4] != 3 || sm.Message[3] != 7 {
			t.Errorf("segment %d UDH = % X", i+1, sm.Message[:6])
		}
	}
	if !bytes.HasPrefix(sms[1].Message[6:], []byte{0xD8, 0x3D, 0xDE, 0x00}) {
		t.Errorf("segment 2 starts % X, want the emoji D83D DE00", sms[1].Message[6:10])
	}
	if got := reassemble(t, sms); got != text {
		t.Errorf("reassembled text differs:\n got %q\nwant %q", got, text)
	}
}

func TestBuildSubmitsUDH16(t *testing.T) {
	sms := MustBuild(t, strings.Repeat("x", 305), SubmitOptions{Long: LongUDH16, Ref: 0x1234})
	if len(sms) != 3 {
		t.Fatalf("got %d submits, want 3 (152+152+1)", len(sms))
	}
	if !bytes.HasPrefix(sms[1].Message, []byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02}) || len(sms[0].Message) != 7+152 {
		t.Errorf("segment 2 UDH % X, segment 1 %d octets", sms[1].Message[:7], len(sms[0].Message))
	}
	in, err := ParseInbound(wireRoundTrip(t, sms[2]), InboundOptions{})
	if err != nil || in.Concat == nil || *in.Concat != (coding.Concat{Ref: 0x1234, Total: 3, Seq: 3, Wide: true}) || string(in.Payload) != "x" {
		t.Errorf("ParseInbound(segment 3) = %+v, %v", in, err)
	}
}

func TestBuildSubmitsSAR(t *testing.T) {
	text := strings.Repeat("s", 200)
	sms := MustBuild(t, text, SubmitOptions{Long: LongSAR, Ref: 0xBEEF})
	if len(sms) != 2 {
		t.Fatalf("got %d submits, want 2", len(sms))
	}
	for i, sm := range sms {
		ref, _ := sm.TLVs.Uint16(pdu.TagSARMsgRefNum)
		total, _ := sm.TLVs.Uint8(pdu.TagSARTotalSegments)
		seq, _ := sm.TLVs.Uint8(pdu.TagSARSegmentSeqnum)
		if ref != 0xBEEF || total != 2 || int(seq) != i+1 || sm.ESMClass != 0 {
			t.Errorf("segment %d: SAR ref %#x total %d seq %d esm %#x", i+1, ref, total, seq, sm.ESMClass)
		}
	}
	if len(sms[0].Message) != 152 || sms[0].Message[0] != 's' {
		t.Errorf("segment 1 = %d octets starting %q, want 152 octets of text without UDH", len(sms[0].Message), sms[0].Message[:1])
	}
	if got := reassemble(t, sms); got != text {
		t.Errorf("reassembled %q, want %q", got, text)
	}
}

func TestBuildSubmitsPayload(t *testing.T) {
	text := strings.Repeat("p", 400) + "€"
	sms := MustBuild(t, text, SubmitOptions{Long: LongPayload, MaxParts: 3})
	if len(sms) != 1 {
		t.Fatalf("got %d submits, want 1", len(sms))
	}
	sm := sms[0]
	payload, ok := sm.TLVs.Get(pdu.TagMessagePayload)
	if !ok || len(sm.Message) != 0 || sm.ESMClass != 0 || len(payload) != 402 {
		t.Fatalf("payload submit: short_message %d octets, payload %d octets (ok %v), esm %#x", len(sm.Message), len(payload), ok, sm.ESMClass)
	}
	in, err := ParseInbound(wireRoundTrip(t, sm), InboundOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := in.Text(); err != nil || got != text || in.Concat != nil {
		t.Errorf("inbound payload = %q, %v, concat %+v", got, err, in.Concat)
	}
}

func TestBuildSubmitsMaxParts(t *testing.T) {
	text := strings.Repeat("m", 153*3+1)
	for _, mode := range []LongMode{LongUDH, LongUDH16, LongSAR, LongPayload} {
		_, err := BuildSubmits(testSrc, testDst, text, SubmitOptions{Long: mode, MaxParts: 3})
		if !errors.Is(err, ErrTooManyParts) {
			t.Errorf("%v: 4-part text with MaxParts 3: error = %v, want ErrTooManyParts", mode, err)
		}
	}
	if sms, err := BuildSubmits(testSrc, testDst, text, SubmitOptions{MaxParts: 4}); err != nil || len(sms) != 4 {
		t.Errorf("MaxParts 4: %d submits, %v", len(sms), err)
	}
	if _, err := BuildSubmits(testSrc, testDst, strings.Repeat("m", 153*255+1), SubmitOptions{}); !errors.Is(err, ErrTooManyParts) {
		t.Errorf("256 parts with MaxParts 0: error = %v, want ErrTooManyParts", err)
	}
}

func TestBuildSubmitsInvalidUTF8(t *testing.T) {
	if _, err := BuildSubmits(testSrc, testDst, "bad \xff", SubmitOptions{}); !errors.Is(err, coding.ErrInvalidUTF8) {
		t.Errorf("error = %v, want coding.ErrInvalidUTF8", err)
	}
}

func TestParseInboundReceipts(t *testing.T) {
	text := "id:4097 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hi"
	ucs2 := func(s string) []byte {
		var b []byte
		for _, c := range []byte(s) {
			b = append(b, 0, c)
		}
		return b
	}
	withTLVs := func(sm pdu.ShortMessage, f func(*pdu.TLVs)) pdu.ShortMessage { f(&sm.TLVs); return sm }
	tests := []struct {
		name  string
		sm    pdu.ShortMessage
		id    string
		state dlr.State
		ms    int
		err   error
	}{
		{"text form", pdu.ShortMessage{ESMClass: 0x04, Message: []byte(text)}, "4097", dlr.Delivered, -1, nil},
		{"TLV form wins", withTLVs(pdu.ShortMessage{ESMClass: 0x04, Message: []byte("id:0 stat:DELIVRD")}, func(t *pdu.TLVs) {
			t.SetString(pdu.TagReceiptedMessageID, "00001001")
			t.SetUint8(pdu.TagMessageState, 5)
		}), "00001001", dlr.Failed, 5, nil},
		{"TLV only", withTLVs(pdu.ShortMessage{ESMClass: 0x04}, func(t *pdu.TLVs) {
			t.SetString(pdu.TagReceiptedMessageID, "abc")
			t.SetUint8(pdu.TagMessageState, 6)
		}), "abc", dlr.Intermediate, 6, nil},
		{"UCS2-flagged ASCII", pdu.ShortMessage{ESMClass: 0x04, DataCoding: 0x08, Message: []byte(text)}, "4097", dlr.Delivered, -1, nil},
		{"UCS2-flagged UTF-16", pdu.ShortMessage{ESMClass: 0x04, DataCoding: 0x08, Message: ucs2(text)}, "4097", dlr.Delivered, -1, nil},
		{"in message_payload", withTLVs(pdu.ShortMessage{ESMClass: 0x04}, func(t *pdu.TLVs) {
			t.Set(pdu.TagMessagePayload, []byte(text))
		}), "4097", dlr.Delivered, -1, nil},
		{"intermediate notification", pdu.ShortMessage{ESMClass: 0x20, Message: []byte("id:9 stat:ENROUTE")}, "9", dlr.Intermediate, -1, nil},
		{"SME ack", pdu.ShortMessage{ESMClass: 0x08, Message: []byte("id:9 stat:DELIVRD")}, "9", dlr.Delivered, -1, nil},
		{"with UDHI (0x44)", pdu.ShortMessage{ESMClass: 0x44, Message: append([]byte{0x00}, text...)}, "4097", dlr.Delivered, -1, nil},
		{"store-and-forward mode bits", pdu.ShortMessage{ESMClass: 0x07, Message: []byte(text)}, "4097", dlr.Delivered, -1, nil},
		{"flag missing, text fallback", pdu.ShortMessage{ESMClass: 0x00, Message: []byte(text)}, "4097", dlr.Delivered, -1, nil},
		{"no id", pdu.ShortMessage{ESMClass: 0x04, Message: []byte("stat:DELIVRD")}, "", dlr.Delivered, -1, dlr.ErrNoID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := tt.sm
			// TextReceipts for "flag missing, text fallback"; the other
			// cases are receipts by their esm_class.
			in, err := ParseInbound(wireRoundTrip(t, &sm), InboundOptions{TextReceipts: true})
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("ParseInbound error = %v, want %v", err, tt.err)
			}
			if in.Receipt == nil {
				t.Fatalf("ParseInbound = %+v, want a receipt", in)
			}
			r := in.Receipt
			if r.ID != tt.id || r.State != tt.state || r.MessageState != tt.ms || in.Concat != nil {
				t.Errorf("receipt = %+v, want id %q state %v message_state %d", *r, tt.id, tt.state, tt.ms)
			}
		})
	}
}

func TestParseInboundMO(t *testing.T) {
	udhMsg := append([]byte{0x05, 0x00, 0x03, 0x42, 0x02, 0x01}, "hello"...)
	tests := []struct {
		name   string
		sm     pdu.ShortMessage
		text   string
		concat *coding.Concat
		err    error
	}{
		{"plain GSM with @", pdu.ShortMessage{Message: []byte{'a', 0x00, 'b', 0x1B, 0x65}}, "a@b€", nil, nil},
		{"UDH in short_message", pdu.ShortMessage{ESMClass: 0x40, Message: udhMsg}, "hello", &coding.Concat{Ref: 0x42, Total: 2, Seq: 1}, nil},
		{"UDH in message_payload", func() pdu.ShortMessage {
			sm := pdu.ShortMessage{ESMClass: 0x40}
			sm.TLVs.Set(pdu.TagMessagePayload, udhMsg)
			return sm
		}(), "hello", &coding.Concat{Ref: 0x42, Total: 2, Seq: 1}, nil},
		{"SAR TLVs", func() pdu.ShortMessage {
			sm := pdu.ShortMessage{Message: []byte("part")}
			sm.TLVs.SetUint16(pdu.TagSARMsgRefNum, 0x0102)
			sm.TLVs.SetUint8(pdu.TagSARTotalSegments, 3)
			sm.TLVs.SetUint8(pdu.TagSARSegmentSeqnum, 3)
			return sm
		}(), "part", &coding.Concat{Ref: 0x0102, Total: 3, Seq: 3, Wide: true}, nil},
		{"SAR seq beyond total ignored", func() pdu.ShortMessage {
			sm := pdu.ShortMessage{Message: []byte("part")}
			sm.TLVs.SetUint16(pdu.TagSARMsgRefNum, 1)
			sm.TLVs.SetUint8(pdu.TagSARTotalSegments, 2)
			sm.TLVs.SetUint8(pdu.TagSARSegmentSeqnum, 3)
			return sm
		}(), "part", nil, nil},
		{"1 of 1 is single", pdu.ShortMessage{ESMClass: 0x40, Message: []byte{0x05, 0x00, 0x03, 0x01, 0x01, 0x01, 'x'}}, "x", nil, nil},
		{"UCS2", pdu.ShortMessage{DataCoding: 0x08, Message: []byte{0x04, 0x3F, 0xD8, 0x3D, 0xDE, 0x00}}, "п😀", nil, nil},
		{"text mentioning id: is not a receipt", pdu.ShortMessage{Message: []byte("my id: 5, stat: ok")}, "my id: 5, stat: ok", nil, nil},
		{"user ack type is not a receipt", pdu.ShortMessage{ESMClass: 0x10, Message: []byte("id:1 stat:DELIVRD")}, "id:1 stat:DELIVRD", nil, nil},
		{"malformed UDH", pdu.ShortMessage{ESMClass: 0x40, Message: []byte{0x09, 0x00, 0x03, 0x01}}, "", nil, coding.ErrUDH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := tt.sm
			in, err := ParseInbound(wireRoundTrip(t, &sm), InboundOptions{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseInbound error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || in.Receipt != nil {
				t.Fatalf("ParseInbound = %+v, %v; want an MO", in, err)
			}
			if (in.Concat == nil) != (tt.concat == nil) || in.Concat != nil && *in.Concat != *tt.concat {
				t.Errorf("Concat = %+v, want %+v", in.Concat, tt.concat)
			}
			if got, err := in.Text(); err != nil || got != tt.text {
				t.Errorf("Text() = %q, %v, want %q", got, err, tt.text)
			}
		})
	}
}

func TestParseLongMode(t *testing.T) {
	for _, m := range []LongMode{LongUDH, LongUDH16, LongSAR, LongPayload} {
		got, err := ParseLongMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseLongMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseLongMode("split"); err == nil {
		t.Error("ParseLongMode(\"split\") succeeded, want an error")
	}
}

func FuzzParseInbound(f *testing.F) {
	f.Add(uint8(0x04), uint8(0x08), []byte("id:1 stat:DELIVRD"), []byte(nil))
	f.Add(uint8(0x40), uint8(0x00), []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 'h'}, []byte(nil))
	f.Add(uint8(0x40), uint8(0x08), []byte(nil), []byte{0x06, 0x08, 0x04, 0x00, 0x01, 0x02, 0x02, 0xD8, 0x3D})
	alphabets := []coding.Alphabet{{}, packedDC0, latin1DC0, asciiDC0}
	f.Fuzz(func(t *testing.T, esm, dc uint8, msg, payload []byte) {
		sm := &pdu.ShortMessage{ESMClass: esm, DataCoding: dc, Message: msg}
		if payload != nil {
			sm.TLVs.Set(pdu.TagMessagePayload, payload)
		}
		in, err := ParseInbound(sm, InboundOptions{TextReceipts: esm&1 != 0, Alphabet: alphabets[int(dc)%len(alphabets)]})
		if err != nil && !errors.Is(err, coding.ErrUDH) && !errors.Is(err, dlr.ErrNoID) {
			t.Fatalf("ParseInbound error %v is neither ErrUDH nor ErrNoID", err)
		}
		if in.Concat != nil && (in.Concat.Seq < 1 || in.Concat.Seq > in.Concat.Total || in.Concat.Total < 2) {
			t.Fatalf("Concat = %+v out of range", in.Concat)
		}
		_, _ = in.Text()
	})
}
