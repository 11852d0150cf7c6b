package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
)

// Group commit. Plain enqueues and acks (the bulk of the traffic) are
// single statements (sb_put, sb_ack); the batcher sends those that arrive
// while a batch is in flight together as one pipelined batch, which
// PostgreSQL runs as one implicit transaction: one round trip, one commit
// and one WAL flush for all of them. Under light load a call is a batch
// of one. The batch commits entirely or not at all, so a failure fails
// every call in it and none of them changed anything (as with the bbolt
// store's group commit). One batch is in flight per node, so the
// statements of two batches of one node never wait for each other.

// op is one call waiting for a batch.
type op struct {
	sql  string
	args []any
	res  any // *bool (sb_put) or *int (sb_ack)
	done chan error
}

// batched runs one statement in the next batch and scans its single
// result into res.
func (s *Store) batched(ctx context.Context, sql string, res any, args ...any) error {
	o := &op{sql: sql, args: args, res: res, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return store.ErrClosed
	}
	select {
	case err := <-o.done:
		return err
	case <-s.quit:
		// Close waits for the batcher, which answers every op it took.
		return <-o.done
	}
}

// batcher collects ops into batches of up to MaxBatch until Close.
func (s *Store) batcher() {
	defer s.listening.Done()
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.quit:
			return
		}
		batch := []*op{first}
	fill:
		for len(batch) < s.opt.MaxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		t0 := time.Now()
		err := s.once(context.Background(), func() error { return s.runBatch(batch) })
		s.batches.Add(1)
		if err == nil {
			s.committed(t0, len(batch))
		}
		for _, o := range batch {
			o.done <- err
		}
	}
}

// runBatch sends the batch and reads every result; an error means the
// implicit transaction was rolled back.
func (s *Store) runBatch(batch []*op) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := &pgx.Batch{}
	for _, o := range batch {
		b.Queue(o.sql, o.args...)
	}
	br := s.pool.SendBatch(ctx, b)
	var first error
	for _, o := range batch {
		if err := br.QueryRow().Scan(o.res); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
