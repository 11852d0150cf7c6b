// Package pgstore is smscbridge's durable store on PostgreSQL: the same
// calls and the same semantics as package store (bbolt), so that two or
// three bridge nodes can share one queue, one receipt map and one MO
// reassembly buffer (design.md, "Beyond one machine"). The shared test
// suite store/storetest runs against both.
//
// # Schema
//
// Open creates the tables it needs and applies missing migrations (table
// smscbridge_migrations holds the versions applied; see Migrate). Every
// string the bridge stores may hold NUL bytes (ordering keys do), so lanes,
// keys and the like are bytea columns. Times are Unix nanoseconds from the
// node's clock (Options.Now): the nodes' clocks must agree (NTP) to well
// under the lease time.
//
// # Leases and order
//
// Each queued item is a row of sb_items; the head of each (lane, key) has
// head = true and is due at idx. Lease takes up to max due heads, oldest
// first, with SELECT … FOR UPDATE SKIP LOCKED, so nodes leasing at once
// never block each other or hand out an item twice. A lease sets idx to
// the lease expiry (Options.LeaseTTL) and a fresh token from the sequence
// sb_counter: if the holder dies, the item is due again elsewhere when the
// lease runs out, and the old holder's late Ack, Retry or Complete is
// refused (store.ErrStaleLease). Changes to the order of one key (enqueue,
// promotion of the next head) take a transaction-scoped advisory lock on
// the key, so order holds across nodes.
//
// When Open starts, the leases this node (Options.Node) held are released
// at once: a restarted node does not wait out its own leases. Other nodes'
// leases are left to expire.
//
// # Wake-ups
//
// After a transaction that makes a head due commits, the node sends NOTIFY
// on the schema's channel with the lane (coalesced: one statement for the
// commits of a burst); every node LISTENs and wakes its LeaseWait callers. The
// node's own commits wake its callers directly, and LeaseWait also looks
// again every Options.PollInterval, so a lost notification (a dropped
// listener connection) costs at most that.
//
// # Durability
//
// Each call is one transaction, committed (synchronous_commit as the
// server is configured; on by default) before it returns; plain enqueues
// and acks arriving together share one (group commit, see batch.go), and
// the usual calls are one round trip each (PL/pgSQL functions sb_put,
// sb_ack, sb_unqueue; a plain-ack Complete is one pipelined batch). The failure
// modes differ from bbolt's: a database that cannot be reached fails calls
// with an error (the bridge retries: SMPP ESME_RX_T_APPN, HTTP 503), and
// Fatal is never closed.
//
// # Message trace
//
// Record, Trace and TraceDropped keep the bbolt store's semantics
// (store/trace.go) in one table, sb_trace, that every node writes: see
// trace.go.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smscbridge/smscbridge/store"
)

// ErrSchema means the database holds a schema this build cannot use.
var ErrSchema = errors.New("pgstore: incompatible schema")

// Options configure a Store.
type Options struct {
	// Options are the store policy (Retry, LeaseTTL, ReceiptTTL,
	// ReassemblyTimeout, PartialMO, SweepInterval, Report, Now, MaxBatch:
	// the most enqueues and acks sharing one commit), with the same meaning
	// and defaults as for the bbolt store, except LeaseTTL: default 15s
	// here, as it is how long a dead node's work waits. Path and
	// LockTimeout are not used.
	store.Options
	// DSN is the PostgreSQL connection string (URL or key=value). Required.
	// It may hold a password: never log it.
	DSN string
	// MaxConns caps the connection pool. Default 10.
	MaxConns int
	// Schema, if set, is the schema the tables live in (created if
	// missing); default: the connection's search_path (public).
	Schema string
	// Node names this process among the nodes sharing the database: its
	// leases are released when it opens the store again. Default: the host
	// name. Two processes running at once must have different names.
	Node string
	// PollInterval is how often LeaseWait looks for due work even without a
	// notification. Default 1s.
	PollInterval time.Duration
}

// Store is the queue on PostgreSQL. All methods are safe for concurrent use.
type Store struct {
	opt     Options
	pool    *pgxpool.Pool
	channel string // NOTIFY channel

	quit      chan struct{}
	listening sync.WaitGroup
	closeOnce sync.Once
	fatal     chan struct{}

	mu      sync.Mutex
	waitCh  map[string]chan struct{}
	pending map[string]bool // lanes to notify
	kick    chan struct{}
	ops     chan *op     // to the batcher
	batches atomic.Int64 // batches sent (benchmarks report calls per batch)

	trace traceBuf // the message trace's pending events (trace.go)
}

