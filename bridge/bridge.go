package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// State is the delivery state of a mobile-terminated message as reported to
// platforms (platforms.md E).
type State int

// States reported to platforms.
const (
	StateSent      State = iota + 1 // submit_sm_resp ESME_ROK (or a receipt saying ENROUTE/ACCEPTED)
	StateDelivered                  // receipt DELIVRD
	StateFailed                     // permanent submit error, or receipt UNDELIV/REJECTD/EXPIRED/DELETED/UNKNOWN
	// StateBuffered is a receipt saying the SMSC holds the message
	// (ENROUTE, ACCEPTD, BUFFRED, ...): between sent and delivered. Only
	// adapters that are BufferedReporters get it.
	StateBuffered State = 4
)

func (s State) String() string {
	switch s {
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateFailed:
		return "failed"
	case StateBuffered:
		return "buffered"
	}
	return "unknown"
}

// MO is a mobile-originated message, reassembled and decoded, routed to one
// channel. It is handed to the channel's Adapter to build platform requests.
type MO struct {
	ID         string    // stable bridge id, the same on every retry (custom-channel mId)
	Channel    string    // channel id from the config
	SMSC       string    // SMSC id it arrived from
	From       string    // sender: E.164 with "+" when numeric international, else as received
	To         string    // destination (the channel's number), normalised like From
	Text       string    // decoded text
	Received   time.Time // when the bridge committed it
	Parts      int       // SMS parts it arrived in (1 for a single SMS)
	Incomplete bool      // some parts never arrived; Text has what did
}

// MT is a mobile-terminated message a platform asked the bridge to send.
type MT struct {
	Channel    string // channel id from the config
	To         string // recipient: E.164 with "+", or as given by the platform
	From       string // sender override; empty means the channel's default
	Text       string // text to send; the bridge picks coding and segments
	ExternalID string // the platform's own id, echoed exactly in status callbacks (RapidPro "id")
	// TraceRef is the platform's id of the message as people search for
	// it (smscbridge trace); empty means ExternalID.
	TraceRef string
	// AllowEmpty accepts an empty Text (one empty SMS), as Kannel's
	// sendsms does; other platforms' empty texts are refused.
	AllowEmpty bool
	// SMSC, when it names one of the SMSCs the MT may go through (its
	// route's or channel's list), is tried first (Kannel's smsc
	// parameter); otherwise it is ignored.
	SMSC string
	// Submit holds submit_sm settings the platform chose (Kannel's
	// priority, validity, deferred, binfo, coding=1, udh, mclass, alt-dcs,
	// pid, rpi); the zero value leaves the
	// SMSC's defaults.
	Submit SubmitParams
	// DedupKey, when set, makes Accept idempotent: a second Accept with the
	// same key within DedupWindow returns the first id and queues nothing.
	DedupKey    string
	DedupWindow time.Duration
}

// SubmitParams are per-message submit_sm settings (smpp.md §4.4.1), kept
// with the MT and applied to each of its submit_sm.
type SubmitParams struct {
	Priority    uint8         `json:"pri,omitempty"` // priority_flag, 0..3
	Validity    time.Duration `json:"val,omitempty"` // validity_period, relative to each submit (0: the SMSC's default)
	Deferred    time.Duration `json:"def,omitempty"` // schedule_delivery_time, relative to each submit (0: at once)
	ServiceType string        `json:"st,omitempty"`  // service_type, at most 5 characters
	// Binary sends Data, not the MT's text, as 8-bit data (data_coding
	// 0x04; Kannel's coding=1): one submit_sm up to 140 octets, else parts
	// of 134 octets under a concatenation UDH.
	Binary bool   `json:"bin,omitempty"`
	Data   Octets `json:"data,omitempty"`
	// UDH is the platform's user data header (its first octet its length),
	// put before the user data with esm_class UDHI (0x40). A message with
	// a UDH that does not fit one SMS is split as Kannel splits it: each
	// part carries the UDH with an 8-bit-reference concatenation element
	// appended (refused if the UDH holds one already).
	UDH Octets `json:"udh,omitempty"`
	// Class is the message class plus one (1..4: class 0..3; 0: none),
	// written into data_coding as Kannel does: 0xF0|class for GSM 7-bit,
	// 0xF4|class for 8-bit, 0x18|class for UCS-2.
	Class uint8 `json:"mc,omitempty"`
	// AltDCS writes a GSM 7-bit or 8-bit message's data_coding in the
	// 0xFx group even without a class (class 1 then, as Kannel's alt-dcs).
	AltDCS bool `json:"adcs,omitempty"`
	// MWI is a message waiting indication plus one (1..8: Kannel's mwi
	// 0..7), written into data_coding as Kannel does, before any class:
	// mwi 0..3 set indication type 0..3 active (0xD8|type, 0xE8|type for
	// UCS-2), 4..7 inactive in the discard group (0xC0|type). Only GSM
	// 7-bit and UCS-2 messages carry it.
	MWI uint8 `json:"mwi,omitempty"`
	PID uint8 `json:"pid,omitempty"` // protocol_id
	RPI bool  `json:"rpi,omitempty"` // esm_class reply path (0x80)
}

// IsZero reports whether p changes nothing.
func (p SubmitParams) IsZero() bool { return p == SubmitParams{} }

