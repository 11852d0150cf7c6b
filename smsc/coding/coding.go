package coding

import (
	"fmt"
	"strings"
)

// Coding is a text coding we can send. Its value is the SMPP data_coding
// octet it is sent with (SMPP 3.4 §5.2.19), so the zero value is GSM7.
type Coding uint8

// Codings we can send.
const (
	GSM7   Coding = 0x00 // SMSC default alphabet, GSM 03.38 unpacked (one septet per octet)
	ASCII  Coding = 0x01 // IA5 (CCITT T.50) / ASCII
	Latin1 Coding = 0x03 // ISO-8859-1
	Binary Coding = 0x04 // 8-bit binary: the text's bytes are sent as they are
	UCS2   Coding = 0x08 // ISO/IEC 10646 as UTF-16BE (surrogate pairs for characters above U+FFFF)
)

// DataCoding returns the data_coding octet to send with c.
func (c Coding) DataCoding() uint8 { return uint8(c) }

// String returns the configuration name of c ("gsm7", "ascii", "latin1",
// "binary", "ucs2"), or "coding(0xNN)" for other values.
func (c Coding) String() string {
	switch c {
	case GSM7:
		return "gsm7"
	case ASCII:
		return "ascii"
	case Latin1:
		return "latin1"
	case Binary:
		return "binary"
	case UCS2:
		return "ucs2"
	}
	return fmt.Sprintf("coding(0x%02X)", uint8(c))
}

// ParseCoding parses a configuration name: "gsm7", "ascii", "latin1",
// "ucs2" or "binary" (case-insensitive).
func ParseCoding(name string) (Coding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "gsm7":
		return GSM7, nil
	case "ascii":
		return ASCII, nil
	case "latin1":
		return Latin1, nil
	case "ucs2":
		return UCS2, nil
	case "binary":
		return Binary, nil
	}
	return 0, fmt.Errorf("coding: unknown coding %q (want gsm7, ascii, latin1 or ucs2)", name)
}
