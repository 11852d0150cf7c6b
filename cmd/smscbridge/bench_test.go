package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// benchContacts is how many different senders (MO) or recipients (MT) the
// end-to-end benchmarks spread their messages over: order is kept per
// contact, so one contact's messages go one at a time (see the
// OneContact variants).
const benchContacts = 1000

// BenchmarkMOEndToEnd measures the whole daemon: deliver_sm from smsctest
// (10 in flight) from benchContacts senders → committed → acknowledged →
// POSTed to a stand-in RapidPro. It reports MO/s once every POST has
// arrived.
func BenchmarkMOEndToEnd(b *testing.B) { benchMO(b, benchContacts) }

// BenchmarkMOEndToEndOneContact is BenchmarkMOEndToEnd with every MO from
// one sender: the throughput of one contact's ordered stream.
func BenchmarkMOEndToEndOneContact(b *testing.B) { benchMO(b, 1) }

// BenchmarkMOEndToEndNoTrace is BenchmarkMOEndToEnd with the message
// trace off ([store] trace_ttl = "0s"): the difference is the trace's cost.
func BenchmarkMOEndToEndNoTrace(b *testing.B) {
	benchMOWith(b, benchContacts, func(h *harness) { h.cfg.Store.TraceTTL.Duration = 0 })
}

// BenchmarkMOEndToEndPostgres1 is BenchmarkMOEndToEnd with the store on
// PostgreSQL (skipped without one: package pgtest), one node.
func BenchmarkMOEndToEndPostgres1(b *testing.B) { benchMOOn(b, benchContacts, pgNodes(b, 1)) }

// BenchmarkMOEndToEndPostgres2 is the same with two nodes sharing the
// database, each with its own bind (the SMSC spreads the MO over both).
func BenchmarkMOEndToEndPostgres2(b *testing.B) { benchMOOn(b, benchContacts, pgNodes(b, 2)) }

func benchMO(b *testing.B, contacts int) { benchMOWith(b, contacts, nil) }

func benchMOWith(b *testing.B, contacts int, mod func(*harness)) {
	h := newHarnessWith(b, mod)
	h.waitBound()
	benchMOOn(b, contacts, []*harness{h})
}

// benchMOOn runs on nodes sharing one store.
func benchMOOn(b *testing.B, contacts int, nodes []*harness) {
	h := nodes[0]
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	c0 := commits(h)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for i := range work {
				sm := &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: fmt.Sprint(2349067550000 + i%contacts),
					DestTON: 1, DestNPI: 1, DestAddr: rpNumber[1:], Message: []byte("benchmark MO text")}
				if st, err := h.smsc.Deliver(context.Background(), sm); err != nil || st != pdu.StatusOK {
					b.Errorf("deliver_sm: %v %v", st, err)
					return
				}
			}
		})
	}
	wg.Wait()
	waitCount(b, func() int { return h.plat.count("/receive") }, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MO/s")
	reportCommits(b, h, c0)
}

// BenchmarkMTEndToEnd measures RapidPro send calls (10 concurrent, to
// benchContacts recipients) → committed → 200 → submit_sm to smsctest,
// until every submit has arrived.
func BenchmarkMTEndToEnd(b *testing.B) { benchMT(b, benchContacts) }

// BenchmarkMTEndToEndOneContact is BenchmarkMTEndToEnd with every MT to one
// recipient.
func BenchmarkMTEndToEndOneContact(b *testing.B) { benchMT(b, 1) }

// BenchmarkMTEndToEndNoTrace is BenchmarkMTEndToEnd with the message
// trace off ([store] trace_ttl = "0s").
func BenchmarkMTEndToEndNoTrace(b *testing.B) {
	benchMTWith(b, benchContacts, func(h *harness) { h.cfg.Store.TraceTTL.Duration = 0 })
}

// BenchmarkMTEndToEndPostgres1 is BenchmarkMTEndToEnd with the store on
// PostgreSQL, one node.
func BenchmarkMTEndToEndPostgres1(b *testing.B) { benchMTOn(b, benchContacts, pgNodes(b, 1)) }

// BenchmarkMTEndToEndPostgres2 is the same with two nodes, the send calls
// spread over both nodes' HTTP listeners.
func BenchmarkMTEndToEndPostgres2(b *testing.B) { benchMTOn(b, benchContacts, pgNodes(b, 2)) }

func benchMT(b *testing.B, contacts int) { benchMTWith(b, contacts, nil) }

func benchMTWith(b *testing.B, contacts int, mod func(*harness)) {
	h := newHarnessWith(b, mod)
	h.waitBound()
	benchMTOn(b, contacts, []*harness{h})
}

// benchMTOn runs on nodes sharing one store.
func benchMTOn(b *testing.B, contacts int, nodes []*harness) {
	h := nodes[0]
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	c0 := commits(h)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for i := range work {
				body := url.Values{"id": {fmt.Sprint(i + 1)}, "text": {"benchmark MT text"}, "to": {fmt.Sprint("+250788", 100000+i%contacts)}}.Encode()
				if code, resp := nodes[i%len(nodes)].post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "", body); code != 200 {
					b.Errorf("send = %d %s", code, resp)
					return
				}
			}
		})
	}
	wg.Wait()
	waitCount(b, func() int { return h.smsc.Stats().Submits }, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MT/s")
	reportCommits(b, h, c0)
}

// BenchmarkKannelSendsms measures Kannel sendsms calls as courier makes
// them (10 concurrent, benchContacts recipients, each with its dlr-url) →
// committed → 202 → submit_sm to smsctest, until every submit has arrived.
// It also reports the mean time to the 202 answer.
func BenchmarkKannelSendsms(b *testing.B) {
	h := newHarnessWith(b, func(h *harness) { withKannel(h) })
	h.waitBound()
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	var answerNs atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for i := range work {
				uuid := fmt.Sprintf("0191e180-7d60-7000-aff4-%012d", i)
				q := courierSend(uuid, "benchmark MT text", fmt.Sprint("+250788", 100000+i%benchContacts))
				q.Set("dlr-url", h.plat.srv.URL+"/c/kn/"+knUUID+"/status?uuid="+uuid+"&status=%d")
				start := time.Now()
				if code, body := h.sendsms(q); code != 202 {
					b.Errorf("sendsms = %d %s", code, body)
					return
				}
				answerNs.Add(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	waitCount(b, func() int { return h.smsc.Stats().Submits }, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "MT/s")
	b.ReportMetric(float64(answerNs.Load())/float64(b.N)/1e6, "ms/answer")
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

// commits is how many commits h's bbolt store has made (-1 on PostgreSQL).
func commits(h *harness) int64 {
	if st, ok := h.d.store.(*store.Store); ok {
		return st.Commits()
	}
	return -1
}

// reportCommits reports the store commits per message since c0 (bbolt).
func reportCommits(b *testing.B, h *harness, c0 int64) {
	if c0 >= 0 {
		b.ReportMetric(float64(commits(h)-c0)/float64(b.N), "commits/msg")
	}
}
