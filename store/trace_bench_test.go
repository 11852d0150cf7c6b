package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkWriteTrace is the trace's write path: events recorded (Record)
// and written by flushTrace in batches of 1000, as Run writes them every
// traceFlush under load. Each message has four events: its entry (http_in,
// indexed by id, platform id and number), submit_sm, receipt and callback
// (indexed by id). Reported: events written per second; allocs are per
// event.
func BenchmarkWriteTrace(b *testing.B) {
	s := MustOpen(b, Options{})
	ctx := context.Background()
	const batch = 1000
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		id := "0191e180-7d60-7000-aded-" + strconv.Itoa(100000000000+i/4)
		ev := TraceEvent{At: at.Add(time.Duration(i) * time.Microsecond), ID: id, SMSC: "smsc-a"}
		switch i % 4 {
		case 0:
			ev.Hop, ev.Ref, ev.Number, ev.Channel = "http_in", "8a6f3d2e-"+strconv.Itoa(i), "+250788123123", "rp-main"
			ev.Detail = "queued in mt:smsc-a, 1 part"
		case 1:
			ev.Hop, ev.Attempt, ev.Detail = "submit_sm", 1, "message_id 1f2e3d4c"
		case 2:
			ev.Hop, ev.Detail = "receipt", "DELIVRD"
		case 3:
			ev.Hop, ev.Channel, ev.Detail = "callback", "rp-main", "delivered POST https://rp.example.org/c/ex/… → 200"
		}
		s.Record(ev)
		if (i+1)%batch == 0 || i == b.N-1 {
			if err := s.flushTrace(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
