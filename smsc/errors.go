package smsc

import (
	"errors"
	"fmt"
)

// ErrNotBound is returned by Submit when no transmit-capable bind is up, or
// when the bind it picked went down before the request was written, or the
// write itself failed. Nothing was sent (or nothing accepted: a throttled
// submit whose bind went down), so the caller may retry at once on another
// SMSC or later here.
var ErrNotBound = temporary("smsc: not bound")

// ErrUnknownOutcome is returned by Submit when the submit_sm was written but
// no response arrived within Options.ResponseTimeout, or the link was lost
// after the write. The SMSC may or may not have accepted the message;
// re-sending it may deliver a duplicate, so it is never resent silently.
var ErrUnknownOutcome = temporary("smsc: submit outcome unknown (written, no response)")

// UnknownOutcomeError is the error behind ErrUnknownOutcome (errors.Is
// matches it). Ref names the submit: if its submit_sm_resp arrives late
// (after the response timeout, on the same link, within 10 minutes),
// Options.LateResponse is called with the same Ref, so the caller can settle
// the outcome instead of re-sending.
type UnknownOutcomeError struct {
	Ref uint64 // Client-wide reference of the submit (0 for other requests)
	Err error  // why: no response in time, link lost, ctx ended
}

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("%v (ref %d): %v", ErrUnknownOutcome, e.Ref, e.Err)
}

// Is reports target == ErrUnknownOutcome.
func (e *UnknownOutcomeError) Is(target error) bool { return target == ErrUnknownOutcome }

// Unwrap returns the cause.
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// Temporary is true: the message may be retried, knowing it may duplicate.
func (e *UnknownOutcomeError) Temporary() bool { return true }

// ErrClosed is returned by Submit once Run has returned.
var ErrClosed = errors.New("smsc: client closed")

// tempError is an error that says it is temporary, as pdu.Status does, so a
// retry policy can ask Temporary() without knowing this package.
type tempError struct{ msg string }

func temporary(msg string) error { return &tempError{msg} }

func (e *tempError) Error() string   { return e.msg }
func (e *tempError) Temporary() bool { return true }
