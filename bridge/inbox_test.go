package bridge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// The tests of the lanes' inbox (inbox.go). Each runs one lane (Bridge.work)
// over a real store inside a synctest bubble, so "at once" and "before the
// lease expiry" are checked on the fake clock, not by timing.

const inboxLane = "http:x"

// inboxQueue is a store that counts the lane's lease calls and the items
// they hand out (an item that reached the lane through its inbox was handed
// out by none of them), and can hold an Add after its commit (afterAdd).
type inboxQueue struct {
	*store.Store
	leaseWaits atomic.Int32
	leaseDues  atomic.Int32
	leased     atomic.Int32           // items handed out by LeaseWait and LeaseDue
	afterAdd   func(it store.NewItem) // set before the lane starts; runs after Add's commit
}

func (q *inboxQueue) LeaseWait(ctx context.Context, lane string, max int) ([]store.Item, error) {
	q.leaseWaits.Add(1)
	items, err := q.Store.LeaseWait(ctx, lane, max)
	q.leased.Add(int32(len(items)))
	return items, err
}

func (q *inboxQueue) LeaseDue(ctx context.Context, lane string, max int) ([]store.Item, error) {
	q.leaseDues.Add(1)
	items, err := q.Store.LeaseDue(ctx, lane, max)
	q.leased.Add(int32(len(items)))
	return items, err
}

func (q *inboxQueue) Add(ctx context.Context, it store.NewItem) (store.Added, error) {
	a, err := q.Store.Add(ctx, it)
	if q.afterAdd != nil {
		q.afterAdd(it)
	}
	return a, err
}

// inboxRig is a Bridge over a fresh store, with one lane (inboxLane) once
// start has been called. Use it inside a synctest bubble.
type inboxRig struct {
	st     *store.Store
	q      *inboxQueue
	b      *Bridge
	cancel context.CancelFunc
	done   chan struct{}
	stop   func() // ends the lane, opens every gate and waits until work returns; idempotent
	opens  []func()

	mu     sync.Mutex
	worked []store.Item // items as fn received them, in order
}

func newInboxRig(t *testing.T) *inboxRig {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "q.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := &inboxQueue{Store: st}
	logs := &lockedBuffer{}
	b, err := New(Options{Queue: q, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s := logs.String(); s != "" {
			t.Errorf("the lane logged warnings or errors (a failed lease, a refused token, an item left to its lease expiry):\n%s", s)
		}
	})
	return &inboxRig{st: st, q: q, b: b}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs the lane with slots slots; fn is called after the item is
// recorded in worked. It returns once the lane waits for work.
func (r *inboxRig) start(t *testing.T, slots int, fn func(ctx context.Context, it store.Item)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel, r.done = cancel, make(chan struct{})
	r.stop = sync.OnceFunc(func() {
		cancel()
		for _, open := range r.opens {
			open()
		}
		<-r.done
	})
	go func() {
		defer close(r.done)
		r.b.work(ctx, lane{name: inboxLane, slots: slots, fn: func(ctx context.Context, it store.Item) {
			r.mu.Lock()
			r.worked = append(r.worked, it)
			r.mu.Unlock()
			fn(ctx, it)
		}})
	}()
	synctest.Wait()
	if r.b.inbox(inboxLane) == nil {
		t.Fatal("the running lane has no inbox")
	}
}

// gate returns a channel that blocks until open is called (or the lane is
// stopped with stop, so that a failed test does not leave fn blocked).
func (r *inboxRig) gate() (ch chan struct{}, open func()) {
	ch = make(chan struct{})
	open = sync.OnceFunc(func() { close(ch) })
	r.opens = append(r.opens, open)
	return ch, open
}

// add queues an item of the lane through Bridge.add and waits until the
// bubble is idle again.
func (r *inboxRig) add(t *testing.T, key, payload string) string {
	t.Helper()
	id, err := r.b.add(t.Context(), store.NewItem{Lane: inboxLane, Key: key, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	return id
}

// payloads returns the payloads of the items worked so far, in order.
func (r *inboxRig) payloads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, it := range r.worked {
		out = append(out, string(it.Payload))
	}
	return out
}

func (r *inboxRig) stats() store.LaneStats { return r.st.Stats()[inboxLane] }

// waitEmpty waits (on the fake clock, well short of the store's LeaseTTL)
// until the lane has nothing queued.
func (r *inboxRig) waitEmpty(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); r.stats().Queued > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("lane still has %+v a minute on; worked %q", r.stats(), r.payloads())
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
	}
}

