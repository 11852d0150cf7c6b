package dlr

import "errors"

// ErrNoID means a receipt carries no message id, neither in the
// receipted_message_id TLV nor in its text; it cannot be matched to a submit.
var ErrNoID = errors.New("dlr: receipt has no message id")
