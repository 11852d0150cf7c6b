package smsc

import (
	"context"
	"fmt"
	"time"
)

// throttleQuiet is how long a bind must go without a new throttling episode
// before the next episode starts again from Options.ThrottlePause.
const throttleQuiet = time.Minute

// throttle is the flow control of one bind (smpp.md §7.5), under conn.mu.
//
// An episode starts when ESME_RTHROTTLED or ESME_RMSGQFUL answers a submit
// sent since the last pause began: the bind pauses, and answers to submits
// sent before that belong to the same episode. The pause doubles (up to
// ThrottleMax) when an episode follows a pause that no submit got through,
// halves (down to ThrottlePause) when submits did get through, and starts
// again from ThrottlePause after throttleQuiet without episodes. After a
// pause the bind admits one submit, and one more per ESME_ROK, until
// Window are outstanding again (slow start); held throttled submits go
// before new ones.
type throttle struct {
	pause       time.Duration // length of the last pause
	till        time.Time     // paused until then
	epoch       uint64        // pauses so far; a submit carries the epoch it was sent in
	okSince     bool          // a submit sent in this epoch was accepted
	lastEpisode time.Time
	cwnd        int // submits that may be outstanding now (Window, or less after a pause)
	active      int // admitted submits not yet released
	resends     int // throttled submits waiting to be sent again
	waiters     int // goroutines waiting on gate
	gate        chan struct{}
}

// outcome is what became of an admitted submit.
type outcome int

const (
	outNone      outcome = iota // no answer that says anything about the rate
	outOK                       // ESME_ROK
	outThrottled                // ESME_RTHROTTLED or ESME_RMSGQFUL
)

// admit waits until this bind may send a submit: not paused, fewer than
// cwnd admitted, and no held throttled submit waiting before a new one
// (resend says this is one). It returns the epoch to hand to release.
func (c *conn) admit(ctx context.Context, resend bool) (uint64, error) {
	c.mu.Lock()
	if resend {
		c.th.resends++
		defer func() {
			c.mu.Lock()
			c.th.resends--
			c.wake()
			c.mu.Unlock()
		}()
	}
	for {
		th := &c.th
		if !c.bound || c.closing || c.ctx.Err() != nil {
			c.mu.Unlock()
			return 0, fmt.Errorf("%w: %w", ErrNotBound, c.lostCause())
		}
		wait := time.Until(th.till)
		if wait <= 0 && th.active < th.cwnd && (resend || th.resends == 0) {
			th.active++
			ep := th.epoch
			c.mu.Unlock()
			return ep, nil
		}
		th.waiters++
		gate := th.gate
		c.mu.Unlock()
		err := c.waitGate(ctx, gate, wait)
		c.mu.Lock()
		c.th.waiters--
		if err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
}

// waitGate waits for gate, for d when positive, or for ctx or the link.
func (c *conn) waitGate(ctx context.Context, gate chan struct{}, d time.Duration) error {
	var tc <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-gate:
	case <-tc:
	case <-c.ctx.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// lostCause says why the link cannot take submits; c.mu must be held.
func (c *conn) lostCause() error {
	if err := context.Cause(c.ctx); err != nil {
		return err
	}
	return errStopping
}

// wake lets waiting admit calls look again; c.mu must be held.
func (c *conn) wake() {
	if c.th.waiters > 0 {
		close(c.th.gate)
		c.th.gate = make(chan struct{})
	}
}

// release ends an admitted submit sent in epoch ep and applies its
// outcome. It reports whether this throttled answer started a new pause.
func (c *conn) release(ep uint64, out outcome) (paused time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	th := &c.th
	th.active--
	defer c.wake()
	switch {
	case ep != th.epoch: // sent before the current pause: same episode
	case out == outOK:
		th.okSince = true
		if th.cwnd < c.o.Window {
			th.cwnd++
		}
	case out == outThrottled:
		now := time.Now()
		switch {
		case th.lastEpisode.IsZero() || now.Sub(th.lastEpisode) >= throttleQuiet:
			th.pause = c.o.ThrottlePause
		case !th.okSince: // the last pause did not help
			th.pause = min(2*th.pause, c.o.ThrottleMax)
		default:
			th.pause = max(th.pause/2, c.o.ThrottlePause)
		}
		th.till = now.Add(th.pause)
		th.epoch++
		th.okSince = false
		th.lastEpisode = now
		th.cwnd = 1
		return th.pause
	}
	return 0
}

// paused reports whether the bind is pausing after throttling.
func (c *conn) paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Before(c.th.till)
}
