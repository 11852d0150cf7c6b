package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"time"
)

// A trace event is stored in a compact binary form (encoding it as JSON
// was about a third of the CPU the trace's writes cost). Events written by
// older versions are JSON (they start with '{') and still decode.
//
// Binary form, version 1: the byte traceBinary, then At as a varint (unix
// nanoseconds), the strings ID, Ref, Number, Hop, SMSC, Channel and Detail
// each as uvarint length + bytes, and Attempt as a uvarint.
const traceBinary = 0x01

var errBadTraceEvent = errors.New("store: bad trace event")

// traceEventSize is the length of ev's stored form.
func traceEventSize(ev *TraceEvent) int {
	at := ev.At.UnixNano()
	n := 1 + uvarintLen(uint64(at<<1)^uint64(at>>63)) + uvarintLen(uint64(ev.Attempt))
	for _, s := range [...]string{ev.ID, ev.Ref, ev.Number, ev.Hop, ev.SMSC, ev.Channel, ev.Detail} {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// appendTraceEvent appends ev's stored form to b.
func appendTraceEvent(b []byte, ev *TraceEvent) []byte {
	b = append(b, traceBinary)
	b = binary.AppendVarint(b, ev.At.UnixNano())
	for _, s := range [...]string{ev.ID, ev.Ref, ev.Number, ev.Hop, ev.SMSC, ev.Channel, ev.Detail} {
		b = appendString(b, s)
	}
	return binary.AppendUvarint(b, uint64(ev.Attempt))
}

// decodeTraceEvent reads a stored event: the binary form, or the JSON
// form older versions wrote.
func decodeTraceEvent(v []byte) (TraceEvent, error) {
	var ev TraceEvent
	if len(v) == 0 || v[0] != traceBinary {
		if err := json.Unmarshal(v, &ev); err != nil {
			return TraceEvent{}, errBadTraceEvent
		}
		return ev, nil
	}
	p := v[1:]
	at, n := binary.Varint(p)
	if n <= 0 {
		return TraceEvent{}, errBadTraceEvent
	}
	p = p[n:]
	// The strings share one copy of the rest of the record: one
	// allocation per event instead of one per field.
	rest := string(p)
	var fields [7]string
	off := 0
	for i := range fields {
		l, n := binary.Uvarint(p[off:])
		if n <= 0 || l > uint64(len(p)-off-n) {
			return TraceEvent{}, errBadTraceEvent
		}
		off += n
		fields[i] = rest[off : off+int(l)]
		off += int(l)
	}
	attempt, n := binary.Uvarint(p[off:])
	if n <= 0 || off+n != len(p) {
		return TraceEvent{}, errBadTraceEvent
	}
	return TraceEvent{At: time.Unix(0, at), ID: fields[0], Ref: fields[1], Number: fields[2], Hop: fields[3],
		SMSC: fields[4], Channel: fields[5], Detail: fields[6], Attempt: int(attempt)}, nil
}
