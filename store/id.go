package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// id is a UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, the version,
// a 12-bit counter (rand_a, "method 1" of §6.2) that keeps ids from one
// process strictly increasing within a millisecond, the variant and 62
// random bits. Ids sort by creation time, and two nodes never collide.
type id [16]byte

var idGen struct {
	sync.Mutex
	ms  uint64
	seq uint16
}

// newID returns a fresh id for time now. Ids made by one process are
// strictly increasing even if the clock steps back.
func newID(now time.Time) id {
	var u id
	if _, err := rand.Read(u[6:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	ms := uint64(max(now.UnixMilli(), 0))
	idGen.Lock()
	switch {
	case ms > idGen.ms:
		idGen.ms, idGen.seq = ms, binary.BigEndian.Uint16(u[6:8])&0x7ff // leave headroom
	case idGen.seq < 0xfff:
		idGen.seq++
	default:
		idGen.ms++
		idGen.seq = 0
	}
	ms, seq := idGen.ms, idGen.seq
	idGen.Unlock()
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[:6], ts[2:])
	binary.BigEndian.PutUint16(u[6:8], 0x7000|seq)
	u[8] = u[8]&0x3f | 0x80
	return u
}

// String returns the canonical 36-character form.
func (u id) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	hex.Encode(b[9:13], u[4:6])
	hex.Encode(b[14:18], u[6:8])
	hex.Encode(b[19:23], u[8:10])
	hex.Encode(b[24:], u[10:])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

// parseID reads the canonical form written by String.
func parseID(s string) (id, bool) {
	var u id
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	raw := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if n, err := hex.Decode(u[:], []byte(raw)); err != nil || n != 16 {
		return u, false
	}
	return u, true
}

// IDTime returns the creation time encoded in an item id (millisecond
// precision), and false if s is not an id made by this package.
func IDTime(s string) (time.Time, bool) {
	u, ok := parseID(s)
	if !ok {
		return time.Time{}, false
	}
	var ts [8]byte
	copy(ts[2:], u[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ts[:]))), true
}
