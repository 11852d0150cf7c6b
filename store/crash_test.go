package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const crashEnv = "STORE_CRASH_DIR"

// TestCrash runs a concurrent load in a child process (this test binary
// again, running TestCrashChild), kills it with SIGKILL mid-flight, reopens
// the store and checks it against the child's fsynced log. Three rounds run
// on the same file.
//
// The load: producers enqueue keyed items (and some without a key) and put
// receipt mappings for some; consumers lease and ack, retry, retry with a
// new payload (Complete with Retry and Payload), complete (with a follow-up
// item in lane "f" and a receipt mapping) or dead-letter them; a requeuer
// requeues dead letters; an MO producer adds reassembly parts. Each call is
// logged before it starts (lower case) and after it returns (upper case),
// with the payload it wrote. After the kill, for every item the store must
// agree with the last call that returned, allowing only for calls that had
// started: presence, dead or queued, and the payload byte for byte; within
// a key, items never requeued are in enqueue order; receipts, follow-ups
// and assembled MO (and the parts of incomplete ones) hold what was written.
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
		checkKeyOrder(t, s, filepath.Join(dir, "log"))
		leased := 0
		for _, lane := range []string{"l0", "l1", "l2", "l3", "f", "mo"} {
			items, err := s.Lease(context.Background(), lane, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			leased += len(items)
		}
		var queued, heads int
		for _, st := range s.Stats() {
			queued += st.Queued
		}
		heads = countKeys(t, s, bktDue)
		if leased != heads {
			t.Errorf("round %d: %d items due after reopen, want all %d heads (leases do not survive)", round, leased, heads)
		}
		for _, k := range []string{"E", "A", "C", "D", "Q", "R", "P", "M", "S"} {
			if kinds[k] == 0 {
				t.Errorf("round %d: no %s call returned before the kill: the load does not cover it", round, k)
			}
		}
		t.Logf("round %d: killed after %d enqueues; log checks %d ids (logged: %v); %d queued, %d heads after reopen", round, enqueued, n, kinds, queued, heads)
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
	record := func(kind, id string, extra ...string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(logf, strings.Join(append([]string{kind, id}, extra...), " "))
		if err := logf.Sync(); err != nil {
			panic(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid := os.Getpid()
	var enqueued atomic.Int64
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for i := 0; i < 20000 && ctx.Err() == nil; i++ {
				lane := fmt.Sprint("l", (p+i)%4)
				key := fmt.Sprintf("%d-p%d-%d", pid, p, i%3) // one producer per key: its log order is enqueue order
				if i%5 == 0 {
					key = ""
				}
				payload := fmt.Sprintf("%d-p%d-%d", pid, p, i)
				id, _, err := s.Enqueue(ctx, NewItem{Lane: lane, Key: key, Payload: []byte(payload)})
				if err != nil {
					return
				}
				record("E", id, payload, lane, key)
				if i%7 == 0 {
					data := "rcpt-" + payload
					record("p", id)
					if s.PutReceipt(ctx, Receipt{SMSC: "b", MsgID: id, ItemID: id, Channel: lane, Data: []byte(data)}) == nil {
						record("P", id, data)
					}
				}
				if n := enqueued.Add(1); n%100 == 0 {
					fmt.Printf("enqueued %d\n", n)
				}
			}
		})
	}
	for c := range 4 {
		wg.Go(func() { crashConsumer(ctx, s, fmt.Sprint("l", c), record) })
	}
	wg.Go(func() { crashRequeuer(ctx, s, record) })
	wg.Go(func() { crashMO(ctx, s, pid, record) })
	wg.Wait()
}

