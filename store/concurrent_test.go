package store

import (
	"context"
	"fmt"
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
					if err := s.Ack(ctx, lane, it.ID); err != nil {
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
