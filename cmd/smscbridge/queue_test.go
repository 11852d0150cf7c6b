package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// MustQueueStore makes a store with two queued items in mt:agg-a and one
// dead letter in http:rp-main, closes it and returns its path and ids.
func MustQueueStore(t *testing.T) (path string, queued []string, dead string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "bridge.db")
	s, err := store.Open(store.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, p := range []string{`{"to":"+5511"}`, "second"} {
		id, _, err := s.Enqueue(ctx, store.NewItem{Lane: "mt:agg-a", Key: "agg-a\x00+5511", Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, id)
	}
	dead, _, err = s.Enqueue(ctx, store.NewItem{Lane: "http:rp-main", Payload: []byte{0xff, 0x00, 0x01}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retry(ctx, "mt:agg-a", queued[1], 0, "ESME_RTHROTTLED", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Dead(ctx, "http:rp-main", dead, 0, "http 404:\nnot found"); err != nil {
		t.Fatal(err)
	}
	return path, queued, dead
}

func runQueue(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = queueCmd(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestQueueLs(t *testing.T) {
	path, queued, dead := MustQueueStore(t)
	code, out, errs := runQueue(t, "ls", "-db", path)
	if code != 0 {
		t.Fatalf("queue ls = %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "NEXT DUE") {
		t.Fatalf("queue ls output:\n%s", out)
	}
	if !strings.HasPrefix(lines[1], queued[0]) || !strings.Contains(lines[2], "ESME_RTHROTTLED") || strings.Contains(out, dead) {
		t.Errorf("queue ls rows:\n%s", out)
	}

	code, out, _ = runQueue(t, "ls", "-dead", "-db", path)
	if code != 0 || !strings.Contains(out, dead) || !strings.Contains(out, "http 404: not found") || !strings.Contains(out, "REASON") {
		t.Errorf("queue ls -dead = %d:\n%s", code, out)
	}
	code, out, _ = runQueue(t, "ls", "-db", path, "-lane", "nope")
	if code != 0 || !strings.Contains(out, "(none)") {
		t.Errorf("queue ls -lane nope = %d:\n%s", code, out)
	}

	code, out, _ = runQueue(t, "ls", "-json", "-limit", "1", "-db", path)
	var views []itemView
	if err := json.Unmarshal([]byte(out), &views); code != 0 || err != nil {
		t.Fatalf("queue ls -json = %d, %v:\n%s", code, err, out)
	}
	if len(views) != 1 || views[0].ID != queued[0] || views[0].Lane != "mt:agg-a" || views[0].Size != 14 || views[0].NextDue == nil {
		t.Errorf("queue ls -json -limit 1 = %+v", views)
	}
}

func TestQueueStatsAndShow(t *testing.T) {
	path, queued, dead := MustQueueStore(t)
	code, out, _ := runQueue(t, "stats", "-db", path)
	want := "LANE          QUEUED  LEASED  DEAD\nhttp:rp-main  0       0       1\nmt:agg-a      2       0       0\n"
	if code != 0 || out != want {
		t.Errorf("queue stats = %d:\n%s\nwant:\n%s", code, out, want)
	}

	code, out, _ = runQueue(t, "show", queued[0], dead, "-db", path)
	for _, s := range []string{"id:         " + queued[0], "state:      queued", `key:        "agg-a\x00+5511"`, "MT record:\n", `"to": "+5511"`, "state:      dead", "reason:     http 404: not found\n", "payload:    3 bytes", "00000000  ff 00 01"} {
		if !strings.Contains(out, s) {
			t.Errorf("queue show output lacks %q:\n%s", s, out)
		}
	}
	if code != 0 {
		t.Errorf("queue show = %d", code)
	}

	code, out, _ = runQueue(t, "show", "-json", "-db", path, dead)
	var views []itemView
	if err := json.Unmarshal([]byte(out), &views); code != 0 || err != nil || len(views) != 1 {
		t.Fatalf("queue show -json = %d, %v:\n%s", code, err, out)
	}
	if v := views[0]; !bytes.Equal(v.Payload, []byte{0xff, 0, 1}) || v.PayloadText != "" || v.DeadAt == nil || v.DeadReason == "" {
		t.Errorf("queue show -json = %+v", v)
	}
	if code, _, errs := runQueue(t, "show", "-db", path, "0190a0b0-c0d0-7e0f-8000-000000000000"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("queue show unknown id = %d, %q", code, errs)
	}
}

func TestQueueRequeueDrop(t *testing.T) {
	path, queued, dead := MustQueueStore(t)
	if code, out, errs := runQueue(t, "requeue", "-db", path, dead); code != 0 || !strings.Contains(out, "requeued "+dead) {
		t.Fatalf("queue requeue = %d, %q, %q", code, out, errs)
	}
	if code, _, errs := runQueue(t, "requeue", "-db", path, dead); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("second requeue = %d, %q", code, errs)
	}
	if _, out, _ := runQueue(t, "ls", "-db", path, "-lane", "http:rp-main"); !strings.Contains(out, dead) {
		t.Errorf("requeued item not queued:\n%s", out)
	}
	// drop removes dead letters only: a queued id is refused and kept.
	if code, out, errs := runQueue(t, "drop", "-db", path, queued[0]); code != 1 || out != "" || !strings.Contains(errs, "queued, not a dead letter") {
		t.Errorf("queue drop of a queued item = %d, %q, %q", code, out, errs)
	}
	if code, out, _ := runQueue(t, "show", "-db", path, queued[0]); code != 0 || !strings.Contains(out, "state:      queued") {
		t.Errorf("queued item after drop = %d:\n%s", code, out)
	}
	if code, _, errs := runQueue(t, "drop", "-db", path, "-lane", "mt:agg-a"); code != 2 || !strings.Contains(errs, "-dead") {
		t.Errorf("drop -lane without -dead = %d, %q", code, errs)
	}
	if code, out, _ := runQueue(t, "drop", "-db", path, "-dead", "-lane", "http:rp-main"); code != 0 || out != "dropped 0 dead letters of http:rp-main\n" {
		t.Errorf("drop -dead -lane = %d, %q", code, out)
	}
	if code, out, _ := runQueue(t, "stats", "-db", path, "-json"); code != 0 || strings.TrimSpace(out) != `{
  "http:rp-main": {
    "Queued": 1,
    "Leased": 0,
    "Dead": 0
  },
  "mt:agg-a": {
    "Queued": 2,
    "Leased": 0,
    "Dead": 0
  }
}` {
		t.Errorf("stats -json after drops = %d:\n%s", code, out)
	}
}

func TestQueueCompact(t *testing.T) {
	path, queued, _ := MustQueueStore(t)
	dst := filepath.Join(t.TempDir(), "copy.db")
	if code, out, errs := runQueue(t, "compact", "-db", path, "-o", dst); code != 0 || !strings.Contains(out, "into "+dst) {
		t.Fatalf("compact -o = %d, %q, %q", code, out, errs)
	}
	if code, out, errs := runQueue(t, "compact", "-db", path); code != 0 || !strings.Contains(out, "bytes") {
		t.Fatalf("compact = %d, %q, %q", code, out, errs)
	}
	for _, p := range []string{path, dst} {
		if _, out, _ := runQueue(t, "show", "-db", p, queued[1]); !strings.Contains(out, "second") {
			t.Errorf("%s after compact lacks the item:\n%s", p, out)
		}
	}
}

func TestQueueConfig(t *testing.T) {
	path, queued, _ := MustQueueStore(t)
	cfg := filepath.Join(t.TempDir(), "smscbridge.toml")
	minimal, err := os.ReadFile("../../testdata/minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	toml := "[store]\npath = \"" + path + "\"\n\n" + string(minimal)
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runQueue(t, "ls", "-config", cfg)
	if code != 0 || !strings.Contains(out, queued[0]) {
		t.Errorf("queue ls -config = %d, %q, %q", code, out, errs)
	}
	if code, _, errs := runQueue(t, "ls", "-config", cfg, "-db", path); code != 2 || !strings.Contains(errs, "not both") {
		t.Errorf("-config with -db = %d, %q", code, errs)
	}
}

func TestQueueErrors(t *testing.T) {
	path, _, _ := MustQueueStore(t)
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frob"}, 2, `unknown command "frob"`},
		{"bad flag", []string{"ls", "-nope"}, 2, "-nope"},
		{"missing store", []string{"ls", "-db", missing}, 1, "no store at"},
		{"show without ids", []string{"show", "-db", path}, 2, "at least one id"},
		{"requeue ids and lane", []string{"requeue", "-db", path, "-lane", "x", "id"}, 2, "not both"},
		{"bad config", []string{"ls", "-config", missing}, 1, "load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runQueue(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("queue %q = %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("queue ls created a store")
	}
}

func TestQueueLocked(t *testing.T) {
	path, _, _ := MustQueueStore(t)
	s, err := store.Open(store.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, errs := runQueue(t, "ls", "-db", path)
	if code != 1 || !strings.Contains(errs, "locked") || !strings.Contains(errs, "admin API") {
		t.Errorf("queue ls on a locked store = %d, %q", code, errs)
	}
}
