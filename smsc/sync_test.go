package smsc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
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
		srv := smsctest.NewUnstartedServer(append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("esme", "secret")}, srvOpts...)...)
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

// refuseFirst answers the first n submits with st and the rest normally.
func refuseFirst(srv *smsctest.Server, n int, st pdu.Status) {
	var mu sync.Mutex
	srv.SetHandler(smsctest.HandlerFunc(func(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		mu.Lock()
		refuse := p.ID == pdu.SubmitSM && n > 0
		if refuse {
			n--
		}
		mu.Unlock()
		if refuse {
			return pdu.NewResponse(p, st, nil)
		}
		return srv.Default(ss, p)
	}))
}

// A window full of throttled answers is one episode: one pause of
// ThrottlePause, the held submits are sent again by the client itself, and
// the window re-opens one submit at a time (no burst when the pause ends).
// ESME_RMSGQFUL is handled the same way.
func TestThrottleEpisodeHoldsAndResends(t *testing.T) {
	for _, st := range []pdu.Status{pdu.StatusThrottled, pdu.StatusMsgQFul} {
		t.Run(st.String(), func(t *testing.T) {
			bubble(t, nil, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
				if err := c.WaitBound(t.Context()); err != nil {
					t.Fatal(err)
				}
				srv.SetDelay(100 * time.Millisecond)
				refuseFirst(srv, 10, st)
				start := time.Now()
				var wg sync.WaitGroup
				for range 10 {
					wg.Go(func() {
						if _, err := c.Submit(t.Context(), sm("t")); err != nil {
							t.Errorf("Submit = %v, want held through the throttling and accepted", err)
						}
					})
				}
				wg.Wait()
				// 10 refused at 0.1s, pause 1s; then 1, 2, 4 and 3 sent
				// one round trip apart (slow start): done at 1.5s.
				if d := time.Since(start); d != 1500*time.Millisecond {
					t.Errorf("10 throttled submits done after %s, want 1.5s (one 1s pause, slow start)", d)
				}
				perTime := map[time.Duration]int{}
				for _, sub := range srv.Submits() {
					perTime[sub.At.Sub(start).Round(time.Millisecond)]++
				}
				// (refuseFirst's answers are not recorded by the server.)
				want := map[time.Duration]int{1100 * time.Millisecond: 1, 1200 * time.Millisecond: 2,
					1300 * time.Millisecond: 4, 1400 * time.Millisecond: 3}
				for at, n := range want {
					if perTime[at] != n {
						t.Errorf("server got %d submits at %s, want %d (all: %v)", perTime[at], at, n, perTime)
					}
				}
				if ss := c.Stats().Sessions[0]; ss.Throttled != 10 || ss.SubmitOK != 10 || ss.SubmitFailed != 0 {
					t.Errorf("stats = %+v, want 10 throttled, 10 ok, 0 failed", ss)
				}
			})
		})
	}
}

// While the SMSC keeps throttling, each probe that fails doubles the pause
// (1s, 2s, 4s, 8s...) up to ThrottleMax; Submit gives up after
// ThrottleTimeout and returns the status. An episode after submits got
// through halves the pause; one after a quiet minute starts from
// ThrottlePause.
func TestThrottlePauseDoublesOnRepeat(t *testing.T) {
	edit := func(o *smsc.Options) { o.ThrottleMax, o.ThrottleTimeout = 4*time.Second, 20*time.Second }
	bubble(t, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.Throttle(-1)
		start := time.Now()
		_, err := c.Submit(t.Context(), sm("t"))
		var st pdu.Status
		if !errors.As(err, &st) || st != pdu.StatusThrottled {
			t.Errorf("Submit throttled for good = %v, want ESME_RTHROTTLED after ThrottleTimeout", err)
		}
		var at []time.Duration
		for _, sub := range srv.Submits() {
			at = append(at, sub.At.Sub(start))
		}
		want := []time.Duration{0, 1, 3, 7, 11, 15, 19, 23}
		for i := range want {
			want[i] *= time.Second
		}
		if !slices.Equal(at, want) {
			t.Errorf("throttled submits sent at %v, want %v", at, want)
		}
		srv.Throttle(0)
		start = time.Now()
		if _, err := c.Submit(t.Context(), sm("ok")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 4*time.Second {
			t.Errorf("next submit waited %s, want the rest of the 4s pause", d)
		}
		// Submits got through since that pause: the next episode halves it.
		srv.Throttle(1)
		start = time.Now()
		if _, err := c.Submit(t.Context(), sm("halved")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("throttled once after successes: resent after %s, want 2s (half the last pause)", d)
		}
		// A quiet minute: the next episode starts again from ThrottlePause.
		time.Sleep(time.Minute)
		srv.Throttle(1)
		start = time.Now()
		if _, err := c.Submit(t.Context(), sm("reset")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("throttled after a quiet minute: resent after %s, want 1s (ThrottlePause)", d)
		}
	})
}

