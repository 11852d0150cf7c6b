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
}

// New checks the options and returns a Client. It does no I/O.
func New(o Options) (*Client, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{o: o, log: o.Logger.With("component", "smsc", "smsc_id", o.ID), changed: make(chan struct{})}
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
				o: &c.o, mode: m, index: i, state: StateIdle, notify: c.notify,
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
// bound transmit-capable session (the least busy), waits for a throughput
// token and a window slot, sends and waits for the response.
//
// Errors: ErrNotBound (nothing was sent), ErrUnknownOutcome (sent but not
// answered; possibly accepted; a *UnknownOutcomeError whose Ref a later
// Options.LateResponse call may settle), a pdu.Status for a non-OK response
// (errors.As-able; ESME_RTHROTTLED also pauses the bind), ErrClosed after
// Run returned, or the ctx error. The message is never resent here.
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
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return "", err
		}
	}
	cn, s, err := c.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer func() { <-cn.window }()
	if err := cn.waitPause(ctx); err != nil {
		return "", err
	}
	s.stats.submitted.Add(1)
	ref := c.refs.Add(1)
	resp, err := cn.sendTimeout(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSM}, Body: sm}, c.o.ResponseTimeout, ref)
	if err == nil && resp.Header.Status != pdu.StatusOK {
		err = resp.Header.Status
	}
	switch {
	case err == nil:
		cn.throttled(false)
	case isThrottle(err):
		cn.throttled(true)
	}
	if err != nil {
		s.stats.submitFailed.Add(1)
		if !errors.Is(err, ErrNotBound) {
			s.log.Debug("submit failed", "seq", seqOf(resp), "err", err)
		}
		return "", err
	}
	s.stats.submitOK.Add(1)
	return messageID(resp), nil
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
// outstanding submits, starting the scan round-robin.
func (c *Client) pick() (*conn, *session) {
	var best *conn
	var bs *session
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
		if best == nil || cn.inflight() < best.inflight() {
			best, bs = cn, s
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
			SubmitFailed: s.stats.submitFailed.Load(), Delivered: s.stats.delivered.Load(),
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
