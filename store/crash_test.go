package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const crashEnv = "STORE_CRASH_DIR"

// TestCrash runs a concurrent enqueue/lease/ack/retry/dead load in a child
// process (this test binary again, running TestCrashChild), kills it with
// SIGKILL mid-flight, reopens the store and checks it against the child's
// fsynced log. Three rounds run on the same file.
//
// The child logs "E id" after Enqueue returns, "a id" before and "A id"
// after Ack, "c"/"C" around Complete (with a follow-up item in lane "f" and
// a receipt mapping), "d"/"D" around Dead. After the kill: every E item is
// queued or dead exactly once, unless an ack or completion of it was
// started; no A or C item is anywhere; every D item is dead; a completed
// item's follow-up and receipt exist exactly when the item is gone.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	for round, kill := range []int{500, 1200, 800} {
		enqueued := runChild(t, dir, kill)
		s := MustOpen(t, Options{Path: filepath.Join(dir, "q.db")})
		checkConsistent(t, s)
		n, kinds := checkAgainstLog(t, s, filepath.Join(dir, "log"))
		leased := 0
		for _, lane := range []string{"l0", "l1", "l2", "l3", "f"} {
			items, err := s.Lease(context.Background(), lane, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			leased += len(items)
		}
		var queued int
		for _, st := range s.Stats() {
			queued += st.Queued
		}
		if leased != queued {
			t.Errorf("round %d: %d items due after reopen, want all %d queued (leases do not survive)", round, leased, queued)
		}
		t.Logf("round %d: killed after %d enqueues; log checks %d items (logged: %v); %d queued after reopen", round, enqueued, n, kinds, queued)
		s.Close()
	}
}

func runChild(t *testing.T, dir string, killAfter int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	n := 0
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "enqueued %d", &n); err == nil && n >= killAfter {
			break
		}
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if n < killAfter {
		t.Fatalf("child ended after %d enqueues, before the kill", n)
	}
	return n
}

// TestCrashChild is the child of TestCrash; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only runs as TestCrash's child")
	}
	s, err := Open(Options{Path: filepath.Join(dir, "q.db"), LeaseTTL: time.Second,
		Retry: RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 4}})
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	record := func(kind, id string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(logf, "%s %s\n", kind, id)
		if err := logf.Sync(); err != nil {
			panic(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var enqueued atomic.Int64
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for i := 0; i < 20000 && ctx.Err() == nil; i++ {
				id, _, err := s.Enqueue(ctx, NewItem{Lane: fmt.Sprint("l", (p+i)%4), Payload: fmt.Appendf(nil, "%d-p%d-%d", os.Getpid(), p, i)})
				if err != nil {
					return
				}
				record("E", id)
				if n := enqueued.Add(1); n%100 == 0 {
					fmt.Printf("enqueued %d\n", n)
				}
			}
		})
	}
	for c := range 4 {
		wg.Go(func() { crashConsumer(ctx, s, fmt.Sprint("l", c), record) })
	}
	wg.Wait()
}

func crashConsumer(ctx context.Context, s *Store, lane string, record func(kind, id string)) {
	for ctx.Err() == nil {
		items, err := s.LeaseWait(ctx, lane, 16)
		if err != nil {
			return
		}
		for _, it := range items {
			switch r := rand.IntN(10); {
			case r < 7:
				record("a", it.ID)
				if s.Ack(ctx, lane, it.ID, it.Token) == nil {
					record("A", it.ID)
				}
			case r < 8:
				s.Retry(ctx, lane, it.ID, it.Token, "try again", 0)
			case r < 9:
				record("c", it.ID)
				_, err := s.Complete(ctx, Completion{Lane: lane, ID: it.ID,
					Enqueue:  []NewItem{{Lane: "f", Payload: []byte("done:" + it.ID)}},
					Receipts: []Receipt{{SMSC: "a", MsgID: it.ID}}})
				if err == nil {
					record("C", it.ID)
				}
			default:
				record("d", it.ID)
				if s.Dead(ctx, lane, it.ID, it.Token, "permanent") == nil {
					record("D", it.ID)
				}
			}
		}
	}
}

