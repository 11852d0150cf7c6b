package pdu

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that whatever decodes
// re-encodes and decodes again to an equal value, and that the re-encoding
// is byte-exact except for the documented leniency.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("testdata/*.hex")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range append(files, captureFiles(f)...) {
		f.Add(MustReadHex(f, name))
	}
	for _, seed := range append(regressionSeeds, lenientSeeds...) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		checkReadAgrees(t, b, p, err)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error %v is not a *DecodeError", err)
			}
			if de.HeaderOK != (p != nil) || (p != nil && p.Body != nil) {
				t.Fatalf("Decode error with PDU %+v, HeaderOK %v", p, de.HeaderOK)
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %s but cannot re-encode: %v", describe(p), err)
		}
		if !bytes.Equal(enc, b) && !lenient(p, b, enc) {
			t.Fatalf("re-encoding differs:\n in  % x\n out % x", b, enc)
		}
		p2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v\n% x", err, enc)
		}
		p.Length = p2.Length
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the PDU:\n%s\n%s", describe(p), describe(p2))
		}
	})
}

// lenient reports whether enc may differ from the input b: an error
// response whose body was dropped, or a stray NUL after short_message.
func lenient(p *PDU, b, enc []byte) bool {
	if p.ID.IsResponse() && p.Status != StatusOK && p.Body == nil {
		return true
	}
	_, sm := p.Body.(*ShortMessage)
	return sm && len(b) == len(enc)+1 && b[len(b)-1] == 0
}

// checkReadAgrees checks Read on the same octets gives the same result.
func checkReadAgrees(t *testing.T, b []byte, p *PDU, err error) {
	t.Helper()
	rp, rerr := Read(bytes.NewReader(b), 0)
	if (err == nil) != (rerr == nil) && len(b) >= HeaderLength && len(b) <= DefaultMaxLength {
		// Read only sees command_length octets; trailing input is not its concern.
		if uint32(len(b)) == parseHeader(b).Length {
			t.Fatalf("Decode err %v, Read err %v", err, rerr)
		}
	}
	if err == nil && rerr == nil && !reflect.DeepEqual(p, rp) {
		t.Fatalf("Read = %s, Decode = %s", describe(rp), describe(p))
	}
}

// regressionSeeds are inputs the fuzzer found or that probe edges.
var regressionSeeds = [][]byte{
	// deliver_sm with a stray NUL after short_message.
	{0, 0, 0, 0x22, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'A', 0, 0},
	// submit_multi_resp with one unsuccessful destination.
	{0, 0, 0, 0x1a, 0x80, 0, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, '1', 0, 0, 0, 0, 0x0b},
}

// FuzzRoundTrip builds submit_sm/deliver_sm PDUs from arbitrary field values:
// encoding must fail exactly when a field breaks its limit, and whatever
// encodes must decode to an equal value.
func FuzzRoundTrip(f *testing.F) {
	f.Add(true, "", "12345", "15550002222", uint8(0), uint8(0), "", []byte("Hi @"), uint16(0x1E), []byte("4097\x00"))
	f.Add(false, "CMT", "Acme", "4915112345678", uint8(0x40), uint8(8), "000001000000000R",
		[]byte{5, 0, 3, 1, 2, 1, 0, 'a'}, uint16(0x1401), []byte{})
	f.Fuzz(func(t *testing.T, submit bool, service, src, dst string, esm, dc uint8, validity string,
		msg []byte, tag uint16, val []byte) {
		id := DeliverSM
		if submit {
			id = SubmitSM
		}
		if len(msg) == 0 {
			msg = nil
		}
		if len(val) == 0 {
			val = nil
		}
		m := &ShortMessage{ServiceType: service, SourceAddr: src, DestAddr: dst, ESMClass: esm, DataCoding: dc,
			ValidityPeriod: validity, Message: msg, TLVs: TLVs{{Tag: Tag(tag), Value: val}}}
		p := &PDU{Header: hdr(id, 0, 1), Body: m}
		b, err := p.MarshalBinary()
		bad := !fits(service, maxServiceType) || !fits(src, maxAddr) || !fits(dst, maxAddr) ||
			!fits(validity, maxTime) || len(msg) > maxSMLength
		if bad != (err != nil) {
			t.Fatalf("MarshalBinary error = %v, want error: %v", err, bad)
		}
		if err != nil {
			return
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(MarshalBinary) error %v\n% x", err, b)
		}
		p.Length = uint32(len(b))
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("round trip:\n%s\nwant\n%s", describe(got), describe(p))
		}
	})
}

