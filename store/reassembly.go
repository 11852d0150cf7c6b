package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Part is one segment of a concatenated MO (UDH IE 0x00/0x08 or SAR TLVs).
type Part struct {
	SMSC, Source, Dest string // where it came from and went to
	Ref                int    // concatenation reference (0..65535)
	Total, Seq         int    // number of parts (1..255) and this part's number (1..Total)
	Wide               bool   // 16-bit reference (UDH IE 0x08 or SAR), so 8-bit refs never mix with it
	Data               []byte // this part's payload, stored as is
	Lane               string // lane the assembled message is queued in
	Key                string // ordering key of the assembled message (NewItem.Key)
}

// Assembled is the payload of an item made from parts.
type Assembled struct {
	Parts   [][]byte // in seq order (index 0 is seq 1); nil where a part is missing
	Missing []int    // seq numbers of the missing parts; empty when complete
}

// group is a reassembly set in bktGroups. Once complete it stays as a
// tombstone (done, hashes only) until its deadline, so that a repeated part
// of a message already delivered is recognised and ignored.
type group struct {
	lane     string
	key      string
	deadline int64
	done     bool
	total    int
	seqs     []int
	hashes   [][8]byte
	data     [][]byte // nil in a tombstone
}

func groupKey(p Part) []byte {
	b := laneKey(nil, p.SMSC)
	b = laneKey(b, p.Source)
	b = laneKey(b, p.Dest)
	b = binary.BigEndian.AppendUint16(b, uint16(p.Ref))
	b = append(b, byte(p.Total))
	if p.Wide {
		return append(b, 1)
	}
	return append(b, 0)
}

func partHash(data []byte) (h [8]byte) {
	sum := sha256.Sum256(data)
	copy(h[:], sum[:])
	return h
}

func (g *group) encode() []byte {
	b := []byte{2, 0}
	if g.done {
		b[1] = 1
	}
	b = appendString(b, g.lane)
	b = appendString(b, g.key)
	b = binary.AppendVarint(b, g.deadline)
	b = binary.AppendUvarint(b, uint64(g.total))
	b = binary.AppendUvarint(b, uint64(len(g.seqs)))
	for i, seq := range g.seqs {
		b = binary.AppendUvarint(b, uint64(seq))
		b = append(b, g.hashes[i][:]...)
		if !g.done {
			b = appendBytes(b, g.data[i])
		}
	}
	return b
}

func decodeGroup(v []byte) (group, error) {
	d := decoder{B: v}
	var g group
	ver := d.Byte() // 1: before ordering keys (key "")
	if ver != 1 && ver != 2 {
		return g, fmt.Errorf("%w: reassembly record version", ErrCorrupt)
	}
	g.done = d.Byte() == 1
	g.lane = d.String()
	if ver == 2 {
		g.key = d.String()
	}
	g.deadline = d.Varint()
	g.total = int(d.Uvarint())
	n := d.Uvarint()
	if n > 255 {
		return g, fmt.Errorf("%w: reassembly record with %d parts", ErrCorrupt, n)
	}
	for range n {
		g.seqs = append(g.seqs, int(d.Uvarint()))
		g.hashes = append(g.hashes, [8]byte(d.Fixed(8)))
		if !g.done {
			g.data = append(g.data, d.Raw())
		}
	}
	if err := decodeDone(&d, "reassembly record"); err != nil {
		return g, err
	}
	for i := range g.data { // copy out of bbolt memory; present parts are never nil
		g.data[i] = append([]byte{}, g.data[i]...)
	}
	return g, nil
}

func checkPart(p Part) error {
	switch {
	case p.SMSC == "" || p.Lane == "":
		return invalid("part needs an SMSC and a lane")
	case len(p.SMSC)+len(p.Source)+len(p.Dest) > maxKeyString || len(p.Lane) > maxKeyString || len(p.Key) > maxKeyString:
		return invalid("part addresses too long")
	case p.Total < 1 || p.Total > 255:
		return invalid("part total %d not in 1..255", p.Total)
	case p.Seq < 1 || p.Seq > p.Total:
		return invalid("part seq %d not in 1..%d", p.Seq, p.Total)
	case p.Ref < 0 || p.Ref > 0xffff:
		return invalid("part reference %d not in 0..65535", p.Ref)
	}
	return nil
}

// AddPart stores one part durably (fsynced on return), so the deliver_sm
// carrying it can be acknowledged. A repeat of a stored part (same seq,
// same data) is a no-op, also for a message already completed, within
// ReassemblyTimeout of its first part. A part whose seq is already stored
// with different data means the sender reused the reference: the stored
// set is closed (an incomplete one as if it had timed out, per
// Options.PartialMO) and a new set starts with this part. When the
// last part lands, one item is enqueued in p.Lane in the same transaction,
// with payload EncodeParts of the parts in seq order, and complete is true
// with that item's id. Incomplete sets are handled by Run after
// ReassemblyTimeout (see Options.PartialMO).
func (s *Store) AddPart(ctx context.Context, p Part) (complete bool, id string, err error) {
	if err := checkPart(p); err != nil {
		return false, "", err
	}
	err = s.update(ctx, func(w *wtx) error {
		complete, id = false, ""
		var err error
		complete, id, err = w.addPart(p)
		return err
	})
	return complete, id, err
}

