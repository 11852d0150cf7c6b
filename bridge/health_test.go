package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// blockingTransport holds every request until release is closed.
type blockingTransport struct{ release chan struct{} }

func (b blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-b.release:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

// TestStalled: a lane whose every slot stays busy is reported stalled once
// that has lasted d, and no longer once an item finishes; an idle lane
// waiting for work never is (the watchdog's "lanes move" check).
func TestStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "q.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		tr := blockingTransport{release: make(chan struct{})}
		ch := Channel{ID: "c", Kind: "custom", Concurrency: 1, HTTP: &http.Client{Transport: tr}}
		idle := Channel{ID: "idle", Kind: "custom"}
		b, err := New(Options{Queue: st, Channels: []Channel{ch, idle}})
		if err != nil {
			t.Fatal(err)
		}
		b.Mount("c", nopAdapter{http.NotFoundHandler()})
		b.Mount("idle", nopAdapter{http.NotFoundHandler()})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		time.Sleep(time.Minute)
		if s := b.Stalled(time.Minute); len(s) != 0 {
			t.Fatalf("idle lanes stalled: %v", s)
		}
		data, _ := json.Marshal(callback{Request: Request{Method: "POST", URL: "http://platform.test/x"}})
		if _, _, err := st.Enqueue(t.Context(), store.NewItem{Lane: laneHTTP("c"), Key: "k", Payload: data}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Second)
		if s := b.Stalled(time.Minute); len(s) != 0 {
			t.Fatalf("stalled after 30 s: %v, want none before a minute", s)
		}
		time.Sleep(31 * time.Second)
		if s := b.Stalled(time.Minute); !slices.Equal(s, []string{"http:c"}) {
			t.Fatalf("stalled after 61 s = %v, want [http:c]", s)
		}
		close(tr.release)
		synctest.Wait()
		time.Sleep(time.Millisecond)
		if s := b.Stalled(time.Minute); len(s) != 0 {
			t.Fatalf("stalled after the item finished: %v", s)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
