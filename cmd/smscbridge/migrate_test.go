package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/pgstore"
	"github.com/smscbridge/smscbridge/store/pgstore/pgtest"
)

// pgConfig writes testdata/minimal.toml with a postgres [store] whose DSN
// is in a dsn_file (a secret), and returns its path.
func pgConfig(t *testing.T, dsn, schema string) string {
	t.Helper()
	dir := t.TempDir()
	minimal, err := os.ReadFile("../../testdata/minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pg-dsn"), []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	toml := "[store]\nbackend = \"postgres\"\ndsn_file = \"pg-dsn\"\nschema = \"" + schema + "\"\n\n" + string(minimal)
	cfg := filepath.Join(dir, "smscbridge.toml")
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// "smscbridge migrate" creates the schema, -check reports it, and the
// queue commands then work on the shared database.
func TestMigrateCommand(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg := pgConfig(t, dsn, pgtest.Schema(t, dsn))
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := mainCmd(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("migrate", "-config", cfg, "-check"); code != 1 || !strings.Contains(stderr, "schema version 0") {
		t.Fatalf("migrate -check before = %d %q, want 1 and the version found", code, stderr)
	}
	if code, out, stderr := run("migrate", "-config", cfg); code != 0 || !strings.Contains(out, "→") {
		t.Fatalf("migrate = %d %q %q", code, out, stderr)
	}
	if code, out, stderr := run("migrate", "-config", cfg, "-check"); code != 0 || out != fmt.Sprintf("schema version %d: current\n", pgstore.SchemaVersion) {
		t.Fatalf("migrate -check after = %d %q %q", code, out, stderr)
	}
	if code, out, stderr := run("queue", "stats", "-config", cfg); code != 0 || !strings.Contains(out, "LANE") || !strings.Contains(out, "NODE") {
		t.Fatalf("queue stats = %d %q %q", code, out, stderr)
	}
	if code, _, stderr := run("queue", "compact", "-config", cfg); code != 2 || !strings.Contains(stderr, "bbolt") {
		t.Fatalf("queue compact on postgres = %d %q", code, stderr)
	}
	for _, s := range []string{"postgres://", dsn} {
		for _, args := range [][]string{{"migrate", "-config", cfg}, {"queue", "stats", "-config", cfg}} {
			_, out, stderr := run(args...)
			if strings.Contains(out+stderr, s) {
				t.Fatalf("%v printed the DSN: %q %q", args, out, stderr)
			}
		}
	}
}

// migrate refuses a bbolt configuration: there is nothing to migrate.
func TestMigrateBbolt(t *testing.T) {
	var out, errb bytes.Buffer
	if code := mainCmd([]string{"migrate", "-config", "../../testdata/smscbridge.toml"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "bbolt") {
		t.Fatalf("migrate (bbolt) = %d %q", code, errb.String())
	}
}

// migrate -from-bbolt copies a stopped node's bbolt store into the
// database: its queued items are worked from PostgreSQL afterwards.
func TestMigrateFromBbolt(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg := pgConfig(t, dsn, pgtest.Schema(t, dsn))
	db := filepath.Join(t.TempDir(), "bridge.db")
	bb, err := store.Open(store.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := bb.Enqueue(ctx, store.NewItem{Lane: "mt:agg-a", Key: "k", Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	bb.Close()
	var out, errb bytes.Buffer
	if code := mainCmd([]string{"migrate", "-config", cfg, "-from-bbolt", db}, &out, &errb); code != 0 {
		t.Fatalf("migrate -from-bbolt = %d %q %q", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "3 queued items") {
		t.Errorf("migrate output %q", out.String())
	}
	out.Reset()
	if code := mainCmd([]string{"queue", "ls", "-config", cfg, "-lane", "mt:agg-a", "-json"}, &out, &errb); code != 0 || strings.Count(out.String(), `"id"`) != 3 {
		t.Errorf("queue ls on postgres after the copy = %d %q %q", code, out.String(), errb.String())
	}
}

// "smscbridge trace" with no daemon running here reads the trace every
// node wrote to the database.
func TestTraceCommandPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn)
	cfg := pgConfig(t, dsn, schema)
	for _, node := range []string{"a", "b"} {
		s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, Schema: schema, Node: node})
		if err != nil {
			t.Fatal(err)
		}
		s.Record(store.TraceEvent{ID: "mt1", Ref: "uuid-1", Number: "+250788123123", Hop: map[string]string{"a": "http_in", "b": "submit_sm"}[node],
			Detail: "on " + node})
		s.Close() // writes the event
	}
	var out, errb bytes.Buffer
	if code := mainCmd([]string{"trace", "-config", cfg, "uuid-1"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "trace of uuid-1: 2 event(s), 1 message(s)") || !strings.Contains(out.String(), "on b") {
		t.Fatalf("trace = %d\n%s%s", code, out.String(), errb.String())
	}
}