func fits(s string, max int) bool { return len(s) < max && !bytes.Contains([]byte(s), []byte{0}) }

// lenientSeeds are PDUs real SMSCs send that only a lenient decoder takes:
// over-long C-octet strings and a message_id without its NUL.
var lenientSeeds = [][]byte{
	// bind_transceiver_resp with a 16-character system_id and sc_interface_version.
	append(append([]byte{0, 0, 0, 0x26, 0x80, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1}, "SIXTEEN-CHARS-ID\x00"...), 0x02, 0x10, 0, 1, 0x34),
	// submit_sm_resp whose message_id has no NUL.
	append([]byte{0, 0, 0, 0x14, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2}, "4097"...),
	// submit_sm_resp with a 70-character message_id.
	append(append([]byte{0, 0, 0, 0x57, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2}, strings.Repeat("a1b2c3d4e5", 7)...), 0),
	// bind_transmitter_resp ESME_RBINDFAIL whose system_id has no NUL (found
	// by the fuzzer: strictly the body is dropped, leniently it is kept).
	append([]byte{0, 0, 0, 0x14, 0x80, 0, 0, 2, 0, 0, 0, 0x0d, 0, 0, 0, 1}, "SMSC"...),
	// deliver_sm with a 21-digit source_addr.
	append(append(append([]byte{0, 0, 0, 0x3c, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 1},
		strings.Repeat("1", 21)...), 0, 1, 1, '4', '2', '4', '2', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), 'H', 'i'),
}

// FuzzDecodeLenient checks the lenient decoder: it never panics, agrees
// with the strict one on every PDU that decodes strictly, reports each
// deviation it accepts, and whatever it accepts either re-encodes to an
// equal value (a missing NUL) or does not encode at all (an over-long
// field: encoding stays strict).
func FuzzDecodeLenient(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.hex")
	for _, name := range files {
		f.Add(MustReadHex(f, name))
	}
	for _, seed := range append(regressionSeeds, lenientSeeds...) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tolerated error
		o := DecodeOptions{Lenient: true, Tolerated: func(_ Header, err error) { tolerated = err }}
		p, err := o.Decode(b)
		sp, serr := Decode(b)
		// An error response whose body breaks a limit decodes strictly
		// without its body; leniently it keeps the body.
		errorBody := serr == nil && sp.ID.IsResponse() && sp.Status != StatusOK && sp.Body == nil
		if serr == nil && !(errorBody && tolerated != nil) {
			if err != nil || tolerated != nil || !reflect.DeepEqual(p, sp) {
				t.Fatalf("strict Decode = %s; lenient = %s, %v (tolerated %v)", describe(sp), describe(p), err, tolerated)
			}
			return
		}
		if err != nil {
			if tolerated != nil {
				t.Fatalf("Tolerated called for a PDU that failed: %v", err)
			}
			return
		}
		if tolerated == nil || !errors.Is(tolerated, ErrFieldTooLong) && !errors.Is(tolerated, ErrTruncated) {
			t.Fatalf("lenient decode of a PDU strict decoding refuses (%v) reported %v", serr, tolerated)
		}
		if errorBody {
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			if !errors.Is(err, ErrFieldTooLong) {
				t.Fatalf("re-encoding failed with %v, want ErrFieldTooLong", err)
			}
			return
		}
		p2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v\n% x", err, enc)
		}
		p.Length = p2.Length
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the PDU:\n%s\n%s", describe(p), describe(p2))
		}
	})
}
