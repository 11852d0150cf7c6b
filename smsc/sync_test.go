package smsc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// bubble runs f inside a synctest bubble with an smsctest server reached
// over net.Pipe and a running Client; everything is stopped before the
// bubble ends. Time inside is fake, so the timers below cost nothing.
func bubble(t *testing.T, edit func(*smsc.Options), f func(t *testing.T, srv *smsctest.Server, c *smsc.Client)) {
	t.Helper()
	bubbleWith(t, nil, edit, f)
}

// bubbleWith is bubble with extra server options.
func bubbleWith(t *testing.T, srvOpts []smsctest.Option, edit func(*smsc.Options), f func(t *testing.T, srv *smsctest.Server, c *smsc.Client)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(append([]smsctest.Option{smsctest.WithAccount("esme", "secret")}, srvOpts...)...)
		o := smsc.Options{
			ID: "sync", Addr: "smsc.test:2775", SystemID: "esme", Password: "secret",
			Dial: srv.DialPipe, Logger: slog.New(slog.DiscardHandler),
		}
		if edit != nil {
			edit(&o)
		}
		c, err := smsc.New(o)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { c.Run(ctx) })
		f(t, srv, c)
		cancel()
		wg.Wait()
		srv.Close()
	})
}

func TestResponseTimeoutIsUnknownOutcome(t *testing.T) {
	bubble(t, nil, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.DropResponses(1)
		start := time.Now()
		_, err := c.Submit(t.Context(), sm("lost"))
		if !errors.Is(err, smsc.ErrUnknownOutcome) {
			t.Fatalf("Submit with dropped response = %v, want ErrUnknownOutcome", err)
		}
		if d := time.Since(start); d != smsc.DefaultResponseTimeout {
			t.Errorf("gave up after %s, want the response timeout %s", d, smsc.DefaultResponseTimeout)
		}
		if n := len(srv.Submits()); n != 1 {
			t.Errorf("server got %d submits, want 1 (never resent)", n)
		}
		if _, err := c.Submit(t.Context(), sm("next")); err != nil {
			t.Errorf("Submit after a timeout = %v; the link should stay up", err)
		}
	})
}

func TestLinkLostAfterWriteIsUnknownOutcome(t *testing.T) {
	bubble(t, nil, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.DropResponses(1)
		res := make(chan error, 1)
		go func() { _, err := c.Submit(t.Context(), sm("x")); res <- err }()
		if _, err := srv.WaitSubmits(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		srv.DropConnections()
		if err := <-res; !errors.Is(err, smsc.ErrUnknownOutcome) {
			t.Errorf("Submit when the link dropped after the write = %v, want ErrUnknownOutcome", err)
		}
	})
}

func TestEnquireLinkTimeoutReconnects(t *testing.T) {
	edit := func(o *smsc.Options) { o.EnquireLink, o.ResponseTimeout = 30*time.Second, 10*time.Second }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Idle link: the client enquires every 30s and the server answers.
		time.Sleep(95 * time.Second)
		synctest.Wait()
		if n := srv.Stats().Binds; n != 1 {
			t.Fatalf("binds = %d after an idle answered link, want 1", n)
		}
		srv.SetSilent(true) // black hole: nothing is answered
		bindLost := time.Now()
		time.Sleep(30*time.Second + 10*time.Second + time.Second)
		synctest.Wait()
		if c.Bound() {
			t.Fatalf("still bound %s after the link went silent", time.Since(bindLost))
		}
		srv.SetSilent(false)
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := srv.Stats().Binds; n != 2 {
			t.Errorf("binds = %d, want 2 (reconnected)", n)
		}
		if _, err := c.Submit(t.Context(), sm("after")); err != nil {
			t.Errorf("Submit after reconnect: %v", err)
		}
	})
}

func TestBackoffDoublesWithJitterAndCaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var dials []time.Time
		c, err := smsc.New(smsc.Options{
			ID: "b", Addr: "nowhere.test:2775", ReconnectDelay: time.Second, ReconnectMax: 16 * time.Second,
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				defer mu.Unlock()
				dials = append(dials, time.Now())
				return nil, errors.New("connection refused")
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		c.Run(ctx)
		want := []time.Duration{1, 2, 4, 8, 16, 16, 16}
		if len(dials) < len(want)+1 {
			t.Fatalf("%d dials in 2 minutes, want at least %d", len(dials), len(want)+1)
		}
		for i, w := range want {
			gap := dials[i+1].Sub(dials[i])
			lo, hi := w*time.Second*8/10, w*time.Second*12/10
			if gap < lo || gap > hi {
				t.Errorf("wait before dial %d = %s, want %s ±20%%", i+2, gap, w*time.Second)
			}
		}
	})
}

