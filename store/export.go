package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Entry is one record of a store, for moving its contents to another
// backend (Export here; pgstore.Import takes them). Exactly one of Item,
// Receipt, Mark, Dedup and Part is set.
type Entry struct {
	// Item is a queued item (Token 0; a lease is not carried over, so a
	// leased item is due again) or a dead letter (DeadReason set). AgeFrom
	// is when its MaxAge counts from.
	Item    *Item
	AgeFrom time.Time
	Receipt *Receipt
	Mark    *Mark // Mark.TTL unused: see Expires
	Dedup   *Dedup
	// Part is one stored part of an MO reassembly set still incomplete.
	Part *Part
	// Expires is when a Receipt, Mark or Dedup key expires, or a Part's
	// set its reassembly deadline.
	Expires time.Time
}

// Dedup is a remembered dedup key (NewItem.DedupKey) and the id it was
// first enqueued as.
type Dedup struct {
	Key, ItemID string
}

// Export calls fn with every record of the store, from one consistent
// read-only snapshot: the queued items (each key's items in their order),
// the dead letters, the receipt mappings, the marks, the dedup keys and the
// parts of incomplete reassembly sets. Expired receipts, marks and dedup
// keys are left out. It changes nothing; an error from fn stops it.
func (s *Store) Export(ctx context.Context, fn func(Entry) error) error {
	now := s.opt.Now().UnixNano()
	return s.view(func(tx *bolt.Tx) error {
		items := tx.Bucket(bktItems)
		item := func(k, v []byte, dead bool) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(k) != 16 {
				return fmt.Errorf("%w: bad item key", ErrCorrupt)
			}
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			if !dead && r.leased {
				r.nextDue = min(r.nextDue, now)
			}
			it := r.item(id(k))
			it.Payload = bytes.Clone(it.Payload) // fn may keep it past the transaction
			return fn(Entry{Item: &it, AgeFrom: time.Unix(0, r.ageFrom)})
		}
		// Keyed items in their keys' order, then the items without a key.
		c := tx.Bucket(bktKeys).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) != 16 {
				return fmt.Errorf("%w: bad key order entry", ErrCorrupt)
			}
			if err := item(v, items.Get(v), false); err != nil {
				return err
			}
		}
		if err := items.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil || r.key != "" {
				return err
			}
			return item(k, v, false)
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bktDead).ForEach(func(k, v []byte) error { return item(k, v, true) }); err != nil {
			return err
		}
		if err := tx.Bucket(bktRcpt).ForEach(func(k, v []byte) error {
			r, exp, err := decodeReceipt(v)
			if err != nil || exp <= now {
				return err
			}
			if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k)) {
				return fmt.Errorf("%w: bad receipt key", ErrCorrupt)
			}
			n := int(binary.BigEndian.Uint16(k))
			r.SMSC, r.MsgID = string(k[2:2+n]), string(k[2+n:])
			return fn(Entry{Receipt: &r, Expires: time.Unix(0, exp)})
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bktMarks).ForEach(func(k, v []byte) error {
			d := decoder{B: v}
			exp := d.Varint()
			if d.Bad {
				return fmt.Errorf("%w: bad mark record", ErrCorrupt)
			}
			if exp <= now {
				return nil
			}
			return fn(Entry{Mark: &Mark{Key: string(k), Value: bytes.Clone(d.B)}, Expires: time.Unix(0, exp)})
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bktDedup).ForEach(func(k, v []byte) error {
			if len(v) != 24 {
				return fmt.Errorf("%w: bad dedup record", ErrCorrupt)
			}
			if exp := be64(v[16:]); exp > now {
				return fn(Entry{Dedup: &Dedup{Key: string(k), ItemID: id(v[:16]).String()}, Expires: time.Unix(0, exp)})
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bktGroups).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil || g.done {
				return err
			}
			p, err := partOfKey(k)
			if err != nil {
				return err
			}
			p.Lane, p.Key, p.Total = g.lane, g.key, g.total
			for i, seq := range g.seqs {
				q := p // each entry its own Part: fn may keep it
				q.Seq, q.Data = seq, g.data[i]
				if err := fn(Entry{Part: &q, Expires: time.Unix(0, g.deadline)}); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// partOfKey reads SMSC, source, destination, reference and width back
// from a group key (groupKey).
func partOfKey(k []byte) (Part, error) {
	var p Part
	var parts [3]string
	for i := range parts {
		if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k)) {
			return p, fmt.Errorf("%w: bad reassembly key", ErrCorrupt)
		}
		n := int(binary.BigEndian.Uint16(k))
		parts[i], k = string(k[2:2+n]), k[2+n:]
	}
	if len(k) != 4 {
		return p, fmt.Errorf("%w: bad reassembly key", ErrCorrupt)
	}
	p.SMSC, p.Source, p.Dest = parts[0], parts[1], parts[2]
	p.Ref, p.Wide = int(binary.BigEndian.Uint16(k)), k[3] == 1
	return p, nil
}
