package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smscbridge/smscbridge/store"
)

// row is a queued item as stored.
type row struct {
	id                               string
	lane, key                        string
	seq                              int64
	payload                          []byte
	attempts                         int
	firstSeen, ageFrom, nextDue, idx int64
	lastError                        string
	head, leased                     bool
	token                            int64
}

const rowCols = `id, lane, key, seq, payload, attempts, first_seen, age_from, next_due, idx, last_error, head, leased, token`

func scanRow(r pgx.Row) (row, error) {
	var x row
	var lane, key, lastError []byte
	err := r.Scan(&x.id, &lane, &key, &x.seq, &x.payload, &x.attempts, &x.firstSeen, &x.ageFrom, &x.nextDue, &x.idx,
		&lastError, &x.head, &x.leased, &x.token)
	x.lane, x.key, x.lastError = string(lane), string(key), string(lastError)
	if x.payload == nil {
		x.payload = []byte{}
	}
	return x, err
}

func (x *row) item() store.Item {
	return store.Item{ID: x.id, Lane: x.lane, Key: x.key, Payload: x.payload, Attempts: x.attempts,
		FirstSeen: time.Unix(0, x.firstSeen), NextDue: time.Unix(0, x.nextDue), LastError: x.lastError}
}

// Enqueue adds an item, due now (a keyed item: once it is its key's head).
func (s *Store) Enqueue(ctx context.Context, it store.NewItem) (id string, dup bool, err error) {
	if err := it.Validate(); err != nil {
		return "", false, err
	}
	if it.DedupKey == "" || it.DedupTTL <= 0 { // one statement, group-committed (batch.go)
		now := s.opt.Now().UnixNano()
		id = store.NewID(time.Unix(0, now))
		var head bool
		err := s.batched(ctx, `SELECT sb_put($1, $2, $3, $4, 0, $5, $5, $5, '')`, &head, id, []byte(it.Lane), []byte(it.Key),
			nonNil(it.Payload), now)
		if err != nil {
			return "", false, err
		}
		if head {
			s.woke(it.Lane)
		}
		return id, false, nil
	}
	err = s.update(ctx, func(w *wtx) (err error) {
		id, dup, err = w.enqueue(it)
		return err
	})
	if err != nil {
		return "", false, err
	}
	return id, dup, nil
}