var _ store.Backend = (*Store)(nil)

func (o *Options) setDefaults() error {
	if o.DSN == "" {
		return fmt.Errorf("%w: empty DSN", store.ErrInvalid)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
	so, err := o.Options.Defaults()
	if err != nil {
		return err
	}
	o.Options = so
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Node == "" {
		o.Node, _ = os.Hostname()
	}
	return nil
}

func poolConfig(o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// pgx's parse errors may quote the DSN (and a password): say less.
		return nil, fmt.Errorf("%w: the DSN does not parse", store.ErrInvalid)
	}
	cfg.MaxConns = int32(o.MaxConns)
	if o.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
	}
	if o.Node != "" { // pg_stat_activity shows which node a connection is
		cfg.ConnConfig.RuntimeParams["application_name"] = "smscbridge:" + o.Node
	}
	return cfg, nil
}

// Migrate connects to the database and applies the missing schema
// migrations (apply = true) or only reads the version (apply = false). It
// returns the schema version found and the version after.
func Migrate(ctx context.Context, dsn, schema string, apply bool) (from, to int, err error) {
	cfg, err := poolConfig(Options{DSN: dsn, Schema: schema, MaxConns: 1})
	if err != nil {
		return 0, 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if schema != "" && apply {
		if err := createSchema(ctx, conn, schema); err != nil {
			return 0, 0, fmt.Errorf("pgstore: create schema: %w", err)
		}
	}
	from, to, err = migrate(ctx, conn, apply)
	if err != nil {
		return from, to, fmt.Errorf("pgstore: migrate: %w", err)
	}
	return from, to, nil
}

// createSchema creates schema if it is missing, under the migration lock:
// CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one (two
// nodes starting together: duplicate key in pg_namespace), so nodes take
// turns.
func createSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Open connects, creates or migrates the schema, releases this node's
// leases and starts listening for wake-ups.
func Open(ctx context.Context, o Options) (*Store, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	cfg, err := poolConfig(o)
	if err != nil {
		return nil, err
	}
	if _, _, err := Migrate(ctx, o.DSN, o.Schema, true); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{opt: o, pool: pool, channel: "smscbridge:" + o.Schema,
		quit: make(chan struct{}), fatal: make(chan struct{}), waitCh: map[string]chan struct{}{},
		pending: map[string]bool{}, kick: make(chan struct{}, 1), ops: make(chan *op)}
	if err := s.update(ctx, func(w *wtx) error {
		rows, err := w.tx.Query(ctx, `UPDATE sb_items SET leased = false, token = 0, idx = least(next_due, $2)
WHERE leased AND owner = $1 RETURNING lane`, o.Node, w.now)
		if err != nil {
			return err
		}
		lanes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		for _, l := range lanes {
			w.wake[string(l)] = true
		}
		return err
	}); err != nil {
		pool.Close()
		return nil, err
	}
	s.trace.capDue.Store(true) // check TraceMax at the first sweep
	s.listening.Add(4)
	go s.listen(cfg.ConnConfig)
	go s.notifier()
	go s.batcher()
	go s.traceLoop()
	return s, nil
}

// Close stops the listener, writes the pending trace events (best effort,
// for at most a second) and closes the pool. Idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.listening.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.flushTrace(ctx) // the trace never holds up a close
		cancel()
		s.pool.Close()
	})
	return nil
}

// Fatal is never closed: a database that cannot be reached fails calls,
// and they succeed again once it is back.
func (s *Store) Fatal() <-chan struct{} { return s.fatal }

// FatalErr is always nil (see Fatal).
func (s *Store) FatalErr() error { return nil }

