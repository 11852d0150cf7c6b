package smsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Client keeps the binds of one SMSC account up and submits messages over
// them. Create it with New, start it with Run; Submit, Bound and Stats are
// safe for concurrent use.
type Client struct {
	o        Options
	log      *slog.Logger
	sessions []*session
	limiter  *rate.Limiter // nil = unlimited
	next     atomic.Uint32 // round-robin start for picking a session
	refs     atomic.Uint64 // submit references (UnknownOutcomeError.Ref)
	started  atomic.Bool
	stopping atomic.Bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a session changes state
	hold    hold          // Stop / Start
}

// New checks the options and returns a Client. It does no I/O.
func New(o Options) (*Client, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{o: o, log: o.Logger.With("component", "smsc", "smsc_id", o.ID), changed: make(chan struct{})}
	c.hold.ctx, c.hold.cancel = context.WithCancel(context.Background())
	c.hold.changed = make(chan struct{})
	if o.Throughput > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.Throughput), max(1, int(o.Throughput/10)))
	}
	modes := []BindMode{o.Bind}
	if o.Bind == Pair {
		modes = []BindMode{Transmitter, Receiver}
	}
	for i := range o.Sessions {
		for _, m := range modes {
			c.sessions = append(c.sessions, &session{
				o: &c.o, mode: m, index: i, state: StateIdle, notify: c.notify, hold: c.holdState,
				log: c.log.With("bind", m.String(), "session", i),
			})
		}
	}
	return c, nil
}

// Run keeps every bind up until ctx ends, reconnecting lost links. When ctx
// ends it stops taking submits, unbinds every session (bounded by
// UnbindTimeout) and returns nil. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("smsc: Run called twice")
	}
	context.AfterFunc(ctx, func() { c.stopping.Store(true) })
	var wg sync.WaitGroup
	for _, s := range c.sessions {
		wg.Go(func() { s.run(ctx) })
	}
	wg.Wait()
	c.stopping.Store(true)
	return nil
}

// Submit sends one submit_sm and returns the SMSC's message_id. It picks a
// bound transmit-capable session (the least busy, preferring one that is
// not paused), takes a window slot, waits out a throttling pause, then a
// throughput token, sends and waits for the response.
//
// Throttling is handled here, not by the caller: a submit answered
// ESME_RTHROTTLED or ESME_RMSGQFUL pauses the bind (see Options.ThrottlePause)
// and is held and sent again, with a new sequence number, ahead of new
// submits once the pause is over, for up to Options.ThrottleTimeout; only
// then does Submit return the status. Likewise a submit answered
// ESME_RINVBNDSTS or generic_nack on a bound session means the SMSC lost
// the session: the bind is closed (unbind first, bounded) and bound again,
// and the submit is sent once more on a fresh bind. Both were refused by the
// SMSC, so sending them again cannot duplicate a message.
//
// Errors: ErrNotBound (nothing was sent, or nothing accepted), ErrUnknownOutcome
// (sent but not answered; possibly accepted; a *UnknownOutcomeError whose
// Ref a later Options.LateResponse call may settle), a pdu.Status for a
// non-OK response (errors.As-able), ErrClosed after Run returned, or the ctx
// error. A message that may have been accepted is never resent here.
func (c *Client) Submit(ctx context.Context, sm *pdu.ShortMessage) (string, error) {
	if sm == nil {
		return "", errors.New("smsc: Submit with nil message")
	}
	if c.stopping.Load() {
		return "", ErrClosed
	}
	if !c.Bound() {
		return "", ErrNotBound
	}
	var st submitState
	for {
		id, err, rebound := c.submitOn(ctx, sm, &st)
		if !rebound {
			return id, err
		}
		// Wait (bounded) for a bind to take the submit again.
		wctx, cancel := context.WithTimeout(ctx, c.o.ReconnectMax+2*c.o.ResponseTimeout)
		werr := c.WaitBound(wctx)
		cancel()
		if werr != nil {
			return "", err
		}
	}
}

// submitState is what one Submit call carries across its attempts.
type submitState struct {
	throttledAt time.Time // first throttled answer; zero when none
	rebinds     int
}

// maxRebinds is how often one Submit rebinds after the SMSC lost the
// session before it returns the status.
const maxRebinds = 1

// submitOn sends sm on one bind, again after each throttling pause. It
// reports rebound when the SMSC had lost the session and the caller should
// try again on a fresh bind.
func (c *Client) submitOn(ctx context.Context, sm *pdu.ShortMessage, st *submitState) (string, error, bool) {
	cn, s, err := c.acquire(ctx)
	if err != nil {
		return "", err, false
	}
	defer func() { <-cn.window }()
	for {
		ep, err := cn.admit(ctx, !st.throttledAt.IsZero())
		if err != nil {
			return "", err, false
		}
		if c.limiter != nil { // after the pause: no burst when it ends
			if err := c.limiter.Wait(ctx); err != nil {
				cn.release(ep, outNone)
				return "", err, false
			}
		}
		s.stats.submitted.Add(1)
		ref := c.refs.Add(1)
		resp, err := cn.sendTimeout(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSM}, Body: sm}, c.o.ResponseTimeout, ref)
		if err == nil && resp.Header.Status != pdu.StatusOK {
			err = resp.Header.Status
		}
		switch {
		case err == nil:
			cn.release(ep, outOK)
			s.stats.submitOK.Add(1)
			return messageID(resp), nil, false
		case isThrottle(err):
			s.stats.throttled.Add(1)
			if d := cn.release(ep, outThrottled); d > 0 {
				s.log.Info("throttled by the SMSC: bind paused", "status", resp.Header.Status, "pause", d)
			}
			if st.throttledAt.IsZero() {
				st.throttledAt = time.Now()
			}
			if time.Since(st.throttledAt) < c.o.ThrottleTimeout {
				continue
			}
			s.log.Warn("submit still throttled, giving up", "status", resp.Header.Status, "throttle_timeout", c.o.ThrottleTimeout)
		case resp != nil && lostSession(resp) && st.rebinds < maxRebinds:
			cn.release(ep, outNone)
			s.stats.submitFailed.Add(1)
			st.rebinds++
			s.log.Warn("SMSC lost the session: rebinding and sending again", "command", resp.Header.ID,
				"seq", resp.Header.Seq, "status", resp.Header.Status)
			cn.rebind(fmt.Errorf("SMSC lost the session: %s %v", resp.Header.ID, resp.Header.Status))
			return "", err, true
		default:
			cn.release(ep, outNone)
		}
		s.stats.submitFailed.Add(1)
		if !errors.Is(err, ErrNotBound) {
			s.log.Debug("submit failed", "seq", seqOf(resp), "err", err)
		}
		return "", err, false
	}
}

