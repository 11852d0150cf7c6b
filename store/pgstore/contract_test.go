package pgstore

import (
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/storetest"
)

// TestContract runs the shared backend contract (store/storetest, also run
// by package store against bbolt) against PostgreSQL.
func TestContract(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) func(store.Options) store.Backend {
		schema := testSchema(t, dsn)
		return func(o store.Options) store.Backend {
			return mustOpen(t, Options{Options: o, DSN: dsn, Schema: schema, Node: "test", PollInterval: 50 * time.Millisecond})
		}
	})
}
