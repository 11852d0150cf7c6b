package smsctest

import (
	"strings"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// BuildMO returns the deliver_sm bodies of a mobile-originated message:
// GSM 03.38 unpacked (data_coding 0) when every character fits, else UCS2
// (data_coding 8); one PDU when it fits a single SMS, else segments with an
// 8-bit-reference concatenation UDH (esm_class 0x40) using ref. Addresses
// of digits are sent as international (TON 1, NPI 1), others as
// alphanumeric (TON 5); a leading "+" is dropped.
func BuildMO(from, to, text string, ref uint8) ([]*pdu.ShortMessage, error) {
	c := coding.Pick(text, coding.GSM7)
	parts := [][]byte{nil}
	udh := false
	if coding.Units(text, c) <= coding.Capacity(c, 0) {
		b, err := coding.Encode(c, text)
		if err != nil {
			return nil, err
		}
		parts[0] = b
	} else {
		var err error
		if parts, err = coding.Split(text, c, coding.Capacity(c, coding.UDHConcat8Len)); err != nil {
			return nil, err
		}
		udh = true
	}
	from, to = strings.TrimPrefix(from, "+"), strings.TrimPrefix(to, "+")
	out := make([]*pdu.ShortMessage, len(parts))
	for i, p := range parts {
		sm := &pdu.ShortMessage{DestAddr: to, DataCoding: uint8(c), Message: p}
		sm.SourceTON, sm.SourceNPI = addrType(from)
		sm.SourceAddr = from
		sm.DestTON, sm.DestNPI = addrType(to)
		if udh {
			h := coding.Concat{Ref: uint16(ref), Total: len(parts), Seq: i + 1}.UDH()
			sm.ESMClass = pdu.ESMClassUDHI
			sm.Message = append(h, p...)
		}
		out[i] = sm
	}
	return out, nil
}

// addrType returns TON/NPI for an address: 1/1 for digits, 5/0 otherwise.
func addrType(a string) (ton, npi uint8) {
	if a == "" {
		return 0, 0
	}
	for _, r := range a {
		if r < '0' || r > '9' {
			return 5, 0
		}
	}
	return 1, 1
}
