package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// NewItem is work to queue.
type NewItem struct {
	Lane    string // required; e.g. "mt:agg-a", "http:rp-main"
	Payload []byte // stored as is (copied)
	// DedupKey, when set with a positive DedupTTL, makes the enqueue
	// idempotent: while an earlier enqueue of the same key is younger than
	// its DedupTTL, Enqueue returns that first id with dup = true and
	// queues nothing (whether or not the first item is still queued).
	DedupKey string
	DedupTTL time.Duration
}

// Item is a queued item or a dead letter. Its ID is the same for its whole
// life, across retries, dead-lettering and requeues.
type Item struct {
	ID         string
	Lane       string
	Payload    []byte
	Attempts   int       // failed attempts so far (Retry calls)
	FirstSeen  time.Time // when it was first enqueued
	NextDue    time.Time // when it is (was) due
	LastError  string    // cause given to the last Retry
	DeadReason string    // why it was dead-lettered; empty for queued items
	DeadAt     time.Time // when it was dead-lettered; zero for queued items
}

// Enqueue adds an item, due now, and returns its id once the transaction
// holding it is fsynced. See NewItem.DedupKey for dup.
func (s *Store) Enqueue(ctx context.Context, it NewItem) (id string, dup bool, err error) {
	if err := checkNew(it); err != nil {
		return "", false, err
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

func checkNew(it NewItem) error {
	if it.Lane == "" || len(it.Lane) > maxKeyString {
		return invalid("lane must be 1..%d bytes", maxKeyString)
	}
	if len(it.DedupKey) > maxKeyString {
		return invalid("dedup key longer than %d bytes", maxKeyString)
	}
	if len(it.Payload) > 64<<20 {
		return invalid("payload of %d bytes exceeds 64 MiB", len(it.Payload))
	}
	return nil
}

func (w *wtx) enqueue(it NewItem) (string, bool, error) {
	if err := checkNew(it); err != nil {
		return "", false, err
	}
	dedup := it.DedupKey != "" && it.DedupTTL > 0
	if dedup {
		if first, ok, err := w.dedupLookup(it.DedupKey); err != nil || ok {
			return first, ok, err
		}
	}
	u := newID(time.Unix(0, w.now))
	r := record{lane: it.Lane, payload: it.Payload, firstSeen: w.now, ageFrom: w.now, nextDue: w.now, idx: w.now}
	if err := w.putQueued(u, &r); err != nil {
		return "", false, err
	}
	w.delta(it.Lane).Queued++
	if dedup {
		if err := w.dedupPut(it.DedupKey, u, w.now+int64(it.DedupTTL)); err != nil {
			return "", false, err
		}
	}
	return u.String(), false, nil
}

// putQueued writes r to the items bucket and the time index.
func (w *wtx) putQueued(u id, r *record) error {
	items := w.tx.Bucket(bktItems)
	items.FillPercent = 0.9 // ids grow with time: inserts are appends (bbolt README, "Caveats")
	if err := items.Put(u[:], r.encode()); err != nil {
		return err
	}
	w.wake[r.lane] = true
	return w.tx.Bucket(bktDue).Put(dueKey(r.lane, r.idx, u), nil)
}

// queued loads a queued item of lane; ErrNotFound if there is none.
func (w *wtx) queued(lane, sid string) (id, record, error) {
	u, ok := parseID(sid)
	if !ok {
		return u, record{}, fmt.Errorf("%w: bad id %q", ErrNotFound, sid)
	}
	v := w.tx.Bucket(bktItems).Get(u[:])
	if v == nil {
		return u, record{}, fmt.Errorf("%w: %s", ErrNotFound, sid)
	}
	r, err := decodeRecord(v)
	if err == nil && lane != "" && r.lane != lane {
		err = fmt.Errorf("%w: %s is not in lane %q", ErrNotFound, sid, lane)
	}
	return u, r, err
}

// unqueue removes a queued item from the items bucket, the time index and
// the lease set, and counts it out of its lane.
func (w *wtx) unqueue(u id, r *record) error {
	if err := w.tx.Bucket(bktItems).Delete(u[:]); err != nil {
		return err
	}
	if err := w.tx.Bucket(bktDue).Delete(dueKey(r.lane, r.idx, u)); err != nil {
		return err
	}
	d := w.delta(r.lane)
	d.Queued--
	if r.leased {
		d.Leased--
		r.leased = false
		return w.tx.Bucket(bktLeased).Delete(u[:])
	}
	return nil
}

// reschedule moves a queued item in the time index to t and writes it.
func (w *wtx) reschedule(u id, r *record, t int64, lease bool) error {
	if err := w.tx.Bucket(bktDue).Delete(dueKey(r.lane, r.idx, u)); err != nil {
		return err
	}
	if lease != r.leased {
		var err error
		if lease {
			w.delta(r.lane).Leased++
			err = w.tx.Bucket(bktLeased).Put(u[:], nil)
		} else {
			w.delta(r.lane).Leased--
			err = w.tx.Bucket(bktLeased).Delete(u[:])
		}
		if err != nil {
			return err
		}
	}
	r.idx, r.leased = t, lease
	if !lease {
		r.nextDue = t
	}
	return w.putQueued(u, r)
}

// toDead moves r (already unqueued, or new) into the dead letters.
func (w *wtx) toDead(u id, r *record, reason string) error {
	r.deadReason, r.deadAt = reason, w.now
	w.delta(r.lane).Dead++
	return w.tx.Bucket(bktDead).Put(u[:], r.encode())
}

// Lease hands out up to max items of lane that are due, oldest due first.
// A leased item stays queued but is not handed out again until LeaseTTL has
// passed, it is retried, or the store is reopened. Leases are not fsynced
// for their own sake (a lost lease only makes an item due early), but they
// share the commit of the batch they run in.
func (s *Store) Lease(ctx context.Context, lane string, max int) ([]Item, error) {
	items, _, err := s.lease(ctx, lane, max)
	return items, err
}

// lease also returns when the lane's next item falls due (0: none queued).
func (s *Store) lease(ctx context.Context, lane string, max int) (items []Item, next int64, err error) {
	if max <= 0 {
		return nil, 0, invalid("lease of %d items", max)
	}
	err = s.update(ctx, func(w *wtx) error {
		items, next = nil, 0
		keys := w.dueKeys(lane, max, &next)
		for _, k := range keys {
			u := id(k[len(k)-16:])
			_, r, err := w.queued(lane, u.String())
			if err != nil {
				return err
			}
			if err := w.reschedule(u, &r, w.now+int64(s.opt.LeaseTTL), true); err != nil {
				return err
			}
			items = append(items, r.item(u))
		}
		return nil
	})
	return items, next, err
}

// dueKeys returns up to max keys of lane due at w.now, copied out of the
// cursor before anything is changed (bbolt README caveat); if fewer are due
// it sets *next to the time of the first one not yet due.
func (w *wtx) dueKeys(lane string, max int, next *int64) [][]byte {
	prefix := laneKey(nil, lane)
	c := w.tx.Bucket(bktDue).Cursor()
	var keys [][]byte
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(keys) < max; k, _ = c.Next() {
		if len(k) != len(prefix)+24 {
			continue
		}
		if t := be64(k[len(prefix):]); t > w.now {
			*next = t
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// LeaseWait is Lease that waits for at least one item to be due. It wakes
// when a commit puts an item of the lane in the time index (enqueue, retry,
// requeue) and when the earliest scheduled item or lease expiry of the lane
// comes due; it does not poll. It returns ctx.Err() when ctx ends and
// ErrClosed when the store closes.
func (s *Store) LeaseWait(ctx context.Context, lane string, max int) ([]Item, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		woken := s.waitChan(lane) // before leasing: no wake-up is lost
		items, next, err := s.lease(ctx, lane, max)
		if err != nil || len(items) > 0 {
			return items, err
		}
		var fire <-chan time.Time
		if next > 0 {
			d := time.Duration(next - s.opt.Now().UnixNano())
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			fire = timer.C
		}
		select {
		case <-woken:
		case <-fire:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.quit:
			return nil, ErrClosed
		}
	}
}

// Ack deletes a queued item of lane: its work is done. It returns once the
// deletion is fsynced; the item never comes back. ErrNotFound if it is not
// queued in lane (e.g. already acked).
func (s *Store) Ack(ctx context.Context, lane, id string) error {
	return s.update(ctx, func(w *wtx) error {
		u, r, err := w.queued(lane, id)
		if err != nil {
			return clean(err)
		}
		return w.unqueue(u, &r)
	})
}

// Retry records a failed attempt with its cause and schedules the next one:
// after delay if delay > 0 (the caller's Retry-After or throttle wins), else
// after the policy backoff. If the attempt count reaches MaxAttempts, or the
// item is older than MaxAge, the item goes to the dead letters instead and
// dead is true. Durable (fsynced) on return.
func (s *Store) Retry(ctx context.Context, lane, id, cause string, delay time.Duration) (dead bool, err error) {
	err = s.update(ctx, func(w *wtx) error {
		u, r, err := w.queued(lane, id)
		if err != nil {
			return clean(err)
		}
		r.attempts++
		r.lastError = cause
		reason := s.deadReason(&r, w.now)
		dead = reason != ""
		if dead {
			if err := w.unqueue(u, &r); err != nil {
				return err
			}
			return w.toDead(u, &r, reason)
		}
		if delay <= 0 {
			delay = s.backoff(r.attempts)
		}
		return w.reschedule(u, &r, w.now+int64(delay), false)
	})
	return dead, err
}

func (s *Store) deadReason(r *record, now int64) string {
	p := s.opt.Retry
	switch {
	case p.MaxAttempts > 0 && r.attempts >= p.MaxAttempts:
		return fmt.Sprintf("max_attempts: %d attempts, last error: %s", r.attempts, r.lastError)
	case p.MaxAge > 0 && now-r.ageFrom >= int64(p.MaxAge):
		return fmt.Sprintf("max_age: older than %s, last error: %s", p.MaxAge, r.lastError)
	}
	return ""
}

// backoff is the policy delay before attempt n+1: uniform in
// [InitialBackoff, min(MaxBackoff, InitialBackoff·2ⁿ)].
func (s *Store) backoff(n int) time.Duration {
	lo, hi := s.opt.Retry.InitialBackoff, s.opt.Retry.MaxBackoff
	ceil := lo
	for i := 0; i < n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	if ceil <= lo {
		return lo
	}
	return lo + rand.N(ceil-lo+1)
}

// Dead moves a queued item of lane to the dead letters with reason (a
// permanent error). Durable on return.
func (s *Store) Dead(ctx context.Context, lane, id, reason string) error {
	return s.update(ctx, func(w *wtx) error {
		u, r, err := w.queued(lane, id)
		if err != nil {
			return clean(err)
		}
		if err := w.unqueue(u, &r); err != nil {
			return err
		}
		return w.toDead(u, &r, reason)
	})
}

// Completion is everything that changes when the work of one item is done.
type Completion struct {
	Lane, ID string
	// DeadReason, when set, dead-letters the item instead of deleting it.
	DeadReason string
	// Enqueue are follow-up items (e.g. a status callback), queued in the
	// same transaction. Dedup keys are honoured as in Enqueue.
	Enqueue []NewItem
	// Receipts are receipt mappings to put; an empty ItemID is set to ID.
	Receipts []Receipt
}

// Complete acks (or dead-letters) an item, enqueues its follow-ups and puts
// its receipt mappings in one transaction: after a crash either all of it
// happened or none of it. It returns the follow-ups' ids in order (for a
// dedup hit, the first id) once that transaction is fsynced. If the item
// is no longer queued (ErrNotFound: another worker completed it after this
// lease expired), nothing is changed.
func (s *Store) Complete(ctx context.Context, c Completion) (ids []string, err error) {
	for _, it := range c.Enqueue {
		if err := checkNew(it); err != nil {
			return nil, err
		}
	}
	for _, r := range c.Receipts {
		if err := checkReceipt(r); err != nil {
			return nil, err
		}
	}
	err = s.update(ctx, func(w *wtx) error {
		ids = ids[:0]
		u, r, err := w.queued(c.Lane, c.ID)
		if err != nil {
			return clean(err)
		}
		if err := w.unqueue(u, &r); err != nil {
			return err
		}
		if c.DeadReason != "" {
			if err := w.toDead(u, &r, c.DeadReason); err != nil {
				return err
			}
		}
		for _, it := range c.Enqueue {
			nid, _, err := w.enqueue(it)
			if err != nil {
				return err
			}
			ids = append(ids, nid)
		}
		for _, rc := range c.Receipts {
			if rc.ItemID == "" {
				rc.ItemID = c.ID
			}
			if err := w.putReceipt(rc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
