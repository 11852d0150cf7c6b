package coding

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// alphabet is how Decode reads a data_coding value.
type alphabet int

const (
	alphaBinary alphabet = iota
	alphaGSM7
	alphaLatin1
	alphaUCS2
	alphaCyrillic
	alphaHebrew
)

// alphabetOf classifies a data_coding octet: the SMPP 3.4 values 0x00–0x0F
// first, then the TS 23.038 coding groups (smpp.md §4.3).
func alphabetOf(dc uint8) alphabet {
	switch {
	case dc <= 0x0F:
		return smppAlphabet[dc]
	case dc <= 0x7F: // general data coding, with or without automatic deletion
		if dc&0x20 != 0 { // compressed
			return alphaBinary
		}
		switch (dc >> 2) & 3 {
		case 0:
			return alphaGSM7
		case 2:
			return alphaUCS2
		}
		return alphaBinary // 8-bit data, or reserved
	case dc <= 0xBF: // reserved coding groups
		return alphaBinary
	case dc <= 0xDF: // message waiting indication, discard / store, GSM 7-bit
		return alphaGSM7
	case dc <= 0xEF: // message waiting indication, store, UCS2
		return alphaUCS2
	case dc&0x04 != 0: // message class, 8-bit data
		return alphaBinary
	}
	return alphaGSM7 // message class, GSM 7-bit
}

// smppAlphabet is the SMPP 3.4 meaning of data_coding 0x00–0x0F.
var smppAlphabet = [16]alphabet{
	0x00: alphaGSM7,     // SMSC default alphabet
	0x01: alphaLatin1,   // IA5; read as its superset ISO-8859-1
	0x02: alphaBinary,   // 8-bit binary
	0x03: alphaLatin1,   // ISO-8859-1
	0x04: alphaBinary,   // 8-bit binary
	0x05: alphaBinary,   // JIS X 0208 (not implemented)
	0x06: alphaCyrillic, // ISO-8859-5
	0x07: alphaHebrew,   // ISO-8859-8
	0x08: alphaUCS2,     // UCS2
	0x09: alphaBinary,   // pictogram
	0x0A: alphaBinary,   // ISO-2022-JP (not implemented)
	0x0B: alphaBinary,   // reserved
	0x0C: alphaBinary,   // reserved
	0x0D: alphaBinary,   // extended kanji JIS X 0212 (not implemented)
	0x0E: alphaBinary,   // KS C 5601 (not implemented)
	0x0F: alphaBinary,   // reserved
}

// Decode converts user data (without UDH) received with the given data_coding
// to text. It never panics and always returns usable text:
//
//   - GSM 7-bit codings (0x00, general data coding groups with alphabet 00,
//     0xC0–0xDF, 0xF0–0xF3) are read as unpacked septets; data with an octet
//     above 0x7F cannot be unpacked GSM and is read as ISO-8859-1 instead,
//     flagged ErrMalformed (SMSCs that use Latin-1 as their default alphabet);
//   - 0x01 (IA5) and 0x03 are read as ISO-8859-1; 0x06 as ISO-8859-5;
//     0x07 as ISO-8859-8;
//   - UCS2 codings (0x08, group alphabet 10, 0xE0–0xEF) are read as UTF-16BE
//     including surrogate pairs; an odd trailing octet or an unpaired
//     surrogate becomes U+FFFD, flagged ErrMalformed;
//   - everything else (binary, compressed, reserved, unimplemented
//     alphabets) is read as ISO-8859-1, one rune per octet, flagged ErrBinary
//     so that the caller can apply its own fallback (hex, replacement text).
//
// A non-nil error is therefore a flag describing the string, not a failure;
// test it with errors.Is.
func Decode(dataCoding uint8, b []byte) (string, error) {
	switch alphabetOf(dataCoding) {
	case alphaGSM7:
		switch cls := classOf(b); {
		case cls == clsSame:
			return string(b), nil
		case cls&clsHigh != 0:
			i := firstHigh(b)
			return latin1(b), fmt.Errorf("coding: data_coding 0x%02X: octet 0x%02X at %d is not a GSM septet, read as ISO-8859-1: %w",
				dataCoding, b[i], i, ErrMalformed)
		}
		return decodeGSM7(b), nil
	case alphaLatin1:
		return latin1(b), nil
	case alphaUCS2:
		return decodeUCS2(b)
	case alphaCyrillic:
		return decodeTable(b, &isoCyrillic), nil
	case alphaHebrew:
		s := decodeTable(b, &isoHebrew)
		if bad := firstUnassignedHebrew(b); bad >= 0 {
			return s, fmt.Errorf("coding: octet 0x%02X at %d is unassigned in ISO-8859-8: %w", b[bad], bad, ErrMalformed)
		}
		return s, nil
	}
	return latin1(b), fmt.Errorf("coding: data_coding 0x%02X: %w", dataCoding, ErrBinary)
}

