package dlr

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// IDFormat is how an SMSC writes a message id (smpp.md §5.3).
type IDFormat int

// Message id formats.
const (
	FormatString IDFormat = iota // opaque: compared case-folded, exactly otherwise
	FormatDec                    // decimal integer, possibly zero-padded
	FormatHex                    // hexadecimal integer, possibly zero-padded, any case
)

// String returns "string", "dec" or "hex".
func (f IDFormat) String() string {
	switch f {
	case FormatDec:
		return "dec"
	case FormatHex:
		return "hex"
	}
	return "string"
}

// ParseIDFormat parses "string", "dec" (or "decimal") or "hex".
func ParseIDFormat(s string) (IDFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "string":
		return FormatString, nil
	case "dec", "decimal":
		return FormatDec, nil
	case "hex":
		return FormatHex, nil
	}
	return 0, fmt.Errorf("dlr: unknown id format %q (want string, dec or hex)", s)
}

// CanonicalID returns the comparison key of a message id written in format
// f. For FormatDec and FormatHex it is the decimal form of the integer value, so zero
// padding and letter case do not matter and a hex id and its decimal twin
// give the same key; ids beyond 64 bits are handled with math/big. An id
// that is not a valid number in its format (and every FormatString id) falls back
// to the id itself, trimmed of surrounding spaces and NULs and lower-cased;
// such a key never collides with a numeric one of the other format because
// it always contains a non-digit (a FormatHex fallback contains a non-hex
// character, a FormatDec fallback a non-digit).
func CanonicalID(id string, f IDFormat) string {
	id = cleanID(id)
	switch f {
	case FormatDec:
		if allDigits(id, 10) {
			return numberKey(id, 10)
		}
	case FormatHex:
		h := id
		if len(h) > 2 && (h[:2] == "0x" || h[:2] == "0X") {
			h = h[2:]
		}
		if allDigits(h, 16) {
			return numberKey(h, 16)
		}
	}
	return strings.ToLower(id)
}

// allDigits reports whether s is non-empty and made of digits of base 10 or 16.
func allDigits(s string, base int) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i], base) {
			return false
		}
	}
	return true
}

// isDigit reports whether c is a digit in base 10 or 16.
func isDigit(c byte, base int) bool {
	switch {
	case '0' <= c && c <= '9':
		return true
	case base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
		return true
	}
	return false
}

// numberKey returns the decimal form of the valid number s in base.
func numberKey(s string, base int) string {
	if n, err := strconv.ParseUint(s, base, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	n, _ := new(big.Int).SetString(s, base) // s is valid: only the size was too large
	return n.String()
}

// IDType is the per-SMSC msg_id_type setting: how the ids in receipts relate
// to the ids in submit_sm_resp. SubmitKey and ReceiptKey turn each side into
// a key; the two keys are equal when they name the same message.
type IDType int

// Message id types.
const (
	// TypeAuto compares the ids as strings after trimming, lower-casing and, for
	// ids made only of hex digits, stripping leading zeros ("00B8BE19" matches
	// "b8be19", "0001234" matches "1234"). It never converts between bases,
	// so it never equates two different numbers, but an SMSC that reports hex in
	// submit_sm_resp and decimal in receipts needs TypeHex.
	TypeAuto IDType = iota
	// TypeHex: submit_sm_resp ids are hexadecimal and receipt ids decimal (Kannel
	// msg-id-type 0x01, Vonage, smpp.md §5.3). As in Kannel, a receipt id
	// that is not all digits is read as hexadecimal.
	TypeHex
	// TypeDecimal: both ids are decimal integers, possibly zero-padded.
	TypeDecimal
)

// String returns "auto", "hex" or "decimal".
func (t IDType) String() string {
	switch t {
	case TypeHex:
		return "hex"
	case TypeDecimal:
		return "decimal"
	}
	return "auto"
}

// ParseIDType parses the msg_id_type setting: "auto", "hex" or "decimal"
// ("dec" is accepted too).
func ParseIDType(s string) (IDType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return TypeAuto, nil
	case "hex":
		return TypeHex, nil
	case "decimal", "dec":
		return TypeDecimal, nil
	}
	return 0, fmt.Errorf("dlr: unknown msg_id_type %q (want auto, hex or decimal)", s)
}

// SubmitKey returns the key of a message id from a submit_sm_resp.
func (t IDType) SubmitKey(id string) string {
	switch t {
	case TypeHex:
		return CanonicalID(id, FormatHex)
	case TypeDecimal:
		return CanonicalID(id, FormatDec)
	}
	return autoKey(id)
}

// ReceiptKey returns the key of a message id from a delivery receipt.
func (t IDType) ReceiptKey(id string) string {
	switch t {
	case TypeHex:
		if allDigits(cleanID(id), 10) {
			return CanonicalID(id, FormatDec)
		}
		return CanonicalID(id, FormatHex)
	case TypeDecimal:
		return CanonicalID(id, FormatDec)
	}
	return autoKey(id)
}

// autoKey is the key of both sides for TypeAuto.
func autoKey(id string) string {
	id = strings.ToLower(cleanID(id))
	if !allDigits(id, 16) {
		return id
	}
	if t := strings.TrimLeft(id, "0"); t != "" {
		return t
	}
	return "0"
}
