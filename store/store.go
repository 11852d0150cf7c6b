package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// RetryPolicy bounds how often and for how long an item is retried.
type RetryPolicy struct {
	// MaxAttempts is how many failed attempts (Retry calls) an item may
	// have: the Retry that makes Attempts reach it dead-letters the item.
	// 0 means the default, 20; negative means no limit.
	MaxAttempts int
	// InitialBackoff and MaxBackoff bound the policy delay: the n-th retry
	// waits a uniformly random time in [InitialBackoff, min(MaxBackoff,
	// InitialBackoff·2ⁿ)] ("full jitter" above a floor). Defaults 2s, 10m.
	InitialBackoff, MaxBackoff time.Duration
	// MaxAge is how long after it was first queued (or last requeued) an
	// item may still be retried; a Retry past it dead-letters the item.
	// 0 means the default, 48h; negative means no limit.
	MaxAge time.Duration
}

// PartialPolicy decides what happens to a concatenated MO whose parts did
// not all arrive within Options.ReassemblyTimeout.
type PartialPolicy int

const (
	// DeliverPartial enqueues what arrived, with Assembled.Missing set.
	DeliverPartial PartialPolicy = iota
	// DeadPartial puts what arrived in the dead letters of the part's lane
	// with reason "incomplete: ...", where an operator can requeue it.
	DeadPartial
)

// Options configure a Store. Only Path is required.
type Options struct {
	// Path of the bbolt file. It is created (atomically: written under a
	// temporary name, synced, renamed) if it does not exist.
	Path string
	// LockTimeout is how long Open waits for another process to release the
	// file before it fails with ErrLocked. Default 5s.
	LockTimeout time.Duration
	// Retry is the retry and dead-letter policy.
	Retry RetryPolicy
	// LeaseTTL is how long a leased item stays invisible to Lease. An item
	// neither acked, retried nor dead-lettered by then is handed out again
	// (at-least-once). Default 5m.
	LeaseTTL time.Duration
	// ReceiptTTL is how long a receipt mapping is kept. Default 72h.
	ReceiptTTL time.Duration
	// ReceiptGrace is how long the caller keeps retrying MatchReceipt for a
	// receipt that arrived before its submit_sm_resp mapping. The store does
	// not use it; it is here so that one Options value carries the whole
	// store configuration. Default 60s.
	ReceiptGrace time.Duration
	// ReassemblyTimeout is how long the parts of a concatenated MO wait for
	// the rest, counted from the first part. Default 10m.
	ReassemblyTimeout time.Duration
	// PartialMO decides the fate of incomplete MO after ReassemblyTimeout.
	PartialMO PartialPolicy
	// SweepInterval is how often Run looks for expired receipts, dedup keys
	// and reassembly sets. Default 1s.
	SweepInterval time.Duration
	// Report, if set, receives the problems Run works around rather than
	// stops for: a failed sweep round (Run waits, doubling the wait up to a
	// minute, and sweeps again) and a corrupt record a sweep skipped (it is
	// deleted; the error wraps ErrCorrupt). It is called from Run's
	// goroutine. nil drops them.
	Report func(error)
	// TraceTTL is how long trace events (Record) are kept. Default 72h;
	// negative turns the trace log off (Record keeps nothing).
	TraceTTL time.Duration
	// TraceMax caps how many trace events are kept; the oldest go first.
	// Default 500,000 (a few hundred bytes each on disk).
	TraceMax int
	// OnCommit, if set, is called after each committed write transaction
	// with how long it took (fsync included) and how many calls it
	// carried (metrics). It runs on the writer goroutine: it must be cheap.
	OnCommit func(d time.Duration, calls int)
	// MaxBatch caps how many calls share one transaction and one fsync.
	// Calls arriving while a commit is in flight wait for the next one, so
	// batches grow with load and a lone call pays only its own commit.
	// Default 512.
	MaxBatch int
	// GatherDelay is how long the writer waits for more calls before it
	// commits a batch that already holds several (under load), so that
	// more calls share one commit's writes and fsync. Default 500µs;
	// negative: never wait.
	GatherDelay time.Duration
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.Path == "" {
		return invalid("empty Path")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.LockTimeout, 5*time.Second)
	def(&o.Retry.InitialBackoff, 2*time.Second)
	def(&o.Retry.MaxBackoff, 10*time.Minute)
	def(&o.LeaseTTL, 5*time.Minute)
	def(&o.ReceiptTTL, 72*time.Hour)
	def(&o.ReceiptGrace, 60*time.Second)
	def(&o.ReassemblyTimeout, 10*time.Minute)
	def(&o.SweepInterval, time.Second)
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = 20
	}
	if o.Retry.MaxAge == 0 {
		o.Retry.MaxAge = 48 * time.Hour
	}
	if o.Retry.MaxBackoff < o.Retry.InitialBackoff {
		o.Retry.MaxBackoff = o.Retry.InitialBackoff
	}
	if o.TraceTTL == 0 {
		o.TraceTTL = 72 * time.Hour
	}
	if o.TraceMax <= 0 {
		o.TraceMax = 500000
	}
	if o.GatherDelay == 0 {
		o.GatherDelay = 500 * time.Microsecond
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PartialMO != DeliverPartial && o.PartialMO != DeadPartial {
		return invalid("unknown PartialMO policy %d", o.PartialMO)
	}
	return nil
}

