package smsctest

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// DC0 is what data_coding 0 ("SMSC default alphabet") means on the
// simulated SMSC (smpp.md §4.3, Kannel's alt-charset).
type DC0 int

// What data_coding 0 can mean.
const (
	DC0GSM7       DC0 = iota // GSM 03.38 unpacked, one septet per octet (default)
	DC0GSM7Packed            // GSM 03.38 packed, 8 septets in 7 octets
	DC0Latin1                // ISO-8859-1, transcoded to GSM on air
	DC0ASCII                 // ASCII (IA5), transcoded to GSM on air
)

// String returns the name ParseDC0 takes.
func (d DC0) String() string {
	switch d {
	case DC0GSM7:
		return "gsm7"
	case DC0GSM7Packed:
		return "gsm7-packed"
	case DC0Latin1:
		return "latin1"
	case DC0ASCII:
		return "ascii"
	}
	return fmt.Sprintf("DC0(%d)", int(d))
}

// ParseDC0 parses "gsm7", "gsm7-packed", "latin1" or "ascii".
func ParseDC0(name string) (DC0, error) {
	for _, d := range []DC0{DC0GSM7, DC0GSM7Packed, DC0Latin1, DC0ASCII} {
		if strings.EqualFold(strings.TrimSpace(name), d.String()) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("data_coding 0 charset %q: want gsm7, gsm7-packed, latin1 or ascii", name)
}

// WithDC0 sets what data_coding 0 means on this SMSC (default DC0GSM7): it
// decides which octets are valid in a data_coding 0 submit_sm and how its
// length is counted. A latin1 or ascii SMSC transcodes to GSM on air, so
// it counts GSM septets (160 in one SMS) there too.
func WithDC0(d DC0) Option { return func(s *Server) { s.dc0 = d } }

// checker collects the violations found in one PDU.
type checker struct {
	s  *Server
	ss *Session
	h  pdu.Header
	vs []Violation
	st pdu.Status // the first status a strict SMSC answers; OK when none
}

func (s *Server) newChecker(ss *Session, h pdu.Header) *checker {
	return &checker{s: s, ss: ss, h: h}
}

// fail records a violation of r, to be answered with st unless lenient.
func (c *checker) fail(r Rule, st pdu.Status, format string, args ...any) {
	v := c.s.violate(c.ss, c.h, r, st, format, args...)
	c.vs = append(c.vs, v)
	if !v.Lenient && c.st == pdu.StatusOK {
		c.st = st
	}
}

// header checks the header of a request.
func (c *checker) header() {
	if c.h.Seq == 0 || c.h.Seq > 0x7FFFFFFF {
		c.fail(RuleSequence, pdu.StatusInvCmdLen, "sequence_number 0x%08X outside 0x00000001..0x7FFFFFFF", c.h.Seq)
	}
	if c.h.Status != pdu.StatusOK {
		c.fail(RuleCommandStatus, pdu.StatusInvCmdLen, "command_status %s in a request, want 0", c.h.Status.String())
	}
}

// strlen fails rule RuleField with st when v is longer than max octets.
func (c *checker) strlen(field, v string, max int, st pdu.Status) {
	if len(v) > max {
		c.fail(RuleField, st, "%s %q: %d characters, max %d", field, v, len(v), max)
	}
}

// bind checks a bind request's fields.
func (c *checker) bind(b *pdu.Bind) {
	c.strlen("system_id", b.SystemID, 15, pdu.StatusInvSysID)
	c.strlen("password", b.Password, 8, pdu.StatusInvPaswd)
	c.strlen("system_type", b.SystemType, 12, pdu.StatusInvSysTyp)
	c.strlen("address_range", b.AddressRange, 40, pdu.StatusBindFail)
	if b.AddrTON > 6 {
		c.fail(RuleField, pdu.StatusBindFail, "addr_ton %d: not a TON (0..6)", b.AddrTON)
	}
	if !validNPI(b.AddrNPI) {
		c.fail(RuleField, pdu.StatusBindFail, "addr_npi %d: not an NPI (0, 1, 3, 4, 6, 8, 9, 10, 14, 18)", b.AddrNPI)
	}
	if b.InterfaceVersion != pdu.InterfaceVersion34 {
		c.fail(RuleInterfaceVersion, pdu.StatusOK,
			"interface_version 0x%02X, want 0x34: bound as SMPP 3.4 (sc_interface_version 0x34)", b.InterfaceVersion)
	}
}

func validNPI(n uint8) bool {
	switch n {
	case 0, 1, 3, 4, 6, 8, 9, 10, 14, 18:
		return true
	}
	return false
}

// submit checks a submit_sm body.
func (c *checker) submit(sm *pdu.ShortMessage) {
	c.strlen("service_type", sm.ServiceType, 5, pdu.StatusInvSerTyp)
	c.address("source_addr", sm.SourceAddr, sm.SourceTON, sm.SourceNPI, false)
	c.address("destination_addr", sm.DestAddr, sm.DestTON, sm.DestNPI, true)
	switch t := sm.ESMClass & pdu.ESMClassTypeMask; t {
	case 0, pdu.ESMClassSMEAck, pdu.ESMClassUserAck:
	default:
		c.fail(RuleESMClass, pdu.StatusInvEsmClass, "esm_class 0x%02X: message type 0x%02X is not one an ESME sends (0x00, 0x08, 0x10)", sm.ESMClass, t)
	}
	if sm.PriorityFlag > 3 {
		c.fail(RuleField, pdu.StatusInvPrtFlg, "priority_flag %d, max 3", sm.PriorityFlag)
	}
	if rd := sm.RegisteredDelivery; rd&pdu.RegisteredDeliveryMask == 3 || rd&0xE0 != 0 {
		c.fail(RuleField, pdu.StatusInvRegDlvFlg, "registered_delivery 0x%02X: reserved bits set", rd)
	}
	if why := timeProblem(sm.ScheduleDeliveryTime); why != "" {
		c.fail(RuleField, pdu.StatusInvSched, "schedule_delivery_time %q: %s", sm.ScheduleDeliveryTime, why)
	}
	if why := timeProblem(sm.ValidityPeriod); why != "" {
		c.fail(RuleField, pdu.StatusInvExpiry, "validity_period %q: %s", sm.ValidityPeriod, why)
	}
	if sm.ReplaceIfPresent > 1 {
		c.fail(RuleField, pdu.StatusInvRepFlag, "replace_if_present_flag %d, want 0 or 1", sm.ReplaceIfPresent)
	}
	if sm.SMDefaultMsgID != 0 {
		c.fail(RuleField, pdu.StatusInvDftMsgID, "sm_default_msg_id %d: no canned messages here, want 0", sm.SMDefaultMsgID)
	}
	c.userData(sm)
}

// address checks an address with its TON and NPI.
func (c *checker) address(field, a string, ton, npi uint8, dest bool) {
	stAddr, stTON, stNPI := pdu.StatusInvSrcAdr, pdu.StatusInvSrcTON, pdu.StatusInvSrcNPI
	if dest {
		stAddr, stTON, stNPI = pdu.StatusInvDstAdr, pdu.StatusInvDstTON, pdu.StatusInvDstNPI
	}
	prefix := strings.TrimSuffix(field, "_addr")
	switch {
	case len(a) > 20:
		c.fail(RuleField, stAddr, "%s %q: %d characters, max 20", field, a, len(a))
	case dest && a == "":
		c.fail(RuleField, stAddr, "%s empty", field)
	}
	if ton > 6 {
		c.fail(RuleField, stTON, "%s_ton %d: not a TON (0..6)", prefix, ton)
	}
	if !validNPI(npi) {
		c.fail(RuleField, stNPI, "%s_npi %d: not an NPI (0, 1, 3, 4, 6, 8, 9, 10, 14, 18)", prefix, npi)
	}
	switch ton {
	case 1, 2, 4: // international, national, subscriber number: digits only
		if i := strings.IndexFunc(a, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			c.fail(RuleField, stAddr, "%s %q with TON %d: %q is not a digit (numbers go without \"+\")", field, a, ton, a[i])
		}
	case 5: // alphanumeric
		if dest {
			break
		}
		if len(a) > 11 {
			c.fail(RuleField, stAddr, "%s %q: alphanumeric sender of %d characters, max 11", field, a, len(a))
		}
	}
}

// timeProblem says what is wrong with an SMPP time (smpp.md §4.6), or "".
func timeProblem(t string) string {
	if t == "" {
		return ""
	}
	if len(t) != 16 {
		return fmt.Sprintf("%d characters, want 0 or 16 (YYMMDDhhmmsstnnp)", len(t))
	}
	for i := range 15 {
		if t[i] < '0' || t[i] > '9' {
			return fmt.Sprintf("%q at %d is not a digit", t[i], i)
		}
	}
	n := func(i int) int { return int(t[i]-'0')*10 + int(t[i+1]-'0') }
	switch t[15] {
	case 'R':
		return ""
	case '+', '-':
		switch {
		case n(2) < 1 || n(2) > 12, n(4) < 1 || n(4) > 31, n(6) > 23, n(8) > 59, n(10) > 59:
			return "not a date and time"
		case n(13) > 48:
			return fmt.Sprintf("UTC offset of %d quarter hours, max 48", n(13))
		}
		return ""
	}
	return fmt.Sprintf("ends with %q, want +, - or R", t[15])
}

// alphabet is how the SMSC reads user data of a data_coding.
type alphabet int

const (
	abOctets    alphabet = iota // 8-bit: 140 octets
	abGSM                       // GSM 7-bit unpacked: 160 septets, octets 0x00–0x7F
	abGSMPacked                 // GSM 7-bit packed: 140 octets
	abText                      // Latin-1 or ASCII transcoded to GSM: 160 septets
	abUCS2                      // UTF-16BE: 140 octets, even, surrogates paired
)

// alphabetOf classifies data_coding dc (smpp.md §4.3); ascii reports that
// only octets up to 0x7F are valid.
func (s *Server) alphabetOf(dc uint8) (a alphabet, ascii bool) {
	switch {
	case dc == 0:
		switch s.dc0 {
		case DC0GSM7Packed:
			return abGSMPacked, false
		case DC0Latin1:
			return abText, false
		case DC0ASCII:
			return abText, true
		}
		return abGSM, false
	case dc == 1:
		return abText, true
	case dc == 3:
		return abText, false
	case dc == 8:
		return abUCS2, false
	case dc < 0x10, dc >= 0x80 && dc < 0xC0:
		return abOctets, false
	case dc < 0x80: // general data coding groups
		if dc&0x20 != 0 {
			return abOctets, false
		}
		switch (dc >> 2) & 3 {
		case 0:
			return abGSM, false
		case 2:
			return abUCS2, false
		}
		return abOctets, false
	case dc < 0xE0:
		return abGSM, false
	case dc < 0xF0:
		return abUCS2, false
	case dc&0x04 != 0:
		return abOctets, false
	}
	return abGSM, false
}

// gsmSeptets is the number of GSM 7-bit septets each Latin-1 character
// becomes on air: 2 for the extension table ({, [, €…), else 1 (characters
// GSM lacks are replaced by one).
var gsmSeptets = func() (t [256]uint8) {
	for i := range t {
		t[i] = uint8(coding.Units(string(rune(i)), coding.GSM7))
	}
	return t
}()

// udhSeptets is how many septets a UDH of n octets takes in GSM 7-bit user
// data, fill bits included (6 octets → 7 septets, leaving 153).
func udhSeptets(n int) int { return (n*8 + 6) / 7 }

// userData checks short_message / message_payload: the UDH, SAR TLVs,
// length and octets valid for the data_coding.
func (c *checker) userData(sm *pdu.ShortMessage) {
	ud, where := sm.Message, "short_message"
	payload, hasPayload := sm.TLVs.Get(pdu.TagMessagePayload)
	if len(ud) > 0 && hasPayload {
		c.fail(RulePayloadConflict, c.s.conflict, "text in both short_message (%d octets) and message_payload (%d octets)", len(ud), len(payload))
	}
	inPayload := len(ud) == 0 && hasPayload
	if inPayload {
		ud, where = payload, "message_payload"
	}
	udhi := sm.ESMClass&pdu.ESMClassUDHI != 0
	concat := c.sar(sm.TLVs, udhi)
	udhLen := 0
	if udhi {
		cc, n, ok := c.udh(ud, where)
		if !ok {
			return
		}
		udhLen = n
		if cc != nil {
			concat = cc
		}
	}
	text := ud[udhLen:]
	a, ascii := c.s.alphabetOf(sm.DataCoding)
	units, max, unit := udhLen+len(text), 140, "octets"
	switch a {
	case abGSM:
		if i := firstAbove(text, 0x7F); i >= 0 {
			c.fail(RuleCharset, pdu.StatusSubmitFail, "%s octet %d is 0x%02X: GSM 7-bit unpacked (data_coding 0x%02X) has only 0x00-0x7F",
				where, udhLen+i, text[i], sm.DataCoding)
		} else if loneESC(text) {
			c.fail(RuleCharset, pdu.StatusSubmitFail, "%s ends with a lone ESC (0x1B): an extension character cut in two", where)
		}
		units, max, unit = udhSeptets(udhLen)+len(text), 160, "septets"
	case abText:
		if i := firstAbove(text, 0x7F); ascii && i >= 0 {
			c.fail(RuleCharset, pdu.StatusSubmitFail, "%s octet %d is 0x%02X: ASCII (data_coding 0x%02X) has only 0x00-0x7F",
				where, udhLen+i, text[i], sm.DataCoding)
		}
		units, max, unit = udhSeptets(udhLen), 160, "septets (transcoded to GSM)"
		for _, b := range text {
			units += int(gsmSeptets[b])
		}
	case abUCS2:
		if len(text)%2 != 0 {
			c.fail(RuleMessageLength, pdu.StatusInvMsgLen, "%s: UCS-2 text of %d octets, not a whole number of 16-bit units", where, len(text))
		} else if why := surrogateProblem(text); why != "" {
			c.fail(RuleCharset, pdu.StatusSubmitFail, "%s: %s", where, why)
		}
	}
	if !inPayload && units > max {
		kind := "one SMS"
		if udhLen > 0 {
			kind = fmt.Sprintf("one SMS with a %d-octet UDH", udhLen)
		}
		c.fail(RuleMessageLength, pdu.StatusInvMsgLen, "%d %s in %s (data_coding 0x%02X), max %d", units, unit, kind, sm.DataCoding, max)
	}
	if concat != nil {
		c.concat(sm, concat)
	}
}

// loneESC reports whether GSM 7-bit septets end with an ESC that starts
// no pair (ESC ESC is a pair, the reserved second extension).
func loneESC(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1B {
			if i == len(b)-1 {
				return true
			}
			i++
		}
	}
	return false
}

