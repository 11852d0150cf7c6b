package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// Hops shows events as id/hop, for comparisons.
func Hops(evs []store.TraceEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID+"/"+e.Hop)
	}
	return out
}

// Recorded trace events are written (here by Close), survive a reopen,
// and are found by message id, platform id and number (by its digits),
// with the events of the message ids the number leads to; later hops are
// found through their message id only.
func testTraceRecordAndFind(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	e.s.Record(store.TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "http_in"})
	e.clk.Add(time.Millisecond)
	e.s.Record(store.TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "submit_sm", Attempt: 1, Detail: "message_id 7"})
	e.clk.Add(time.Millisecond)
	e.s.Record(store.TraceEvent{ID: "mt2", Number: "+44 7700 900000", Hop: "http_in"})
	e.clk.Add(time.Millisecond)
	e.s.Record(store.TraceEvent{Ref: "orphan", Number: "+44 7700 900000", Hop: "receipt"}) // no id: found by ref and number
	e.clk.Add(time.Millisecond)
	e.s.Record(store.TraceEvent{ID: "mt3", Ref: "mt3", Hop: "http_in"}) // ref = id: one key
	e.reopen()
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"mt1", "[mt1/http_in mt1/submit_sm]"},
		{" mt1 ", "[mt1/http_in mt1/submit_sm]"},
		{"uuid-1", "[mt1/http_in mt1/submit_sm]"},
		{"250788123123", "[mt1/http_in mt1/submit_sm]"},
		{"+250788123123", "[mt1/http_in mt1/submit_sm]"},
		{"447700900000", "[mt2/http_in /receipt]"},
		{"orphan", "[/receipt]"},
		{"mt3", "[mt3/http_in]"},
		{"nothing", "[]"},
		{"", "[]"},
	} {
		evs, err := e.s.Trace(e.ctx, tc.q, 0)
		if got := fmt.Sprint(Hops(evs)); err != nil || got != tc.want {
			t.Errorf("Trace(%q) = %s, %v; want %s", tc.q, got, err, tc.want)
		}
	}
	evs, _ := e.s.Trace(e.ctx, "mt1", 0)
	if len(evs) != 2 || evs[1].Attempt != 1 || evs[1].Detail != "message_id 7" || !evs[1].At.Equal(e.clk.Now().Add(-3*time.Millisecond)) {
		t.Errorf("events = %+v", evs)
	}
	if evs, _ := e.s.Trace(e.ctx, "mt1", 1); fmt.Sprint(Hops(evs)) != "[mt1/submit_sm]" {
		t.Errorf("Trace(mt1, limit 1) = %v, want the latest event", Hops(evs))
	}
}

// Sweep writes events recorded while nothing else commits, drops events
// older than TraceTTL, and keeps at most TraceMax (the oldest go).
func testTraceSweepBounds(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{TraceTTL: time.Hour, TraceMax: 3})
	e.s.Record(store.TraceEvent{ID: "old", Hop: "http_in"})
	if err := e.s.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	if evs, _ := e.s.Trace(e.ctx, "old", 0); len(evs) != 1 {
		t.Fatalf("after Sweep, Trace(old) = %v, want the event written", evs)
	}
	e.clk.Add(2 * time.Hour)
	for i := range 5 {
		e.s.Record(store.TraceEvent{ID: fmt.Sprint("m", i), Number: "123", Hop: "http_in"})
		e.clk.Add(time.Second)
	}
	if err := e.s.Sweep(e.ctx); err != nil { // writes the 5
		t.Fatal(err)
	}
	if err := e.s.Sweep(e.ctx); err != nil { // expires "old", caps at 3
		t.Fatal(err)
	}
	for q, want := range map[string]int{"old": 0, "m0": 0, "m1": 0, "m2": 1, "m4": 1, "123": 3} {
		if evs, _ := e.s.Trace(e.ctx, q, 0); len(evs) != want {
			t.Errorf("Trace(%s) = %v, want %d event(s)", q, Hops(evs), want)
		}
	}
}

// Record never blocks and never holds more than store.TraceBuffer events:
// what it could not keep is counted in TraceDropped, the rest is written.
// (Each backend checks the exact count with its writes held back.)
func testTraceRecordBounded(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{})
	const n = store.TraceBuffer + 10
	for range n {
		e.s.Record(store.TraceEvent{ID: "x", Hop: "http_in"})
	}
	if err := e.s.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := e.s.Trace(e.ctx, "x", 2*n)
	dropped := e.s.TraceDropped()
	if err != nil || uint64(len(evs))+dropped != n || dropped > 10 {
		t.Errorf("written %d, TraceDropped %d, err %v; want %d in all, at most 10 dropped", len(evs), dropped, err, n)
	}
}

// With Run going, recorded events are written within a few store.TraceFlush
// without any other call, and Run stops when ctx ends.
func testTraceRunFlushes(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{SweepInterval: time.Hour})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := e.s.Sweep(e.ctx); err != nil { // Run's first round, so that the next ones wait an hour
		t.Fatal(err)
	}
	for i := range 100 {
		e.s.Record(store.TraceEvent{ID: fmt.Sprint("b", i), Hop: "http_in"})
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if evs, _ := e.s.Trace(e.ctx, "b99", 0); len(evs) == 1 {
			return
		}
	}
	t.Fatal("the recorded events were never written")
}

// A negative TraceTTL turns the trace off: nothing is recorded.
func testTraceOff(t *testing.T, f Factory) {
	e := newEnv(t, f, store.Options{TraceTTL: -1})
	e.s.Record(store.TraceEvent{ID: "x", Hop: "http_in"})
	e.reopen()
	if evs, err := e.s.Trace(e.ctx, "x", 0); len(evs) != 0 || err != nil {
		t.Errorf("Trace with the trace off = %v, %v; want nothing", Hops(evs), err)
	}
}
