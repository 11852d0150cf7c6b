package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// TestCallbackClientKeepsConnections: a channel with 16 callbacks in flight
// reuses 16 keep-alive connections burst after burst; it does not open and
// close connections beyond a small idle pool for every burst.
func TestCallbackClientKeepsConnections(t *testing.T) {
	const conc, rounds = 16, 10
	var opened atomic.Int32
	var mu sync.Mutex
	arrived, release := 0, make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		ch := release
		if arrived%conc == 0 { // the whole burst is in flight: let it go
			close(release)
			release = make(chan struct{})
		}
		mu.Unlock()
		<-ch
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	client := NewHTTPClient(5*time.Second, conc, slog.New(slog.DiscardHandler))
	for range rounds {
		var wg sync.WaitGroup
		for range conc {
			wg.Go(func() {
				resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("x"))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if n := opened.Load(); n > conc {
		t.Errorf("%d bursts of %d requests opened %d connections, want at most %d (one pool, reused)", rounds, conc, n, conc)
	}
}

// fakePlatform is an http.RoundTripper that answers 200 after latency and
// records when each request started and how many were in flight.
type fakePlatform struct {
	latency func(key string) time.Duration
	mu      sync.Mutex
	starts  []time.Time
	ends    []string // "key body" of each request as it finished
	now     int
	maxNow  int
	perKey  map[string]int // requests in flight per X-Key header
	overlap []string       // keys seen twice in flight at once
}

func (p *fakePlatform) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Header.Get("X-Key")
	p.mu.Lock()
	p.starts = append(p.starts, time.Now())
	p.now++
	p.maxNow = max(p.maxNow, p.now)
	if p.perKey == nil {
		p.perKey = map[string]int{}
	}
	if p.perKey[key]++; key != "" && p.perKey[key] > 1 {
		p.overlap = append(p.overlap, key)
	}
	p.mu.Unlock()
	time.Sleep(p.latency(key))
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.now--
	p.perKey[key]--
	p.ends = append(p.ends, key+" "+string(body))
	p.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func (p *fakePlatform) done() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ends)
}

func fixed(d time.Duration) func(string) time.Duration {
	return func(string) time.Duration { return d }
}

// laneBubble runs a Bridge with one custom channel over a real store inside
// a synctest bubble, with n callbacks queued in order (callback i has the
// ordering key and X-Key header key(i) and body i), until the fake platform
// has answered them all.
func laneBubble(t *testing.T, ch Channel, p *fakePlatform, n int, key func(i int) string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "q.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ch.Kind, ch.HTTP = "custom", &http.Client{Transport: p}
		b, err := New(Options{Queue: st, Channels: []Channel{ch}})
		if err != nil {
			t.Fatal(err)
		}
		b.Mount(ch.ID, nopAdapter{http.NotFoundHandler()})
		for i := range n {
			req := Request{Method: "POST", URL: "http://platform.test/hook", Header: map[string]string{"X-Key": key(i)},
				Body: []byte(fmt.Sprint(i))}
			data, _ := json.Marshal(callback{Request: req})
			it := store.NewItem{Lane: laneHTTP(ch.ID), Key: contactKey(ch.ID, key(i)), Payload: data}
			if _, _, err := st.Enqueue(t.Context(), it); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		for deadline := time.Now().Add(time.Hour); p.done() < n && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := p.done(); got != n {
			t.Fatalf("platform saw %d of %d callbacks", got, n)
		}
	})
}

// TestRateLimitHoldsWithConcurrency: a custom channel (20 requests/s) with
// 16 callbacks in flight still keeps to its rate limit, on a fake clock.
func TestRateLimitHoldsWithConcurrency(t *testing.T) {
	const n, rate, burst = 100, 20, 20
	p := &fakePlatform{latency: fixed(300 * time.Millisecond)}
	laneBubble(t, Channel{ID: "cc", RateLimit: rate, Concurrency: 16}, p, n, func(i int) string { return fmt.Sprint("contact ", i) })
	// A token bucket lets through at most burst + rate·d requests in any
	// interval of length d.
	for _, d := range []time.Duration{time.Second, 3 * time.Second} {
		limit := burst + int(rate*d.Seconds())
		for i, s := range p.starts {
			in := 0
			for _, u := range p.starts[i:] {
				if u.Sub(s) < d {
					in++
				}
			}
			if in > limit {
				t.Fatalf("%d requests within %s from request %d, limit %d", in, d, i, limit)
			}
		}
	}
	if span, min := p.starts[n-1].Sub(p.starts[0]), time.Duration(float64(n-burst)/rate*float64(time.Second)); span < min {
		t.Errorf("%d requests took %s, at %d/s they take at least %s", n, span, rate, min)
	}
	if p.maxNow < 2 || p.maxNow > 16 {
		t.Errorf("at most %d requests were in flight at once, want 2..16 (concurrency 16, rate limited)", p.maxNow)
	}
}

