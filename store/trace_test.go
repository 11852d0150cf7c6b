package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func hops(evs []TraceEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID+"/"+e.Hop)
	}
	return out
}

// Recording trace events costs no commit; they are written in one batch
// (here by Close), survive a reopen, and are found by message id, platform
// id and number (by its digits), with the events of the message ids the
// number leads to.
func TestTraceRecordAndFind(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "bridge.db")
	s := MustOpen(t, Options{Path: path, Now: clk.Now})
	s.Record(TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "http_in"})
	clk.Add(time.Millisecond)
	s.Record(TraceEvent{ID: "mt1", Hop: "submit_sm", Attempt: 1, Detail: "message_id 7"})
	clk.Add(time.Millisecond)
	s.Record(TraceEvent{ID: "mt2", Number: "+44 7700 900000", Hop: "http_in"})
	commits := s.commits.Load()
	MustEnqueue(t, s, "mt:a", "x")
	if got := s.commits.Load() - commits; got != 1 {
		t.Fatalf("commits for an enqueue with trace events pending = %d, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, Options{Path: path, Now: clk.Now})
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"mt1", "[mt1/http_in mt1/submit_sm]"},
		{"uuid-1", "[mt1/http_in mt1/submit_sm]"},
		{"250788123123", "[mt1/http_in mt1/submit_sm]"},
		{"+250788123123", "[mt1/http_in mt1/submit_sm]"},
		{"447700900000", "[mt2/http_in]"},
		{"nothing", "[]"},
	} {
		evs, err := s.Trace(ctx, tc.q, 0)
		if got := fmt.Sprint(hops(evs)); err != nil || got != tc.want {
			t.Errorf("Trace(%q) = %s, %v; want %s", tc.q, got, err, tc.want)
		}
	}
	evs, _ := s.Trace(ctx, "mt1", 0)
	if evs[1].Attempt != 1 || evs[1].Detail != "message_id 7" || !evs[1].At.Equal(clk.Now().Add(-time.Millisecond)) {
		t.Errorf("event = %+v", evs[1])
	}
}

// Sweep writes events recorded while nothing else commits, drops events
// older than TraceTTL, and keeps at most TraceMax (the oldest go).
func TestTraceSweepBounds(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, TraceTTL: time.Hour, TraceMax: 3})
	s.Record(TraceEvent{ID: "old", Hop: "http_in"})
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Trace(ctx, "old", 0); len(evs) != 1 {
		t.Fatalf("after Sweep, Trace(old) = %v, want the event written", evs)
	}
	clk.Add(2 * time.Hour)
	for i := range 5 {
		s.Record(TraceEvent{ID: fmt.Sprint("m", i), Hop: "http_in"})
		clk.Add(time.Second)
	}
	if err := s.Sweep(ctx); err != nil { // writes the 5
		t.Fatal(err)
	}
	if err := s.Sweep(ctx); err != nil { // expires "old", caps at 3
		t.Fatal(err)
	}
	for q, want := range map[string]int{"old": 0, "m0": 0, "m1": 0, "m2": 1, "m4": 1} {
		if evs, _ := s.Trace(ctx, q, 0); len(evs) != want {
			t.Errorf("Trace(%s) = %v, want %d event(s)", q, hops(evs), want)
		}
	}
	if n := s.traceCount(); n != 3 {
		t.Errorf("trace count = %d, want 3", n)
	}
}

// Record never blocks: beyond the buffer, events are dropped and counted.
func TestTraceRecordBounded(t *testing.T) {
	s := MustOpen(t, Options{})
	for range traceBuffer + 10 {
		s.Record(TraceEvent{ID: "x", Hop: "http_in"})
	}
	if got := s.TraceDropped(); got != 10 {
		t.Errorf("TraceDropped = %d, want 10", got)
	}
}

// OldestQueued reports each lane's oldest queued item; OnCommit sees
// every commit with its batch size.
func TestOldestQueuedAndOnCommit(t *testing.T) {
	var calls []int
	s := MustOpen(t, Options{OnCommit: func(d time.Duration, n int) { calls = append(calls, n) }})
	a := MustEnqueue(t, s, "mt:a", "1")
	time.Sleep(2 * time.Millisecond) // ids carry milliseconds
	MustEnqueue(t, s, "mt:a", "2")
	b := MustEnqueue(t, s, "http:c", "3")
	got, err := s.OldestQueued()
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := IDTime(a)
	tb, _ := IDTime(b)
	if !got["mt:a"].Equal(ta) || !got["http:c"].Equal(tb) || len(got) != 2 {
		t.Errorf("OldestQueued = %v, want mt:a %v, http:c %v", got, ta, tb)
	}
	if len(calls) != 3 || calls[0] != 1 {
		t.Errorf("OnCommit batch sizes = %v, want [1 1 1]", calls)
	}
}

// Run writes recorded events within traceFlush, in one commit for many
// events, and stops when the store closes.
func TestTraceRunFlushes(t *testing.T) {
	s := MustOpen(t, Options{SweepInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	commits := s.commits.Load()
	for i := range 100 {
		s.Record(TraceEvent{ID: fmt.Sprint("b", i), Hop: "http_in"})
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if evs, _ := s.Trace(ctx, "b99", 0); len(evs) == 1 {
			if n := s.commits.Load() - commits; n > 2 {
				t.Errorf("commits for 100 events = %d, want 1 (a batch)", n)
			}
			return
		}
	}
	t.Fatal("Run never wrote the recorded events")
}
