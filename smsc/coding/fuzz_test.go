package coding

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzUnpackGSM7(f *testing.F) {
	f.Add([]byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 5)
	f.Add(PackGSM7([]byte("1234567")), -1)
	f.Add([]byte{}, 3)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 100)
	f.Fuzz(func(t *testing.T, packed []byte, n int) {
		out := UnpackGSM7(packed, n)
		if len(out) > len(packed)*8/7 {
			t.Fatalf("UnpackGSM7 returned %d septets from %d octets", len(out), len(packed))
		}
		for _, s := range out {
			if s > 0x7F {
				t.Fatalf("septet 0x%02X above 0x7F", s)
			}
		}
		// Repacking what was unpacked reproduces the packed octets it came from.
		re := PackGSM7(out)
		bits := len(out) * 7
		for i := range bits / 8 {
			if re[i] != packed[i] {
				t.Fatalf("PackGSM7(UnpackGSM7(% X)) = % X", packed, re)
			}
		}
		if s, err := Decode(0x00, out); err != nil || !utf8.ValidString(s) {
			t.Fatalf("Decode of unpacked septets = %q, %v", s, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(uint8(0x00), []byte("Hi \x00 \x1b\x28x\x1b\x29"))
	f.Add(uint8(0x08), []byte{0xD8, 0x3D, 0xDE, 0x00, 0x00})
	f.Add(uint8(0xF0), []byte{0x1b})
	f.Add(uint8(0x07), []byte{0xE0, 0xC0})
	f.Add(uint8(0x06), []byte{0xF0})
	f.Add(uint8(0x00), []byte("Hello {world} €ç ΔΣ 😀"))
	f.Fuzz(func(t *testing.T, dc uint8, b []byte) {
		s, _ := Decode(dc, b)
		if !utf8.ValidString(s) {
			t.Fatalf("Decode(0x%02X, % X) = invalid UTF-8 %q", dc, b, s)
		}
		// Read as text, the same bytes must survive GSM7 and UCS2 round trips
		// whenever they are encodable.
		text := string(b)
		if enc, err := Encode(GSM7, text); err == nil {
			got, err := Decode(0x00, enc)
			if want := strings.ReplaceAll(text, "ç", "Ç"); err != nil || got != want {
				t.Fatalf("GSM7 round trip of %q = %q, %v", text, got, err)
			}
			chunks, err := Split(text, GSM7, 153)
			if err != nil || !bytes.Equal(bytes.Join(chunks, nil), enc) {
				t.Fatalf("Split(%q) does not rejoin to Encode: %v", text, err)
			}
			if Units(text, GSM7) != len(enc) {
				t.Fatalf("Units(%q, GSM7) = %d, Encode gives %d septets", text, Units(text, GSM7), len(enc))
			}
		}
		if enc, err := Encode(UCS2, text); err == nil {
			if got, err := Decode(0x08, enc); err != nil || got != text {
				t.Fatalf("UCS2 round trip of %q = %q, %v", text, got, err)
			}
		}
	})
}
