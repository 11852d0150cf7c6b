package smsc

import "errors"

// ErrNotBound is returned by Submit when no transmit-capable bind is up, or
// when the bind it picked went down before the request was written. Nothing
// was sent, so the caller may retry at once on another SMSC or later here.
var ErrNotBound = temporary("smsc: not bound")

// ErrUnknownOutcome is returned by Submit when the submit_sm was written but
// no response arrived within Options.ResponseTimeout, or the link was lost
// after the write. The SMSC may or may not have accepted the message;
// re-sending it may deliver a duplicate, so it is never resent silently.
var ErrUnknownOutcome = temporary("smsc: submit outcome unknown (written, no response)")

// ErrClosed is returned by Submit once Run has returned.
var ErrClosed = errors.New("smsc: client closed")

// tempError is an error that says it is temporary, as pdu.Status does, so a
// retry policy can ask Temporary() without knowing this package.
type tempError struct{ msg string }

func temporary(msg string) error { return &tempError{msg} }

func (e *tempError) Error() string   { return e.msg }
func (e *tempError) Temporary() bool { return true }