// firstAbove returns the index of the first octet above max, or -1.
func firstAbove(b []byte, max byte) int {
	for i, x := range b {
		if x > max {
			return i
		}
	}
	return -1
}

// surrogateProblem describes an unpaired UTF-16 surrogate in b, or "".
func surrogateProblem(b []byte) string {
	for i := 0; i+1 < len(b); i += 2 {
		u := binary.BigEndian.Uint16(b[i:])
		switch {
		case u >= 0xD800 && u <= 0xDBFF:
			if i+3 >= len(b) {
				return fmt.Sprintf("ends with a high surrogate 0x%04X: a character cut in two", u)
			}
			if v := binary.BigEndian.Uint16(b[i+2:]); v < 0xDC00 || v > 0xDFFF {
				return fmt.Sprintf("high surrogate 0x%04X at octet %d without its low surrogate", u, i)
			}
			i += 2
		case u >= 0xDC00 && u <= 0xDFFF:
			return fmt.Sprintf("low surrogate 0x%04X at octet %d without its high surrogate", u, i)
		}
	}
	return ""
}

// udh checks the UDH at the start of ud and returns its concatenation
// element, if any, and its length. ok is false when ud has no usable UDH.
func (c *checker) udh(ud []byte, where string) (cc *coding.Concat, n int, ok bool) {
	if len(ud) == 0 {
		c.fail(RuleUDH, pdu.StatusInvEsmClass, "esm_class has UDHI (0x40) but the user data is empty")
		return nil, 0, false
	}
	udhl := int(ud[0])
	if 1+udhl > len(ud) {
		c.fail(RuleUDH, pdu.StatusInvEsmClass, "esm_class has UDHI (0x40) but %s is no UDH: UDHL %d exceeds the %d octets after it",
			where, udhl, len(ud)-1)
		return nil, 0, false
	}
	ies := ud[1 : 1+udhl]
	for len(ies) > 0 {
		if len(ies) < 2 || 2+int(ies[1]) > len(ies) {
			c.fail(RuleUDH, pdu.StatusInvEsmClass, "UDH information element 0x%02X overruns UDHL %d", ies[0], udhl)
			return nil, 0, false
		}
		iei, data := ies[0], ies[2:2+int(ies[1])]
		ies = ies[2+len(data):]
		if iei != 0x00 && iei != 0x08 {
			continue
		}
		want := 3
		if iei == 0x08 {
			want = 4
		}
		if len(data) != want {
			c.fail(RuleUDH, pdu.StatusInvEsmClass, "concatenation element 0x%02X of length %d, want %d", iei, len(data), want)
			continue
		}
		x := coding.Concat{Ref: uint16(data[0]), Total: int(data[want-2]), Seq: int(data[want-1]), Wide: iei == 0x08}
		if x.Wide {
			x.Ref = binary.BigEndian.Uint16(data)
		}
		switch {
		case cc != nil:
			c.fail(RuleUDH, pdu.StatusInvEsmClass, "two concatenation elements in one UDH")
		case x.Total == 0 || x.Seq == 0 || x.Seq > x.Total:
			c.fail(RuleUDH, pdu.StatusInvEsmClass, "concatenation part %d of %d (ref %d)", x.Seq, x.Total, x.Ref)
		default:
			cc = &x
		}
	}
	return cc, 1 + udhl, true
}