func (w *wtx) enqueue(it store.NewItem) (string, bool, error) {
	if err := it.Validate(); err != nil {
		return "", false, err
	}
	dedup := it.DedupKey != "" && it.DedupTTL > 0
	if dedup {
		if err := w.lock('d', it.DedupKey); err != nil {
			return "", false, err
		}
		var first string
		err := w.tx.QueryRow(w.ctx, `SELECT item_id FROM sb_dedup WHERE key = $1 AND expires > $2`, []byte(it.DedupKey), w.now).Scan(&first)
		switch {
		case err == nil:
			return first, true, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return "", false, err
		}
	}
	id := store.NewID(time.Unix(0, w.now))
	x := row{id: id, lane: it.Lane, key: it.Key, payload: it.Payload, firstSeen: w.now, ageFrom: w.now, nextDue: w.now}
	if x.payload == nil {
		x.payload = []byte{}
	}
	if err := w.putNew(&x); err != nil {
		return "", false, err
	}
	if dedup {
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO sb_dedup (key, item_id, expires) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET item_id = excluded.item_id, expires = excluded.expires`,
			[]byte(it.DedupKey), id, w.now+int64(it.DedupTTL)); err != nil {
			return "", false, err
		}
	}
	return id, false, nil
}

// putNew inserts x at the end of its key: its head (due at x.nextDue) if
// the key has no items, else waiting behind them.
func (w *wtx) putNew(x *row) error {
	x.idx = x.nextDue
	if err := w.tx.QueryRow(w.ctx, `SELECT sb_put($1, $2, $3, $4, $5, $6, $7, $8, $9)`, x.id, []byte(x.lane), []byte(x.key),
		x.payload, x.attempts, x.firstSeen, x.ageFrom, x.nextDue, []byte(x.lastError)).Scan(&x.head); err != nil {
		return err
	}
	if x.head {
		w.wake[x.lane] = true
	}
	return nil
}

// held loads a queued item of lane (any lane if "") and locks its row;
// with check, the token must be its current one (store.ErrStaleLease).
func (w *wtx) held(lane, id string, token uint64, check bool) (row, error) {
	if !store.ValidID(id) {
		return row{}, fmt.Errorf("%w: bad id %q", store.ErrNotFound, id)
	}
	x, err := scanRow(w.tx.QueryRow(w.ctx, `SELECT `+rowCols+` FROM sb_items WHERE id = $1 FOR UPDATE`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return x, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	case err != nil:
		return x, err
	case lane != "" && x.lane != lane:
		return x, fmt.Errorf("%w: %s is not in lane %q", store.ErrNotFound, id, lane)
	case check && uint64(x.token) != token:
		return x, fmt.Errorf("%w: %s (token %d, current %d)", store.ErrStaleLease, id, token, x.token)
	}
	return x, nil
}

// unqueue deletes a queued item; if it was its key's head, the key's next
// item becomes the head, due at the later of its own due time and now.
func (w *wtx) unqueue(x *row) error {
	var promoted []byte
	if err := w.tx.QueryRow(w.ctx, `SELECT sb_unqueue($1, $2)`, x.id, w.now).Scan(&promoted); err != nil {
		return err
	}
	if promoted != nil {
		w.wake[x.lane] = true
	}
	return nil
}

// toDead writes x (already unqueued, or new) as a dead letter.
func (w *wtx) toDead(x *row, reason string) error {
	_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_dead (id, lane, key, payload, attempts, first_seen, next_due, last_error, dead_reason, dead_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, x.id, []byte(x.lane), []byte(x.key), x.payload, x.attempts, x.firstSeen, x.nextDue,
		[]byte(x.lastError), []byte(reason), w.now)
	return err
}

// Add is Enqueue; NewItem.Claim is not supported (nothing is leased: the
// item waits for Lease, which every node shares fairly).
func (s *Store) Add(ctx context.Context, it store.NewItem) (store.Added, error) {
	id, dup, err := s.Enqueue(ctx, it)
	return store.Added{ID: id, Dup: dup}, err
}

// LeaseDue is Lease (a lease query costs no more than a look).
func (s *Store) LeaseDue(ctx context.Context, lane string, max int) ([]store.Item, error) {
	return s.Lease(ctx, lane, max)
}

// Lease hands out up to max due heads of lane, oldest due first, then by
// id, each with a fresh Token, leased until LeaseTTL from now.
func (s *Store) Lease(ctx context.Context, lane string, max int) ([]store.Item, error) {
	if max <= 0 {
		return nil, fmt.Errorf("%w: lease of %d items", store.ErrInvalid, max)
	}
	var items []store.Item
	err := s.once(ctx, func() error {
		items = nil
		now := s.opt.Now().UnixNano()
		rows, err := s.pool.Query(ctx, `WITH c AS (
	SELECT id, idx AS due FROM sb_items WHERE lane = $1 AND head AND idx <= $2 ORDER BY idx, id LIMIT $3 FOR UPDATE SKIP LOCKED)
UPDATE sb_items i SET idx = $4, leased = true, token = nextval('sb_counter'), owner = $5 FROM c WHERE i.id = c.id
RETURNING c.due, i.id, i.lane, i.key, i.seq, i.payload, i.attempts, i.first_seen, i.age_from, i.next_due, i.idx, i.last_error, i.head, i.leased, i.token`,
			[]byte(lane), now, max, now+int64(s.opt.LeaseTTL), s.opt.Node)
		if err != nil {
			return err
		}
		type leased struct {
			due int64
			it  store.Item
		}
		var got []leased
		for rows.Next() {
			var due int64
			x, err := scanRow(dueRow{rows, &due})
			if err != nil {
				rows.Close()
				return err
			}
			it := x.item()
			it.Token = uint64(x.token)
			got = append(got, leased{due, it})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortFunc(got, func(a, b leased) int {
			if a.due != b.due {
				return compare(a.due, b.due)
			}
			return compare(a.it.ID, b.it.ID)
		})
		for _, l := range got {
			items = append(items, l.it)
		}
		return nil
	})
	return items, err
}

func compare[T int64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dueRow scans a leading due column, then a row.
type dueRow struct {
	rows pgx.Rows
	due  *int64
}

func (d dueRow) Scan(dest ...any) error { return d.rows.Scan(append([]any{d.due}, dest...)...) }

// peek says whether lane has a due head, and if not when the first falls
// due (0: none queued), without a write.
func (s *Store) peek(ctx context.Context, lane string) (due bool, next int64, err error) {
	var first *int64
	err = s.pool.QueryRow(ctx, `SELECT min(idx) FROM sb_items WHERE lane = $1 AND head`, []byte(lane)).Scan(&first)
	if err != nil || first == nil {
		return false, 0, err
	}
	if *first <= s.opt.Now().UnixNano() {
		return true, 0, nil
	}
	return false, *first, nil
}

// LeaseWait is Lease that waits for at least one item to be due: it wakes
// on a notification for the lane (from any node), when the lane's earliest
// due time or lease expiry comes, and every PollInterval. It returns
// ctx.Err() when ctx ends, store.ErrClosed when the store closes, and the
// error when the database cannot be reached (the caller waits and calls
// again).
func (s *Store) LeaseWait(ctx context.Context, lane string, max int) ([]store.Item, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		woken := s.waitChan(lane)
		due, next, err := s.peek(ctx, lane)
		if err != nil { // the database is away: the caller waits and calls again
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("pgstore: lease wait %q: %w", lane, err)
		}
		if due {
			items, err := s.Lease(ctx, lane, max)
			if err != nil || len(items) > 0 {
				return items, err
			}
		}
		d := s.opt.PollInterval
		if next > 0 {
			d = min(d, time.Duration(next-s.opt.Now().UnixNano()))
		}
		if d < time.Millisecond {
			d = time.Millisecond
		}
		timer.Reset(d)
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.quit:
			return nil, store.ErrClosed
		}
	}
}

// Ack deletes a held item; the next item of its key becomes the head. One
// statement (function sb_ack), group-committed (batch.go).
func (s *Store) Ack(ctx context.Context, lane, id string, token uint64) error {
	if !store.ValidID(id) {
		return fmt.Errorf("%w: bad id %q", store.ErrNotFound, id)
	}
	var code int
	if err := s.batched(ctx, `SELECT sb_ack($1, $2, $3, $4)`, &code, []byte(lane), id, int64(token), s.opt.Now().UnixNano()); err != nil {
		return err
	}
	switch code {
	case 1:
		s.woke(lane)
	case -1:
		return fmt.Errorf("%w: %s", store.ErrNotFound, id)
	case -2:
		return fmt.Errorf("%w: %s is not in lane %q", store.ErrNotFound, id, lane)
	case -3:
		return fmt.Errorf("%w: %s (token %d)", store.ErrStaleLease, id, token)
	}
	return nil
}

// Retry records a failed attempt and schedules the next (see store.Store.Retry).
func (s *Store) Retry(ctx context.Context, lane, id string, token uint64, cause string, delay time.Duration) (bool, error) {
	res, err := s.Complete(ctx, store.Completion{Lane: lane, ID: id, Token: token,
		Retry: &store.RetrySpec{Cause: cause, Delay: delay}})
	return res.Dead, err
}

// Dead moves a held item to the dead letters.
func (s *Store) Dead(ctx context.Context, lane, id string, token uint64, reason string) error {
	_, err := s.Complete(ctx, store.Completion{Lane: lane, ID: id, Token: token, DeadReason: reason})
	return err
}

// Complete finishes the work of a held item in one transaction (see
// store.Store.Complete).
// Completion.LeaseNext is not supported: CompleteResult.Next is always nil.
func (s *Store) Complete(ctx context.Context, c store.Completion) (res store.CompleteResult, err error) {
	if err := c.Validate(); err != nil {
		return res, err
	}
	if plainAck(c) {
		return s.completeAck(ctx, c)
	}
	err = s.update(ctx, func(w *wtx) error {
		res = store.CompleteResult{}
		x, err := w.held(c.Lane, c.ID, c.Token, true)
		if err != nil {
			return err
		}
		if c.Payload != nil {
			x.payload = slices.Clone(c.Payload)
		}
		switch {
		case c.DeadReason != "":
			if err := w.unqueue(&x); err != nil {
				return err
			}
			res.Dead = true
			err = w.toDead(&x, c.DeadReason)
		case c.Retry != nil:
			res.Dead, err = w.retry(&x, c.Retry)
		default:
			err = w.unqueue(&x)
		}
		if err != nil {
			return err
		}
		follow := c.Enqueue
		if res.Dead {
			follow = slices.Concat(c.Enqueue, c.OnDead)
		}
		for _, it := range follow {
			nid, _, err := w.enqueue(it)
			if err != nil {
				return err
			}
			res.IDs = append(res.IDs, nid)
		}
		return w.sideEffects(c.ID, c.Receipts, c.DropDedup, c.Marks)
	})
	if err != nil {
		return store.CompleteResult{}, err
	}
	return res, nil
}

// plainAck says whether c acks its item, with follow-ups that need no
// dedup lookup: the bridge's usual completion, sent as one batch.
func plainAck(c store.Completion) bool {
	if c.DeadReason != "" || c.Retry != nil || c.Payload != nil {
		return false
	}
	for _, it := range c.Enqueue {
		if it.DedupKey != "" && it.DedupTTL > 0 {
			return false
		}
	}
	return true
}

// completeAck does a plain-ack Complete in one pipelined batch (one
// implicit transaction: one round trip, one commit). sb_ack_or_fail fails
// the whole batch if the item is not held, so nothing of it happens then.
func (s *Store) completeAck(ctx context.Context, c store.Completion) (store.CompleteResult, error) {
	if !store.ValidID(c.ID) {
		return store.CompleteResult{}, fmt.Errorf("%w: bad id %q", store.ErrNotFound, c.ID)
	}
	now := s.opt.Now().UnixNano()
	res := store.CompleteResult{}
	b := &pgx.Batch{}
	b.Queue(`SELECT sb_ack_or_fail($1, $2, $3, $4)`, []byte(c.Lane), c.ID, int64(c.Token), now)
	for _, it := range c.Enqueue {
		id := store.NewID(time.Unix(0, now))
		res.IDs = append(res.IDs, id)
		b.Queue(`SELECT sb_put($1, $2, $3, $4, 0, $5, $5, $5, '')`, id, []byte(it.Lane), []byte(it.Key), nonNil(it.Payload), now)
	}
	for _, rc := range c.Receipts {
		if rc.ItemID == "" {
			rc.ItemID = c.ID
		}
		b.Queue(receiptUpsert, receiptArgs(rc, now+int64(s.opt.ReceiptTTL))...)
	}
	for _, k := range c.DropDedup {
		b.Queue(`DELETE FROM sb_dedup WHERE key = $1`, []byte(k))
	}
	for _, m := range c.Marks {
		sql, args := s.markStatement(m, now)
		b.Queue(sql, args...)
	}
	wake := map[string]bool{}
	err := s.once(ctx, func() error {
		clear(wake)
		br := s.pool.SendBatch(ctx, b)
		var code int
		err := br.QueryRow().Scan(&code)
		if code == 1 {
			wake[c.Lane] = true
		}
		for _, it := range c.Enqueue {
			var head bool
			if e := br.QueryRow().Scan(&head); e != nil && err == nil {
				err = e
			}
			if head {
				wake[it.Lane] = true
			}
		}
		for range len(c.Receipts) + len(c.DropDedup) + len(c.Marks) {
			if _, e := br.Exec(); e != nil && err == nil {
				err = e
			}
		}
		if e := br.Close(); e != nil && err == nil {
			err = e
		}
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "SBNF1":
			return store.CompleteResult{}, fmt.Errorf("%w: %s", store.ErrNotFound, c.ID)
		case "SBNF2":
			return store.CompleteResult{}, fmt.Errorf("%w: %s is not in lane %q", store.ErrNotFound, c.ID, c.Lane)
		case "SBSTL":
			return store.CompleteResult{}, fmt.Errorf("%w: %s (token %d)", store.ErrStaleLease, c.ID, c.Token)
		}
	}
	if err != nil {
		return store.CompleteResult{}, err
	}
	s.wakeLocal(wake)
	s.notify(wake)
	return res, nil
}

func (w *wtx) retry(x *row, spec *store.RetrySpec) (bool, error) {
	if !spec.Wait {
		x.attempts++
	}
	x.lastError = spec.Cause
	p := w.s.opt.Retry
	if reason := p.DeadReason(x.attempts, x.lastError, time.Unix(0, x.ageFrom), time.Unix(0, w.now), spec.Wait); reason != "" {
		if err := w.unqueue(x); err != nil {
			return false, err
		}
		return true, w.toDead(x, reason)
	}
	delay := spec.Delay
	if delay <= 0 {
		delay = p.Backoff(x.attempts)
	}
	t := w.now + int64(delay)
	_, err := w.tx.Exec(w.ctx, `UPDATE sb_items SET attempts = $2, last_error = $3, payload = $4, next_due = $5, idx = $5,
	leased = false, token = 0 WHERE id = $1`, x.id, x.attempts, []byte(x.lastError), x.payload, t)
	if x.head {
		w.wake[x.lane] = true
	}
	return false, err
}

func (w *wtx) sideEffects(itemID string, receipts []store.Receipt, dropDedup []string, marks []store.Mark) error {
	for _, rc := range receipts {
		if rc.ItemID == "" {
			rc.ItemID = itemID
		}
		if err := w.putReceipt(rc); err != nil {
			return err
		}
	}
	for _, k := range dropDedup {
		if _, err := w.tx.Exec(w.ctx, `DELETE FROM sb_dedup WHERE key = $1`, []byte(k)); err != nil {
			return err
		}
	}
	for _, m := range marks {
		if err := w.putMark(m); err != nil {
			return err
		}
	}
	return nil
}
