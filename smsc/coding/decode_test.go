package coding

import (
	"errors"
	"testing"
)

func TestDecodeDataCodings(t *testing.T) {
	gsm := []byte{0x00, 'h', 'i', esc, 0x65}                     // "@hi€" as GSM septets
	ucs := []byte{0x00, 'h', 0x04, 0x3F, 0xD8, 0x3D, 0xDE, 0x00} // "hп😀" UTF-16BE
	tests := []struct {
		name string
		dc   uint8
		in   []byte
		want string
		err  error
	}{
		{"0x00 GSM unpacked", 0x00, gsm, "@hi€", nil},
		{"0x00 with high octets falls back to Latin-1", 0x00, []byte("caf\xe9"), "café", ErrMalformed},
		{"0x01 IA5", 0x01, []byte("hi @"), "hi @", nil},
		{"0x01 with 8-bit octets read as Latin-1", 0x01, []byte("caf\xe9"), "café", nil},
		{"0x02 binary", 0x02, []byte{0x01, 0xff}, "\x01ÿ", ErrBinary},
		{"0x03 Latin-1", 0x03, []byte("\xa3\xe0\xff"), "£àÿ", nil},
		{"0x04 binary", 0x04, []byte("ab"), "ab", ErrBinary},
		{"0x05 JIS unsupported", 0x05, []byte("ab"), "ab", ErrBinary},
		{"0x06 Cyrillic", 0x06, []byte{0xB0, 0xD0, 0xF0, 0xA1, 0xFD, 'x'}, "Аа№Ё§x", nil},
		{"0x07 Hebrew", 0x07, []byte{0xE0, 0xFA, 0xAA, 'x'}, "את×x", nil},
		{"0x07 Hebrew unassigned octet", 0x07, []byte{0xE0, 0xC0}, "א\uFFFD", ErrMalformed},
		{"0x08 UCS2 with surrogate pair", 0x08, ucs, "hп😀", nil},
		{"0x08 odd length", 0x08, []byte{0x00, 'h', 0x00}, "h\uFFFD", ErrMalformed},
		{"0x08 lone high surrogate", 0x08, []byte{0xD8, 0x3D, 0x00, 'h'}, "\uFFFDh", ErrMalformed},
		{"0x08 lone low surrogate", 0x08, []byte{0xDE, 0x00, 0x00, 'h'}, "\uFFFDh", ErrMalformed},
		{"0x08 high surrogate at end", 0x08, []byte{0x00, 'h', 0xD8, 0x3D}, "h\uFFFD", ErrMalformed},
		{"0x08 empty", 0x08, nil, "", nil},
		{"0x0E KS C 5601 unsupported", 0x0E, []byte("x"), "x", ErrBinary},
		{"0x10 GSM class 0", 0x10, gsm, "@hi€", nil},
		{"0x11 GSM class 1", 0x11, gsm, "@hi€", nil},
		{"0x14 8-bit group", 0x14, []byte("x"), "x", ErrBinary},
		{"0x18 UCS2 flash", 0x18, ucs, "hп😀", nil},
		{"0x1C reserved alphabet", 0x1C, []byte("x"), "x", ErrBinary},
		{"0x30 compressed", 0x30, []byte("x"), "x", ErrBinary},
		{"0x40 auto-delete GSM", 0x40, gsm, "@hi€", nil},
		{"0x48 auto-delete UCS2", 0x48, ucs, "hп😀", nil},
		{"0x80 reserved group", 0x80, []byte("x"), "x", ErrBinary},
		{"0xC0 MWI discard GSM", 0xC0, gsm, "@hi€", nil},
		{"0xD8 MWI store GSM", 0xD8, gsm, "@hi€", nil},
		{"0xE0 MWI store UCS2", 0xE0, ucs, "hп😀", nil},
		{"0xF0 GSM flash", 0xF0, gsm, "@hi€", nil},
		{"0xF3 GSM class 3", 0xF3, gsm, "@hi€", nil},
		{"0xF5 8-bit class 1", 0xF5, []byte("x"), "x", ErrBinary},
		{"0xF6 SIM data download", 0xF6, []byte{0x7f, 0x80}, "\x7f\u0080", ErrBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.dc, tt.in)
			if got != tt.want {
				t.Errorf("Decode(0x%02X, % X) = %q, want %q", tt.dc, tt.in, got, tt.want)
			}
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Decode(0x%02X, % X) error = %v, want %v", tt.dc, tt.in, err, tt.err)
			}
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		c    Coding
		text string
	}{
		{GSM7, "Hello {world} [1] ~€~ |\\| ^ @£$¥ èéùìò ÇØøÅå ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà\n\r\f"},
		{ASCII, "plain `ascii` {text}\t~"},
		{Latin1, "Grüße, señor ÿþ"},
		{UCS2, "Привет 😀 мир 𝄞 中文"},
		{UCS2, ""},
	}
	for _, tt := range tests {
		b, err := Encode(tt.c, tt.text)
		if err != nil {
			t.Fatalf("Encode(%v, %q): %v", tt.c, tt.text, err)
		}
		got, err := Decode(tt.c.DataCoding(), b)
		if err != nil || got != tt.text {
			t.Errorf("Decode(Encode(%v, %q)) = %q, %v", tt.c, tt.text, got, err)
		}
	}
}