// Ping commits a trivial transaction on the database: the service
// watchdog's proof that the store still takes commits.
func (s *Store) Ping(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// wtx is one transaction of a call.
type wtx struct {
	s    *Store
	ctx  context.Context
	tx   pgx.Tx
	now  int64
	wake map[string]bool // lanes whose due heads changed
}

// update runs fn in a transaction, again (up to 5 times) if PostgreSQL
// aborts it for a deadlock or a serialisation failure; fn must be
// repeatable. After the commit the lanes fn woke are notified.
func (s *Store) update(ctx context.Context, fn func(*wtx) error) error {
	select {
	case <-s.quit:
		return store.ErrClosed
	default:
	}
	var err error
	for range 5 {
		var w *wtx
		t0 := time.Now()
		w, err = s.try(ctx, fn)
		if err == nil {
			s.committed(t0, 1)
			s.wakeLocal(w.wake)
			s.notify(w.wake)
			return nil
		}
		if !retryable(err) {
			break
		}
	}
	return err
}

// once runs fn (one statement on the pool: its own transaction), again
// (up to 5 times) after a deadlock or a serialisation failure.
func (s *Store) once(ctx context.Context, fn func() error) error {
	select {
	case <-s.quit:
		return store.ErrClosed
	default:
	}
	var err error
	for range 5 {
		if err = fn(); !retryable(err) {
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// committed tells Options.OnCommit (metrics) about a commit of calls
// calls that started at t0.
func (s *Store) committed(t0 time.Time, calls int) {
	if s.opt.OnCommit != nil {
		s.opt.OnCommit(time.Since(t0), calls)
	}
}

// woke wakes the waiters of lane, here and on the other nodes.
func (s *Store) woke(lane string) {
	m := map[string]bool{lane: true}
	s.wakeLocal(m)
	s.notify(m)
}

func (s *Store) try(ctx context.Context, fn func(*wtx) error) (*wtx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	w := &wtx{s: s, ctx: ctx, tx: tx, now: s.opt.Now().UnixNano(), wake: map[string]bool{}}
	if err := fn(w); err != nil {
		return w, err
	}
	if err := tx.Commit(ctx); err != nil {
		return w, fmt.Errorf("pgstore: commit: %w", err)
	}
	return w, nil
}

// notify hands lanes to the notifier, which tells the other nodes. NOTIFY
// is sent after the commit, not in it: PostgreSQL serialises the commits
// of notifying transactions under one lock, which would cost every
// transaction its own WAL flush (no group commit). A notification lost to
// a crash between the commit and the NOTIFY costs the other nodes at most
// PollInterval.
func (s *Store) notify(lanes map[string]bool) {
	if len(lanes) == 0 {
		return
	}
	s.mu.Lock()
	for l := range lanes {
		s.pending[l] = true
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// notifier sends the pending notifications, coalescing the lanes of every
// commit since its last round into one statement.
func (s *Store) notifier() {
	defer s.listening.Done()
	for {
		select {
		case <-s.quit:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		lanes := make([]string, 0, len(s.pending))
		for l := range s.pending {
			lanes = append(lanes, notifyPayload(l))
		}
		clear(s.pending)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, l) FROM unnest($2::text[]) l`, s.channel, lanes)
		cancel()
		if err != nil && s.opt.Report != nil {
			s.opt.Report(fmt.Errorf("pgstore: notify: %w (other nodes poll every %s)", err, s.opt.PollInterval))
		}
	}
}

// notifyPayload is the NOTIFY payload for lane: its hex (payloads must be
// text), or "" (wake every lane) if it would exceed PostgreSQL's limit.
func notifyPayload(lane string) string {
	if len(lane) > 3000 {
		return ""
	}
	return fmt.Sprintf("%x", lane)
}

// lock takes a transaction-scoped advisory lock on a name in a namespace
// ('d' dedup keys, 'g' reassembly sets; keys are locked in SQL, by
// sb_lock_key).
func (w *wtx) lock(ns byte, parts ...string) error {
	h := fnv.New64a()
	h.Write([]byte{ns})
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	_, err := w.tx.Exec(w.ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64()))
	return err
}

func (s *Store) waitChan(lane string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.waitCh[lane]
	if ch == nil {
		ch = make(chan struct{})
		s.waitCh[lane] = ch
	}
	return ch
}

// wakeLocal wakes this node's waiters on lanes ("" in lanes: all).
func (s *Store) wakeLocal(lanes map[string]bool) {
	if len(lanes) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for l, ch := range s.waitCh {
		if lanes[l] || lanes[""] {
			close(ch)
			delete(s.waitCh, l)
		}
	}
}

// listen LISTENs on the store's channel until Close, reconnecting after a
// wait if the connection drops (LeaseWait polls meanwhile).
func (s *Store) listen(cfg *pgx.ConnConfig) {
	defer s.listening.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.quit
		cancel()
	}()
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		if s.opt.Report != nil {
			s.opt.Report(fmt.Errorf("pgstore: listener: %w (polling every %s meanwhile)", err, s.opt.PollInterval))
		}
		s.wakeLocal(map[string]bool{"": true})
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	s.wakeLocal(map[string]bool{"": true}) // anything missed while not listening
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var lane []byte
		if _, err := fmt.Sscanf(n.Payload, "%x", &lane); err != nil || n.Payload == "" {
			s.wakeLocal(map[string]bool{"": true})
			continue
		}
		s.wakeLocal(map[string]bool{string(lane): true})
	}
}
