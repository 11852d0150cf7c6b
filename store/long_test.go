package store

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var long = flag.Bool("long", false, "run TestOpenMillion (1,000,000 queued items)")

const openEnv = "STORE_OPEN_PATH"

// TestOpenMillion builds a store of 1,000,000 queued items (8 lanes, 200-byte
// payloads), then opens it in a fresh child process that reports how long
// Open took and its peak RSS. Requirement: ≤ 2 s and ≤ 100 MB. Run with
// go test -run TestOpenMillion ./store -long (without -race for real numbers).
func TestOpenMillion(t *testing.T) {
	if !*long {
		t.Skip("needs -long")
	}
	path := filepath.Join(t.TempDir(), "big.db")
	s := MustOpen(t, Options{Path: path})
	start := time.Now()
	payload := make([]byte, 200)
	for range 100 {
		err := s.update(context.Background(), func(w *wtx) error {
			for i := range 10000 {
				if _, _, err := w.enqueue(NewItem{Lane: fmt.Sprint("mt:agg-", i%8), Payload: payload}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	fi, _ := os.Stat(path)
	t.Logf("built 1,000,000 items in %s; file %d MB", time.Since(start).Round(time.Millisecond), fi.Size()>>20)

	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenChild$")
	cmd.Env = append(os.Environ(), openEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var openMS, leaseMS, hwmKB int
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		fmt.Sscanf(sc.Text(), "open_ms=%d lease_ms=%d hwm_kb=%d", &openMS, &leaseMS, &hwmKB)
	}
	t.Logf("child: Open %d ms, first Lease+Ack of 100 %d ms, peak RSS %d MB (race detector: %v)", openMS, leaseMS, hwmKB>>10, raceEnabled)
	if hwmKB == 0 {
		t.Fatalf("child reported nothing:\n%s", out)
	}
	if !raceEnabled && hwmKB > 100<<10 {
		t.Errorf("peak RSS %d MB > 100 MB", hwmKB>>10)
	}
	if !raceEnabled && openMS > 2000 {
		t.Errorf("Open took %d ms > 2 s", openMS)
	}
}

// TestOpenChild is TestOpenMillion's child.
func TestOpenChild(t *testing.T) {
	path := os.Getenv(openEnv)
	if path == "" {
		t.Skip("only runs as TestOpenMillion's child")
	}
	start := time.Now()
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	openMS := time.Since(start).Milliseconds()
	if n := s.Stats()["mt:agg-3"].Queued; n != 125000 {
		t.Fatalf("Queued = %d, want 125000", n)
	}
	start = time.Now()
	ctx := context.Background()
	items, err := s.Lease(ctx, "mt:agg-3", 100)
	if err != nil || len(items) != 100 {
		t.Fatal(len(items), err)
	}
	for _, it := range items {
		if err := s.Ack(ctx, it.Lane, it.ID, it.Token); err != nil {
			t.Fatal(err)
		}
	}
	leaseMS := time.Since(start).Milliseconds()
	s.Close()
	status, _ := os.ReadFile("/proc/self/status")
	hwm := 0
	for line := range strings.Lines(string(status)) {
		fmt.Sscanf(line, "VmHWM: %d kB", &hwm)
	}
	fmt.Printf("open_ms=%d lease_ms=%d hwm_kb=%d\n", openMS, leaseMS, hwm)
}