// checkAgainstLog applies TestCrash's rules and returns how many ids the
// log names and how many lines of each kind it has.
func checkAgainstLog(t *testing.T, s *Store, path string) (int, map[string]int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{} // id → kinds logged
	counts := map[string]int{}
	for _, line := range strings.Split(string(raw), "\n") {
		kind, id, ok := strings.Cut(line, " ")
		if ok && len(id) == 36 { // a torn last line is ignored
			seen[id] += kind
			counts[kind]++
		}
	}
	ctx := context.Background()
	followUps := map[string]int{}
	fs, err := s.List(ctx, "f", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range fs {
		followUps[strings.TrimPrefix(string(it.Payload), "done:")]++
	}
	for id, kinds := range seen {
		if !strings.Contains(kinds, "E") {
			continue // enqueue committed, log line lost to the kill: allowed
		}
		it, err := s.Get(ctx, id)
		present := err == nil
		switch {
		case strings.ContainsAny(kinds, "AC") && present:
			t.Errorf("%s: ack or complete returned, but the item is back (%+v)", id, it)
		case strings.Contains(kinds, "D") && (!present || it.DeadReason == ""):
			t.Errorf("%s: dead returned, but it is not a dead letter (%v)", id, err)
		case !present && !strings.ContainsAny(kinds, "ac"):
			t.Errorf("%s: enqueue returned and no ack was attempted, but the item is gone (%v)", id, err)
		}
		if !strings.Contains(kinds, "c") || strings.Contains(kinds, "a") {
			continue
		}
		_, rcpt, _ := s.MatchReceipt(ctx, "a", id)
		if n := followUps[id]; n != map[bool]int{true: 0, false: 1}[present] || rcpt == present {
			t.Errorf("%s: completion half done: item present %v, %d follow-ups, receipt %v", id, present, n, rcpt)
		}
	}
	return len(seen), counts
}

// checkConsistent checks the store's internal invariants: every queued item
// has exactly one time-index key (at its idx) and is in the lease set iff
// leased, no id is both queued and dead, and the lane counters match.
func checkConsistent(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		counts := map[string]*LaneStats{}
		count := func(lane string) *LaneStats {
			if counts[lane] == nil {
				counts[lane] = &LaneStats{}
			}
			return counts[lane]
		}
		items, due, leased, dead := tx.Bucket(bktItems), tx.Bucket(bktDue), tx.Bucket(bktLeased), tx.Bucket(bktDead)
		payloads := map[string]bool{}
		if err := items.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			u := id(k)
			count(r.lane).Queued++
			if due.Get(dueKey(r.lane, r.idx, u)) == nil {
				t.Errorf("%s: no time-index key", u)
			}
			if (leased.Get(u[:]) != nil) != r.leased {
				t.Errorf("%s: lease set and record disagree", u)
			}
			if dead.Get(u[:]) != nil {
				t.Errorf("%s: both queued and dead", u)
			}
			if payloads[string(r.payload)] {
				t.Errorf("%s: payload %q queued twice", u, r.payload)
			}
			payloads[string(r.payload)] = true
			return nil
		}); err != nil {
			return err
		}
		if n, m := due.Stats().KeyN, items.Stats().KeyN; n != m {
			t.Errorf("%d time-index keys for %d items", n, m)
		}
		if err := dead.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			count(r.lane).Dead++
			return err
		}); err != nil {
			return err
		}
		stats := s.Stats()
		for lane, c := range counts {
			if st := stats[lane]; st.Queued != c.Queued || st.Dead != c.Dead {
				t.Errorf("lane %s: counters %+v, data %+v", lane, st, *c)
			}
		}
		if len(stats) > len(counts) {
			t.Errorf("counters for lanes without data: %+v", stats)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
