package smsc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// ErrTooManyParts means a text needs more segments than the configured
// maximum (SubmitOptions.MaxParts, at most 255).
var ErrTooManyParts = errors.New("smsc: message needs too many parts")

// maxPayload is the largest message_payload TLV value (SMPP 3.4 §5.3.2.32).
const maxPayload = 65535

// Address is an SMPP address with its type of number and numbering plan
// (smpp.md §4.4).
type Address struct {
	Addr     string
	TON, NPI uint8
}

// LongMode is how a text longer than one SMS is sent (smpp.md §6.5); it is a
// per-SMSC setting because support varies.
type LongMode int

// Long message modes.
const (
	// LongUDH: one submit_sm per segment with a concatenation UDH, 8-bit
	// reference (IEI 0x00), esm_class UDHI. Universally accepted; the default.
	LongUDH LongMode = iota
	// LongUDH16: as LongUDH with a 16-bit reference (IEI 0x08).
	LongUDH16
	// LongSAR: one submit_sm per segment with the sar_msg_ref_num,
	// sar_total_segments and sar_segment_seqnum TLVs and no UDH. Segments are
	// sized for a 7-octet UDH (152 septets, 66 UCS2 units), which the SMSC may
	// add for the air interface.
	LongSAR
	// LongPayload: a single submit_sm carrying the whole text in
	// message_payload (sm_length 0); the SMSC segments it.
	LongPayload
)

// String returns the configuration name: "udh", "udh16", "sar" or "payload".
func (m LongMode) String() string {
	switch m {
	case LongUDH16:
		return "udh16"
	case LongSAR:
		return "sar"
	case LongPayload:
		return "payload"
	}
	return "udh"
}

// ParseLongMode parses the long_messages setting: "udh", "udh16", "sar" or
// "payload".
func ParseLongMode(s string) (LongMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "udh":
		return LongUDH, nil
	case "udh16":
		return LongUDH16, nil
	case "sar":
		return LongSAR, nil
	case "payload":
		return LongPayload, nil
	}
	return 0, fmt.Errorf("smsc: unknown long message mode %q (want udh, udh16, sar or payload)", s)
}

// SubmitOptions control how BuildSubmits encodes and segments a text.
type SubmitOptions struct {
	// Coding is the preferred coding (gsm7, latin1 or ascii); UCS2 is used
	// when the text does not fit it (coding.Pick).
	Coding coding.Coding
	// Alphabet is what data_coding 0 carries on this SMSC: GSM 03.38
	// unpacked (the zero value) or packed, or ISO-8859-1 / ASCII. Text
	// sent with data_coding 0 must fit it (else UCS2) and is segmented in
	// GSM septets whatever the octets (coding.Alphabet).
	Alphabet coding.Alphabet
	// Long is how texts longer than one SMS are sent.
	Long LongMode
	// MaxParts caps the number of segments; 0 (or above 255) means 255. In
	// LongPayload mode it caps the segments the SMSC will have to make,
	// estimated with an 8-bit-reference UDH.
	MaxParts int
	// Ref is the concatenation reference of this message, chosen by the
	// caller so that it does not repeat for a recipient while an older
	// multipart may still be in flight (only its low octet in LongUDH).
	Ref uint16
	// RegisteredDelivery asks for a final delivery receipt (registered_delivery 1).
	RegisteredDelivery bool
}

// BuildSubmits encodes text and returns the submit_sm bodies that send it
// from src to dst: one for a text that fits a single SMS (160 GSM septets,
// 140 octets, 70 UCS2 units) or in LongPayload mode, else one per segment,
// in order, with the same reference, data_coding and registered_delivery
// (smpp.md §6.4). Segments never split a GSM escape pair or a UTF-16
// surrogate pair. Each segment must go out as its own submit_sm with its own
// sequence number. Errors: ErrTooManyParts, and coding errors for text that
// is not valid UTF-8.
func BuildSubmits(src, dst Address, text string, o SubmitOptions) ([]*pdu.ShortMessage, error) {
	c := o.Alphabet.Pick(text, o.Coding)
	maxParts := o.MaxParts
	if maxParts <= 0 || maxParts > 255 {
		maxParts = 255
	}
	base := pdu.ShortMessage{
		SourceTON: src.TON, SourceNPI: src.NPI, SourceAddr: src.Addr,
		DestTON: dst.TON, DestNPI: dst.NPI, DestAddr: dst.Addr,
		DataCoding: c.DataCoding(),
	}
	if o.RegisteredDelivery {
		base.RegisteredDelivery = 1
	}
	if coding.Units(text, c) <= coding.Capacity(c, 0) {
		b, err := o.Alphabet.Encode(c, text, 0)
		if err != nil {
			return nil, fmt.Errorf("smsc: encode message: %w", err)
		}
		sm := base
		sm.Message = b
		return []*pdu.ShortMessage{&sm}, nil
	}
	if o.Long == LongPayload {
		return buildPayload(base, c, text, o.Alphabet, maxParts)
	}
	return buildSegments(base, c, text, o, maxParts)
}

