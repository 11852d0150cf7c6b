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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

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
	latency time.Duration
	mu      sync.Mutex
	starts  []time.Time
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
	time.Sleep(p.latency)
	p.mu.Lock()
	p.now--
	p.perKey[key]--
	p.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func (p *fakePlatform) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.starts)
}

// laneBubble runs a Bridge with one custom channel over a real store inside
// a synctest bubble, with n callbacks queued (callback i carries X-Key
// key(i)), until the fake platform has seen them all.
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
			if _, _, err := st.Enqueue(t.Context(), store.NewItem{Lane: laneHTTP(ch.ID), Payload: data}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		for deadline := time.Now().Add(time.Hour); p.count() < n && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := p.count(); got != n {
			t.Fatalf("platform saw %d of %d callbacks", got, n)
		}
	})
}

// TestRateLimitHoldsWithConcurrency: a custom channel (20 requests/s) with
// 16 callbacks in flight still keeps to its rate limit, on a fake clock.
func TestRateLimitHoldsWithConcurrency(t *testing.T) {
	const n, rate, burst = 100, 20, 20
	p := &fakePlatform{latency: 300 * time.Millisecond}
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
