package pdu

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers can test with errors.Is; decode errors arrive inside a
// *DecodeError.
var (
	// ErrCommandLength: command_length below 16, above the read limit or
	// different from the octets given to Decode. The stream is out of sync.
	ErrCommandLength = errors.New("invalid command_length")
	// ErrUnknownCommand: command_id is not an SMPP 3.4 command.
	ErrUnknownCommand = errors.New("unknown command_id")
	// ErrTruncated: the body ends before its mandatory fields, or a C-octet
	// string has no NUL before the end of the body.
	ErrTruncated = errors.New("body truncated")
	// ErrFieldTooLong: a C-octet string, short_message, list or TLV value
	// exceeds its maximum size.
	ErrFieldTooLong = errors.New("field too long")
	// ErrTrailingData: octets remain after the last field of a body that
	// takes no TLVs.
	ErrTrailingData = errors.New("trailing octets after body")
	// ErrBadTLV: the TLV area is malformed (fewer than 4 octets left, or a
	// length running past the end of the PDU).
	ErrBadTLV = errors.New("malformed TLV")
	// ErrBadValue: a field holds a value the format forbids (a NUL inside a
	// C-octet string on encode, an unknown dest_flag).
	ErrBadValue = errors.New("invalid field value")
	// ErrBodyMismatch: the Body's type does not belong to the command_id.
	ErrBodyMismatch = errors.New("body type does not match command_id")
)

// DecodeError describes a PDU that could not be decoded.
//
// HeaderOK reports whether the 16 header octets were read and command_length
// was acceptable: the stream is still in sync, and Header.ID and Header.Seq
// may be used to answer. When HeaderOK is false the peer should get a
// generic_nack with Status (ESME_RINVCMDLEN) and the connection be closed
// (smpp.md §1.2, §7.4).
//
// Status is what to answer: ESME_RINVCMDID (unknown command_id: reply
// generic_nack and keep the session), or for a known request whose body
// does not parse a code such as ESME_RINVCMDLEN, ESME_RINVMSGLEN,
// ESME_RINVSRCADR, ESME_RINVOPTPARSTREAM, to be sent in that command's
// *_resp.
type DecodeError struct {
	Header   Header
	HeaderOK bool
	Status   Status
	Err      error
}

// Error returns a message such as
// "pdu: submit_sm seq 7: sm_length 200 exceeds the 12 octets left: body truncated (ESME_RINVMSGLEN)".
func (e *DecodeError) Error() string {
	if e.HeaderOK {
		return fmt.Sprintf("pdu: %s seq %d: %v (%s)", e.Header.ID, e.Header.Seq, e.Err, e.Status.String())
	}
	return fmt.Sprintf("pdu: %v (%s)", e.Err, e.Status.String())
}

// Unwrap returns the underlying error, one of the sentinel errors wrapped.
func (e *DecodeError) Unwrap() error { return e.Err }