func crashConsumer(ctx context.Context, s *Store, lane string, record func(kind, id string, extra ...string)) {
	for ctx.Err() == nil {
		items, err := s.LeaseWait(ctx, lane, 16)
		if err != nil {
			return
		}
		for _, it := range items {
			switch r := rand.IntN(10); {
			case r < 6:
				record("a", it.ID)
				if s.Ack(ctx, lane, it.ID, it.Token) == nil {
					record("A", it.ID)
				}
			case r < 7:
				record("t", it.ID) // a retry may dead-letter (MaxAttempts)
				s.Retry(ctx, lane, it.ID, it.Token, "try again", 0)
			case r < 8:
				payload := fmt.Sprintf("%s+%d", it.Payload, it.Attempts+1)
				record("r", it.ID, payload)
				if _, err := s.Complete(ctx, Completion{Lane: lane, ID: it.ID, Token: it.Token, Payload: []byte(payload),
					Retry: &RetrySpec{Cause: "progress", Delay: time.Millisecond}}); err == nil {
					record("R", it.ID, payload)
				}
			case r < 9:
				record("c", it.ID)
				_, err := s.Complete(ctx, Completion{Lane: lane, ID: it.ID, Token: it.Token,
					Enqueue:  []NewItem{{Lane: "f", Payload: []byte("done:" + it.ID)}},
					Receipts: []Receipt{{SMSC: "a", MsgID: it.ID, Data: it.Payload}}})
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

// crashRequeuer requeues dead letters now and then.
func crashRequeuer(ctx context.Context, s *Store, record func(kind, id string, extra ...string)) {
	for ctx.Err() == nil {
		dead, err := s.ListDead(ctx, "", 20)
		if err != nil {
			return
		}
		for _, it := range dead {
			if rand.IntN(2) == 0 {
				continue
			}
			record("q", it.ID)
			if s.Requeue(ctx, it.ID) == nil {
				record("Q", it.ID)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// crashMO adds the parts of 3-part MO in order, one set after another.
func crashMO(ctx context.Context, s *Store, pid int, record func(kind, id string, extra ...string)) {
	for ref := 0; ref < 65536 && ctx.Err() == nil; ref++ {
		for seq := 1; seq <= 3; seq++ {
			ids := fmt.Sprint(ref)
			done, id, err := s.AddPart(ctx, Part{SMSC: "a", Source: fmt.Sprint(pid), Dest: "1", Ref: ref, Total: 3, Seq: seq,
				Data: []byte(moPart(pid, ref, seq)), Lane: "mo", Key: "mo-" + ids})
			if err != nil {
				return
			}
			record("M", fmt.Sprint(pid), ids, fmt.Sprint(seq))
			if done {
				record("S", id, fmt.Sprint(pid), ids)
			}
		}
	}
}

func moPart(pid, ref, seq int) string { return fmt.Sprintf("mo-%d-%d-%d", pid, ref, seq) }

// crashEvent is one line of the child's log.
type crashEvent struct {
	kind  string
	extra []string
	pos   int // line number
}

func readCrashLog(t *testing.T, path string) (byID map[string][]crashEvent, mo []crashEvent, counts map[string]int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	byID, counts = map[string][]crashEvent{}, map[string]int{}
	lines := strings.Split(string(raw), "\n")
	for pos, line := range lines[:len(lines)-1] { // a torn last line is ignored
		f := strings.Split(line, " ")
		if len(f) < 2 {
			continue
		}
		counts[f[0]]++
		if f[0] == "M" {
			mo = append(mo, crashEvent{kind: "M", extra: f[1:], pos: pos})
			continue
		}
		byID[f[1]] = append(byID[f[1]], crashEvent{kind: f[0], extra: f[2:], pos: pos})
	}
	return byID, mo, counts
}

// checkAgainstLog applies TestCrash's rules and returns how many ids the
// log names and how many lines of each kind it has.
func checkAgainstLog(t *testing.T, s *Store, path string) (int, map[string]int) {
	t.Helper()
	byID, mo, counts := readCrashLog(t, path)
	ctx := context.Background()
	followUps := map[string]int{}
	fs, err := s.List(ctx, "f", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range fs {
		followUps[strings.TrimPrefix(string(it.Payload), "done:")]++
	}
	for id, evs := range byID {
		if evs[0].kind != "E" {
			continue // enqueue committed, its log line lost to the kill; or an S line (checked below)
		}
		checkItem(t, s, id, evs, followUps[id])
	}
	checkMO(t, s, byID, mo)
	return len(byID), counts
}

// checkItem checks one item against its log: the state after the last call
// that returned, or any state a call started after it could leave.
func checkItem(t *testing.T, s *Store, id string, evs []crashEvent, followUps int) {
	t.Helper()
	ctx := context.Background()
	payload := evs[0].extra[0]
	var pending []string    // calls started, not (yet) returned
	var maybePayload string // payload of a started Complete with Payload
	state, final := "queued", false
	var rcpt string
	requeuedSinceD := false // a requeue started after the last "d": its D line may come later
	for _, e := range evs {
		switch e.kind {
		case "d":
			pending = append(pending, "d")
			requeuedSinceD = false
		case "a", "c", "q", "t":
			if e.kind == "q" {
				requeuedSinceD = true
			}
			pending = append(pending, e.kind)
		case "r":
			pending = append(pending, "r")
			maybePayload = e.extra[0]
		case "A", "C":
			state, final, pending = "gone", true, nil
		case "D":
			// Lines are written after the call returns: a requeue that
			// started after the "d" found the dead letter, so it came
			// after this Dead even if its Q line comes first.
			if !requeuedSinceD {
				state, pending = "dead", nil
			}
		case "Q":
			state, pending = "queued", nil
		case "R":
			state, payload, pending, maybePayload = "queued", e.extra[0], nil, ""
		case "P":
			rcpt = e.extra[0]
		}
	}
	it, err := s.Get(ctx, id)
	got := "gone"
	if err == nil {
		got = "queued"
		if it.DeadReason != "" {
			got = "dead"
		}
	}
	allowed := map[string]bool{state: true}
	for _, p := range pending {
		switch p {
		case "a", "c":
			allowed["gone"] = true
		case "d", "t":
			allowed["dead"] = true // a retry may dead-letter (MaxAttempts)
		case "q", "r":
			allowed["queued"], allowed["dead"] = true, true
		}
	}
	if final && got != "gone" {
		t.Errorf("%s: ack or complete returned, but the item is back (%+v)", id, it)
	} else if !allowed[got] {
		t.Errorf("%s: %s after %v (pending %v)", id, got, kinds(evs), pending)
	}
	if got != "gone" && string(it.Payload) != payload && string(it.Payload) != maybePayload {
		t.Errorf("%s: payload %q, want %q", id, it.Payload, payload)
	}
	if rcpt != "" {
		r, ok, err := s.MatchReceipt(ctx, "b", id)
		if err != nil || !ok || r.ItemID != id || string(r.Data) != rcpt {
			t.Errorf("%s: receipt b = %+v, %v, %v; want item %s data %q", id, r, ok, err, id, rcpt)
		}
	}
	if !slices.Contains(kindList(evs), "c") {
		return
	}
	// A completion is all or nothing: follow-up and receipt iff the
	// completion (the only way this item goes away with a "c") happened.
	r, ok, _ := s.MatchReceipt(ctx, "a", id)
	completed := ok
	if ok && (r.ItemID != id || !strings.HasPrefix(string(r.Data), evs[0].extra[0])) {
		t.Errorf("%s: completion receipt %+v", id, r)
	}
	if want := map[bool]int{true: 1, false: 0}[completed]; followUps != want {
		t.Errorf("%s: completion half done: receipt %v, %d follow-ups", id, completed, followUps)
	}
	if completed && got != "gone" {
		t.Errorf("%s: completion receipt exists, but the item is %s", id, got)
	}
}

func kindList(evs []crashEvent) []string {
	var k []string
	for _, e := range evs {
		k = append(k, e.kind)
	}
	return k
}

func kinds(evs []crashEvent) string { return strings.Join(kindList(evs), "") }

// checkMO checks reassembly: a set whose three parts were added is one
// item in lane "mo" holding exactly its parts; a set with fewer parts added
// holds at least those, byte for byte.
func checkMO(t *testing.T, s *Store, byID map[string][]crashEvent, mo []crashEvent) {
	t.Helper()
	ctx := context.Background()
	items, err := s.List(ctx, "mo", 0)
	if err != nil {
		t.Fatal(err)
	}
	assembled := map[string]int{}
	for _, it := range items {
		assembled[string(it.Payload)]++
	}
	added := map[[2]int]int{} // (pid, ref) → highest seq added
	for _, e := range mo {
		var pid, ref, seq int
		fmt.Sscan(strings.Join(e.extra, " "), &pid, &ref, &seq)
		added[[2]int{pid, ref}] = max(added[[2]int{pid, ref}], seq)
	}
	for k, seq := range added {
		pid, ref := k[0], k[1]
		want := Assembled{Parts: [][]byte{[]byte(moPart(pid, ref, 1)), []byte(moPart(pid, ref, 2)), []byte(moPart(pid, ref, 3))}}
		if seq == 3 {
			if n := assembled[string(EncodeParts(want))]; n != 1 {
				t.Errorf("MO %d/%d: all parts added, assembled %d times", pid, ref, n)
			}
			continue
		}
		g, ok := moGroup(t, s, pid, ref)
		if !ok {
			t.Errorf("MO %d/%d: %d parts added, no set held", pid, ref, seq)
			continue
		}
		if g.done { // the last part's log line was lost to the kill
			if n := assembled[string(EncodeParts(want))]; n != 1 {
				t.Errorf("MO %d/%d: set done, assembled %d times", pid, ref, n)
			}
			continue
		}
		for i := 1; i <= seq; i++ {
			j := slices.Index(g.seqs, i)
			if j < 0 || string(g.data[j]) != moPart(pid, ref, i) {
				t.Errorf("MO %d/%d: part %d not held as added (%v)", pid, ref, i, g.seqs)
			}
		}
	}
	for id, evs := range byID {
		if evs[0].kind == "S" {
			if _, err := s.Get(ctx, id); err != nil {
				t.Errorf("assembled MO %s: %v", id, err)
			}
		}
	}
}

func moGroup(t *testing.T, s *Store, pid, ref int) (group, bool) {
	var g group
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktGroups).Get(groupKey(Part{SMSC: "a", Source: fmt.Sprint(pid), Dest: "1", Ref: ref, Total: 3}))
		if v == nil {
			return nil
		}
		var err error
		g, err = decodeGroup(v)
		ok = err == nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, ok
}

// checkKeyOrder checks that, within each key, queued items never requeued
// are in the order their producer enqueued them (one producer per key).
func checkKeyOrder(t *testing.T, s *Store, path string) {
	t.Helper()
	byID, _, _ := readCrashLog(t, path)
	ctx := context.Background()
	for _, lane := range []string{"l0", "l1", "l2", "l3"} {
		items, err := s.List(ctx, lane, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]int{} // key → log position of the previous item
		// List gives heads first, then each key's waiting items in order:
		// collect per key in that order.
		perKey := map[string][]Item{}
		for _, it := range items {
			if it.Key != "" && it.DeadReason == "" {
				perKey[it.Key] = append(perKey[it.Key], it)
			}
		}
		for key, its := range perKey {
			for _, it := range its {
				evs := byID[it.ID]
				if len(evs) == 0 || evs[0].kind != "E" || strings.ContainsAny(kinds(evs), "qQ") {
					continue
				}
				if p, ok := last[key]; ok && evs[0].pos < p {
					t.Errorf("key %s: %s (enqueued at log line %d) is behind an item enqueued later (line %d)", key, it.ID, evs[0].pos, p)
				}
				last[key] = evs[0].pos
			}
		}
	}
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
		items, due, leased, dead, keys := tx.Bucket(bktItems), tx.Bucket(bktDue), tx.Bucket(bktLeased), tx.Bucket(bktDead), tx.Bucket(bktKeys)
		payloads := map[string]bool{}
		heads, keyed := 0, 0
		if err := items.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			u := id(k)
			count(r.lane).Queued++
			if r.head {
				heads++
				if due.Get(dueKey(r.lane, r.idx, u)) == nil {
					t.Errorf("%s: head without its time-index key", u)
				}
			} else if r.leased {
				t.Errorf("%s: leased but not the head of its key", u)
			}
			if r.key == "" && !r.head {
				t.Errorf("%s: no key, but not a head", u)
			}
			if r.key != "" {
				keyed++
				if v := keys.Get(keyEntry(&r)); v == nil || id(v) != u {
					t.Errorf("%s: not in its key's order", u)
				}
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
		if n := due.Stats().KeyN; n != heads {
			t.Errorf("%d time-index keys for %d heads", n, heads)
		}
		if n := keys.Stats().KeyN; n != keyed {
			t.Errorf("%d key-order entries for %d keyed items", n, keyed)
		}
		// The head of each key is the first item of its order.
		var prev []byte
		if err := keys.ForEach(func(k, v []byte) error {
			prefix := k[:len(k)-8]
			r, err := decodeRecord(items.Get(v))
			if err != nil {
				return err
			}
			if first := !bytes.Equal(prefix, prev); r.head != first {
				t.Errorf("%s: head %v, first of its key %v", id(v), r.head, first)
			}
			prev = bytes.Clone(prefix)
			return nil
		}); err != nil {
			return err
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
