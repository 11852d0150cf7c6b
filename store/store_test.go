package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// MustOpen opens a store in a fresh temporary directory (unless o.Path is
// set) and closes it when the test ends.
func MustOpen(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "bridge.db")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open(%s) = %v", o.Path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func MustEnqueue(t testing.TB, s *Store, lane, payload string) string {
	t.Helper()
	id, dup, err := s.Enqueue(context.Background(), NewItem{Lane: lane, Payload: []byte(payload)})
	if err != nil || dup {
		t.Fatalf("Enqueue(%s, %q) = %v, %v", lane, payload, dup, err)
	}
	return id
}

func MustLease(t testing.TB, s *Store, lane string, max int) []Item {
	t.Helper()
	items, err := s.Lease(context.Background(), lane, max)
	if err != nil {
		t.Fatalf("Lease(%s) = %v", lane, err)
	}
	return items
}

func payloads(items []Item) []string {
	var p []string
	for _, it := range items {
		p = append(p, string(it.Payload))
	}
	return p
}

func TestEnqueueLeaseAck(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	var ids []string
	for i := range 3 {
		ids = append(ids, MustEnqueue(t, s, "mt:a", fmt.Sprint("a", i)))
		clk.Add(time.Millisecond)
	}
	MustEnqueue(t, s, "mt:b", "b0")

	got := MustLease(t, s, "mt:a", 2)
	if p := payloads(got); !slices.Equal(p, []string{"a0", "a1"}) {
		t.Fatalf("Lease(mt:a, 2) = %q, want [a0 a1]", p)
	}
	if got[0].ID != ids[0] || got[0].Lane != "mt:a" || got[0].Attempts != 0 || !got[0].FirstSeen.Equal(newClock().Now()) {
		t.Errorf("leased item = %+v", got[0])
	}
	if p := payloads(MustLease(t, s, "mt:a", 10)); !slices.Equal(p, []string{"a2"}) {
		t.Fatalf("second Lease = %q, want [a2] (leased items are not handed out again)", p)
	}
	if p := payloads(MustLease(t, s, "mt:a", 10)); len(p) != 0 {
		t.Fatalf("third Lease = %q, want none", p)
	}
	if st := s.Stats()["mt:a"]; st != (LaneStats{Queued: 3, Leased: 3}) {
		t.Errorf("Stats[mt:a] = %+v, want 3 queued 3 leased", st)
	}
	if err := s.Ack(ctx, "mt:b", ids[0], tokenOf(s, ids[0])); !errors.Is(err, ErrNotFound) {
		t.Errorf("Ack in the wrong lane = %v, want ErrNotFound", err)
	}
	if err := s.Ack(ctx, "mt:a", ids[0], tokenOf(s, ids[0])); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	if err := s.Ack(ctx, "mt:a", ids[0], tokenOf(s, ids[0])); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Ack = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(acked) = %v, want ErrNotFound", err)
	}
	if st := s.Stats(); st["mt:a"] != (LaneStats{Queued: 2, Leased: 2}) || st["mt:b"] != (LaneStats{Queued: 1}) {
		t.Errorf("Stats = %+v", st)
	}
	if p := payloads(MustLease(t, s, "mt:b", 10)); !slices.Equal(p, []string{"b0"}) {
		t.Errorf("Lease(mt:b) = %q, want [b0]", p)
	}
}

