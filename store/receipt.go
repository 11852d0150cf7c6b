package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Receipt maps an SMSC message id (from submit_sm_resp) back to our item.
type Receipt struct {
	SMSC    string // SMSC id from the config
	MsgID   string // message id, normalised by the caller (msg_id_type)
	ItemID  string // our item id (the MT)
	Channel string // channel the MT came from
	Part    int    // which segment this message id belongs to (1-based)
	Parts   int    // how many segments the MT was sent in
	Data    []byte // anything else the caller needs (e.g. the platform's id)
}

func checkReceipt(r Receipt) error {
	if r.SMSC == "" || r.MsgID == "" || len(r.SMSC) > maxKeyString || len(r.MsgID) > maxKeyString {
		return invalid("receipt needs an SMSC and a message id of 1..%d bytes", maxKeyString)
	}
	return nil
}

func receiptKey(smsc, msgID string) []byte {
	return append(laneKey(nil, smsc), msgID...)
}

// putReceipt writes a mapping that expires ReceiptTTL from now, replacing
// any earlier mapping of the same key.
func (w *wtx) putReceipt(r Receipt) error {
	if err := checkReceipt(r); err != nil {
		return err
	}
	b, x := w.tx.Bucket(bktRcpt), w.tx.Bucket(bktRcptX)
	k := receiptKey(r.SMSC, r.MsgID)
	if old := b.Get(k); old != nil {
		_, exp, err := decodeReceipt(old)
		if err != nil {
			return err
		}
		if err := x.Delete(timeKey(exp, k)); err != nil {
			return err
		}
	}
	exp := w.now + int64(w.s.opt.ReceiptTTL)
	v := []byte{1}
	v = binary.AppendVarint(v, exp)
	v = appendString(v, r.ItemID)
	v = appendString(v, r.Channel)
	v = binary.AppendUvarint(v, uint64(max(r.Part, 0)))
	v = binary.AppendUvarint(v, uint64(max(r.Parts, 0)))
	v = appendBytes(v, r.Data)
	if err := b.Put(k, v); err != nil {
		return err
	}
	return x.Put(timeKey(exp, k), nil)
}

// decodeReceipt returns the record (without SMSC and MsgID) and its expiry.
func decodeReceipt(v []byte) (Receipt, int64, error) {
	d := decoder{B: v}
	if d.Byte() != 1 {
		return Receipt{}, 0, fmt.Errorf("%w: receipt record version", ErrCorrupt)
	}
	exp := d.Varint()
	r := Receipt{ItemID: d.String(), Channel: d.String()}
	r.Part, r.Parts = int(d.Uvarint()), int(d.Uvarint())
	r.Data = d.Bytes()
	return r, exp, decodeDone(&d, "receipt record")
}

// PutReceipt stores receipt mappings on their own (Complete is the usual
// way, together with the ack of the submit). Durable on return.
func (s *Store) PutReceipt(ctx context.Context, rs ...Receipt) error {
	for _, r := range rs {
		if err := checkReceipt(r); err != nil {
			return err
		}
	}
	return s.update(ctx, func(w *wtx) error {
		for _, r := range rs {
			if err := w.putReceipt(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// MatchReceipt looks up the mapping of (smsc, msgID). It reads the last
// committed state: a mapping whose Complete (or PutReceipt) returned before
// MatchReceipt was called is always found, until ReceiptTTL expires it.
// Matching does not remove the mapping (one MT may get several receipts).
func (s *Store) MatchReceipt(ctx context.Context, smsc, msgID string) (Receipt, bool, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, false, err
	}
	var (
		r     Receipt
		found bool
	)
	now := s.opt.Now().UnixNano()
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktRcpt).Get(receiptKey(smsc, msgID))
		if v == nil {
			return nil
		}
		var exp int64
		var err error
		r, exp, err = decodeReceipt(v)
		found = err == nil && exp > now
		return err
	})
	if err != nil || !found {
		return Receipt{}, false, err
	}
	r.SMSC, r.MsgID = smsc, msgID
	return r, true, nil
}

// dedupLookup returns the id first enqueued under key if it is still fresh.
func (w *wtx) dedupLookup(key string) (string, bool, error) {
	v := w.tx.Bucket(bktDedup).Get([]byte(key))
	if v == nil {
		return "", false, nil
	}
	if len(v) != 24 {
		return "", false, fmt.Errorf("%w: bad dedup record", ErrCorrupt)
	}
	if exp := be64(v[16:]); exp > w.now {
		return id(v[:16]).String(), true, nil
	}
	return "", false, nil
}

func (w *wtx) dedupPut(key string, u id, exp int64) error {
	b, x := w.tx.Bucket(bktDedup), w.tx.Bucket(bktDedupX)
	if old := b.Get([]byte(key)); len(old) == 24 {
		if err := x.Delete(timeKey(be64(old[16:]), []byte(key))); err != nil {
			return err
		}
	}
	v := binary.BigEndian.AppendUint64(append([]byte(nil), u[:]...), uint64(exp))
	if err := b.Put([]byte(key), v); err != nil {
		return err
	}
	return x.Put(timeKey(exp, []byte(key)), nil)
}
