// Package storetest is the contract of store.Backend as one test suite:
// every backend (the bbolt store in package store, PostgreSQL in
// store/pgstore) runs Run against itself, so both keep the same
// semantics (design.md, "Queue semantics: lanes and keys").
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// Factory makes fresh, empty storage for one test and returns how to open
// it. open may be called again after the previous store was closed (a
// restart of the same node); the backend closes what it opened when the
// test ends. o carries the test's clock and policy.
type Factory func(t *testing.T) (open func(o store.Options) store.Backend)

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one test's store and clock.
type env struct {
	t    *testing.T
	ctx  context.Context
	clk  *Clock
	o    store.Options
	open func(store.Options) store.Backend
	s    store.Backend
}

func newEnv(t *testing.T, f Factory, o store.Options) *env {
	e := &env{t: t, ctx: context.Background(), clk: NewClock(), o: o}
	e.o.Now = e.clk.Now
	e.open = f(t)
	e.s = e.open(e.o)
	return e
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatalf("Close = %v", err)
	}
	e.s = e.open(e.o)
}

func (e *env) enqueue(lane, key, payload string) string {
	e.t.Helper()
	id, dup, err := e.s.Enqueue(e.ctx, store.NewItem{Lane: lane, Key: key, Payload: []byte(payload)})
	if err != nil || dup {
		e.t.Fatalf("Enqueue(%s, %q, %q) = %v, %v", lane, key, payload, dup, err)
	}
	return id
}

func (e *env) lease(lane string, max int) []store.Item {
	e.t.Helper()
	items, err := e.s.Lease(e.ctx, lane, max)
	if err != nil {
		e.t.Fatalf("Lease(%s, %d) = %v", lane, max, err)
	}
	return items
}

// leaseP leases and returns the payloads.
func (e *env) leaseP(lane string, max int) []string {
	e.t.Helper()
	return payloads(e.lease(lane, max))
}

func (e *env) ack(it store.Item) {
	e.t.Helper()
	if err := e.s.Ack(e.ctx, it.Lane, it.ID, it.Token); err != nil {
		e.t.Fatalf("Ack(%s %q) = %v", it.ID, it.Payload, err)
	}
}

func payloads(items []store.Item) []string {
	p := []string{}
	for _, it := range items {
		p = append(p, string(it.Payload))
	}
	return p
}

func want[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// Run runs the whole contract against the backend f makes.
func Run(t *testing.T, f Factory) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"EnqueueLeaseAck", testEnqueueLeaseAck},
		{"KeyOrder", testKeyOrder},
		{"OldestHeadFirst", testOldestHeadFirst},
		{"RetryBackoff", testRetryBackoff},
		{"MaxAttempts", testMaxAttempts},
		{"RetryWait", testRetryWait},
		{"DeadRequeueDrop", testDeadRequeueDrop},
		{"DropDeadSettleDead", testDropDeadSettleDead},
		{"LaneAdmin", testLaneAdmin},
		{"Receipts", testReceipts},
		{"Reassembly", testReassembly},
		{"ReassemblyTimeout", testReassemblyTimeout},
		{"Dedup", testDedup},
		{"Marks", testMarks},
		{"LeaseExpiryFencing", testLeaseExpiryFencing},
		{"Reopen", testReopen},
		{"CompleteCompound", testCompleteCompound},
		{"CompleteLeaseNext", testCompleteLeaseNext},
		{"AddClaim", testAddClaim},
		{"LeaseDue", testLeaseDue},
		{"CompleteAtomic", testCompleteAtomic},
		{"LeaseWait", testLeaseWait},
		{"ConcurrentLease", testConcurrentLease},
		{"ListAndStats", testListAndStats},
		{"BinaryStrings", testBinaryStrings},
		{"Ping", testPing},
		{"TraceRecordAndFind", testTraceRecordAndFind},
		{"TraceSweepBounds", testTraceSweepBounds},
		{"TraceRecordBounded", testTraceRecordBounded},
		{"TraceRunFlushes", testTraceRunFlushes},
		{"TraceOff", testTraceOff},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f) })
	}
}