// TestLaneOneAtATimePerKey: with 16 slots and 4 contacts, a callback lane
// has at most one request per contact in flight, uses a slot per contact,
// and each contact's requests go in the order they were queued.
func TestLaneOneAtATimePerKey(t *testing.T) {
	const n, keys = 60, 4
	p := &fakePlatform{latency: fixed(100 * time.Millisecond)}
	laneBubble(t, Channel{ID: "cc", Concurrency: 16}, p, n, func(i int) string { return fmt.Sprint("+6012345678", i%keys) })
	if len(p.overlap) > 0 {
		t.Errorf("two requests of one contact were in flight at once: %q", p.overlap)
	}
	if p.maxNow != keys {
		t.Errorf("at most %d requests were in flight, want %d (one per contact)", p.maxNow, keys)
	}
	last := map[string]int{}
	for _, e := range p.ends {
		key, body, _ := strings.Cut(e, " ")
		var i int
		fmt.Sscan(body, &i)
		if prev, ok := last[key]; ok && i < prev {
			t.Errorf("contact %s: callback %d finished after %d", key, i, prev)
		}
		last[key] = i
	}
}

// TestLaneHasNoBatchBarrier: one slow request holds only its own slot;
// with 2 slots the other contacts' callbacks all go through meanwhile.
func TestLaneHasNoBatchBarrier(t *testing.T) {
	const n = 20
	p := &fakePlatform{latency: func(key string) time.Duration {
		if key == "slow" {
			return time.Minute
		}
		return 100 * time.Millisecond
	}}
	laneBubble(t, Channel{ID: "cc", Concurrency: 2}, p, n, func(i int) string {
		if i == 0 {
			return "slow"
		}
		return fmt.Sprint("+6012345678", i)
	})
	if p.ends[n-1] != "slow 0" {
		t.Errorf("the slow request finished at %q; the %d others should all have gone through before it", p.ends, n-1)
	}
}

// TestEnqueueSitesSetKeys: what the bridge queues carries the ordering key
// of its contact: an MT channel + recipient, an MO (before routing) SMSC +
// sender, a long MO's parts the same; a receipt none (ordered with nothing).
func TestEnqueueSitesSetKeys(t *testing.T) {
	b, q := MustBridge(t)
	ctx := context.Background()
	if _, err := b.Accept(ctx, MT{Channel: "ch", To: "+60123456789", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	deliver := func(esm uint8, msg string) {
		t.Helper()
		p := &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM, Seq: 1}, Body: &pdu.ShortMessage{ESMClass: esm,
			SourceTON: 1, SourceAddr: "60123456789", DestTON: 1, DestAddr: "60177872890", Message: []byte(msg)}}
		if st := b.handleDeliver(ctx, "a", p); st != pdu.StatusOK {
			t.Fatalf("deliver %q = %v", msg, st)
		}
	}
	deliver(0, "short")
	deliver(pdu.ESMClassUDHI, "\x05\x00\x03\x07\x02\x01part one ")
	deliver(pdu.ESMClassUDHI, "\x05\x00\x03\x07\x02\x02part two")
	deliver(pdu.ESMClassReceipt, "id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:")
	keys := func(lane string) []string {
		items, err := q.List(ctx, lane, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Key)
		}
		return out
	}
	if got, want := keys("mt:b"), []string{"ch\x0060123456789"}; !slices.Equal(got, want) {
		t.Errorf("MT keys = %q, want %q", got, want)
	}
	// The short MO was routed as it arrived: its callback is keyed by
	// channel + sender. The long MO (routed once whole) and the receipt
	// (its submit unknown yet) wait in the in: lane.
	if got, want := keys("http:ch"), []string{"ch\x0060123456789"}; !slices.Equal(got, want) {
		t.Errorf("http:ch keys = %q, want %q", got, want)
	}
	got := keys("in:a")
	slices.Sort(got)
	if want := []string{"", "a\x0060123456789"}; !slices.Equal(got, want) {
		t.Errorf("in:a keys = %q, want %q", got, want)
	}
}

// leaseErrQueue answers LeaseWait like a store whose lease commit failed
// (a full disk) after it had read the due items: items and an error. It
// records the max of every call.
type leaseErrQueue struct {
	Queue
	mu    sync.Mutex
	maxes []int
}