// Octets are raw bytes kept in a string (so SubmitParams stays
// comparable), stored in JSON as base64 like a []byte.
type Octets string

// MarshalJSON writes o as a base64 JSON string.
func (o Octets) MarshalJSON() ([]byte, error) { return json.Marshal([]byte(o)) }

// UnmarshalJSON reads a base64 JSON string.
func (o *Octets) UnmarshalJSON(b []byte) error {
	var v []byte
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = Octets(v)
	return nil
}

// Status is a state change of an MT, to be reported to its channel's platform.
type Status struct {
	MTID        string // bridge id returned by Accept (custom-channel mId)
	ExternalID  string // MT.ExternalID, exactly as received
	To          string // MT.To: the recipient, as accepted
	Channel     string
	State       State
	SMSC        string // SMSC id
	SMSCMsgID   string // message id from submit_sm_resp / the receipt
	ErrorCode   string // SMPP command_status or receipt err: field, when failed
	Description string // human readable reason, when failed
	Report      string // the receipt's text as the SMSC sent it, for a status from a receipt
	At          time.Time
}

// Request is an HTTP request the bridge must make to a platform. It is stored
// in the durable queue as is and sent (and retried) by the bridge core, so an
// adapter only builds it.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// Accepter commits an MT to the durable queue. It returns only once the MT is
// on disk; the returned id is stable for the life of the message.
type Accepter interface {
	Accept(ctx context.Context, mt MT) (id string, err error)
}

// Adapter is one platform dialect bound to one configured channel. The bridge
// core mounts it on the platform listener (e.g. POST /rapidpro/{channel}/send
// reaches the "rapidpro" adapter of that channel) and calls MO and Status to
// build the requests it then sends through the durable queue.
type Adapter interface {
	// ServeHTTP handles the platform's send call for this channel. The core
	// has already limited the body size (http.MaxBytesReader) and checked
	// that the channel exists.
	http.Handler
	// MO builds the platform request(s) for an inbound message.
	MO(mo MO) ([]Request, error)
	// Status builds the platform request(s) for a status change; none when
	// the platform takes no callback for that state.
	Status(st Status) ([]Request, error)
}

// BufferedReporter is an optional interface of an Adapter whose platform
// takes intermediate reports (Kannel's dlr type 4): receipts that say the
// SMSC still holds the message become StateBuffered statuses for it when
// ReportsBuffered is true. Other adapters never see StateBuffered.
type BufferedReporter interface {
	ReportsBuffered() bool
}

func reportsBuffered(a Adapter) bool {
	br, ok := a.(BufferedReporter)
	return ok && br.ReportsBuffered()
}

// Errors an Accepter returns; adapters map them to HTTP answers.
var (
	// ErrUnavailable means the MT could not be committed (disk full, store
	// closed): answer 503 so the platform retries.
	ErrUnavailable = errors.New("bridge: temporarily unavailable")
	// ErrNoRoute means no SMSC can take messages to that number: answer 400.
	ErrNoRoute = errors.New("bridge: no route to destination")
	// ErrUnknownSMSC: the id names no configured SMSC (SuspendMT).
	ErrUnknownSMSC = errors.New("bridge: unknown smsc")
	// ErrInvalid wraps validation problems found by the core (e.g. a text
	// longer than the channel allows): answer 400 with the message.
	ErrInvalid = errors.New("bridge: invalid message")
)

// InvalidError is a send the core refuses (it matches ErrInvalid): Field is
// the part of the message at fault ("to", "text"; "" for none) and Msg says
// why, in words meant for the platform user.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return ErrInvalid.Error() + ": " + e.Msg
	}
	return ErrInvalid.Error() + ": " + e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(field, format string, args ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Invalid returns the field and the reason of an ErrInvalid error, for the
// platform's answer: the reason carries no internal prefix such as
// "bridge: invalid message:".
func Invalid(err error) (field, msg string) {
	if err == nil {
		return "", ""
	}
	if ie, ok := errors.AsType[*InvalidError](err); ok {
		return ie.Field, ie.Msg
	}
	msg = err.Error()
	if i := strings.Index(msg, ErrInvalid.Error()+": "); i >= 0 {
		msg = msg[i+len(ErrInvalid.Error())+2:]
	}
	return "", msg
}

// StatusLogger is an optional interface of an Adapter whose platform takes
// no status callbacks (template notifications, platforms.md D.4 and E).
// When its Status builds no request, the callback lane still takes the
// status through the same rules as a callback (a message's parts merged,
// never backwards, recorded in the store's status mark) and, instead of
// sending anything, logs each change of the merged status at INFO
// ("notification status" with msg_id and status).
type StatusLogger interface {
	Adapter
	LogsStatus()
}

// Retryer is an optional interface of an Adapter whose platform does not
// follow the common rule for failed callbacks (platforms.md §0.1: 408, 429,
// 5xx and network errors are retried, other 4xx are final). Retryable says
// whether a non-2xx answer with that status and body (its first 512 bytes)
// is worth a retry; false sends the callback to the dead letters.
type Retryer interface {
	Retryable(code int, body []byte) bool
}

// Retryable is the common rule: 408, 429 and 5xx are worth a retry.
func Retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}
