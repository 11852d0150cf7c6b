package pdu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readBufSize is the buffer Read allocates up front: a submit_sm or
// deliver_sm with a full short_message and a few TLVs fits.
const readBufSize = 512

// HeaderLength is the size of the PDU header; the smallest command_length.
const HeaderLength = 16

// DefaultMaxLength is the command_length cap Read uses when given 0: a full
// 64 KiB message_payload plus room for the mandatory fields (smpp.md §1.2).
const DefaultMaxLength = 64*1024 + 1024

// Header is the 16-octet PDU header (SMPP 3.4 §3.2, smpp.md §1.2).
type Header struct {
	Length uint32    // command_length, including the header; set by Decode/Read, ignored and recomputed on encode
	ID     CommandID // command_id
	Status Status    // command_status; 0 in requests
	Seq    uint32    // sequence_number
}

// String returns e.g. "submit_sm_resp seq=7 status=ESME_RTHROTTLED", for logs.
func (h Header) String() string {
	return fmt.Sprintf("%s seq=%d status=%s", h.ID, h.Seq, h.Status.String())
}

// PDU is one SMPP message: a header and a typed body. Body is nil for
// header-only PDUs (enquire_link[_resp], unbind[_resp], generic_nack,
// cancel_sm_resp, replace_sm_resp) and for responses that arrive without a
// body (error responses, 16-octet deliver_sm_resp).
type PDU struct {
	Header
	Body Body
}

// Body is the typed body of a PDU. It is implemented only by the pointer
// types of this package (types whose natural name is taken by a command id
// carry a Body suffix):
//
//	*Bind                  bind_receiver, bind_transmitter, bind_transceiver
//	*BindResp              their responses
//	*OutbindBody           outbind
//	*ShortMessage          submit_sm, deliver_sm
//	*MessageResp           submit_sm_resp, deliver_sm_resp, data_sm_resp
//	*DataSMBody            data_sm
//	*QuerySMBody           query_sm
//	*QuerySMRespBody       query_sm_resp
//	*CancelSMBody          cancel_sm
//	*ReplaceSMBody         replace_sm
//	*SubmitMultiBody       submit_multi
//	*SubmitMultiRespBody   submit_multi_resp
//	*AlertNotificationBody alert_notification
type Body interface {
	appendBody(b []byte) ([]byte, error)
	matches(id CommandID) bool
}

// NewResponse returns the response to req: the response command_id, status
// st, req's sequence number and body (nil for a header-only response).
func NewResponse(req *PDU, st Status, body Body) *PDU {
	return &PDU{Header: Header{ID: req.ID.Response(), Status: st, Seq: req.Seq}, Body: body}
}

// NewGenericNack returns a generic_nack with status st echoing seq
// (smpp.md §7.4).
func NewGenericNack(seq uint32, st Status) *PDU {
	return &PDU{Header: Header{ID: GenericNack, Status: st, Seq: seq}}
}

// AppendBinary appends the encoded PDU to b; command_length is computed,
// Header.Length is ignored. A nil Body encodes a header-only PDU for any
// command_id (so tests can send unknown commands); a non-nil Body must
// belong to the command_id. Strings are checked against their maximum
// length and must not contain NUL. On error b is returned unchanged.
func (p *PDU) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(p.ID))
	b = binary.BigEndian.AppendUint32(b, uint32(p.Status))
	b = binary.BigEndian.AppendUint32(b, p.Seq)
	if p.Body != nil {
		if !p.Body.matches(p.ID) {
			return b[:start], fmt.Errorf("pdu: encode %s with %T: %w", p.ID, p.Body, ErrBodyMismatch)
		}
		var err error
		if b, err = p.Body.appendBody(b); err != nil {
			return b[:start], fmt.Errorf("pdu: encode %s: %w", p.ID, err)
		}
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b, nil
}

// MarshalBinary returns the encoded PDU (see AppendBinary).
func (p *PDU) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, 64))
}

// Write encodes p and writes it with a single Write call.
func Write(w io.Writer, p *PDU) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("pdu: write %s: %w", p.ID, err)
	}
	return nil
}

func parseHeader(b []byte) Header {
	return Header{
		Length: binary.BigEndian.Uint32(b[0:]),
		ID:     CommandID(binary.BigEndian.Uint32(b[4:])),
		Status: Status(binary.BigEndian.Uint32(b[8:])),
		Seq:    binary.BigEndian.Uint32(b[12:]),
	}
}