// TestInboxHandsAddedItemToLane: an item added while the lane has a free
// slot reaches the lane's fn through the inbox: claimed in Add's commit, not
// handed out by a lease call (no LeaseDue, no LeaseWait beyond the one
// waiting before and the one waiting after it), and with a token the store
// accepts (its completion succeeds and empties the lane).
func TestInboxHandsAddedItemToLane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newInboxRig(t)
		var ok []bool
		r.start(t, 2, func(ctx context.Context, it store.Item) {
			done := r.b.complete(ctx, it, store.Completion{})
			r.mu.Lock()
			ok = append(ok, done)
			r.mu.Unlock()
		})
		defer r.stop()
		waits := r.q.leaseWaits.Load()
		id := r.add(t, "k", "a")
		r.mu.Lock()
		worked, completed := slices.Clone(r.worked), slices.Clone(ok)
		r.mu.Unlock()
		if len(worked) != 1 {
			t.Fatalf("fn got %d items at once after the add, want 1 (the lane waits for the inbox)", len(worked))
		}
		if it := worked[0]; it.ID != id || string(it.Payload) != "a" || it.Token == 0 {
			t.Errorf("fn got %s %q token %d, want %s \"a\" with a lease token", it.ID, it.Payload, it.Token, id)
		}
		if !completed[0] {
			t.Error("the completion of the claimed item failed (its token was refused)")
		}
		if s := r.stats(); s != (store.LaneStats{}) {
			t.Errorf("lane stats after the completion = %+v, want empty", s)
		}
		if n := r.q.leased.Load(); n != 0 {
			t.Errorf("lease calls handed out %d items, want 0 (the item came through the inbox)", n)
		}
		if n := r.q.leaseDues.Load(); n != 0 {
			t.Errorf("%d LeaseDue calls, want 0", n)
		}
		if n := r.q.leaseWaits.Load() - waits; n > 1 {
			t.Errorf("%d LeaseWait calls for the item, want at most 1 (waiting for the next)", n)
		}
		r.stop()
	})
}

// TestInboxFullQueuesTheRest: with every slot busy, items beyond the
// inbox's capacity are queued unclaimed (the store holds no more leases
// than slots + capacity); a place reserved for an item the store did not
// claim (not its key's head) is given back; once the slots free, every item
// is worked exactly once, each key's items in the order they were added.
func TestInboxFullQueuesTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slots = 2
		r := newInboxRig(t)
		release, open := r.gate()
		r.start(t, slots, func(ctx context.Context, it store.Item) {
			<-release
			if !r.b.complete(ctx, it, store.Completion{}) {
				t.Errorf("completion of %q failed", it.Payload)
			}
		})
		defer r.stop()
		r.add(t, "a", "a0")
		r.add(t, "b", "b0")
		if got := r.payloads(); len(got) != slots {
			t.Fatalf("worked %q, want the first %d items in the slots", got, slots)
		}
		// Slots busy. a1 and a2 wait behind a0 (not claimed: their places
		// are given back); c0 and d0 fill the inbox; e0 finds no place.
		for _, p := range []string{"a1", "a2", "c0", "d0", "e0", "a3"} {
			r.add(t, p[:1], p)
		}
		ib := r.b.inbox(inboxLane)
		if len(ib.ch) != cap(ib.ch) || cap(ib.ch) != slots {
			t.Errorf("inbox holds %d of %d, want it full with %d (c0, d0)", len(ib.ch), cap(ib.ch), slots)
		}
		if s := r.stats(); s.Queued != 8 || s.Leased != slots+cap(ib.ch) {
			t.Errorf("lane stats with the slots busy = %+v, want 8 queued, %d leased (slots + inbox capacity)", s, slots+cap(ib.ch))
		}
		if got := r.payloads(); len(got) != slots {
			t.Errorf("worked %q with every slot busy", got)
		}
		open()
		r.waitEmpty(t)
		got := r.payloads()
		r.stop()
		want := []string{"a0", "a1", "a2", "a3", "b0", "c0", "d0", "e0"}
		if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, want) {
			t.Errorf("worked %q, want each of %q exactly once", got, want)
		}
		var keyA []string
		for _, p := range got {
			if p[0] == 'a' {
				keyA = append(keyA, p)
			}
		}
		if !slices.Equal(keyA, want[:4]) {
			t.Errorf("key a worked in the order %q, want %q", keyA, want[:4])
		}
		if s := r.stats(); s != (store.LaneStats{}) {
			t.Errorf("lane stats at the end = %+v, want empty", s)
		}
	})
}

