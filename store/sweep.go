package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

const sweepChunk = 1000 // keys per sweep transaction: short, so writers interleave

// Run does the store's background work until ctx ends: it deletes expired
// receipt mappings and dedup keys, and hands incomplete MO reassembly sets
// past ReassemblyTimeout to Options.PartialMO, every SweepInterval. Each
// step is a short transaction in the group-commit queue, so it never holds
// up writers for long. Run returns nil when ctx ends, ErrClosed if the store
// is closed first, and other errors only if the file is unusable.
// Lease wake-ups do not need Run.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.opt.SweepInterval)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.quit:
			return ErrClosed
		case <-t.C:
		}
	}
}

// Sweep does one round of Run's work now.
func (s *Store) Sweep(ctx context.Context) error {
	for _, idx := range []struct {
		index  []byte
		expire func(w *wtx, key []byte) error
	}{
		{bktRcptX, func(w *wtx, k []byte) error { return w.tx.Bucket(bktRcpt).Delete(k) }},
		{bktDedupX, func(w *wtx, k []byte) error { return w.tx.Bucket(bktDedup).Delete(k) }},
		{bktGroupsX, (*wtx).expireGroup},
		{bktMarksX, func(w *wtx, k []byte) error { return w.tx.Bucket(bktMarks).Delete(k) }},
	} {
		for {
			n, err := s.expire(ctx, idx.index, idx.expire)
			if err != nil {
				return err
			}
			if n < sweepChunk {
				break
			}
		}
	}
	return nil
}

// expire removes up to sweepChunk expired entries of a be64(time) ‖ key
// index, calling fn for each key, and says how many it removed. A read
// transaction checks first, so an idle sweep costs no commit.
func (s *Store) expire(ctx context.Context, index []byte, fn func(*wtx, []byte) error) (int, error) {
	now := s.opt.Now().UnixNano()
	any := false
	if err := s.view(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(index).Cursor().First()
		any = k != nil && be64(k) <= now
		return nil
	}); err != nil || !any {
		return 0, err
	}
	n := 0
	err := s.update(ctx, func(w *wtx) error {
		n = 0
		c := w.tx.Bucket(index).Cursor()
		var keys [][]byte
		for k, _ := c.First(); k != nil && len(keys) < sweepChunk && be64(k) <= w.now; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := w.tx.Bucket(index).Delete(k); err != nil {
				return err
			}
			if err := fn(w, k[8:]); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