// buildPayload builds the single message_payload submit_sm of LongPayload.
func buildPayload(base pdu.ShortMessage, c coding.Coding, text string, a coding.Alphabet, maxParts int) ([]*pdu.ShortMessage, error) {
	if n := coding.Parts(text, c, coding.UDHConcat8Len); n > maxParts {
		return nil, fmt.Errorf("%w: %d parts of %v, at most %d", ErrTooManyParts, n, c, maxParts)
	}
	b, err := a.Encode(c, text, 0)
	if err != nil {
		return nil, fmt.Errorf("smsc: encode message: %w", err)
	}
	if len(b) > maxPayload {
		return nil, fmt.Errorf("%w: %d octets exceed message_payload", ErrTooManyParts, len(b))
	}
	sm := base
	sm.TLVs.Set(pdu.TagMessagePayload, b)
	return []*pdu.ShortMessage{&sm}, nil
}

// buildSegments builds one submit_sm per segment for LongUDH, LongUDH16 and
// LongSAR.
func buildSegments(base pdu.ShortMessage, c coding.Coding, text string, o SubmitOptions, maxParts int) ([]*pdu.ShortMessage, error) {
	udhLen := coding.UDHConcat16Len
	if o.Long == LongUDH {
		udhLen = coding.UDHConcat8Len
	}
	sent := udhLen // UDH octets in short_message, for packed fill bits
	if o.Long == LongSAR {
		sent = 0
	}
	chunks, err := o.Alphabet.Split(text, c, coding.Capacity(c, udhLen), sent)
	if err != nil {
		return nil, fmt.Errorf("smsc: segment message: %w", err)
	}
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("%w: %d parts of %v, at most %d", ErrTooManyParts, len(chunks), c, maxParts)
	}
	out := make([]*pdu.ShortMessage, len(chunks))
	for i, chunk := range chunks {
		sm := base
		sm.TLVs = nil
		switch o.Long {
		case LongSAR:
			sm.Message = chunk
			sm.TLVs.SetUint16(pdu.TagSARMsgRefNum, o.Ref)
			sm.TLVs.SetUint8(pdu.TagSARTotalSegments, uint8(len(chunks)))
			sm.TLVs.SetUint8(pdu.TagSARSegmentSeqnum, uint8(i+1))
		default:
			cc := coding.Concat{Ref: o.Ref, Total: len(chunks), Seq: i + 1, Wide: o.Long == LongUDH16}
			if !cc.Wide {
				cc.Ref &= 0xFF
			}
			sm.ESMClass |= pdu.ESMClassUDHI
			sm.Message = append(cc.UDH(), chunk...)
		}
		out[i] = &sm
	}
	return out, nil
}

// Inbound is a deliver_sm taken apart: either a delivery receipt or (a
// segment of) a mobile-originated message.
type Inbound struct {
	// Receipt is non-nil for a delivery receipt.
	Receipt *dlr.Receipt
	// Concat is non-nil for a segment of a concatenated MO, whether the
	// segment information came in a UDH or in SAR TLVs (SAR references are
	// reported as Wide). Segments that claim to be 1 of 1 are reported as
	// single messages (nil).
	Concat *coding.Concat
	// DataCoding is the deliver_sm data_coding.
	DataCoding uint8
	// Payload is the user data without the UDH: short_message, or
	// message_payload when short_message is empty. It aliases the
	// ShortMessage's buffers.
	Payload []byte
	// UDHLen is the length of the UDH stripped from Payload (UDHL
	// included), 0 if none: packed GSM septets after a UDH start at the
	// next septet boundary (coding.Alphabet.Decode).
	UDHLen int

	alphabet coding.Alphabet // what data_coding 0 means, for Text
}

// InboundOptions are the per-SMSC settings ParseInbound needs.
type InboundOptions struct {
	// TextReceipts makes a message whose esm_class says MO (message type
	// 0) a receipt when its text has the receipt shape ("id:… stat:…",
	// dlr.LooksLikeReceipt), for SMSCs known to send receipts without the
	// receipt flag (smpp.md §5.2 step 1). Off by default: an SMS that
	// happens to read "ID:12345 STAT: please call me" is an MO.
	TextReceipts bool
	// Alphabet is what data_coding 0 carries on this SMSC; Text uses it.
	Alphabet coding.Alphabet
}