// firstHigh returns the index of the first octet above 0x7F, or -1.
func firstHigh(b []byte) int {
	for i, c := range b {
		if c >= 0x80 {
			return i
		}
	}
	return -1
}

// latin1 reads b as ISO-8859-1: every octet is the code point of its value.
func latin1(b []byte) string {
	if firstHigh(b) < 0 {
		return string(b)
	}
	buf := make([]byte, 0, 2*len(b))
	for _, c := range b {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}

// decodeUCS2 reads b as UTF-16BE, replacing unpaired surrogates and an odd
// trailing octet with U+FFFD.
func decodeUCS2(b []byte) (string, error) {
	buf := make([]byte, 0, len(b)+len(b)/2)
	bad := -1
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case utf16.IsSurrogate(u) && u < 0xDC00 && i+3 < len(b):
			lo := rune(b[i+2])<<8 | rune(b[i+3])
			if r := utf16.DecodeRune(u, lo); r != utf8.RuneError {
				buf = utf8.AppendRune(buf, r)
				i += 2
				continue
			}
			fallthrough
		case utf16.IsSurrogate(u):
			u = utf8.RuneError
			if bad < 0 {
				bad = i
			}
		}
		buf = utf8.AppendRune(buf, u)
	}
	if len(b)%2 != 0 {
		buf = utf8.AppendRune(buf, utf8.RuneError)
		if bad < 0 {
			bad = len(b) - 1
		}
	}
	if bad >= 0 {
		return string(buf), fmt.Errorf("coding: UCS2 unit at octet %d is not valid UTF-16: %w", bad, ErrMalformed)
	}
	return string(buf), nil
}

// decodeTable reads b as an ISO-8859 part whose upper half (0xA0–0xFF) is
// given by upper; 0x00–0x9F equal their code points.
func decodeTable(b []byte, upper *[96]rune) string {
	buf := make([]byte, 0, 2*len(b))
	for _, c := range b {
		r := rune(c)
		if c >= 0xA0 {
			r = upper[c-0xA0]
		}
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf)
}

// isoCyrillic is the upper half of ISO-8859-5.
var isoCyrillic = func() (t [96]rune) {
	for i := range t {
		c := rune(0xA0 + i)
		switch {
		case c == 0xA0 || c == 0xAD:
			t[i] = c // NBSP, soft hyphen
		case c == 0xF0:
			t[i] = '№'
		case c == 0xFD:
			t[i] = '§'
		default:
			t[i] = c - 0xA0 + 0x0400
		}
	}
	return t
}()

// isoHebrew is the upper half of ISO-8859-8; unassigned octets are U+FFFD.
var isoHebrew = func() (t [96]rune) {
	for i := range t {
		c := rune(0xA0 + i)
		switch {
		case c == 0xAA:
			t[i] = '×'
		case c == 0xBA:
			t[i] = '÷'
		case c == 0xDF:
			t[i] = '\u2017'
		case c >= 0xE0 && c <= 0xFA:
			t[i] = c - 0xE0 + 0x05D0
		case c == 0xFD:
			t[i] = '\u200E'
		case c == 0xFE:
			t[i] = '\u200F'
		case c == 0xA1 || (c >= 0xBF && c <= 0xDE) || c == 0xFB || c == 0xFC || c == 0xFF:
			t[i] = utf8.RuneError
		default:
			t[i] = c // same as ISO-8859-1
		}
	}
	return t
}()

// firstUnassignedHebrew returns the index of the first octet unassigned in
// ISO-8859-8, or -1.
func firstUnassignedHebrew(b []byte) int {
	for i, c := range b {
		if c >= 0xA0 && isoHebrew[c-0xA0] == utf8.RuneError {
			return i
		}
	}
	return -1
}
