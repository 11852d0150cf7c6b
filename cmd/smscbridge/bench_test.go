package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// BenchmarkMOEndToEnd measures the whole daemon: deliver_sm from smsctest
// (10 in flight) → committed → acknowledged → POSTed to a stand-in RapidPro.
// It reports MO/s once every POST has arrived.
func BenchmarkMOEndToEnd(b *testing.B) {
	h := newHarness(b)
	h.waitBound()
	sm := &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "2349067554729",
		DestTON: 1, DestNPI: 1, DestAddr: rpNumber[1:], Message: []byte("benchmark MO text")}
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range work {
				if st, err := h.smsc.Deliver(context.Background(), sm); err != nil || st != pdu.StatusOK {
					b.Errorf("deliver_sm: %v %v", st, err)
					return
				}
			}
		})
	}
	wg.Wait()
	waitCount(b, func() int { return len(withPath(h.plat.all(), "/receive")) }, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MO/s")
}

// BenchmarkMTEndToEnd measures RapidPro send calls (10 concurrent) →
// committed → 200 → submit_sm to smsctest, until every submit has arrived.
func BenchmarkMTEndToEnd(b *testing.B) {
	h := newHarness(b)
	h.waitBound()
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for i := range work {
				body := url.Values{"id": {fmt.Sprint(i + 1)}, "text": {"benchmark MT text"}, "to": {"+250788123123"}}.Encode()
				if code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "", body); code != 200 {
					b.Errorf("send = %d %s", code, resp)
					return
				}
			}
		})
	}
	wg.Wait()
	waitCount(b, func() int { return len(h.smsc.Submits()) }, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MT/s")
}

func waitCount(b *testing.B, count func() int, n int) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for count() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d arrived", count(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