func testEnqueueLeaseAck(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	var ids []string
	for i := range 3 {
		ids = append(ids, e.enqueue("mt:a", "", fmt.Sprint("p", i)))
	}
	items := e.lease("mt:a", 10)
	want(t, "leased", payloads(items), []string{"p0", "p1", "p2"})
	seen := map[uint64]bool{}
	for i, it := range items {
		want(t, "id", it.ID, ids[i])
		if it.Token == 0 || seen[it.Token] {
			t.Fatalf("token %d of %s: zero or repeated", it.Token, it.ID)
		}
		seen[it.Token] = true
	}
	want(t, "lease while leased", len(e.lease("mt:a", 10)), 0)
	want(t, "other lane", len(e.lease("mt:b", 10)), 0)
	for _, it := range items {
		e.ack(it)
	}
	if err := e.s.Ack(e.ctx, "mt:a", ids[0], items[0].Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Ack = %v, want ErrNotFound", err)
	}
	if _, err := e.s.Get(e.ctx, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(acked) = %v, want ErrNotFound", err)
	}
	if _, _, err := e.s.Enqueue(e.ctx, store.NewItem{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Enqueue(no lane) = %v, want ErrInvalid", err)
	}
	if _, err := e.s.Lease(e.ctx, "mt:a", 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Lease(0) = %v, want ErrInvalid", err)
	}
	want(t, "stats", e.s.Stats()["mt:a"], store.LaneStats{})
}

func testKeyOrder(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	e.enqueue("l", "B", "b1")
	e.enqueue("l", "A", "a3")
	e.enqueue("l", "", "solo")
	first := e.lease("l", 10)
	want(t, "first lease", payloads(first), []string{"a1", "b1", "solo"})
	want(t, "blocked", e.leaseP("l", 10), []string{})
	e.ack(first[0])
	next := e.lease("l", 10)
	want(t, "after ack a1", payloads(next), []string{"a2"})
	e.ack(next[0])
	e.ack(first[1])
	last := e.lease("l", 10)
	want(t, "after ack a2", payloads(last), []string{"a3"})
	// Keys are per lane: the same key in another lane is another key.
	e.enqueue("m", "A", "m1")
	want(t, "other lane same key", e.leaseP("m", 10), []string{"m1"})
}

func testOldestHeadFirst(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{InitialBackoff: time.Second, MaxBackoff: time.Second}})
	e.enqueue("l", "A", "a1")
	e.clk.Add(time.Millisecond)
	e.enqueue("l", "B", "b1")
	e.clk.Add(time.Millisecond)
	e.enqueue("l", "C", "c1")
	want(t, "lease 1", e.leaseP("l", 1), []string{"a1"})
	want(t, "lease 1 again", e.leaseP("l", 1), []string{"b1"})
	it := e.lease("l", 1)
	want(t, "lease 1 third", payloads(it), []string{"c1"})
	// A retried head is due later: it goes behind heads due earlier.
	if _, err := e.s.Retry(e.ctx, "l", it[0].ID, it[0].Token, "x", 0); err != nil {
		t.Fatal(err)
	}
	e.enqueue("l", "D", "d1")
	e.clk.Add(2 * time.Second)
	e.enqueue("l", "E", "e1")
	want(t, "due order", e.leaseP("l", 10), []string{"d1", "c1", "e1"})
}

func testRetryBackoff(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{InitialBackoff: 2 * time.Second, MaxBackoff: 2 * time.Second}})
	e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	it := e.lease("l", 10)[0]
	dead, err := e.s.Retry(e.ctx, "l", it.ID, it.Token, "boom", 0)
	if err != nil || dead {
		t.Fatalf("Retry = %v, %v", dead, err)
	}
	e.clk.Add(1900 * time.Millisecond)
	want(t, "before backoff (a2 blocked behind a1)", e.leaseP("l", 10), []string{})
	e.clk.Add(200 * time.Millisecond)
	again := e.lease("l", 10)
	want(t, "after backoff", payloads(again), []string{"a1"})
	want(t, "attempts", again[0].Attempts, 1)
	want(t, "last error", again[0].LastError, "boom")
	if again[0].Token == it.Token {
		t.Fatal("token not renewed")
	}
	// The caller's delay wins.
	if _, err := e.s.Retry(e.ctx, "l", again[0].ID, again[0].Token, "slow", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.Get(e.ctx, it.ID)
	want(t, "next due", got.NextDue.Sub(e.clk.Now()), 10*time.Second)
	e.clk.Add(9 * time.Second)
	want(t, "before delay", e.leaseP("l", 10), []string{})
	e.clk.Add(time.Second)
	third := e.lease("l", 10)
	want(t, "after delay", payloads(third), []string{"a1"})
	e.ack(third[0])
	want(t, "next of key", e.leaseP("l", 10), []string{"a2"})
}

func testMaxAttempts(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Second}})
	id := e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	it := e.lease("l", 1)[0]
	if dead, err := e.s.Retry(e.ctx, "l", id, it.Token, "e1", 0); err != nil || dead {
		t.Fatalf("Retry 1 = %v, %v", dead, err)
	}
	e.clk.Add(time.Second)
	it = e.lease("l", 1)[0]
	if dead, err := e.s.Retry(e.ctx, "l", id, it.Token, "e2", 0); err != nil || !dead {
		t.Fatalf("Retry 2 = %v, %v; want dead", dead, err)
	}
	dl, err := e.s.ListDead(e.ctx, "l", 0)
	if err != nil || len(dl) != 1 {
		t.Fatalf("ListDead = %v, %v", dl, err)
	}
	want(t, "dead id", dl[0].ID, id)
	want(t, "dead attempts", dl[0].Attempts, 2)
	if dl[0].DeadReason == "" || dl[0].DeadAt.IsZero() || dl[0].LastError != "e2" || dl[0].Token != 0 {
		t.Fatalf("dead letter %+v", dl[0])
	}
	want(t, "key unblocked", e.leaseP("l", 10), []string{"a2"})
	want(t, "stats", e.s.Stats()["l"], store.LaneStats{Queued: 1, Leased: 1, Dead: 1})
}

func testRetryWait(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{MaxAttempts: 1, MaxAge: time.Hour, InitialBackoff: time.Second, MaxBackoff: time.Second}})
	id := e.enqueue("l", "", "w")
	for range 3 { // waits do not count as attempts
		it := e.lease("l", 1)[0]
		res, err := e.s.Complete(e.ctx, store.Completion{Lane: "l", ID: id, Token: it.Token,
			Retry: &store.RetrySpec{Cause: "no bind", Delay: time.Minute, Wait: true}})
		if err != nil || res.Dead {
			t.Fatalf("wait = %+v, %v", res, err)
		}
		e.clk.Add(time.Minute)
	}
	it := e.lease("l", 1)[0]
	want(t, "attempts after waits", it.Attempts, 0)
	e.clk.Add(time.Hour)
	res, err := e.s.Complete(e.ctx, store.Completion{Lane: "l", ID: id, Token: it.Token,
		Retry:  &store.RetrySpec{Cause: "no bind", Wait: true},
		OnDead: []store.NewItem{{Lane: "cb", Payload: []byte("failed")}}})
	if err != nil || !res.Dead || len(res.IDs) != 1 {
		t.Fatalf("wait past max_age = %+v, %v; want dead with one OnDead id", res, err)
	}
	want(t, "on dead queued", e.leaseP("cb", 10), []string{"failed"})
}

