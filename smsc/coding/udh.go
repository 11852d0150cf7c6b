package coding

import "fmt"

// User data header information element identifiers (TS 23.040 §9.2.3.24).
const (
	ieiConcat8  = 0x00 // concatenated SMS, 8-bit reference
	ieiConcat16 = 0x08 // concatenated SMS, 16-bit reference
)

// UDH sizes in octets, including the UDHL octet.
const (
	UDHConcat8Len  = 6 // 05 00 03 ref total seq
	UDHConcat16Len = 7 // 06 08 04 refhi reflo total seq
)

// Concat identifies one segment of a concatenated message: the reference
// shared by all segments, their count and this segment's 1-based position.
// Wide is true for a 16-bit reference (IEI 0x08) and false for an 8-bit one
// (IEI 0x00, only the low octet of Ref is used).
type Concat struct {
	Ref   uint16
	Total int
	Seq   int
	Wide  bool
}

// UDH returns a user data header holding only c: 05 00 03 ref total seq, or
// 06 08 04 refhi reflo total seq when Wide. Total and Seq are sent modulo 256.
func (c Concat) UDH() []byte {
	if c.Wide {
		return []byte{UDHConcat16Len - 1, ieiConcat16, 4, byte(c.Ref >> 8), byte(c.Ref), byte(c.Total), byte(c.Seq)}
	}
	return []byte{UDHConcat8Len - 1, ieiConcat8, 3, byte(c.Ref), byte(c.Total), byte(c.Seq)}
}

// ParseUDH parses the user data header at the start of b (UDHL octet, then
// information elements) and returns the concatenation element, if any, and
// the user data after the header. Unknown elements are skipped. A header
// longer than b, or an element that overruns the header, is an error wrapping
// ErrUDH. A concatenation element with the wrong length is an error too; one
// with a zero total or a sequence number of zero or above the total is
// ignored, as TS 23.040 §9.2.3.24.1 requires. If several concatenation
// elements are present the last one wins. concat is nil when there is none.
func ParseUDH(b []byte) (concat *Concat, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty user data", ErrUDH)
	}
	udhl := int(b[0])
	if 1+udhl > len(b) {
		return nil, nil, fmt.Errorf("%w: UDHL %d exceeds the %d octets of user data", ErrUDH, udhl, len(b)-1)
	}
	ies := b[1 : 1+udhl]
	for len(ies) > 0 {
		if len(ies) < 2 || 2+int(ies[1]) > len(ies) {
			return nil, nil, fmt.Errorf("%w: information element 0x%02X overruns UDHL %d", ErrUDH, ies[0], udhl)
		}
		iei, data := ies[0], ies[2:2+int(ies[1])]
		ies = ies[2+len(data):]
		if iei != ieiConcat8 && iei != ieiConcat16 {
			continue
		}
		c, err := parseConcat(iei, data)
		if err != nil {
			return nil, nil, err
		}
		if c.Total > 0 && c.Seq > 0 && c.Seq <= c.Total {
			concat = &c
		}
	}
	return concat, b[1+udhl:], nil
}

// parseConcat decodes the data of a concatenation element.
func parseConcat(iei byte, data []byte) (Concat, error) {
	if iei == ieiConcat8 {
		if len(data) != 3 {
			return Concat{}, fmt.Errorf("%w: concatenation element 0x00 has length %d, want 3", ErrUDH, len(data))
		}
		return Concat{Ref: uint16(data[0]), Total: int(data[1]), Seq: int(data[2])}, nil
	}
	if len(data) != 4 {
		return Concat{}, fmt.Errorf("%w: concatenation element 0x08 has length %d, want 4", ErrUDH, len(data))
	}
	return Concat{Ref: uint16(data[0])<<8 | uint16(data[1]), Total: int(data[2]), Seq: int(data[3]), Wide: true}, nil
}
