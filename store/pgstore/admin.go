package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
)

// List returns up to limit queued items of lane: the heads in due order,
// then the waiting items key by key in their order; of every lane in id
// order when lane is "". A limit of 0 or less means no limit.
func (s *Store) List(ctx context.Context, lane string, limit int) ([]store.Item, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	q, args := `SELECT `+rowCols+` FROM sb_items ORDER BY id LIMIT $1`, []any{lim}
	if lane != "" {
		q = `SELECT ` + rowCols + ` FROM sb_items WHERE lane = $2 ORDER BY NOT head, CASE WHEN head THEN idx END, CASE WHEN head THEN id END, key, seq, id LIMIT $1`
		args = append(args, []byte(lane))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var items []store.Item
	for rows.Next() {
		x, err := scanRow(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, x.item())
	}
	return items, rows.Err()
}

const deadCols = `id, lane, key, payload, attempts, first_seen, next_due, last_error, dead_reason, dead_at`

func scanDead(r pgx.Row) (store.Item, error) {
	var it store.Item
	var lane, key, lastError, reason []byte
	var first, due, at int64
	err := r.Scan(&it.ID, &lane, &key, &it.Payload, &it.Attempts, &first, &due, &lastError, &reason, &at)
	it.Lane, it.Key, it.LastError, it.DeadReason = string(lane), string(key), string(lastError), string(reason)
	it.FirstSeen, it.NextDue, it.DeadAt = time.Unix(0, first), time.Unix(0, due), time.Unix(0, at)
	if it.Payload == nil {
		it.Payload = []byte{}
	}
	return it, err
}

// ListDead returns up to limit dead letters of lane ("" = all), in id order.
func (s *Store) ListDead(ctx context.Context, lane string, limit int) ([]store.Item, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deadCols+` FROM sb_dead WHERE $2::bytea IS NULL OR lane = $2 ORDER BY id LIMIT $1`,
		lim, nilIfEmpty(lane))
	if err != nil {
		return nil, err
	}
	var items []store.Item
	for rows.Next() {
		it, err := scanDead(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

func nilIfEmpty(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// Get returns a queued item or a dead letter by id, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (store.Item, error) {
	if !store.ValidID(id) {
		return store.Item{}, fmt.Errorf("%w: bad id %q", store.ErrNotFound, id)
	}
	x, err := scanRow(s.pool.QueryRow(ctx, `SELECT `+rowCols+` FROM sb_items WHERE id = $1`, id))
	if err == nil {
		return x.item(), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Item{}, err
	}
	it, err := scanDead(s.pool.QueryRow(ctx, `SELECT `+deadCols+` FROM sb_dead WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Item{}, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return it, err
}

// dead deletes a dead letter and returns it (store.ErrNotFound if id is
// not one).
func (w *wtx) takeDead(id string) (row, error) {
	if !store.ValidID(id) {
		return row{}, fmt.Errorf("%w: bad id %q", store.ErrNotFound, id)
	}
	it, err := scanDead(w.tx.QueryRow(w.ctx, `DELETE FROM sb_dead WHERE id = $1 RETURNING `+deadCols, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return row{}, fmt.Errorf("%w: no dead letter %s", store.ErrNotFound, id)
	}
	return row{id: it.ID, lane: it.Lane, key: it.Key, payload: it.Payload, attempts: it.Attempts,
		firstSeen: it.FirstSeen.UnixNano(), nextDue: it.NextDue.UnixNano(), lastError: it.LastError}, err
}

// requeue puts a taken dead letter back at the end of its key.
func (w *wtx) requeue(x row) error {
	x.attempts, x.ageFrom, x.nextDue = 0, w.now, w.now
	return w.putNew(&x)
}

// Requeue moves a dead letter back to its lane, attempts reset and MaxAge
// counted from now, at the end of its key's order.
func (s *Store) Requeue(ctx context.Context, id string) error {
	return s.update(ctx, func(w *wtx) error {
		x, err := w.takeDead(id)
		if err != nil {
			return err
		}
		return w.requeue(x)
	})
}

// Drop deletes a dead letter (never a queued item: store.ErrNotFound).
func (s *Store) Drop(ctx context.Context, id string) error { return s.DropDead(ctx, id) }

// DropDead deletes a dead letter and enqueues follow-ups, in one transaction.
func (s *Store) DropDead(ctx context.Context, id string, enqueue ...store.NewItem) error {
	return s.SettleDead(ctx, id, enqueue, nil)
}

// SettleDead deletes a dead letter, enqueues follow-ups and puts receipt
// mappings in one transaction; store.ErrNotFound (nothing changed) if id
// is not a dead letter.
func (s *Store) SettleDead(ctx context.Context, id string, enqueue []store.NewItem, receipts []store.Receipt) error {
	for _, it := range enqueue {
		if err := it.Validate(); err != nil {
			return err
		}
	}
	for _, r := range receipts {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	return s.update(ctx, func(w *wtx) error {
		if _, err := w.takeDead(id); err != nil {
			return err
		}
		for _, it := range enqueue {
			if _, _, err := w.enqueue(it); err != nil {
				return err
			}
		}
		return w.sideEffects(id, receipts, nil, nil)
	})
}

// RequeueLane requeues every dead letter of lane, 1000 per transaction.
func (s *Store) RequeueLane(ctx context.Context, lane string) (int, error) {
	return s.eachDead(ctx, lane, func(w *wtx, id string) error {
		x, err := w.takeDead(id)
		if err != nil {
			return err
		}
		return w.requeue(x)
	})
}

// DropLane deletes every dead letter of lane, 1000 per transaction.
func (s *Store) DropLane(ctx context.Context, lane string) (int, error) {
	return s.eachDead(ctx, lane, func(w *wtx, id string) error {
		_, err := w.takeDead(id)
		return err
	})
}

func (s *Store) eachDead(ctx context.Context, lane string, fn func(*wtx, string) error) (int, error) {
	if lane == "" {
		return 0, fmt.Errorf("%w: empty lane", store.ErrInvalid)
	}
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(w *wtx) error {
			rows, err := w.tx.Query(w.ctx, `SELECT id FROM sb_dead WHERE lane = $1 ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED`, []byte(lane))
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := fn(w, id); err != nil {
					return err
				}
			}
			n = len(ids)
			return nil
		})
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// Stats reads the counters of every lane with items or dead letters. On a
// database error it returns an empty map (the error goes to Report).
func (s *Store) Stats() map[string]store.LaneStats {
	out := map[string]store.LaneStats{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT lane, count(*), count(*) FILTER (WHERE leased), 0 FROM sb_items GROUP BY lane
UNION ALL SELECT lane, 0, 0, count(*) FROM sb_dead GROUP BY lane`)
	if err == nil {
		for rows.Next() {
			var lane []byte
			var q, l, d int
			if err = rows.Scan(&lane, &q, &l, &d); err != nil {
				break
			}
			st := out[string(lane)]
			st.Queued += q
			st.Leased += l
			st.Dead += d
			out[string(lane)] = st
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil && s.opt.Report != nil {
		s.opt.Report(fmt.Errorf("pgstore: stats: %w", err))
	}
	return out
}

// Leases says, per node (Options.Node) and lane, how many items the node
// holds under an unexpired lease: what each node is working on now.
func (s *Store) Leases(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, lane, count(*) FROM sb_items WHERE leased AND idx > $1 GROUP BY owner, lane`,
		s.opt.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for rows.Next() {
		var node string
		var lane []byte
		var n int
		if err := rows.Scan(&node, &lane, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if out[node] == nil {
			out[node] = map[string]int{}
		}
		out[node][string(lane)] = n
	}
	return out, rows.Err()
}

// Node is this store's node name (Options.Node).
func (s *Store) Node() string { return s.opt.Node }

// OldestQueued returns, per lane with queued items, when its oldest queued
// item was first enqueued.
func (s *Store) OldestQueued() (map[string]time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT lane, min(first_seen) FROM sb_items GROUP BY lane`)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for rows.Next() {
		var lane []byte
		var t int64
		if err := rows.Scan(&lane, &t); err != nil {
			rows.Close()
			return nil, err
		}
		out[string(lane)] = time.Unix(0, t)
	}
	return out, rows.Err()
}

// ReassemblyOpen is how many reassembly sets are held (incomplete ones, and
// completed ones kept until their deadline to recognise repeats).
func (s *Store) ReassemblyOpen() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sb_groups`).Scan(&n)
	return n, err
}
