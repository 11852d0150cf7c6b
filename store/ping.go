package store

import "context"

// Ping commits an empty write transaction through the store's writer, as
// every change is committed: it returns nil once the commit is done, so a
// caller (the service watchdog) knows the store still takes commits.
func (s *Store) Ping(ctx context.Context) error {
	return s.update(ctx, func(*wtx) error { return nil })
}

// Commits is how many write transactions the store has committed since it
// was opened (benchmarks report commits per message).
func (s *Store) Commits() int64 { return s.commits.Load() }