// sar checks the SAR TLVs and returns the segment they describe, if any.
func (c *checker) sar(t pdu.TLVs, udhi bool) *coding.Concat {
	n := 0
	for _, tag := range []pdu.Tag{pdu.TagSARMsgRefNum, pdu.TagSARTotalSegments, pdu.TagSARSegmentSeqnum} {
		if _, ok := t.Get(tag); ok {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if n < 3 {
		c.fail(RuleSAR, pdu.StatusMissingOptParam, "%d of the 3 SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)", n)
		return nil
	}
	ref, ok1 := t.Uint16(pdu.TagSARMsgRefNum)
	total, ok2 := t.Uint8(pdu.TagSARTotalSegments)
	seq, ok3 := t.Uint8(pdu.TagSARSegmentSeqnum)
	switch {
	case !ok1 || !ok2 || !ok3:
		c.fail(RuleSAR, pdu.StatusInvParLen, "a SAR TLV of the wrong length (sar_msg_ref_num 2 octets, the others 1)")
		return nil
	case udhi:
		c.fail(RuleSAR, pdu.StatusInvOptParamVal, "SAR TLVs together with a UDH (esm_class UDHI)")
		return nil
	case total == 0 || seq == 0 || seq > total:
		c.fail(RuleSAR, pdu.StatusInvOptParamVal, "sar_segment_seqnum %d of sar_total_segments %d", seq, total)
		return nil
	}
	return &coding.Concat{Ref: ref, Total: int(total), Seq: int(seq), Wide: true}
}

// concatKey identifies one concatenated message as a handset sees it.
type concatKey struct {
	systemID, src, dst string
	ref                uint16
	wide               bool
}

// partial is what the server saw of one concatenated message.
type partial struct {
	total int
	seen  [4]uint64 // bit seq-1
	at    time.Time
}

// concatWindow is how long a concatenated message's parts are compared;
// a reference may be reused after that.
const concatWindow = 10 * time.Minute

// concat checks that a part agrees with the earlier parts of its message
// and remembers it. Complete messages are forgotten, so references may be
// reused.
func (c *checker) concat(sm *pdu.ShortMessage, x *coding.Concat) {
	k := concatKey{src: sm.SourceAddr, dst: sm.DestAddr, ref: x.Ref, wide: x.Wide}
	if c.ss != nil {
		k.systemID = c.ss.SystemID()
	}
	now := time.Now()
	s := c.s
	s.mu.Lock()
	p := s.parts[k]
	if p != nil && now.Sub(p.at) > concatWindow {
		delete(s.parts, k)
		p = nil
	}
	mismatch := p != nil && p.total != x.Total
	var was int
	if mismatch {
		was = p.total
	}
	s.mu.Unlock()
	if mismatch {
		c.fail(RuleConcat, pdu.StatusInvEsmClass, "part %d of %d, but earlier parts of ref %d to %s said %d parts", x.Seq, x.Total, x.Ref, sm.DestAddr, was)
		return
	}
	if c.st != pdu.StatusOK { // refused: not a part the handset gets
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		if len(s.parts) >= 10000 {
			clear(s.parts)
		}
		p = &partial{total: x.Total, at: now}
		s.parts[k] = p
	}
	p.seen[(x.Seq-1)/64] |= 1 << ((x.Seq - 1) % 64)
	n := 0
	for _, w := range p.seen {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	if n == p.total {
		delete(s.parts, k)
	}
}
