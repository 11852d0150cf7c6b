package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// mItem is the model's view of one item.
type mItem struct {
	id, key      string
	dead, leased bool
	head         bool
	idx, nextDue int64 // as in record: time-index time; when due (or was)
	token        uint64
	staleTokens  []uint64
}

// TestKeyModel drives the store with random enqueues (under a few keys and
// without a key), leases, acks, retries, dead-letterings, requeues, clock
// steps and reopens, and checks every Lease against a simple model of the
// rules in design.md "Queue semantics": only heads, oldest due first (then
// id), a blocked key holds back only itself, promotion at max(due, now),
// requeue at the end, leases void after a reopen, stale tokens refused.
func TestKeyModel(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runKeyModel(t, seed) })
	}
}

func runKeyModel(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 12))
	clk := newClock()
	const ttl = 2 * time.Second
	o := Options{Path: filepath.Join(t.TempDir(), "q.db"), Now: clk.Now, LeaseTTL: ttl,
		Retry: RetryPolicy{MaxAttempts: -1, MaxAge: -1}}
	s := MustOpen(t, o)
	items := map[string]*mItem{}
	order := map[string][]string{} // key → ids in order (keyed items only)
	now := func() int64 { return clk.Now().UnixNano() }
	promote := func(key string) {
		if ids := order[key]; len(ids) > 0 {
			h := items[ids[0]]
			h.head, h.idx = true, max(h.nextDue, now())
			h.nextDue = h.idx
		}
	}
	remove := func(it *mItem) {
		it.leased = false
		if it.key == "" {
			return
		}
		order[it.key] = slices.DeleteFunc(order[it.key], func(id string) bool { return id == it.id })
		if it.head {
			it.head = false
			promote(it.key)
		}
	}
	add := func(it *mItem) {
		it.head, it.leased, it.nextDue, it.idx = true, false, now(), now()
		if it.key != "" {
			it.head = len(order[it.key]) == 0
			order[it.key] = append(order[it.key], it.id)
		}
	}
	pick := func(f func(*mItem) bool) *mItem {
		var c []*mItem
		for _, it := range items {
			if f(it) {
				c = append(c, it)
			}
		}
		if len(c) == 0 {
			return nil
		}
		slices.SortFunc(c, func(a, b *mItem) int { return cmp.Compare(a.id, b.id) })
		return c[rng.IntN(len(c))]
	}
	keys := []string{"", "a", "b", "c", "d"}
	for step := range 600 {
		switch r := rng.IntN(100); {
		case r < 30:
			key := keys[rng.IntN(len(keys))]
			id, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Key: key, Payload: []byte(fmt.Sprint(step))})
			if err != nil {
				t.Fatal(err)
			}
			it := &mItem{id: id, key: key}
			items[id] = it
			add(it)
		case r < 50:
			max := 1 + rng.IntN(4)
			got := MustLease(t, s, "l", max)
			var due []*mItem
			for _, it := range items {
				if !it.dead && it.head && it.idx <= now() {
					due = append(due, it)
				}
			}
			slices.SortFunc(due, func(a, b *mItem) int { return cmp.Or(cmp.Compare(a.idx, b.idx), cmp.Compare(a.id, b.id)) })
			due = due[:min(len(due), max)]
			var want, gotIDs []string
			for _, it := range due {
				want = append(want, it.id)
			}
			for _, it := range got {
				gotIDs = append(gotIDs, it.ID)
			}
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("step %d: Lease(%d) = %v, model wants %v", step, max, gotIDs, want)
			}
			for i, it := range due {
				if it.token != 0 {
					it.staleTokens = append(it.staleTokens, it.token)
				}
				it.leased, it.idx, it.token = true, now()+int64(ttl), got[i].Token
			}
		case r < 62:
			it := pick(func(it *mItem) bool { return it.leased })
			if it == nil {
				continue
			}
			if err := s.Ack(ctx, "l", it.id, it.token); err != nil {
				t.Fatalf("step %d: Ack = %v", step, err)
			}
			delete(items, it.id)
			remove(it)
		case r < 70:
			it := pick(func(it *mItem) bool { return it.leased })
			if it == nil {
				continue
			}
			delay := time.Duration(1+rng.IntN(3)) * time.Second
			if dead, err := s.Retry(ctx, "l", it.id, it.token, "x", delay); err != nil || dead {
				t.Fatalf("step %d: Retry = %v, %v", step, dead, err)
			}
			it.staleTokens = append(it.staleTokens, it.token)
			it.leased, it.token, it.idx = false, 0, now()+int64(delay)
			it.nextDue = it.idx
		case r < 76:
			it := pick(func(it *mItem) bool { return it.leased })
			if it == nil {
				continue
			}
			if err := s.Dead(ctx, "l", it.id, it.token, "x"); err != nil {
				t.Fatalf("step %d: Dead = %v", step, err)
			}
			remove(it)
			it.dead, it.token = true, 0
		case r < 82:
			it := pick(func(it *mItem) bool { return it.dead })
			if it == nil {
				continue
			}
			if err := s.Requeue(ctx, it.id); err != nil {
				t.Fatal(err)
			}
			it.dead = false
			add(it)
		case r < 88:
			it := pick(func(it *mItem) bool { return len(it.staleTokens) > 0 && !it.dead })
			if it == nil {
				continue
			}
			tok := it.staleTokens[rng.IntN(len(it.staleTokens))]
			if err := s.Ack(ctx, "l", it.id, tok); !errors.Is(err, ErrStaleLease) {
				t.Fatalf("step %d: Ack with stale token %d (current %d) = %v", step, tok, it.token, err)
			}
		case r < 98:
			clk.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		default:
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = MustOpen(t, o)
			for _, it := range items {
				if it.leased {
					it.leased, it.idx = false, min(it.nextDue, now())
				}
				if it.token != 0 {
					it.staleTokens = append(it.staleTokens, it.token)
					it.token = 0
				}
			}
		}
	}
	checkConsistent(t, s)
}
