package pdu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// Maximum sizes of C-octet strings, including the NUL (smpp.md §1.5).
const (
	maxSystemID     = 16
	maxPassword     = 9
	maxSystemType   = 13
	maxAddressRange = 41
	maxServiceType  = 6
	maxAddr         = 21
	maxAddr65       = 65 // data_sm and alert_notification addresses
	maxTime         = 17
	maxMessageID    = 65
	maxDLName       = 21
	maxSMLength     = 254
	maxDests        = 254
	// maxLenient bounds a C-octet string a lenient decoder accepts past its
	// SMPP maximum (NUL included): 255 characters, longer than any id or
	// address seen from real SMSCs, short enough for any store key.
	maxLenient = 256
)

// inlineTLVs TLVs are stored next to the body without a separate
// allocation; a receipt carries three.
const inlineTLVs = 4

// holder puts a PDU, its body and room for a few TLVs in one allocation.
type holder[T any] struct {
	p   PDU
	b   T
	tlv [inlineTLVs]TLV
}

func newHolder[T any, PT interface {
	*T
	Body
}](h Header) *holder[T] {
	x := new(holder[T])
	x.p.Header = h
	x.p.Body = PT(&x.b)
	return x
}

// decoder reads fields from a body it owns. The first error sticks; later
// reads return zero values.
type decoder struct {
	b      []byte
	off    int
	err    error
	st     Status
	inline []TLV

	lenient   bool  // accept over-long C-octet strings and a missing final NUL
	tolerated error // the deviations lenient accepted, reported once the PDU decodes
}

func (d *decoder) fail(st Status, err error) {
	if d.err == nil {
		d.err, d.st = err, st
	}
}

// str returns b as a string without copying. Safe because the decoder owns
// its buffer and string regions never overlap Message or TLV values.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// cstr reads a C-octet string of at most max octets including the NUL. A
// string without NUL in max octets fails with st, unless the decoder is
// lenient.
func (d *decoder) cstr(field string, max int, st Status) string {
	if d.err != nil {
		return ""
	}
	rest := d.b[d.off:]
	i := bytes.IndexByte(rest[:min(len(rest), max)], 0)
	if i < 0 && d.lenient {
		return d.lenientCstr(field, max, st)
	}
	if i < 0 {
		if len(rest) < max {
			d.fail(StatusInvCmdLen, fmt.Errorf("%s: no NUL before end of body: %w", field, ErrTruncated))
		} else {
			d.fail(st, fmt.Errorf("%s: longer than %d octets: %w", field, max-1, ErrFieldTooLong))
		}
		return ""
	}
	d.off += i + 1
	return str(rest[:i])
}

// lenientCstr reads a C-octet string that has no NUL within max octets
// (smpp.md §1.1): the whole value up to its NUL, or up to the end of the
// body when the NUL is missing, at most maxLenient-1 octets. What it
// accepts is noted in d.tolerated.
func (d *decoder) lenientCstr(field string, max int, st Status) string {
	rest := d.b[d.off:]
	i := bytes.IndexByte(rest[:min(len(rest), maxLenient)], 0)
	var note error
	switch {
	case i >= 0:
		d.off += i + 1
		note = fmt.Errorf("%s: %d octets, longer than %d: %w", field, i, max-1, ErrFieldTooLong)
	case len(rest) < maxLenient:
		i = len(rest)
		d.off += i
		note = fmt.Errorf("%s: no NUL before end of body: %w", field, ErrTruncated)
		if i >= max {
			note = fmt.Errorf("%s: %d octets, longer than %d, and no NUL before end of body: %w", field, i, max-1, ErrFieldTooLong)
		}
	default:
		d.fail(st, fmt.Errorf("%s: longer than %d octets: %w", field, maxLenient-1, ErrFieldTooLong))
		return ""
	}
	d.tolerated = errors.Join(d.tolerated, note)
	return str(rest[:i])
}

// u8 reads one octet. After an earlier error it may still return octets;
// they are discarded with the PDU.
func (d *decoder) u8(field string) uint8 {
	if d.off < len(d.b) {
		v := d.b[d.off]
		d.off++
		return v
	}
	d.missing(field)
	return 0
}

// missing records a field cut off by the end of the body.
func (d *decoder) missing(field string) {
	d.fail(StatusInvCmdLen, fmt.Errorf("%s: missing: %w", field, ErrTruncated))
}

