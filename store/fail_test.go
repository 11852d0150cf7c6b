package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	MustOpen(t, Options{Path: path})
	_, err := Open(Options{Path: path, LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := MustOpen(t, Options{Path: good})
	MustEnqueue(t, s, "l", "x")
	s.Close()
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	metaless := bytes.Clone(raw)
	for _, off := range []int{0, os.Getpagesize()} { // both meta pages
		copy(metaless[off+16:off+64], bytes.Repeat([]byte{0xff}, 48))
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	db.Close()
	foreignRaw, _ := os.ReadFile(foreign)

	for name, content := range map[string][]byte{
		"garbage":      bytes.Repeat([]byte("not a database "), 1000),
		"short":        []byte("x"),
		"meta pages":   metaless,
		"foreign file": foreignRaw,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{Path: path})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
				t.Error("Open modified the corrupt file")
			}
		})
	}
}

func TestCorruptRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s := MustOpen(t, Options{Path: path})
	id := MustEnqueue(t, s, "l", "x")
	s.Close()
	db, _ := bolt.Open(path, 0o600, nil)
	u, _ := parseID(id)
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktItems).Put(u[:], []byte{9, 9}) })
	db.Close()
	s = MustOpen(t, Options{Path: path})
	if _, err := s.Get(context.Background(), id); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get(corrupt record) = %v, want ErrCorrupt", err)
	}
	if err := s.Ack(context.Background(), "l", id, tokenOf(s, id)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Ack(corrupt record) = %v, want ErrCorrupt", err)
	}
}

// TestNoSpace fills a 1 MiB tmpfs (it needs root for mount(2) and skips
// without it), checks that Enqueue fails with ErrNoSpace and that the store
// works again, with nothing lost, once space is freed.
func TestNoSpace(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 256<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "q.db")
	s := MustOpen(t, Options{Path: path})
	payload := bytes.Repeat([]byte("x"), 32<<10)
	var ids []string
	var err error
	for range 100 {
		var id string
		if id, _, err = s.Enqueue(ctx, NewItem{Lane: "l", Payload: payload}); err != nil {
			break
		}
		ids = append(ids, id)
	}
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Enqueue on a full disk = %v, want ErrNoSpace wrapping ENOSPC", err)
	}
	if n := s.Stats()["l"].Queued; n != len(ids) {
		t.Errorf("Queued = %d, want %d (the failed enqueue must not count)", n, len(ids))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Payload: payload}); err != nil {
		t.Fatalf("Enqueue after freeing space = %v", err)
	}
	for _, id := range ids[:min(len(ids), 5)] {
		if err := s.Ack(ctx, "l", id, tokenOf(s, id)); err != nil {
			t.Fatalf("Ack after freeing space = %v", err)
		}
	}
	s.Close()
	s = MustOpen(t, Options{Path: path})
	if n := s.Stats()["l"].Queued; n != len(ids)+1-min(len(ids), 5) {
		t.Errorf("after reopen, Queued = %d, want %d", n, len(ids)+1-min(len(ids), 5))
	}
	items, err := s.List(ctx, "l", 0)
	if err != nil || len(items) != s.Stats()["l"].Queued {
		t.Errorf("List = %d items, %v", len(items), err)
	}
}

func TestCompact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "q.db"), filepath.Join(dir, "small.db")
	s := MustOpen(t, Options{Path: src})
	fill(t, s, "l", 300)
	items, _ := s.List(ctx, "l", 0)
	keep := items[0].ID
	ackAll(t, s, items[1:])
	if err := Compact(src, dst); !errors.Is(err, ErrLocked) {
		t.Fatalf("Compact of an open store = %v, want ErrLocked", err)
	}
	s.Close()
	if err := Compact(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := Compact(src, dst); err == nil {
		t.Error("Compact over an existing file succeeded")
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(dst)
	if b.Size() > a.Size() {
		t.Errorf("compacted %d bytes > original %d", b.Size(), a.Size())
	}
	t.Logf("compact: %d → %d bytes", a.Size(), b.Size())
	s = MustOpen(t, Options{Path: dst})
	if it, err := s.Get(ctx, keep); err != nil || len(it.Payload) != 100 {
		t.Errorf("Get after compact = %v", err)
	}
	if st := s.Stats()["l"]; st.Queued != 1 {
		t.Errorf("Stats after compact = %+v", st)
	}
}

func TestIDs(t *testing.T) {
	now := time.Now()
	prev := newID(now)
	for i := range 10000 {
		u := newID(now) // same millisecond: the counter must keep order
		if bytes.Compare(u[:], prev[:]) <= 0 {
			t.Fatalf("id %d: %s not after %s", i, u, prev)
		}
		if u[6]>>4 != 7 || u[8]>>6 != 2 {
			t.Fatalf("id %s: version/variant bits wrong", u)
		}
		prev = u
	}
	s := prev.String()
	if back, ok := parseID(s); !ok || back != prev {
		t.Errorf("parseID(%s) = %s, %v", s, back, ok)
	}
	if tm, ok := IDTime(newID(now).String()); !ok || tm.UnixMilli() < now.UnixMilli() {
		t.Errorf("IDTime = %s, %v; want ≥ %s", tm, ok, now)
	}
	for _, bad := range []string{"", "x", strings.Repeat("z", 36), "0190a0b0-c0d0-7e0f-8000-00000000000"} {
		if _, ok := parseID(bad); ok {
			t.Errorf("parseID(%q) ok", bad)
		}
	}
}

func TestCompactInPlace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	s := MustOpen(t, Options{Path: path})
	fill(t, s, "l", 500)
	items, _ := s.List(ctx, "l", 0)
	ackAll(t, s, items[1:])
	if _, _, err := CompactInPlace(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("CompactInPlace of an open store = %v, want ErrLocked", err)
	}
	s.Close()
	before, after, err := CompactInPlace(path)
	if err != nil || after >= before {
		t.Fatalf("CompactInPlace = %d → %d, %v", before, after, err)
	}
	s = MustOpen(t, Options{Path: path})
	if it, err := s.Get(ctx, items[0].ID); err != nil || len(it.Payload) != 100 {
		t.Errorf("Get after compact = %v", err)
	}
	if matches, _ := filepath.Glob(path + ".*"); len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
}

// An Open waiting for the lock while the file is replaced (as
// CompactInPlace does) ends up with the new file, not the unlinked one.
func TestOpenReplacedWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "q.db"), filepath.Join(dir, "new.db")
	holder := MustOpen(t, Options{Path: path})
	MustEnqueue(t, holder, "old", "x")
	s2 := MustOpen(t, Options{Path: other})
	MustEnqueue(t, s2, "new", "y")
	s2.Close()

	opened := make(chan *Store)
	go func() {
		s, err := Open(Options{Path: path, LockTimeout: time.Minute})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	for openFDs(t, path) < 2 { // the holder's and the waiter's
		time.Sleep(time.Millisecond)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	s := <-opened
	if s == nil {
		return
	}
	defer s.Close()
	if st := s.Stats(); st["new"].Queued != 1 || st["old"].Queued != 0 {
		t.Errorf("Stats = %+v: opened the replaced file", st)
	}
}

// openFDs counts this process's descriptors open on path.
func openFDs(t *testing.T, path string) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			n++
		}
	}
	return n
}

// ackAll acks items from 16 goroutines (group commit keeps it quick).
func ackAll(t *testing.T, s *Store, items []Item) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < len(items); i += 16 {
				if err := s.Ack(context.Background(), items[i].Lane, items[i].ID, items[i].Token); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
