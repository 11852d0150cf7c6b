package store

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

type leaseResult struct {
	items []Item
	err   error
}

func leaseWaitAsync(s *Store, ctx context.Context, lane string) <-chan leaseResult {
	ch := make(chan leaseResult, 1)
	go func() {
		items, err := s.LeaseWait(ctx, lane, 10)
		ch <- leaseResult{items, err}
	}()
	return ch
}

// blocked reports whether nothing has arrived on ch once every goroutine
// of the bubble is blocked.
func blocked(ch <-chan leaseResult) bool {
	synctest.Wait()
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func TestLeaseWaitWakesOnEnqueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := MustOpen(t, Options{})
		ch := leaseWaitAsync(s, t.Context(), "l")
		if !blocked(ch) {
			t.Fatal("LeaseWait returned on an empty lane")
		}
		MustEnqueue(t, s, "other", "x")
		if !blocked(ch) {
			t.Fatal("LeaseWait woke for another lane")
		}
		id := MustEnqueue(t, s, "l", "x")
		r := <-ch
		if r.err != nil || len(r.items) != 1 || r.items[0].ID != id {
			t.Fatalf("LeaseWait = %+v, %v", r.items, r.err)
		}
	})
}

func TestLeaseWaitWakesWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := MustOpen(t, Options{LeaseTTL: time.Hour})
		id := MustEnqueue(t, s, "l", "x")
		MustLease(t, s, "l", 1)
		if _, err := s.Retry(ctx, "l", id, tokenOf(s, id), "throttled", 30*time.Second); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ch := leaseWaitAsync(s, ctx, "l")
		time.Sleep(29 * time.Second)
		if !blocked(ch) {
			t.Fatal("LeaseWait returned before the item was due")
		}
		r := <-ch
		if r.err != nil || len(r.items) != 1 || time.Since(start) != 30*time.Second {
			t.Fatalf("LeaseWait = %+v, %v after %s; want the item after 30s", r.items, r.err, time.Since(start))
		}
		// The lease expiry wakes a waiter too.
		ch = leaseWaitAsync(s, ctx, "l")
		time.Sleep(time.Hour - time.Second)
		if !blocked(ch) {
			t.Fatal("LeaseWait returned before the lease expired")
		}
		if r := <-ch; r.err != nil || len(r.items) != 1 || r.items[0].ID != id {
			t.Fatalf("LeaseWait after lease expiry = %+v, %v", r.items, r.err)
		}
	})
}

func TestLeaseWaitEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := MustOpen(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		ch := leaseWaitAsync(s, ctx, "l")
		cancel()
		if r := <-ch; !errors.Is(r.err, context.Canceled) {
			t.Errorf("LeaseWait after cancel = %v", r.err)
		}
		ch = leaseWaitAsync(s, context.Background(), "l")
		synctest.Wait()
		s.Close()
		if r := <-ch; !errors.Is(r.err, ErrClosed) {
			t.Errorf("LeaseWait after Close = %v", r.err)
		}
	})
}

func TestRunSweeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := MustOpen(t, Options{ReassemblyTimeout: time.Minute})
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		MustAddPart(t, s, part(1, 2, "a"))
		ch := leaseWaitAsync(s, ctx, "in:a")
		time.Sleep(time.Minute + time.Second)
		r := <-ch
		if r.err != nil || len(r.items) != 1 {
			t.Fatalf("partial MO after timeout = %+v, %v", r.items, r.err)
		}
		if a := MustDecode(t, r.items[0].Payload); len(a.Missing) != 1 {
			t.Errorf("Missing = %v", a.Missing)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

// gather takes the calls that arrive within GatherDelay, and no later ones.
func TestGatherWaitsForMoreCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Store{ops: make(chan *op), opt: Options{GatherDelay: time.Second, MaxBatch: 100}}
		go func() {
			for range 3 {
				time.Sleep(100 * time.Millisecond)
				s.ops <- &op{}
			}
			time.Sleep(2 * time.Second)
			s.ops <- &op{} // too late for this batch
		}()
		batch := s.gather(make([]*op, gatherFrom))
		if len(batch) != gatherFrom+3 {
			t.Errorf("gathered %d calls, want %d (the 3 within the delay)", len(batch), gatherFrom+3)
		}
		<-s.ops
		// MaxBatch ends the wait at once.
		s.opt.MaxBatch = gatherFrom + 1
		go func() { s.ops <- &op{} }()
		start := time.Now()
		if batch := s.gather(make([]*op, gatherFrom)); len(batch) != gatherFrom+1 || time.Since(start) >= time.Second {
			t.Errorf("gather with a full batch = %d calls after %v", len(batch), time.Since(start))
		}
	})
}