func testDeadRequeueDrop(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	a1 := e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	it := e.lease("l", 1)[0]
	if err := e.s.Dead(e.ctx, "l", a1, it.Token, "permanent"); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Get(e.ctx, a1)
	if err != nil || got.DeadReason != "permanent" {
		t.Fatalf("Get(dead) = %+v, %v", got, err)
	}
	a2 := e.lease("l", 10)
	want(t, "dead head unblocks", payloads(a2), []string{"a2"})
	if err := e.s.Requeue(e.ctx, a1); err != nil {
		t.Fatal(err)
	}
	want(t, "requeued waits behind a2", e.leaseP("l", 10), []string{})
	e.ack(a2[0])
	back := e.lease("l", 10)
	want(t, "requeued at end", payloads(back), []string{"a1"})
	want(t, "requeued id", back[0].ID, a1)
	want(t, "requeued attempts", back[0].Attempts, 0)
	if err := e.s.Requeue(e.ctx, a1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Requeue(queued) = %v, want ErrNotFound", err)
	}
	if err := e.s.Drop(e.ctx, a1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Drop(queued) = %v, want ErrNotFound", err)
	}
	if _, err := e.s.Get(e.ctx, a1); err != nil {
		t.Fatalf("queued item gone after refused Drop: %v", err)
	}
	if err := e.s.Dead(e.ctx, "l", a1, back[0].Token, "again"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Drop(e.ctx, a1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Get(e.ctx, a1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(dropped) = %v", err)
	}
	if err := e.s.Drop(e.ctx, "not-an-id"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Drop(bad id) = %v", err)
	}
}

func testDropDeadSettleDead(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	deadOne := func(p string) string {
		id := e.enqueue("mt", "", p)
		it := e.lease("mt", 1)[0]
		if err := e.s.Dead(e.ctx, "mt", id, it.Token, "unknown_outcome"); err != nil {
			t.Fatal(err)
		}
		return id
	}
	d1 := deadOne("m1")
	if err := e.s.DropDead(e.ctx, d1, store.NewItem{Lane: "cb", Payload: []byte("failed")}); err != nil {
		t.Fatal(err)
	}
	want(t, "drop follow-up", e.leaseP("cb", 10), []string{"failed"})
	d2 := deadOne("m2")
	err := e.s.SettleDead(e.ctx, d2, []store.NewItem{{Lane: "cb", Payload: []byte("sent")}},
		[]store.Receipt{{SMSC: "agg", MsgID: "X1", Channel: "rp"}})
	if err != nil {
		t.Fatal(err)
	}
	r, ok, err := e.s.MatchReceipt(e.ctx, "agg", "X1")
	if err != nil || !ok || r.ItemID != d2 {
		t.Fatalf("MatchReceipt = %+v, %v, %v; want item %s", r, ok, err, d2)
	}
	want(t, "settle follow-up", e.leaseP("cb", 10), []string{"sent"})
	d3 := deadOne("m3")
	if err := e.s.Requeue(e.ctx, d3); err != nil {
		t.Fatal(err)
	}
	err = e.s.SettleDead(e.ctx, d3, []store.NewItem{{Lane: "cb", Payload: []byte("late")}},
		[]store.Receipt{{SMSC: "agg", MsgID: "X3"}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SettleDead(requeued) = %v, want ErrNotFound", err)
	}
	if _, ok, _ := e.s.MatchReceipt(e.ctx, "agg", "X3"); ok {
		t.Fatal("refused SettleDead put a receipt")
	}
	want(t, "refused settle queued nothing", e.leaseP("cb", 10), []string{})
	want(t, "requeued still queued", e.leaseP("mt", 10), []string{"m3"})
}

func testLaneAdmin(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	for i := range 5 {
		e.enqueue("l", "", fmt.Sprint(i))
	}
	for _, it := range e.lease("l", 10) {
		if err := e.s.Dead(e.ctx, "l", it.ID, it.Token, "x"); err != nil {
			t.Fatal(err)
		}
	}
	e.enqueue("keep", "", "k")
	n, err := e.s.RequeueLane(e.ctx, "l")
	want(t, "requeued", fmt.Sprint(n, err), "5 <nil>")
	want(t, "requeued items", len(e.lease("l", 10)), 5)
	if _, err := e.s.RequeueLane(e.ctx, ""); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("RequeueLane(\"\") = %v", err)
	}
	st := e.s.Stats()["l"]
	want(t, "stats", st, store.LaneStats{Queued: 5, Leased: 5})
	for _, it := range e.lease("l", 10) {
		t.Fatalf("leased twice: %v", it.ID)
	}
	items, _ := e.s.List(e.ctx, "l", 0)
	for _, it := range items[:3] {
		// token 0 is not the current lease token of a leased item
		if err := e.s.Dead(e.ctx, "l", it.ID, 0, "x"); !errors.Is(err, store.ErrStaleLease) {
			t.Fatalf("Dead(token 0) = %v, want ErrStaleLease", err)
		}
	}
	n, err = e.s.DropLane(e.ctx, "l")
	want(t, "dropped (no dead letters)", fmt.Sprint(n, err), "0 <nil>")
	want(t, "queued untouched", e.s.Stats()["l"].Queued, 5)
}

func testReceipts(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{ReceiptTTL: time.Hour})
	rc := store.Receipt{SMSC: "agg", MsgID: "abc", ItemID: "i1", Channel: "rp", Part: 2, Parts: 3, Data: []byte("d")}
	if err := e.s.PutReceipt(e.ctx, rc); err != nil {
		t.Fatal(err)
	}
	got, ok, err := e.s.MatchReceipt(e.ctx, "agg", "abc")
	if err != nil || !ok {
		t.Fatalf("MatchReceipt = %v, %v", ok, err)
	}
	want(t, "receipt", fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", rc))
	if _, ok, _ := e.s.MatchReceipt(e.ctx, "other", "abc"); ok {
		t.Fatal("matched under another SMSC")
	}
	if _, ok, _ := e.s.MatchReceipt(e.ctx, "agg", "abc"); !ok {
		t.Fatal("a match removed the mapping")
	}
	rc.ItemID = "i2"
	if err := e.s.PutReceipt(e.ctx, rc); err != nil { // replaces
		t.Fatal(err)
	}
	got, _, _ = e.s.MatchReceipt(e.ctx, "agg", "abc")
	want(t, "replaced", got.ItemID, "i2")
	e.clk.Add(time.Hour)
	if _, ok, _ := e.s.MatchReceipt(e.ctx, "agg", "abc"); ok {
		t.Fatal("expired mapping matched")
	}
	if err := e.s.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutReceipt(e.ctx, store.Receipt{SMSC: "agg"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PutReceipt(no msg id) = %v", err)
	}
}

func part(seq, total int, data string) store.Part {
	return store.Part{SMSC: "agg", Source: "+1", Dest: "100", Ref: 7, Total: total, Seq: seq, Data: []byte(data), Lane: "mo", Key: "agg\x00+1"}
}

func testReassembly(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	for _, p := range []store.Part{part(2, 3, "B"), part(1, 3, "A"), part(2, 3, "B")} {
		if done, _, err := e.s.AddPart(e.ctx, p); err != nil || done {
			t.Fatalf("AddPart(%d) = %v, %v", p.Seq, done, err)
		}
	}
	done, id, err := e.s.AddPart(e.ctx, part(3, 3, "C"))
	if err != nil || !done || id == "" {
		t.Fatalf("last AddPart = %v, %q, %v", done, id, err)
	}
	items := e.lease("mo", 10)
	if len(items) != 1 || items[0].ID != id || items[0].Key != "agg\x00+1" {
		t.Fatalf("assembled = %+v", items)
	}
	a, err := store.DecodeParts(items[0].Payload)
	if err != nil || fmt.Sprintf("%s", a.Parts) != "[A B C]" || len(a.Missing) != 0 {
		t.Fatalf("assembled parts = %s, %v, %v", a.Parts, a.Missing, err)
	}
	// A repeat of a part of the delivered message is ignored...
	if done, _, err := e.s.AddPart(e.ctx, part(2, 3, "B")); err != nil || done {
		t.Fatalf("repeat after completion = %v, %v", done, err)
	}
	want(t, "nothing new", e.leaseP("mo", 10), []string{})
	// ...but other content under the same reference is a new message.
	if done, _, err := e.s.AddPart(e.ctx, part(1, 3, "X")); err != nil || done {
		t.Fatalf("reused ref = %v, %v", done, err)
	}
	if _, _, err := e.s.AddPart(e.ctx, store.Part{SMSC: "agg", Lane: "mo", Total: 2, Seq: 3}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("AddPart(seq > total) = %v", err)
	}
	// The part's Key orders the assembled message with the sender's others.
	e.enqueue("mo", "agg\x00+9", "other sender")
	e.ack(items[0])
	e.enqueue("mo", "agg\x00+1", "single after")
	want(t, "key order", e.leaseP("mo", 10), []string{"other sender", "single after"})
}

func testReassemblyTimeout(t *testing.T, f Factory) {
	for _, pol := range []store.PartialPolicy{store.DeliverPartial, store.DeadPartial} {
		e := newEnv(t, f, store.Options{ReassemblyTimeout: time.Minute, PartialMO: pol})
		if _, _, err := e.s.AddPart(e.ctx, part(2, 3, "B")); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		want(t, "before timeout", e.leaseP("mo", 10), []string{})
		e.clk.Add(time.Minute)
		if err := e.s.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		var payload []byte
		if pol == store.DeliverPartial {
			items := e.lease("mo", 10)
			if len(items) != 1 {
				t.Fatalf("partial delivered: %d items", len(items))
			}
			payload = items[0].Payload
		} else {
			dl, _ := e.s.ListDead(e.ctx, "mo", 0)
			if len(dl) != 1 || dl[0].DeadReason != "incomplete: missing parts 1,3 of 3" {
				t.Fatalf("partial dead letters = %+v", dl)
			}
			payload = dl[0].Payload
		}
		a, err := store.DecodeParts(payload)
		if err != nil || fmt.Sprint(a.Missing) != "[1 3]" || string(a.Parts[1]) != "B" {
			t.Fatalf("partial = %v, %v", a, err)
		}
		if err := e.s.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		want(t, "swept once", e.s.Stats()["mo"].Queued+e.s.Stats()["mo"].Dead, 1)
	}
}

func testDedup(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	it := store.NewItem{Lane: "mt", Payload: []byte("x"), DedupKey: "rp:42", DedupTTL: time.Hour}
	id1, dup, err := e.s.Enqueue(e.ctx, it)
	if err != nil || dup {
		t.Fatal(dup, err)
	}
	id2, dup, err := e.s.Enqueue(e.ctx, it)
	if err != nil || !dup || id2 != id1 {
		t.Fatalf("second Enqueue = %s, %v, %v; want %s dup", id2, dup, err, id1)
	}
	l := e.lease("mt", 10)
	want(t, "queued once", len(l), 1)
	e.ack(l[0])
	if id, dup, _ := e.s.Enqueue(e.ctx, it); !dup || id != id1 { // also after the ack
		t.Fatalf("after ack = %s, %v", id, dup)
	}
	e.clk.Add(time.Hour)
	id3, dup, err := e.s.Enqueue(e.ctx, it)
	if err != nil || dup || id3 == id1 {
		t.Fatalf("after TTL = %s, %v, %v", id3, dup, err)
	}
	// Complete.DropDedup forgets the key.
	l = e.lease("mt", 10)
	if _, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: id3, Token: l[0].Token, DropDedup: []string{"rp:42"}}); err != nil {
		t.Fatal(err)
	}
	if _, dup, _ := e.s.Enqueue(e.ctx, it); dup {
		t.Fatal("dropped dedup key still deduplicates")
	}
}

func testMarks(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{ReceiptTTL: time.Hour})
	e.enqueue("cb", "", "s")
	it := e.lease("cb", 1)[0]
	_, err := e.s.Complete(e.ctx, store.Completion{Lane: "cb", ID: it.ID, Token: it.Token, Marks: []store.Mark{
		{Key: "m:1", Value: []byte("delivered")}, {Key: "m:2", Value: []byte{}, TTL: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := e.s.GetMark(e.ctx, "m:1")
	if err != nil || !ok || string(v) != "delivered" {
		t.Fatalf("GetMark = %q, %v, %v", v, ok, err)
	}
	if v, ok, _ := e.s.GetMark(e.ctx, "m:2"); !ok || v == nil || len(v) != 0 {
		t.Fatalf("empty mark = %q, %v", v, ok)
	}
	if _, ok, _ := e.s.GetMark(e.ctx, "m:none"); ok {
		t.Fatal("unknown mark found")
	}
	e.clk.Add(time.Minute)
	if _, ok, _ := e.s.GetMark(e.ctx, "m:2"); ok {
		t.Fatal("expired mark found")
	}
	e.enqueue("cb", "", "s2")
	it = e.lease("cb", 1)[0]
	if _, err := e.s.Complete(e.ctx, store.Completion{Lane: "cb", ID: it.ID, Token: it.Token, Marks: []store.Mark{{Key: "m:1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.s.GetMark(e.ctx, "m:1"); ok {
		t.Fatal("nil Value did not delete the mark")
	}
	if err := e.s.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
}

func testLeaseExpiryFencing(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{LeaseTTL: 10 * time.Second})
	id := e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	old := e.lease("l", 10)
	want(t, "first", payloads(old), []string{"a1"})
	e.clk.Add(9 * time.Second)
	want(t, "before expiry", e.leaseP("l", 10), []string{})
	e.clk.Add(time.Second)
	cur := e.lease("l", 10)
	want(t, "after expiry: same head again", payloads(cur), []string{"a1"})
	if cur[0].Token == old[0].Token {
		t.Fatal("same token after expiry")
	}
	if err := e.s.Ack(e.ctx, "l", id, old[0].Token); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Ack(old token) = %v, want ErrStaleLease", err)
	}
	if _, err := e.s.Retry(e.ctx, "l", id, old[0].Token, "late", 0); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Retry(old token) = %v", err)
	}
	if _, err := e.s.Complete(e.ctx, store.Completion{Lane: "l", ID: id, Token: old[0].Token,
		Enqueue: []store.NewItem{{Lane: "cb", Payload: []byte("late")}}}); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Complete(old token) = %v", err)
	}
	want(t, "stale completion queued nothing", e.leaseP("cb", 10), []string{})
	if err := e.s.Ack(e.ctx, "other", id, cur[0].Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Ack(wrong lane) = %v", err)
	}
	e.ack(cur[0])
	want(t, "next", e.leaseP("l", 10), []string{"a2"})
	// Token 0 acks an item never leased.
	fresh := e.enqueue("z", "", "z")
	if err := e.s.Ack(e.ctx, "z", fresh, 0); err != nil {
		t.Fatalf("Ack(never leased, token 0) = %v", err)
	}
}

func testReopen(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{LeaseTTL: time.Hour})
	id := e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	old := e.lease("l", 10)
	e.reopen()
	cur := e.lease("l", 10)
	want(t, "leased head due again after reopen", payloads(cur), []string{"a1"})
	if err := e.s.Ack(e.ctx, "l", id, old[0].Token); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Ack(token from before reopen) = %v", err)
	}
	e.ack(cur[0])
	want(t, "order kept", e.leaseP("l", 10), []string{"a2"})
	// A claim (NewItem.Claim) is a lease: after a reopen (a restart) the
	// claimed item is handed out again.
	if _, err := e.s.Add(e.ctx, store.NewItem{Lane: "c", Key: "K", Payload: []byte("claimed"), Claim: true}); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	want(t, "claimed item due after reopen", e.leaseP("c", 10), []string{"claimed"})
}

// testPing: Ping commits while the backend is open, and fails once it is
// closed (the watchdog must then stay silent).
func testPing(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	if err := e.s.Ping(e.ctx); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	e.enqueue("l", "", "after ping")
	want(t, "work after Ping", e.leaseP("l", 1), []string{"after ping"})
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Ping(e.ctx); err == nil {
		t.Fatal("Ping of a closed backend = nil")
	}
}

func testCompleteCompound(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Second}})
	id := e.enqueue("mt", "K", "v1")
	it := e.lease("mt", 1)[0]
	res, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: id, Token: it.Token,
		Retry: &store.RetrySpec{Cause: "part 1 sent"}, Payload: []byte("v2"),
		Enqueue:  []store.NewItem{{Lane: "cb", Key: "K", Payload: []byte("progress")}},
		OnDead:   []store.NewItem{{Lane: "cb", Payload: []byte("never")}},
		Receipts: []store.Receipt{{SMSC: "agg", MsgID: "p1", Part: 1, Parts: 2}},
		Marks:    []store.Mark{{Key: "st:" + id, Value: []byte("sent")}}})
	if err != nil || res.Dead || len(res.IDs) != 1 {
		t.Fatalf("Complete(retry) = %+v, %v", res, err)
	}
	r, ok, _ := e.s.MatchReceipt(e.ctx, "agg", "p1")
	if !ok || r.ItemID != id {
		t.Fatalf("receipt %+v %v: empty ItemID must become the item's", r, ok)
	}
	if v, ok, _ := e.s.GetMark(e.ctx, "st:"+id); !ok || string(v) != "sent" {
		t.Fatal("mark missing")
	}
	want(t, "follow-up", e.leaseP("cb", 10), []string{"progress"})
	e.clk.Add(time.Second)
	it = e.lease("mt", 1)[0]
	want(t, "payload kept for next attempt", string(it.Payload), "v2")
	res, err = e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: id, Token: it.Token,
		Retry:   &store.RetrySpec{Cause: "again"},
		Enqueue: []store.NewItem{{Lane: "cb2", Payload: []byte("always")}},
		OnDead:  []store.NewItem{{Lane: "cb2", Payload: []byte("failed")}}})
	if err != nil || !res.Dead || len(res.IDs) != 2 {
		t.Fatalf("Complete(retry past policy) = %+v, %v", res, err)
	}
	want(t, "enqueue then on-dead", e.leaseP("cb2", 10), []string{"always", "failed"})
	if _, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: id, DeadReason: "x", Retry: &store.RetrySpec{}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Complete(dead and retry) = %v", err)
	}
	// A plain completion: ack plus a move to another lane with the same key.
	m := e.enqueue("mt:a", "K", "move me")
	it = e.lease("mt:a", 1)[0]
	res, err = e.s.Complete(e.ctx, store.Completion{Lane: "mt:a", ID: m, Token: it.Token,
		Enqueue: []store.NewItem{{Lane: "mt:b", Key: "K", Payload: it.Payload}}})
	if err != nil || res.Dead {
		t.Fatal(res, err)
	}
	want(t, "moved", e.leaseP("mt:b", 10), []string{"move me"})
	want(t, "gone", e.s.Stats()["mt:a"].Queued, 0)
}

