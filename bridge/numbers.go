package bridge

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// TON and NPI values used for addresses (SMPP 3.4 §5.2.5, §5.2.6).
const (
	tonUnknown       = 0
	tonInternational = 1
	tonNational      = 2
	tonNetwork       = 3
	tonAlphanumeric  = 5
	npiUnknown       = 0
	npiISDN          = 1
)

// Addr is an SMPP address with its type of number and numbering plan.
type Addr struct {
	Addr     string
	TON, NPI uint8
}

// NormalizeInbound turns an address received from an SMSC into the form
// platforms see: international numbers (TON 1) become E.164 with "+";
// alphanumeric senders (TON 5) stay as they are; national numbers (TON 2, or
// TON 0 with a leading 0) become E.164 when country (ISO 3166 alpha-2) is
// set; anything else stays as received.
func NormalizeInbound(a Addr, country string) string {
	s := strings.TrimSpace(a.Addr)
	switch {
	case a.TON == tonAlphanumeric:
		return s
	case strings.HasPrefix(s, "+") && allDigits(s[1:]):
		return s
	case a.TON == tonInternational && allDigits(s):
		return "+" + strings.TrimLeft(s, "0")
	case country != "" && allDigits(s) && (a.TON == tonNational || (a.TON == tonUnknown && strings.HasPrefix(s, "0"))):
		if e, ok := toE164(s, country); ok {
			return e
		}
	}
	return s
}

func toE164(s, country string) (string, bool) {
	n, err := phonenumbers.Parse(s, strings.ToUpper(country))
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// TONSetting is a per-SMSC source_ton/dest_ton setting: Auto (-1) or a fixed
// TON value.
type TONSetting int

// TONAuto lets the bridge pick TON/NPI from the address's shape.
const TONAuto TONSetting = -1

// Outbound maps a platform-side address to an SMPP address: E.164 numbers go
// out without "+" as TON 1 NPI 1; short codes (digits, at most 8) as TON 3
// NPI 0; alphanumeric senders as TON 5 NPI 0; other digit strings as TON 0
// NPI 1. A fixed setting overrides the TON (NPI 1 for digits, 0 otherwise).
func Outbound(s string, setting TONSetting) Addr {
	s = strings.TrimSpace(s)
	var a Addr
	switch {
	case strings.HasPrefix(s, "+") && allDigits(s[1:]) && len(s) > 1:
		a = Addr{s[1:], tonInternational, npiISDN}
	case allDigits(s) && len(s) <= 8:
		a = Addr{s, tonNetwork, npiUnknown}
	case allDigits(s):
		a = Addr{s, tonUnknown, npiISDN}
	default:
		a = Addr{s, tonAlphanumeric, npiUnknown}
	}
	if setting != TONAuto {
		a.TON = uint8(setting)
		a.NPI = npiUnknown
		if allDigits(a.Addr) {
			a.NPI = npiISDN
		}
	}
	return a
}

// IsPhoneNumber reports whether s is E.164 ("+" and 8 to 15 digits).
func IsPhoneNumber(s string) bool {
	return strings.HasPrefix(s, "+") && len(s) >= 9 && len(s) <= 16 && allDigits(s[1:])
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