// ParseInbound classifies a deliver_sm (or a data_sm converted to a
// ShortMessage) per smpp.md §5.2 and §6.6:
//
//   - it is a receipt when the esm_class message type is SMSC delivery
//     receipt (0x04), SME delivery ack (0x08) or intermediate notification
//     (0x20), UDHI ignored; or, with o.TextReceipts, when the message type
//     is 0 but the text has the receipt shape (dlr.LooksLikeReceipt), for
//     SMSCs that forget the flag. The receipted_message_id, message_state
//     and network_error_code TLVs win over the text, which is read as
//     ASCII/Latin-1 whatever the data_coding. With UDHI set the text is
//     the body after its UDH, unless the whole body already reads as a
//     receipt (plain text flagged 0x44) or the UDH is malformed: then the
//     whole body. A receipt without any id comes back with Receipt set and
//     an error wrapping dlr.ErrNoID (it should still be acknowledged);
//   - otherwise it is an MO; with esm_class UDHI the UDH is parsed and
//     stripped, whether in short_message or in message_payload, and its
//     concatenation element reported in Concat; without a concatenation UDH
//     the SAR TLVs are used when all three are present and valid. A malformed
//     UDH is an error wrapping coding.ErrUDH (Kannel answers such a deliver_sm
//     with ESME_RINVESMCLASS).
func ParseInbound(sm *pdu.ShortMessage, o InboundOptions) (Inbound, error) {
	in := Inbound{DataCoding: sm.DataCoding, Payload: sm.Message, alphabet: o.Alphabet}
	if len(in.Payload) == 0 {
		if p, ok := sm.TLVs.Get(pdu.TagMessagePayload); ok {
			in.Payload = p
		}
	}
	if isReceiptType(sm.ESMClass) {
		in.Payload = receiptBody(sm.ESMClass, in.Payload)
		return parseReceipt(sm, in)
	}
	if sm.ESMClass&pdu.ESMClassUDHI != 0 && len(in.Payload) > 0 {
		concat, rest, err := coding.ParseUDH(in.Payload)
		if err != nil {
			return in, fmt.Errorf("smsc: deliver_sm: %w", err)
		}
		in.Concat, in.UDHLen, in.Payload = concat, len(in.Payload)-len(rest), rest
	}
	if o.TextReceipts && sm.ESMClass&pdu.ESMClassTypeMask == 0 && dlr.LooksLikeReceipt(in.Payload) {
		in.Concat, in.UDHLen = nil, 0
		return parseReceipt(sm, in)
	}
	if in.Concat == nil {
		in.Concat = sarConcat(sm.TLVs)
	}
	if in.Concat != nil && in.Concat.Total == 1 {
		in.Concat = nil
	}
	return in, nil
}

// isReceiptType applies smpp.md §5.2 step 1 to the esm_class message type.
func isReceiptType(esmClass uint8) bool {
	switch esmClass & pdu.ESMClassTypeMask {
	case pdu.ESMClassReceipt, pdu.ESMClassSMEAck, pdu.ESMClassIntermediate:
		return true
	}
	return false
}

// receiptBody returns the text of a receipt: with UDHI, what follows a
// well-formed UDH, unless the whole body already reads as a receipt (some
// SMSCs flag plain text 0x44); a malformed UDH leaves the body whole, so
// the text parser still finds what it can.
func receiptBody(esmClass uint8, body []byte) []byte {
	if esmClass&pdu.ESMClassUDHI == 0 || len(body) == 0 || dlr.LooksLikeReceipt(body) {
		return body
	}
	if _, rest, err := coding.ParseUDH(body); err == nil {
		return rest
	}
	return body
}

// parseReceipt fills in.Receipt from the body and the receipt TLVs.
func parseReceipt(sm *pdu.ShortMessage, in Inbound) (Inbound, error) {
	id, _ := sm.TLVs.String(pdu.TagReceiptedMessageID)
	state := -1
	if v, ok := sm.TLVs.Uint8(pdu.TagMessageState); ok {
		state = int(v)
	}
	netErr, _ := sm.TLVs.Get(pdu.TagNetworkErrorCode)
	r, err := dlr.Parse(in.Payload, id, state, netErr)
	in.Receipt = &r
	if err != nil {
		return in, fmt.Errorf("smsc: deliver_sm receipt: %w", err)
	}
	return in, nil
}

// sarConcat returns the segment information of the SAR TLVs, or nil when
// they are absent, incomplete or inconsistent.
func sarConcat(t pdu.TLVs) *coding.Concat {
	ref, ok1 := t.Uint16(pdu.TagSARMsgRefNum)
	total, ok2 := t.Uint8(pdu.TagSARTotalSegments)
	seq, ok3 := t.Uint8(pdu.TagSARSegmentSeqnum)
	if !ok1 || !ok2 || !ok3 || total == 0 || seq == 0 || seq > total {
		return nil
	}
	return &coding.Concat{Ref: ref, Total: int(total), Seq: int(seq), Wide: true}
}

// Text decodes the payload with the SMSC's alphabet
// (coding.Alphabet.Decode): a non-nil error is a flag (coding.ErrBinary,
// coding.ErrMalformed) and the text is still usable. Receipts are decoded
// by dlr.Parse instead; Text gives their raw body.
func (in Inbound) Text() (string, error) {
	return in.alphabet.Decode(in.DataCoding, in.Payload, in.UDHLen)
}
