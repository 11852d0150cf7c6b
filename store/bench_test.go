package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEnqueueAck32 is the group-commit target: 32 producers, each
// enqueueing an item (durable) and acking it (durable). One op is one
// enqueue plus one ack. Reported: ops/s and the p99 latency of a single
// Enqueue under that load.
func BenchmarkEnqueueAck32(b *testing.B) {
	benchEnqueueAck(b, 32, Options{})
}

// BenchmarkEnqueueAck1 is the same with one producer: one fsync per call.
func BenchmarkEnqueueAck1(b *testing.B) {
	benchEnqueueAck(b, 1, Options{})
}

// BenchmarkEnqueueAck32Batch16 caps transactions at 16 calls.
func BenchmarkEnqueueAck32Batch16(b *testing.B) {
	benchEnqueueAck(b, 32, Options{MaxBatch: 16})
}

func benchEnqueueAck(b *testing.B, producers int, o Options) {
	s := MustOpen(b, o)
	ctx := context.Background()
	payload := make([]byte, 200)
	var next atomic.Int64
	lat := make([][]time.Duration, producers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			lane := fmt.Sprint("mt:", p%4)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				id, _, err := s.Enqueue(ctx, NewItem{Lane: lane, Payload: payload})
				lat[p] = append(lat[p], time.Since(t0))
				if err != nil {
					b.Error(err)
					return
				}
				if err := s.Ack(ctx, lane, id, 0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	st := s.db.Stats()
	b.ReportMetric(float64(st.TxStats.GetWrite())/float64(b.N), "writes/op")
	b.ReportMetric(float64(s.commits.Load())/float64(b.N), "commits/op")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-enqueue-ms")
	}
}

// BenchmarkLease measures Lease+Ack from a lane with 10,000 items waiting
// in another lane's index (the time index keeps them out of the way).
func BenchmarkLeaseAck(b *testing.B) {
	s := MustOpen(b, Options{})
	ctx := context.Background()
	fill(b, s, "other", 10000)
	fill(b, s, "l", b.N)
	b.ResetTimer()
	for range b.N {
		items, err := s.Lease(ctx, "l", 1)
		if err != nil || len(items) != 1 {
			b.Fatal(len(items), err)
		}
		if err := s.Ack(ctx, "l", items[0].ID, items[0].Token); err != nil {
			b.Fatal(err)
		}
	}
}

// fill enqueues n items through 64 concurrent producers.
func fill(tb testing.TB, s *Store, lane string, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, _, err := s.Enqueue(context.Background(), NewItem{Lane: lane, Payload: make([]byte, 100)}); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkFlowKeyed is a lane at work: 32 producers enqueue into one lane
// under 256 ordering keys while 16 workers lease (one item each, like a
// lane engine refilling a slot) and ack. One op is one item through
// enqueue, lease and ack. BenchmarkFlowUnkeyed is the same with Key "".
func BenchmarkFlowKeyed(b *testing.B) {
	benchFlow(b, func(p, i int) string { return fmt.Sprint("k", (p*7+i)%256) })
}

func BenchmarkFlowUnkeyed(b *testing.B) {
	benchFlow(b, func(int, int) string { return "" })
}

func benchFlow(b *testing.B, key func(p, i int) string) {
	s := MustOpen(b, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	payload := make([]byte, 200)
	var next atomic.Int64
	var acked atomic.Int64
	done := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range 32 {
		wg.Go(func() {
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				if _, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Key: key(p, i), Payload: payload}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				items, err := s.LeaseWait(ctx, "l", 1)
				if err != nil {
					return
				}
				for _, it := range items {
					if err := s.Ack(ctx, "l", it.ID, it.Token); err != nil {
						b.Error(err)
						return
					}
					if acked.Add(1) == int64(b.N) {
						close(done)
					}
				}
			}
		})
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Error("timed out")
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
	b.ReportMetric(float64(s.commits.Load())/float64(b.N), "commits/item")
	ts := s.db.Stats().TxStats
	b.ReportMetric(float64(ts.GetWrite())/float64(s.commits.Load()), "page-writes/commit")
}