func TestBindRefusedBacksOffLong(t *testing.T) {
	edit := func(o *smsc.Options) {
		o.Password = "wrong"
		o.ReconnectDelay, o.ReconnectMax = time.Second, time.Minute
	}
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		// One refusal at once, then one per ReconnectMax (±20 %): 9..13.
		n := srv.Stats().BindsRefused
		if n < 9 || n > 13 {
			t.Errorf("refused binds in 10 minutes = %d, want 9..13 (one per minute)", n)
		}
		if c.Bound() {
			t.Error("bound with a wrong password")
		}
		if ls := c.Stats().Sessions[0].LastError; ls == "" {
			t.Errorf("LastError empty; want the bind refusal")
		}
	})
}

// An SMSC that accepts every bind and drops the link at once must not be
// hammered: the backoff keeps growing until a bind has stayed up for a
// minute (smpp.md §7.2).
func TestShortBindsDoNotResetBackoff(t *testing.T) {
	edit := func(o *smsc.Options) { o.ReconnectDelay, o.ReconnectMax = time.Second, time.Minute }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
		defer cancel()
		for ctx.Err() == nil {
			if srv.WaitBound(ctx, 1) != nil {
				break
			}
			srv.DropConnections()
		}
		// 1+2+4+8+16+32 s, then one per minute: ≈ 15 binds (±20 % jitter).
		if n := srv.Stats().Binds; n < 12 || n > 18 {
			t.Errorf("binds in 10 minutes against an SMSC dropping every bind = %d, want ≈ 15", n)
		}
	})
}

func TestLongBindResetsBackoff(t *testing.T) {
	edit := func(o *smsc.Options) { o.ReconnectDelay, o.ReconnectMax = time.Second, time.Minute }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Three quick drops grow the backoff (1 s, 2 s, 4 s)...
		for range 3 {
			srv.DropConnections()
			synctest.Wait()
			if err := c.WaitBound(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		// ...a bind that stays up for a minute resets it.
		time.Sleep(61 * time.Second)
		srv.DropConnections()
		start := time.Now()
		synctest.Wait()
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 1200*time.Millisecond {
			t.Errorf("drop after a 61s bind: rebound after %s, want ≤ 1.2s (backoff reset)", d)
		}
	})
}

func TestThrottlePausesBind(t *testing.T) {
	edit := func(o *smsc.Options) { o.ThrottlePause = time.Second }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.Throttle(2)
		for range 2 {
			var st pdu.Status
			if _, err := c.Submit(t.Context(), sm("t")); !errors.As(err, &st) || st != pdu.StatusThrottled {
				t.Fatalf("Submit = %v, want ESME_RTHROTTLED", err)
			}
		}
		// Two throttles in a row: paused 1s, then 2s before the next send.
		start := time.Now()
		if _, err := c.Submit(t.Context(), sm("ok")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 2*time.Second {
			t.Errorf("next submit sent after %s, want the bind paused ≥ 2s", d)
		}
		start = time.Now()
		if _, err := c.Submit(t.Context(), sm("ok2")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("submit after a success waited %s, want no pause", d)
		}
	})
}

func TestThroughputLimit(t *testing.T) {
	edit := func(o *smsc.Options) { o.Throughput = 10 }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range 31 {
			if _, err := c.Submit(t.Context(), sm("r")); err != nil {
				t.Fatal(err)
			}
		}
		// 10/s with a burst of 1: 31 submits need 3s.
		if d := time.Since(start); d < 3*time.Second || d > 3100*time.Millisecond {
			t.Errorf("31 submits at 10/s took %s, want 3s", d)
		}
	})
}

func TestLateResponseSettlesUnknownOutcome(t *testing.T) {
	type late struct {
		ref uint64
		id  string
		st  pdu.Status
	}
	got := make(chan late, 1)
	edit := func(o *smsc.Options) {
		o.ResponseTimeout = 10 * time.Second
		o.LateResponse = func(ref uint64, id string, st pdu.Status) { got <- late{ref, id, st} }
	}
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(t.Context(), sm("first")); err != nil { // ref 1
			t.Fatal(err)
		}
		srv.SetDelay(15 * time.Second)
		_, err := c.Submit(t.Context(), sm("slow"))
		var uo *smsc.UnknownOutcomeError
		if !errors.As(err, &uo) || !errors.Is(err, smsc.ErrUnknownOutcome) || uo.Ref != 2 {
			t.Fatalf("Submit = %v, want *UnknownOutcomeError with Ref 2", err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		select {
		case l := <-got:
			if l.ref != 2 || l.id != "2" || l.st != pdu.StatusOK {
				t.Errorf("LateResponse(%d, %q, %v), want (2, \"2\", ESME_ROK)", l.ref, l.id, l.st)
			}
		default:
			t.Fatal("LateResponse not called when the late submit_sm_resp arrived")
		}
	})
}

