package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// NewItem is work to queue.
type NewItem struct {
	Lane string // required; e.g. "mt:agg-a", "http:rp-main"
	// Key is the ordering key within the lane (e.g. channel and contact).
	// Items of one key are handed out one at a time, in enqueue order: only
	// the oldest (the key's head) can be leased, and the next one only once
	// the head is acked, completed or dead-lettered. "" means the item is
	// alone in its own key, ordered with nothing.
	Key     string
	Payload []byte // stored as is (copied)
	// DedupKey, when set with a positive DedupTTL, makes the enqueue
	// idempotent: while an earlier enqueue of the same key is younger than
	// its DedupTTL, Enqueue returns that first id with dup = true and
	// queues nothing (whether or not the first item is still queued).
	DedupKey string
	DedupTTL time.Duration
	// Claim asks to lease the item in the transaction that queues it, when
	// it becomes its key's head there (its key had nothing queued and it
	// is not a dedup hit): Add (or Complete, for follow-ups) returns it
	// leased with a Token, as Lease would have handed it out, and Lease
	// does not hand it out until LeaseTTL has passed. A worker that has a
	// place for it thus saves the lease commit. A backend may not support
	// it: then nothing is leased and the item waits for Lease as usual.
	Claim bool
}

// Added is what Add did.
type Added struct {
	ID  string
	Dup bool // a dedup hit: ID is the first item's
	// Leased is the item, leased, if NewItem.Claim was honoured; else nil.
	Leased *Item
}

// Item is a queued item or a dead letter. Its ID is the same for its whole
// life, across retries, dead-lettering and requeues.
type Item struct {
	ID         string
	Lane       string
	Key        string // ordering key (NewItem.Key)
	Payload    []byte
	Attempts   int       // failed attempts so far (Retry calls)
	FirstSeen  time.Time // when it was first enqueued
	NextDue    time.Time // when it is (was) due
	LastError  string    // cause given to the last Retry
	DeadReason string    // why it was dead-lettered; empty for queued items
	DeadAt     time.Time // when it was dead-lettered; zero for queued items
	// Token is the lease token, set on items returned by Lease and
	// LeaseWait (0 on listings and dead letters). Ack, Retry, Dead and
	// Complete must pass it back: once the item has been leased again (its
	// lease ran out) or the store was reopened, the old token is refused
	// with ErrStaleLease.
	Token uint64
}

// Enqueue adds an item, due now (for a keyed item: due once it is the head
// of its key), and returns its id once the transaction holding it is
// fsynced. See NewItem.DedupKey for dup.
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

// Add is Enqueue that also honours NewItem.Claim.
func (s *Store) Add(ctx context.Context, it NewItem) (a Added, err error) {
	if err := checkNew(it); err != nil {
		return a, err
	}
	err = s.update(ctx, func(w *wtx) (err error) {
		a, err = w.add(it)
		return err
	})
	if err != nil {
		return Added{}, err
	}
	return a, nil
}

// LaneKey names the items of one ordering key of one lane.
type LaneKey struct{ Lane, Key string }

