package pdu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// frame builds a PDU from a header and a hex body, computing command_length.
func frame(t testing.TB, id CommandID, st Status, seq uint32, bodyHex string) []byte {
	t.Helper()
	body, err := parseHex(bodyHex)
	if err != nil {
		t.Fatalf("bad hex %q: %v", bodyHex, err)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(HeaderLength+len(body)))
	b = binary.BigEndian.AppendUint32(b, uint32(id))
	b = binary.BigEndian.AppendUint32(b, uint32(st))
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, body...)
}

func hexStr(s string) string { return hexOf([]byte(s)) }

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// sm returns a submit_sm/deliver_sm body in hex with the given source and
// destination C-strings (hex, NUL included by the caller) and tail (from
// esm_class on).
func smBody(src, dst, tail string) string {
	return "00 01 01 " + src + " 01 01 " + dst + " " + tail
}

const smTail = "00 00 00 00 00 00 00 00 00" // esm pid prio sched validity reg replace dc default

func TestDecodeErrors(t *testing.T) {
	long21 := hexStr(strings.Repeat("1", 21))
	tests := []struct {
		name     string
		in       []byte
		status   Status
		headerOK bool
		sentinel error
	}{
		{"shorter than header", []byte{0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0}, StatusInvCmdLen, false, ErrCommandLength},
		{"length mismatch", append(frame(t, EnquireLink, 0, 1, ""), 0), StatusInvCmdLen, false, ErrCommandLength},
		{"unknown command", frame(t, 0x123, 0, 4, ""), StatusInvCmdID, true, ErrUnknownCommand},
		{"unknown command with body", frame(t, 0x123, 0, 4, "01 02 03"), StatusInvCmdID, true, ErrUnknownCommand},
		{"reserved response id", frame(t, 0x8000000B, 0, 4, ""), StatusInvCmdID, true, ErrUnknownCommand},
		{"submit_sm empty body", frame(t, SubmitSM, 0, 1, ""), StatusInvCmdLen, true, ErrTruncated},
		{"source_addr too long", frame(t, SubmitSM, 0, 1, smBody(long21+"00", "3100", smTail+" 00")),
			StatusInvSrcAdr, true, ErrFieldTooLong},
		{"destination_addr too long", frame(t, SubmitSM, 0, 1, smBody("3100", long21+"00", smTail+" 00")),
			StatusInvDstAdr, true, ErrFieldTooLong},
		{"destination_addr without NUL", frame(t, SubmitSM, 0, 1, smBody("3100", "3132", "")),
			StatusInvCmdLen, true, ErrTruncated},
		{"missing sm_length", frame(t, SubmitSM, 0, 1, smBody("3100", "3100", smTail)),
			StatusInvCmdLen, true, ErrTruncated},
		{"sm_length beyond body", frame(t, SubmitSM, 0, 1, smBody("3100", "3100", smTail+" 05 41 42")),
			StatusInvMsgLen, true, ErrTruncated},
		{"sm_length 255", frame(t, SubmitSM, 0, 1, smBody("3100", "3100", smTail+" ff "+strings.Repeat("41", 255))),
			StatusInvMsgLen, true, ErrFieldTooLong},
		{"TLV length beyond body", frame(t, SubmitSM, 0, 1, smBody("3100", "3100", smTail+" 00 0204 0003 0001")),
			StatusInvParLen, true, ErrBadTLV},
		{"TLV stream with stray octets", frame(t, SubmitSM, 0, 1, smBody("3100", "3100", smTail+" 00 0204 0002 0001 00 00")),
			StatusInvOptParStream, true, ErrBadTLV},
		{"one stray non-NUL octet", frame(t, DeliverSM, 0, 1, smBody("3100", "3100", smTail+" 01 41 07")),
			StatusInvOptParStream, true, ErrBadTLV},
		{"service_type too long", frame(t, SubmitSM, 0, 1, "434d5458585800"),
			StatusInvSerTyp, true, ErrFieldTooLong},
		{"schedule_delivery_time too long", frame(t, SubmitSM, 0, 1,
			smBody("3100", "3100", "00 00 00 "+hexStr(strings.Repeat("0", 17))+"00 00 00 00 00 00 00")),
			StatusInvSched, true, ErrFieldTooLong},
		{"validity_period too long", frame(t, SubmitSM, 0, 1,
			smBody("3100", "3100", "00 00 00 00 "+hexStr(strings.Repeat("0", 17))+"00 00 00 00 00 00")),
			StatusInvExpiry, true, ErrFieldTooLong},
		{"system_id too long", frame(t, BindTransceiver, 0, 1, hexStr(strings.Repeat("a", 16))+"00 00 00 34 00 00 00"),
			StatusInvSysID, true, ErrFieldTooLong},
		{"password too long", frame(t, BindTransceiver, 0, 1, "6100"+hexStr("123456789")+"00 00 34 00 00 00"),
			StatusInvPaswd, true, ErrFieldTooLong},
		{"system_type too long", frame(t, BindTransceiver, 0, 1, "6100 6100"+hexStr(strings.Repeat("s", 13))+"00 34 00 00 00"),
			StatusInvSysTyp, true, ErrFieldTooLong},
		{"address_range too long", frame(t, BindReceiver, 0, 1, "6100 6100 00 34 00 00"+hexStr(strings.Repeat("9", 41))+"00"),
			StatusBindFail, true, ErrFieldTooLong},
		{"bind trailing octet", frame(t, BindTransceiver, 0, 1, "6100 6100 00 34 00 00 00 00"),
			StatusInvCmdLen, true, ErrTrailingData},
		{"bind truncated", frame(t, BindTransceiver, 0, 1, "6100 6100 00 34"),
			StatusInvCmdLen, true, ErrTruncated},
		{"enquire_link with body", frame(t, EnquireLink, 0, 1, "00"), StatusInvCmdLen, true, ErrTrailingData},
		{"unbind_resp ok with body", frame(t, UnbindResp, 0, 1, "00"), StatusInvCmdLen, true, ErrTrailingData},
		{"submit_sm_resp ok without NUL", frame(t, SubmitSMResp, 0, 1, "3132"), StatusInvCmdLen, true, ErrTruncated},
		{"message_id too long", frame(t, SubmitSMResp, 0, 1, hexStr(strings.Repeat("9", 65))+"00"),
			StatusInvMsgID, true, ErrFieldTooLong},
		{"query_sm message_id too long", frame(t, QuerySM, 0, 1, hexStr(strings.Repeat("9", 65))+"00 00 00 00"),
			StatusInvMsgID, true, ErrFieldTooLong},
		{"data_sm source_addr too long", frame(t, DataSM, 0, 1, "00 01 01"+hexStr(strings.Repeat("1", 65))+"00 00 00 00 00 00 00"),
			StatusInvSrcAdr, true, ErrFieldTooLong},
		{"submit_multi bad dest_flag", frame(t, SubmitMulti, 0, 1, "00 00 00 3100 01 03 01 01 3100"+smTail+" 00"),
			StatusInvDestFlag, true, ErrBadValue},
		{"submit_multi 255 dests", frame(t, SubmitMulti, 0, 1, "00 00 00 3100 ff"+strings.Repeat("02 00", 255)+smTail+" 00"),
			StatusInvNumDests, true, ErrFieldTooLong},
		{"submit_multi dests beyond body", frame(t, SubmitMulti, 0, 1, "00 00 00 3100 10 01 01 01 3100"),
			StatusInvNumDests, true, ErrTruncated},
		{"submit_multi_resp no_unsuccess beyond body", frame(t, SubmitMultiResp, 0, 1, "00 05 01 01 3100 00000000"),
			StatusInvCmdLen, true, ErrTruncated},
		{"query_sm_resp trailing", frame(t, QuerySMResp, 0, 1, "3100 00 02 00 00"),
			StatusInvCmdLen, true, ErrTrailingData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.in)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(% x) error = %v, want *DecodeError", tc.in, err)
			}
			if de.Status != tc.status || de.HeaderOK != tc.headerOK {
				t.Errorf("Decode = status %s headerOK %v, want %s %v (%v)", de.Status, de.HeaderOK, tc.status, tc.headerOK, err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("Decode error %v does not wrap %v", err, tc.sentinel)
			}
			if !strings.HasPrefix(err.Error(), "pdu: ") {
				t.Errorf("error %q lacks the pdu: prefix", err)
			}
			if tc.headerOK {
				if p == nil || p.Body != nil || p.Header != de.Header {
					t.Errorf("Decode PDU = %+v, want header-only %+v", p, de.Header)
				}
				if de.Header.Seq != binary.BigEndian.Uint32(tc.in[12:]) {
					t.Errorf("DecodeError.Header.Seq = %d, want the PDU's", de.Header.Seq)
				}
			} else if p != nil {
				t.Errorf("Decode PDU = %+v, want nil when the header is unusable", p)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want *PDU
	}{
		{"error resp with unparsable body", frame(t, SubmitSMResp, StatusSubmitFail, 3, "ff ff"),
			&PDU{Header: hdr(SubmitSMResp, StatusSubmitFail, 3)}},
		{"generic_nack with body", frame(t, GenericNack, StatusInvCmdLen, 0, "00 00"),
			&PDU{Header: hdr(GenericNack, StatusInvCmdLen, 0)}},
		{"ok submit_sm_resp without body", frame(t, SubmitSMResp, 0, 3, ""),
			&PDU{Header: hdr(SubmitSMResp, 0, 3)}},
		{"ok deliver_sm_resp without body", frame(t, DeliverSMResp, 0, 3, ""),
			&PDU{Header: hdr(DeliverSMResp, 0, 3)}},
		{"error bind_resp 1-octet body", frame(t, BindTransceiverResp, StatusInvSysTyp, 1, "00"),
			&PDU{Header: hdr(BindTransceiverResp, StatusInvSysTyp, 1), Body: &BindResp{}}},
		{"stray NUL after short_message", frame(t, DeliverSM, 0, 9, smBody("3100", "3200", smTail+" 02 4869 00")),
			&PDU{Header: hdr(DeliverSM, 0, 9), Body: &ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "1",
				DestTON: 1, DestNPI: 1, DestAddr: "2", Message: []byte("Hi")}}},
		{"empty TLV value", frame(t, SubmitSM, 0, 9, smBody("00", "00", smTail+" 00 130c 0000")),
			&PDU{Header: hdr(SubmitSM, 0, 9), Body: &ShortMessage{SourceTON: 1, SourceNPI: 1, DestTON: 1, DestNPI: 1,
				TLVs: TLVs{{Tag: TagAlertOnMessageDelivery}}}}},
		{"duplicate TLV kept", frame(t, DeliverSM, 0, 9, smBody("00", "00", smTail+" 00 1401 0001 01 1401 0001 02")),
			&PDU{Header: hdr(DeliverSM, 0, 9), Body: &ShortMessage{SourceTON: 1, SourceNPI: 1, DestTON: 1, DestNPI: 1,
				TLVs: TLVs{{Tag: 0x1401, Value: []byte{1}}, {Tag: 0x1401, Value: []byte{2}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if err != nil {
				t.Fatalf("Decode(% x) error %v", tc.in, err)
			}
			want := *tc.want
			want.Length = uint32(len(tc.in))
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("Decode(% x) =\n%s\nwant\n%s", tc.in, describe(got), describe(&want))
			}
		})
	}
}

func TestDecodeMaxLengthStrings(t *testing.T) {
	// Strings of exactly max-1 characters decode and re-encode.
	m := &ShortMessage{ServiceType: "12345", SourceAddr: strings.Repeat("1", 20), DestAddr: strings.Repeat("2", 20),
		ScheduleDeliveryTime: strings.Repeat("0", 16), ValidityPeriod: strings.Repeat("0", 16),
		Message: bytes.Repeat([]byte{0}, 254)}
	p := &PDU{Header: hdr(SubmitSM, 0, 1), Body: m}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	p.Length = uint32(len(b))
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Decode = %s, want %s", describe(got), describe(p))
	}
}

// TestDecodeDoesNotAlias checks that the result shares nothing with the
// input slice.
func TestDecodeDoesNotAlias(t *testing.T) {
	in := MustReadHex(t, "testdata/deliver_sm_receipt.hex")
	p, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(bytes.Clone(in))
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0xEE
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("after overwriting the input, Decode result changed to %s", describe(p))
	}
	// Appending to Message must not overwrite the TLVs that follow it.
	m := p.Body.(*ShortMessage)
	_ = append(m.Message, "XXXXXXXXXXXX"...)
	if id, _ := m.TLVs.String(TagReceiptedMessageID); id != "4097" {
		t.Errorf("append to Message clobbered receipted_message_id: %q", id)
	}
	// Writing into Message must not change string fields.
	src := m.SourceAddr
	for i := range m.Message {
		m.Message[i] = 'z'
	}
	if m.SourceAddr != src || m.SourceAddr != "15550002222" {
		t.Errorf("SourceAddr = %q after writing Message", m.SourceAddr)
	}
}

func TestUnknownCommandAnswer(t *testing.T) {
	// smpp.md §1.6: unknown command 0x123 with seq 4 is answered with
	// generic_nack ESME_RINVCMDID echoing seq 4.
	p, err := Decode(frame(t, 0x123, 0, 4, ""))
	var de *DecodeError
	if !errors.As(err, &de) || de.Status != StatusInvCmdID {
		t.Fatalf("Decode error = %v, want DecodeError ESME_RINVCMDID", err)
	}
	got, err := NewGenericNack(p.Seq, de.Status).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := MustReadHex(t, "testdata/generic_nack.hex"); !bytes.Equal(got, want) {
		t.Errorf("generic_nack = % x, want % x", got, want)
	}
}
