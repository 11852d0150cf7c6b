package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fsyncEnv = "STORE_FSYNC_CHILD" // dir:n

// TestFsyncPerCommit shows that a commit is fsynced before the call
// returns: a child (TestFsyncChild) makes n Enqueue calls one after
// another (each its own commit batch) under strace, for two values of n;
// the extra calls must cost at least one fdatasync (or fsync) each. The
// difference cancels what Open itself syncs.
func TestFsyncPerCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace): cannot count fdatasync calls")
	}
	if out, err := exec.Command(strace, "-f", "-c", "-o", os.DevNull, "true").CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here (%v: %s)", err, out)
	}
	syncs := func(n int) int {
		dir := t.TempDir()
		out := filepath.Join(dir, "strace.txt")
		cmd := exec.Command(strace, "-f", "-c", "-e", "trace=fdatasync,fsync", "-o", out,
			os.Args[0], "-test.run=^TestFsyncChild$", "-test.timeout=60s")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d", fsyncEnv, dir, n))
		if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), fmt.Sprint("acknowledged ", n)) {
			t.Fatalf("child with %d commits: %v\n%s", n, err, b)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		for _, line := range strings.Split(string(raw), "\n") {
			f := strings.Fields(line)
			if len(f) >= 5 && (f[len(f)-1] == "fdatasync" || f[len(f)-1] == "fsync") {
				c, err := strconv.Atoi(f[3])
				if err != nil {
					t.Fatalf("strace summary line %q: %v", line, err)
				}
				calls += c
			}
		}
		t.Logf("%d acknowledged commits: %d fdatasync/fsync calls\n%s", n, calls, raw)
		return calls
	}
	base, more := syncs(5), syncs(55)
	if more-base < 50 {
		t.Errorf("50 more acknowledged commits cost %d more fdatasync/fsync calls (%d → %d), want at least 50: commits are not synced", more-base, base, more)
	}
}

// TestFsyncChild is the child of TestFsyncPerCommit; it does nothing
// otherwise. It exits without Close, so only commits sync.
func TestFsyncChild(t *testing.T) {
	env := os.Getenv(fsyncEnv)
	if env == "" {
		t.Skip("only runs as TestFsyncPerCommit's child")
	}
	dir, ns, _ := strings.Cut(env, ":")
	n, err := strconv.Atoi(ns)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Path: filepath.Join(dir, "q.db")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := s.Enqueue(context.Background(), NewItem{Lane: "l", Key: "k", Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("acknowledged %d\n", n)
	os.Exit(0)
}
