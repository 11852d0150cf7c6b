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

// FuzzAlphabet checks every data_coding 0 setting: decoding never panics and
// gives valid UTF-8, and text that Pick sends as data_coding 0 survives
// Split and Decode whole, in chunks measured in GSM septets.
func FuzzAlphabet(f *testing.F) {
	f.Add(uint8(0x00), []byte("Hi \x00 \x1b\x28x\x1b\x29"), uint8(6))
	f.Add(uint8(0xF0), []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, uint8(0))
	f.Add(uint8(0x00), []byte("café {€} ΔΣ [x] "+strings.Repeat("é", 160)), uint8(7))
	alphabets := []Alphabet{{}, {Packed: true}, {Charset: Latin1}, {Charset: ASCII}}
	f.Fuzz(func(t *testing.T, dc uint8, b []byte, udhLen uint8) {
		text := string(b)
		for _, a := range alphabets {
			if s, _ := a.Decode(dc, b, int(udhLen)); !utf8.ValidString(s) {
				t.Fatalf("%v.Decode(0x%02X, % X) = invalid UTF-8 %q", a, dc, b, s)
			}
			if a.Pick(text, GSM7) != GSM7 {
				continue
			}
			per := Capacity(GSM7, int(udhLen))
			if per < 2 { // no room for an escape pair
				continue
			}
			chunks, err := a.Split(text, GSM7, per, int(udhLen))
			if err != nil {
				t.Fatalf("%v.Split(%q): %v", a, text, err)
			}
			var got strings.Builder
			for _, c := range chunks {
				s, err := a.Decode(0, c, int(udhLen))
				if err != nil {
					t.Fatalf("%v: chunk % X: %v", a, c, err)
				}
				if n := Units(s, GSM7); n > per {
					t.Fatalf("%v: chunk of %d septets, max %d", a, n, per)
				}
				got.WriteString(s)
			}
			want, rejoined := text, got.String()
			if a.Charset == GSM7 {
				want = strings.ReplaceAll(text, "ç", "Ç")
			}
			if a.Packed {
				// Packed data carries no septet count: a final '@' that ends
				// exactly 7 bits before the octet boundary reads as zero fill
				// (smpp.md §6.3), so '@' is left out of the comparison.
				want, rejoined = strings.ReplaceAll(want, "@", ""), strings.ReplaceAll(rejoined, "@", "")
			}
			if rejoined != want {
				t.Fatalf("%v: chunks of %q rejoin to %q", a, text, got.String())
			}
		}
	})
}
