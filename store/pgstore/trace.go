package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
)

// The message trace, shared by every node (table sb_trace, migration 2),
// with the bbolt store's semantics (store/trace.go): Record keeps events
// in memory, at most store.TraceBuffer (beyond that they are dropped and
// counted); a goroutine started by Open writes them every store.TraceFlush
// in one COPY, its own transaction, so tracing adds nothing to the queue's
// transactions; Close writes what is left. Sweep deletes events older than
// TraceTTL and the oldest beyond TraceMax (counted over all nodes). Trace
// finds the events every node recorded.
//
// Best effort, as on bbolt: the events of the last TraceFlush before a
// crash, and those recorded while the database is unreachable beyond the
// buffer, are lost; the queue is never held up by the trace.

// traceBuf holds recorded events until flushTrace writes them.
type traceBuf struct {
	store.TracePending

	flushMu sync.Mutex  // one flush at a time (the loop, Sweep, Close)
	capDue  atomic.Bool // events written since the last TraceMax check
}

// Record keeps ev for the next write. It never blocks on the database;
// beyond store.TraceBuffer pending events, ev is dropped (TraceDropped).
func (s *Store) Record(ev store.TraceEvent) {
	if s.opt.TraceTTL < 0 {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.opt.Now()
	}
	s.trace.Add(ev)
}

// TraceDropped is how many events Record dropped because too many waited.
func (s *Store) TraceDropped() uint64 { return s.trace.Dropped() }

// flushTrace writes the pending events in one COPY (its own transaction);
// after a failure they wait for the next round.
func (s *Store) flushTrace(ctx context.Context) error {
	s.trace.flushMu.Lock()
	defer s.trace.flushMu.Unlock()
	return s.flushTraceLocked(ctx)
}

// flushTraceLocked is flushTrace with trace.flushMu held.
func (s *Store) flushTraceLocked(ctx context.Context) error {
	evs := s.trace.Take()
	if len(evs) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(evs))
	for _, ev := range evs {
		v, err := json.Marshal(ev)
		if err != nil {
			continue // no field of TraceEvent fails to marshal
		}
		id, ref, number := store.TraceKeys(ev)
		rows = append(rows, []any{ev.At.UnixNano(), nullBytes(id), nullBytes(ref), nullString(number), ev.Hop, v})
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"sb_trace"}, []string{"at", "id", "ref", "number", "hop", "event"},
		pgx.CopyFromRows(rows))
	if err != nil {
		s.trace.Return(evs)
		return fmt.Errorf("pgstore: write trace: %w", err)
	}
	s.trace.capDue.Store(true)
	return nil
}

func nullBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// traceLoop flushes the trace every store.TraceFlush until Close (which
// writes the rest).
func (s *Store) traceLoop() {
	defer s.listening.Done()
	t := time.NewTicker(store.TraceFlush)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.flushTrace(ctx) // kept for the next round (up to TraceBuffer)
		cancel()
	}
}

// sweepTrace deletes the events older than TraceTTL and, if events were
// written since the last check, the oldest beyond TraceMax.
func (s *Store) sweepTrace(ctx context.Context) error {
	if s.opt.TraceTTL < 0 {
		return nil
	}
	cutoff := s.opt.Now().Add(-s.opt.TraceTTL).UnixNano()
	if err := s.deleteTrace(ctx, `at < $1`, cutoff); err != nil {
		return err
	}
	if !s.trace.capDue.Swap(false) {
		return nil
	}
	var at, seq int64
	err := s.pool.QueryRow(ctx, `SELECT at, seq FROM sb_trace ORDER BY at DESC, seq DESC OFFSET $1 LIMIT 1`,
		s.opt.TraceMax).Scan(&at, &seq)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err == nil {
		err = s.deleteTrace(ctx, `(at, seq) <= ($1, $2)`, at, seq)
	}
	if err != nil {
		s.trace.capDue.Store(true)
	}
	return err
}

// deleteTrace deletes the events matching cond, sweepChunk per transaction.
func (s *Store) deleteTrace(ctx context.Context, cond string, args ...any) error {
	args = append(args, sweepChunk)
	limit := fmt.Sprintf("$%d", len(args))
	for {
		var n int64
		err := s.once(ctx, func() error {
			tag, err := s.pool.Exec(ctx, `DELETE FROM sb_trace WHERE seq IN (SELECT seq FROM sb_trace WHERE `+cond+
				` ORDER BY at, seq LIMIT `+limit+` FOR UPDATE SKIP LOCKED)`, args...)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("pgstore: sweep trace: %w", err)
		}
		if n < sweepChunk {
			return nil
		}
	}
}

// traceQuery finds the events of the messages a query names, as the
// bbolt store does: the events indexed under the query as a message id,
// a platform id or a number's digits, then every event of the message ids
// those lead to (at most store.TraceMaxIDs ids, the latest), the latest
// $3, newest first.
const traceQuery = `WITH hit AS (
	SELECT seq, at, id FROM sb_trace WHERE id = $1
	UNION ALL SELECT seq, at, id FROM sb_trace WHERE ref = $1
	UNION ALL SELECT seq, at, id FROM sb_trace WHERE number = $2
), more AS (
	SELECT id FROM hit WHERE id IS NOT NULL AND id <> $1 GROUP BY id ORDER BY max(at) DESC LIMIT $4
)
SELECT event FROM sb_trace
WHERE seq IN (SELECT seq FROM hit UNION SELECT seq FROM sb_trace WHERE id IN (SELECT id FROM more))
ORDER BY at DESC, seq DESC LIMIT $3`

// Trace returns the events of the messages query names: a message id, a
// platform id (RapidPro's id or uuid) or a phone number (compared by its
// digits), recorded by any node. Events of the message ids found through
// a platform id or number are included. At most limit events (default
// 1000), the latest, oldest first.
func (s *Store) Trace(ctx context.Context, query string, limit int) ([]store.TraceEvent, error) {
	return findTrace(ctx, s.pool, query, limit)
}

// TraceDB reads the trace of query (as Store.Trace does) from the
// database without opening a Store: no migration, no lease released, no
// background work (`smscbridge trace` while no daemon runs here).
func TraceDB(ctx context.Context, dsn, schema, query string, limit int) ([]store.TraceEvent, error) {
	cfg, err := poolConfig(Options{DSN: dsn, Schema: schema, MaxConns: 1})
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if from, _, err := migrate(ctx, conn, false); err != nil {
		return nil, fmt.Errorf("pgstore: schema: %w", err)
	} else if from < 2 {
		return nil, fmt.Errorf("%w: schema version %d keeps no trace (run smscbridge migrate)", ErrSchema, from)
	}
	return findTrace(ctx, conn, query, limit)
}

func findTrace(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, query string, limit int) ([]store.TraceEvent, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.Query(ctx, traceQuery, []byte(query), nullString(store.TraceDigits(query)), limit, store.TraceMaxIDs-1)
	if err != nil {
		return nil, fmt.Errorf("pgstore: trace: %w", err)
	}
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("pgstore: trace: %w", err)
	}
	out := make([]store.TraceEvent, 0, len(raw))
	for _, v := range slices.Backward(raw) {
		var ev store.TraceEvent
		if json.Unmarshal(v, &ev) == nil { // an unreadable event is skipped, as on bbolt
			out = append(out, ev)
		}
	}
	return out, nil
}
