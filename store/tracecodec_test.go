package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func sampleTraceEvents() []TraceEvent {
	at := time.Unix(0, time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC).UnixNano())
	return []TraceEvent{
		{At: at, ID: "0191e180-7d60-7000-aded-7d8b151cbd5b", Ref: "8a6f3d2e-1c4b-4c1e-9f7a-2b3c4d5e6f70", Number: "+250 788 123 123",
			Hop: "http_in", SMSC: "smsc-a", Channel: "rp-main", Attempt: 3, Detail: "queued in mt:smsc-a, 2 parts"},
		{At: at.Add(time.Millisecond), ID: "m1", Hop: "submit_sm"},                                    // empty fields, zero Attempt
		{At: at.Add(2 * time.Second), Hop: "receipt", Detail: "délivré ✓ — 配達済み 📨", Number: "Ümlaut"}, // unicode
		{At: time.Unix(0, 0), Hop: ""}, // everything empty
		{At: time.Unix(0, -1), ID: "before 1970", Attempt: 1 << 40},
		{At: at, ID: string(make([]byte, 300)), Detail: string(bytes.Repeat([]byte("x"), 70000))}, // lengths of 2 and 3 varint bytes
	}
}

// The binary form round-trips every field; traceEventSize is its exact
// length; JSON events of older versions decode the same; cut, extended or
// unknown records do not decode.
func TestTraceEventCodec(t *testing.T) {
	for i, ev := range sampleTraceEvents() {
		v := appendTraceEvent(nil, &ev)
		if len(v) != traceEventSize(&ev) {
			t.Errorf("%d: traceEventSize = %d, encoded %d bytes", i, traceEventSize(&ev), len(v))
		}
		if v[0] != traceBinary || v[0] == '{' {
			t.Errorf("%d: record starts with %#x", i, v[0])
		}
		got, err := decodeTraceEvent(v)
		if err != nil || !reflect.DeepEqual(got, ev) {
			t.Errorf("%d: round trip = %+v, %v, want %+v", i, got, err, ev)
		}
		old, _ := json.Marshal(ev)
		got, err = decodeTraceEvent(old)
		if err != nil || !sameEvent(got, ev) {
			t.Errorf("%d: JSON (older versions) = %+v, %v, want %+v", i, got, err, ev)
		}
	}
	full := appendTraceEvent(nil, &sampleTraceEvents()[0])
	for n := range len(full) {
		if _, err := decodeTraceEvent(full[:n]); err == nil {
			t.Errorf("a record cut to %d of %d bytes decoded", n, len(full))
		}
	}
	if _, err := decodeTraceEvent(append(full, 0)); err == nil {
		t.Error("a record with trailing bytes decoded")
	}
	if _, err := decodeTraceEvent([]byte{0x07, 1, 2}); err == nil {
		t.Error("an unknown record version decoded")
	}
}

func sameEvent(a, b TraceEvent) bool {
	if !a.At.Equal(b.At) {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return a == b
}

// legacyTraceIndexKeys are the index keys as older versions computed
// them: the on-disk index format must not change.
func legacyTraceIndexKeys(ev TraceEvent) []string {
	out := make([]string, 0, 3)
	id, ref, number := TraceKeys(ev)
	if id != "" {
		out = append(out, "i:"+id)
	}
	if ref != "" {
		out = append(out, "r:"+ref)
	}
	if number != "" {
		out = append(out, "n:"+number)
	}
	return out
}

// putTraceIndex writes the index entries older versions wrote.
func TestTraceIndexEntries(t *testing.T) {
	evs := append(sampleTraceEvents(),
		TraceEvent{ID: "mo1", Ref: "mo1", Number: "+44 (0) 7700-900000", Hop: "deliver_sm"},
		TraceEvent{ID: "mo2", Number: "ACME", Hop: "deliver_sm"},
		TraceEvent{ID: "mt9", Ref: "r9", Number: "+1 555", Hop: "callback"},
		TraceEvent{Ref: "orphan", Number: "+44 7700 900000", Hop: "receipt"},
		TraceEvent{Number: "+", Hop: "receipt"},
	)
	k := []byte("0123456789abcdef")
	var buf []byte
	for i, ev := range evs {
		var got, want []string
		for _, ik := range legacyTraceIndexKeys(ev) {
			want = append(want, ik+"\x00"+string(k))
		}
		var err error
		buf, err = putTraceIndex(buf, &ev, k, func(key, value []byte) error {
			got = append(got, string(key))
			return nil
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%d: index entries %q, %v; want %q", i, got, err, want)
		}
	}
}

// putLegacyTrace writes evs as older versions did: JSON values.
func putLegacyTrace(t *testing.T, s *Store, evs ...TraceEvent) {
	t.Helper()
	err := s.update(context.Background(), func(w *wtx) error {
		b, err := w.tx.CreateBucketIfNotExists(bktTrace)
		if err != nil {
			return err
		}
		x, err := w.tx.CreateBucketIfNotExists(bktTraceX)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(ev.At.UnixNano()))
			k = binary.BigEndian.AppendUint64(k, w.next())
			v, _ := json.Marshal(ev)
			if err := b.Put(k, v); err != nil {
				return err
			}
			for _, ik := range legacyTraceIndexKeys(ev) {
				if err := x.Put(append(append([]byte(ik), 0), k...), nil); err != nil {
					return err
				}
			}
		}
		w.traced += len(evs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkTraceIndex checks that tracex holds exactly the entries of the
// events in trace: a sweep deletes a JSON event's entries too.
func checkTraceIndex(t *testing.T, s *Store) {
	t.Helper()
	var want, got []string
	if err := s.view(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bktTrace).ForEach(func(k, v []byte) error {
			ev, err := decodeTraceEvent(v)
			if err != nil {
				return err
			}
			for _, ik := range legacyTraceIndexKeys(ev) {
				want = append(want, ik+"\x00"+string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bktTraceX).ForEach(func(k, _ []byte) error { got = append(got, string(k)); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("index entries %q, want %q", got, want)
	}
}

// A file holding JSON events (older versions) and binary ones answers
// Trace queries with both, and its sweeps delete both, with their index
// entries.
func TestTraceLegacyJSON(t *testing.T) {
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, TraceTTL: time.Hour, TraceMax: 3})
	ctx := context.Background()
	t0 := clk.Now()
	old := []TraceEvent{
		{At: t0, ID: "old1", Ref: "uuid-old", Number: "+250 788 123 123", Hop: "http_in", SMSC: "a", Channel: "rp", Detail: "première"},
		{At: t0.Add(time.Second), ID: "old1", Hop: "submit_sm", SMSC: "a", Attempt: 1, Detail: "message_id 7"},
	}
	putLegacyTrace(t, s, old...)
	clk.Add(10 * time.Minute)
	s.Record(TraceEvent{ID: "new1", Ref: "uuid-new", Number: "+250788123123", Hop: "http_in", Channel: "rp"})
	clk.Add(time.Second)
	s.Record(TraceEvent{ID: "old1", Hop: "receipt", Detail: "DELIVRD ✓"})
	if err := s.Sweep(ctx); err != nil { // writes the new events
		t.Fatal(err)
	}
	hops := func(q string) string {
		evs, err := s.Trace(ctx, q, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, fmt.Sprintf("%s/%s/%d/%s@%s", ev.ID, ev.Hop, ev.Attempt, ev.Detail, ev.At.Sub(t0)))
		}
		return fmt.Sprint(out)
	}
	for q, want := range map[string]string{
		"uuid-old":     "[old1/http_in/0/première@0s old1/submit_sm/1/message_id 7@1s old1/receipt/0/DELIVRD ✓@10m1s]",
		"250788123123": "[old1/http_in/0/première@0s old1/submit_sm/1/message_id 7@1s new1/http_in/0/@10m0s old1/receipt/0/DELIVRD ✓@10m1s]",
		"new1":         "[new1/http_in/0/@10m0s]",
	} {
		if got := hops(q); got != want {
			t.Errorf("Trace(%s) = %s, want %s", q, got, want)
		}
	}
	if evs, _ := s.Trace(ctx, "old1", 1); len(evs) != 1 || !sameEvent(evs[0], TraceEvent{At: t0.Add(10*time.Minute + time.Second), ID: "old1", Hop: "receipt", Detail: "DELIVRD ✓"}) {
		t.Errorf("Trace(old1, 1) = %+v", evs)
	}
	if evs, _ := s.Trace(ctx, "old1", 0); len(evs) != 3 || !sameEvent(evs[0], old[0]) || !sameEvent(evs[1], old[1]) {
		t.Errorf("Trace(old1) = %+v, want the JSON events as written", evs)
	}
	checkTraceIndex(t, s)

	if err := s.Sweep(ctx); err != nil { // 4 events, TraceMax 3: the oldest (JSON) goes
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"old1":         "[old1/submit_sm/1/message_id 7@1s old1/receipt/0/DELIVRD ✓@10m1s]",
		"250788123123": "[new1/http_in/0/@10m0s]",
		"uuid-old":     "[]",
	} {
		if got := hops(q); got != want {
			t.Errorf("after the sweep by TraceMax, Trace(%s) = %s, want %s", q, got, want)
		}
	}
	checkTraceIndex(t, s)
	clk.Add(55 * time.Minute)
	if err := s.Sweep(ctx); err != nil { // the other JSON event is past TraceTTL
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"old1":         "[old1/receipt/0/DELIVRD ✓@10m1s]",
		"250788123123": "[new1/http_in/0/@10m0s]",
	} {
		if got := hops(q); got != want {
			t.Errorf("after the sweep by TraceTTL, Trace(%s) = %s, want %s", q, got, want)
		}
	}
	checkTraceIndex(t, s)
	if n := s.traceCount(); n != 2 {
		t.Errorf("trace count = %d, want 2", n)
	}
}

func FuzzDecodeTraceEvent(f *testing.F) {
	for _, ev := range sampleTraceEvents()[:5] {
		f.Add(appendTraceEvent(nil, &ev))
		old, _ := json.Marshal(ev)
		f.Add(old)
	}
	f.Add([]byte{traceBinary, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{traceBinary, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := decodeTraceEvent(p)
		if err != nil || len(p) == 0 || p[0] != traceBinary {
			return
		}
		v := appendTraceEvent(nil, &ev)
		if len(v) != traceEventSize(&ev) {
			t.Fatalf("traceEventSize = %d, encoded %d bytes", traceEventSize(&ev), len(v))
		}
		again, err := decodeTraceEvent(v)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("re-encoded %+v decodes as %+v, %v", ev, again, err)
		}
	})
}
