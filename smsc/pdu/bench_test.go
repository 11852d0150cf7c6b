package pdu

import (
	"bytes"
	"testing"
)

// text160 is a 160-character GSM 03.38 (unpacked) message.
var text160 = bytes.Repeat([]byte("0123456789abcdef"), 10)

var benchSubmit = &PDU{Header: hdr(SubmitSM, 0, 12345), Body: &ShortMessage{
	SourceTON: 5, SourceAddr: "Acme", DestTON: 1, DestNPI: 1, DestAddr: "4915112345678",
	RegisteredDelivery: RegisteredDeliveryReceipt, Message: text160,
}}

var benchDeliver = &PDU{Header: hdr(DeliverSM, 0, 54321), Body: &ShortMessage{
	SourceTON: 1, SourceNPI: 1, SourceAddr: "4915112345678", DestTON: 1, DestNPI: 1, DestAddr: "4242",
	Message: text160, TLVs: TLVs{{TagUserMessageReference, []byte{0, 1}}},
}}

func benchDecode(b *testing.B, p *PDU) {
	raw, err := p.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEncode(b *testing.B, p *PDU) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeSubmitSM(b *testing.B)  { benchDecode(b, benchSubmit) }
func BenchmarkEncodeSubmitSM(b *testing.B)  { benchEncode(b, benchSubmit) }
func BenchmarkDecodeDeliverSM(b *testing.B) { benchDecode(b, benchDeliver) }
func BenchmarkEncodeDeliverSM(b *testing.B) { benchEncode(b, benchDeliver) }

func BenchmarkDecodeReceipt(b *testing.B) {
	raw := MustReadHex(b, "testdata/deliver_sm_receipt.hex")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	raw, _ := benchDeliver.MarshalBinary()
	r := bytes.NewReader(raw)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		if _, err := Read(r, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeliverSMLenient is the ESME's read path: lenient decoding
// of a conforming deliver_sm costs what strict decoding does.
func BenchmarkDecodeDeliverSMLenient(b *testing.B) {
	raw, _ := benchDeliver.MarshalBinary()
	o := DecodeOptions{Lenient: true, Tolerated: func(Header, error) { b.Fatal("tolerated") }}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
