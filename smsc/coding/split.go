package coding

import "fmt"

// userDataOctets is the size of the user data of one SMS (TS 23.040).
const userDataOctets = 140

// Capacity returns how many units (as counted by Units) fit in one SMS whose
// user data also carries a header of udhOverhead octets (UDHL included):
// with no header 160 GSM septets, 140 octets or 70 UTF-16 units; with the
// 6-octet concatenation header 153, 134 or 67; with 7 octets 152, 133 or 66
// (smpp.md §6.4). For GSM the header is rounded up to whole septets (the fill
// bits). It returns 0 when the header leaves no room.
func Capacity(c Coding, udhOverhead int) int {
	octets := userDataOctets - max(udhOverhead, 0)
	if octets <= 0 {
		return 0
	}
	switch c {
	case GSM7:
		return octets * 8 / 7
	case UCS2:
		return octets / 2
	}
	return octets
}

// Parts returns how many SMS text needs in coding c when every segment
// carries a header of udhOverhead octets: 1 if the whole text fits a single
// SMS (Capacity(c, 0)), else the number of segments Split produces with
// Capacity(c, udhOverhead) units each. Empty text needs 1. Characters that c
// cannot represent count 1 unit (call Pick first). It returns 0 when
// udhOverhead leaves no room for a character.
func Parts(text string, c Coding, udhOverhead int) int {
	if Units(text, c) <= Capacity(c, 0) {
		return 1
	}
	per := Capacity(c, udhOverhead)
	if c == Binary {
		if per == 0 {
			return 0
		}
		return (len(text) + per - 1) / per
	}
	parts, used := 1, 0
	for _, r := range text {
		w, _ := width(r, c)
		if w > per {
			return 0
		}
		if used+w > per {
			parts++
			used = 0
		}
		used += w
	}
	return parts
}

// Split encodes text in coding c and cuts the result into chunks of at most
// perPart units (septets for GSM7, octets for ASCII, Latin1 and Binary,
// UTF-16 code units for UCS2), filling each chunk as far as possible. It
// never separates a GSM escape from the septet it prefixes, nor the two
// halves of a UTF-16 surrogate pair: such a character moves whole to the next
// chunk. Empty text gives one empty chunk. Chunks share one backing array but
// have their capacity capped, so appending to one never changes another.
// Errors: encoding errors of Encode, or perPart too small for a character.
func Split(text string, c Coding, perPart int) ([][]byte, error) {
	b, err := Encode(c, text)
	if err != nil {
		return nil, err
	}
	unit := 1
	if c == UCS2 {
		unit = 2
	}
	limit := perPart * unit // chunk size in octets
	chunks := make([][]byte, 0, len(b)/max(limit, 1)+1)
	for start := 0; ; {
		end := min(start+limit, len(b))
		if end < len(b) {
			end = cutPoint(b, start, end, c)
			if end == start {
				return nil, fmt.Errorf("coding: split %v into %d-unit parts: a character does not fit", c, perPart)
			}
		}
		chunks = append(chunks, b[start:end:end])
		if end >= len(b) {
			return chunks, nil
		}
		start = end
	}
}

// cutPoint moves a proposed chunk end back so that it does not fall inside a
// GSM escape pair or a UTF-16 surrogate pair. b[start:] is well-formed
// output of Encode.
func cutPoint(b []byte, start, end int, c Coding) int {
	switch c {
	case GSM7:
		// Walk from the start: escape pairs make the parity matter.
		i := start
		for i < end {
			w := 1
			if b[i] == esc {
				w = 2
			}
			if i+w > end {
				break
			}
			i += w
		}
		return i
	case UCS2:
		end -= end % 2
		if end-start >= 2 && b[end-2] >= 0xD8 && b[end-2] <= 0xDB { // high surrogate last
			end -= 2
		}
		return end
	}
	return end
}
