package coding

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCapacity(t *testing.T) {
	tests := []struct {
		c    Coding
		udh  int
		want int
	}{
		{GSM7, 0, 160}, {GSM7, 6, 153}, {GSM7, 7, 152}, {GSM7, 12, 146},
		{Latin1, 0, 140}, {Binary, 6, 134}, {ASCII, 7, 133}, {Binary, 12, 128},
		{UCS2, 0, 70}, {UCS2, 6, 67}, {UCS2, 7, 66}, {UCS2, 12, 64},
		{GSM7, 140, 0},
	}
	for _, tt := range tests {
		if got := Capacity(tt.c, tt.udh); got != tt.want {
			t.Errorf("Capacity(%v, %d) = %d, want %d", tt.c, tt.udh, got, tt.want)
		}
	}
}

func TestParts(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	u := func(n int) string { return strings.Repeat("ж", n) }
	tests := []struct {
		name string
		text string
		c    Coding
		udh  int
		want int
	}{
		{"empty", "", GSM7, 6, 1},
		{"160 septets single", a(160), GSM7, 6, 1},
		{"161 septets two", a(161), GSM7, 6, 2},
		{"153*2 two", a(306), GSM7, 6, 2},
		{"153*2+1 three", a(307), GSM7, 6, 3},
		{"16-bit ref 152*2", a(304), GSM7, 7, 2},
		{"16-bit ref 152*2+1", a(305), GSM7, 7, 3},
		{"80 escapes = 160 septets single", strings.Repeat("{", 80), GSM7, 6, 1},
		{"81 escapes = 162 septets two", strings.Repeat("{", 81), GSM7, 6, 2},
		// 152 'a' then '{' pairs: part 1 holds only the 152 a (the pair does not fit in septet 153)
		{"escape pushed at boundary", a(152) + strings.Repeat("{", 76), GSM7, 6, 2},
		{"escape pushed makes a third part", a(152) + strings.Repeat("{", 76) + "bb", GSM7, 6, 3}, // 306 septets
		{"70 UCS2 single", u(70), UCS2, 6, 1},
		{"71 UCS2 two", u(71), UCS2, 6, 2},
		{"67*2 two", u(134), UCS2, 6, 2},
		{"67*2+1 three", u(135), UCS2, 6, 3},
		{"35 emoji single", strings.Repeat("😀", 35), UCS2, 6, 1},
		{"36 emoji: 33+3 per part", strings.Repeat("😀", 36), UCS2, 6, 2},
		{"140 octets single", a(140), Latin1, 6, 1},
		{"141 octets two", a(141), Latin1, 6, 2},
		{"binary 269 = 134*2+1", a(269), Binary, 6, 3},
		{"no room", a(200), GSM7, 140, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parts(tt.text, tt.c, tt.udh); got != tt.want {
				t.Errorf("Parts(%d units, %v, %d) = %d, want %d", Units(tt.text, tt.c), tt.c, tt.udh, got, tt.want)
			}
			if tt.want <= 1 {
				return
			}
			chunks, err := Split(tt.text, tt.c, Capacity(tt.c, tt.udh))
			if err != nil || len(chunks) != tt.want {
				t.Errorf("Split gives %d chunks, %v; Parts says %d", len(chunks), err, tt.want)
			}
		})
	}
}

func TestSplitGSMEscapeAtBoundary(t *testing.T) {
	text := strings.Repeat("a", 152) + "{" + "b"
	chunks, err := Split(text, GSM7, 153)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || len(chunks[0]) != 152 || !bytes.Equal(chunks[1], []byte{esc, 0x28, 'b'}) {
		t.Fatalf("Split = %d chunks, first %d octets, second % X; want 152 octets then 1B 28 62", len(chunks), len(chunks[0]), chunks[len(chunks)-1])
	}
	// An escape that fits exactly stays.
	chunks, _ = Split(strings.Repeat("a", 151)+"{b", GSM7, 153)
	if len(chunks[0]) != 153 || chunks[0][151] != esc || string(chunks[1]) != "b" {
		t.Errorf("Split with the pair ending at 153: first chunk % X", chunks[0][150:])
	}
	// Only escape pairs: parity must come from the walk, not from the offset.
	chunks, _ = Split("ab"+strings.Repeat("€", 80), GSM7, 153)
	for i, c := range chunks {
		if c[len(c)-1] == esc || c[0] != esc && i > 0 {
			t.Errorf("chunk %d splits an escape pair: % X ... % X", i, c[:2], c[len(c)-2:])
		}
	}
}

func TestSplitSurrogateAtBoundary(t *testing.T) {
	text := strings.Repeat("ж", 66) + "😀" + "x"
	chunks, err := Split(text, UCS2, 67)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || len(chunks[0]) != 132 || !bytes.Equal(chunks[1], []byte{0xD8, 0x3D, 0xDE, 0x00, 0x00, 'x'}) {
		t.Fatalf("Split = %d chunks, first %d octets; want 132 octets then the whole emoji", len(chunks), len(chunks[0]))
	}
	var joined string
	for _, c := range chunks {
		s, err := Decode(0x08, c)
		if err != nil {
			t.Fatalf("chunk does not decode cleanly: %v", err)
		}
		joined += s
	}
	if joined != text {
		t.Errorf("joined chunks = %q, want %q", joined, text)
	}
}

