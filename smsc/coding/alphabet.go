package coding

import (
	"fmt"
	"strings"
)

// Alphabet is what data_coding 0x00, the "SMSC default alphabet", means on
// one SMSC's link (smpp.md §4.3; Kannel's alt-charset). Most SMSCs expect
// and send GSM 03.38 septets one per octet (the zero value); some want the
// septets packed, and some use an 8-bit character set that they convert to
// GSM 03.38 for the air interface.
//
// It is a per-SMSC setting used both ways: to decode MO user data whose
// data_coding is GSM 7-bit (0x00, and the TS 23.038 GSM 7-bit groups such as
// 0xF0) and to encode MT text sent with data_coding 0x00. Other codings
// (UCS2, Latin-1 as 0x03, binary) are not affected.
type Alphabet struct {
	// Charset is GSM7 (GSM 03.38), Latin1 (ISO-8859-1) or ASCII.
	Charset Coding
	// Packed packs GSM 03.38 septets 8 into 7 octets (smpp.md §6.3),
	// after the fill bits that align them when a UDH precedes; only with
	// Charset GSM7.
	Packed bool
}

// ParseAlphabet returns the Alphabet of the configuration values charset
// ("gsm7" or "", "latin1", "ascii"; any case) and packed.
func ParseAlphabet(charset string, packed bool) (Alphabet, error) {
	var a Alphabet
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "gsm7":
		a.Charset = GSM7
	case "latin1":
		a.Charset = Latin1
	case "ascii":
		a.Charset = ASCII
	default:
		return a, fmt.Errorf("coding: data_coding 0 charset %q: want gsm7, latin1 or ascii", charset)
	}
	if packed && a.Charset != GSM7 {
		return Alphabet{}, fmt.Errorf("coding: packing needs the gsm7 charset, not %v", a.Charset)
	}
	a.Packed = packed
	return a, nil
}

// String returns "gsm7", "gsm7 packed", "latin1" or "ascii".
func (a Alphabet) String() string {
	if a.Packed {
		return a.Charset.String() + " packed"
	}
	return a.Charset.String()
}

// eightBit reports whether data_coding 0 carries an 8-bit character set.
func (a Alphabet) eightBit() bool { return a.Charset == Latin1 || a.Charset == ASCII }

// Pick is the package-level Pick, except that GSM7 (data_coding 0) is chosen
// only when the text also fits the SMSC's 8-bit character set; otherwise
// the text goes as UCS2.
func (a Alphabet) Pick(text string, preferred Coding) Coding {
	c := Pick(text, preferred)
	if c == GSM7 && a.eightBit() && !fits(text, a.Charset) {
		return UCS2
	}
	return c
}

// Encode converts text to the octets sent with coding c. For GSM7 (data_coding
// 0) they follow a: unpacked or packed GSM 03.38 septets, or the 8-bit
// character set, one octet per character. udhLen is the length of the UDH
// (UDHL included) that will precede the octets in short_message, 0 if
// none: packed septets start after fill bits that align them to a septet
// boundary. Text outside GSM 03.38, or outside the 8-bit set, is an error
// wrapping ErrUnencodable: the SMSC would drop such characters on air.
// Other codings encode as with the package-level Encode.
func (a Alphabet) Encode(c Coding, text string, udhLen int) ([]byte, error) {
	if c != GSM7 || a == (Alphabet{}) {
		return Encode(c, text)
	}
	septets, err := Encode(GSM7, text)
	if err != nil {
		return nil, err
	}
	if a.Packed {
		return packFill(septets, fillBits(udhLen)), nil
	}
	return Encode(a.Charset, text)
}