// testCompleteLeaseNext: Completion.LeaseNext hands out the key's next
// head, leased with a fresh token, in the completing transaction; not after
// a Retry (the key stays blocked) and not across keys. A backend that does
// not support it returns nil Next and leaves the item to Lease.
func testCompleteLeaseNext(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{LeaseTTL: time.Minute, Retry: store.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Second}})
	a1 := e.enqueue("mt", "A", "a1")
	a2 := e.enqueue("mt", "A", "a2")
	e.enqueue("mt", "B", "b1")
	a3 := e.enqueue("mt", "A", "a3")
	it := e.lease("mt", 1)[0]
	want(t, "first lease", it.ID, a1)
	res, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: a1, Token: it.Token, LeaseNext: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Next == nil {
		got := e.leaseP("mt", 10)
		slices.Sort(got)
		want(t, "unsupported: Lease hands out the key's next head", got, []string{"a2", "b1"})
		return
	}
	n := *res.Next
	want(t, "next of the key", n.ID, a2)
	want(t, "next payload", string(n.Payload), "a2")
	if n.Token == 0 || n.Token == it.Token {
		t.Fatalf("next token %d (old %d): must be fresh", n.Token, it.Token)
	}
	want(t, "the leased next is not handed out again; other keys are", e.leaseP("mt", 10), []string{"b1"})
	// A retry keeps the key blocked: no next.
	res, err = e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: a2, Token: n.Token, Retry: &store.RetrySpec{Cause: "later"}, LeaseNext: true})
	if err != nil || res.Next != nil {
		t.Fatalf("Complete(retry, LeaseNext) = %+v, %v: want no next", res, err)
	}
	e.clk.Add(time.Second)
	it = e.lease("mt", 1)[0]
	want(t, "retried head", it.ID, a2)
	// A dead letter frees the key: the next is leased.
	res, err = e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: a2, Token: it.Token, DeadReason: "x", LeaseNext: true})
	if err != nil || res.Next == nil || res.Next.ID != a3 {
		t.Fatalf("Complete(dead, LeaseNext) = %+v, %v: want next %s", res, err, a3)
	}
	// The last of the key: no next; the key's next item is fenced by its token.
	if _, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: a3, Token: it.Token}); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Complete with another item's token = %v, want ErrStaleLease", err)
	}
	res, err = e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: a3, Token: res.Next.Token, LeaseNext: true})
	if err != nil || res.Next != nil {
		t.Fatalf("Complete(last, LeaseNext) = %+v, %v", res, err)
	}
	want(t, "A done", e.s.Stats()["mt"].Queued, 1)
}