// TestInboxWakesLeaseWait: a lane waiting in LeaseWait with nothing due (its
// only item is due in an hour) starts an item claimed into its inbox at
// once: no time passes on the fake clock. Without the inbox's wake-up the
// lane would sleep on until the claimed item's lease expired (LeaseTTL) and
// then lease it again.
func TestInboxWakesLeaseWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newInboxRig(t)
		ctx := t.Context()
		if _, _, err := r.st.Enqueue(ctx, store.NewItem{Lane: inboxLane, Key: "later", Payload: []byte("later")}); err != nil {
			t.Fatal(err)
		}
		items, err := r.st.Lease(ctx, inboxLane, 1)
		if err != nil || len(items) != 1 {
			t.Fatalf("Lease = %v, %v", items, err)
		}
		if _, err := r.st.Complete(ctx, store.Completion{Lane: inboxLane, ID: items[0].ID, Token: items[0].Token,
			Retry: &store.RetrySpec{Cause: "later", Delay: time.Hour, Wait: true}}); err != nil {
			t.Fatal(err)
		}
		worked := make(chan store.Item, 2)
		r.start(t, 1, func(ctx context.Context, it store.Item) {
			worked <- it
			r.b.complete(ctx, it, store.Completion{})
		})
		defer r.stop()
		if n := r.q.leaseWaits.Load(); n != 1 {
			t.Fatalf("%d LeaseWait calls before the add, want the lane waiting in 1", n)
		}
		start := time.Now()
		id, err := r.b.add(ctx, store.NewItem{Lane: inboxLane, Key: "now", Payload: []byte("now")})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case it := <-worked:
			if it.ID != id {
				t.Errorf("worked %q first, want the added item", it.Payload)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("the added item was worked %s after its add, want at once (LeaseTTL is %s)", d, 5*time.Minute)
			}
		case <-time.After(30 * time.Minute):
			t.Fatal("the added item was not worked within 30 minutes")
		}
		if n := r.q.leased.Load(); n != 0 {
			t.Errorf("lease calls handed out %d items, want 0 (the item came through the inbox)", n)
		}
		r.stop()
	})
}

// TestInboxDoesNotStarveStore: while the inbox keeps receiving items (each
// item worked adds another, claimed into the inbox), the items that were
// already due in the store are worked too, in turns with the inbox's; and
// the inbox's first item is not held back behind the store's either.
func TestInboxDoesNotStarveStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const old, budget = 3, 20
		r := newInboxRig(t)
		for i := range old {
			p := fmt.Sprint("old", i)
			if _, _, err := r.st.Enqueue(t.Context(), store.NewItem{Lane: inboxLane, Key: p, Payload: []byte(p)}); err != nil {
				t.Fatal(err)
			}
		}
		var added atomic.Int32
		r.start(t, 1, func(ctx context.Context, it store.Item) {
			if n := added.Add(1) - 1; n < budget {
				p := fmt.Sprint("new", n)
				if _, err := r.b.add(ctx, store.NewItem{Lane: inboxLane, Key: p, Payload: []byte(p)}); err != nil {
					t.Error(err)
				}
			}
			if !r.b.complete(ctx, it, store.Completion{}) {
				t.Errorf("completion of %q failed", it.Payload)
			}
		})
		defer r.stop()
		r.waitEmpty(t)
		got := r.payloads()
		leased := r.q.leased.Load()
		r.stop()
		if len(got) != old+budget {
			t.Fatalf("worked %d items, want %d: %q", len(got), old+budget, got)
		}
		if leased >= int32(len(got)) {
			t.Fatalf("all %d items were handed out by lease calls: the inbox was not used", leased)
		}
		first := got[:2*old]
		for i := range old {
			if p := fmt.Sprint("old", i); !slices.Contains(first, p) {
				t.Errorf("%s, due in the store from the start, was not among the first %d items worked: %q", p, 2*old, got)
			}
		}
		if !slices.Contains(first, "new0") {
			t.Errorf("new0, claimed into the inbox first, was not among the first %d items worked: %q", 2*old, got)
		}
	})
}