func (w *wtx) addPart(p Part) (bool, string, error) {
	b, x := w.tx.Bucket(bktGroups), w.tx.Bucket(bktGroupsX)
	k := groupKey(p)
	h := partHash(p.Data)
	var g group
	if v := b.Get(k); v != nil {
		var err error
		if g, err = decodeGroup(v); err != nil {
			return false, "", err
		}
		i := slices.Index(g.seqs, p.Seq)
		if i >= 0 && g.hashes[i] == h {
			return false, "", nil // duplicate
		}
		if i >= 0 || g.done {
			// The reference was reused: a new message starts. A set still
			// incomplete is closed as if it had timed out.
			if err := x.Delete(timeKey(g.deadline, k)); err != nil {
				return false, "", err
			}
			if !g.done {
				if err := w.closePartial(g); err != nil {
					return false, "", err
				}
			}
			g = group{}
		}
	}
	if g.total == 0 {
		g = group{lane: p.Lane, key: p.Key, total: p.Total, deadline: w.now + int64(w.s.opt.ReassemblyTimeout)}
		if err := x.Put(timeKey(g.deadline, k), nil); err != nil {
			return false, "", err
		}
	}
	g.seqs = append(g.seqs, p.Seq)
	g.hashes = append(g.hashes, h)
	g.data = append(g.data, append([]byte{}, p.Data...))
	if len(g.seqs) < g.total {
		return false, "", b.Put(k, g.encode())
	}
	id, _, err := w.enqueue(NewItem{Lane: g.lane, Key: g.key, Payload: EncodeParts(g.assemble())})
	if err != nil {
		return false, "", err
	}
	g.done, g.data = true, nil
	return true, id, b.Put(k, g.encode())
}

func (g *group) assemble() Assembled {
	a := Assembled{Parts: make([][]byte, g.total)}
	for i, seq := range g.seqs {
		a.Parts[seq-1] = g.data[i]
	}
	for i, p := range a.Parts {
		if p == nil {
			a.Missing = append(a.Missing, i+1)
		}
	}
	return a
}

// expireGroup handles a set whose deadline passed: a tombstone is removed;
// an incomplete set is enqueued or dead-lettered per Options.PartialMO.
func (w *wtx) expireGroup(k []byte) error {
	b := w.tx.Bucket(bktGroups)
	v := b.Get(k)
	if v == nil {
		return nil
	}
	g, err := decodeGroup(v)
	if err != nil { // unreadable: nothing can be made of it, and it must not stop the sweep
		if err := b.Delete(k); err != nil {
			return err
		}
		return skipped{fmt.Errorf("sweep: unreadable reassembly set %x deleted: %w", k, err)}
	}
	if err := b.Delete(k); err != nil {
		return err
	}
	if g.done {
		return nil
	}
	return w.closePartial(g)
}

// closePartial hands an incomplete set to Options.PartialMO: enqueued with
// Assembled.Missing set, or dead-lettered.
func (w *wtx) closePartial(g group) error {
	a := g.assemble()
	if w.s.opt.PartialMO == DeliverPartial {
		_, _, err := w.enqueue(NewItem{Lane: g.lane, Key: g.key, Payload: EncodeParts(a)})
		return err
	}
	u := newID(time.Unix(0, w.now))
	r := record{lane: g.lane, key: g.key, payload: EncodeParts(a), firstSeen: w.now, ageFrom: w.now, nextDue: w.now, idx: w.now}
	return w.toDead(u, &r, PartialReason(a.Missing, g.total))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// EncodeParts serialises an assembled message: a part is missing where
// a.Parts holds nil (a.Missing is derived from that, not read).
func EncodeParts(a Assembled) []byte {
	b := []byte{'P', 1}
	b = binary.AppendUvarint(b, uint64(len(a.Parts)))
	for _, p := range a.Parts {
		if p == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = appendBytes(b, p)
	}
	return b
}

// DecodeParts reverses EncodeParts. Present parts are non-nil (possibly
// empty); Missing lists the seq numbers (1-based) of the nil ones.
func DecodeParts(b []byte) (Assembled, error) {
	d := decoder{B: b}
	var a Assembled
	if d.Byte() != 'P' || d.Byte() != 1 {
		return a, fmt.Errorf("%w: not an assembled message", ErrCorrupt)
	}
	n := d.Uvarint()
	if n > uint64(len(b)) {
		return a, fmt.Errorf("%w: assembled message with %d parts", ErrCorrupt, n)
	}
	a.Parts = make([][]byte, n)
	for i := range a.Parts {
		switch d.Byte() {
		case 0:
			a.Missing = append(a.Missing, i+1)
		case 1:
			a.Parts[i] = append([]byte{}, d.Raw()...)
		default:
			d.Bad = true
		}
		if d.Bad {
			break
		}
	}
	if err := decodeDone(&d, "assembled message"); err != nil {
		return Assembled{}, err
	}
	return a, nil
}
