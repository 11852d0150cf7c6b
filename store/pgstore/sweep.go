package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
)

func timeOf(ns int64) time.Time { return time.Unix(0, ns) }

const sweepChunk = 1000

// Run deletes expired receipt mappings, dedup keys, marks and trace events
// and closes incomplete reassembly sets every SweepInterval until ctx ends (every
// node may run it: the rounds do not collide). A failed round goes to
// Report; the next comes after a wait that doubles up to a minute.
func (s *Store) Run(ctx context.Context) error {
	wait := s.opt.SweepInterval
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.quit:
			return store.ErrClosed
		case <-t.C:
		}
		err := s.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, store.ErrClosed):
			return err
		case err != nil:
			if s.opt.Report != nil {
				s.opt.Report(fmt.Errorf("pgstore: sweep failed, next try in %s: %w", wait, err))
			}
			t.Reset(wait)
			wait = min(wait*2, max(time.Minute, s.opt.SweepInterval))
		default:
			wait = s.opt.SweepInterval
			t.Reset(wait)
		}
	}
}

// Sweep does one round of Run's work now, and writes the pending trace
// events.
func (s *Store) Sweep(ctx context.Context) error {
	if err := s.sweepRecords(ctx); err != nil {
		return err
	}
	if err := s.sweepTrace(ctx); err != nil {
		return err
	}
	return s.flushTrace(ctx)
}

func (s *Store) sweepRecords(ctx context.Context) error {
	for _, table := range []string{"sb_receipts", "sb_dedup", "sb_marks"} {
		for {
			var n int64
			err := s.update(ctx, func(w *wtx) error {
				tag, err := w.tx.Exec(ctx, `DELETE FROM `+table+` WHERE ctid IN (SELECT ctid FROM `+table+
					` WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, w.now, sweepChunk)
				n = tag.RowsAffected()
				return err
			})
			if err != nil {
				return err
			}
			if n < sweepChunk {
				break
			}
		}
	}
	for {
		var n int
		err := s.update(ctx, func(w *wtx) error {
			rows, err := w.tx.Query(ctx, `SELECT gkey FROM sb_groups WHERE deadline <= $1 ORDER BY deadline LIMIT $2`, w.now, sweepChunk)
			if err != nil {
				return err
			}
			keys, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				return err
			}
			n = len(keys)
			for _, k := range keys {
				if err := w.expireGroup(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < sweepChunk {
			return err
		}
	}
}

// expireGroup removes a set whose deadline passed (under its lock, so a
// part arriving on another node at once is not lost): a tombstone simply
// goes, an incomplete set goes to Options.PartialMO.
func (w *wtx) expireGroup(k []byte) error {
	if err := w.lock('g', string(k)); err != nil {
		return err
	}
	g := group{gkey: k}
	var lane, key []byte
	err := w.tx.QueryRow(w.ctx, `SELECT lane, key, done, total FROM sb_groups WHERE gkey = $1 AND deadline <= $2`, k, w.now).
		Scan(&lane, &key, &g.done, &g.total)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // handled by another node meanwhile
	}
	if err != nil {
		return err
	}
	g.lane, g.key = string(lane), string(key)
	if !g.done {
		if err := w.closePartial(g); err != nil {
			return err
		}
	}
	_, err = w.tx.Exec(w.ctx, `DELETE FROM sb_groups WHERE gkey = $1`, k)
	return err
}
