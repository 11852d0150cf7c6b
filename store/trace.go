package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The trace log: a bounded, durable per-message event log that answers
// "where is my message?" (smscbridge trace). Events are kept in memory and
// written in batches, one transaction every traceFlush (Run), so tracing
// adds no commit per message, and the commits messages make stay as small
// as without it (writing the events with each of them was measured slower:
// every small commit then wrote the trace's pages too). Events older than
// TraceTTL, and the oldest beyond TraceMax, are deleted by Run.
//
// Tracing is best effort: events recorded in the last traceFlush before a
// crash, or beyond traceBuffer while the disk is too slow to keep up, are
// lost; the queue itself is never held up by the trace.
//
// Layout (buckets created on first use, so older files need no migration):
//
//	trace   be64(unix ns) ‖ be64(seq) → TraceEvent, binary (tracecodec.go;
//	        files of older versions also hold JSON ones)
//	tracex  index key ‖ 0x00 ‖ event key → nil; index keys are
//	        "i:"+ID, "r:"+Ref and "n:"+Number (digits only)

var (
	bktTrace  = []byte("trace")
	bktTraceX = []byte("tracex")
)

// TraceBuffer bounds the trace events a backend holds in memory between
// writes: Record drops (and counts in TraceDropped) any beyond it.
const TraceBuffer = 20000

// TraceFlush is how often the recorded trace events are written.
const TraceFlush = 250 * time.Millisecond

const (
	traceBuffer = TraceBuffer
	traceFlush  = TraceFlush
)

// TraceEvent is one hop of one message.
type TraceEvent struct {
	At      time.Time `json:"at"`
	ID      string    `json:"id,omitempty"`     // the bridge's message id (MT or MO)
	Ref     string    `json:"ref,omitempty"`    // the platform's id for it (RapidPro id/uuid), if any
	Number  string    `json:"number,omitempty"` // the contact: recipient of an MT, sender of an MO
	Hop     string    `json:"hop"`              // http_in, queued, submit_sm, receipt, callback, retry, dead, failover, deliver_sm, routed
	SMSC    string    `json:"smsc,omitempty"`
	Channel string    `json:"channel,omitempty"`
	Attempt int       `json:"attempt,omitempty"` // 1 for the first try
	Detail  string    `json:"detail,omitempty"`
}

// Tracer is the trace log's contract, so that another store backend can
// offer it: Record never blocks and never fails (the event may be
// dropped); Trace returns the events of the messages query names (an id,
// a platform id or a phone number), oldest first, at most limit.
type Tracer interface {
	Record(ev TraceEvent)
	Trace(ctx context.Context, query string, limit int) ([]TraceEvent, error)
}

// TracePending holds recorded trace events until a backend writes them,
// with the semantics every backend shares: Add never blocks and, beyond
// TraceBuffer waiting events, drops the event (counted in Dropped); Take
// hands the waiting events to a write, Return puts them back, first, after
// the write failed (dropping what no longer fits). The zero value is ready.
type TracePending struct {
	mu      sync.Mutex
	events  []TraceEvent
	dropped uint64
}

// Add keeps ev for the next write, or drops it when TraceBuffer wait.
func (p *TracePending) Add(ev TraceEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.events) >= traceBuffer {
		p.dropped++
		return
	}
	p.events = append(p.events, ev)
}

// Take hands every waiting event to a write.
func (p *TracePending) Take() []TraceEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.events
	p.events = nil
	return out
}

// Return puts evs back before the events recorded since, after their
// write failed.
func (p *TracePending) Return(evs []TraceEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := traceBuffer - len(p.events); len(evs) > room {
		p.dropped += uint64(len(evs) - max(room, 0))
		evs = evs[:max(room, 0)]
	}
	p.events = append(evs, p.events...)
}

// Dropped is how many events Add (or Return) dropped.
func (p *TracePending) Dropped() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// traceBuf holds recorded events until a transaction writes them.
type traceBuf struct {
	TracePending
	count atomic.Int64 // events on disk (approximate after a failed commit)
}

// Record keeps ev for the next write transaction. It never blocks on the
// disk; beyond traceBuffer pending events, ev is dropped (counted in
// TraceDropped).
func (s *Store) Record(ev TraceEvent) {
	if s.opt.TraceTTL < 0 {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.opt.Now()
	}
	s.trace.Add(ev)
}

// TraceDropped is how many events Record dropped because too many waited.
func (s *Store) TraceDropped() uint64 { return s.trace.Dropped() }

// writeTrace writes evs in w's transaction.
func (w *wtx) writeTrace(evs []TraceEvent) error {
	if len(evs) == 0 || w.s.opt.TraceTTL < 0 {
		return nil
	}
	b, err := w.tx.CreateBucketIfNotExists(bktTrace)
	if err != nil {
		return err
	}
	x, err := w.tx.CreateBucketIfNotExists(bktTraceX)
	if err != nil {
		return err
	}
	// One buffer holds every event's value: bbolt keeps a value (not a
	// key) until the transaction commits, so each event has its own part of
	// it. The keys are built in one scratch buffer (bbolt copies keys).
	size := 0
	for i := range evs {
		size += traceEventSize(&evs[i])
	}
	vals := make([]byte, 0, size)
	var kb [16]byte
	var scratch [128]byte
	ib := scratch[:0]
	for i := range evs {
		ev := &evs[i]
		start := len(vals)
		vals = appendTraceEvent(vals, ev)
		k := binary.BigEndian.AppendUint64(kb[:0], uint64(ev.At.UnixNano()))
		k = binary.BigEndian.AppendUint64(k, w.next())
		if err := b.Put(k, vals[start:len(vals):len(vals)]); err != nil {
			return err
		}
		var err error
		if ib, err = putTraceIndex(ib, ev, k, x.Put); err != nil {
			return err
		}
	}
	w.traced += len(evs)
	return nil
}

// putTraceIndex calls put (the tracex bucket's Put, or its Delete) with
// each index entry of ev, stored under event key k: index key ‖ 0x00 ‖ k,
// built in buf (returned for reuse; the entry is valid only during the
// call). The index keys are ev's message id, and, for the
// events that start a message (entryHops) or have no id, its platform id
// and number (TraceKeys). Trace finds the other events of a message
// through its id, so the later hops need no index entries of their own for
// those (fewer writes per message).
func putTraceIndex(buf []byte, ev *TraceEvent, k []byte, put func(key, value []byte) error) ([]byte, error) {
	entry := func(prefix, s string, digitsOnly bool) error {
		buf = append(buf[:0], prefix...)
		if digitsOnly {
			var ok bool
			if buf, ok = appendDigits(buf, s); !ok || len(buf) == len(prefix) {
				return nil
			}
		} else {
			buf = append(buf, s...)
		}
		buf = append(append(buf, 0), k...)
		return put(buf, nil)
	}
	if ev.ID != "" {
		if err := entry("i:", ev.ID, false); err != nil || !entryHops[ev.Hop] {
			return buf, err
		}
	}
	if ev.Ref != "" && ev.Ref != ev.ID {
		if err := entry("r:", ev.Ref, false); err != nil {
			return buf, err
		}
	}
	if ev.Number != "" {
		if err := entry("n:", ev.Number, true); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// TraceKeys are the keys Trace finds ev by, "" for those it is not found
// by: its message id; and, for the events that start a message (http_in,
// deliver_sm) or have no id, its platform id (unless it is the message
// id) and its number's digits (TraceDigits). Every backend indexes the
// same keys, so that they answer the same queries.
func TraceKeys(ev TraceEvent) (id, ref, number string) {
	id = ev.ID
	if ev.ID != "" && !entryHops[ev.Hop] {
		return id, "", ""
	}
	if ev.Ref != ev.ID {
		ref = ev.Ref
	}
	return id, ref, digits(ev.Number)
}

// TraceDigits is the number key of a phone number or a query: its digits
// ("+250 788" → "250788"), or "" when it has letters.
func TraceDigits(s string) string { return digits(s) }

// TraceMaxIDs caps how many message ids one Trace query follows (the
// query's own included): a number's search shows the events of at most
// that many of its messages.
const TraceMaxIDs = 200

// entryHops are the hops that start a message's trace: an MT accepted
// (http_in), an MO received (deliver_sm).
var entryHops = map[string]bool{"http_in": true, "deliver_sm": true}

// digits keeps the digits of a phone number ("+250 788" → "250788"); ""
// when s has letters (an alphanumeric sender is not a number to search).
func digits(s string) string {
	var scratch [32]byte
	b, ok := appendDigits(scratch[:0], s)
	if !ok {
		return ""
	}
	return string(b)
}

// appendDigits appends the digits of the phone number s to b (digits);
// false, and b unchanged, when s has letters.
func appendDigits(b []byte, s string) ([]byte, bool) {
	n := len(b)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return b[:n], false
		}
	}
	return b, true
}

// flushTrace writes the pending events, at most traceChunk per
// transaction, one transaction after another.
func (s *Store) flushTrace(ctx context.Context) error {
	evs := s.trace.Take()
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), traceChunk)]
		if err := s.update(ctx, func(w *wtx) error { return w.writeTrace(chunk) }); err != nil {
			s.trace.Return(evs)
			return err
		}
		evs = evs[len(chunk):]
	}
	return nil
}

