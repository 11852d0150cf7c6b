package smsctest

import (
	"fmt"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Rule names one SMPP 3.4 check the server makes on what the ESME sends
// (smpp.md §1, §4, §6, §7.8). A Violation carries the rule it broke.
type Rule string

// Rules checked on every PDU from the ESME.
const (
	// RuleSequence: a request's sequence_number is 0 or above 0x7FFFFFFF
	// (smpp.md §1.3). Answered generic_nack ESME_RINVCMDLEN: the header is
	// unusable, so no command response can be correlated.
	RuleSequence Rule = "sequence_number"
	// RuleCommandStatus: a request with a non-zero command_status (§1.2).
	// Answered generic_nack ESME_RINVCMDLEN.
	RuleCommandStatus Rule = "command_status"
	// RuleMalformed: a PDU that does not decode (bad command_length, a
	// body that ends early, a C-octet string over its maximum, a bad TLV
	// stream). Answered as the decoder says (pdu.DecodeError.Status).
	RuleMalformed Rule = "malformed"
	// RuleCommand: a command_id that is not SMPP 3.4 (generic_nack
	// ESME_RINVCMDID), or one only an SMSC sends (deliver_sm,
	// alert_notification, outbind: its response with ESME_RINVBNDSTS).
	RuleCommand Rule = "command"
	// RuleBindState: a request not allowed in the session's state: before
	// the bind, submit_sm on a receiver, a second bind (ESME_RINVBNDSTS,
	// ESME_RALYBND; §1.4, §7.8).
	RuleBindState Rule = "bind_state"
	// RuleResponse: a response to no request the server sent, one of the
	// wrong command, or a deliver_sm_resp with a message_id (§1.3, §1.5).
	// Nothing is answered to a response.
	RuleResponse Rule = "response"
	// RuleInterfaceVersion: a bind whose interface_version is not 0x34
	// (§1.5, §8 #3). The bind is still accepted, as an SMPP 3.4 SMSC
	// negotiating down does, and its bind_resp says sc_interface_version
	// 0x34 (none to an SMPP 3.3 ESME, below 0x34).
	RuleInterfaceVersion Rule = "interface_version"
	// RuleField: a mandatory field out of its range: a C-octet string over
	// its maximum (system_id, password, system_type, service_type,
	// addresses), an unknown TON or NPI, an empty destination, a "+" or
	// other non-digit in an international number, an alphanumeric sender
	// over 11 characters, priority_flag above 3, a reserved
	// registered_delivery bit, a malformed schedule_delivery_time or
	// validity_period, replace_if_present_flag above 1, a non-zero
	// sm_default_msg_id. Answered with the field's status
	// (ESME_RINVSRCADR, ESME_RINVDSTTON, ESME_RINVPRTFLG,
	// ESME_RINVREGDLVFLG, ESME_RINVSCHED, ESME_RINVEXPIRY, …).
	RuleField Rule = "field"
	// RuleESMClass: a submit_sm esm_class whose message type is not one an
	// ESME may send (only default, 0x08 and 0x10 are; §4.1). Answered
	// ESME_RINVESMCLASS.
	RuleESMClass Rule = "esm_class"
	// RuleMessageLength: user data longer than one SMS: more than 160
	// GSM 7-bit septets, UDH included (153 after a 6-octet UDH), or more
	// than 140 octets of 8-bit or UCS-2 data, UDH included; or UCS-2 data
	// of an odd number of octets (§6.4). Text sent as Latin-1 or ASCII
	// (data_coding 1 or 3, or 0 on a latin1/ascii SMSC) is counted in GSM
	// septets, as the SMSC transcodes it to GSM on air. message_payload
	// is not limited. Answered ESME_RINVMSGLEN.
	RuleMessageLength Rule = "message_length"
	// RuleUDH: esm_class UDHI with no user data, a UDH longer than the
	// user data, an information element overrunning the UDH, or a
	// concatenation element of the wrong length, total 0, or a sequence
	// number of 0 or above the total (§6.5). Answered ESME_RINVESMCLASS,
	// as Kannel does.
	RuleUDH Rule = "udh"
	// RuleConcat: a part of a concatenated message whose total differs
	// from an earlier part with the same reference to the same
	// destination. Answered ESME_RINVESMCLASS.
	RuleConcat Rule = "concat"
	// RuleSAR: the SAR TLVs incomplete (ESME_RMISSINGOPTPARAM), out of
	// range, or together with a UDH (ESME_RINVOPTPARAMVAL, as Kannel).
	RuleSAR Rule = "sar"
	// RuleCharset: user data that is not valid in its data_coding: GSM
	// 7-bit unpacked (data_coding 0 on a gsm7 SMSC) or ASCII with an octet
	// above 0x7F, GSM 7-bit ending with a lone ESC (an extension character
	// cut in two), UCS-2 with a lone surrogate (§6.1–§6.4). Answered
	// ESME_RSUBMITFAIL: SMPP 3.4 has no data_coding status.
	RuleCharset Rule = "charset"
	// RulePayloadConflict: text in both short_message and message_payload
	// (§3.2, §7.8). Answered with WithPayloadConflictStatus's status.
	RulePayloadConflict Rule = "payload_conflict"
)

// Violation is one thing the ESME sent that SMPP 3.4 does not allow.
type Violation struct {
	At       time.Time
	Session  int           // Session.ID
	SystemID string        // account of the session ("" before the bind)
	Command  pdu.CommandID // command of the offending PDU
	Seq      uint32        // its sequence_number
	Rule     Rule
	Detail   string     // what exactly, e.g. "161 septets in one SMS, max 160"
	Status   pdu.Status // what a strict SMSC answers (StatusOK: accepted anyway, or no answer to a response)
	// Lenient is true when the server was told to accept this rule
	// (WithLenient) and answered as if nothing was wrong.
	Lenient bool
}

// String returns e.g. "session 1 submit_sm seq 7: message_length: 200
// septets in one SMS, max 160 (ESME_RINVMSGLEN)".
func (v Violation) String() string {
	s := fmt.Sprintf("session %d %s seq %d: %s: %s", v.Session, v.Command, v.Seq, v.Rule, v.Detail)
	switch {
	case v.Lenient:
		s += " (accepted: lenient)"
	case v.Status != pdu.StatusOK:
		s += " (" + v.Status.String() + ")"
	}
	return s
}

// TB is the part of testing.TB the server uses to report violations.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// WithLenient makes the server accept what breaks the given rules (all
// rules when none is given) and answer as if it were valid, as a lenient
// SMSC does. Violations are still recorded, marked Lenient, and not
// reported by NoViolations or WithTB. Use it in tests that send bad PDUs
// on purpose. PDUs that do not decode are answered with an error in any
// case.
func WithLenient(rules ...Rule) Option {
	return func(s *Server) {
		if len(rules) == 0 {
			s.lenientAll = true
		}
		for _, r := range rules {
			s.lenient[r] = true
		}
	}
}

// WithTB makes the server check what the ESME sends for the whole test:
// when tb's test ends, the server is closed and every violation not
// accepted by WithLenient fails the test (tb.Errorf). The usual way to
// create a server in tests: smsctest.NewServer(smsctest.WithTB(t), …).
func WithTB(tb TB) Option {
	return func(s *Server) {
		tb.Cleanup(func() {
			tb.Helper()
			s.Close()
			NoViolations(tb, s)
		})
	}
}

// NoViolations fails the test (t.Errorf, once per violation) for every
// violation s recorded that was not accepted by WithLenient.
func NoViolations(t interface {
	Helper()
	Errorf(format string, args ...any)
}, s *Server) {
	t.Helper()
	for _, v := range s.Violations() {
		if !v.Lenient {
			t.Errorf("smsctest: the ESME broke SMPP 3.4: %s", v)
		}
	}
}

// Violations returns every violation recorded so far, in order, lenient
// ones included.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Violation(nil), s.violations...)
}

// isLenient reports whether rule r is accepted.
func (s *Server) isLenient(r Rule) bool { return s.lenientAll || s.lenient[r] }

// maxViolations bounds the record: a misbehaving ESME in a long smscsim
// run must not grow it without end. Later ones are counted only.
const maxViolations = 10000

// violate records a violation of rule r by PDU h on ss and returns it.
// Its Status is st; Lenient says whether r is accepted.
func (s *Server) violate(ss *Session, h pdu.Header, r Rule, st pdu.Status, format string, args ...any) Violation {
	v := Violation{
		At: time.Now(), Command: h.ID, Seq: h.Seq, Rule: r, Status: st,
		Detail: fmt.Sprintf(format, args...), Lenient: s.isLenient(r),
	}
	if ss != nil {
		v.Session, v.SystemID = ss.id, ss.SystemID()
	}
	s.logf("violation", "session", v.Session, "rule", string(r), "detail", v.Detail)
	s.mu.Lock()
	s.stats.Violations++
	if len(s.violations) < maxViolations {
		s.violations = append(s.violations, v)
	}
	s.notify()
	s.mu.Unlock()
	return v
}