// A handler stalled on its commit must not stop the reader: submit_sm_resp
// and the SMSC's enquire_link keep being read, each deliver_sm_resp goes
// out when its commit lands, and beyond MaxInbound the SMSC is throttled.
func TestSlowHandlerNeverStallsReader(t *testing.T) {
	srvOpts := []smsctest.Option{
		smsctest.WithEnquireLink(5*time.Second, 3*time.Second), // drops the link if enquire_link goes unanswered
		smsctest.WithResponseTimeout(time.Minute),
	}
	edit := func(o *smsc.Options) {
		o.Window, o.MaxInbound = 10, 20
		o.Handler = smsc.HandlerFunc(func(ctx context.Context, p *pdu.PDU) pdu.Status {
			time.Sleep(12 * time.Second) // a slow commit
			return pdu.StatusOK
		})
	}
	bubbleWith(t, srvOpts, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		const mo = 25 // more than the window; 5 more than MaxInbound
		res := make(chan pdu.Status, mo)
		for range mo {
			go func() {
				st, err := srv.Deliver(t.Context(), sm("mo"))
				if err != nil {
					t.Errorf("Deliver: %v", err)
				}
				res <- st
			}()
		}
		synctest.Wait()
		start := time.Now()
		for i := range 3 {
			if _, err := c.Submit(t.Context(), sm("mt")); err != nil {
				t.Errorf("Submit %d while handlers stall = %v, want answered", i, err)
				break
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("submits while handlers stall took %s, want no wait", d)
		}
		got := map[pdu.Status]int{}
		for range mo {
			got[<-res]++
		}
		if got[pdu.StatusOK] != 20 || got[pdu.StatusThrottled] != 5 {
			t.Errorf("deliver_sm answers = %v, want 20 ESME_ROK and 5 ESME_RTHROTTLED (MaxInbound 20)", got)
		}
		if n := srv.Stats().Binds; n != 1 {
			t.Errorf("binds = %d, want 1 (enquire_link answered while handlers stalled)", n)
		}
	})
}

// brokenConn fails every Write once fail is set, as a socket whose peer is
// gone does; nothing of the failed write reaches the SMSC.
type brokenConn struct {
	net.Conn
	fail *atomic.Bool
}

func (b brokenConn) Write(p []byte) (int, error) {
	if b.fail.Load() {
		return 0, errors.New("write: broken pipe")
	}
	return b.Conn.Write(p)
}

// A submit whose write failed was not sent: Submit says ErrNotBound (safe to
// retry), not ErrUnknownOutcome.
func TestFailedWriteIsNotSent(t *testing.T) {
	var fail atomic.Bool
	edit := func(o *smsc.Options) {
		dial := o.Dial
		o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := dial(ctx, network, addr)
			return brokenConn{nc, &fail}, err
		}
	}
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		fail.Store(true)
		_, err := c.Submit(t.Context(), sm("never left"))
		if !errors.Is(err, smsc.ErrNotBound) || errors.Is(err, smsc.ErrUnknownOutcome) {
			t.Errorf("Submit whose write failed = %v, want ErrNotBound (not sent)", err)
		}
		fail.Store(false)
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Submits()); n != 0 {
			t.Errorf("server got %d submits, want 0", n)
		}
	})
}

// The write deadline is set before every write: a PDU larger than the write
// buffer sent after a quiet spell longer than the response timeout goes out
// instead of failing on a stale deadline and dropping the link.
func TestLargeWriteAfterIdleKeepsLink(t *testing.T) {
	edit := func(o *smsc.Options) { o.EnquireLink, o.ResponseTimeout = time.Hour, 10*time.Second }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		big := &pdu.ShortMessage{SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550001111"}
		big.TLVs.Set(pdu.TagMessagePayload, bytes.Repeat([]byte("x"), 20000))
		if _, err := c.Submit(t.Context(), big); err != nil {
			t.Errorf("Submit of a 20000-octet payload after a quiet minute = %v, want sent", err)
		}
		if n := srv.Stats().Binds; n != 1 {
			t.Errorf("binds = %d, want 1 (link kept)", n)
		}
	})
}