func TestEncodeUCS2SurrogatePair(t *testing.T) {
	b, err := Encode(UCS2, "a😀")
	want := []byte{0x00, 'a', 0xD8, 0x3D, 0xDE, 0x00}
	if err != nil || string(b) != string(want) {
		t.Errorf("Encode(UCS2, %q) = % X, %v, want % X", "a😀", b, err, want)
	}
	if n := Units("a😀", UCS2); n != 3 {
		t.Errorf("Units(%q, UCS2) = %d, want 3", "a😀", n)
	}
}

func TestPick(t *testing.T) {
	tests := []struct {
		text      string
		preferred Coding
		want      Coding
	}{
		{"hello {x} €", GSM7, GSM7},
		{"hello 😀", GSM7, UCS2},
		{"tab\t", GSM7, UCS2},
		{"Привет", GSM7, UCS2},
		{"café", Latin1, Latin1},
		{"café €", Latin1, UCS2},   // € is GSM but not Latin-1
		{"ð", Latin1, UCS2},        // Latin-1 but not GSM: the SMSC would drop it
		{"back`tick", ASCII, UCS2}, // ASCII but not GSM
		{"plain", ASCII, ASCII},
		{"café", ASCII, UCS2},
		{"anything", UCS2, UCS2},
		{"bad \xff", GSM7, UCS2},
	}
	for _, tt := range tests {
		if got := Pick(tt.text, tt.preferred); got != tt.want {
			t.Errorf("Pick(%q, %v) = %v, want %v", tt.text, tt.preferred, got, tt.want)
		}
	}
}

func TestUnits(t *testing.T) {
	tests := []struct {
		text string
		c    Coding
		want int
	}{
		{"abc", GSM7, 3},
		{"a{b}€", GSM7, 8},
		{"\f", GSM7, 2},
		{"é", Latin1, 1},
		{"é", Binary, 2},
		{"a😀", UCS2, 3},
		{"Привет", UCS2, 6},
		{"", UCS2, 0},
	}
	for _, tt := range tests {
		if got := Units(tt.text, tt.c); got != tt.want {
			t.Errorf("Units(%q, %v) = %d, want %d", tt.text, tt.c, got, tt.want)
		}
	}
}

func TestParseCoding(t *testing.T) {
	for _, c := range []Coding{GSM7, ASCII, Latin1, UCS2, Binary} {
		got, err := ParseCoding(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCoding(%q) = %v, %v, want %v", c.String(), got, err, c)
		}
	}
	if _, err := ParseCoding("utf8"); err == nil {
		t.Error("ParseCoding(\"utf8\") succeeded, want an error")
	}
	if GSM7.DataCoding() != 0x00 || UCS2.DataCoding() != 0x08 || Latin1.DataCoding() != 0x03 || ASCII.DataCoding() != 0x01 {
		t.Error("DataCoding values differ from SMPP 3.4 §5.2.19")
	}
}
