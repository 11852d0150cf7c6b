package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

const sweepChunk = 1000 // keys per sweep transaction: short, so writers interleave

// maxSweepWait caps Run's wait after failed sweep rounds.
const maxSweepWait = time.Minute

// Run does the store's background work until ctx ends: it deletes expired
// receipt mappings and dedup keys, and hands incomplete MO reassembly sets
// past ReassemblyTimeout to Options.PartialMO, every SweepInterval. Each
// step is a short transaction in the group-commit queue, so it never holds
// up writers for long. A failed round (a full disk, say) does not stop Run:
// it goes to Options.Report and the next round comes after a wait that
// doubles with each failure in a row, up to a minute. Run returns nil when
// ctx ends, ErrClosed if the store is closed first and FatalErr once the
// store is fatal (see Fatal). Lease wake-ups do not need Run.
func (s *Store) Run(ctx context.Context) error {
	tctx, stopTrace := context.WithCancel(ctx)
	traced := make(chan struct{})
	go func() { defer close(traced); s.traceLoop(tctx) }()
	defer func() { stopTrace(); <-traced }()
	wait := s.opt.SweepInterval
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.quit:
			return ErrClosed
		case <-s.fatal:
			return s.fatalErr
		case <-t.C:
		}
		err := s.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrClosed):
			return ErrClosed
		case errors.Is(err, ErrFatal):
			return err
		case err != nil:
			s.report(fmt.Errorf("store: sweep failed, next try in %s: %w", wait, err))
			t.Reset(wait)
			wait = min(wait*2, max(maxSweepWait, s.opt.SweepInterval))
		default:
			wait = s.opt.SweepInterval
			t.Reset(wait)
		}
	}
}

func (s *Store) report(err error) {
	if s.opt.Report != nil {
		s.opt.Report(err)
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
	if err := s.sweepTrace(ctx); err != nil {
		return err
	}
	return s.flushTrace(ctx)
}

// skipped is what an expire function returns for an entry it cannot read:
// the entry is gone (deleted), the others of the transaction go on, and the
// error is reported (Options.Report) once the transaction is committed.
type skipped struct{ err error }

func (e skipped) Error() string { return e.err.Error() }

// expire removes up to sweepChunk expired entries of a be64(time) ‖ key
// index, calling fn for each key, and says how many it removed. A read
// transaction checks first, so an idle sweep costs no commit.
func (s *Store) expire(ctx context.Context, index []byte, fn func(*wtx, []byte) error) (int, error) {
	now := s.opt.Now().UnixNano()
	any := false
	if err := s.view(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(index).Cursor().First()
		any = k != nil && (len(k) < 8 || be64(k) <= now)
		return nil
	}); err != nil || !any {
		return 0, err
	}
	n := 0
	var skips []error
	err := s.update(ctx, func(w *wtx) error {
		n, skips = 0, nil
		c := w.tx.Bucket(index).Cursor()
		var keys [][]byte
		for k, _ := c.First(); k != nil && len(keys) < sweepChunk && (len(k) < 8 || be64(k) <= w.now); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := w.tx.Bucket(index).Delete(k); err != nil {
				return err
			}
			if len(k) < 8 {
				skips = append(skips, fmt.Errorf("%w: sweep: index %s: key %x too short, deleted", ErrCorrupt, index, k))
				continue
			}
			if err := fn(w, k[8:]); err != nil {
				var sk skipped
				if !errors.As(err, &sk) {
					return err
				}
				skips = append(skips, sk.err)
			}
		}
		n = len(keys)
		return nil
	})
	if err == nil {
		for _, e := range skips {
			s.report(e)
		}
	}
	return n, err
}