// lostSession reports whether resp, the answer to a submit on a bound
// session, says the SMSC no longer knows the session: ESME_RINVBNDSTS or a
// generic_nack (smpp.md §2: rebind, then retry).
func lostSession(resp *pdu.PDU) bool {
	return resp.Header.ID == pdu.GenericNack || resp.Header.Status == pdu.StatusInvBndSts
}

func isThrottle(err error) bool {
	var st pdu.Status
	return errors.As(err, &st) && st.Throttle()
}

func seqOf(p *pdu.PDU) uint32 {
	if p == nil {
		return 0
	}
	return p.Header.Seq
}

// acquire picks a usable session and takes a window slot on it. If the
// session dies while waiting it picks another, a few times.
func (c *Client) acquire(ctx context.Context) (*conn, *session, error) {
	for range 3 {
		cn, s := c.pick()
		if cn == nil {
			break
		}
		select {
		case cn.window <- struct{}{}:
			if cn.usable() {
				return cn, s, nil
			}
			<-cn.window
		case <-cn.ctx.Done():
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	if c.stopping.Load() {
		return nil, nil, ErrClosed
	}
	return nil, nil, ErrNotBound
}

// pick returns the usable transmit-capable session with the fewest
// outstanding submits, preferring one not paused by throttling, starting
// the scan round-robin.
func (c *Client) pick() (*conn, *session) {
	var best *conn
	var bs *session
	var bestPaused bool
	n := len(c.sessions)
	start := int(c.next.Add(1))
	for i := range n {
		s := c.sessions[(start+i)%n]
		if !s.mode.canSubmit() {
			continue
		}
		cn := s.current()
		if cn == nil || !cn.usable() {
			continue
		}
		paused := len(c.sessions) > 1 && cn.paused()
		if best == nil || (bestPaused && !paused) || (paused == bestPaused && cn.inflight() < best.inflight()) {
			best, bs, bestPaused = cn, s, paused
		}
	}
	return best, bs
}

// notify wakes WaitBound callers.
func (c *Client) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.changed)
	c.changed = make(chan struct{})
}

// WaitBound waits until Bound is true or ctx ends; readiness checks and
// tests use it instead of polling.
func (c *Client) WaitBound(ctx context.Context) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if c.Bound() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Bound reports whether at least one transmit-capable session is bound.
func (c *Client) Bound() bool {
	for _, s := range c.sessions {
		if cn := s.current(); s.mode.canSubmit() && cn != nil && cn.usable() {
			return true
		}
	}
	return false
}

// Stats is a snapshot of a Client for status pages and metrics.
type Stats struct {
	ID       string
	Sessions []SessionStats
}

// SessionStats describes one bind.
type SessionStats struct {
	Mode         string    // transceiver, transmitter or receiver
	State        string    // one of the State* constants
	Since        time.Time // when State was entered
	LastError    string    // why the last connection ended or failed
	Submitted    uint64    // submit_sm sent
	SubmitOK     uint64    // answered ESME_ROK
	SubmitFailed uint64    // error status, no answer or link lost
	Throttled    uint64    // answered ESME_RTHROTTLED/ESME_RMSGQFUL (and sent again after a pause)
	Delivered    uint64    // deliver_sm/data_sm acknowledged with ESME_ROK
	Inflight     int       // submits awaiting their response now
}

// Stats returns counters and the state of every session.
func (c *Client) Stats() Stats {
	st := Stats{ID: c.o.ID}
	for _, s := range c.sessions {
		s.mu.Lock()
		ss := SessionStats{
			Mode: s.mode.String(), State: s.state, Since: s.since, LastError: s.lastErr,
			Submitted: s.stats.submitted.Load(), SubmitOK: s.stats.submitOK.Load(),
			SubmitFailed: s.stats.submitFailed.Load(), Throttled: s.stats.throttled.Load(),
			Delivered: s.stats.delivered.Load(),
		}
		if s.cur != nil {
			ss.Inflight = s.cur.inflight()
		}
		s.mu.Unlock()
		st.Sessions = append(st.Sessions, ss)
	}
	return st
}

// String describes the client for logs; it never includes the password.
func (c *Client) String() string {
	return fmt.Sprintf("smsc %q %s@%s (%s x%d)", c.o.ID, c.o.SystemID, c.o.Addr, c.o.Bind, c.o.Sessions)
}
