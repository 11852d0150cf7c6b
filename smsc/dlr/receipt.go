package dlr

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// State is the delivery state a receipt reports, reduced to what the bridge
// tells platforms (smpp.md §5.1).
type State int

// Receipt states.
const (
	// Failed: EXPIRED, DELETED, UNDELIV, UNKNOWN, REJECTD, and any stat we do
	// not know (Kannel's rule); also receipts with no state at all.
	Failed State = iota
	// Intermediate: ENROUTE, ACCEPTD, ACKED, BUFFRED/BUFFERD — not final.
	Intermediate
	// Delivered: DELIVRD.
	Delivered
)

// String returns "failed", "intermediate" or "delivered".
func (s State) String() string {
	switch s {
	case Intermediate:
		return "intermediate"
	case Delivered:
		return "delivered"
	}
	return "failed"
}

// Receipt is a parsed delivery receipt. Text fields hold the values as
// received (dates are raw SMSC local-time strings); absent fields are empty.
type Receipt struct {
	ID           string // message id of the original submit: receipted_message_id TLV, else text id
	Sub, Dlvrd   string // submitted / delivered counts
	SubmitDate   string // "submit date" as received
	DoneDate     string // "done date" as received
	Stat         string // stat as received, or derived from message_state when the text has none
	Err          string // err as received: an opaque string ("000", "0000", "0", alphanumeric)
	Text         string // the text field: the rest of the body after "text:"
	State        State  // from message_state when present and known, else from stat
	MessageState int    // message_state TLV, -1 if absent
	// NetworkError is the network_error_code TLV: "type:code" in decimal for
	// the 3-octet binary form ("3:1" = GSM error 1), the digits as sent for
	// the ASCII form some SMSCs use, hex for anything else; empty if absent.
	NetworkError string
}

// messageStates maps SMPP message_state values (SMPP 3.4 §5.2.28, 5.0 for 0
// and 9) to their receipt stat and State.
var messageStates = map[int]struct {
	stat  string
	state State
}{
	0: {"SCHEDLD", Intermediate},
	1: {"ENROUTE", Intermediate},
	2: {"DELIVRD", Delivered},
	3: {"EXPIRED", Failed},
	4: {"DELETED", Failed},
	5: {"UNDELIV", Failed},
	6: {"ACCEPTD", Intermediate},
	7: {"UNKNOWN", Failed},
	8: {"REJECTD", Failed},
	9: {"SKIPPED", Failed},
}

// stateOfStat maps a stat value (case-insensitive; the spelled-out names some
// SMSCs send are accepted too) to a State; anything unknown is Failed.
func stateOfStat(stat string) State {
	switch strings.ToUpper(strings.TrimSpace(stat)) {
	case "DELIVRD", "DELIVERED":
		return Delivered
	case "ENROUTE", "ACCEPTD", "ACCEPTED", "ACKED", "BUFFRED", "BUFFERD", "BUFFERED":
		return Intermediate
	}
	return Failed
}

// Parse parses a delivery receipt body (short_message, or message_payload
// when sm_length is 0) together with the receipt TLVs: receiptedID
// (receipted_message_id, "" if absent), messageState (message_state, -1 if
// absent) and networkError (network_error_code, nil if absent). TLV values win
// over the text; a message_state outside 1–8 (the SMPP 3.4 values) is used
// only when the text has no stat, and then only 0 and 9 (SMPP 5.0 SCHEDULED,
// SKIPPED) are understood.
// The only error is ErrNoID, returned with everything else that was parsed.
func Parse(text []byte, receiptedID string, messageState int, networkError []byte) (Receipt, error) {
	r := Receipt{MessageState: messageState}
	parseText(&r, bodyString(text))
	if id := cleanID(receiptedID); id != "" {
		r.ID = id
	}
	r.State = stateOfStat(r.Stat)
	// SMPP 3.4 defines message_state 1–8; 0 and 9 come from SMPP 5.0 and
	// are trusted only when the text has no stat.
	if ms, ok := messageStates[messageState]; ok && (messageState >= 1 && messageState <= 8 || r.Stat == "") {
		r.State = ms.state
		if r.Stat == "" {
			r.Stat = ms.stat
		}
	}
	r.NetworkError = formatNetworkError(networkError)
	if r.ID == "" {
		return r, ErrNoID
	}
	return r, nil
}

// LooksLikeReceipt reports whether text has the receipt shape
// `^id:\S+ .*stat:` (case-insensitive), the fallback for SMSCs that send
// receipts without the esm_class receipt flag (smpp.md §5.2 step 1).
func LooksLikeReceipt(text []byte) bool {
	s := bodyString(text)
	if len(s) < 3 || !strings.EqualFold(s[:3], "id:") {
		return false
	}
	rest := s[3:]
	sp := strings.IndexAny(rest, " \t\r\n")
	if sp <= 0 {
		return false
	}
	return strings.Contains(asciiLower(rest[sp:]), "stat:")
}

// bodyString decodes a receipt body: UTF-16BE when it looks like it (every
// even octet zero, or the UTF-16 reading starts with "id:"), else ISO-8859-1.
// Surrounding NULs and whitespace are removed.
func bodyString(b []byte) string {
	var s string
	if u, ok := asUTF16(b); ok {
		s = u
	} else {
		s = latin1(b)
	}
	return strings.Trim(s, "\x00 \t\r\n")
}

// asUTF16 decodes b as UTF-16BE if it plausibly is.
func asUTF16(b []byte) (string, bool) {
	if len(b) < 2 || len(b)%2 != 0 {
		return "", false
	}
	units := make([]uint16, len(b)/2)
	allZero := true
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		allZero = allZero && b[2*i] == 0
	}
	s := string(utf16.Decode(units))
	if allZero || len(s) >= 3 && strings.EqualFold(s[:3], "id:") {
		return s, true
	}
	return "", false
}

// latin1 reads b as ISO-8859-1.
func latin1(b []byte) string {
	buf := make([]byte, 0, len(b))
	for _, c := range b {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}

// cleanID trims the NULs and spaces that surround ids from sloppy SMSCs.
func cleanID(id string) string { return strings.Trim(id, "\x00 \t\r\n") }

// formatNetworkError renders a network_error_code TLV value (smpp.md §3.2).
func formatNetworkError(b []byte) string {
	switch {
	case b == nil:
		return ""
	case len(b) > 0 && b[0] >= '0' && b[0] <= '9':
		return cleanID(string(b))
	case len(b) == 3:
		return fmt.Sprintf("%d:%d", b[0], int(b[1])<<8|int(b[2]))
	}
	return fmt.Sprintf("%x", b)
}