// LaneStats are the counters of one lane.
type LaneStats struct {
	Queued int // items waiting or leased (leased ones included)
	Leased int // items handed out by Lease and not yet acked, retried or dead-lettered
	Dead   int // dead letters
}

// Store is the durable queue. All methods are safe for concurrent use.
type Store struct {
	opt Options
	db  *bolt.DB

	ops        chan *op
	quit       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	commits atomic.Int64 // committed write transactions (benchmarks report commits per op)
	// lastCommit is how long the writer's last commit took (the writer
	// goroutine owns it).
	lastCommit time.Duration
	ctr        uint64 // last seq or token handed out; owned by the writer (and load)
	ctrSaved   uint64 // ctr as last written in a transaction

	mu     sync.Mutex
	stats  map[string]*LaneStats
	waitCh map[string]chan struct{} // closed when the lane may have due items

	fatal     chan struct{} // closed once a commit failed for a reason other than no space
	fatalErr  error         // why; set before fatal is closed
	fatalOnce sync.Once
	trace     traceBuf
	failTx    func() error // tests: called as the last step before a commit; an error fails it
}

// Open opens (or creates) the store at o.Path. Items that were leased when
// the store was last closed, or when the process died, are due again at
// once. Open fails with ErrLocked if another process holds the file for
// longer than LockTimeout, and with ErrCorrupt if the file is unreadable;
// it never recreates an existing file.
func Open(o Options) (*Store, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	if err := createIfMissing(o.Path); err != nil {
		return nil, err
	}
	db, err := openBolt(o.Path, o.LockTimeout, false)
	if err != nil {
		return nil, err
	}
	s := &Store{
		opt: o, db: db,
		ops: make(chan *op), quit: make(chan struct{}), writerDone: make(chan struct{}), fatal: make(chan struct{}),
		stats: map[string]*LaneStats{}, waitCh: map[string]chan struct{}{},
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	go s.writer()
	return s, nil
}

func openBolt(path string, timeout time.Duration, readOnly bool) (*bolt.DB, error) {
	for range 3 {
		db, err := openBoltOnce(path, timeout, readOnly)
		if !errors.Is(err, errReplaced) {
			return db, err
		}
	}
	return nil, fmt.Errorf("store: open %s: %w, three times", path, errReplaced)
}

// openBoltOnce opens the file and checks that, once locked, it is still
// the file at path.
func openBoltOnce(path string, timeout time.Duration, readOnly bool) (*bolt.DB, error) {
	var file *os.File
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: timeout, ReadOnly: readOnly, FreelistType: bolt.FreelistMapType, NoFreelistSync: true,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	switch {
	case err == nil:
		if !sameFile(path, file) {
			db.Close()
			return nil, errReplaced
		}
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s (waited %s)", ErrLocked, path, timeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return nil, fmt.Errorf("store: open %s: %w", path, classify(err))
}

// createIfMissing makes a new, initialised store file under a temporary
// name and renames it into place, so a crash never leaves a half-written
// file at path (bbolt README caveat on first initialisation).
func createIfMissing(path string) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil // exists, or an error Open will report
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, classify(err))
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp) // no-op after the rename
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, classify(err))
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bktMeta).Put(metaFormat, formatVersion)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, classify(err))
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkFormat reports ErrCorrupt unless tx holds a store this package
// wrote, in the current format or in format 1 (which Open migrates).
func checkFormat(tx *bolt.Tx) error {
	_, err := formatOf(tx)
	return err
}

// formatOf returns 1, 2 or 3, the store format of tx.
func formatOf(tx *bolt.Tx) (int, error) {
	m := tx.Bucket(bktMeta)
	if m == nil {
		return 0, fmt.Errorf("%w: missing format marker", ErrCorrupt)
	}
	ver, want := 0, v1Buckets
	switch f := m.Get(metaFormat); string(f) {
	case string(formatVersion):
		ver, want = 3, allBuckets
	case string(formatV2):
		ver, want = 2, allBuckets
	case string(formatV1):
		ver = 1
	default:
		return 0, fmt.Errorf("%w: unknown format marker %q (written by a newer smscbridge?)", ErrCorrupt, f)
	}
	for _, b := range want {
		if tx.Bucket(b) == nil {
			return 0, fmt.Errorf("%w: bucket %q missing", ErrCorrupt, b)
		}
	}
	return ver, nil
}

