package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func mustEnqueueKey(t testing.TB, s *Store, lane, key, payload string) string {
	t.Helper()
	id, dup, err := s.Enqueue(context.Background(), NewItem{Lane: lane, Key: key, Payload: []byte(payload)})
	if err != nil || dup {
		t.Fatalf("Enqueue(%s, %s, %q) = %v, %v", lane, key, payload, dup, err)
	}
	return id
}

func mustAck(t testing.TB, s *Store, it Item) {
	t.Helper()
	if err := s.Ack(context.Background(), it.Lane, it.ID, it.Token); err != nil {
		t.Fatalf("Ack(%s %q) = %v", it.ID, it.Payload, err)
	}
}

func mustRetry(t testing.TB, s *Store, it Item, delay time.Duration) {
	t.Helper()
	if dead, err := s.Retry(context.Background(), it.Lane, it.ID, it.Token, "try later", delay); err != nil || dead {
		t.Fatalf("Retry(%s %q) = %v, %v", it.ID, it.Payload, dead, err)
	}
}

// leaseOne leases everything due and wants exactly the payloads in want.
func leaseWant(t *testing.T, s *Store, lane string, want ...string) []Item {
	t.Helper()
	got := MustLease(t, s, lane, 100)
	if p := payloads(got); !slices.Equal(p, want) {
		t.Fatalf("Lease(%s) = %q, want %q", lane, p, want)
	}
	return got
}

// Items of one key are handed out one at a time in enqueue order, across
// retries: a retried head holds back its key's later items.
func TestKeyOrderAcrossRetries(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Retry: RetryPolicy{InitialBackoff: time.Second}})
	for i := 1; i <= 3; i++ {
		mustEnqueueKey(t, s, "l", "k", fmt.Sprint("k", i))
		clk.Add(time.Millisecond)
	}
	h := leaseWant(t, s, "l", "k1")
	leaseWant(t, s, "l") // the head is leased: the key is blocked
	mustRetry(t, s, h[0], time.Minute)
	leaseWant(t, s, "l") // the head waits out its retry; k2 waits for it
	clk.Add(time.Minute)
	h = leaseWant(t, s, "l", "k1")
	if h[0].Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", h[0].Attempts)
	}
	mustAck(t, s, h[0])
	h = leaseWant(t, s, "l", "k2")
	mustRetry(t, s, h[0], 0) // policy backoff
	clk.Add(2 * time.Second)
	h = leaseWant(t, s, "l", "k2")
	mustAck(t, s, h[0])
	h = leaseWant(t, s, "l", "k3")
	mustAck(t, s, h[0])
	leaseWant(t, s, "l")
	if st := s.Stats()["l"]; st != (LaneStats{}) {
		t.Errorf("Stats = %+v, want empty", st)
	}
}

