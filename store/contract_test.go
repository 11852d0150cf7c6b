package store_test

import (
	"path/filepath"
	"testing"

	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/storetest"
)

// TestContract runs the shared backend contract (store/storetest) against
// the bbolt store; store/pgstore runs the same suite against PostgreSQL.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(store.Options) store.Backend {
		path := filepath.Join(t.TempDir(), "bridge.db")
		return func(o store.Options) store.Backend {
			o.Path = path
			s, err := store.Open(o)
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}
