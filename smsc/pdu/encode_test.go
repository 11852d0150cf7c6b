package pdu

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		p        *PDU
		sentinel error
	}{
		{"system_id too long", &PDU{Header: hdr(BindTransceiver, 0, 1), Body: &Bind{SystemID: strings.Repeat("a", 16)}}, ErrFieldTooLong},
		{"password too long", &PDU{Header: hdr(BindTransmitter, 0, 1), Body: &Bind{Password: "123456789"}}, ErrFieldTooLong},
		{"NUL in string", &PDU{Header: hdr(SubmitSM, 0, 1), Body: &ShortMessage{SourceAddr: "12\x003"}}, ErrBadValue},
		{"short_message too long", &PDU{Header: hdr(SubmitSM, 0, 1), Body: &ShortMessage{Message: make([]byte, 255)}}, ErrFieldTooLong},
		{"validity too long", &PDU{Header: hdr(SubmitSM, 0, 1), Body: &ShortMessage{ValidityPeriod: strings.Repeat("0", 17)}}, ErrFieldTooLong},
		{"TLV too long", &PDU{Header: hdr(DataSM, 0, 1), Body: &DataSMBody{TLVs: TLVs{{Tag: TagMessagePayload, Value: make([]byte, 65536)}}}}, ErrFieldTooLong},
		{"body for wrong command", &PDU{Header: hdr(DeliverSMResp, 0, 1), Body: &ShortMessage{}}, ErrBodyMismatch},
		{"bind body on bind_resp", &PDU{Header: hdr(BindTransceiverResp, 0, 1), Body: &Bind{}}, ErrBodyMismatch},
		{"body on enquire_link", &PDU{Header: hdr(EnquireLink, 0, 1), Body: &MessageResp{}}, ErrBodyMismatch},
		{"too many dests", &PDU{Header: hdr(SubmitMulti, 0, 1), Body: &SubmitMultiBody{Dests: make([]MultiDest, 255)}}, ErrFieldTooLong},
		{"bad dest_flag", &PDU{Header: hdr(SubmitMulti, 0, 1), Body: &SubmitMultiBody{Dests: []MultiDest{{Flag: 3}}}}, ErrBadValue},
		{"too many unsuccess", &PDU{Header: hdr(SubmitMultiResp, 0, 1), Body: &SubmitMultiRespBody{Unsuccess: make([]UnsuccessSME, 256)}}, ErrFieldTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			b, err := tc.p.AppendBinary(prefix)
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("AppendBinary error = %v, want %v", err, tc.sentinel)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "pdu: ") {
				t.Errorf("error %q lacks the pdu: prefix", err)
			}
			if string(b) != "keep" {
				t.Errorf("AppendBinary on error returned % x, want the input unchanged", b)
			}
		})
	}
}

func TestEncodeIgnoresLengthAndAppends(t *testing.T) {
	p := &PDU{Header: Header{Length: 999, ID: EnquireLink, Seq: 3}}
	b, err := p.AppendBinary([]byte{0xAA})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0xAA}, MustReadHex(t, "testdata/enquire_link.hex")...)
	if !bytes.Equal(b, want) {
		t.Errorf("AppendBinary = % x, want % x", b, want)
	}
}

func TestEncodeUnknownCommandHeaderOnly(t *testing.T) {
	b, err := (&PDU{Header: hdr(0x123, 0, 4)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(t, 0x123, 0, 4, ""); !bytes.Equal(b, want) {
		t.Errorf("MarshalBinary = % x, want % x", b, want)
	}
}

func TestNewResponse(t *testing.T) {
	req := &PDU{Header: hdr(SubmitSM, 0, 77), Body: &ShortMessage{}}
	got := NewResponse(req, StatusThrottled, nil)
	if got.ID != SubmitSMResp || got.Seq != 77 || got.Status != StatusThrottled || got.Body != nil {
		t.Errorf("NewResponse = %+v, want submit_sm_resp seq 77 ESME_RTHROTTLED no body", got)
	}
	resp := NewResponse(&PDU{Header: hdr(DeliverSM, 0, 2)}, StatusOK, &MessageResp{})
	b, err := resp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := MustReadHex(t, "testdata/deliver_sm_resp.hex"); !bytes.Equal(b, want) {
		t.Errorf("deliver_sm_resp = % x, want % x", b, want)
	}
}

type shortWriter struct{ bytes.Buffer }

func (w *shortWriter) Write(b []byte) (int, error) {
	w.Buffer.Write(b)
	return len(b), errors.New("boom")
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	for _, name := range []string{"submit_sm", "enquire_link", "deliver_sm_receipt"} {
		p, err := Decode(MustReadHex(t, "testdata/"+name+".hex"))
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(&buf, p); err != nil {
			t.Fatalf("Write(%s): %v", name, err)
		}
	}
	var want []byte
	for _, name := range []string{"submit_sm", "enquire_link", "deliver_sm_receipt"} {
		want = append(want, MustReadHex(t, "testdata/"+name+".hex")...)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Write stream = % x, want % x", buf.Bytes(), want)
	}
	if err := Write(&shortWriter{}, NewGenericNack(1, StatusInvCmdLen)); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Write to failing writer = %v, want the writer's error", err)
	}
	if err := Write(&buf, &PDU{Header: hdr(EnquireLink, 0, 1), Body: &Bind{}}); !errors.Is(err, ErrBodyMismatch) {
		t.Errorf("Write of bad PDU = %v, want ErrBodyMismatch", err)
	}
}
