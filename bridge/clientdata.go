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

// concatIE is the length of the 8-bit-reference concatenation information
// element Kannel appends to a platform's UDH to split a message.
const concatIE = 5

// clientChunks is the user data of an MT with a platform's UDH or 8-bit
// data, in the parts it is sent in (without their UDH), and its coding.
// Text goes in the SMSC's alphabet (UCS-2 when it does not fit), as for
// any MT. As Kannel splits: 8-bit data without a UDH in 134-octet parts
// under a concatenation UDH; with a UDH, a message that does not fit one
// SMS in parts whose UDH is the platform's with a concatenation element
// appended (then the platform's UDH must hold none).
func clientChunks(text string, p *SubmitParams, a coding.Alphabet, pref coding.Coding) (coding.Coding, [][]byte, error) {
	udh := len(p.UDH)
	if p.Binary {
		data := []byte(p.Data)
		room := smsOctets - udh
		if len(data) > room {
			room = partOctets
			if udh > 0 {
				room = smsOctets - udh - concatIE
			}
		}
		if len(data) <= room {
			return coding.Binary, [][]byte{data}, nil
		}
		if room <= 0 {
			return coding.Binary, nil, invalidf("udh", "a %d-octet UDH leaves no room to split %d octets", udh, len(data))
		}
		var out [][]byte
		for len(data) > 0 {
			n := min(room, len(data))
			out, data = append(out, data[:n]), data[n:]
		}
		return coding.Binary, out, nil
	}
	c := a.Pick(text, pref)
	if coding.Units(text, c) <= coding.Capacity(c, udh) {
		b, err := a.Encode(c, text, udh)
		if err != nil {
			return c, nil, invalidf("text", "encode message: %v", err)
		}
		return c, [][]byte{b}, nil
	}
	per := coding.Capacity(c, udh+concatIE)
	if per <= 0 {
		return c, nil, invalidf("udh", "a %d-octet UDH leaves no room to split the text", udh)
	}
	chunks, err := a.Split(text, c, per, udh+concatIE)
	if err != nil {
		return c, nil, invalidf("text", "segment message: %v", err)
	}
	return c, chunks, nil
}

// clientUDH is the UDH of part seq (1-based) of total of an MT with a
// platform's UDH udh (none: nil) split under reference ref: udh as it is
// for a single part; for several, udh with an 8-bit-reference
// concatenation element appended (UDHL grown by 5), or that element alone.
func clientUDH(udh []byte, ref uint16, total, seq int) []byte {
	if total == 1 {
		return udh
	}
	ie := coding.Concat{Ref: ref & 0xFF, Total: total, Seq: seq}.UDH()
	if len(udh) == 0 {
		return ie
	}
	out := append([]byte{udh[0] + concatIE}, udh[1:]...)
	return append(out, ie[1:]...)
}

// hasConcat reports whether udh holds a concatenation element (8- or
// 16-bit reference).
func hasConcat(udh []byte) bool {
	for ies := udh[1:]; len(ies) >= 2; {
		if ies[0] == 0x00 || ies[0] == 0x08 {
			return true
		}
		n := 2 + int(ies[1])
		if n > len(ies) {
			return false
		}
		ies = ies[n:]
	}
	return false
}

// clientParts is how many submit_sm an MT with a platform's UDH or 8-bit
// data takes (see clientChunks).
func clientParts(text string, p *SubmitParams, a coding.Alphabet, pref coding.Coding) (int, error) {
	_, chunks, err := clientChunks(text, p, a, pref)
	if err != nil {
		return 0, err
	}
	if len(chunks) > 1 && len(p.UDH) > 0 && hasConcat([]byte(p.UDH)) {
		return 0, invalidf("text", "does not fit one SMS with the UDH given, and that UDH already holds a concatenation element: split it yourself")
	}
	return len(chunks), nil
}

// buildClient builds the submit_sm of an MT with a platform's UDH or 8-bit
// data (see clientChunks and clientUDH), all with esm_class UDHI when they
// carry a UDH.
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
		return nil, fmt.Errorf("%w: %d parts, at most %d", smsc.ErrTooManyParts, n, maxParts)
	}
	c, chunks, _ := clientChunks(text, p, o.Alphabet, o.Coding)
	base := pdu.ShortMessage{
		SourceTON: src.TON, SourceNPI: src.NPI, SourceAddr: src.Addr,
		DestTON: dst.TON, DestNPI: dst.NPI, DestAddr: dst.Addr,
		DataCoding: c.DataCoding(),
	}
	if o.RegisteredDelivery {
		base.RegisteredDelivery = 1
	}
	out := make([]*pdu.ShortMessage, len(chunks))
	for i, chunk := range chunks {
		sm := base
		udh := clientUDH([]byte(p.UDH), o.Ref, len(chunks), i+1)
		if len(udh) > 0 {
			sm.ESMClass |= pdu.ESMClassUDHI
		}
		sm.Message = append(slices.Clone(udh), chunk...)
		out[i] = &sm
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
