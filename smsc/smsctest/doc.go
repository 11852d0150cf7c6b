// Package smsctest is an in-process SMPP 3.4 SMSC for tests, shaped like
// net/http/httptest: NewServer starts one listening on 127.0.0.1:0, Addr
// tells where, Close stops it and waits for its goroutines.
//
// The server checks bind credentials (WithAccount; none configured = accept
// any), accepts bind_transmitter, bind_receiver and bind_transceiver,
// answers enquire_link and unbind, answers submit_sm with message ids from a
// configurable generator (decimal, hex, padded) and records every submit so
// tests can wait for them without sleeping (WaitSubmits). It sends MO
// deliver_sm (Deliver) and delivery receipts (SendReceipt, or automatically
// with WithReceipts) to bound receiver and transceiver sessions, never to a
// transmitter, and returns the status of the ESME's response.
//
// Fault injection for client tests: Throttle (ESME_RTHROTTLED for the next
// N or all submits), SetStatus (fixed error status, with or without body),
// SetDelay (late responses), DropResponses (never answer), DropConnections
// (cut every link now), RefuseBinds, server-side EnquireLink and Unbind,
// WriteRaw for garbage on the wire, and a swappable Handler for anything
// else. The server tracks the highest number of submits a session had
// outstanding at once, for window tests.
//
// Checks from docs/smpp.md §7.8: a second bind on a bound connection gets
// ESME_RALYBND; requests before a bind get ESME_RINVBNDSTS; a submit_sm
// whose body does not decode gets its response with the decoder's status
// and the session is kept; a submit with text in both short_message and
// message_payload is refused; message ids are at most 64 characters; a
// connection that does not bind within the session-init time is closed.
//
// ServeConn and DialPipe run sessions over net.Pipe so tests inside
// testing/synctest (where loopback TCP would block the bubble) can use the
// server too. The server never logs unless given a logger (WithLogger).
//
// What it is not: a production SMSC. It keeps everything in memory, routes
// nothing and does not implement submit_multi, query_sm, cancel_sm or
// replace_sm (they are answered with generic_nack ESME_RINVCMDID unless a
// Handler takes them).
package smsctest
