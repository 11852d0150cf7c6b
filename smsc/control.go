package smsc

import (
	"context"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// StateStopped is the state of a session an operator stopped (Stop).
const StateStopped = "stopped"

// Meter receives a Client's measurements (the daemon's Prometheus
// metrics). Its methods are called on the read and write goroutines: they
// must be cheap and never block.
type Meter interface {
	// PDU counts one PDU read from (in) or written to (!in) the SMSC.
	PDU(smscID string, in bool, cmd pdu.CommandID, status pdu.Status)
	// SubmitLatency observes the time from queueing a submit_sm to its
	// response (any status).
	SubmitLatency(smscID string, d time.Duration)
}

// hold is the operator's stop switch of a Client: while stopped, sessions
// unbind and stay down; ctx ends at each Stop.
type hold struct {
	stopped bool
	ctx     context.Context
	cancel  context.CancelFunc
	changed chan struct{} // closed and replaced at each Stop or Start
}

// Stop unbinds every session of the client (gracefully, as at shutdown:
// outstanding submits get their responses, bounded) and keeps them down
// until Start. Submits fail with ErrNotBound meanwhile, so MT wait in the
// queue. Stop is idempotent.
func (c *Client) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold.stopped {
		return
	}
	c.hold.stopped = true
	c.hold.cancel()
	c.holdChanged()
	c.log.Info("binds stopped by an operator")
}

// Start undoes Stop: the sessions bind again at once. Idempotent.
func (c *Client) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hold.stopped {
		return
	}
	c.hold.stopped = false
	c.hold.ctx, c.hold.cancel = context.WithCancel(context.Background())
	c.holdChanged()
	c.log.Info("binds started by an operator")
}

// Stopped reports whether an operator stopped the binds (Stop).
func (c *Client) Stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hold.stopped
}

func (c *Client) holdChanged() {
	close(c.hold.changed)
	c.hold.changed = make(chan struct{})
}

// holdState returns whether the client is stopped, a channel closed at the
// next Stop or Start, and a context that ends at the next Stop.
func (c *Client) holdState() (bool, <-chan struct{}, context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hold.stopped, c.hold.changed, c.hold.ctx
}

// waitStarted waits, in state StateStopped, while the client is stopped.
// It reports false when ctx ended.
func (s *session) waitStarted(ctx context.Context) bool {
	for {
		stopped, changed, _ := s.hold()
		if !stopped {
			return true
		}
		s.setState(StateStopped, nil)
		select {
		case <-ctx.Done():
			return false
		case <-changed:
		}
	}
}

// runContext is ctx, also ended by the next Stop.
func (s *session) runContext(ctx context.Context) (context.Context, context.CancelFunc) {
	_, _, hctx := s.hold()
	rctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(hctx, cancel)
	return rctx, func() { stop(); cancel() }
}