func (d *decoder) u32(field string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.missing(field)
		return 0
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

// shortMessage reads sm_length and short_message; nil when empty.
func (d *decoder) shortMessage() []byte {
	n := int(d.u8("sm_length"))
	if d.err != nil {
		return nil
	}
	if n > maxSMLength {
		d.fail(StatusInvMsgLen, fmt.Errorf("sm_length %d above %d: %w", n, maxSMLength, ErrFieldTooLong))
		return nil
	}
	if n > len(d.b)-d.off {
		d.fail(StatusInvMsgLen, fmt.Errorf("sm_length %d exceeds the %d octets left: %w", n, len(d.b)-d.off, ErrTruncated))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v
}

// end fails if octets remain (bodies without TLVs).
func (d *decoder) end() {
	if d.err == nil && d.off != len(d.b) {
		d.fail(StatusInvCmdLen, fmt.Errorf("%d octets after the last field: %w", len(d.b)-d.off, ErrTrailingData))
	}
}

// tlvs reads TLVs until the end of the body; nil when there are none.
func (d *decoder) tlvs() TLVs {
	if d.err != nil || d.off == len(d.b) {
		return nil
	}
	n := 0
	for off := d.off; off < len(d.b); n++ {
		if len(d.b)-off < 4 {
			d.fail(StatusInvOptParStream, fmt.Errorf("%d stray octets in TLV area: %w", len(d.b)-off, ErrBadTLV))
			return nil
		}
		l := int(binary.BigEndian.Uint16(d.b[off+2:]))
		if l > len(d.b)-off-4 {
			d.fail(StatusInvParLen, fmt.Errorf("TLV %s: length %d exceeds the %d octets left: %w",
				Tag(binary.BigEndian.Uint16(d.b[off:])), l, len(d.b)-off-4, ErrBadTLV))
			return nil
		}
		off += 4 + l
	}
	t := d.inline[:0:len(d.inline)]
	if n > len(d.inline) {
		t = make(TLVs, 0, n)
	}
	for d.off < len(d.b) {
		tag := Tag(binary.BigEndian.Uint16(d.b[d.off:]))
		l := int(binary.BigEndian.Uint16(d.b[d.off+2:]))
		d.off += 4
		var v []byte
		if l > 0 {
			v = d.b[d.off : d.off+l : d.off+l]
		}
		d.off += l
		t = append(t, TLV{Tag: tag, Value: v})
	}
	return t
}

// encoder appends fields; the first error sticks.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) cstr(field, s string, max int) {
	if e.err != nil {
		return
	}
	if len(s) >= max {
		e.err = fmt.Errorf("%s: %d octets, max %d: %w", field, len(s), max-1, ErrFieldTooLong)
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		e.err = fmt.Errorf("%s: contains NUL: %w", field, ErrBadValue)
		return
	}
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

func (e *encoder) u8(v uint8) { e.b = append(e.b, v) }

func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

func (e *encoder) shortMessage(m []byte) {
	if e.err != nil {
		return
	}
	if len(m) > maxSMLength {
		e.err = fmt.Errorf("short_message: %d octets, max %d: %w", len(m), maxSMLength, ErrFieldTooLong)
		return
	}
	e.b = append(e.b, uint8(len(m)))
	e.b = append(e.b, m...)
}

func (e *encoder) tlvs(t TLVs) {
	if e.err == nil {
		e.b, e.err = appendTLVs(e.b, t)
	}
}

// decodeBody decodes the body of a PDU with header h. body is owned by
// the result.
func (o DecodeOptions) decodeBody(h Header, body []byte) (*PDU, error) {
	if !h.ID.Known() {
		return &PDU{Header: h}, &DecodeError{Header: h, HeaderOK: true, Status: StatusInvCmdID, Err: ErrUnknownCommand}
	}
	if len(body) == 0 && h.ID.IsResponse() {
		return &PDU{Header: h}, nil
	}
	d := decoder{b: body, lenient: o.Lenient}
	p := decodeKnown(h, &d)
	if d.err == nil {
		if d.tolerated != nil && o.Tolerated != nil {
			o.Tolerated(h, d.tolerated)
		}
		return p, nil
	}
	if h.ID.IsResponse() && h.Status != StatusOK {
		return &PDU{Header: h}, nil
	}
	return &PDU{Header: h}, &DecodeError{Header: h, HeaderOK: true, Status: d.st, Err: d.err}
}

func decodeKnown(h Header, d *decoder) *PDU {
	switch h.ID {
	case BindReceiver, BindTransmitter, BindTransceiver:
		x := newHolder[Bind](h)
		x.b.decode(d)
		return &x.p
	case BindReceiverResp, BindTransmitterResp, BindTransceiverResp:
		x := newHolder[BindResp](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	case Outbind:
		x := newHolder[OutbindBody](h)
		x.b.decode(d)
		return &x.p
	case SubmitSM, DeliverSM:
		x := newHolder[ShortMessage](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	case SubmitSMResp, DeliverSMResp, DataSMResp:
		x := newHolder[MessageResp](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	case DataSM:
		x := newHolder[DataSMBody](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	case QuerySM:
		x := newHolder[QuerySMBody](h)
		x.b.decode(d)
		return &x.p
	case QuerySMResp:
		x := newHolder[QuerySMRespBody](h)
		x.b.decode(d)
		return &x.p
	case CancelSM:
		x := newHolder[CancelSMBody](h)
		x.b.decode(d)
		return &x.p
	case ReplaceSM:
		x := newHolder[ReplaceSMBody](h)
		x.b.decode(d)
		return &x.p
	case SubmitMulti:
		x := newHolder[SubmitMultiBody](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	case SubmitMultiResp:
		x := newHolder[SubmitMultiRespBody](h)
		x.b.decode(d)
		return &x.p
	case AlertNotification:
		x := newHolder[AlertNotificationBody](h)
		d.inline = x.tlv[:]
		x.b.decode(d)
		return &x.p
	}
	// Header-only commands: any octets are trailing data.
	d.end()
	return &PDU{Header: h}
}