// migrate upgrades a format 1 or 2 store in place: format 1 items had no
// ordering key, so each stays alone in its own key (version 1 records read
// as such; they are rewritten as version 2 when next changed); format 2
// differs only by its marker. Only new buckets and the format marker are
// written, in Open's transaction.
func migrate(tx *bolt.Tx) error {
	ver, err := formatOf(tx)
	if err != nil || ver == 3 {
		return err
	}
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bktMeta).Put(metaFormat, formatVersion)
}

// load checks (and if need be migrates) the file, reads the lane counters
// and the sequence counter, and makes every leased item due again (a lease
// does not survive the process that took it).
func (s *Store) load() error {
	now := s.opt.Now().UnixNano()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx); err != nil {
			return err
		}
		if v := tx.Bucket(bktMeta).Get(metaCounter); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("%w: bad counter", ErrCorrupt)
			}
			s.ctr = uint64(be64(v))
		}
		s.ctrSaved = s.ctr
		s.loadTraceCount(tx)
		if err := tx.Bucket(bktLanes).ForEach(func(k, v []byte) error {
			d := decoder{B: v}
			st := &LaneStats{Queued: int(d.Uvarint()), Dead: int(d.Uvarint())}
			s.stats[string(k)] = st
			return decodeDone(&d, "lane counters")
		}); err != nil {
			return err
		}
		return resetLeases(tx, now)
	})
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.opt.Path, classify(err))
	}
	return nil
}

func resetLeases(tx *bolt.Tx, now int64) error {
	leased, items, due := tx.Bucket(bktLeased), tx.Bucket(bktItems), tx.Bucket(bktDue)
	var ids []id
	if err := leased.ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			return fmt.Errorf("%w: bad lease key", ErrCorrupt)
		}
		ids = append(ids, id(k))
		return nil
	}); err != nil {
		return err
	}
	for _, u := range ids {
		if err := leased.Delete(u[:]); err != nil {
			return err
		}
		v := items.Get(u[:])
		if v == nil {
			continue
		}
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		if err := due.Delete(dueKey(r.lane, r.idx, u)); err != nil {
			return err
		}
		r.leased, r.idx, r.token = false, min(r.nextDue, now), 0
		if err := items.Put(u[:], r.encode()); err != nil {
			return err
		}
		if err := due.Put(dueKey(r.lane, r.idx, u), nil); err != nil {
			return err
		}
	}
	return nil
}

// Close waits for the calls in flight, then closes the file. Queued and
// leased items stay on disk (leased ones are due again at the next Open).
// Close is idempotent; later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.flushTrace(ctx) // best effort: the trace never holds up a close
		cancel()
		close(s.quit)
		<-s.writerDone
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Fatal returns a channel that is closed when a commit fails for a reason
// other than a full disk (an I/O error, say). bbolt's view of the file in
// memory is then uncertain, so the store refuses every later write with
// FatalErr; the process should close it and stop, and a restart reopens
// the file from what is on disk.
func (s *Store) Fatal() <-chan struct{} { return s.fatal }

// FatalErr returns nil until Fatal is closed, then the error that closed
// it, which wraps ErrFatal and the commit's own error.
func (s *Store) FatalErr() error {
	select {
	case <-s.fatal:
		return s.fatalErr
	default:
		return nil
	}
}

// commitFailed classifies a failed commit: no space is an ordinary error
// (nothing was written, the store goes on); anything else makes the store
// fatal. It returns the error for the calls of the commit.
func (s *Store) commitFailed(err error) error {
	err = classify(err)
	if errors.Is(err, ErrNoSpace) {
		return err
	}
	s.fatalOnce.Do(func() {
		s.fatalErr = fmt.Errorf("%w: %w", ErrFatal, err)
		close(s.fatal)
	})
	return s.fatalErr
}

// Stats returns the counters of every lane that has or had items. It reads
// counters kept in memory (and on disk, updated in each commit), not the data.
func (s *Store) Stats() map[string]LaneStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]LaneStats, len(s.stats))
	for lane, st := range s.stats {
		if *st != (LaneStats{}) {
			m[lane] = *st
		}
	}
	return m
}

// view runs a read-only transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	select {
	case <-s.quit:
		return ErrClosed
	default:
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func be64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }
