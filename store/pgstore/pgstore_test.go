package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/storetest"
)

// two opens two nodes on one fresh schema, sharing clk.
func two(t *testing.T, clk *storetest.Clock, poll time.Duration) (a, b *Store) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	o := store.Options{Now: clk.Now, LeaseTTL: 10 * time.Second}
	a = mustOpen(t, Options{Options: o, DSN: dsn, Schema: schema, Node: "a", PollInterval: poll})
	b = mustOpen(t, Options{Options: o, DSN: dsn, Schema: schema, Node: "b", PollInterval: poll})
	return a, b
}

// A node's leased work becomes due on another node once the lease runs
// out, and the first node's late ack is refused.
func TestFailoverAcrossNodes(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	a, b := two(t, clk, time.Second)
	id, _, err := a.Enqueue(ctx, store.NewItem{Lane: "mt", Key: "k", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Enqueue(ctx, store.NewItem{Lane: "mt", Key: "k", Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	la, _ := a.Lease(ctx, "mt", 10)
	if len(la) != 1 || la[0].ID != id {
		t.Fatalf("node a leased %v", la)
	}
	if lb, _ := b.Lease(ctx, "mt", 10); len(lb) != 0 {
		t.Fatalf("node b leased %v while a holds the key's head", lb)
	}
	clk.Add(10 * time.Second)
	lb, _ := b.Lease(ctx, "mt", 10)
	if len(lb) != 1 || lb[0].ID != id {
		t.Fatalf("after a's lease expired, b leased %v", lb)
	}
	if err := a.Ack(ctx, "mt", id, la[0].Token); !errors.Is(err, store.ErrStaleLease) {
		t.Fatalf("late ack from a = %v, want ErrStaleLease", err)
	}
	if err := b.Ack(ctx, "mt", id, lb[0].Token); err != nil {
		t.Fatal(err)
	}
	next, _ := a.Lease(ctx, "mt", 10)
	if len(next) != 1 || string(next[0].Payload) != "y" {
		t.Fatalf("next of key on a = %v", next)
	}
}

// Reopening a node releases its own leases only.
func TestReopenReleasesOwnLeasesOnly(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	a, b := two(t, clk, time.Second)
	for _, p := range []string{"1", "2"} {
		if _, _, err := a.Enqueue(ctx, store.NewItem{Lane: "l", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	if la, _ := a.Lease(ctx, "l", 1); len(la) != 1 {
		t.Fatal("a leased nothing")
	}
	if lb, _ := b.Lease(ctx, "l", 1); len(lb) != 1 {
		t.Fatal("b leased nothing")
	}
	a.Close()
	a2 := mustOpen(t, a.opt)
	got, _ := a2.Lease(ctx, "l", 10)
	if len(got) != 1 || string(got[0].Payload) != "1" {
		t.Fatalf("after a reopened: leased %v, want a's item only (b's lease holds)", got)
	}
}

// LeaseWait on one node wakes on another node's commit through
// LISTEN/NOTIFY, long before its polling fallback would look again.
func TestLeaseWaitWokenByOtherNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := storetest.NewClock()
	a, b := two(t, clk, time.Hour)
	// a's listener is up once it has woken its (empty) waiters; give it a
	// moment by round-tripping a notification first.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ch := a.waitChan("probe")
		if _, _, err := b.Enqueue(ctx, store.NewItem{Lane: "probe"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no notification reached node a")
			}
			continue
		}
		break
	}
	done := make(chan []store.Item, 1)
	go func() {
		items, err := a.LeaseWait(ctx, "mo", 5)
		if err != nil {
			t.Error(err)
		}
		done <- items
	}()
	time.Sleep(50 * time.Millisecond)
	if _, _, err := b.Enqueue(ctx, store.NewItem{Lane: "mo", Payload: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	select {
	case items := <-done:
		if len(items) != 1 || string(items[0].Payload) != "hi" {
			t.Fatalf("LeaseWait = %v", items)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LeaseWait on node a not woken by node b's enqueue")
	}
}

// Parts of one MO arriving on different nodes are assembled once.
func TestReassemblyAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, b := two(t, storetest.NewClock(), time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for seq := 1; seq <= 6; seq++ {
		s := a
		if seq%2 == 0 {
			s = b
		}
		wg.Go(func() {
			done, id, err := s.AddPart(ctx, store.Part{SMSC: "agg", Source: "+1", Dest: "2", Ref: 9, Total: 6, Seq: seq,
				Data: []byte(fmt.Sprint(seq)), Lane: "mo"})
			if err != nil {
				t.Error(err)
			}
			if done {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("assembled %d times", len(ids))
	}
	items, _ := b.Lease(ctx, "mo", 10)
	a2, err := store.DecodeParts(items[0].Payload)
	if err != nil || fmt.Sprintf("%s", a2.Parts) != "[1 2 3 4 5 6]" {
		t.Fatalf("assembled %s, %v", a2.Parts, err)
	}
}

// The schema is versioned: Migrate is idempotent, and a database written
// by a newer smscbridge is refused, not touched.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	from, to, err := Migrate(ctx, dsn, schema, false)
	if err != nil || from != 0 || to != 0 {
		t.Fatalf("check of an empty schema = %d, %d, %v", from, to, err)
	}
	from, to, err = Migrate(ctx, dsn, schema, true)
	if err != nil || from != 0 || to != SchemaVersion {
		t.Fatalf("Migrate = %d, %d, %v", from, to, err)
	}
	from, to, err = Migrate(ctx, dsn, schema, true)
	if err != nil || from != SchemaVersion || to != SchemaVersion {
		t.Fatalf("Migrate again = %d, %d, %v", from, to, err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.smscbridge_migrations (version) VALUES (%d)`,
		pgx.Identifier{schema}.Sanitize(), SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Options{DSN: dsn, Schema: schema}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open(newer schema) = %v, want ErrSchema", err)
	}
}

// A DSN that does not parse is refused without echoing it (it may hold a
// password).
func TestBadDSNNotEchoed(t *testing.T) {
	_, err := Open(context.Background(), Options{DSN: "postgres://u:s3cret@host:notaport/db"})
	if err == nil || !errors.Is(err, store.ErrInvalid) || contains(err.Error(), "s3cret") {
		t.Fatalf("Open(bad DSN) = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// When a node's LISTEN connection dies, it reconnects, and a later commit
// on another node still wakes its LeaseWait (polling is an hour here).
func TestListenerReconnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := two(t, storetest.NewClock(), time.Hour)
	conn, err := pgx.Connect(ctx, a.opt.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	killed := 0
	for killed == 0 && ctx.Err() == nil {
		if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = 'smscbridge:a' AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan []store.Item, 1)
	go func() {
		items, _ := a.LeaseWait(ctx, "mo", 5)
		done <- items
	}()
	// Enqueue until a's new listener hears one (each enqueue notifies).
	for i := 0; ; i++ {
		if _, _, err := b.Enqueue(ctx, store.NewItem{Lane: "mo", Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		select {
		case items := <-done:
			if len(items) == 0 {
				t.Fatal("LeaseWait returned nothing")
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("node a's LeaseWait never woke after its listener was killed")
		}
	}
}

// Leases shows what each node holds, until the leases expire.
func TestLeasesPerNode(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	a, b := two(t, clk, time.Second)
	for i := range 3 {
		if _, _, err := a.Enqueue(ctx, store.NewItem{Lane: "mt", Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	a.Lease(ctx, "mt", 2)
	b.Lease(ctx, "mt", 2)
	got, err := b.Leases(ctx)
	if err != nil || fmt.Sprint(got) != "map[a:map[mt:2] b:map[mt:1]]" {
		t.Fatalf("Leases = %v, %v", got, err)
	}
	clk.Add(10 * time.Second)
	if got, _ := a.Leases(ctx); len(got) != 0 {
		t.Fatalf("Leases after expiry = %v", got)
	}
}

// The functions look a key's items up with parameters, so PostgreSQL runs
// them with generic plans: those must use the key index, or every enqueue
// and ack would scan the whole queue (as a partial index for non-empty keys
// did: 160 µs per call at 5,000 items instead of 15).
func TestKeyLookupUsesIndexInGenericPlan(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	s := mustOpen(t, Options{DSN: dsn, Schema: testSchema(t, dsn)})
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for i := range 2000 { // enough rows that a scan costs more than the index
		if _, _, err := s.Enqueue(ctx, store.NewItem{Lane: "l", Key: fmt.Sprint("k", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `ANALYZE sb_items`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT 1 FROM sb_items WHERE lane = $1 AND key = $2`,
		`SELECT id FROM sb_items WHERE lane = $1 AND key = $2 ORDER BY seq LIMIT 1`,
	} {
		if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `DEALLOCATE ALL; PREPARE q(bytea, bytea) AS `+q); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, `EXPLAIN EXECUTE q('l', 'k1')`, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), "sb_items_key") {
			t.Errorf("generic plan of %s does not use sb_items_key:\n%s", q, strings.Join(plan, "\n"))
		}
	}
}

// When the database drops a node's connections (a restart, a failover),
// calls fail with an error, change nothing, and work again on fresh
// connections without reopening the store.
func TestConnectionsDroppedRecover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := two(t, storetest.NewClock(), time.Second)
	if _, _, err := a.Enqueue(ctx, store.NewItem{Lane: "l", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'smscbridge:a'`); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := 0; i < 20 && ok == 0; i++ {
		if _, _, err := a.Enqueue(ctx, store.NewItem{Lane: "l", Payload: []byte("after")}); err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Fatal("node a never enqueued again after its connections were dropped")
	}
	items, err := a.Lease(ctx, "l", 10)
	if err != nil || len(items) != 2 || string(items[0].Payload) != "before" || string(items[1].Payload) != "after" {
		t.Fatalf("after reconnecting: %v, %v; want before and after, once each", items, err)
	}
}

// A receipt mapping written with one node's completion is found by the
// other node at once (a receipt may arrive on any node's bind), and a
// mark (the last status reported) likewise.
func TestReceiptAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, b := two(t, storetest.NewClock(), time.Second)
	id, _, err := a.Enqueue(ctx, store.NewItem{Lane: "mt:agg", Key: "rp\x00+1", Payload: []byte("mt")})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := a.Lease(ctx, "mt:agg", 1)
	if _, err := a.Complete(ctx, store.Completion{Lane: "mt:agg", ID: id, Token: it[0].Token,
		Receipts: []store.Receipt{{SMSC: "agg", MsgID: "abc123", Channel: "rp", Part: 1, Parts: 1}},
		Marks:    []store.Mark{{Key: "st:" + id, Value: []byte("sent")}}}); err != nil {
		t.Fatal(err)
	}
	r, ok, err := b.MatchReceipt(ctx, "agg", "abc123")
	if err != nil || !ok || r.ItemID != id || r.Channel != "rp" {
		t.Fatalf("node b MatchReceipt = %+v, %v, %v; want item %s", r, ok, err, id)
	}
	if v, ok, _ := b.GetMark(ctx, "st:"+id); !ok || string(v) != "sent" {
		t.Fatalf("node b GetMark = %q, %v", v, ok)
	}
}

// TestNodesStartTogether: several nodes creating and migrating one new
// schema at the same moment all succeed (CREATE SCHEMA IF NOT EXISTS alone
// races: duplicate key in pg_namespace).
func TestNodesStartTogether(t *testing.T) {
	dsn := testDSN(t)
	for round := range 5 {
		schema := testSchema(t, dsn)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, _, err := Migrate(t.Context(), dsn, schema, true)
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: Migrate of a new schema by 4 nodes at once: %v", round, err)
			}
		}
	}
}
