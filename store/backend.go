package store

import (
	"context"
	"strconv"
	"time"
)

// Backend is everything smscbridge asks of its durable store: the queue
// with lanes, keys, leases and dead letters, the receipt map, marks and MO
// reassembly, the counters and the background sweeper. *Store (bbolt) and
// pgstore.Store (PostgreSQL) implement it with the same semantics, proven
// by one shared test suite (package store/storetest). No type of either
// engine crosses it (design.md, "Beyond one machine").
type Backend interface {
	Enqueue(ctx context.Context, it NewItem) (id string, dup bool, err error)
	Add(ctx context.Context, it NewItem) (Added, error)
	Lease(ctx context.Context, lane string, max int) ([]Item, error)
	LeaseDue(ctx context.Context, lane string, max int) ([]Item, error)
	LeaseWait(ctx context.Context, lane string, max int) ([]Item, error)
	Ack(ctx context.Context, lane, id string, token uint64) error
	Retry(ctx context.Context, lane, id string, token uint64, cause string, delay time.Duration) (dead bool, err error)
	Dead(ctx context.Context, lane, id string, token uint64, reason string) error
	Complete(ctx context.Context, c Completion) (CompleteResult, error)

	PutReceipt(ctx context.Context, rs ...Receipt) error
	MatchReceipt(ctx context.Context, smsc, msgID string) (Receipt, bool, error)
	GetMark(ctx context.Context, key string) (value []byte, ok bool, err error)
	AddPart(ctx context.Context, p Part) (complete bool, id string, err error)

	List(ctx context.Context, lane string, limit int) ([]Item, error)
	ListDead(ctx context.Context, lane string, limit int) ([]Item, error)
	Get(ctx context.Context, id string) (Item, error)
	Requeue(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
	DropDead(ctx context.Context, id string, enqueue ...NewItem) error
	SettleDead(ctx context.Context, id string, enqueue []NewItem, receipts []Receipt) error
	RequeueLane(ctx context.Context, lane string) (int, error)
	DropLane(ctx context.Context, lane string) (int, error)

	// Stats returns the counters of every lane that has items or dead
	// letters (a backend that cannot read them returns what it has).
	Stats() map[string]LaneStats
	// Run does the background work (expiry of receipts, dedup keys and
	// marks; incomplete MO reassembly) until ctx ends; Sweep one round now.
	Run(ctx context.Context) error
	Sweep(ctx context.Context) error
	// OldestQueued and ReassemblyOpen feed the status page and metrics.
	OldestQueued() (map[string]time.Time, error)
	ReassemblyOpen() (int, error)
	// The message trace (Record, Trace, TraceDropped), with the semantics
	// of store/trace.go (the storetest contract checks them); on
	// PostgreSQL one trace is shared by every node.
	Record(ev TraceEvent)
	Trace(ctx context.Context, query string, limit int) ([]TraceEvent, error)
	TraceDropped() uint64

	// Ping returns nil once the backend has committed a (trivial)
	// transaction: the service watchdog's proof that writes still land.
	Ping(ctx context.Context) error

	// Fatal is closed when the backend can no longer be used and the
	// process must restart (FatalErr says why).
	Fatal() <-chan struct{}
	FatalErr() error
	Close() error
}

var _ Backend = (*Store)(nil)

// The helpers below let other backends apply exactly this package's rules.

// Defaults returns o with every unset field given its default, as Open
// does, without requiring Path (other backends have no file).
func (o Options) Defaults() (Options, error) {
	path := o.Path
	o.Path = "-"
	err := o.setDefaults()
	o.Path = path
	return o, err
}

// NewID returns a fresh item id (UUIDv7) for time now.
func NewID(now time.Time) string { return newID(now).String() }

// ValidID says whether s is an item id as NewID makes them.
func ValidID(s string) bool {
	_, ok := parseID(s)
	return ok
}

// Validate checks an item to queue as Enqueue does (ErrInvalid).
func (it NewItem) Validate() error { return checkNew(it) }

// Validate checks a completion as Complete does (ErrInvalid).
func (c *Completion) Validate() error { return c.check() }

// Validate checks a receipt mapping as PutReceipt does (ErrInvalid).
func (r Receipt) Validate() error { return checkReceipt(r) }

// Validate checks a part as AddPart does (ErrInvalid).
func (p Part) Validate() error { return checkPart(p) }

// Backoff is the policy delay before attempt n+1 (see RetryPolicy); p must
// have its defaults (Options.Defaults).
func (p RetryPolicy) Backoff(n int) time.Duration {
	s := Store{opt: Options{Retry: p}}
	return s.backoff(n)
}

// DeadReason says why an item with attempts failed attempts (the last with
// lastError), queued (or requeued) at ageFrom, may not be retried at now, or
// "". A wait does not count as an attempt, so only MaxAge applies to it.
func (p RetryPolicy) DeadReason(attempts int, lastError string, ageFrom, now time.Time, wait bool) string {
	s := Store{opt: Options{Retry: p}}
	return s.deadReason(&record{attempts: attempts, lastError: lastError, ageFrom: ageFrom.UnixNano()}, now.UnixNano(), wait)
}

// PartialReason is the dead-letter reason of an incomplete MO.
func PartialReason(missing []int, total int) string {
	return "incomplete: missing parts " + joinInts(missing) + " of " + strconv.Itoa(total)
}
