package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
)

func (w *wtx) putReceipt(r store.Receipt) error {
	if err := r.Validate(); err != nil {
		return err
	}
	_, err := w.tx.Exec(w.ctx, receiptUpsert, receiptArgs(r, w.now+int64(w.s.opt.ReceiptTTL))...)
	return err
}

const receiptUpsert = `INSERT INTO sb_receipts (smsc, msg_id, item_id, channel, part, parts, data, expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (smsc, msg_id) DO UPDATE SET item_id = excluded.item_id,
channel = excluded.channel, part = excluded.part, parts = excluded.parts, data = excluded.data, expires = excluded.expires`

func receiptArgs(r store.Receipt, expires int64) []any {
	return []any{[]byte(r.SMSC), []byte(r.MsgID), r.ItemID, []byte(r.Channel), max(r.Part, 0), max(r.Parts, 0), r.Data, expires}
}

// PutReceipt stores receipt mappings on their own (Complete is the usual way).
func (s *Store) PutReceipt(ctx context.Context, rs ...store.Receipt) error {
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	return s.update(ctx, func(w *wtx) error {
		for _, r := range rs {
			if err := w.putReceipt(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// MatchReceipt looks up the unexpired mapping of (smsc, msgID), written by
// any node.
func (s *Store) MatchReceipt(ctx context.Context, smsc, msgID string) (store.Receipt, bool, error) {
	r := store.Receipt{SMSC: smsc, MsgID: msgID}
	var ch []byte
	err := s.pool.QueryRow(ctx, `SELECT item_id, channel, part, parts, data FROM sb_receipts
WHERE smsc = $1 AND msg_id = $2 AND expires > $3`, []byte(smsc), []byte(msgID), s.opt.Now().UnixNano()).
		Scan(&r.ItemID, &ch, &r.Part, &r.Parts, &r.Data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Receipt{}, false, nil
	case err != nil:
		return store.Receipt{}, false, err
	}
	r.Channel = string(ch)
	return r, true, nil
}

func (w *wtx) putMark(m store.Mark) error {
	sql, args := w.s.markStatement(m, w.now)
	_, err := w.tx.Exec(w.ctx, sql, args...)
	return err
}

// markStatement puts (or, with a nil Value, deletes) a mark.
func (s *Store) markStatement(m store.Mark, now int64) (string, []any) {
	if m.Value == nil {
		return `DELETE FROM sb_marks WHERE key = $1`, []any{[]byte(m.Key)}
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = s.opt.ReceiptTTL
	}
	return `INSERT INTO sb_marks (key, value, expires) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`, []any{[]byte(m.Key), nonNil(m.Value), now + int64(ttl)}
}

// GetMark returns the value of an unexpired mark.
func (s *Store) GetMark(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM sb_marks WHERE key = $1 AND expires > $2`, []byte(key), s.opt.Now().UnixNano()).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

func groupKey(p store.Part) []byte {
	var b []byte
	for _, s := range []string{p.SMSC, p.Source, p.Dest} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(p.Ref))
	b = append(b, byte(p.Total))
	if p.Wide {
		return append(b, 1)
	}
	return append(b, 0)
}

func partHash(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:8]
}

// AddPart stores one part of a concatenated MO (see store.Store.AddPart);
// parts of one message may arrive on different nodes.
func (s *Store) AddPart(ctx context.Context, p store.Part) (complete bool, id string, err error) {
	if err := p.Validate(); err != nil {
		return false, "", err
	}
	err = s.update(ctx, func(w *wtx) (err error) {
		complete, id, err = w.addPart(p)
		return err
	})
	return complete, id, err
}

type group struct {
	gkey      []byte
	lane, key string
	done      bool
	total     int
}

func (w *wtx) addPart(p store.Part) (bool, string, error) {
	k := groupKey(p)
	if err := w.lock('g', string(k)); err != nil {
		return false, "", err
	}
	h := partHash(p.Data)
	g := group{gkey: k}
	var lane, key []byte
	err := w.tx.QueryRow(w.ctx, `SELECT lane, key, done, total FROM sb_groups WHERE gkey = $1`, k).Scan(&lane, &key, &g.done, &g.total)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		g.total = 0
	case err != nil:
		return false, "", err
	default:
		g.lane, g.key = string(lane), string(key)
		var old []byte
		err := w.tx.QueryRow(w.ctx, `SELECT hash FROM sb_parts WHERE gkey = $1 AND seq = $2`, k, p.Seq).Scan(&old)
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return false, "", err
		}
		if found && slices.Equal(old, h) {
			return false, "", nil // duplicate
		}
		if found || g.done { // the reference was reused: a new message starts
			if !g.done {
				if err := w.closePartial(g); err != nil {
					return false, "", err
				}
			}
			if _, err := w.tx.Exec(w.ctx, `DELETE FROM sb_groups WHERE gkey = $1`, k); err != nil {
				return false, "", err
			}
			g.total = 0
		}
	}
	if g.total == 0 {
		g = group{gkey: k, lane: p.Lane, key: p.Key, total: p.Total}
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO sb_groups (gkey, lane, key, deadline, done, total) VALUES ($1, $2, $3, $4, false, $5)`,
			k, []byte(g.lane), []byte(g.key), w.now+int64(w.s.opt.ReassemblyTimeout), g.total); err != nil {
			return false, "", err
		}
	}
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO sb_parts (gkey, seq, hash, data) VALUES ($1, $2, $3, $4)`, k, p.Seq, h, nonNil(p.Data)); err != nil {
		return false, "", err
	}
	var n int
	if err := w.tx.QueryRow(w.ctx, `SELECT count(*) FROM sb_parts WHERE gkey = $1`, k).Scan(&n); err != nil {
		return false, "", err
	}
	if n < g.total {
		return false, "", nil
	}
	a, err := w.assemble(g)
	if err != nil {
		return false, "", err
	}
	id, _, err := w.enqueue(store.NewItem{Lane: g.lane, Key: g.key, Payload: store.EncodeParts(a)})
	if err != nil {
		return false, "", err
	}
	// A tombstone (hashes only) until the deadline, so a repeated part is ignored.
	if _, err := w.tx.Exec(w.ctx, `UPDATE sb_groups SET done = true WHERE gkey = $1`, k); err != nil {
		return false, "", err
	}
	_, err = w.tx.Exec(w.ctx, `UPDATE sb_parts SET data = NULL WHERE gkey = $1`, k)
	return true, id, err
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (w *wtx) assemble(g group) (store.Assembled, error) {
	a := store.Assembled{Parts: make([][]byte, g.total)}
	rows, err := w.tx.Query(w.ctx, `SELECT seq, data FROM sb_parts WHERE gkey = $1`, g.gkey)
	if err != nil {
		return a, err
	}
	for rows.Next() {
		var seq int
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			rows.Close()
			return a, err
		}
		if seq >= 1 && seq <= g.total {
			a.Parts[seq-1] = nonNil(data)
		}
	}
	if err := rows.Err(); err != nil {
		return a, err
	}
	for i, p := range a.Parts {
		if p == nil {
			a.Missing = append(a.Missing, i+1)
		}
	}
	return a, nil
}

// closePartial hands an incomplete set to Options.PartialMO.
func (w *wtx) closePartial(g group) error {
	a, err := w.assemble(g)
	if err != nil {
		return err
	}
	if w.s.opt.PartialMO == store.DeliverPartial {
		_, _, err := w.enqueue(store.NewItem{Lane: g.lane, Key: g.key, Payload: store.EncodeParts(a)})
		return err
	}
	x := row{id: store.NewID(timeOf(w.now)), lane: g.lane, key: g.key, payload: store.EncodeParts(a),
		firstSeen: w.now, nextDue: w.now}
	return w.toDead(&x, store.PartialReason(a.Missing, g.total))
}