func (q *leaseErrQueue) LeaseWait(ctx context.Context, lane string, max int) ([]store.Item, error) {
	q.mu.Lock()
	q.maxes = append(q.maxes, max)
	calls := len(q.maxes)
	q.mu.Unlock()
	if calls <= 2 {
		return make([]store.Item, max), fmt.Errorf("commit: %w", store.ErrNoSpace)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestLaneKeepsSlotsAfterLeaseError: a failed lease hands out nothing, so
// every slot stays free; before, the items that came back with the error
// kept their slots forever and the lane stopped leasing for good.
func TestLaneKeepsSlotsAfterLeaseError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &leaseErrQueue{}
		b := &Bridge{q: q, log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.work(ctx, lane{name: "http:x", slots: 4, fn: func(context.Context, store.Item) {
				t.Error("an item of a failed lease was handled")
			}})
		}()
		time.Sleep(time.Minute) // past the lane's pauses after errors
		synctest.Wait()
		q.mu.Lock()
		maxes := slices.Clone(q.maxes)
		q.mu.Unlock()
		cancel()
		<-done
		if len(maxes) < 3 || maxes[2] != 4 {
			t.Errorf("LeaseWait maxes = %v, want a third lease for all 4 slots", maxes)
		}
	})
}

// countLeaseQueue counts LeaseWait calls.
type countLeaseQueue struct {
	*store.Store
	leases atomic.Int32
}

func (q *countLeaseQueue) LeaseWait(ctx context.Context, lane string, max int) ([]store.Item, error) {
	q.leases.Add(1)
	return q.Store.LeaseWait(ctx, lane, max)
}

// TestLaneContinuesWithKeysNext: a slot whose item completes goes on with
// the next item of the same key, leased by that completion's commit
// (store.Completion.LeaseNext), in order, without a lease call of its own;
// before, each item of a key cost its own LeaseWait (and commit).
func TestLaneContinuesWithKeysNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "q.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		const n = 5
		for i := range n {
			if _, _, err := st.Enqueue(t.Context(), store.NewItem{Lane: "http:x", Key: "k", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		q := &countLeaseQueue{Store: st}
		b, err := New(Options{Queue: q, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var got []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.work(ctx, lane{name: "http:x", slots: 1, fn: func(ctx context.Context, it store.Item) {
				got = append(got, string(it.Payload))
				b.complete(ctx, it, store.Completion{})
			}})
		}()
		for range 100 { // bounded: the lane drains the key within a few commits
			if synctest.Wait(); st.Stats()["http:x"].Queued == 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		synctest.Wait()
		leases := q.leases.Load()
		cancel()
		<-done
		if want := []string{"0", "1", "2", "3", "4"}; !slices.Equal(got, want) {
			t.Errorf("handled %q, want %q in order", got, want)
		}
		// One lease for the first item, one waiting after the last.
		if leases > 2 {
			t.Errorf("%d LeaseWait calls for %d items of one key, want at most 2", leases, n)
		}
	})
}

// TestMOBehindWaitingMOOfSender: an MO is routed as it arrives only while
// no earlier MO of its sender waits in the in: lane; otherwise it queues
// there behind it (one key), so it cannot overtake it at the platform.
func TestMOBehindWaitingMOOfSender(t *testing.T) {
	b, q := MustBridge(t)
	ctx := context.Background()
	deliver := func(from string, esm uint8, msg string) {
		t.Helper()
		p := &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM, Seq: 1}, Body: &pdu.ShortMessage{ESMClass: esm,
			SourceTON: 1, SourceAddr: from, DestTON: 1, DestAddr: "60177872890", Message: []byte(msg)}}
		if st := b.handleDeliver(ctx, "a", p); st != pdu.StatusOK {
			t.Fatalf("deliver %q = %v", msg, st)
		}
	}
	// A long MO, whole: it waits in the in: lane to be routed.
	deliver("60123456789", pdu.ESMClassUDHI, "\x05\x00\x03\x07\x02\x01part one ")
	deliver("60123456789", pdu.ESMClassUDHI, "\x05\x00\x03\x07\x02\x02part two")
	deliver("60123456789", 0, "short, after the long one")
	deliver("60199999999", 0, "another sender")
	st := q.Stats()
	if st["in:a"].Queued != 2 {
		t.Errorf("in:a = %+v, want the long MO and the short one behind it", st["in:a"])
	}
	if st["http:ch"].Queued != 1 {
		t.Errorf("http:ch = %+v, want only the other sender's MO routed at once", st["http:ch"])
	}
	items, err := q.List(ctx, "in:a", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Key != "a\x0060123456789" {
			t.Errorf("in:a item key %q, want the sender's", it.Key)
		}
	}
}
