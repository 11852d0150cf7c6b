package coding

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// specBasic lists the positions of the GSM 03.38 basic table whose
// characters differ from ASCII (smpp.md §6.1); every other position except
// the escape 0x1B equals ASCII.
var specBasic = map[byte]rune{
	0x00: '@', 0x01: '£', 0x02: '$', 0x03: '¥', 0x04: 'è', 0x05: 'é', 0x06: 'ù', 0x07: 'ì',
	0x08: 'ò', 0x09: 'Ç', 0x0B: 'Ø', 0x0C: 'ø', 0x0E: 'Å', 0x0F: 'å',
	0x10: 'Δ', 0x11: '_', 0x12: 'Φ', 0x13: 'Γ', 0x14: 'Λ', 0x15: 'Ω', 0x16: 'Π', 0x17: 'Ψ',
	0x18: 'Σ', 0x19: 'Θ', 0x1A: 'Ξ', 0x1C: 'Æ', 0x1D: 'æ', 0x1E: 'ß', 0x1F: 'É',
	0x24: '¤', 0x40: '¡', 0x5B: 'Ä', 0x5C: 'Ö', 0x5D: 'Ñ', 0x5E: 'Ü', 0x5F: '§',
	0x60: '¿', 0x7B: 'ä', 0x7C: 'ö', 0x7D: 'ñ', 0x7E: 'ü', 0x7F: 'à',
}

// specExt is the extension table (smpp.md §6.2).
var specExt = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

func TestGSM7BasicTable(t *testing.T) {
	for s := byte(0); s < 0x80; s++ {
		if s == esc {
			continue
		}
		want, ok := specBasic[s]
		if !ok {
			want = rune(s)
		}
		got, err := Decode(0x00, []byte{s})
		if err != nil || got != string(want) {
			t.Errorf("Decode(0x00, %02X) = %q, %v, want %q", s, got, err, want)
		}
		enc, err := Encode(GSM7, string(want))
		if err != nil || !bytes.Equal(enc, []byte{s}) {
			t.Errorf("Encode(GSM7, %q) = % X, %v, want %02X", want, enc, err, s)
		}
		if n := Units(string(want), GSM7); n != 1 {
			t.Errorf("Units(%q, GSM7) = %d, want 1", want, n)
		}
	}
}

func TestGSM7ExtensionTable(t *testing.T) {
	for s, want := range specExt {
		got, err := Decode(0x00, []byte{esc, s})
		if err != nil || got != string(want) {
			t.Errorf("Decode(0x00, 1B %02X) = %q, %v, want %q", s, got, err, want)
		}
		enc, err := Encode(GSM7, string(want))
		if err != nil || !bytes.Equal(enc, []byte{esc, s}) {
			t.Errorf("Encode(GSM7, %q) = % X, %v, want 1B %02X", want, enc, err, s)
		}
		if n := Units(string(want), GSM7); n != 2 {
			t.Errorf("Units(%q, GSM7) = %d, want 2", want, n)
		}
	}
}

func TestGSM7Escapes(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"unknown escape shows basic char", []byte{'a', esc, 'A', 'b'}, "aAb"},
		{"escape control 0x0D", []byte{esc, 0x0D}, "\r"},
		{"escape escape is a space", []byte{'a', esc, esc, 'b'}, "a b"},
		{"trailing lone escape is a space", []byte{'a', esc}, "a "},
		{"at signs are zero octets", []byte{0x00, 'x', 0x00}, "@x@"},
		{"wire example", []byte{0x48, 0x69, 0x20, 0x00, 0x20, 0x1B, 0x28, 0x78, 0x1B, 0x29}, "Hi @ {x}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(0x00, tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Decode(0x00, % X) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEncodeGSM7(t *testing.T) {
	tests := []struct {
		text string
		want string // hex
	}{
		{"Hi @ {x}", "486920002" + "01b28781b29"},
		{"ç", "09"},
		{"€5", "1b6535"},
		{"ΔΣ", "1018"},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := Encode(GSM7, tt.text)
		if err != nil || hex.EncodeToString(got) != tt.want {
			t.Errorf("Encode(GSM7, %q) = %x, %v, want %s", tt.text, got, err, tt.want)
		}
	}
}

func TestEncodeUnencodable(t *testing.T) {
	tests := []struct {
		c    Coding
		text string
		name string // must appear in the message
	}{
		{GSM7, "tab\there", "U+0009"},
		{GSM7, "back`tick", "U+0060"},
		{GSM7, "emoji 😀", "U+1F600"},
		{GSM7, "Ελλάδα", "U+0395"}, // Greek capital Epsilon: only Greek letters unlike Latin ones are in the table
		{ASCII, "café", "U+00E9"},
		{Latin1, "€", "U+20AC"},
	}
	for _, tt := range tests {
		_, err := Encode(tt.c, tt.text)
		if !errors.Is(err, ErrUnencodable) {
			t.Errorf("Encode(%v, %q) error = %v, want ErrUnencodable", tt.c, tt.text, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Encode(%v, %q) error = %v, want it to name %s", tt.c, tt.text, err, tt.name)
		}
	}
	if _, err := Encode(UCS2, "bad \xff utf8"); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("Encode(UCS2, invalid UTF-8) error = %v, want ErrInvalidUTF8", err)
	}
}

func TestPackGSM7(t *testing.T) {
	tests := []struct {
		septets string // text, all basic ASCII-identical characters
		packed  string // hex
	}{
		{"hello", "e8329bfd06"},
		{"", ""},
		{"1234567", "31d98c56b3dd00"}, // 7 septets: last octet has 7 spare zero bits
		{"12345678", "31d98c56b3dd70"},
	}
	for _, tt := range tests {
		got := PackGSM7([]byte(tt.septets))
		if hex.EncodeToString(got) != tt.packed {
			t.Errorf("PackGSM7(%q) = %x, want %s", tt.septets, got, tt.packed)
		}
		raw, _ := hex.DecodeString(tt.packed)
		if un := UnpackGSM7(raw, len(tt.septets)); string(un) != tt.septets {
			t.Errorf("UnpackGSM7(%s, %d) = %q, want %q", tt.packed, len(tt.septets), un, tt.septets)
		}
	}
}

func TestUnpackGSM7UnknownCount(t *testing.T) {
	tests := []struct {
		name   string
		packed []byte
		want   []byte
	}{
		{"zero fill dropped", PackGSM7([]byte("1234567")), []byte("1234567")},
		{"real trailing @ with count unknown is ambiguous: dropped", PackGSM7([]byte("1234567\x00")), []byte("1234567")},
		{"CR in the spare bits kept", PackGSM7([]byte("1234567\r")), []byte("1234567\r")},
		{"no spare septet", PackGSM7([]byte("hello")), []byte("hello")},
		{"empty", nil, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnpackGSM7(tt.packed, -1); !bytes.Equal(got, tt.want) {
				t.Errorf("UnpackGSM7(%x, -1) = %q, want %q", tt.packed, got, tt.want)
			}
		})
	}
	if got := UnpackGSM7([]byte{0xE8}, 5); len(got) != 1 {
		t.Errorf("UnpackGSM7(1 octet, 5) = %q, want the 1 septet it holds", got)
	}
}

func TestPackRoundTripAllSeptets(t *testing.T) {
	var all []byte
	for s := range 128 {
		all = append(all, byte(s))
	}
	for n := range len(all) + 1 {
		if got := UnpackGSM7(PackGSM7(all[:n]), n); !bytes.Equal(got, all[:n]) {
			t.Fatalf("UnpackGSM7(PackGSM7(%d septets)) = % X, want % X", n, got, all[:n])
		}
	}
}
