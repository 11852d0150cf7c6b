package smsc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Session states reported in SessionStats.State.
const (
	StateIdle       = "idle"       // Run not started
	StateConnecting = "connecting" // dialing or binding
	StateBound      = "bound"      // bound, taking traffic
	StateUnbinding  = "unbinding"  // graceful stop in progress
	StateBackoff    = "backoff"    // waiting before the next reconnect
	StateClosed     = "closed"     // Run returned
)

// slotStats are a session's counters.
type slotStats struct {
	submitted, submitOK, submitFailed, throttled, delivered atomic.Uint64
}

// session is one bind the Client keeps up, across reconnects.
type session struct {
	o      *Options
	mode   BindMode // never Pair
	index  int
	log    *slog.Logger
	stats  slotStats
	notify func() // tells the Client a state changed
	hold   func() (stopped bool, changed <-chan struct{}, ctx context.Context)

	mu      sync.Mutex
	cur     *conn // bound connection, nil when none
	state   string
	since   time.Time
	lastErr string
}

// bindError is a bind_resp with a non-OK status.
type bindError struct{ status pdu.Status }

func (e *bindError) Error() string { return fmt.Sprintf("smsc: bind refused: %v", e.status) }
func (e *bindError) Unwrap() error { return e.status }

func (s *session) setState(state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state != s.state {
		s.state, s.since = state, time.Now()
	}
	if err != nil {
		s.lastErr = err.Error()
	}
	if s.notify != nil {
		defer s.notify()
	}
}

// current returns the bound connection, or nil.
func (s *session) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// stableBind is how long a bind must stay up before the reconnect backoff
// starts again from ReconnectDelay (smpp.md §7.2): an SMSC that accepts the
// bind and then drops the link keeps getting longer waits.
const stableBind = time.Minute

// run keeps the bind up until ctx ends: a loop around runOnce with capped
// exponential backoff and ±20 % jitter, reset after a bind that stayed up
// for stableBind; a refused bind waits ReconnectMax.
func (s *session) run(ctx context.Context) {
	delay := s.o.ReconnectDelay
	for {
		if !s.waitStarted(ctx) {
			s.setState(StateClosed, nil)
			return
		}
		start := time.Now()
		rctx, cancel := s.runContext(ctx)
		bound, err := s.runOnce(rctx)
		cancel()
		if ctx.Err() != nil {
			s.setState(StateClosed, nil)
			return
		}
		if stopped, _, _ := s.hold(); stopped {
			delay = s.o.ReconnectDelay // an operator's stop, not a failure
			continue
		}
		wait := delay
		var be *bindError
		switch {
		case errors.As(err, &be):
			wait = s.o.ReconnectMax
		case bound && time.Since(start) >= stableBind:
			delay, wait = s.o.ReconnectDelay, s.o.ReconnectDelay
		default:
			delay = min(2*delay, s.o.ReconnectMax)
		}
		wait = jitter(wait)
		s.log.Warn("session down, reconnecting", "err", err, "wait", wait)
		s.setState(StateBackoff, err)
		t := time.NewTimer(wait)
		_, changed, _ := s.hold()
		select {
		case <-ctx.Done():
			t.Stop()
			s.setState(StateClosed, nil)
			return
		case <-changed: // stopped meanwhile: waitStarted takes over
			t.Stop()
		case <-t.C:
		}
	}
}

// jitter spreads d by ±20 %.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// runOnce dials, binds and serves one connection until it is lost or ctx
// ends (then it unbinds gracefully). It reports whether the bind succeeded.
func (s *session) runOnce(ctx context.Context) (bound bool, err error) {
	s.setState(StateConnecting, nil)
	nc, err := s.dial(ctx)
	if err != nil {
		return false, err
	}
	// The connection outlives ctx so a graceful unbind can still talk.
	c := newConn(context.WithoutCancel(ctx), nc, s.mode, s.o, s.log, &s.stats)
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	wg.Go(c.readLoop)
	defer func() {
		c.close(errStopping)
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
		wg.Wait()
		c.hwg.Wait()
	}()
	stop := context.AfterFunc(ctx, func() { c.close(errStopping) })
	err = s.bind(c)
	stop()
	if err != nil {
		return false, err
	}
	wg.Go(c.keepalive)
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
	s.setState(StateBound, nil)
	s.log.Info("bound")

	select {
	case <-c.ctx.Done():
		return true, context.Cause(c.ctx)
	case <-ctx.Done():
	}
	s.setState(StateUnbinding, nil)
	s.unbind(c)
	return true, nil
}

// dial opens the transport, TLS when configured, within ResponseTimeout.
func (s *session) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.ResponseTimeout)
	defer cancel()
	dial := s.o.Dial
	if dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		if s.o.LocalAddr != "" {
			la, err := ParseLocalAddr(s.o.LocalAddr) // checked by New
			if err != nil {
				return nil, err
			}
			d.LocalAddr = la
		}
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", s.o.Addr)
	switch {
	case err == nil:
	case s.o.LocalAddr != "" && errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("connect %s from local_addr %s: not an address of this host: %w", s.o.Addr, s.o.LocalAddr, err)
	case s.o.LocalAddr != "" && errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("connect %s from local_addr %s: port already in use: %w", s.o.Addr, s.o.LocalAddr, err)
	default:
		return nil, fmt.Errorf("connect %s: %w", s.o.Addr, err)
	}
	if s.o.TLS == nil {
		return nc, nil
	}
	cfg := s.o.TLS.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(s.o.Addr)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("tls handshake %s: %w", s.o.Addr, err)
	}
	return tc, nil
}

// bind sends the bind request and checks its response.
func (s *session) bind(c *conn) error {
	o := s.o
	resp, err := c.send(c.ctx, &pdu.PDU{
		Header: pdu.Header{ID: s.mode.command()},
		Body: &pdu.Bind{
			SystemID: o.SystemID, Password: o.Password, SystemType: o.SystemType,
			InterfaceVersion: 0x34, AddrTON: o.AddrTON, AddrNPI: o.AddrNPI, AddressRange: o.AddressRange,
		},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", s.mode.command(), err)
	}
	if st := resp.Header.Status; st != pdu.StatusOK {
		s.log.Error("bind refused", "command", resp.Header.ID, "status", st)
		return &bindError{status: st}
	}
	return nil
}

// unbind stops a healthy link gracefully (§7.7): no new submits, wait for
// the outstanding ones (bounded), send unbind, wait for unbind_resp
// (bounded) while still answering deliver_sm, then close.
func (s *session) unbind(c *conn) {
	c.mu.Lock()
	c.closing = true
	c.wake() // submits waiting out a throttling pause give up now
	c.mu.Unlock()
	if !c.drain() {
		s.log.Warn("unbinding with submits outstanding", "inflight", c.inflight())
	}
	if c.ctx.Err() != nil {
		return
	}
	resp, err := c.sendTimeout(c.ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.Unbind}}, s.o.UnbindTimeout, 0)
	switch {
	case err != nil && c.ctx.Err() != nil:
		s.log.Info("SMSC closed the link after unbind") // counts as success (§7.7)
	case err != nil:
		s.log.Warn("unbind unanswered", "err", err)
	default:
		s.log.Info("unbound", "status", resp.Header.Status)
	}
}
