package store

import (
	"bytes"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// oldestScan bounds how many due heads OldestQueued reads per lane.
const oldestScan = 1000

// OldestQueued returns, per lane with queued items, when its oldest
// queued item was created, for the status page and metrics. It reads the
// heads of the lane's keys in due order, at most 1,000 per lane, so with
// more keys than that it is the oldest of the earliest-due heads.
func (s *Store) OldestQueued() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktDue).Cursor()
		for k, _ := c.First(); k != nil; {
			if len(k) < 2 {
				k, _ = c.Next()
				continue
			}
			n := int(binary.BigEndian.Uint16(k))
			if len(k) < 2+n+8+16 {
				k, _ = c.Next()
				continue
			}
			prefix := append([]byte(nil), k[:2+n]...)
			lane := string(k[2 : 2+n])
			seen := 0
			for ; k != nil && bytes.HasPrefix(k, prefix) && seen < oldestScan; k, _ = c.Next() {
				var u id
				copy(u[:], k[len(k)-16:])
				if t, ok := IDTime(u.String()); ok && (out[lane].IsZero() || t.Before(out[lane])) {
					out[lane] = t
				}
				seen++
			}
			// Skip to the next lane.
			next := append(prefix, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
			if k != nil && bytes.HasPrefix(k, prefix) {
				k, _ = c.Seek(next)
			}
		}
		return nil
	})
	return out, err
}

// ReassemblyOpen is how many long MO are waiting for more parts.
func (s *Store) ReassemblyOpen() (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bktGroups).Stats().KeyN
		return nil
	})
	return n, err
}
