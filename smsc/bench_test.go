package smsc_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// BenchmarkSubmit measures submit_sm round trips of one transceiver bind
// (window 10) against smsctest on loopback TCP, with many goroutines
// submitting at once. It reports submit_sm/s.
func BenchmarkSubmit(b *testing.B) {
	srv := smsctest.NewServer(smsctest.WithTB(b))
	defer srv.Close()
	c, err := smsc.New(smsc.Options{
		ID: "bench", Addr: srv.Addr(), SystemID: "bench", Window: 10,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := c.WaitBound(ctx); err != nil {
		b.Fatal(err)
	}
	msg := sm("benchmark message of ordinary length, forty-ish chars")
	b.SetParallelism(4) // 4 × GOMAXPROCS submitters compete for the window
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Submit(ctx, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submit_sm/s")
	if got := srv.MaxInflight(); got > 10 {
		b.Errorf("server saw %d outstanding, window is 10", got)
	}
}