// Split is the package-level Split for coding c, with the chunks encoded
// by a.Encode (udhLen as there). Chunks are always measured in c's units:
// for GSM7 in septets, whatever octets a sends them as, because the SMSC
// converts data_coding 0 to GSM 03.38 for the air interface (a single SMS
// takes 160 characters, a segment 153, not 140 and 134 octets).
func (a Alphabet) Split(text string, c Coding, perPart, udhLen int) ([][]byte, error) {
	gsmOnAir := c == GSM7 && a != (Alphabet{}) || c == Latin1 || c == ASCII
	if !gsmOnAir {
		return Split(text, c, perPart)
	}
	pieces, err := splitText(text, c, perPart)
	if err != nil {
		return nil, err
	}
	chunks := make([][]byte, len(pieces))
	for i, p := range pieces {
		if chunks[i], err = a.Encode(c, p, udhLen); err != nil {
			return nil, err
		}
	}
	return chunks, nil
}

// splitText cuts text into pieces of at most perPart units of c, filling
// each as far as possible, without splitting a character: the same cuts
// Split makes, on the text instead of its encoding.
func splitText(text string, c Coding, perPart int) ([]string, error) {
	if !fits(text, c) {
		_, err := Encode(c, text) // names the first character that does not fit
		return nil, err
	}
	var pieces []string
	start, used := 0, 0
	for i, r := range text {
		w, _ := width(r, c)
		if w > perPart {
			return nil, fmt.Errorf("coding: split %v into %d-unit parts: a character does not fit", c, perPart)
		}
		if used+w > perPart {
			pieces = append(pieces, text[start:i])
			start, used = i, 0
		}
		used += w
	}
	return append(pieces, text[start:]), nil
}

// Decode converts user data received with data_coding dc. For GSM 7-bit
// codings it follows a: packed septets are unpacked (udhLen is the length
// of the UDH that preceded b in the user data, 0 if none, for the fill
// bits), and an 8-bit character set is read as such (ASCII as its superset
// ISO-8859-1, an octet above 0x7F flagged ErrMalformed). Anything else is
// the package-level Decode, whose flags it shares.
func (a Alphabet) Decode(dc uint8, b []byte, udhLen int) (string, error) {
	if a == (Alphabet{}) || alphabetOf(dc) != alphaGSM7 {
		return Decode(dc, b)
	}
	switch {
	case a.Packed:
		return decodeGSM7(unpackFill(b, fillBits(udhLen), -1)), nil
	case a.Charset == ASCII:
		if i := firstHigh(b); i >= 0 {
			return latin1(b), fmt.Errorf("coding: data_coding 0x%02X: octet 0x%02X at %d is not ASCII, read as ISO-8859-1: %w",
				dc, b[i], i, ErrMalformed)
		}
		return string(b), nil
	}
	return latin1(b), nil
}

// fillBits is the number of zero bits between a UDH of udhLen octets and
// packed septets, so that they start on a septet boundary (TS 23.040
// §9.2.3.24; smpp.md §6.3).
func fillBits(udhLen int) int {
	if udhLen <= 0 {
		return 0
	}
	return (7 - (8*udhLen)%7) % 7
}

// packFill packs septets into octets after fill zero bits.
func packFill(septets []byte, fill int) []byte {
	out := make([]byte, (fill+len(septets)*7+7)/8)
	for i, s := range septets {
		bit := fill + i*7
		idx, shift := bit/8, uint(bit%8)
		v := uint16(s&0x7F) << shift
		out[idx] |= byte(v)
		if shift > 1 {
			out[idx+1] |= byte(v >> 8)
		}
	}
	return out
}

// unpackFill unpacks n septets that start after fill bits (see UnpackGSM7,
// which is unpackFill with no fill, for n < 0).
func unpackFill(packed []byte, fill, n int) []byte {
	bits := max(len(packed)*8-fill, 0)
	total := bits / 7
	if n < 0 {
		n = total
		// A final septet made only of the 7 spare bits of the last octet
		// is zero fill, not an '@' (smpp.md §6.3).
		if n > 0 && bits%7 == 0 && packed[len(packed)-1]>>1 == 0 {
			n--
		}
	}
	n = min(n, total)
	out := make([]byte, n)
	for i := range out {
		bit := fill + i*7
		idx, shift := bit/8, uint(bit%8)
		v := uint16(packed[idx]) >> shift
		if shift > 1 {
			v |= uint16(packed[idx+1]) << (8 - shift)
		}
		out[i] = byte(v & 0x7F)
	}
	return out
}
