package smsctest

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Option configures a Server before it starts.
type Option func(*Server)

// WithAccount adds an account. Without any account every bind is accepted.
func WithAccount(systemID, password string) Option {
	return func(s *Server) { s.accounts[systemID] = password }
}

// WithSystemID sets the system_id the server puts in bind responses
// (default "SMSCTEST").
func WithSystemID(id string) Option { return func(s *Server) { s.systemID = id } }

// WithMessageIDs sets the generator of message ids for submit_sm_resp; it
// gets 1, 2, 3… Ids longer than 64 characters are cut. Default DecimalIDs.
func WithMessageIDs(f func(n uint64) string) Option { return func(s *Server) { s.msgID = f } }

// WithReceiptIDs sets how the id is written in receipts (text id: and the
// receipted_message_id TLV), for the classic hex-resp/decimal-receipt
// mismatch. Default: the same as the message id.
func WithReceiptIDs(f func(n uint64) string) Option { return func(s *Server) { s.receiptID = f } }

// DecimalIDs formats ids as decimal ("4097").
func DecimalIDs(n uint64) string { return strconv.FormatUint(n, 10) }

// HexIDs formats ids as 8-digit upper-case hex ("00001001").
func HexIDs(n uint64) string { return fmt.Sprintf("%08X", n) }

// PaddedDecimalIDs formats ids as 10-digit zero-padded decimal ("0000004097").
func PaddedDecimalIDs(n uint64) string { return fmt.Sprintf("%010d", n) }

// WithReceipts makes the server send a delivery receipt for every submit
// that asks for one (registered_delivery), delay after the submit_sm_resp.
// pick chooses its content (nil: DELIVRD); a receipt requested on failure
// only is skipped when pick says DELIVRD.
func WithReceipts(delay time.Duration, pick func(Submit) Receipt) Option {
	return func(s *Server) {
		s.autoReceipts, s.receiptDelay, s.pickReceipt = true, delay, pick
	}
}

// WithHandler sets the Handler for requests on bound sessions; see
// Server.SetHandler.
func WithHandler(h Handler) Option { return func(s *Server) { s.handler = h } }

// WithLogger makes the server log PDUs and errors; by default it is silent.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithSessionInitTimeout closes connections that have not bound within d
// (default 60s; 0 disables).
func WithSessionInitTimeout(d time.Duration) Option { return func(s *Server) { s.initTimeout = d } }

// WithEnquireLink makes every bound session send enquire_link each interval
// and drop the link when the answer does not come within timeout.
func WithEnquireLink(interval, timeout time.Duration) Option {
	return func(s *Server) { s.enquireEvery, s.enquireTimeout = interval, timeout }
}

// WithResponseTimeout sets how long server-initiated requests (Deliver,
// EnquireLink, Unbind) wait for the ESME's answer (default 10s).
func WithResponseTimeout(d time.Duration) Option { return func(s *Server) { s.respTimeout = d } }

// WithPayloadConflictStatus sets the status for a submit_sm carrying text in
// both short_message and message_payload; SMPP 3.4 names no code (default
// ESME_RINVOPTPARAMVAL).
func WithPayloadConflictStatus(st pdu.Status) Option { return func(s *Server) { s.conflict = st } }

// WithMaxInflight caps the submits a session may have outstanding: one
// beyond n is answered at once with st (ESME_RMSGQFUL if 0) and not
// recorded, as SMSCs provisioned with a small window do.
func WithMaxInflight(n int, st pdu.Status) Option {
	if st == pdu.StatusOK {
		st = pdu.StatusMsgQFul
	}
	return func(s *Server) { s.maxInflight, s.overWindow = n, st }
}

// RequestHook is called for every request from the ESME once its answer is
// decided, before the answer is written: req as received (Body nil when it
// did not decode), resp the answer (nil: none), vs the violations found in
// req. cmd/smscsim uses it for -record. It must not block.
type RequestHook func(ss *Session, req, resp *pdu.PDU, vs []Violation)

// WithRequestHook sets the RequestHook.
func WithRequestHook(f RequestHook) Option { return func(s *Server) { s.hook = f } }

// WithWireRewrite passes the octets of every PDU the server encodes (not
// those given to WriteRaw or RequestRaw) through f, which returns what goes
// on the wire instead. Tests use it to send
// what the strict encoder refuses but real SMSCs do send: a 16-character
// system_id in bind_resp, a 70-character message_id, a message_id without
// its NUL. f runs on the goroutine that queues the PDU.
func WithWireRewrite(f func(b []byte) []byte) Option { return func(s *Server) { s.rewrite = f } }

// WithSubmitRate makes the server accept at most n submit_sm in any one
// second over all sessions (a sliding window); submits beyond that are
// answered ESME_RTHROTTLED and recorded with that status, as an SMSC
// enforcing an account's rate does.
func WithSubmitRate(n int) Option { return func(s *Server) { s.submitRate = n } }
