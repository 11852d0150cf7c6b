package pgstore

import (
	"context"
	"fmt"

	"github.com/smscbridge/smscbridge/store"
)

// Import writes entries exported from another store (store.Store.Export)
// in one transaction, keeping ids, attempts, due times and expiries.
// Queued items join the end of their keys in the order given (Export gives
// each key's items in order). What is already here (same item id, same
// receipt, mark or dedup key, same part) is left as it is, so an
// interrupted import can simply be run again.
func (s *Store) Import(ctx context.Context, entries []store.Entry) error {
	return s.update(ctx, func(w *wtx) error {
		for _, e := range entries {
			if err := w.importEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *wtx) importEntry(e store.Entry) error {
	switch {
	case e.Item != nil:
		it := e.Item
		if !store.ValidID(it.ID) {
			return fmt.Errorf("%w: import: bad id %q", store.ErrInvalid, it.ID)
		}
		var exists bool
		if err := w.tx.QueryRow(w.ctx, `SELECT EXISTS (SELECT 1 FROM sb_items WHERE id = $1) OR EXISTS (SELECT 1 FROM sb_dead WHERE id = $1)`,
			it.ID).Scan(&exists); err != nil || exists {
			return err
		}
		x := row{id: it.ID, lane: it.Lane, key: it.Key, payload: nonNil(it.Payload), attempts: it.Attempts,
			firstSeen: it.FirstSeen.UnixNano(), ageFrom: e.AgeFrom.UnixNano(), nextDue: it.NextDue.UnixNano(), lastError: it.LastError}
		if it.DeadReason != "" {
			_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_dead (id, lane, key, payload, attempts, first_seen, next_due, last_error, dead_reason, dead_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, x.id, []byte(x.lane), []byte(x.key), x.payload, x.attempts, x.firstSeen, x.nextDue,
				[]byte(x.lastError), []byte(it.DeadReason), it.DeadAt.UnixNano())
			return err
		}
		return w.putNew(&x)
	case e.Receipt != nil:
		r := e.Receipt
		_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_receipts (smsc, msg_id, item_id, channel, part, parts, data, expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (smsc, msg_id) DO NOTHING`,
			[]byte(r.SMSC), []byte(r.MsgID), r.ItemID, []byte(r.Channel), max(r.Part, 0), max(r.Parts, 0), r.Data, e.Expires.UnixNano())
		return err
	case e.Mark != nil:
		_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_marks (key, value, expires) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			[]byte(e.Mark.Key), nonNil(e.Mark.Value), e.Expires.UnixNano())
		return err
	case e.Dedup != nil:
		_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_dedup (key, item_id, expires) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			[]byte(e.Dedup.Key), e.Dedup.ItemID, e.Expires.UnixNano())
		return err
	case e.Part != nil:
		p := *e.Part
		if err := p.Validate(); err != nil {
			return err
		}
		k := groupKey(p)
		if err := w.lock('g', string(k)); err != nil {
			return err
		}
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO sb_groups (gkey, lane, key, deadline, done, total) VALUES ($1, $2, $3, $4, false, $5)
ON CONFLICT (gkey) DO NOTHING`, k, []byte(p.Lane), []byte(p.Key), e.Expires.UnixNano(), p.Total); err != nil {
			return err
		}
		_, err := w.tx.Exec(w.ctx, `INSERT INTO sb_parts (gkey, seq, hash, data) VALUES ($1, $2, $3, $4) ON CONFLICT (gkey, seq) DO NOTHING`,
			k, p.Seq, partHash(p.Data), nonNil(p.Data))
		return err
	}
	return fmt.Errorf("%w: import: empty entry", store.ErrInvalid)
}