// Order within a key survives a lease expiry and a store reopen: the same
// head is due again, and its later items still wait.
func TestKeyOrderLeaseExpiryAndReopen(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	o := Options{Path: path, Now: clk.Now, LeaseTTL: time.Minute}
	s := MustOpen(t, o)
	for i := 1; i <= 3; i++ {
		mustEnqueueKey(t, s, "l", "k", fmt.Sprint("k", i))
	}
	first := leaseWant(t, s, "l", "k1")
	clk.Add(time.Minute)
	again := leaseWant(t, s, "l", "k1") // lease expired: the head again, not k2
	if again[0].Token == first[0].Token {
		t.Errorf("re-lease kept token %d", first[0].Token)
	}
	mustAck(t, s, again[0])
	leaseWant(t, s, "l", "k2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, o)
	h := leaseWant(t, s, "l", "k2") // leased at the crash: due again, first
	leaseWant(t, s, "l")
	mustAck(t, s, h[0])
	leaseWant(t, s, "l", "k3")
}

// A key whose head waits for a retry holds back only that key.
func TestOtherKeysProceed(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	mustEnqueueKey(t, s, "l", "a", "a1")
	mustEnqueueKey(t, s, "l", "a", "a2")
	mustEnqueueKey(t, s, "l", "b", "b1")
	mustEnqueueKey(t, s, "l", "b", "b2")
	mustEnqueueKey(t, s, "l", "", "solo1")
	mustEnqueueKey(t, s, "l", "", "solo2") // key "": alone, ordered with nothing
	h := leaseWant(t, s, "l", "a1", "b1", "solo1", "solo2")
	mustRetry(t, s, h[0], time.Hour)
	mustAck(t, s, h[1])
	leaseWant(t, s, "l", "b2")
	if st := s.Stats()["l"]; st.Queued != 5 || st.Leased != 3 {
		t.Errorf("Stats = %+v, want 5 queued (a1 a2 b2 solo1 solo2), 3 leased", st)
	}
	if items, err := s.List(context.Background(), "l", 0); err != nil || len(items) != 5 || string(items[len(items)-1].Payload) != "a2" {
		t.Errorf("List = %q, %v; want the heads then a2", payloads(items), err)
	}
}

// Lease returns due heads of distinct keys, oldest first, at most max.
func TestLeaseHeadsOldestFirst(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	for i := range 3 {
		for _, k := range []string{"c", "b", "a", "d"} {
			mustEnqueueKey(t, s, "l", k, fmt.Sprint(k, i))
			clk.Add(time.Millisecond)
		}
	}
	got := MustLease(t, s, "l", 2)
	if p := payloads(got); !slices.Equal(p, []string{"c0", "b0"}) {
		t.Fatalf("Lease(2) = %q, want [c0 b0]", p)
	}
	mustAck(t, s, got[1]) // b1 is the head now, due now: after a0 and d0
	got = MustLease(t, s, "l", 2)
	if p := payloads(got); !slices.Equal(p, []string{"a0", "d0"}) {
		t.Fatalf("Lease(2) = %q, want [a0 d0]", p)
	}
	mustRetry(t, s, got[0], time.Second) // a0 due in 1s
	mustAck(t, s, got[1])                // d1 due now
	clk.Add(time.Second)
	if p := payloads(MustLease(t, s, "l", 10)); !slices.Equal(p, []string{"b1", "d1", "a0"}) {
		t.Fatalf("Lease(10) = %q, want [b1 d1 a0] (due order)", p)
	}
}

// A dead-lettered head unblocks its key; a requeued dead letter joins the
// end of its key's order.
func TestDeadHeadUnblocksAndRequeueJoinsEnd(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	d := mustEnqueueKey(t, s, "l", "k", "k1")
	mustEnqueueKey(t, s, "l", "k", "k2")
	mustEnqueueKey(t, s, "l", "k", "k3")
	h := leaseWant(t, s, "l", "k1")
	if err := s.Dead(ctx, "l", d, h[0].Token, "permanent"); err != nil {
		t.Fatal(err)
	}
	h = leaseWant(t, s, "l", "k2")
	if err := s.Requeue(ctx, d); err != nil {
		t.Fatal(err)
	}
	leaseWant(t, s, "l") // k1 requeued behind k3
	mustAck(t, s, h[0])
	h = leaseWant(t, s, "l", "k3")
	mustAck(t, s, h[0])
	h = leaseWant(t, s, "l", "k1")
	if h[0].ID != d || h[0].Attempts != 0 {
		t.Errorf("requeued item = %+v", h[0])
	}
	// A requeued dead letter of a key with nothing queued is due at once.
	if err := s.Dead(ctx, "l", d, h[0].Token, "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, d); err != nil {
		t.Fatal(err)
	}
	leaseWant(t, s, "l", "k1")
}

// A token that is not the item's current one is refused, and changes
// nothing, for every holder call.
func TestStaleLease(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	o := Options{Path: path, Now: clk.Now, LeaseTTL: time.Minute}
	s := MustOpen(t, o)
	id := mustEnqueueKey(t, s, "l", "k", "x")
	mustEnqueueKey(t, s, "l", "k", "y")
	old := leaseWant(t, s, "l", "x")[0]
	clk.Add(time.Minute)
	cur := leaseWant(t, s, "l", "x")[0]
	calls := map[string]func(tok uint64) error{
		"Ack":   func(tok uint64) error { return s.Ack(ctx, "l", id, tok) },
		"Retry": func(tok uint64) error { _, err := s.Retry(ctx, "l", id, tok, "x", 0); return err },
		"Dead":  func(tok uint64) error { return s.Dead(ctx, "l", id, tok, "x") },
		"Complete": func(tok uint64) error {
			_, err := s.Complete(ctx, Completion{Lane: "l", ID: id, Token: tok, Enqueue: []NewItem{{Lane: "f"}},
				Marks: []Mark{{Key: "m", Value: []byte("v")}}, Receipts: []Receipt{{SMSC: "a", MsgID: "1"}}})
			return err
		},
	}
	check := func(when string, tok uint64) {
		t.Helper()
		for name, call := range calls {
			if err := call(tok); !errors.Is(err, ErrStaleLease) {
				t.Errorf("%s: %s with token %d = %v, want ErrStaleLease", when, name, tok, err)
			}
		}
		it, err := s.Get(ctx, id)
		if err != nil || it.DeadReason != "" || it.Attempts != 0 || s.Stats()["f"].Queued != 0 {
			t.Errorf("%s: stale calls changed the item: %+v, %v, %+v", when, it, err, s.Stats())
		}
		if _, ok, _ := s.GetMark(ctx, "m"); ok {
			t.Errorf("%s: stale Complete put its mark", when)
		}
	}
	check("after re-lease", old.Token)
	check("zero token of a leased item", 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, o)
	check("after reopen", cur.Token)
	again := leaseWant(t, s, "l", "x")[0]
	if again.Token <= cur.Token {
		t.Errorf("token after reopen %d, not above %d (tokens must never repeat)", again.Token, cur.Token)
	}
	mustAck(t, s, again)
	if err := s.Ack(ctx, "l", id, again.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Ack = %v, want ErrNotFound", err)
	}
	// After a Retry the lease is over: its token no longer completes.
	y := leaseWant(t, s, "l", "y")[0]
	mustRetry(t, s, y, time.Hour)
	if err := s.Ack(ctx, "l", y.ID, y.Token); !errors.Is(err, ErrStaleLease) {
		t.Errorf("Ack after Retry = %v, want ErrStaleLease", err)
	}
}

// Complete with a Retry that the policy turns into a dead letter enqueues
// OnDead in the same transaction; a plain retry does not.
func TestCompleteRetryOnDead(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Retry: RetryPolicy{MaxAttempts: 2, MaxAge: time.Hour}})
	complete := func(it Item) CompleteResult {
		t.Helper()
		res, err := s.Complete(ctx, Completion{Lane: it.Lane, ID: it.ID, Token: it.Token,
			Retry:   &RetrySpec{Cause: "503", Delay: time.Second},
			Enqueue: []NewItem{{Lane: "log", Payload: []byte("attempt")}},
			OnDead:  []NewItem{{Lane: "cb", Key: "c", Payload: []byte("failed")}}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	id := mustEnqueueKey(t, s, "mt", "k", "m")
	mustEnqueueKey(t, s, "mt", "k", "next")
	if res := complete(leaseWant(t, s, "mt", "m")[0]); res.Dead || len(res.IDs) != 1 {
		t.Fatalf("first retry = %+v, want alive, 1 follow-up", res)
	}
	if st := s.Stats()["cb"]; st.Queued != 0 {
		t.Fatalf("OnDead queued on a plain retry")
	}
	clk.Add(time.Second)
	res := complete(leaseWant(t, s, "mt", "m")[0])
	if !res.Dead || len(res.IDs) != 2 {
		t.Fatalf("second retry (MaxAttempts 2) = %+v, want dead and 2 follow-ups", res)
	}
	if it, err := s.Get(ctx, id); err != nil || !strings.HasPrefix(it.DeadReason, "max_attempts") {
		t.Errorf("dead letter = %+v, %v", it, err)
	}
	leaseWant(t, s, "cb", "failed")
	mustAck(t, s, leaseWant(t, s, "mt", "next")[0]) // the dead head unblocked its key

	// MaxAge: the same, on the first retry past it.
	mustEnqueueKey(t, s, "mt", "k2", "old")
	clk.Add(time.Hour)
	if res := complete(leaseWant(t, s, "mt", "old")[0]); !res.Dead {
		t.Fatalf("retry past MaxAge = %+v, want dead", res)
	}
	if st := s.Stats()["cb"]; st.Queued != 2 {
		t.Errorf("cb queued = %d, want 2", st.Queued)
	}
	// DeadReason also enqueues OnDead.
	mustEnqueueKey(t, s, "mt", "k3", "bad")
	it := leaseWant(t, s, "mt", "bad")[0]
	res, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, Token: it.Token, DeadReason: "ESME_RINVDSTADR",
		OnDead: []NewItem{{Lane: "cb", Payload: []byte("failed")}}})
	if err != nil || !res.Dead || len(res.IDs) != 1 {
		t.Errorf("Complete(DeadReason) = %+v, %v", res, err)
	}
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, DeadReason: "x", Retry: &RetrySpec{}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeadReason with Retry = %v, want ErrInvalid", err)
	}
}

