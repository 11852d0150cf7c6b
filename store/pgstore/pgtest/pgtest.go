// Package pgtest finds the PostgreSQL server tests use and gives each test
// a schema of its own.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL tests need a server. They use $SMSCBRIDGE_TEST_PG_DSN, or
// else the local default below if it answers; with neither they skip, so
// `make test` passes on a machine without PostgreSQL (an empty
// SMSCBRIDGE_TEST_PG_DSN turns them off too). To run them:
//
//	apt-get install postgresql   # or any PostgreSQL >= 13 you can reach
//	export SMSCBRIDGE_TEST_PG_DSN='postgres://user:pass@host:5432/db?sslmode=disable'
//
// The role needs CREATE on the database: every test works in a schema of
// its own (sbtest_<random>), dropped when it ends, so parallel test runs
// never collide.

// DefaultDSN is the server tried when SMSCBRIDGE_TEST_PG_DSN is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=2"

// DSN returns the test server's connection string, or skips the test.
func DSN(t testing.TB) string {
	t.Helper()
	dsn, explicit := os.LookupEnv("SMSCBRIDGE_TEST_PG_DSN")
	switch {
	case explicit && dsn == "":
		t.Skip("SMSCBRIDGE_TEST_PG_DSN is empty: PostgreSQL tests off")
	case !explicit:
		dsn = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if explicit {
			t.Fatalf("SMSCBRIDGE_TEST_PG_DSN is set but does not connect: %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set SMSCBRIDGE_TEST_PG_DSN to run these tests): %v", DefaultDSN, err)
	}
	conn.Close(ctx)
	return dsn
}

// Schema makes a fresh schema name and drops it when the test ends.
func Schema(t testing.TB, dsn string) string {
	t.Helper()
	schema := "sbtest_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE`, pgx.Identifier{schema}.Sanitize())); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
