// Package pdu is the SMPP 3.4 wire codec: the 16-octet header, command ids
// and command_status codes, one typed body per PDU family and optional
// parameters (TLVs).
//
// It follows SMPP v3.4 Issue 1.2: §3 (PDU format, field types), §4 (PDU
// definitions: bind*, outbind, submit_sm, deliver_sm, data_sm, query_sm,
// cancel_sm, replace_sm, submit_multi, alert_notification, enquire_link,
// unbind, generic_nack), §5.1.3 (command_status) and §5.3 (TLVs); the
// project's SMPP reference (smpp.md) covers it in §1–4 and §8.
//
// Decoding is strict where the stream depends on it and lenient where real
// peers differ (smpp.md §8):
//   - every PDU is framed by command_length; Read refuses lengths below 16
//     or above a cap before allocating;
//   - each C-octet string must end with a NUL within its maximum size
//     (system_id 16, source_addr 21, message_id 65, ...); sm_length and TLV
//     lengths must fit in the PDU; octets left after a body without TLVs are
//     an error;
//   - a response may come with or without a body whatever its status; an
//     error response whose body does not parse decodes with a nil Body;
//   - one stray NUL after short_message is tolerated;
//   - unknown TLV tags are kept in order and re-encoded byte for byte;
//   - an unknown command_id decodes to a header-only PDU plus a
//     *DecodeError with Status ESME_RINVCMDID, so a session can answer
//     generic_nack and go on.
//
// DecodeOptions.Lenient relaxes the C-octet string limits for what comes
// from a peer one must get along with (smpp.md §1.1: strict on what we
// send, lenient on what we receive): a string longer than its maximum (up
// to 255 octets) or one that runs to the end of the body without its NUL
// is kept whole, and DecodeOptions.Tolerated reports it. The ESME reads the
// SMSC that way; the package-level Decode and Read, and every encoder, stay
// strict.
//
// A malformed PDU yields an error, never a panic; DecodeError.Status tells
// what to answer. Decoded bodies share one private copy of the body octets
// (see Decode): decoding a submit_sm or deliver_sm with up to
// four TLVs takes two allocations.
//
// Body types are named after the PDU family (Bind, ShortMessage,
// MessageResp); where that name is a command id constant (QuerySM, DataSM,
// Outbind, ...) the type has a Body suffix (QuerySMBody, DataSMBody).
//
// The package does not run sessions (binding, windows, enquire_link,
// sequence numbers: see package smsc), does not convert text (GSM 03.38,
// UCS-2, UDH and segmentation: see package coding), does not parse
// delivery receipt text, and never logs.
package pdu
