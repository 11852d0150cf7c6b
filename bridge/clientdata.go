package bridge

import (
	"fmt"
	"slices"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Octet room of one SMS's user data, and of each part of a split 8-bit
// message under an 8-bit-reference concatenation UDH (as Kannel splits).
const (
	smsOctets  = 140
	partOctets = smsOctets - coding.UDHConcat8Len
)

// clientData reports whether p asks for a platform's UDH or 8-bit data
// (which the bridge builds itself, not smsc.BuildSubmits).
func clientData(p *SubmitParams) bool {
	return p != nil && (p.Binary || len(p.UDH) > 0)
}

// clientPayload is the user data of an MT with a platform's UDH or 8-bit
// data, without the UDH: its coding and octets. Text goes in the SMSC's
// alphabet (UCS-2 when it does not fit), as for any MT.
func clientPayload(text string, p *SubmitParams, a coding.Alphabet, pref coding.Coding) (coding.Coding, []byte, error) {
	if p.Binary {
		return coding.Binary, []byte(p.Data), nil
	}
	c := a.Pick(text, pref)
	b, err := a.Encode(c, text, len(p.UDH))
	if err != nil {
		return c, nil, fmt.Errorf("encode message: %w", err)
	}
	return c, b, nil
}

// clientParts is how many submit_sm an MT with a platform's UDH or 8-bit
// data takes; an MT with a UDH whose text does not fit one SMS is refused
// (the bridge does not split a message carrying the platform's own UDH).
func clientParts(text string, p *SubmitParams, a coding.Alphabet, pref coding.Coding) (int, error) {
	c, data, err := clientPayload(text, p, a, pref)
	if err != nil {
		return 0, invalidf("text", "%v", err)
	}
	if len(p.UDH) > 0 {
		room, units, unit := smsOctets-len(p.UDH), len(data), "octets"
		if c == coding.GSM7 {
			room, units, unit = (smsOctets-len(p.UDH))*8/7, coding.Units(text, c), "GSM septets"
		}
		if units > room {
			return 0, invalidf("text", "%d %s with a %d-octet UDH: at most %d fit one SMS, and a message with its own UDH is not split", units, unit, len(p.UDH), room)
		}
		return 1, nil
	}
	if len(data) <= smsOctets {
		return 1, nil
	}
	return (len(data) + partOctets - 1) / partOctets, nil
}

// buildClient builds the submit_sm of an MT with a platform's UDH or 8-bit
// data: the UDH and the user data in one submit_sm with esm_class UDHI;
// 8-bit data without a UDH in one submit_sm up to 140 octets, else in parts
// of 134 octets under an 8-bit-reference concatenation UDH (ref's low
// octet).
func buildClient(src, dst smsc.Address, text string, p *SubmitParams, o smsc.SubmitOptions) ([]*pdu.ShortMessage, error) {
	n, err := clientParts(text, p, o.Alphabet, o.Coding)
	if err != nil {
		return nil, err
	}
	maxParts := o.MaxParts
	if maxParts <= 0 || maxParts > 255 {
		maxParts = 255
	}
	if n > maxParts {
		return nil, fmt.Errorf("%w: %d parts of 8-bit data, at most %d", smsc.ErrTooManyParts, n, maxParts)
	}
	c, data, _ := clientPayload(text, p, o.Alphabet, o.Coding)
	base := pdu.ShortMessage{
		SourceTON: src.TON, SourceNPI: src.NPI, SourceAddr: src.Addr,
		DestTON: dst.TON, DestNPI: dst.NPI, DestAddr: dst.Addr,
		DataCoding: c.DataCoding(),
	}
	if o.RegisteredDelivery {
		base.RegisteredDelivery = 1
	}
	if len(p.UDH) > 0 {
		sm := base
		sm.ESMClass |= pdu.ESMClassUDHI
		sm.Message = append([]byte(p.UDH), data...)
		return []*pdu.ShortMessage{&sm}, nil
	}
	if n == 1 {
		sm := base
		sm.Message = slices.Clone(data)
		return []*pdu.ShortMessage{&sm}, nil
	}
	out := make([]*pdu.ShortMessage, 0, n)
	for i := range n {
		chunk := data[i*partOctets : min(len(data), (i+1)*partOctets)]
		sm := base
		sm.ESMClass |= pdu.ESMClassUDHI
		sm.Message = append(coding.Concat{Ref: o.Ref & 0xFF, Total: n, Seq: i + 1}.UDH(), chunk...)
		out = append(out, &sm)
	}
	return out, nil
}

// classDCS is data_coding dc with the message waiting indication, message
// class and alt-dcs of p, as Kannel's SMPP driver writes them
// (fields_to_dcs; an indication comes first, see SubmitParams.MWI; a class
// forces the 0xFx group): GSM 7-bit (0x00) → 0xF0|class, 8-bit (0x04) → 0xF4|class (class
// 1 with alt-dcs but no class), UCS-2 (0x08) → 0x18|class. Other
// data_codings (Latin-1, ASCII on data_coding 1 or 3) have no class form
// and stay as they are.
func classDCS(dc uint8, p *SubmitParams) uint8 {
	if p.MWI > 0 && (dc == 0x00 || dc == 0x08) {
		m := p.MWI - 1
		switch {
		case m&0x04 != 0:
			return 0xC0 | m&0x03
		case dc == 0x08:
			return 0xE8 | m
		}
		return 0xD8 | m
	}
	class := uint8(1)
	if p.Class > 0 {
		class = p.Class - 1
	}
	switch {
	case p.Class == 0 && !p.AltDCS:
		return dc
	case dc == 0x00 || dc == 0x04:
		return 0xF0 | dc | class
	case dc == 0x08 && p.Class > 0:
		return 0x18 | class
	}
	return dc
}