// testAddClaim: NewItem.Claim leases an item in the transaction that queues
// it, only when it is its key's head (not behind an earlier item of its key,
// not for a dedup hit), with a fresh token; Lease does not hand it out
// while the claim lasts, the claim expires like any lease and the token
// fences as usual. Follow-ups of Complete are claimed the same way. A
// backend that does not support it leases nothing and Lease hands the item
// out.
func testAddClaim(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{LeaseTTL: time.Minute})
	a, err := e.s.Add(e.ctx, store.NewItem{Lane: "cb", Key: "A", Payload: []byte("a1"), Claim: true})
	if err != nil || a.ID == "" || a.Dup {
		t.Fatalf("Add(claim) = %+v, %v", a, err)
	}
	if a.Leased == nil {
		want(t, "unsupported: Lease hands out the item", e.leaseP("cb", 10), []string{"a1"})
		return
	}
	want(t, "claimed id", a.Leased.ID, a.ID)
	want(t, "claimed payload", string(a.Leased.Payload), "a1")
	if a.Leased.Token == 0 {
		t.Fatal("claimed item without a token")
	}
	want(t, "stats while claimed", e.s.Stats()["cb"], store.LaneStats{Queued: 1, Leased: 1})
	// Behind the claimed head of its key: queued, not claimed.
	b, err := e.s.Add(e.ctx, store.NewItem{Lane: "cb", Key: "A", Payload: []byte("a2"), Claim: true})
	if err != nil || b.Leased != nil {
		t.Fatalf("Add(claim) behind its key's head = %+v, %v: want nothing leased", b, err)
	}
	// A dedup hit claims nothing.
	d1, err := e.s.Add(e.ctx, store.NewItem{Lane: "cb", Key: "D", Payload: []byte("d1"), DedupKey: "dd", DedupTTL: time.Hour, Claim: true})
	if err != nil || d1.Leased == nil {
		t.Fatalf("Add(claim, dedup) = %+v, %v", d1, err)
	}
	e.ack(*d1.Leased)
	d2, err := e.s.Add(e.ctx, store.NewItem{Lane: "cb", Key: "D", Payload: []byte("d1"), DedupKey: "dd", DedupTTL: time.Hour, Claim: true})
	if err != nil || !d2.Dup || d2.ID != d1.ID || d2.Leased != nil {
		t.Fatalf("Add(claim, dedup hit) = %+v, %v", d2, err)
	}
	want(t, "claimed head and the item behind it are not leased", e.leaseP("cb", 10), []string{})
	// Completing the claimed item frees its key; its follow-up is claimed.
	res, err := e.s.Complete(e.ctx, store.Completion{Lane: "cb", ID: a.ID, Token: a.Leased.Token,
		Enqueue: []store.NewItem{{Lane: "cb2", Key: "X", Payload: []byte("x1"), Claim: true}, {Lane: "cb2", Key: "Y", Payload: []byte("y1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leased) != 2 || res.Leased[0] == nil || res.Leased[0].ID != res.IDs[0] || res.Leased[1] != nil {
		t.Fatalf("Complete follow-ups leased = %v (ids %v): want the first (claimed) only", res.Leased, res.IDs)
	}
	y := e.lease("cb2", 10)
	want(t, "unclaimed follow-up leased, claimed one not", payloads(y), []string{"y1"})
	e.ack(y[0])
	want(t, "key A's next head is due", e.leaseP("cb", 10), []string{"a2"})
	// A claim is a lease: it expires, and the old token is then fenced.
	e.clk.Add(time.Minute + time.Second)
	again := e.lease("cb2", 10)
	want(t, "expired claim handed out again", payloads(again), []string{"x1"})
	if err := e.s.Ack(e.ctx, "cb2", res.IDs[0], res.Leased[0].Token); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Ack with the expired claim's token = %v, want ErrStaleLease", err)
	}
	e.ack(again[0])
}

// testLeaseDue: LeaseDue leases what is due, like Lease, and nothing (no
// error) when nothing is.
func testLeaseDue(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{Retry: store.RetryPolicy{InitialBackoff: time.Second, MaxBackoff: time.Second}})
	items, err := e.s.LeaseDue(e.ctx, "l", 10)
	if err != nil || len(items) != 0 {
		t.Fatalf("LeaseDue(empty) = %v, %v", items, err)
	}
	e.enqueue("l", "A", "a1")
	e.enqueue("l", "B", "b1")
	items, err = e.s.LeaseDue(e.ctx, "l", 1)
	if err != nil || len(items) != 1 || items[0].Token == 0 {
		t.Fatalf("LeaseDue(1) = %v, %v", items, err)
	}
	if _, err := e.s.Retry(e.ctx, "l", items[0].ID, items[0].Token, "later", 0); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.LeaseDue(e.ctx, "l", 10)
	want(t, "LeaseDue: the other head, not the retried one", payloads(got), []string{"b1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.LeaseDue(e.ctx, "l", 10); err != nil || len(got) != 0 {
		t.Fatalf("LeaseDue(nothing due) = %v, %v", got, err)
	}
	e.clk.Add(2 * time.Second)
	got, err = e.s.LeaseDue(e.ctx, "l", 10)
	want(t, "LeaseDue once the retry is due", payloads(got), []string{"a1"})
	if err != nil {
		t.Fatal(err)
	}
}

// testCompleteAtomic: a completion that fails part-way (an invalid
// follow-up found only inside the transaction is impossible, so a stale
// token after the item was re-leased stands in) changes nothing at all.
func testCompleteAtomic(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{LeaseTTL: time.Second})
	id := e.enqueue("mt", "", "x")
	old := e.lease("mt", 1)[0]
	e.clk.Add(time.Second)
	cur := e.lease("mt", 1)[0]
	_, err := e.s.Complete(e.ctx, store.Completion{Lane: "mt", ID: id, Token: old.Token, DeadReason: "late",
		Enqueue: []store.NewItem{{Lane: "cb", Payload: []byte("a")}}, Receipts: []store.Receipt{{SMSC: "s", MsgID: "m"}},
		Marks: []store.Mark{{Key: "k", Value: []byte("v")}}})
	if !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("Complete(stale) = %v", err)
	}
	if _, ok, _ := e.s.MatchReceipt(e.ctx, "s", "m"); ok {
		t.Fatal("receipt of a refused completion")
	}
	if _, ok, _ := e.s.GetMark(e.ctx, "k"); ok {
		t.Fatal("mark of a refused completion")
	}
	got, err := e.s.Get(e.ctx, id)
	if err != nil || got.DeadReason != "" {
		t.Fatalf("item after refused completion: %+v, %v", got, err)
	}
	e.ack(cur)
}