// An SMSC that accepts 4 submit_sm/s: 100 MT from 100 concurrent callers
// (each re-submitting a throttled part as the bridge did, up to 5 times)
// all go through within twice the ideal 25s, with the client's
// throughput set a bit too high or not at all, on a link with no delay and
// with a VPN-like 200ms round trip.
func TestThrottledSMSCThroughput(t *testing.T) {
	for _, tc := range []struct {
		tp  float64
		rtt time.Duration
	}{{5, 0}, {0, 0}, {5, 200 * time.Millisecond}, {0, 200 * time.Millisecond}} {
		t.Run(fmt.Sprintf("throughput=%g,rtt=%s", tc.tp, tc.rtt), func(t *testing.T) {
			edit := func(o *smsc.Options) { o.Window, o.Throughput = 10, tc.tp }
			bubbleWith(t, []smsctest.Option{smsctest.WithSubmitRate(4)}, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
				if err := c.WaitBound(t.Context()); err != nil {
					t.Fatal(err)
				}
				srv.SetDelay(tc.rtt)
				start := time.Now()
				var wg sync.WaitGroup
				var failed atomic.Int32
				for range 100 {
					wg.Go(func() {
						for try := 0; ; try++ {
							_, err := c.Submit(t.Context(), sm("mt"))
							if err == nil {
								return
							}
							var st pdu.Status
							if try == 5 || !errors.As(err, &st) || !st.Throttle() {
								failed.Add(1)
								return
							}
						}
					})
				}
				wg.Wait()
				d := time.Since(start)
				ok := 0
				for _, sub := range srv.Submits() {
					if sub.Status == pdu.StatusOK {
						ok++
					}
				}
				if failed.Load() != 0 || ok != 100 || d > 50*time.Second {
					t.Errorf("100 MT at 4/s: %d accepted, %d given up, in %s; want 100, 0, within 50s (ideal 25s)", ok, failed.Load(), d)
				}
				t.Logf("100 MT in %s, %d throttled answers", d, srv.Stats().Throttled)
			})
		})
	}
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
			if string(p.Body.(*pdu.ShortMessage).Message) != "fast" {
				time.Sleep(12 * time.Second) // a slow commit
			}
			return pdu.StatusOK
		})
	}
	bubbleWith(t, srvOpts, edit, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		res := make(chan pdu.Status, 25)
		deliver := func(n int) {
			for range n {
				go func() {
					st, err := srv.Deliver(t.Context(), sm("mo"))
					if err != nil {
						t.Errorf("Deliver: %v", err)
					}
					res <- st
				}()
			}
			synctest.Wait()
		}
		deliver(19) // more than the window: all being committed
		start := time.Now()
		for i := range 3 {
			if _, err := c.Submit(t.Context(), sm("mt")); err != nil {
				t.Errorf("Submit %d while handlers stall = %v, want answered", i, err)
				break
			}
		}
		if st, err := srv.Deliver(t.Context(), sm("fast")); err != nil || st != pdu.StatusOK {
			t.Errorf("Deliver(fast) = %v, %v; want ESME_ROK", st, err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("submits and a fast MO while handlers stall took %s, want no wait (answers out of order)", d)
		}
		deliver(6) // 1 more fits in MaxInbound 20 (the fast one is done), 5 do not
		got := map[pdu.Status]int{}
		for range 25 {
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

// An SMSC that answers a submit on a bound session with ESME_RINVBNDSTS or
// generic_nack has lost the session: the client unbinds, binds again and
// sends the submit on the fresh bind; the caller only sees it accepted.
func TestLostSessionRebindsAndResends(t *testing.T) {
	for _, nack := range []bool{false, true} {
		t.Run(map[bool]string{false: "ESME_RINVBNDSTS", true: "generic_nack"}[nack], func(t *testing.T) {
			bubble(t, nil, func(t *testing.T, srv *smsctest.Server, c *smsc.Client) {
				if err := c.WaitBound(t.Context()); err != nil {
					t.Fatal(err)
				}
				srv.SetHandler(smsctest.HandlerFunc(func(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
					switch {
					case ss.ID() > 1: // a fresh bind
						return srv.Default(ss, p)
					case nack:
						return pdu.NewGenericNack(p.Seq, pdu.StatusInvBndSts)
					}
					return pdu.NewResponse(p, pdu.StatusInvBndSts, nil)
				}))
				id, err := c.Submit(t.Context(), sm("again"))
				if err != nil {
					t.Fatalf("Submit on a session the SMSC lost = %v, want sent again on a fresh bind", err)
				}
				subs := srv.Submits()
				if len(subs) != 1 || subs[0].MessageID != id || subs[0].Session != 2 {
					t.Errorf("server recorded %+v, want one submit accepted on session 2", subs)
				}
				if st := srv.Stats(); st.Binds != 2 || st.Unbinds != 1 {
					t.Errorf("server stats %+v, want 2 binds and the lost session unbound", st)
				}
			})
		})
	}
}

// A graceful stop does not wait for a throttling pause to end: submits held
// in the pause give up at once (nothing was accepted) and the bind unbinds.
func TestStopDuringThrottlePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithAccount("esme", "secret"))
		defer srv.Close()
		c, err := smsc.New(smsc.Options{ID: "sync", Addr: "smsc.test:2775", SystemID: "esme", Password: "secret",
			Dial: srv.DialPipe, ThrottlePause: 20 * time.Second, UnbindTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.Throttle(1)
		res := make(chan error, 1)
		go func() { _, err := c.Submit(t.Context(), sm("held")); res <- err }()
		time.Sleep(time.Second) // throttled, now held in a 20s pause
		start := time.Now()
		cancel()
		<-done
		if d := time.Since(start); d >= time.Second {
			t.Errorf("stop took %s, want no wait for the pause (nor for UnbindTimeout)", d)
		}
		if err := <-res; !errors.Is(err, smsc.ErrNotBound) {
			t.Errorf("held submit on stop = %v, want ErrNotBound (not accepted)", err)
		}
		if n := srv.Stats().Unbinds; n != 1 {
			t.Errorf("unbinds = %d, want 1", n)
		}
	})
}

// TestGracefulStopAnswersRunningHandlers: a stop while a handler is still
// committing an MO waits (up to UnbindTimeout) for its deliver_sm_resp to go
// out before the unbind; unanswered, the SMSC would deliver the committed MO
// again after the restart.
func TestGracefulStopAnswersRunningHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithTB(t), smsctest.WithAccount("esme", "secret"))
		entered := make(chan struct{})
		c, err := smsc.New(smsc.Options{
			ID: "sync", Addr: "smsc.test:2775", SystemID: "esme", Password: "secret",
			Dial: srv.DialPipe, Logger: slog.New(slog.DiscardHandler),
			Handler: smsc.HandlerFunc(func(ctx context.Context, p *pdu.PDU) pdu.Status {
				close(entered)
				time.Sleep(2 * time.Second) // a slow commit
				return pdu.StatusOK
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { c.Run(ctx) })
		if err := c.WaitBound(t.Context()); err != nil {
			t.Fatal(err)
		}
		type answer struct {
			st  pdu.Status
			err error
		}
		got := make(chan answer, 1)
		go func() {
			st, err := srv.Deliver(t.Context(), &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "2349067554729",
				DestTON: 1, DestNPI: 1, DestAddr: "5582999489287", Message: []byte("JOIN")})
			got <- answer{st, err}
		}()
		<-entered
		cancel() // graceful stop while the handler commits
		if a := <-got; a.err != nil || a.st != pdu.StatusOK {
			t.Errorf("deliver_sm answered %v, %v; want ESME_ROK before the unbind", a.st, a.err)
		}
		wg.Wait()
		srv.Close()
	})
}
