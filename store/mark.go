package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Mark is a small durable record with a time to live, put by Complete in
// the same transaction as the rest of a completion (e.g. the last status
// reported for a message, so that it never moves backwards, even across a
// restart). Expired marks are deleted by Run, like receipt mappings.
type Mark struct {
	Key   string        // 1..4096 bytes
	Value []byte        // nil deletes the mark
	TTL   time.Duration // how long the mark is kept; 0 or less means ReceiptTTL
}

func checkMark(m Mark) error {
	if m.Key == "" || len(m.Key) > maxKeyString {
		return invalid("mark key must be 1..%d bytes", maxKeyString)
	}
	if len(m.Value) > 1<<20 {
		return invalid("mark value of %d bytes exceeds 1 MiB", len(m.Value))
	}
	return nil
}

// putMark writes (or, with a nil Value, deletes) a mark.
func (w *wtx) putMark(m Mark) error {
	b, x := w.tx.Bucket(bktMarks), w.tx.Bucket(bktMarksX)
	k := []byte(m.Key)
	if old := b.Get(k); old != nil {
		d := decoder{B: old}
		if err := x.Delete(timeKey(d.Varint(), k)); err != nil {
			return err
		}
		if d.Bad {
			return fmt.Errorf("%w: bad mark record", ErrCorrupt)
		}
	}
	if m.Value == nil {
		return b.Delete(k)
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = w.s.opt.ReceiptTTL
	}
	exp := w.now + int64(ttl)
	if err := b.Put(k, append(binary.AppendVarint(nil, exp), m.Value...)); err != nil {
		return err
	}
	return x.Put(timeKey(exp, k), nil)
}

// GetMark returns the value of an unexpired mark. It reads the last
// committed state: a mark whose Complete returned before is always found.
func (s *Store) GetMark(ctx context.Context, key string) (value []byte, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	now := s.opt.Now().UnixNano()
	err = s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktMarks).Get([]byte(key))
		if v == nil {
			return nil
		}
		d := decoder{B: v}
		exp := d.Varint()
		if d.Bad {
			return fmt.Errorf("%w: bad mark record", ErrCorrupt)
		}
		if exp > now {
			value, ok = append([]byte{}, d.B...), true
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return value, ok, nil
}

// dedupDrop forgets a dedup key, so the next enqueue with it queues again.
func (w *wtx) dedupDrop(key string) error {
	b, x := w.tx.Bucket(bktDedup), w.tx.Bucket(bktDedupX)
	old := b.Get([]byte(key))
	if old == nil {
		return nil
	}
	if len(old) != 24 {
		return fmt.Errorf("%w: bad dedup record", ErrCorrupt)
	}
	if err := x.Delete(timeKey(be64(old[16:]), []byte(key))); err != nil {
		return err
	}
	return b.Delete([]byte(key))
}