func TestSplitEveryLengthRejoins(t *testing.T) {
	for _, c := range []Coding{GSM7, UCS2} {
		for n := 150; n < 170; n++ {
			text := strings.Repeat("x€😀"[:1], n%3) + strings.Repeat("{a", n/2)
			if c == UCS2 {
				text += "😀😀"
			} else {
				text += "]]"
			}
			per := Capacity(c, 6)
			chunks, err := Split(text, c, per)
			if err != nil {
				t.Fatalf("Split(%v, n=%d): %v", c, n, err)
			}
			var all []byte
			for _, ch := range chunks {
				unit := 1
				if c == UCS2 {
					unit = 2
				}
				if len(ch) > per*unit {
					t.Errorf("chunk of %d octets exceeds %d units", len(ch), per)
				}
				all = append(all, ch...)
			}
			enc, _ := Encode(c, text)
			if !bytes.Equal(all, enc) {
				t.Errorf("rejoined chunks differ from Encode for n=%d", n)
			}
		}
	}
}

func TestSplitErrors(t *testing.T) {
	if _, err := Split("😀", UCS2, 1); err == nil {
		t.Error("Split(emoji, UCS2, 1) succeeded, want an error: a pair cannot fit")
	}
	if _, err := Split("{", GSM7, 1); err == nil {
		t.Error("Split(\"{\", GSM7, 1) succeeded, want an error")
	}
	if _, err := Split("😀", GSM7, 153); !errors.Is(err, ErrUnencodable) {
		t.Errorf("Split(emoji, GSM7) error = %v, want ErrUnencodable", err)
	}
	chunks, err := Split("", GSM7, 153)
	if err != nil || len(chunks) != 1 || len(chunks[0]) != 0 {
		t.Errorf("Split(\"\") = %q, %v, want one empty chunk", chunks, err)
	}
}

func TestSplitChunksDoNotAlias(t *testing.T) {
	chunks, _ := Split(strings.Repeat("a", 20), GSM7, 10)
	_ = append(chunks[0], 'Z')
	if chunks[1][0] != 'a' {
		t.Error("appending to chunk 0 overwrote chunk 1")
	}
}

func TestConcatUDH(t *testing.T) {
	tests := []struct {
		c    Concat
		want []byte
	}{
		{Concat{Ref: 0xA7, Total: 3, Seq: 1}, []byte{0x05, 0x00, 0x03, 0xA7, 0x03, 0x01}},
		{Concat{Ref: 0x1234, Total: 3, Seq: 2, Wide: true}, []byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02}},
	}
	for _, tt := range tests {
		got := tt.c.UDH()
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%+v.UDH() = % X, want % X", tt.c, got, tt.want)
		}
		c, rest, err := ParseUDH(append(got, 'h', 'i'))
		if err != nil || c == nil || *c != tt.c || string(rest) != "hi" {
			t.Errorf("ParseUDH(%+v.UDH()+hi) = %+v, %q, %v", tt.c, c, rest, err)
		}
	}
}

func TestParseUDH(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		concat *Concat
		rest   string
		err    bool
	}{
		{"WAP push with ports then concat", []byte{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0xA7, 0x02, 0x01, 'x'},
			&Concat{Ref: 0xA7, Total: 2, Seq: 1}, "x", false},
		{"no concat element", []byte{0x03, 0x24, 0x01, 0x01, 'h'}, nil, "h", false},
		{"empty header", []byte{0x00, 'h'}, nil, "h", false},
		{"header only", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x02}, &Concat{Ref: 1, Total: 2, Seq: 2}, "", false},
		{"seq 0 ignored", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x00, 'h'}, nil, "h", false},
		{"seq above total ignored", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x03, 'h'}, nil, "h", false},
		{"last concat wins", []byte{0x0A, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x03, 0x09, 0x02, 0x02}, &Concat{Ref: 9, Total: 2, Seq: 2}, "", false},
		{"empty", nil, nil, "", true},
		{"UDHL beyond data", []byte{0x05, 0x00, 0x03, 0x01}, nil, "", true},
		{"IE overruns UDHL", []byte{0x04, 0x00, 0x03, 0x01, 0x02, 0x01, 'h'}, nil, "", true},
		{"IE header cut", []byte{0x01, 0x00, 'h'}, nil, "", true},
		{"concat with bad length", []byte{0x04, 0x00, 0x02, 0x01, 0x02, 'h'}, nil, "", true},
		{"wide concat with bad length", []byte{0x05, 0x08, 0x03, 0x01, 0x02, 0x01, 'h'}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rest, err := ParseUDH(tt.in)
			if tt.err {
				if !errors.Is(err, ErrUDH) {
					t.Errorf("ParseUDH(% X) error = %v, want ErrUDH", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUDH(% X): %v", tt.in, err)
			}
			if (c == nil) != (tt.concat == nil) || c != nil && *c != *tt.concat || string(rest) != tt.rest {
				t.Errorf("ParseUDH(% X) = %+v, %q, want %+v, %q", tt.in, c, rest, tt.concat, tt.rest)
			}
		})
	}
}