// A wait is not a failed attempt, but MaxAge still applies to it.
func TestRetryWait(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Retry: RetryPolicy{MaxAttempts: 2, MaxAge: time.Hour}})
	id := mustEnqueueKey(t, s, "mt", "k", "m")
	wait := func() CompleteResult {
		t.Helper()
		it := leaseWant(t, s, "mt", "m")[0]
		res, err := s.Complete(ctx, Completion{Lane: it.Lane, ID: it.ID, Token: it.Token,
			Retry:  &RetrySpec{Cause: "no bind", Delay: 10 * time.Minute, Wait: true},
			OnDead: []NewItem{{Lane: "cb", Payload: []byte("failed")}}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for range 5 { // more than MaxAttempts
		if res := wait(); res.Dead {
			t.Fatal("a wait counted as an attempt")
		}
		clk.Add(10 * time.Minute)
	}
	if it, _ := s.Get(ctx, id); it.Attempts != 0 || it.LastError != "no bind" {
		t.Errorf("after waits: attempts %d, last error %q", it.Attempts, it.LastError)
	}
	clk.Add(10 * time.Minute) // 60 minutes old
	if res := wait(); !res.Dead || len(res.IDs) != 1 {
		t.Fatalf("wait past MaxAge = %+v, want dead with OnDead", res)
	}
	if it, _ := s.Get(ctx, id); !strings.HasPrefix(it.DeadReason, "max_age") {
		t.Errorf("DeadReason = %q", it.DeadReason)
	}
}

// A payload replaced by Complete is what the next attempt, and the store
// after a reopen, holds.
func TestCompletePayloadPersists(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	o := Options{Path: path, Now: clk.Now}
	s := MustOpen(t, o)
	mustEnqueueKey(t, s, "mt", "k", "parts 1-3 to send")
	it := leaseWant(t, s, "mt", "parts 1-3 to send")[0]
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, Token: it.Token,
		Retry: &RetrySpec{Cause: "part 2: throttled", Delay: time.Second}, Payload: []byte("part 1 sent")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustOpen(t, o)
	clk.Add(time.Second)
	it = leaseWant(t, s, "mt", "part 1 sent")[0]
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, Token: it.Token,
		DeadReason: "part 2: rejected", Payload: []byte("part 1 sent, 2 rejected")}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Get(ctx, it.ID); err != nil || string(d.Payload) != "part 1 sent, 2 rejected" {
		t.Errorf("dead letter = %q, %v", d.Payload, err)
	}
}

// Marks are put (and deleted) with a completion, read by GetMark until
// their TTL, and swept; DropDedup makes a dedup key usable again.
func TestMarksAndDropDedup(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, ReceiptTTL: 3 * time.Hour})
	id, _, err := s.Enqueue(ctx, NewItem{Lane: "mt", Payload: []byte("x"), DedupKey: "rp:uuid-1", DedupTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	it := leaseWant(t, s, "mt", "x")[0]
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: id, Token: it.Token, DropDedup: []string{"rp:uuid-1", "unknown"},
		Marks: []Mark{{Key: "st:1", Value: []byte("sent"), TTL: time.Hour}, {Key: "st:2", Value: []byte("delivered")}, {Key: "st:3"}}}); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.GetMark(ctx, "st:1"); err != nil || !ok || string(v) != "sent" {
		t.Errorf("GetMark(st:1) = %q, %v, %v", v, ok, err)
	}
	if _, ok, _ := s.GetMark(ctx, "st:3"); ok {
		t.Error("a mark put with nil Value exists")
	}
	if nid, dup, err := s.Enqueue(ctx, NewItem{Lane: "mt", Payload: []byte("resend"), DedupKey: "rp:uuid-1", DedupTTL: 24 * time.Hour}); err != nil || dup || nid == id {
		t.Errorf("Enqueue after DropDedup = %s, dup %v, %v; want a new item", nid, dup, err)
	}
	// Overwrite st:1 and delete st:2 in a second completion.
	it = leaseWant(t, s, "mt", "resend")[0]
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, Token: it.Token,
		Marks: []Mark{{Key: "st:1", Value: []byte("delivered"), TTL: 2 * time.Hour}, {Key: "st:2"}}}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.GetMark(ctx, "st:1"); string(v) != "delivered" {
		t.Errorf("GetMark(st:1) = %q after overwrite", v)
	}
	if _, ok, _ := s.GetMark(ctx, "st:2"); ok {
		t.Error("deleted mark still there")
	}
	clk.Add(2 * time.Hour)
	if _, ok, _ := s.GetMark(ctx, "st:1"); ok {
		t.Error("mark read after its TTL")
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, bktMarks) + countKeys(t, s, bktMarksX); n != 0 {
		t.Errorf("%d mark keys left after the sweep", n)
	}
	if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: it.ID, Marks: []Mark{{Key: ""}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty mark key = %v, want ErrInvalid", err)
	}
}

