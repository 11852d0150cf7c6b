package pgstore

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// BenchmarkEnqueueAck32 is store.BenchmarkEnqueueAck32 on PostgreSQL: 32
// producers, each enqueueing an item (committed) and acking it
// (committed). One op is one enqueue plus one ack (two transactions).
func BenchmarkEnqueueAck32(b *testing.B) { benchEnqueueAck(b, 32, false) }

// BenchmarkEnqueueAck1 is the same with one producer.
func BenchmarkEnqueueAck1(b *testing.B) { benchEnqueueAck(b, 1, false) }

// BenchmarkEnqueueLeaseAck32 adds the lease: enqueue, lease, ack (three
// transactions per op), keyed by producer, as a lane worker does it.
func BenchmarkEnqueueLeaseAck32(b *testing.B) { benchEnqueueAck(b, 32, true) }

func benchEnqueueAck(b *testing.B, producers int, lease bool) {
	dsn := testDSN(b)
	s := mustOpen(b, Options{DSN: dsn, Schema: testSchema(b, dsn), MaxConns: producers + 2})
	ctx := context.Background()
	payload := make([]byte, 200)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			lane := fmt.Sprint("mt:", p%4)
			if lease { // a lane of its own: the lease finds this producer's item
				lane = fmt.Sprint("mt:", p)
			}
			key := fmt.Sprint("k", p)
			if os.Getenv("BENCH_NOKEY") != "" {
				key = ""
			}
			for next.Add(1) <= int64(b.N) {
				id, _, err := s.Enqueue(ctx, store.NewItem{Lane: lane, Key: key, Payload: payload})
				if err != nil {
					b.Error(err)
					return
				}
				var token uint64
				if lease {
					items, err := s.Lease(ctx, lane, 1)
					if err != nil || len(items) == 0 {
						b.Error("lease", err)
						return
					}
					id, token = items[0].ID, items[0].Token
				}
				if err := s.Ack(ctx, lane, id, token); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pairs/s")
	b.ReportMetric(float64(2*b.N)/float64(s.batches.Load()), "calls/batch")
}
