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
	return BuildMOFor(from, to, text, ref, DC0GSM7)
}

// BuildMOFor is BuildMO from an SMSC whose data_coding 0 means dc0 (see
// WithDC0): text that fits dc0's charset (and GSM 03.38, as the handset
// sent it) goes as data_coding 0 in that charset — Latin-1 or ASCII
// octets, or packed GSM septets after the UDH and its fill bits — and
// other text as UCS2.
func BuildMOFor(from, to, text string, ref uint8, dc0 DC0) ([]*pdu.ShortMessage, error) {
	pref := coding.GSM7
	switch dc0 {
	case DC0Latin1:
		pref = coding.Latin1
	case DC0ASCII:
		pref = coding.ASCII
	}
	c := coding.Pick(text, pref)
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
	dc := uint8(c)
	if c == pref { // the SMSC's default alphabet
		dc = 0
	}
	from, to = strings.TrimPrefix(from, "+"), strings.TrimPrefix(to, "+")
	out := make([]*pdu.ShortMessage, len(parts))
	for i, p := range parts {
		sm := &pdu.ShortMessage{DestAddr: to, DataCoding: dc, Message: p}
		sm.SourceTON, sm.SourceNPI = addrType(from)
		sm.SourceAddr = from
		sm.DestTON, sm.DestNPI = addrType(to)
		var h []byte
		if udh {
			h = coding.Concat{Ref: uint16(ref), Total: len(parts), Seq: i + 1}.UDH()
			sm.ESMClass = pdu.ESMClassUDHI
			sm.Message = append(h, p...)
		}
		if dc0 == DC0GSM7Packed && c == coding.GSM7 {
			sm.Message = packAfterUDH(h, p)
		}
		out[i] = sm
	}
	return out, nil
}

// packAfterUDH returns udh followed by septets packed as GSM 7-bit, the
// first septet starting on the septet boundary after the UDH (fill bits
// zero; TS 23.040 §9.2.3.24).
func packAfterUDH(udh, septets []byte) []byte {
	k := udhSeptets(len(udh))
	b := coding.PackGSM7(append(make([]byte, k), septets...))
	copy(b, udh)
	return b
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