// LeaseWait wakes when a key's next item becomes its head.
func TestLeaseWaitWakesOnNewHead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := MustOpen(t, Options{})
		mustEnqueueKey(t, s, "l", "k", "k1")
		mustEnqueueKey(t, s, "l", "k", "k2")
		h := MustLease(t, s, "l", 10)
		ch := leaseWaitAsync(s, t.Context(), "l")
		if !blocked(ch) {
			t.Fatal("LeaseWait returned while the key's head is leased")
		}
		mustAck(t, s, h[0])
		r := <-ch
		if r.err != nil || !slices.Equal(payloads(r.items), []string{"k2"}) {
			t.Fatalf("LeaseWait = %q, %v", payloads(r.items), r.err)
		}
	})
}

// A file written by the previous format (smscbridge-store-1, no ordering
// keys; testdata/v1.db was made by that code) is upgraded in place: every
// item keeps its state, each in its own key, and everything else works.
func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, "testdata/v1.db", path)
	now := time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC) // a minute after the fixture was written
	clk := &clock{t: now}
	o := Options{Path: path, Now: clk.Now}
	s := MustOpen(t, o)
	if st := s.Stats(); st["mt:a"] != (LaneStats{Queued: 3}) || st["http:x"] != (LaneStats{Dead: 1}) {
		t.Errorf("Stats = %+v", st)
	}
	// a1 was leased when the file was closed: due again; a2 was retried
	// for an hour; a3 was due.
	got := leaseWant(t, s, "mt:a", "a1", "a3")
	for _, it := range got {
		if it.Key != "" || it.Token == 0 {
			t.Errorf("migrated item %+v: want an empty key and a token", it)
		}
	}
	mustAck(t, s, got[0])
	if _, err := s.Retry(ctx, "mt:a", got[1].ID, got[1].Token, "again", time.Minute); err != nil {
		t.Fatal(err)
	}
	r, ok, err := s.MatchReceipt(ctx, "agg", "m1")
	if err != nil || !ok || r.ItemID != "01a2310c-0100-757a-8732-20253825a6a7" || r.Channel != "rp" || string(r.Data) != "x" {
		t.Errorf("MatchReceipt = %+v, %v, %v", r, ok, err)
	}
	if id, dup, err := s.Enqueue(ctx, NewItem{Lane: "mt:a", DedupKey: "d1", DedupTTL: time.Hour}); err != nil || !dup || id != "01a2310c-0100-757b-9887-69a7bb72a600" {
		t.Errorf("dedup key of the old file: %s, %v, %v", id, dup, err)
	}
	done, mo, err := s.AddPart(ctx, Part{SMSC: "agg", Source: "123", Dest: "456", Ref: 7, Total: 2, Seq: 2, Data: []byte("p2"), Lane: "mo"})
	if err != nil || !done {
		t.Fatalf("AddPart completing an old set = %v, %v", done, err)
	}
	it := leaseWant(t, s, "mo", string(EncodeParts(Assembled{Parts: [][]byte{[]byte("p1"), []byte("p2")}})))[0]
	if it.ID != mo {
		t.Errorf("assembled id %s, want %s", it.ID, mo)
	}
	dead, err := s.ListDead(ctx, "http:x", 0)
	if err != nil || len(dead) != 1 || dead[0].DeadReason != "http 404" {
		t.Fatalf("ListDead = %+v, %v", dead, err)
	}
	// New keyed items and a requeue work in the upgraded file.
	mustEnqueueKey(t, s, "http:x", "c", "new")
	if err := s.Requeue(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	h := leaseWant(t, s, "http:x", "dead1", "new") // "dead1" has key "": not behind "new"
	mustAck(t, s, h[0])
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The upgrade is durable: it opens again as the new format, and a1 is gone.
	s = MustOpen(t, o)
	if err := s.view(func(tx *boltTx) error {
		if v, err := formatOf(tx); v != 3 || err != nil {
			return fmt.Errorf("format %d, %v", v, err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	clk.Add(2 * time.Hour)
	leaseWant(t, s, "mt:a", "a3", "a2") // due 10:02 and 11:00
}

// A file with a format marker this code does not know is refused clearly
// and left alone (a downgrade, or not our file).
func TestUnknownFormatRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s := MustOpen(t, Options{Path: path})
	if err := s.db.Update(func(tx *boltTx) error {
		return tx.Bucket(bktMeta).Put(metaFormat, []byte("smscbridge-store-9"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(Options{Path: path})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "smscbridge-store-9") {
		t.Errorf("Open = %v, want ErrCorrupt naming the marker", err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// DropDead removes a dead letter and queues its follow-ups in one
// transaction; it never touches a queued item.
func TestDropDead(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, Options{})
	id := mustEnqueueKey(t, s, "mt", "k", "m")
	it := leaseWant(t, s, "mt", "m")[0]
	if err := s.DropDead(ctx, id, NewItem{Lane: "cb", Payload: []byte("failed")}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DropDead(queued) = %v, want ErrNotFound", err)
	}
	if st := s.Stats(); st["cb"].Queued != 0 || st["mt"].Queued != 1 {
		t.Fatalf("DropDead of a queued item changed something: %+v", st)
	}
	if err := s.Dead(ctx, "mt", id, it.Token, "ESME_RINVDSTADR"); err != nil {
		t.Fatal(err)
	}
	if err := s.DropDead(ctx, id, NewItem{Lane: "cb", Payload: []byte("failed")}); err != nil {
		t.Fatal(err)
	}
	leaseWant(t, s, "cb", "failed")
	if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("dropped dead letter: %v", err)
	}
	if err := s.DropDead(ctx, id, NewItem{Lane: "cb"}); !errors.Is(err, ErrNotFound) || s.Stats()["cb"].Queued != 1 {
		t.Errorf("second DropDead = %v (cb %+v)", err, s.Stats()["cb"])
	}
}

// SettleDead settles an unknown outcome in one call, and does nothing if
// the dead letter was requeued meanwhile (the live item is kept).
func TestSettleDead(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, Options{})
	id := mustEnqueueKey(t, s, "mt", "k", "m")
	it := leaseWant(t, s, "mt", "m")[0]
	if err := s.Dead(ctx, "mt", id, it.Token, "unknown_outcome: submit_sm_resp timeout"); err != nil {
		t.Fatal(err)
	}
	rc := []Receipt{{SMSC: "agg", MsgID: "abc", Channel: "rp", Part: 1, Parts: 1}}
	if err := s.SettleDead(ctx, id, []NewItem{{Lane: "cb", Payload: []byte("sent")}}, rc); err != nil {
		t.Fatal(err)
	}
	if r, ok, err := s.MatchReceipt(ctx, "agg", "abc"); err != nil || !ok || r.ItemID != id {
		t.Errorf("MatchReceipt = %+v, %v, %v", r, ok, err)
	}
	mustAck(t, s, leaseWant(t, s, "cb", "sent")[0])
	if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("settled dead letter still there: %v", err)
	}

	// Requeued before the late response: nothing changes.
	id = mustEnqueueKey(t, s, "mt", "k", "m2")
	it = leaseWant(t, s, "mt", "m2")[0]
	if err := s.Dead(ctx, "mt", id, it.Token, "unknown_outcome"); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, id); err != nil {
		t.Fatal(err)
	}
	err := s.SettleDead(ctx, id, []NewItem{{Lane: "cb", Payload: []byte("sent")}}, []Receipt{{SMSC: "agg", MsgID: "def"}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("SettleDead of a requeued item = %v, want ErrNotFound", err)
	}
	if _, ok, _ := s.MatchReceipt(ctx, "agg", "def"); ok || s.Stats()["cb"].Queued != 0 {
		t.Error("SettleDead of a requeued item put its receipt or follow-up")
	}
	leaseWant(t, s, "mt", "m2") // still queued
}

// The bbolt store supports Completion.LeaseNext: the key's next item comes
// back leased from the completing commit, counted as leased, and not handed
// out by Lease until that lease ends.
func TestCompleteLeaseNextLeases(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, LeaseTTL: time.Minute})
	mustEnqueueKey(t, s, "l", "a", "a1")
	mustEnqueueKey(t, s, "l", "a", "a2")
	mustEnqueueKey(t, s, "l", "", "solo")
	h := leaseWant(t, s, "l", "a1", "solo")
	res, err := s.Complete(context.Background(), Completion{Lane: "l", ID: h[0].ID, Token: h[0].Token, LeaseNext: true})
	if err != nil || res.Next == nil || string(res.Next.Payload) != "a2" || res.Next.Token == 0 {
		t.Fatalf("Complete(LeaseNext) = %+v, %v; want a2 leased", res, err)
	}
	if st := s.Stats()["l"]; st.Queued != 2 || st.Leased != 2 {
		t.Errorf("Stats = %+v, want 2 queued, 2 leased", st)
	}
	leaseWant(t, s, "l")
	clk.Add(time.Minute)
	leaseWant(t, s, "l", "a2", "solo") // the leases ended: both due again
	res, err = s.Complete(context.Background(), Completion{Lane: "l", ID: h[1].ID, Token: h[1].Token, LeaseNext: true})
	if !errors.Is(err, ErrStaleLease) || res.Next != nil {
		t.Fatalf("Complete(stale, LeaseNext) = %+v, %v", res, err)
	}
}

// AddUnlessBusy queues all its items in one commit (claims honoured) only
// while the busy key has nothing queued in its lane; otherwise nothing.
func TestAddUnlessBusy(t *testing.T) {
	s := MustOpen(t, Options{})
	ctx := context.Background()
	busy := LaneKey{Lane: "in:a", Key: "a\x00123"}
	items := []NewItem{{Lane: "http:c", Key: "c\x00123", Payload: []byte("p1"), Claim: true}, {Lane: "http:c", Key: "c\x00123", Payload: []byte("p2"), Claim: true}}
	added, ok, err := s.AddUnlessBusy(ctx, busy, items...)
	if err != nil || !ok || len(added) != 2 {
		t.Fatalf("AddUnlessBusy(idle) = %+v, %v, %v", added, ok, err)
	}
	if added[0].Leased == nil || added[1].Leased != nil {
		t.Errorf("claims = %v, %v: want the first (its key's head) only", added[0].Leased, added[1].Leased)
	}
	waiting := mustEnqueueKey(t, s, busy.Lane, busy.Key, "earlier MO")
	if added, ok, err := s.AddUnlessBusy(ctx, busy, NewItem{Lane: "http:c", Key: "c\x00123", Payload: []byte("p3")}); err != nil || ok || added != nil {
		t.Fatalf("AddUnlessBusy(busy) = %+v, %v, %v: want nothing queued", added, ok, err)
	}
	if st := s.Stats()["http:c"]; st.Queued != 2 {
		t.Errorf("http:c = %+v, want the 2 items of the idle call only", st)
	}
	// Other keys of the busy lane do not count; a zero busy never does.
	if _, ok, err := s.AddUnlessBusy(ctx, LaneKey{Lane: busy.Lane, Key: "a\x00999"}, NewItem{Lane: "x", Payload: []byte("q")}); err != nil || !ok {
		t.Fatalf("AddUnlessBusy(other key) = %v, %v", ok, err)
	}
	if _, ok, err := s.AddUnlessBusy(ctx, LaneKey{}, NewItem{Lane: "x", Payload: []byte("r")}); err != nil || !ok {
		t.Fatalf("AddUnlessBusy(zero) = %v, %v", ok, err)
	}
	it := leaseWant(t, s, busy.Lane, "earlier MO")
	mustAck(t, s, it[0])
	if _, ok, err := s.AddUnlessBusy(ctx, busy, NewItem{Lane: "http:c", Key: "c\x00123", Payload: []byte("p3")}); err != nil || !ok {
		t.Fatalf("AddUnlessBusy once %s is done = %v, %v", waiting, ok, err)
	}
	if _, _, err := s.AddUnlessBusy(ctx, LaneKey{}, NewItem{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddUnlessBusy(no lane) = %v, want ErrInvalid", err)
	}
}

// A format 2 file (the bridge's records in JSON only) opens, keeps its
// items and is marked format 3, which older daemons refuse.
func TestFormat2Upgrade(t *testing.T) {
	o := Options{Path: filepath.Join(t.TempDir(), "bridge.db")}
	s := MustOpen(t, o)
	mustEnqueueKey(t, s, "l", "k", "kept")
	if err := s.db.Update(func(tx *boltTx) error { return tx.Bucket(bktMeta).Put(metaFormat, formatV2) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustOpen(t, o)
	leaseWant(t, s, "l", "kept")
	if err := s.view(func(tx *boltTx) error {
		if f := string(tx.Bucket(bktMeta).Get(metaFormat)); f != "smscbridge-store-3" {
			return fmt.Errorf("format marker %q after the upgrade", f)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