func TestLeaseExpires(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, LeaseTTL: time.Minute})
	id := MustEnqueue(t, s, "l", "x")
	MustLease(t, s, "l", 1)
	clk.Add(59 * time.Second)
	if got := MustLease(t, s, "l", 1); len(got) != 0 {
		t.Fatalf("Lease before LeaseTTL = %d items, want 0", len(got))
	}
	clk.Add(time.Second)
	got := MustLease(t, s, "l", 1)
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("Lease after LeaseTTL = %+v, want %s again", got, id)
	}
	if st := s.Stats()["l"]; st.Leased != 1 {
		t.Errorf("Leased = %d after re-lease, want 1", st.Leased)
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Retry: RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute}})
	id := MustEnqueue(t, s, "l", "x")
	MustLease(t, s, "l", 1)

	start := clk.Now()
	dead, err := s.Retry(ctx, "l", id, tokenOf(s, id), "http 503", 0)
	if err != nil || dead {
		t.Fatalf("Retry = %v, %v", dead, err)
	}
	it, _ := s.Get(ctx, id)
	if d := it.NextDue.Sub(start); d < time.Second || d > 2*time.Second || it.Attempts != 1 || it.LastError != "http 503" {
		t.Fatalf("after Retry: due in %s, attempts %d, error %q; want 1s..2s, 1, http 503", d, it.Attempts, it.LastError)
	}
	if st := s.Stats()["l"]; st.Leased != 0 {
		t.Errorf("Leased = %d after Retry, want 0", st.Leased)
	}
	if got := MustLease(t, s, "l", 1); len(got) != 0 {
		t.Fatal("item due before its backoff")
	}
	clk.Add(2 * time.Second)
	MustLease(t, s, "l", 1)

	dead, err = s.Retry(ctx, "l", id, tokenOf(s, id), "throttled", 42*time.Second)
	if err != nil || dead {
		t.Fatalf("Retry(42s) = %v, %v", dead, err)
	}
	if it, _ := s.Get(ctx, id); !it.NextDue.Equal(clk.Now().Add(42 * time.Second)) {
		t.Errorf("NextDue = %s, want now+42s (caller's delay wins)", it.NextDue)
	}
	clk.Add(42 * time.Second)
	MustLease(t, s, "l", 1)
	dead, err = s.Retry(ctx, "l", id, tokenOf(s, id), "boom", 0)
	if err != nil || !dead {
		t.Fatalf("third Retry = %v, %v; want dead (MaxAttempts 3)", dead, err)
	}
	it, err = s.Get(ctx, id)
	if err != nil || it.Attempts != 3 || it.DeadReason == "" || !it.DeadAt.Equal(clk.Now()) {
		t.Fatalf("dead item = %+v, %v", it, err)
	}
	if st := s.Stats()["l"]; st != (LaneStats{Dead: 1}) {
		t.Errorf("Stats = %+v, want 1 dead", st)
	}
}

func TestRetryMaxAge(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Retry: RetryPolicy{MaxAge: time.Hour}})
	id := MustEnqueue(t, s, "l", "x")
	clk.Add(time.Hour)
	dead, err := s.Retry(context.Background(), "l", id, tokenOf(s, id), "timeout", time.Second)
	if err != nil || !dead {
		t.Fatalf("Retry past MaxAge = %v, %v; want dead", dead, err)
	}
}

func TestBackoff(t *testing.T) {
	s := &Store{opt: Options{Retry: RetryPolicy{InitialBackoff: 2 * time.Second, MaxBackoff: 10 * time.Second}}}
	for n, hi := range map[int]time.Duration{1: 4 * time.Second, 2: 8 * time.Second, 3: 10 * time.Second, 50: 10 * time.Second} {
		seen := map[bool]bool{}
		for range 200 {
			d := s.backoff(n)
			if d < 2*time.Second || d > hi {
				t.Fatalf("backoff(%d) = %s, want 2s..%s", n, d, hi)
			}
			seen[d > (2*time.Second+hi)/2] = true
		}
		if len(seen) != 2 {
			t.Errorf("backoff(%d) is not spread over its range", n)
		}
	}
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	it := NewItem{Lane: "l", Payload: []byte("x"), DedupKey: "k", DedupTTL: 10 * time.Second}
	first, dup, err := s.Enqueue(ctx, it)
	if err != nil || dup {
		t.Fatalf("Enqueue = %v, %v", dup, err)
	}
	clk.Add(9 * time.Second)
	again, dup, err := s.Enqueue(ctx, it)
	if err != nil || !dup || again != first {
		t.Fatalf("Enqueue within TTL = %s, %v, %v; want %s, true", again, dup, err, first)
	}
	clk.Add(time.Second)
	third, dup, err := s.Enqueue(ctx, it)
	if err != nil || dup || third == first {
		t.Fatalf("Enqueue after TTL = %s, %v, %v; want a new id", third, dup, err)
	}
	if n := s.Stats()["l"].Queued; n != 2 {
		t.Errorf("Queued = %d, want 2", n)
	}
	clk.Add(time.Minute)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, bktDedup) + countKeys(t, s, bktDedupX); n != 0 {
		t.Errorf("%d dedup keys left after sweep, want 0", n)
	}
}

