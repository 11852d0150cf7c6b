package pgstore

import (
	"context"
	"testing"

	"github.com/smscbridge/smscbridge/store/pgstore/pgtest"
)

// The PostgreSQL tests skip without a server: see package pgtest.
func testDSN(t testing.TB) string { return pgtest.DSN(t) }

func testSchema(t testing.TB, dsn string) string { return pgtest.Schema(t, dsn) }

// mustOpen opens a store on schema and closes it when the test ends.
func mustOpen(t testing.TB, o Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