// Decode decodes one whole PDU from b, whose length must equal its
// command_length.
//
// The body is copied once; string fields, Message and TLV values of the
// result share that private copy and never alias b. Message and TLV values
// have their capacity capped, so appending to them reallocates, and
// modifying their octets in place does not affect the string fields.
//
// On error the result is a *DecodeError. If the header was usable
// (DecodeError.HeaderOK), Decode also returns a header-only *PDU (Body nil)
// so a session can answer it: in particular an unknown command_id decodes
// to a header-only PDU with a *DecodeError whose Status is ESME_RINVCMDID,
// to be answered with generic_nack.
//
// Leniency (smpp.md §8): a response with a non-zero command_status whose
// body does not parse decodes without error and with a nil Body, since
// only its status matters; and one stray 0x00 octet after short_message in
// submit_sm/deliver_sm is skipped.
func Decode(b []byte) (*PDU, error) { return DecodeOptions{}.Decode(b) }

// DecodeOptions choose how strictly Decode and Read treat field limits. The
// zero value is the strict decoding of the package-level Decode and Read.
//
// SMPP asks a peer to be strict on what it sends and lenient on what it
// receives (smpp.md §1.1), and the direction decides which applies: an
// ESME reads what the SMSC sends leniently, while an SMSC (a simulator)
// stays strict on what the ESME sends, so that the ESME's mistakes show.
type DecodeOptions struct {
	// Lenient accepts a C-octet string longer than its SMPP 3.4 maximum
	// (a 16-character system_id, a 21-digit source_addr, a 70-character
	// message_id) up to 255 octets, and a C-octet string that runs to the
	// end of the body without its NUL (a message_id sent without it). The
	// value is kept whole. Everything else (framing, sm_length, TLVs,
	// missing mandatory fields) is checked as strictly as without it.
	// Encoding is never lenient: such a value does not re-encode.
	Lenient bool
	// Tolerated, if set, is called once for each PDU that decoded only
	// thanks to Lenient, before Decode or Read returns, with its header and
	// an error naming the fields (wrapping ErrFieldTooLong or
	// ErrTruncated), so the caller can log it.
	Tolerated func(h Header, err error)
}

// Decode is the package-level Decode with these options.
func (o DecodeOptions) Decode(b []byte) (*PDU, error) {
	if len(b) < HeaderLength {
		return nil, &DecodeError{Status: StatusInvCmdLen,
			Err: fmt.Errorf("%d octets, shorter than the header: %w", len(b), ErrCommandLength)}
	}
	h := parseHeader(b)
	if h.Length != uint32(len(b)) {
		return nil, &DecodeError{Header: h, Status: StatusInvCmdLen,
			Err: fmt.Errorf("command_length %d but %d octets: %w", h.Length, len(b), ErrCommandLength)}
	}
	var body []byte
	if len(b) > HeaderLength {
		body = make([]byte, len(b)-HeaderLength)
		copy(body, b[HeaderLength:])
	}
	return o.decodeBody(h, body)
}

// Read reads exactly one PDU from r. It reads the 16-octet header, rejects
// a command_length below 16 or above maxLen (0 means DefaultMaxLength)
// before allocating anything for the body, then reads and decodes the
// body (see Decode for aliasing and errors; the body buffer is owned by
// the result).
//
// A clean end of stream before the first octet returns io.EOF; a stream
// ending inside a PDU returns an error wrapping io.ErrUnexpectedEOF. A bad
// command_length returns a *DecodeError with HeaderOK false: the caller
// should send generic_nack ESME_RINVCMDLEN and close.
func Read(r io.Reader, maxLen uint32) (*PDU, error) { return DecodeOptions{}.Read(r, maxLen) }

// Read is the package-level Read with these options.
func (o DecodeOptions) Read(r io.Reader, maxLen uint32) (*PDU, error) {
	if maxLen == 0 {
		maxLen = DefaultMaxLength
	}
	// One buffer serves the header and, for the usual small PDU, the body.
	buf := make([]byte, HeaderLength, max(HeaderLength, min(readBufSize, maxLen)))
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("pdu: read header: %w", err)
	}
	h := parseHeader(buf)
	if h.Length < HeaderLength || h.Length > maxLen {
		return nil, &DecodeError{Header: h, Status: StatusInvCmdLen,
			Err: fmt.Errorf("command_length %d outside %d..%d: %w", h.Length, HeaderLength, maxLen, ErrCommandLength)}
	}
	var body []byte
	if n := int(h.Length) - HeaderLength; n > 0 {
		if int(h.Length) <= cap(buf) {
			body = buf[HeaderLength:h.Length:h.Length]
		} else {
			body = make([]byte, n)
		}
		if _, err := io.ReadFull(r, body); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("pdu: read %s body: %w", h.ID, err)
		}
	}
	return o.decodeBody(h, body)
}
