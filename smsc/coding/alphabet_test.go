package coding

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var (
	gsmUnpacked = Alphabet{}
	gsmPacked   = Alphabet{Charset: GSM7, Packed: true}
	latin1DC0   = Alphabet{Charset: Latin1}
	asciiDC0    = Alphabet{Charset: ASCII}
)

func TestParseAlphabet(t *testing.T) {
	tests := []struct {
		charset string
		packed  bool
		want    Alphabet
		err     bool
	}{
		{"", false, gsmUnpacked, false},
		{"gsm7", false, gsmUnpacked, false},
		{"GSM7", true, gsmPacked, false},
		{"latin1", false, latin1DC0, false},
		{"ascii", false, asciiDC0, false},
		{"latin1", true, Alphabet{}, true},
		{"ucs2", false, Alphabet{}, true},
		{"utf8", false, Alphabet{}, true},
	}
	for _, tt := range tests {
		got, err := ParseAlphabet(tt.charset, tt.packed)
		if (err != nil) != tt.err || err == nil && got != tt.want {
			t.Errorf("ParseAlphabet(%q, %v) = %+v, %v; want %+v, error %v", tt.charset, tt.packed, got, err, tt.want, tt.err)
		}
	}
	if s := latin1DC0.String(); s != "latin1" {
		t.Errorf("String() = %q", s)
	}
	if s := gsmPacked.String(); s != "gsm7 packed" {
		t.Errorf("String() = %q", s)
	}
}

// TestAlphabetDecode reads MO user data with data_coding 0 (and other
// codings) per setting.
func TestAlphabetDecode(t *testing.T) {
	tests := []struct {
		name   string
		a      Alphabet
		dc     uint8
		in     []byte
		udhLen int
		want   string
	}{
		{"gsm7: 0x40 is ¡", gsmUnpacked, 0x00, []byte("a@b$"), 0, "a¡b¤"},
		{"latin1: 0x40 is @", latin1DC0, 0x00, []byte("a@b$"), 0, "a@b$"},
		{"latin1: é is E9", latin1DC0, 0x00, []byte{'c', 'a', 'f', 0xE9}, 0, "café"},
		{"latin1: 0x00 is NUL, not @", latin1DC0, 0x00, []byte{'a', 0x00}, 0, "a\x00"},
		{"ascii: [ is 5B", asciiDC0, 0x00, []byte("[x]"), 0, "[x]"},
		{"gsm7: [ is Ä", gsmUnpacked, 0x00, []byte("[x]"), 0, "ÄxÑ"},
		{"latin1 applies to GSM 7-bit flash 0xF0", latin1DC0, 0xF0, []byte("a@b"), 0, "a@b"},
		{"latin1 leaves UCS2 alone", latin1DC0, 0x08, []byte{0x00, 0x40}, 0, "@"},
		{"latin1 leaves data_coding 3 alone", latin1DC0, 0x03, []byte{0xE9}, 0, "é"},
		{"packed hello", gsmPacked, 0x00, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 0, "hello"},
		{"packed with extension", gsmPacked, 0x00, PackGSM7([]byte{'a', 0x1B, 0x65, 0x00}), 0, "a€@"},
		{"packed 7 octets: trailing zero fill is not @", gsmPacked, 0x00, PackGSM7([]byte("1234567")), 0, "1234567"},
		{"packed after a 6-octet UDH: 1 fill bit", gsmPacked, 0x00, packFill([]byte("hello"), 1), 6, "hello"},
		{"packed after a 7-octet UDH: no fill", gsmPacked, 0x00, PackGSM7([]byte("hello")), 7, "hello"},
		{"packed flash", gsmPacked, 0xF0, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 0, "hello"},
		{"packed leaves UCS2 alone", gsmPacked, 0x08, []byte{0x00, 0x68}, 0, "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.a.Decode(tt.dc, tt.in, tt.udhLen)
			if err != nil || got != tt.want {
				t.Errorf("%+v.Decode(%#x, % X, %d) = %q, %v; want %q", tt.a, tt.dc, tt.in, tt.udhLen, got, err, tt.want)
			}
		})
	}
	// ASCII with a high octet: read as Latin-1 and flagged.
	if got, err := asciiDC0.Decode(0, []byte{'a', 0xE9}, 0); got != "aé" || !errors.Is(err, ErrMalformed) {
		t.Errorf("ascii Decode of 0xE9 = %q, %v; want \"aé\" flagged ErrMalformed", got, err)
	}
}

