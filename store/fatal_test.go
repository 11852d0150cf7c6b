package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"
)

// reports collects what a store passes to Options.Report.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }

func (r *reports) get() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// failCommits makes every commit of s fail with err while on is true.
func failCommits(s *Store, err error) *atomic.Bool {
	on := new(atomic.Bool)
	s.failTx = func() error {
		if on.Load() {
			return err
		}
		return nil
	}
	return on
}

// The sweeper survives a failed round (here a full disk): it reports the
// error, waits and sweeps again, and the receipt expires once the disk has
// room again. It used to stop at its first error until a restart.
func TestSweeperKeepsRunningAfterAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rep reports
		s := MustOpen(t, Options{ReceiptTTL: time.Hour, SweepInterval: time.Second, Report: rep.add})
		ctx, cancel := context.WithCancel(context.Background())
		if err := s.PutReceipt(ctx, Receipt{SMSC: "a", MsgID: "1", ItemID: "x"}); err != nil {
			t.Fatal(err)
		}
		full := failCommits(s, fmt.Errorf("write: %w", syscall.ENOSPC))
		full.Store(true)
		ran := make(chan error, 1)
		go func() { ran <- s.Run(ctx) }()

		time.Sleep(time.Hour + 10*time.Second) // expired; a few rounds fail
		synctest.Wait()
		if n := len(rep.get()); n < 2 {
			t.Fatalf("%d failed rounds reported, want several (retries)", n)
		}
		for _, err := range rep.get() {
			if !errors.Is(err, ErrNoSpace) {
				t.Errorf("reported %v, want ErrNoSpace", err)
			}
		}
		if n := countKeys(t, s, bktRcpt); n != 1 {
			t.Fatalf("%d receipts while the disk is full, want 1", n)
		}
		if s.FatalErr() != nil {
			t.Fatalf("a full disk made the store fatal: %v", s.FatalErr())
		}

		full.Store(false)
		before := len(rep.get())
		time.Sleep(maxSweepWait + time.Second) // the longest wait between rounds
		synctest.Wait()
		if n := countKeys(t, s, bktRcpt) + countKeys(t, s, bktRcptX); n != 0 {
			t.Errorf("%d receipt keys left once the disk has room: the sweeper stopped", n)
		}
		if n := len(rep.get()); n != before {
			t.Errorf("%d errors reported after the disk got room", n-before)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v after ctx ended, want nil", err)
		}
	})
}

// A corrupt reassembly record or index key is skipped (deleted and
// reported), and the rest of the sweep goes on: the good set next to it is
// still delivered.
func TestSweepSkipsCorruptRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	clk := newClock()
	s := MustOpen(t, Options{Path: path, Now: clk.Now, ReassemblyTimeout: time.Minute})
	good, bad := part(1, 2, "good"), part(1, 2, "bad")
	bad.Ref = 8
	MustAddPart(t, s, good)
	MustAddPart(t, s, bad)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bktGroups).Put(groupKey(bad), []byte{9, 9, 9}); err != nil {
			return err
		}
		return tx.Bucket(bktRcptX).Put([]byte{1, 2}, nil) // an index key too short to hold a time
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var rep reports
	s = MustOpen(t, Options{Path: path, Now: clk.Now, ReassemblyTimeout: time.Minute, Report: rep.add})
	clk.Add(time.Minute)
	if err := s.Sweep(ctx); err != nil {
		t.Fatalf("Sweep = %v, want the corrupt records skipped", err)
	}
	items, _ := s.List(ctx, "in:a", 0)
	if len(items) != 1 {
		t.Fatalf("%d items, want the good set delivered partial", len(items))
	}
	if a := MustDecode(t, items[0].Payload); string(a.Parts[0]) != "good" {
		t.Errorf("delivered %q, want the good set", a.Parts)
	}
	if n := countKeys(t, s, bktGroups) + countKeys(t, s, bktGroupsX) + countKeys(t, s, bktRcptX); n != 0 {
		t.Errorf("%d keys left; the corrupt ones must be deleted", n)
	}
	errs := rep.get()
	if len(errs) != 2 || !errors.Is(errs[0], ErrCorrupt) || !errors.Is(errs[1], ErrCorrupt) {
		t.Errorf("reported %v, want two ErrCorrupt", errs)
	}
}

// A commit that fails for a reason other than a full disk makes the store
// fatal: the calls get ErrFatal (wrapping the cause), Fatal is closed,
// every later write is refused without touching the file, Run stops, and
// the file still holds what was committed before.
func TestCommitFailureIsFatal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	s := MustOpen(t, Options{Path: path})
	kept := MustEnqueue(t, s, "l", "before")

	// A full disk is not fatal.
	nospace := failCommits(s, fmt.Errorf("write: %w", syscall.ENOSPC))
	nospace.Store(true)
	if _, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Payload: []byte("x")}); !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrFatal) {
		t.Fatalf("Enqueue on a full disk = %v, want ErrNoSpace, not ErrFatal", err)
	}
	select {
	case <-s.Fatal():
		t.Fatal("Fatal closed by a full disk")
	default:
	}

	broken := failCommits(s, fmt.Errorf("fdatasync: %w", syscall.EIO))
	broken.Store(true)
	_, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Payload: []byte("lost")})
	if !errors.Is(err, ErrFatal) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Enqueue with a failing commit = %v, want ErrFatal wrapping EIO", err)
	}
	select {
	case <-s.Fatal():
	default:
		t.Fatal("Fatal not closed after a failed commit")
	}
	if !errors.Is(s.FatalErr(), ErrFatal) {
		t.Errorf("FatalErr = %v", s.FatalErr())
	}
	broken.Store(false) // the disk is fine again: the store still refuses
	if _, _, err := s.Enqueue(ctx, NewItem{Lane: "l", Payload: []byte("after")}); !errors.Is(err, ErrFatal) {
		t.Errorf("Enqueue after the failure = %v, want ErrFatal", err)
	}
	if err := s.Ack(ctx, "l", kept, 0); !errors.Is(err, ErrFatal) {
		t.Errorf("Ack after the failure = %v, want ErrFatal", err)
	}
	if err := s.Run(ctx); !errors.Is(err, ErrFatal) {
		t.Errorf("Run of a fatal store = %v, want ErrFatal", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, Options{Path: path})
	items, err := s.List(ctx, "l", 0)
	if err != nil || len(items) != 1 || items[0].ID != kept {
		t.Errorf("after reopening: %d items (%v), want only the one committed before", len(items), err)
	}
}

// bbolt flattens the error of growing the file with %s: a full disk there
// is still "no space", not a fatal failure.
func TestFlattenedNoSpaceIsNotFatal(t *testing.T) {
	s := MustOpen(t, Options{})
	full := failCommits(s, fmt.Errorf("file resize error: %s", syscall.ENOSPC))
	full.Store(true)
	if _, _, err := s.Enqueue(context.Background(), NewItem{Lane: "l", Payload: []byte("x")}); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Enqueue = %v, want ErrNoSpace", err)
	}
	if err := s.FatalErr(); err != nil {
		t.Fatalf("FatalErr = %v after a full disk, want nil", err)
	}
	full.Store(false)
	if _, _, err := s.Enqueue(context.Background(), NewItem{Lane: "l", Payload: []byte("x")}); err != nil {
		t.Fatalf("Enqueue once there is room = %v", err)
	}
}