// TestInboxStopGivesItemsBack: when the lane stops, the claimed items left
// in its inbox, and one put there by a producer after the lane stopped (it
// reserved its place before), go back to the store due at once (not after
// LeaseTTL) and without an attempt counted; an item added after the stop is
// not claimed at all.
func TestInboxStopGivesItemsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slots = 2
		r := newInboxRig(t)
		gate, openGate := r.gate()
		r.q.afterAdd = func(it store.NewItem) {
			if string(it.Payload) == "d0" {
				<-gate // d0 is claimed; its producer has not put it yet
			}
		}
		release, openRelease := r.gate()
		r.start(t, slots, func(ctx context.Context, it store.Item) {
			<-release
			r.b.complete(ctx, it, store.Completion{})
		})
		defer r.stop()
		r.add(t, "a", "a0")
		r.add(t, "b", "b0")
		r.add(t, "c", "c0") // slots busy: c0 waits in the inbox
		added := make(chan error, 1)
		go func() {
			_, err := r.b.add(t.Context(), store.NewItem{Lane: inboxLane, Key: "d", Payload: []byte("d0")})
			added <- err
		}()
		synctest.Wait()
		if s := r.stats(); s.Leased != 4 {
			t.Fatalf("lane stats = %+v, want 4 leased (a0, b0 in the slots, c0 in the inbox, d0 claimed)", s)
		}
		r.cancel()
		synctest.Wait() // the lane has closed its inbox; a0 and b0 are still being worked
		openGate()
		if err := <-added; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if r.b.inbox(inboxLane) != nil {
			t.Error("the stopped lane's inbox is still registered")
		}
		r.add(t, "e", "e0")
		if s := r.stats(); s.Queued != 5 || s.Leased != 2 {
			t.Errorf("lane stats after the stop = %+v, want 5 queued, 2 leased (a0, b0 only)", s)
		}
		time.Sleep(time.Millisecond) // past unclaim's 1 ns, far short of LeaseTTL
		items, err := r.st.Lease(t.Context(), inboxLane, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, string(it.Payload))
			if it.Attempts != 0 {
				t.Errorf("%s has %d attempts after it was given back, want 0", it.Payload, it.Attempts)
			}
		}
		if slices.Sort(got); !slices.Equal(got, []string{"c0", "d0", "e0"}) {
			t.Errorf("Lease right after the stop = %q, want c0, d0 (given back) and e0", got)
		}
		openRelease()
		<-r.done
		if got := r.payloads(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"a0", "b0"}) {
			t.Errorf("the stopped lane worked %q, want a0 and b0 only", got)
		}
	})
}

// TestInboxWaitContext: the context of one LeaseWait ends when an item is
// put into the inbox while it waits, and at once when one is there already
// (put between the lane's look at its inbox and its wait: no wake-up is
// lost); stop says whether an arrival ended it.
func TestInboxWaitContext(t *testing.T) {
	ctx := t.Context()
	put := func(ib *inbox, id string) {
		t.Helper()
		if !ib.reserve() || !ib.put(store.Item{ID: id}) {
			t.Fatalf("no place for %s", id)
		}
	}

	ib := newInbox(2)
	wctx, stop := ib.waitContext(ctx)
	if wctx.Err() != nil {
		t.Fatal("the wait ended with nothing in the inbox")
	}
	put(ib, "1")
	if wctx.Err() == nil {
		t.Error("an item put during the wait did not end it")
	}
	if !stop() {
		t.Error("stop did not report the arrival")
	}

	// "1" is still there (not taken): the next wait ends at once.
	wctx, stop = ib.waitContext(ctx)
	if wctx.Err() == nil {
		t.Error("a wait with an item already in the inbox did not end at once")
	}
	if !stop() {
		t.Error("stop did not report the waiting item")
	}

	if got := ib.take(nil, 2); len(got) != 1 || got[0].ID != "1" {
		t.Fatalf("take = %v, want item 1", got)
	}
	pctx, cancel := context.WithCancel(ctx)
	wctx, stop = ib.waitContext(pctx)
	cancel()
	if wctx.Err() == nil {
		t.Error("the wait outlived its parent context")
	}
	if stop() {
		t.Error("stop reported an arrival when the parent context ended the wait")
	}
	put(ib, "2") // no wait running: no wake to call
	if got := ib.close(); len(got) != 1 || got[0].ID != "2" {
		t.Errorf("close = %v, want item 2 back", got)
	}
	if ib.reserve() && ib.put(store.Item{ID: "3"}) {
		t.Error("put after close was accepted")
	}
}
