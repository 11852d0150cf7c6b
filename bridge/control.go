package bridge

import (
	"context"
	"fmt"
	"time"
)

// SuspendMT suspends (on) or resumes (!on) the MT of the SMSC id: while
// suspended its MT lane leases nothing, so its messages, and those
// platforms keep sending for it, wait in the queue without spending
// attempts (max_age still applies once it resumes); no MT fails over to
// it. The binds stay up: MO and receipts keep flowing. It lasts until
// resumed or the daemon restarts.
func (b *Bridge) SuspendMT(id string, on bool) error {
	s := b.smscs[id]
	if s == nil {
		return fmt.Errorf("%w: smsc %q", ErrUnknownSMSC, id)
	}
	if s.suspended.Swap(on) != on {
		if on {
			b.log.Info("MT suspended by an operator", "smsc_id", id)
		} else {
			b.log.Info("MT resumed by an operator", "smsc_id", id)
		}
	}
	return nil
}

// MTSuspended reports whether the MT of SMSC id are suspended.
func (b *Bridge) MTSuspended(id string) bool {
	s := b.smscs[id]
	return s != nil && s.suspended.Load()
}

// usable reports whether MT can go out through s now: it has a bind and
// is not suspended.
func (s *smscState) usable() bool {
	return s.sub != nil && !s.suspended.Load() && s.sub.Bound()
}

// waitResumed blocks while s is suspended or until ctx ends.
func (s *smscState) waitResumed(ctx context.Context) {
	for s.suspended.Load() && ctx.Err() == nil {
		sleep(ctx, suspendPoll)
	}
}

// suspendPoll is how often a suspended MT lane looks whether it was resumed.
const suspendPoll = 100 * time.Millisecond
