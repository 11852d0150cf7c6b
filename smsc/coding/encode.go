package coding

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Encode converts text to the octets sent in short_message (or
// message_payload) with data coding c:
//
//   - GSM7: unpacked GSM 03.38 septets, one per octet, extension characters
//     as escape + septet (the form SMPP carries; see PackGSM7 for the packed
//     form); 'ç' is sent as 0x09 (Ç), the usual practice;
//   - ASCII: octets 0x00–0x7F; Latin1: ISO-8859-1 octets;
//   - UCS2: UTF-16BE, characters above U+FFFF as surrogate pairs;
//   - Binary: the bytes of text unchanged.
//
// Nothing is ever substituted: a character the coding cannot represent is an
// error wrapping ErrUnencodable that names the first such character and its
// byte offset. Text that is not valid UTF-8 is an error wrapping
// ErrInvalidUTF8 (except for Binary).
func Encode(c Coding, text string) ([]byte, error) {
	switch c {
	case Binary:
		return []byte(text), nil
	case GSM7:
		if allSame(text) { // the common case: plain ASCII letters, digits, punctuation
			return []byte(text), nil
		}
		out, bad, at, ok := encodeGSM7(make([]byte, 0, len(text)+8), text)
		if !ok {
			return nil, unencodable(c, bad, at)
		}
		return out, nil
	}
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("coding: encode as %v: %w", c, ErrInvalidUTF8)
	}
	switch c {
	case ASCII, Latin1:
		return encodeOctets(c, text)
	case UCS2:
		return encodeUCS2(text), nil
	}
	return nil, fmt.Errorf("coding: cannot encode as %v", c)
}

// unencodable builds the ErrUnencodable error for r at byte offset at, or
// the ErrInvalidUTF8 error when r is -1.
func unencodable(c Coding, r rune, at int) error {
	if r < 0 {
		return fmt.Errorf("coding: encode as %v: byte %d: %w", c, at, ErrInvalidUTF8)
	}
	return fmt.Errorf("%w: %q (U+%04X) at byte %d is not in %v", ErrUnencodable, r, r, at, c)
}

// encodeOctets encodes text as ASCII or ISO-8859-1, one octet per character.
func encodeOctets(c Coding, text string) ([]byte, error) {
	limit := rune(0x100)
	if c == ASCII {
		limit = 0x80
	}
	out := make([]byte, 0, len(text))
	for i, r := range text {
		if r >= limit {
			return nil, unencodable(c, r, i)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// encodeUCS2 encodes valid UTF-8 text as UTF-16BE.
func encodeUCS2(text string) []byte {
	out := make([]byte, 0, 2*len(text))
	for _, r := range text {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			out = append(out, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return out
}

// width returns how many units r takes in coding c (septets for GSM7, octets
// for ASCII, Latin1 and Binary, UTF-16 code units for UCS2) and whether c can
// represent it at all.
func width(r rune, c Coding) (int, bool) {
	switch c {
	case GSM7:
		e := gsmRune(r)
		if e&encExt != 0 {
			return 2, true
		}
		return 1, e != 0
	case ASCII, Latin1:
		// One octet on the SMPP link, but the SMSC converts to GSM 03.38 on
		// air (smpp.md §4.3), where an extension character takes two
		// septets: counting those as 2 keeps a part within both 140 octets
		// and 160 septets.
		limit := rune(0x100)
		if c == ASCII {
			limit = 0x80
		}
		if gsmRune(r)&encExt != 0 {
			return 2, r < limit
		}
		return 1, r < limit
	case UCS2:
		if r >= 0x10000 {
			return 2, true
		}
		return 1, true
	}
	return utf8.RuneLen(r), true
}

// fits reports whether every character of text is representable in c.
func fits(text string, c Coding) bool {
	for _, r := range text {
		if _, ok := width(r, c); !ok {
			return false
		}
	}
	return true
}

// Pick returns the coding to send text with. For preferred GSM7 it returns
// GSM7 when every character is in the GSM 03.38 default alphabet or its
// extension table. For ASCII and Latin1 the text must also be representable
// in GSM 03.38, because the SMSC converts to GSM for the air interface and
// silently drops what does not fit (smpp.md §4.3). Otherwise — and for
// invalid UTF-8 — it returns UCS2. Preferred UCS2 and Binary are returned
// unchanged.
func Pick(text string, preferred Coding) Coding {
	switch preferred {
	case UCS2, Binary:
		return preferred
	}
	if !utf8.ValidString(text) || !fits(text, GSM7) {
		return UCS2
	}
	switch preferred {
	case GSM7:
		return GSM7
	case ASCII, Latin1:
		if fits(text, preferred) {
			return preferred
		}
	}
	return UCS2
}

// Units returns the length of text in coding c: GSM 7-bit septets (extension
// characters count 2), octets for ASCII and Latin1 with GSM 03.38 extension
// characters counting 2 (the SMSC sends them as GSM on air), the UTF-8 length
// for Binary, or UTF-16 code units for UCS2 (characters above U+FFFF count 2).
// Characters c cannot represent count 1.
func Units(text string, c Coding) int {
	if c == Binary {
		return len(text)
	}
	n := 0
	for _, r := range text {
		w, _ := width(r, c)
		n += w
	}
	return n
}