func testLeaseWait(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	e.o.Now = time.Now // real time: LeaseWait sleeps on timers
	e.reopen()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	type res struct {
		items []store.Item
		err   error
	}
	wait := func(lane string) chan res {
		ch := make(chan res, 1)
		go func() {
			items, err := e.s.LeaseWait(ctx, lane, 5)
			ch <- res{items, err}
		}()
		return ch
	}
	ch := wait("l")
	time.Sleep(20 * time.Millisecond)
	e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	r := <-ch
	if r.err != nil || len(r.items) != 1 || string(r.items[0].Payload) != "a1" {
		t.Fatalf("LeaseWait = %v, %v", payloads(r.items), r.err)
	}
	ch = wait("l")
	time.Sleep(20 * time.Millisecond)
	e.ack(r.items[0]) // the key's next item becomes head: a wake-up
	r = <-ch
	if r.err != nil || len(r.items) != 1 || string(r.items[0].Payload) != "a2" {
		t.Fatalf("LeaseWait after ack = %v, %v", payloads(r.items), r.err)
	}
	cctx, ccancel := context.WithCancel(e.ctx)
	go func() { time.Sleep(20 * time.Millisecond); ccancel() }()
	if _, err := e.s.LeaseWait(cctx, "l", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("LeaseWait(cancelled) = %v", err)
	}
}

