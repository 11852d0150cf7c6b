package coding

import "unicode/utf8"

// esc is the GSM 03.38 escape to the extension table (smpp.md §6.2).
const esc = 0x1B

// gsmBasic maps a septet of the GSM 03.38 default alphabet to its character
// (3GPP TS 23.038 §6.2.1, smpp.md §6.1). Position 0x1B is the escape; on its
// own it is never produced by the decoder.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u00A0', 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExt maps the septet after an escape to its extension-table character
// (smpp.md §6.2); zero means "not in the table".
var gsmExt = [128]rune{
	0x0A: '\f',
	0x14: '^',
	0x28: '{',
	0x29: '}',
	0x2F: '\\',
	0x3C: '[',
	0x3D: '~',
	0x3E: ']',
	0x40: '|',
	0x65: '€',
}

// Entries of gsmEnc: zero means not encodable; encBasic|septet is a basic
// character, encExt|septet an extension character (escape + septet).
const (
	encBasic = 0x100
	encExt   = 0x200
)

// gsmEnc maps the characters below U+0100 to their GSM encoding.
var gsmEnc = buildGSMEnc()

func buildGSMEnc() (t [256]uint16) {
	for s, r := range gsmBasic {
		if s != esc && r < 0x100 {
			t[r] = encBasic | uint16(s)
		}
	}
	for s, r := range gsmExt {
		if r != 0 && r < 0x100 {
			t[r] = encExt | uint16(s)
		}
	}
	t['ç'] = encBasic | 0x09 // no own code; 0x09 is Ç, which phones often show as ç
	return t
}

// gsmRune returns the GSM encoding of r in the gsmEnc entry format.
func gsmRune(r rune) uint16 {
	if r < 0x100 {
		return gsmEnc[r]
	}
	switch r {
	case 'Δ':
		return encBasic | 0x10
	case 'Φ':
		return encBasic | 0x12
	case 'Γ':
		return encBasic | 0x13
	case 'Λ':
		return encBasic | 0x14
	case 'Ω':
		return encBasic | 0x15
	case 'Π':
		return encBasic | 0x16
	case 'Ψ':
		return encBasic | 0x17
	case 'Σ':
		return encBasic | 0x18
	case 'Θ':
		return encBasic | 0x19
	case 'Ξ':
		return encBasic | 0x1A
	case '€':
		return encExt | 0x65
	}
	return 0
}

// Septet classes of gsmClass.
const (
	clsSame = 0 // ASCII character with the same code in GSM 03.38
	clsMap  = 1 // septet (or ASCII character) that needs the tables
	clsHigh = 2 // octet above 0x7F: neither a septet nor ASCII
)

// gsmClass classifies an octet, either as a septet (decoding) or as an
// ASCII byte of UTF-8 text (encoding): the two coincide exactly for clsSame.
var gsmClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= 0x80:
			t[c] = clsHigh
		case c == esc || gsmBasic[c] != rune(c):
			t[c] = clsMap
		}
	}
	return t
}()

// classOf ORs the classes of all octets of s.
func classOf(s []byte) uint8 {
	var cls uint8
	for i := 0; i < len(s); i++ {
		cls |= gsmClass[s[i]]
	}
	return cls
}

// allSame reports whether text is ASCII whose GSM 03.38 septets have the
// same values, so that it encodes as itself.
func allSame(text string) bool {
	for i := 0; i < len(text); i++ {
		if gsmClass[text[i]] != clsSame {
			return false
		}
	}
	return true
}

// encodeGSM7 appends the unpacked GSM 03.38 septets of text to dst. On a
// character outside the default alphabet and its extension table, or an
// invalid UTF-8 sequence (bad is -1), it returns that character
// and its byte offset with ok false.
func encodeGSM7(dst []byte, text string) (out []byte, bad rune, at int, ok bool) {
	for i := 0; i < len(text); {
		c := text[i]
		if e := gsmEnc[c]; c < utf8.RuneSelf && e&encBasic != 0 {
			dst = append(dst, byte(e))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size <= 1 {
			return dst, -1, i, false
		}
		e := gsmRune(r)
		switch {
		case e&encBasic != 0:
			dst = append(dst, byte(e))
		case e&encExt != 0:
			dst = append(dst, esc, byte(e))
		default:
			return dst, r, i, false
		}
		i += size
	}
	return dst, 0, 0, true
}

// decodeGSM7 decodes unpacked septets. An escape followed by a septet that is
// not in the extension table decodes as the basic character of that septet
// (TS 23.038 §6.2.1.1); escape-escape (reserved for another extension table)
// and a trailing lone escape decode as a space. The caller has checked that
// every octet is below 0x80.
func decodeGSM7(b []byte) string {
	// Every septet is at most 2 UTF-8 octets (€ takes 3 for 2 septets), so a
	// single SMS decodes in the stack buffer and only the string allocates.
	var stack [512]byte
	buf := stack[:0]
	if 2*len(b) > len(stack) {
		buf = make([]byte, 0, 2*len(b))
	}
	for i := 0; i < len(b); i++ {
		r := gsmBasic[b[i]]
		if b[i] == esc {
			r = ' '
			if i+1 < len(b) {
				i++
				if x := gsmExt[b[i]]; x != 0 {
					r = x
				} else if b[i] != esc {
					r = gsmBasic[b[i]]
				}
			}
		}
		switch {
		case r < utf8.RuneSelf:
			buf = append(buf, byte(r))
		case r < 0x800: // every basic-table character: two UTF-8 octets
			buf = append(buf, byte(0xC0|r>>6), byte(0x80|r&0x3F))
		default:
			buf = utf8.AppendRune(buf, r)
		}
	}
	return string(buf)
}

// PackGSM7 packs septets (one per octet, high bit ignored) into the 7-bit
// packed form of TS 23.038 §6.1.2.1: septet i occupies bits 7i…7i+6 of the
// bit stream, least significant bit first. The result has ceil(7n/8) octets;
// unused trailing bits are zero.
func PackGSM7(septets []byte) []byte { return packFill(septets, 0) }

// UnpackGSM7 unpacks n septets from packed GSM 7-bit data, one septet per
// octet. If n exceeds what packed holds, it unpacks what there is. If n is
// negative the count is unknown: every whole septet is unpacked, except that
// a final septet made only of the 7 spare bits of the last octet is dropped
// when it is 0x00 (zero fill, not an '@'; smpp.md §6.3). A final CR there is
// kept: CR padding is only a convention some peers follow.
func UnpackGSM7(packed []byte, n int) []byte { return unpackFill(packed, 0, n) }
