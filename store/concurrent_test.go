package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Concurrent producers and consumers: every item is handed out exactly
// once (no lease expires here) and the store ends empty.
func TestConcurrentEnqueueLeaseAck(t *testing.T) {
	const producers, each, lanes = 16, 100, 4
	s := MustOpen(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		got  = map[string]int{}
		done = make(chan struct{})
	)
	var consumers sync.WaitGroup
	for c := range lanes * 2 {
		lane := fmt.Sprint("l", c%lanes)
		consumers.Go(func() {
			for {
				items, err := s.LeaseWait(ctx, lane, 8)
				if err != nil {
					return
				}
				for _, it := range items {
					if err := s.Ack(ctx, lane, it.ID, it.Token); err != nil {
						t.Errorf("Ack(%s) = %v", it.ID, err)
					}
					mu.Lock()
					got[string(it.Payload)]++
					if len(got) == producers*each {
						close(done)
					}
					mu.Unlock()
				}
			}
		})
	}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				MustEnqueue(t, s, fmt.Sprint("l", (p+i)%lanes), fmt.Sprint(p, "-", i))
			}
		})
	}
	wg.Wait()
	<-done
	cancel()
	consumers.Wait()
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s handed out %d times", k, n)
		}
	}
	if st := s.Stats(); len(st) != 0 {
		t.Errorf("Stats = %+v, want empty", st)
	}
	checkConsistent(t, s)
}

// Under steady traffic (everything enqueued is acked) the file stops
// growing: bbolt reuses the pages acked items freed.
func TestFileSizeSteady(t *testing.T) {
	path := t.TempDir() + "/q.db"
	s := MustOpen(t, Options{Path: path})
	ctx := context.Background()
	var sizes []int64
	for range 8 {
		fill(t, s, "l", 500)
		items, err := s.List(ctx, "l", 0)
		if err != nil {
			t.Fatal(err)
		}
		ackAll(t, s, items)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	if sizes[len(sizes)-1] > sizes[2] {
		t.Errorf("file grew under steady traffic: sizes %v", sizes)
	}
	t.Logf("file sizes per round: %v", sizes)
}

// A receipt mapping is visible to MatchReceipt as soon as the Complete that
// wrote it has returned, whatever else is committing at the same time.
func TestReceiptVisibleAfterComplete(t *testing.T) {
	s := MustOpen(t, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 10 {
				id := MustEnqueue(t, s, "mt", "x")
				msgID := fmt.Sprint(g, "-", i)
				if _, err := s.Complete(ctx, Completion{Lane: "mt", ID: id, Receipts: []Receipt{{SMSC: "a", MsgID: msgID, Channel: "c"}}}); err != nil {
					t.Error(err)
					return
				}
				r, ok, err := s.MatchReceipt(ctx, "a", msgID)
				if err != nil || !ok || r.ItemID != id || r.Channel != "c" {
					t.Errorf("MatchReceipt(%s) right after Complete = %+v, %v, %v", msgID, r, ok, err)
				}
			}
		})
	}
	wg.Wait()
}