// AddUnlessBusy queues items in one transaction, each as Add would (Claim
// included), unless busy's key has items queued in its lane: then it
// queues nothing and ok is false. An MO routed as it arrives goes straight
// to its platform's lane this way, unless an earlier MO of its sender still
// waits to be routed (it must not overtake it). A zero busy queues
// unconditionally.
func (s *Store) AddUnlessBusy(ctx context.Context, busy LaneKey, items ...NewItem) (added []Added, ok bool, err error) {
	for _, it := range items {
		if err := checkNew(it); err != nil {
			return nil, false, err
		}
	}
	err = s.update(ctx, func(w *wtx) error {
		added, ok = nil, false
		if busy.Lane != "" && busy.Key != "" {
			prefix := keyPrefix(busy.Lane, busy.Key)
			if k, _ := w.tx.Bucket(bktKeys).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				return nil
			}
		}
		for _, it := range items {
			a, err := w.add(it)
			if err != nil {
				return err
			}
			added = append(added, a)
		}
		ok = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return added, ok, nil
}

func checkNew(it NewItem) error {
	if it.Lane == "" || len(it.Lane) > maxKeyString {
		return invalid("lane must be 1..%d bytes", maxKeyString)
	}
	if len(it.Key) > maxKeyString {
		return invalid("ordering key longer than %d bytes", maxKeyString)
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
	a, err := w.add(it)
	return a.ID, a.Dup, err
}

func (w *wtx) add(it NewItem) (Added, error) {
	if err := checkNew(it); err != nil {
		return Added{}, err
	}
	dedup := it.DedupKey != "" && it.DedupTTL > 0
	if dedup {
		if first, ok, err := w.dedupLookup(it.DedupKey); err != nil || ok {
			return Added{ID: first, Dup: ok}, err
		}
	}
	u := newID(time.Unix(0, w.now))
	r := record{lane: it.Lane, key: it.Key, payload: it.Payload, firstSeen: w.now, ageFrom: w.now, nextDue: w.now, idx: w.now}
	if err := w.putNew(u, &r, it.Claim); err != nil {
		return Added{}, err
	}
	if dedup {
		if err := w.dedupPut(it.DedupKey, u, w.now+int64(it.DedupTTL)); err != nil {
			return Added{}, err
		}
	}
	a := Added{ID: u.String()}
	if r.leased {
		it := r.item(u)
		it.Token = r.token
		a.Leased = &it
	}
	return a, nil
}

// putNew queues r (new, or a requeued dead letter) at the end of its key,
// due at r.nextDue if it is the key's head, and counts it in its lane. With
// claim, a head is leased instead (NewItem.Claim).
func (w *wtx) putNew(u id, r *record, claim bool) error {
	r.head, r.leased, r.token = true, false, 0
	if r.key != "" {
		r.seq = w.next()
		prefix := keyPrefix(r.lane, r.key)
		if k, _ := w.tx.Bucket(bktKeys).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			r.head = false // the key has items already: wait behind them
		}
		keys := w.tx.Bucket(bktKeys)
		keys.FillPercent = 0.9 // seqs grow: inserts are appends within a key
		if err := keys.Put(keyEntry(r), u[:]); err != nil {
			return err
		}
	}
	r.idx = r.nextDue
	w.delta(r.lane).Queued++
	if claim && r.head && r.nextDue <= w.now {
		r.leased, r.token, r.idx = true, w.next(), w.now+int64(w.s.opt.LeaseTTL)
		w.delta(r.lane).Leased++
		if err := w.tx.Bucket(bktLeased).Put(u[:], nil); err != nil {
			return err
		}
	}
	return w.putQueued(u, r)
}

// putQueued writes r to the items bucket and, if it is the head of its key,
// to the time index.
func (w *wtx) putQueued(u id, r *record) error {
	items := w.tx.Bucket(bktItems)
	items.FillPercent = 0.9 // ids grow with time: inserts are appends (bbolt README, "Caveats")
	if err := items.Put(u[:], r.encode()); err != nil {
		return err
	}
	if !r.head {
		return nil
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

// held loads a queued item of lane for the holder of token: ErrStaleLease
// if the item's current lease token is another (token 0 matches only an
// item that has not been leased since its last retry or the last Open).
func (w *wtx) held(lane, sid string, token uint64) (id, record, error) {
	u, r, err := w.queued(lane, sid)
	if err == nil && r.token != token {
		err = fmt.Errorf("%w: %s (token %d, current %d)", ErrStaleLease, sid, token, r.token)
	}
	return u, r, err
}

// unqueue removes a queued item from the items bucket, the time index, its
// key's order and the lease set, and counts it out of its lane. If it was
// its key's head, the key's next item becomes the head.
func (w *wtx) unqueue(u id, r *record) error {
	if err := w.tx.Bucket(bktItems).Delete(u[:]); err != nil {
		return err
	}
	if r.head {
		if err := w.tx.Bucket(bktDue).Delete(dueKey(r.lane, r.idx, u)); err != nil {
			return err
		}
	}
	d := w.delta(r.lane)
	d.Queued--
	if r.leased {
		d.Leased--
		r.leased = false
		if err := w.tx.Bucket(bktLeased).Delete(u[:]); err != nil {
			return err
		}
	}
	r.token = 0
	if r.key == "" {
		return nil
	}
	if err := w.tx.Bucket(bktKeys).Delete(keyEntry(r)); err != nil {
		return err
	}
	if r.head {
		return w.promote(r.lane, r.key)
	}
	return nil
}

// promote makes the first waiting item of (lane, key), if any, its head,
// due at the later of its own due time and now.
func (w *wtx) promote(lane, key string) error {
	w.promoted = false
	prefix := keyPrefix(lane, key)
	k, v := w.tx.Bucket(bktKeys).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil
	}
	w.promoted = true
	if len(v) != 16 {
		return fmt.Errorf("%w: bad key order entry", ErrCorrupt)
	}
	u := id(v)
	nu, r, err := w.queued(lane, u.String())
	if err != nil {
		return fmt.Errorf("%w: key order names %s: %w", ErrCorrupt, u, err)
	}
	r.head = true
	r.idx = max(r.nextDue, w.now)
	r.nextDue = r.idx
	return w.putQueued(nu, &r)
}

// leaseHead leases the head of (lane, key) for ttl if it is due and not
// leased, and returns it with its token; nil if there is none.
func (w *wtx) leaseHead(lane, key string, ttl int64) (*Item, error) {
	prefix := keyPrefix(lane, key)
	k, v := w.tx.Bucket(bktKeys).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil, nil
	}
	if len(v) != 16 {
		return nil, fmt.Errorf("%w: bad key order entry", ErrCorrupt)
	}
	u := id(v)
	_, r, err := w.queued(lane, u.String())
	if err != nil {
		return nil, fmt.Errorf("%w: key order names %s: %w", ErrCorrupt, u, err)
	}
	if !r.head || r.leased || r.idx > w.now {
		return nil, nil
	}
	if err := w.reschedule(u, &r, w.now+ttl, true); err != nil {
		return nil, err
	}
	it := r.item(u)
	it.Token = r.token
	return &it, nil
}

// reschedule moves a queued item in the time index to t and writes it;
// lease says whether it is leased until t or due at t.
func (w *wtx) reschedule(u id, r *record, t int64, lease bool) error {
	if r.head {
		if err := w.tx.Bucket(bktDue).Delete(dueKey(r.lane, r.idx, u)); err != nil {
			return err
		}
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
	if lease {
		r.token = w.next()
	} else {
		r.nextDue, r.token = t, 0
	}
	return w.putQueued(u, r)
}

// toDead moves r (already unqueued, or new) into the dead letters.
func (w *wtx) toDead(u id, r *record, reason string) error {
	r.deadReason, r.deadAt = reason, w.now
	r.head, r.leased, r.token, r.seq = false, false, 0, 0
	w.delta(r.lane).Dead++
	return w.tx.Bucket(bktDead).Put(u[:], r.encode())
}

// Lease hands out up to max due items of lane: the heads of distinct keys
// (only a key's head is ever due), oldest due first, then in id (creation)
// order. Each carries a fresh Token. A leased item stays queued, and its key
// blocked, but it is not handed out again until LeaseTTL has passed, it is
// retried, or the store is reopened. Leases are not fsynced for their own
// sake (a lost lease only makes an item due early), but they share the
// commit of the batch they run in.
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
			it := r.item(u)
			it.Token = r.token
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err // the transaction rolled back: nothing is leased
	}
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

// peekDue reads (without a write transaction) whether lane has a due item,
// and if not when its first item falls due (0: none queued). Many waiters
// woken by one commit thus cost no empty write transactions.
func (s *Store) peekDue(lane string) (due bool, next int64, err error) {
	now := s.opt.Now().UnixNano()
	err = s.view(func(tx *bolt.Tx) error {
		prefix := laneKey(nil, lane)
		c := tx.Bucket(bktDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != len(prefix)+24 {
				continue
			}
			if t := be64(k[len(prefix):]); t > now {
				next = t
			} else {
				due = true
			}
			return nil
		}
		return nil
	})
	return due, next, err
}

// LeaseDue is Lease that costs no write transaction when nothing of lane
// is due (it looks first, in a read transaction): for a worker that asks
// often, e.g. between items handed to it by Add's claims.
func (s *Store) LeaseDue(ctx context.Context, lane string, max int) ([]Item, error) {
	due, _, err := s.peekDue(lane)
	if err != nil || !due {
		return nil, err
	}
	return s.Lease(ctx, lane, max)
}

// LeaseWait is Lease that waits for at least one item to be due. It wakes
// when a commit puts an item of the lane in the time index (an enqueue, a
// retry, a requeue, or a key's next item becoming its head) and when the
// earliest scheduled item or lease expiry of the lane comes due; it does not
// poll, and a wake-up with nothing due costs a read transaction only. It returns ctx.Err() when ctx ends and
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
		due, next, err := s.peekDue(lane)
		if err != nil {
			return nil, err
		}
		if due { // only then join a write transaction
			var items []Item
			items, next, err = s.lease(ctx, lane, max)
			if err != nil || len(items) > 0 {
				return items, err
			}
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

// Ack deletes a queued item of lane held under token (Item.Token): its
// work is done, and the next item of its key becomes the head. It returns
// once the deletion is fsynced; the item never comes back. ErrNotFound if
// it is not queued in lane (e.g. already acked), ErrStaleLease if it has
// been leased again since (see Item.Token); either way nothing changes.
func (s *Store) Ack(ctx context.Context, lane, id string, token uint64) error {
	return s.update(ctx, func(w *wtx) error {
		u, r, err := w.held(lane, id, token)
		if err != nil {
			return clean(err)
		}
		return w.unqueue(u, &r)
	})
}

// Retry records a failed attempt with its cause and schedules the next one:
// after delay if delay > 0 (the caller's Retry-After or throttle wins), else
// after the policy backoff. The item stays the head of its key, so the
// key's later items wait for it. If the attempt count reaches MaxAttempts,
// or the item is older than MaxAge, the item goes to the dead letters
// instead (unblocking its key) and dead is true. Durable (fsynced) on
// return. Token as for Ack. Complete with a RetrySpec does the same with
// follow-ups.
func (s *Store) Retry(ctx context.Context, lane, id string, token uint64, cause string, delay time.Duration) (dead bool, err error) {
	res, err := s.Complete(ctx, Completion{Lane: lane, ID: id, Token: token,
		Retry: &RetrySpec{Cause: cause, Delay: delay}})
	return res.Dead, err
}

// retry applies spec to a held item: rescheduled, or dead-lettered by the
// policy (then dead is true).
func (w *wtx) retry(u id, r *record, spec *RetrySpec) (dead bool, err error) {
	if !spec.Wait {
		r.attempts++
	}
	r.lastError = spec.Cause
	if reason := w.s.deadReason(r, w.now, spec.Wait); reason != "" {
		if err := w.unqueue(u, r); err != nil {
			return false, err
		}
		return true, w.toDead(u, r, reason)
	}
	delay := spec.Delay
	if delay <= 0 {
		delay = w.s.backoff(r.attempts)
	}
	return false, w.reschedule(u, r, w.now+int64(delay), false)
}

// deadReason says why r may not be retried (again), or "". A wait does not
// count as an attempt, so only MaxAge applies to it.
func (s *Store) deadReason(r *record, now int64, wait bool) string {
	p := s.opt.Retry
	switch {
	case !wait && p.MaxAttempts > 0 && r.attempts >= p.MaxAttempts:
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

// Dead moves a queued item of lane held under token to the dead letters
// with reason (a permanent error); the next item of its key becomes the
// head. Durable on return. Token as for Ack.
func (s *Store) Dead(ctx context.Context, lane, id string, token uint64, reason string) error {
	_, err := s.Complete(ctx, Completion{Lane: lane, ID: id, Token: token, DeadReason: reason})
	return err
}

// RetrySpec asks Complete to keep the item and schedule it again.
type RetrySpec struct {
	Cause string // recorded as the item's LastError
	// Delay, when positive, is the wait before the next attempt (the
	// caller's Retry-After or throttle); otherwise the policy backoff.
	Delay time.Duration
	// Wait marks a wait rather than a failed attempt (e.g. an MT waiting
	// for a bind): Attempts is not counted and MaxAttempts does not apply,
	// but MaxAge does, so a waiting item still expires.
	Wait bool
}

// Completion is everything that changes when the work of one item is done
// (or fails): it all happens in one transaction, or none of it does.
type Completion struct {
	Lane, ID string
	Token    uint64 // the lease token (Item.Token)
	// DeadReason, when set, dead-letters the item instead of deleting it.
	DeadReason string
	// Retry, when set, keeps the item (the head of its key) and schedules
	// it again, as Retry does, instead of deleting it. If the policy
	// (MaxAttempts, MaxAge) dead-letters it instead, OnDead is enqueued and
	// CompleteResult.Dead is true. Not together with DeadReason.
	Retry *RetrySpec
	// Payload, when non-nil, replaces the item's stored payload (with
	// Retry: progress kept for the next attempt; with DeadReason: what the
	// dead letter holds).
	Payload []byte
	// Enqueue are follow-up items (e.g. a status callback), queued in the
	// same transaction whatever the outcome. Dedup keys are honoured as in
	// Enqueue.
	Enqueue []NewItem
	// OnDead are follow-up items queued only if the item ends up a dead
	// letter in this call (DeadReason, or Retry past the policy).
	OnDead []NewItem
	// Receipts are receipt mappings to put; an empty ItemID is set to ID.
	Receipts []Receipt
	// DropDedup are dedup keys to forget, so that the next Enqueue with one
	// of them queues again (e.g. a platform resends a message the bridge
	// reported failed).
	DropDedup []string
	// Marks are small records to put (or delete: nil Value); see GetMark.
	Marks []Mark
	// LeaseNext asks, when the item leaves the queue (acked or
	// dead-lettered, not Retry), to lease the new head of its key in the
	// same transaction if it is due: CompleteResult.Next, with a fresh
	// Token, as Lease would hand it out. A worker thus goes on with the
	// key's next item without a lease commit of its own; that key skips
	// ahead of older heads of other keys (Lease's oldest-first order bends
	// for it). A backend may not support it: Next is then nil.
	LeaseNext bool
}

// CompleteResult is what Complete did.
type CompleteResult struct {
	// IDs are the follow-ups' ids in order: Enqueue, then OnDead if they
	// were queued (for a dedup hit, the first id).
	IDs []string
	// Dead is true if the item is now a dead letter.
	Dead bool
	// Due is when a rescheduled item (Retry) is due again; zero otherwise
	// (or from a backend that does not say).
	Due time.Time
	// Next is the key's next item, leased (Completion.LeaseNext), or nil.
	Next *Item
	// Leased are the follow-ups leased for their NewItem.Claim, in the
	// order of IDs (nil where not leased); nil if none was.
	Leased []*Item
}

func (c *Completion) check() error {
	if c.DeadReason != "" && c.Retry != nil {
		return invalid("completion with both DeadReason and Retry")
	}
	for _, it := range slices.Concat(c.Enqueue, c.OnDead) {
		if err := checkNew(it); err != nil {
			return err
		}
	}
	for _, r := range c.Receipts {
		if err := checkReceipt(r); err != nil {
			return err
		}
	}
	for _, k := range c.DropDedup {
		if k == "" || len(k) > maxKeyString {
			return invalid("dedup key must be 1..%d bytes", maxKeyString)
		}
	}
	for _, m := range c.Marks {
		if err := checkMark(m); err != nil {
			return err
		}
	}
	if len(c.Payload) > 64<<20 {
		return invalid("payload of %d bytes exceeds 64 MiB", len(c.Payload))
	}
	return nil
}

// Complete finishes the work of a held item in one transaction: it acks the
// item (the next item of its key becomes the head), dead-letters it
// (DeadReason) or reschedules it (Retry), replaces its payload, enqueues
// its follow-ups, puts its receipt mappings and marks and forgets dedup
// keys. After a crash either all of it happened or none of it. It returns
// once that transaction is fsynced. If the item is no longer queued
// (ErrNotFound) or was leased again since (ErrStaleLease: another worker
// has it after this lease expired), nothing is changed.
func (s *Store) Complete(ctx context.Context, c Completion) (res CompleteResult, err error) {
	if err := c.check(); err != nil {
		return res, err
	}
	err = s.update(ctx, func(w *wtx) error {
		res = CompleteResult{}
		w.promoted = false
		u, r, err := w.held(c.Lane, c.ID, c.Token)
		if err != nil {
			return clean(err)
		}
		if c.Payload != nil {
			r.payload = bytes.Clone(c.Payload)
		}
		switch {
		case c.DeadReason != "":
			if err := w.unqueue(u, &r); err != nil {
				return err
			}
			res.Dead = true
			err = w.toDead(u, &r, c.DeadReason)
		case c.Retry != nil:
			res.Dead, err = w.retry(u, &r, c.Retry)
			if !res.Dead && err == nil {
				res.Due = time.Unix(0, r.nextDue)
			}
		default:
			err = w.unqueue(u, &r)
		}
		if err != nil {
			return err
		}
		if c.LeaseNext && c.Retry == nil && r.key != "" && w.promoted {
			if res.Next, err = w.leaseHead(c.Lane, r.key, int64(s.opt.LeaseTTL)); err != nil {
				return err
			}
		}
		follow := c.Enqueue
		if res.Dead {
			follow = slices.Concat(c.Enqueue, c.OnDead)
		}
		for i, it := range follow {
			a, err := w.add(it)
			if err != nil {
				return err
			}
			res.IDs = append(res.IDs, a.ID)
			if a.Leased != nil {
				if res.Leased == nil {
					res.Leased = make([]*Item, len(follow))
				}
				res.Leased[i] = a.Leased
			}
		}
		return w.sideEffects(c.ID, c.Receipts, c.DropDedup, c.Marks)
	})
	if err != nil {
		return CompleteResult{}, err
	}
	return res, nil
}

// sideEffects puts receipt mappings (an empty ItemID becomes itemID) and
// marks, and forgets dedup keys.
func (w *wtx) sideEffects(itemID string, receipts []Receipt, dropDedup []string, marks []Mark) error {
	for _, rc := range receipts {
		if rc.ItemID == "" {
			rc.ItemID = itemID
		}
		if err := w.putReceipt(rc); err != nil {
			return err
		}
	}
	for _, k := range dropDedup {
		if err := w.dedupDrop(k); err != nil {
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