// traceChunk bounds the events one commit writes (and traceSweepMax the
// ones it deletes): the trace of a quarter second under load (a few
// thousand events) in one transaction held every message's commit back
// for tens of milliseconds; in chunks it rides along the messages' own
// commits one after another.
const traceChunk = 256

// traceLoop flushes the trace every traceFlush until ctx ends or the
// store closes.
func (s *Store) traceLoop(ctx context.Context) {
	t := time.NewTicker(traceFlush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.quit:
			return
		case <-t.C:
			_ = s.flushTrace(ctx) // kept for the next round; Run reports store failures
		}
	}
}

// traceSweepMax bounds the deletions of one sweep round.
const traceSweepMax = 1000

// sweepTrace deletes events older than TraceTTL and the oldest beyond
// TraceMax.
func (s *Store) sweepTrace(ctx context.Context) error {
	if s.opt.TraceTTL < 0 {
		return nil
	}
	cutoff := s.opt.Now().Add(-s.opt.TraceTTL).UnixNano()
	due := false // a read transaction checks first, so an idle sweep costs no commit
	if err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktTrace); b != nil {
			k, _ := b.Cursor().First()
			due = k != nil && (int64(binary.BigEndian.Uint64(k[:8])) < cutoff || s.traceCount() > s.opt.TraceMax)
		}
		return nil
	}); err != nil || !due {
		return err
	}
	var more bool
	err := s.update(ctx, func(w *wtx) error {
		b, x := w.tx.Bucket(bktTrace), w.tx.Bucket(bktTraceX)
		if b == nil || x == nil {
			return nil
		}
		over := s.traceCount() - s.opt.TraceMax
		deleted := 0
		c := b.Cursor()
		var scratch [128]byte
		ib := scratch[:0]
		del := func(key, _ []byte) error { return x.Delete(key) }
		for k, v := c.First(); k != nil && deleted < traceSweepMax; k, v = c.First() {
			if int64(binary.BigEndian.Uint64(k[:8])) >= cutoff && deleted >= over {
				break
			}
			ev, _ := decodeTraceEvent(v) // an unreadable event goes without its index entries
			var err error
			if ib, err = putTraceIndex(ib, &ev, k, del); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
		}
		w.traced -= deleted
		more = deleted >= traceSweepMax
		return nil
	})
	if err == nil && more {
		return s.sweepTrace(ctx)
	}
	return err
}

func (s *Store) traceCount() int { return int(s.trace.count.Load()) }

// loadTraceCount counts the events on disk (at Open).
func (s *Store) loadTraceCount(tx *bolt.Tx) {
	if b := tx.Bucket(bktTrace); b != nil {
		s.trace.count.Store(int64(b.Stats().KeyN))
	}
}

// Trace returns the events of the messages query names: a message id, a
// platform id (RapidPro's id or uuid) or a phone number (compared by its
// digits). Events of the message ids found through a platform id or number
// are included, so a search by number shows the submits and receipts of
// that number's messages too. At most limit events, the latest, oldest
// first.
func (s *Store) Trace(ctx context.Context, query string, limit int) ([]TraceEvent, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 1000
	}
	var out []TraceEvent
	err := s.view(func(tx *bolt.Tx) error {
		b, x := tx.Bucket(bktTrace), tx.Bucket(bktTraceX)
		if b == nil || x == nil {
			return nil
		}
		keys := map[string]bool{}
		prefixes := []string{"i:" + query, "r:" + query}
		if n := digits(query); n != "" {
			prefixes = append(prefixes, "n:"+n)
		}
		for _, p := range prefixes {
			scanIndex(x, p, keys)
		}
		ids := map[string]bool{query: true}
		for k := range keys {
			if ev, err := decodeTraceEvent(b.Get([]byte(k))); err == nil && ev.ID != "" && !ids[ev.ID] && len(ids) < TraceMaxIDs {
				ids[ev.ID] = true
				scanIndex(x, "i:"+ev.ID, keys)
			}
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		if len(sorted) > limit {
			sorted = sorted[len(sorted)-limit:]
		}
		for _, k := range sorted {
			if v := b.Get([]byte(k)); v != nil {
				if ev, err := decodeTraceEvent(v); err == nil {
					out = append(out, ev)
				}
			}
		}
		return nil
	})
	return out, err
}

// scanIndex adds to keys the event keys indexed under exactly ik.
func scanIndex(x *bolt.Bucket, ik string, keys map[string]bool) {
	p := append([]byte(ik), 0)
	c := x.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(keys) < 100000; k, _ = c.Next() {
		keys[string(k[len(p):])] = true
	}
}
