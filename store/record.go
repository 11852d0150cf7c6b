package store

import (
	"encoding/binary"
	"fmt"
	"github.com/smscbridge/smscbridge/internal/binrec"
	"time"
)

// Bucket names. They never leave this package (design.md "Beyond one
// machine": no bbolt type or bucket name crosses the store boundary).
var (
	bktMeta    = []byte("meta")   // "format" → formatVersion
	bktItems   = []byte("items")  // id → record (queued, leased or not)
	bktDue     = []byte("due")    // lanekey ‖ be64(time) ‖ id → nil: the time index
	bktLeased  = []byte("leased") // id → nil: items under lease (reset at Open)
	bktDead    = []byte("dead")   // id → record (dead letters)
	bktLanes   = []byte("lanes")  // lane → uvarint queued ‖ uvarint dead
	bktDedup   = []byte("dedup")  // key → id ‖ be64(expiry)
	bktDedupX  = []byte("dedupx") // be64(expiry) ‖ key → nil
	bktRcpt    = []byte("rcpt")   // lanekey(smsc) ‖ msgid → receipt record
	bktRcptX   = []byte("rcptx")  // be64(expiry) ‖ rcpt key → nil
	bktGroups  = []byte("mo")     // group key → group record (MO reassembly)
	bktGroupsX = []byte("mox")    // be64(deadline) ‖ group key → nil
	bktKeys    = []byte("keys")   // lanekey ‖ lanekey(key) ‖ be64(seq) → id: each key's order (keyed items only)
	bktMarks   = []byte("marks")  // mark key → varint(expiry) ‖ value
	bktMarksX  = []byte("marksx") // be64(expiry) ‖ mark key → nil
	v1Buckets  = [][]byte{bktMeta, bktItems, bktDue, bktLeased, bktDead, bktLanes,
		bktDedup, bktDedupX, bktRcpt, bktRcptX, bktGroups, bktGroupsX}
	allBuckets = append(append([][]byte{}, v1Buckets...), bktKeys, bktMarks, bktMarksX)

	metaFormat    = []byte("format")
	metaCounter   = []byte("counter") // be64: last sequence number or lease token handed out
	formatVersion = []byte("smscbridge-store-3")
	formatV1      = []byte("smscbridge-store-1") // before ordering keys; migrated by Open
	// formatV2 is format 3 with the bridge's records in JSON only: format
	// 3 only marks files whose records may be in the bridge's binary forms
	// (which an older daemon cannot read), so Open migrates 2 by
	// rewriting the marker.
	formatV2 = []byte("smscbridge-store-2")
)

const maxKeyString = 4096 // lanes, dedup keys, SMSC ids, message ids

// record is an item as stored in bktItems or bktDead.
//
// Only the head of a key is in the time index (bktDue): head is set for it,
// and always for an item without a key. The other items of a key wait in
// bktKeys, in seq order, and become the head one by one.
type record struct {
	lane       string
	key        string // ordering key; "" = alone in its own key
	seq        uint64 // place in its key's order (keyed items; fresh at each requeue)
	token      uint64 // token of the last lease; 0 when not leased since the last retry or Open
	head       bool   // in the time index (head of its key)
	payload    []byte
	attempts   int
	firstSeen  int64 // unix nanoseconds
	ageFrom    int64 // MaxAge counts from here: firstSeen, or the last requeue
	nextDue    int64 // when the item is (was) scheduled
	idx        int64 // its time in bktDue: nextDue, or the lease expiry when leased
	leased     bool
	lastError  string
	deadReason string
	deadAt     int64
}

// Record flags.
const (
	flagLeased = 1 << iota
	flagHead
)

// encode writes record version 2. Version 1 (format smscbridge-store-1)
// had no key, seq, token or head flag; decodeRecord still reads it.
func (r *record) encode() []byte {
	b := make([]byte, 0, 80+len(r.lane)+len(r.key)+len(r.payload)+len(r.lastError)+len(r.deadReason))
	flags := byte(0)
	if r.leased {
		flags |= flagLeased
	}
	if r.head {
		flags |= flagHead
	}
	b = append(b, 2, flags)
	b = binary.AppendUvarint(b, uint64(r.attempts))
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendUvarint(b, r.token)
	for _, t := range []int64{r.firstSeen, r.ageFrom, r.nextDue, r.idx, r.deadAt} {
		b = binary.AppendVarint(b, t)
	}
	for _, s := range []string{r.lane, r.key, r.lastError, r.deadReason} {
		b = appendString(b, s)
	}
	return appendBytes(b, r.payload)
}

// decodeRecord copies everything out of v, which may be bbolt memory. A
// version 1 record is an item without a key: the head of its own key.
func decodeRecord(v []byte) (record, error) {
	d := decoder{B: v}
	var r record
	ver := d.Byte()
	if ver != 1 && ver != 2 {
		return r, fmt.Errorf("%w: item record version %d", ErrCorrupt, ver)
	}
	flags := d.Byte()
	r.leased = flags&flagLeased != 0
	r.head = ver == 1 || flags&flagHead != 0
	r.attempts = int(d.Uvarint())
	if ver == 2 {
		r.seq, r.token = d.Uvarint(), d.Uvarint()
	}
	for _, t := range []*int64{&r.firstSeen, &r.ageFrom, &r.nextDue, &r.idx, &r.deadAt} {
		*t = d.Varint()
	}
	r.lane = d.String()
	if ver == 2 {
		r.key = d.String()
	}
	r.lastError, r.deadReason = d.String(), d.String()
	r.payload = d.Bytes()
	return r, decodeDone(&d, "item record")
}

func (r *record) item(u id) Item {
	it := Item{
		ID: u.String(), Lane: r.lane, Key: r.key, Payload: r.payload, Attempts: r.attempts,
		FirstSeen: time.Unix(0, r.firstSeen), NextDue: time.Unix(0, r.nextDue),
		LastError: r.lastError, DeadReason: r.deadReason,
	}
	if r.deadAt != 0 {
		it.DeadAt = time.Unix(0, r.deadAt)
	}
	return it
}

// laneKey is a length-prefixed string, so that one lane's keys never share a
// prefix with another's, whatever bytes lane names contain.
func laneKey(b []byte, lane string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(lane)))
	return append(b, lane...)
}

func dueKey(lane string, t int64, u id) []byte {
	b := laneKey(make([]byte, 0, 2+len(lane)+8+16), lane)
	b = binary.BigEndian.AppendUint64(b, uint64(max(t, 0)))
	return append(b, u[:]...)
}

// keyPrefix is where the items of (lane, key) start in bktKeys.
func keyPrefix(lane, key string) []byte {
	return laneKey(laneKey(make([]byte, 0, 4+len(lane)+len(key)+8+16), lane), key)
}

// keyEntry is an item's place in bktKeys.
func keyEntry(r *record) []byte {
	return binary.BigEndian.AppendUint64(keyPrefix(r.lane, r.key), r.seq)
}

// timeKey is be64(t) ‖ rest, for the expiry indexes.
func timeKey(t int64, rest []byte) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(rest)), uint64(max(t, 0)))
	return append(b, rest...)
}

// The store's records are binrec records (internal/binrec).
var (
	appendString = binrec.AppendString
	appendBytes  = binrec.AppendBytes
)

type decoder = binrec.Reader

// decodeDone reports a record d did not read whole, or read with a
// problem, as ErrCorrupt.
func decodeDone(d *decoder, what string) error {
	if !d.Done() {
		return fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	return nil
}