func TestAlphabetPick(t *testing.T) {
	tests := []struct {
		a    Alphabet
		text string
		pref Coding
		want Coding
	}{
		{gsmUnpacked, "café €", GSM7, GSM7},
		{latin1DC0, "café", GSM7, GSM7},
		{latin1DC0, "café €", GSM7, UCS2}, // € is GSM but not Latin-1
		{latin1DC0, "ΔΣ", GSM7, UCS2},     // GSM but not Latin-1
		{latin1DC0, "a`b", GSM7, UCS2},    // Latin-1 but not GSM: lost on air
		{asciiDC0, "plain {x}", GSM7, GSM7},
		{asciiDC0, "café", GSM7, UCS2},
		{latin1DC0, "café", Latin1, Latin1}, // data_coding 3 is its own choice
		{gsmPacked, "hello", GSM7, GSM7},
	}
	for _, tt := range tests {
		if got := tt.a.Pick(tt.text, tt.pref); got != tt.want {
			t.Errorf("%v.Pick(%q, %v) = %v, want %v", tt.a, tt.text, tt.pref, got, tt.want)
		}
	}
}

// TestAlphabetEncode checks the octets sent with data_coding 0 per setting.
func TestAlphabetEncode(t *testing.T) {
	tests := []struct {
		a      Alphabet
		text   string
		udhLen int
		want   []byte
	}{
		{gsmUnpacked, "a@b€", 0, []byte{'a', 0x00, 'b', 0x1B, 0x65}},
		{gsmPacked, "hello", 0, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}},
		{gsmPacked, "hello", 6, packFill([]byte("hello"), 1)},
		{latin1DC0, "a@b café", 0, []byte{'a', '@', 'b', ' ', 'c', 'a', 'f', 0xE9}},
		{latin1DC0, "{x}", 0, []byte("{x}")},
		{asciiDC0, "a@b [x]", 0, []byte("a@b [x]")},
	}
	for _, tt := range tests {
		got, err := tt.a.Encode(GSM7, tt.text, tt.udhLen)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%v.Encode(GSM7, %q, %d) = % X, %v; want % X", tt.a, tt.text, tt.udhLen, got, err, tt.want)
		}
	}
	if _, err := latin1DC0.Encode(GSM7, "€", 0); !errors.Is(err, ErrUnencodable) {
		t.Errorf("latin1 Encode(€) error = %v, want ErrUnencodable", err)
	}
	if _, err := latin1DC0.Encode(GSM7, "`", 0); !errors.Is(err, ErrUnencodable) {
		t.Errorf("latin1 Encode(`) error = %v, want ErrUnencodable (not GSM: dropped on air)", err)
	}
	if got, err := latin1DC0.Encode(UCS2, "é", 0); err != nil || !bytes.Equal(got, []byte{0x00, 0xE9}) {
		t.Errorf("latin1 Encode(UCS2, é) = % X, %v; want 00 E9", got, err)
	}
}

// TestAlphabetSplitSizesAsGSM: data_coding 0 carrying Latin-1 or ASCII
// that the SMSC transcodes to GSM is sized in septets (153 per part), not
// in octets (134); packed septets take 134 octets for 153 septets.
func TestAlphabetSplitSizesAsGSM(t *testing.T) {
	// 152 septets, then '{' (2 septets: it does not fit in part 1), then 100.
	text := strings.Repeat("é", 100) + strings.Repeat("e", 52) + "{" + strings.Repeat("f", 100)
	tests := []struct {
		a        Alphabet
		wantLens []int // octets of each chunk
	}{
		{gsmUnpacked, []int{152, 102}}, // the escape pair moves to part 2
		{latin1DC0, []int{152, 101}},   // one octet per character, counted in septets
		{gsmPacked, []int{134, 90}},    // 1 fill bit + 152 septets; 1 + 102 septets
	}
	for _, tt := range tests {
		chunks, err := tt.a.Split(text, GSM7, Capacity(GSM7, UDHConcat8Len), UDHConcat8Len)
		if err != nil {
			t.Fatalf("%v: %v", tt.a, err)
		}
		var lens []int
		var joined strings.Builder
		for _, c := range chunks {
			lens = append(lens, len(c))
			s, err := tt.a.Decode(0, c, UDHConcat8Len)
			if err != nil {
				t.Errorf("%v: chunk does not decode: %v", tt.a, err)
			}
			joined.WriteString(s)
		}
		if !equalInts(lens, tt.wantLens) {
			t.Errorf("%v: chunk sizes %v, want %v", tt.a, lens, tt.wantLens)
		}
		if joined.String() != text {
			t.Errorf("%v: chunks rejoin to %q", tt.a, joined.String())
		}
	}
	// 160 Latin-1 characters are one SMS, 161 need two.
	if n := Parts(strings.Repeat("é", 160), latin1DC0.Pick(strings.Repeat("é", 160), GSM7), UDHConcat8Len); n != 1 {
		t.Errorf("160 é with latin1 data_coding 0: %d parts, want 1", n)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPackFillRoundTrip(t *testing.T) {
	for fill := range 7 {
		for n := range 20 {
			septets := bytes.Repeat([]byte{0x55, 0x2A, 0x7F, 0x01}, 5)[:n]
			got := unpackFill(packFill(septets, fill), fill, n)
			if !bytes.Equal(got, septets) {
				t.Errorf("fill %d n %d: unpack(pack) = % X, want % X", fill, n, got, septets)
			}
		}
	}
}
