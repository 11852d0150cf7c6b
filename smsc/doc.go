// Package smsc is the ESME (client) side of SMPP 3.4: it keeps one or more
// binds to an SMSC up and offers Submit for submit_sm and a Handler hook for
// inbound deliver_sm and data_sm.
//
// A Client owns every bind of one SMSC account. Each bind (a session) runs in
// its own goroutine: it dials (plain TCP or TLS), binds immediately, and then
// one goroutine reads PDUs while a single writer goroutine serialises writes,
// giving responses priority over new requests. Requests are correlated by a
// per-session sequence number that wraps in 1..0x7FFFFFFF and are limited to
// Options.Window outstanding at a time, each with its own response timer.
// The session answers the SMSC's enquire_link and unbind itself, sends its own
// enquire_link when the link has been idle for Options.EnquireLink and
// declares the link dead when that enquire_link is not answered in
// Options.ResponseTimeout. Unknown commands and undecodable PDUs are answered
// with generic_nack (or the command's own response with an error status).
// Inbound deliver_sm/data_sm are handed to the Handler in their own goroutine,
// at most Options.MaxInbound at a time per session (beyond that the SMSC gets
// ESME_RTHROTTLED; the reader never waits on a Handler), and each response
// carries the status the Handler returns and goes out as soon as it returns,
// so the bridge acknowledges only what it has committed.
//
// Lost links are reconnected with capped exponential backoff and jitter
// (longer after a bind refusal, reset only after a bind stayed up a minute).
// A request counts as written once all its octets were accepted by the
// socket (the write deadline is set before every write); one whose write
// failed was not sent and fails with ErrNotBound. A request written to a
// link that is then lost, or that is not answered in time, fails with
// ErrUnknownOutcome and is never resent by this package: re-sending is the
// caller's decision because it may duplicate a message. Submits the SMSC
// refused are another matter: one answered ESME_RTHROTTLED or ESME_RMSGQFUL
// pauses its bind (once per throttling episode; the pause grows only when
// it did not help) and is held and sent again when the bind re-opens, one
// submit at a time at first (Options.ThrottlePause, ThrottleMax,
// ThrottleTimeout); one answered ESME_RINVBNDSTS or generic_nack on a
// bound session makes that bind unbind and bind again, and is sent once
// more on the fresh bind. When Run's context ends the client stops taking
// submits, waits (bounded) for outstanding responses, unbinds and waits
// (bounded) for unbind_resp. Options.LocalAddr sets the local address
// every session dials from.
//
// PDUs from the SMSC are decoded leniently (pdu.DecodeOptions.Lenient,
// smpp.md §1.1): an over-long system_id, address or message_id, or a
// message_id without its NUL, is taken whole, and the first such PDU of a
// bind is logged. What the client sends is encoded strictly.
//
// ParseInbound tells receipts from MO (receipts flagged 0x44 over plain
// text, or with a malformed UDH, are still receipts; receipt-shaped MO text
// is a receipt only with InboundOptions.TextReceipts) and BuildSubmits
// encodes and segments MT; both follow the SMSC's coding.Alphabet, what
// data_coding 0 means on its link.
//
// What it does not do: text coding and segmentation (see message.go and
// package coding), queueing, retries (other than of refused submits, above),
// receipt correlation or persistence, outbind, submit_multi,
// query_sm/cancel_sm/replace_sm.
//
// Spec: SMPP 3.4 §2 (sessions), §4.1–4.2 (bind, unbind), §4.3 (generic_nack),
// §4.4/4.6 (submit_sm, deliver_sm), §4.7 (data_sm), §4.11 (enquire_link),
// §5.1.3 (command_status); see docs/smpp.md §1.3, §2 and §7.
package smsc
