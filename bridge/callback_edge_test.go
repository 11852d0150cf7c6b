package bridge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// retryAll is an adapter whose platform wants every failed answer retried.
type retryAll struct{ nopAdapter }

func (retryAll) Retryable(int, []byte) bool { return true }

var contactSeq atomic.Int64

// runCallback queues one callback to a platform that answers code (with
// Retry-After when set), works it once and returns the item as stored.
func runCallback(t *testing.T, b *Bridge, q *failingQueue, code int, retryAfter string) store.Item {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	ctx := context.Background()
	// Each call is its own contact: a callback waiting for its retry holds
	// back only later callbacks of the same contact.
	contact := fmt.Sprintf("+1555%07d", contactSeq.Add(1))
	items := callbackItems("ch", contact, statusOf{}, []Request{{Method: "POST", URL: srv.URL}})
	id, _, err := q.Enqueue(ctx, items[0])
	if err != nil {
		t.Fatal(err)
	}
	leased, err := q.Lease(ctx, laneHTTP("ch"), 1)
	if err != nil || len(leased) != 1 || leased[0].ID != id {
		t.Fatalf("Lease = %v, %v", leased, err)
	}
	b.processCallback(ctx, leased[0])
	it, err := q.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestCallbackClassificationPerAdapter(t *testing.T) {
	b, q := MustBridge(t)
	// No Retryer: the common rule, a 400 is final.
	if it := runCallback(t, b, q, 400, ""); it.DeadReason == "" {
		t.Errorf("400 with the common rule: queued (attempts %d), want a dead letter", it.Attempts)
	}
	if it := runCallback(t, b, q, 503, ""); it.DeadReason != "" || it.Attempts != 1 {
		t.Errorf("503: %+v, want queued for a retry", it)
	}
	// The adapter's rule wins.
	b.Mount("ch", retryAll{nopAdapter{http.NotFoundHandler()}})
	if it := runCallback(t, b, q, 400, ""); it.DeadReason != "" || it.Attempts != 1 {
		t.Errorf("400 with a Retryer saying retry: %+v, want queued for a retry", it)
	}
}

// A platform's Retry-After is honoured only up to max_backoff: a day-long
// (or a far-future date) Retry-After must not park a callback for a day.
func TestRetryAfterCappedAtMaxBackoff(t *testing.T) {
	b, q := MustBridge(t)
	b.o.MaxBackoff = time.Minute
	for _, ra := range []string{"86400", time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)} {
		before := time.Now()
		it := runCallback(t, b, q, 503, ra)
		if it.DeadReason != "" {
			t.Fatalf("503 dead-lettered: %s", it.DeadReason)
		}
		if wait := it.NextDue.Sub(before); wait > time.Minute+5*time.Second || wait < 50*time.Second {
			t.Errorf("Retry-After %s: next attempt in %s, want max_backoff (1m)", ra, wait.Round(time.Second))
		}
	}
	// A shorter Retry-After is kept as is.
	before := time.Now()
	if it := runCallback(t, b, q, 429, "7"); it.NextDue.Sub(before) > 10*time.Second || it.NextDue.Sub(before) < 6*time.Second {
		t.Errorf("Retry-After 7: next attempt in %s, want 7s", it.NextDue.Sub(before))
	}
}