func TestComplete(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, ReceiptTTL: time.Hour})
	id := MustEnqueue(t, s, "mt:a", "submit")
	tok := MustLease(t, s, "mt:a", 1)[0].Token
	res, err := s.Complete(ctx, Completion{
		Lane: "mt:a", ID: id, Token: tok,
		Enqueue:  []NewItem{{Lane: "http:rp", Payload: []byte("sent")}, {Lane: "http:rp", Payload: []byte("two")}},
		Receipts: []Receipt{{SMSC: "a", MsgID: "m1", Channel: "rp", Part: 1, Parts: 2}, {SMSC: "a", MsgID: "m2", Part: 2, Parts: 2, Data: []byte("ext")}},
	})
	if err != nil || len(res.IDs) != 2 || res.Dead {
		t.Fatalf("Complete = %+v, %v", res, err)
	}
	if got := payloads(MustLease(t, s, "http:rp", 5)); !slices.Equal(got, []string{"sent", "two"}) {
		t.Errorf("follow-ups = %q", got)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("completed item still there: %v", err)
	}
	r, ok, err := s.MatchReceipt(ctx, "a", "m2")
	want := Receipt{SMSC: "a", MsgID: "m2", ItemID: id, Part: 2, Parts: 2, Data: []byte("ext")}
	if err != nil || !ok || fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("MatchReceipt = %+v, %v, %v; want %+v", r, ok, err, want)
	}
	if _, ok, _ := s.MatchReceipt(ctx, "b", "m2"); ok {
		t.Error("receipt matched under another SMSC")
	}

	// Completing it again changes nothing: no follow-up, no mapping.
	_, err = s.Complete(ctx, Completion{Lane: "mt:a", ID: id, Token: tok, Enqueue: []NewItem{{Lane: "http:rp"}}, Receipts: []Receipt{{SMSC: "a", MsgID: "m3"}}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Complete = %v, want ErrNotFound", err)
	}
	if _, ok, _ := s.MatchReceipt(ctx, "a", "m3"); ok || s.Stats()["http:rp"].Queued != 2 {
		t.Error("failed Complete left changes behind")
	}

	clk.Add(time.Hour)
	if _, ok, _ := s.MatchReceipt(ctx, "a", "m1"); ok {
		t.Error("receipt matched after ReceiptTTL")
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, bktRcpt) + countKeys(t, s, bktRcptX); n != 0 {
		t.Errorf("%d receipt keys left after sweep, want 0", n)
	}
}

