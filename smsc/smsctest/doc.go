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
// The server is a strict SMPP 3.4 SMSC: it checks everything the ESME
// sends and answers what breaks a rule with the status a strict SMSC
// answers (docs/smpp.md §1, §2, §4, §6, §7.8; see the Rule constants):
// generic_nack ESME_RINVCMDLEN for a request with sequence number 0 or
// above 0x7FFFFFFF; ESME_RALYBND for a second bind; ESME_RINVBNDSTS for a
// request before the bind or a submit_sm on a receiver; the decoder's
// status for a PDU that does not decode (the session is kept);
// ESME_RINVMSGLEN for user data over one SMS (160 GSM septets, 153 after a
// concatenation UDH, 140 octets of 8-bit or UCS-2 data); ESME_RINVESMCLASS
// for esm_class UDHI without a valid UDH, a bad concatenation element, or
// parts of one message disagreeing on the total; ESME_RSUBMITFAIL for
// octets invalid in the data_coding (above 0x7F in unpacked GSM 7-bit or
// ASCII, a lone ESC or surrogate at the end); the field's own status for a
// bad address, TON/NPI, priority, registered_delivery, time, and so on.
// A bind with interface_version other than 0x34 is still bound, answered
// sc_interface_version 0x34. What data_coding 0 means is the SMSC's
// setting (WithDC0: gsm7, gsm7-packed, latin1, ascii); BuildMOFor encodes
// MO for such an SMSC.
//
// Every violation is recorded (Violations, with session, command,
// sequence number, rule and detail). WithTB(t) fails the test for each one
// when it ends, and NoViolations checks at any point, so every test that
// talks to the server also checks what its ESME sends. WithLenient accepts
// all or some rules (answering as if the PDU were valid, still recording
// the violation as lenient) for tests that send bad PDUs on purpose.
//
// Other checks from docs/smpp.md §7.8: message ids are at most 64
// characters; a connection that does not bind within the session-init
// time is closed.
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