func testConcurrentLease(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	const keys, per = 10, 8
	for i := range per {
		for k := range keys {
			e.enqueue("l", fmt.Sprint("k", k), fmt.Sprint(k, "/", i))
		}
	}
	var mu sync.Mutex
	got := map[string][]string{}
	out := map[string]bool{} // keys with an item out
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				items, err := e.s.Lease(e.ctx, "l", 3)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, it := range items {
					if out[it.Key] {
						errs <- fmt.Errorf("two items of key %s out at once", it.Key)
					}
					out[it.Key] = true
					got[it.Key] = append(got[it.Key], string(it.Payload))
				}
				done := len(got) == keys && slices.IndexFunc(slices.Collect(mapValues(got)), func(v []string) bool { return len(v) < per }) < 0
				mu.Unlock()
				for _, it := range items {
					mu.Lock()
					out[it.Key] = false
					mu.Unlock()
					if err := e.s.Ack(e.ctx, "l", it.ID, it.Token); err != nil {
						errs <- err
						return
					}
				}
				if done {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k := range keys {
		var w []string
		for i := range per {
			w = append(w, fmt.Sprint(k, "/", i))
		}
		want(t, "order of key "+fmt.Sprint(k), got[fmt.Sprint("k", k)], w)
	}
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func testListAndStats(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	e.enqueue("l", "A", "a1")
	e.enqueue("l", "A", "a2")
	e.enqueue("l", "B", "b1")
	e.enqueue("m", "", "m1")
	l, err := e.s.List(e.ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "List(l)", payloads(l), []string{"a1", "b1", "a2"})
	all, _ := e.s.List(e.ctx, "", 0)
	want(t, "List(all)", payloads(all), []string{"a1", "a2", "b1", "m1"})
	two, _ := e.s.List(e.ctx, "", 2)
	want(t, "List limit", len(two), 2)
	e.lease("l", 1)
	st := e.s.Stats()
	want(t, "stats l", st["l"], store.LaneStats{Queued: 3, Leased: 1})
	want(t, "stats m", st["m"], store.LaneStats{Queued: 1})
}

func testBinaryStrings(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	lane, key := "http:rp\x00main", "rp\x00+2507\xff"
	id, _, err := e.s.Enqueue(e.ctx, store.NewItem{Lane: lane, Key: key, Payload: []byte{0, 1, 2}, DedupKey: "d\x00", DedupTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	it := e.lease(lane, 1)
	if len(it) != 1 || it[0].Key != key || it[0].ID != id || string(it[0].Payload) != "\x00\x01\x02" {
		t.Fatalf("binary item = %+v", it)
	}
	if err := e.s.Dead(e.ctx, lane, id, it[0].Token, "bad \xff\x00 reason"); err != nil {
		t.Fatal(err)
	}
	dl, _ := e.s.ListDead(e.ctx, lane, 0)
	if len(dl) != 1 || dl[0].DeadReason != "bad \xff\x00 reason" {
		t.Fatalf("dead = %+v", dl)
	}
	if _, ok := e.s.Stats()[lane]; !ok {
		t.Fatal("no stats for binary lane")
	}
}
