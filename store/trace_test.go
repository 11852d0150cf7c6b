package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Recording trace events costs no commit: an enqueue with events pending
// is one commit. (What the trace finds, its bounds and Run's writes are
// in the shared contract, store/storetest/trace.go.)
func TestTraceRecordNoCommit(t *testing.T) {
	s := MustOpen(t, Options{})
	s.Record(TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: "http_in"})
	s.Record(TraceEvent{ID: "mt1", Hop: "submit_sm", Attempt: 1, Detail: "message_id 7"})
	commits := s.commits.Load()
	MustEnqueue(t, s, "mt:a", "x")
	if got := s.commits.Load() - commits; got != 1 {
		t.Fatalf("commits for an enqueue with trace events pending = %d, want 1", got)
	}
	if err := s.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.traceCount(); n != 2 {
		t.Errorf("trace count = %d, want 2", n)
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

// A large flush is written in chunks, one commit each, and nothing is lost.
func TestTraceFlushInChunks(t *testing.T) {
	s := MustOpen(t, Options{})
	n := 3*traceChunk + 5
	for i := range n {
		s.Record(TraceEvent{ID: fmt.Sprint("m", i), Hop: "http_in"})
	}
	commits := s.commits.Load()
	if err := s.flushTrace(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.commits.Load() - commits; got != 4 {
		t.Errorf("commits for %d events = %d, want 4 (chunks of %d)", n, got, traceChunk)
	}
	if got := s.traceCount(); got != n {
		t.Errorf("trace count = %d, want %d", got, n)
	}
}
