package pgstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/storetest"
)

// Two nodes on one database: each records its hops of the same messages,
// and either node's Trace shows every hop, in time order.
func TestTraceAcrossNodes(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	clk := storetest.NewClock()
	open := func(node string) *Store {
		return mustOpen(t, Options{Options: store.Options{Now: clk.Now}, DSN: dsn, Schema: schema, Node: node})
	}
	a, b := open("a"), open("b")
	a.Record(store.TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "http_in"})
	clk.Add(time.Millisecond)
	b.Record(store.TraceEvent{ID: "mt1", Hop: "submit_sm", Attempt: 1})
	clk.Add(time.Millisecond)
	a.Record(store.TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "receipt"})
	clk.Add(time.Millisecond)
	b.Record(store.TraceEvent{ID: "mo1", Number: "250788123123", Hop: "deliver_sm"})
	const want = "[mt1/http_in mt1/submit_sm mt1/receipt mo1/deliver_sm]"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ea, errA := a.Trace(ctx, "+250 788 123 123", 0)
		eb, errB := b.Trace(ctx, "250788123123", 0)
		if fmt.Sprint(storetest.Hops(ea)) == want && fmt.Sprint(storetest.Hops(eb)) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node a's Trace = %v, %v; node b's = %v, %v; want %s from both",
				storetest.Hops(ea), errA, storetest.Hops(eb), errB, want)
		}
	}
	for _, s := range []*Store{a, b} {
		if evs, err := s.Trace(ctx, "uuid-1", 0); fmt.Sprint(storetest.Hops(evs)) != "[mt1/http_in mt1/submit_sm mt1/receipt]" || err != nil {
			t.Errorf("%s: Trace(uuid-1) = %v, %v", s.opt.Node, storetest.Hops(evs), err)
		}
	}
}

// The events are written by Open's goroutine, without Run or any other
// call, and at the latest by Close.
func TestTraceFlushedWithoutRun(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	o := Options{DSN: dsn, Schema: schema, Node: "a"}
	s := mustOpen(t, o)
	s.Record(store.TraceEvent{ID: "m1", Hop: "http_in"})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if evs, _ := s.Trace(ctx, "m1", 0); len(evs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorded event was never written")
		}
	}
	s.trace.flushMu.Lock() // hold the loop back: only Close may write m2
	s.Record(store.TraceEvent{ID: "m2", Hop: "http_in"})
	s.trace.flushMu.Unlock()
	s.Close()
	s = mustOpen(t, o)
	if evs, err := s.Trace(ctx, "m2", 0); len(evs) != 1 || err != nil {
		t.Errorf("after Close, Trace(m2) = %v, %v; want the event written", storetest.Hops(evs), err)
	}
}

// Beyond store.TraceBuffer events waiting, Record drops and counts them;
// a failed write keeps them for the next round within the same bound.
func TestTraceRecordBounded(t *testing.T) {
	s := mustOpen(t, Options{DSN: testDSN(t), Schema: testSchema(t, testDSN(t)), Node: "a"})
	s.trace.flushMu.Lock() // no write meanwhile
	for range store.TraceBuffer + 10 {
		s.Record(store.TraceEvent{ID: "x", Hop: "http_in"})
	}
	defer s.trace.flushMu.Unlock()
	if got := s.TraceDropped(); got != 10 {
		t.Errorf("TraceDropped = %d, want 10", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.flushTraceLocked(ctx); err == nil { // a write that fails
		t.Fatal("flushTrace with a cancelled context succeeded")
	}
	s.Record(store.TraceEvent{ID: "x", Hop: "http_in"})
	if got := s.TraceDropped(); got != 11 {
		t.Errorf("after a failed write, TraceDropped = %d, want 11 (the events kept, the buffer still full)", got)
	}
}