func TestCompleteDead(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, Options{})
	id := MustEnqueue(t, s, "mt:a", "submit")
	if _, err := s.Complete(ctx, Completion{Lane: "mt:a", ID: id, DeadReason: "ESME_RINVDSTADR", Enqueue: []NewItem{{Lane: "http:rp", Payload: []byte("failed")}}}); err != nil {
		t.Fatal(err)
	}
	it, err := s.Get(ctx, id)
	if err != nil || it.DeadReason != "ESME_RINVDSTADR" {
		t.Fatalf("Get = %+v, %v; want a dead letter", it, err)
	}
	if st := s.Stats(); st["mt:a"] != (LaneStats{Dead: 1}) || st["http:rp"] != (LaneStats{Queued: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

// A failing call in a batch neither fails nor half-applies the others:
// calls that fail before changing anything (unknown id) are skipped, and a
// call that fails after changing something is rolled back alone.
func TestBatchIsolation(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, Options{})
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 96)
	for i := range errs {
		wg.Go(func() {
			switch i % 8 {
			case 0:
				_, errs[i] = s.Complete(ctx, Completion{Lane: "l", ID: newID(time.Now()).String(), Enqueue: []NewItem{{Lane: "x"}}})
			case 1:
				errs[i] = s.update(ctx, func(w *wtx) error {
					if _, _, err := w.enqueue(NewItem{Lane: "x"}); err != nil {
						return err
					}
					return boom
				})
			default:
				_, _, errs[i] = s.Enqueue(ctx, NewItem{Lane: "l", Payload: fmt.Append(nil, i)})
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		want := map[int]error{0: ErrNotFound, 1: boom}[i%8]
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("call %d: %v, want %v", i, err, want)
		}
	}
	if st := s.Stats(); st["l"].Queued != 72 || st["x"].Queued != 0 {
		t.Errorf("Stats = %+v, want 72 in l and none in x", st)
	}
	checkConsistent(t, s)
}

func TestDeadLetters(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	var ids []string
	for i := range 4 {
		ids = append(ids, MustEnqueue(t, s, []string{"a", "b"}[i%2], fmt.Sprint(i)))
		if _, err := s.Retry(ctx, "", ids[i], tokenOf(s, ids[i]), "err", time.Hour); !errors.Is(err, ErrNotFound) && i == 0 {
			// lane "" never matches a queued item
			t.Logf("Retry with empty lane: %v", err)
		}
	}
	for i, id := range ids {
		lane := []string{"a", "b"}[i%2]
		if err := s.Dead(ctx, lane, id, tokenOf(s, id), "4xx"); err != nil {
			t.Fatal(err)
		}
	}
	dead, err := s.ListDead(ctx, "a", 0)
	if err != nil || len(dead) != 2 || dead[0].ID != ids[0] || dead[1].ID != ids[2] || dead[0].DeadReason != "4xx" {
		t.Fatalf("ListDead(a) = %+v, %v", dead, err)
	}
	if all, _ := s.ListDead(ctx, "", 3); len(all) != 3 {
		t.Errorf("ListDead(all, 3) = %d items", len(all))
	}
	if err := s.Requeue(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Requeue = %v, want ErrNotFound", err)
	}
	got := MustLease(t, s, "a", 5)
	if len(got) != 1 || got[0].ID != ids[0] || got[0].Attempts != 0 || got[0].DeadReason != "" {
		t.Fatalf("after Requeue, Lease = %+v", got)
	}
	if n, err := s.RequeueLane(ctx, "b"); n != 2 || err != nil {
		t.Errorf("RequeueLane(b) = %d, %v", n, err)
	}
	if err := s.Drop(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ids[2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(dropped) = %v", err)
	}
	// Drop removes dead letters only: ids[1] is queued again (issue 12
	// item 11: a queued MO callback was deleted and never delivered).
	if err := s.Drop(ctx, ids[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Drop(queued item) = %v, want ErrNotFound", err)
	}
	if it, err := s.Get(ctx, ids[1]); err != nil || it.DeadReason != "" {
		t.Fatalf("queued item after Drop = %+v, %v; want still queued", it, err)
	}
	for _, id := range []string{ids[1], ids[3]} {
		if err := s.Dead(ctx, "b", id, tokenOf(s, id), "again"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DropLane(ctx, "b"); n != 2 || err != nil {
		t.Errorf("DropLane(b) = %d, %v", n, err)
	}
	if st := s.Stats(); len(st) != 1 || st["a"] != (LaneStats{Queued: 1, Leased: 1}) {
		t.Errorf("Stats = %+v, want only a: 1 queued, 1 leased", st)
	}
	if q, _ := s.List(ctx, "", 0); len(q) != 1 || q[0].ID != ids[0] {
		t.Errorf("List = %+v", q)
	}
}

// Closing and reopening loses nothing queued, brings back nothing acked,
// and makes leased-but-unacked items due at once.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	s := MustOpen(t, Options{Path: path, Now: clk.Now, LeaseTTL: time.Hour})
	var ids []string
	for i := range 6 {
		ids = append(ids, MustEnqueue(t, s, "l", fmt.Sprint(i)))
	}
	MustLease(t, s, "l", 4)                                             // 0..3 leased
	if err := s.Ack(ctx, "l", ids[0], tokenOf(s, ids[0])); err != nil { // 0 done
		t.Fatal(err)
	}
	if _, err := s.Retry(ctx, "l", ids[1], tokenOf(s, ids[1]), "later", time.Hour); err != nil { // 1 scheduled later
		t.Fatal(err)
	}
	if err := s.Dead(ctx, "l", ids[2], tokenOf(s, ids[2]), "bad"); err != nil { // 2 dead
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, _, err := s.Enqueue(ctx, NewItem{Lane: "l"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrClosed", err)
	}
	if _, err := s.List(ctx, "", 0); !errors.Is(err, ErrClosed) {
		t.Errorf("List after Close = %v, want ErrClosed", err)
	}

	s = MustOpen(t, Options{Path: path, Now: clk.Now, LeaseTTL: time.Hour})
	if st := s.Stats()["l"]; st != (LaneStats{Queued: 4, Dead: 1}) {
		t.Errorf("Stats after reopen = %+v, want 4 queued, 1 dead", st)
	}
	got := payloads(MustLease(t, s, "l", 10))
	if !slices.Equal(got, []string{"3", "4", "5"}) {
		t.Errorf("Lease after reopen = %q, want [3 4 5] (3 was leased, not acked)", got)
	}
	for _, id := range ids[3:] {
		if err := s.Ack(ctx, "l", id, tokenOf(s, id)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Hour)
	if got := payloads(MustLease(t, s, "l", 10)); !slices.Equal(got, []string{"1"}) {
		t.Errorf("Lease an hour later = %q, want [1]", got)
	}
}

func TestClosedCalls(t *testing.T) {
	s := MustOpen(t, Options{})
	s.Close()
	ctx := context.Background()
	if _, err := s.LeaseWait(ctx, "l", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("LeaseWait = %v", err)
	}
	if _, _, err := s.MatchReceipt(ctx, "a", "b"); !errors.Is(err, ErrClosed) {
		t.Errorf("MatchReceipt = %v", err)
	}
	if _, _, err := s.AddPart(ctx, Part{SMSC: "a", Lane: "l", Total: 1, Seq: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("AddPart = %v", err)
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, Options{})
	for name, err := range map[string]error{
		"empty lane": func() error { _, _, err := s.Enqueue(ctx, NewItem{}); return err }(),
		"lease 0":    func() error { _, err := s.Lease(ctx, "l", 0); return err }(),
		"seq 0":      func() error { _, _, err := s.AddPart(ctx, Part{SMSC: "a", Lane: "l", Total: 2}); return err }(),
		"receipt":    s.PutReceipt(ctx, Receipt{SMSC: "a"}),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func countKeys(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *boltTx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// tokenOf is the current lease token of a queued item (0 if none), for
// tests that exercise something else than fencing.
func tokenOf(s *Store, sid string) uint64 {
	u, ok := parseID(sid)
	if !ok {
		return 0
	}
	var tok uint64
	s.db.View(func(tx *boltTx) error {
		if v := tx.Bucket(bktItems).Get(u[:]); v != nil {
			r, _ := decodeRecord(v)
			tok = r.token
		}
		return nil
	})
	return tok
}
