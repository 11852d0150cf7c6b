package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/pgstore"
)

// storeOptions is the store policy of cfg, common to both backends.
func storeOptions(cfg *conf.Config, log *slog.Logger) store.Options {
	return store.Options{
		Path: cfg.Store.Path,
		Retry: store.RetryPolicy{MaxAttempts: cfg.Retry.MaxAttempts, InitialBackoff: cfg.Retry.InitialBackoff.Duration,
			MaxBackoff: cfg.Retry.MaxBackoff.Duration, MaxAge: cfg.Retry.MaxAge.Duration},
		LeaseTTL:          cfg.Store.LeaseTime.Duration,
		ReceiptTTL:        cfg.Store.ReceiptTTL.Duration,
		ReassemblyTimeout: cfg.Store.ReassemblyTimeout.Duration,
		PartialMO:         partialPolicy(cfg.Store.PartialMO),
		Report:            func(err error) { log.Error("store sweep", "err", err) },
	}
}

// openStore opens the backend cfg names with options o (storeOptions):
// the bbolt file, or the PostgreSQL database (schema created or migrated).
// node overrides [store] node ("": keep it); administrative commands pass
// a name of their own, so that opening the store never releases a running
// daemon's leases.
func openStore(cfg *conf.Config, o store.Options, node string) (store.Backend, error) {
	if cfg.Store.Backend != "postgres" {
		s, err := store.Open(o)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
		}
		return s, nil
	}
	if node == "" {
		node = cfg.Store.Node
	}
	report := o.Report // sweeps, and the listener's reconnects
	o.Report = func(err error) {
		if report != nil {
			report(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgstore.Options{Options: o, DSN: cfg.Store.DSN, MaxConns: cfg.Store.PoolSize,
		Schema: cfg.Store.Schema, Node: node})
	if err != nil {
		return nil, fmt.Errorf("open store (postgres): %w", err) // never the DSN: it may hold a password
	}
	return s, nil
}

const migrateUsage = `usage: smscbridge migrate -config FILE [-check] [-from-bbolt PATH]

For [store] backend = "postgres": creates the schema in the database, or
applies the migrations a newer smscbridge needs (the daemon does the same
when it starts). With -check it changes nothing and exits 1 unless the
schema is current. Prints the schema version found and the version now.

With -from-bbolt PATH it then copies everything in that bbolt store (the
node using it must be stopped) into the database: queued items in their
order, dead letters, receipt mappings, marks, dedup keys and incomplete
long MO. The file is not changed; move it aside once the nodes run on
PostgreSQL. Running the copy again skips what is already there.
`

// migrateCmd implements "smscbridge migrate". Exit status 0 when the
// schema is (now) current, 1 on failure, 2 on a usage error.
func migrateCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	path := fs.String("config", defaultConfig, "configuration file")
	check := fs.Bool("check", false, "only check the schema version")
	fromBbolt := fs.String("from-bbolt", "", "copy this bbolt store into the database")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || (*check && *fromBbolt != "") {
		fs.Usage()
		return 2
	}
	cfg, err := conf.Load(*path)
	if err != nil {
		for _, e := range splitErrors(err) {
			fmt.Fprintln(stderr, e)
		}
		return 1
	}
	if cfg.Store.Backend != "postgres" {
		fmt.Fprintf(stderr, "smscbridge migrate: %s: [store] backend is %q: the bbolt file needs no migration (the daemon upgrades it when it opens it)\n", *path, cfg.Store.Backend)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	from, to, err := pgstore.Migrate(ctx, cfg.Store.DSN, cfg.Store.Schema, !*check)
	if err != nil {
		fmt.Fprintf(stderr, "smscbridge migrate: %v\n", err)
		return 1
	}
	switch {
	case *check && from != pgstore.SchemaVersion:
		fmt.Fprintf(stderr, "schema version %d, this smscbridge needs %d: run smscbridge migrate -config %s\n", from, pgstore.SchemaVersion, *path)
		return 1
	case from == to:
		fmt.Fprintf(stdout, "schema version %d: current\n", to)
	default:
		fmt.Fprintf(stdout, "schema version %d → %d\n", from, to)
	}
	if *fromBbolt != "" {
		if err := copyFromBbolt(cfg, *fromBbolt, stdout); err != nil {
			fmt.Fprintf(stderr, "smscbridge migrate: %v\n", explain(err))
			return 1
		}
	}
	return 0
}

// copyFromBbolt exports the bbolt store at path into cfg's PostgreSQL
// store, 500 records per transaction.
func copyFromBbolt(cfg *conf.Config, path string, w io.Writer) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no store at %s: %w", path, err)
	}
	src, err := store.Open(store.Options{Path: path, LockTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openStore(cfg, storeOptions(cfg, slog.New(slog.DiscardHandler)), adminNode())
	if err != nil {
		return err
	}
	defer dst.Close()
	pg := dst.(*pgstore.Store)
	ctx := context.Background()
	var chunk []store.Entry
	var queued, dead, receipts, marks, dedup, parts int
	flush := func() error {
		err := pg.Import(ctx, chunk)
		chunk = chunk[:0]
		return err
	}
	err = src.Export(ctx, func(e store.Entry) error {
		switch {
		case e.Item != nil && e.Item.DeadReason != "":
			dead++
		case e.Item != nil:
			queued++
		case e.Receipt != nil:
			receipts++
		case e.Mark != nil:
			marks++
		case e.Dedup != nil:
			dedup++
		case e.Part != nil:
			parts++
		}
		chunk = append(chunk, e)
		if len(chunk) < 500 {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("copy from %s: %w", path, err)
	}
	fmt.Fprintf(w, "copied from %s: %d queued items, %d dead letters, %d receipt mappings, %d marks, %d dedup keys, %d parts of incomplete MO\n",
		path, queued, dead, receipts, marks, dedup, parts)
	fmt.Fprintf(w, "%s is unchanged: move it aside before the node runs on PostgreSQL\n", path)
	return nil
}

// adminNode names an administrative command's connection to a shared
// store, so that it releases no daemon's leases.
func adminNode() string { return fmt.Sprintf("admin-%d", os.Getpid()) }

// sharedStore is a store several nodes use at once (pgstore).
type sharedStore interface {
	Node() string
	Leases(ctx context.Context) (map[string]map[string]int, error)
}

// sharedNodes returns, for a store shared by several nodes, this node's
// name and what every node holds leased, per lane ("" and nil otherwise).
func sharedNodes(ctx context.Context, s store.Backend) (string, map[string]map[string]int) {
	sh, ok := s.(sharedStore)
	if !ok {
		return "", nil
	}
	leases, _ := sh.Leases(ctx)
	return sh.Node(), leases
}
