package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// List returns up to limit queued items (leased or not) of lane: first
// the heads of its keys in due order, then the items waiting behind them,
// key by key in their order; or of every lane in id (creation) order when
// lane is "". A limit of 0 or less means no limit.
func (s *Store) List(ctx context.Context, lane string, limit int) ([]Item, error) {
	var items []Item
	err := s.view(func(tx *bolt.Tx) error {
		if lane == "" {
			return scan(ctx, tx.Bucket(bktItems), "", limit, &items)
		}
		prefix := laneKey(nil, lane)
		b := tx.Bucket(bktItems)
		add := func(u id, heads bool) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := decodeRecord(b.Get(u[:]))
			if err != nil {
				return err
			}
			if r.head == heads {
				items = append(items, r.item(u))
			}
			return nil
		}
		c := tx.Bucket(bktDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if limit > 0 && len(items) >= limit {
				return nil
			}
			if err := add(id(k[len(k)-16:]), true); err != nil {
				return err
			}
		}
		c = tx.Bucket(bktKeys).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if limit > 0 && len(items) >= limit {
				return nil
			}
			if len(v) != 16 {
				return fmt.Errorf("%w: bad key order entry", ErrCorrupt)
			}
			if err := add(id(v), false); err != nil {
				return err
			}
		}
		return nil
	})
	return items, err
}

// ListDead returns up to limit dead letters of lane ("" = all lanes), in id
// (creation) order. A limit of 0 or less means no limit.
func (s *Store) ListDead(ctx context.Context, lane string, limit int) ([]Item, error) {
	var items []Item
	err := s.view(func(tx *bolt.Tx) error {
		return scan(ctx, tx.Bucket(bktDead), lane, limit, &items)
	})
	return items, err
}

func scan(ctx context.Context, b *bolt.Bucket, lane string, limit int, items *[]Item) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if limit > 0 && len(*items) >= limit {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		if len(k) == 16 && (lane == "" || r.lane == lane) {
			*items = append(*items, r.item(id(k)))
		}
	}
	return nil
}

// Get returns a queued item or a dead letter by id (DeadReason tells which),
// or ErrNotFound.
func (s *Store) Get(ctx context.Context, sid string) (Item, error) {
	u, ok := parseID(sid)
	if !ok {
		return Item{}, fmt.Errorf("%w: bad id %q", ErrNotFound, sid)
	}
	var it Item
	err := s.view(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bktItems, bktDead} {
			if v := tx.Bucket(name).Get(u[:]); v != nil {
				r, err := decodeRecord(v)
				it = r.item(u)
				return err
			}
		}
		return fmt.Errorf("%w: %s", ErrNotFound, sid)
	})
	return it, err
}

// Requeue moves a dead letter back to its lane's queue, with its attempt
// count reset and its MaxAge counted from now. It joins the end of its
// key's order (due now if that makes it the head). Durable on return.
func (s *Store) Requeue(ctx context.Context, sid string) error {
	u, ok := parseID(sid)
	if !ok {
		return fmt.Errorf("%w: bad id %q", ErrNotFound, sid)
	}
	return s.update(ctx, func(w *wtx) error {
		if _, err := w.dead(u); err != nil {
			return clean(err)
		}
		return w.requeue(u)
	})
}

func (w *wtx) dead(u id) (record, error) {
	v := w.tx.Bucket(bktDead).Get(u[:])
	if v == nil {
		return record{}, fmt.Errorf("%w: no dead letter %s", ErrNotFound, u)
	}
	return decodeRecord(v)
}

func (w *wtx) requeue(u id) error {
	r, err := w.dead(u)
	if err != nil {
		return err
	}
	if err := w.tx.Bucket(bktDead).Delete(u[:]); err != nil {
		return err
	}
	w.delta(r.lane).Dead--
	r.attempts, r.deadReason, r.deadAt = 0, "", 0
	r.ageFrom, r.nextDue = w.now, w.now
	return w.putNew(u, &r, false)
}

// Drop deletes a dead letter. It never touches a queued item: for an id
// that is queued (or unknown) it returns ErrNotFound. Durable on return.
func (s *Store) Drop(ctx context.Context, sid string) error {
	return s.DropDead(ctx, sid)
}

// DropDead deletes a dead letter and enqueues follow-ups (e.g. the
// "failed" status the platform must hear) in the same transaction. Like
// Drop, ErrNotFound (and nothing changed) unless sid is a dead letter.
func (s *Store) DropDead(ctx context.Context, sid string, enqueue ...NewItem) error {
	return s.SettleDead(ctx, sid, enqueue, nil)
}

// SettleDead settles a dead letter in one transaction: the dead letter is
// deleted, the follow-ups enqueued and the receipt mappings put (an empty
// ItemID is set to sid). It is how a late submit_sm_resp settles an MT
// dead-lettered with an unknown outcome. If sid is not a dead letter (an
// operator requeued it meanwhile, or it is gone), nothing changes and
// ErrNotFound is returned.
func (s *Store) SettleDead(ctx context.Context, sid string, enqueue []NewItem, receipts []Receipt) error {
	u, ok := parseID(sid)
	if !ok {
		return fmt.Errorf("%w: bad id %q", ErrNotFound, sid)
	}
	for _, it := range enqueue {
		if err := checkNew(it); err != nil {
			return err
		}
	}
	for _, r := range receipts {
		if err := checkReceipt(r); err != nil {
			return err
		}
	}
	return s.update(ctx, func(w *wtx) error {
		if _, err := w.dead(u); err != nil {
			return clean(err)
		}
		if err := w.drop(u); err != nil {
			return err
		}
		for _, it := range enqueue {
			if _, _, err := w.enqueue(it); err != nil {
				return err
			}
		}
		return w.sideEffects(sid, receipts, nil, nil)
	})
}

func (w *wtx) drop(u id) error {
	r, err := w.dead(u)
	if err != nil {
		return err
	}
	w.delta(r.lane).Dead--
	return w.tx.Bucket(bktDead).Delete(u[:])
}

// RequeueLane requeues every dead letter of lane and returns how many.
func (s *Store) RequeueLane(ctx context.Context, lane string) (int, error) {
	return s.eachDead(ctx, lane, (*wtx).requeue)
}

// DropLane deletes every dead letter of lane (queued items are left alone)
// and returns how many.
func (s *Store) DropLane(ctx context.Context, lane string) (int, error) {
	return s.eachDead(ctx, lane, (*wtx).drop)
}

// eachDead applies fn to the dead letters of lane in transactions of up to
// 1000, so a long list never holds up other writers for long.
func (s *Store) eachDead(ctx context.Context, lane string, fn func(*wtx, id) error) (int, error) {
	if lane == "" {
		return 0, invalid("empty lane")
	}
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(w *wtx) error {
			n = 0
			var ids []id
			c := w.tx.Bucket(bktDead).Cursor()
			for k, v := c.First(); k != nil && len(ids) < 1000; k, v = c.Next() {
				r, err := decodeRecord(v)
				if err != nil {
					return err
				}
				if len(k) == 16 && r.lane == lane {
					ids = append(ids, id(k))
				}
			}
			for _, u := range ids {
				if err := fn(w, u); err != nil {
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
