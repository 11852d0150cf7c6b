package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema versions, applied in order; migration i makes
// version i+1. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: the queue, dead letters, dedup keys, receipt map, marks, reassembly.
	`CREATE SEQUENCE sb_counter;
CREATE TABLE sb_items (
	id         text COLLATE "C" PRIMARY KEY,
	lane       bytea   NOT NULL,
	key        bytea   NOT NULL,
	seq        bigint  NOT NULL,
	payload    bytea   NOT NULL,
	attempts   integer NOT NULL DEFAULT 0,
	first_seen bigint  NOT NULL,
	age_from   bigint  NOT NULL,
	next_due   bigint  NOT NULL,
	idx        bigint  NOT NULL,
	last_error bytea   NOT NULL DEFAULT '',
	head       boolean NOT NULL,
	leased     boolean NOT NULL DEFAULT false,
	token      bigint  NOT NULL DEFAULT 0,
	owner      text    NOT NULL DEFAULT ''
);
CREATE INDEX sb_items_due ON sb_items (lane, idx, id) WHERE head;
CREATE INDEX sb_items_key ON sb_items (lane, key, seq) WHERE key <> '';
CREATE INDEX sb_items_owner ON sb_items (owner) WHERE leased;
CREATE TABLE sb_dead (
	id          text COLLATE "C" PRIMARY KEY,
	lane        bytea   NOT NULL,
	key         bytea   NOT NULL,
	payload     bytea   NOT NULL,
	attempts    integer NOT NULL,
	first_seen  bigint  NOT NULL,
	next_due    bigint  NOT NULL,
	last_error  bytea   NOT NULL,
	dead_reason bytea   NOT NULL,
	dead_at     bigint  NOT NULL
);
CREATE INDEX sb_dead_lane ON sb_dead (lane, id);
CREATE TABLE sb_dedup (
	key     bytea PRIMARY KEY,
	item_id text   NOT NULL,
	expires bigint NOT NULL
);
CREATE INDEX sb_dedup_exp ON sb_dedup (expires);
CREATE TABLE sb_receipts (
	smsc    bytea   NOT NULL,
	msg_id  bytea   NOT NULL,
	item_id text    NOT NULL,
	channel bytea   NOT NULL,
	part    integer NOT NULL,
	parts   integer NOT NULL,
	data    bytea,
	expires bigint  NOT NULL,
	PRIMARY KEY (smsc, msg_id)
);
CREATE INDEX sb_receipts_exp ON sb_receipts (expires);
CREATE TABLE sb_marks (
	key     bytea PRIMARY KEY,
	value   bytea  NOT NULL,
	expires bigint NOT NULL
);
CREATE INDEX sb_marks_exp ON sb_marks (expires);
CREATE TABLE sb_groups (
	gkey     bytea PRIMARY KEY,
	lane     bytea   NOT NULL,
	key      bytea   NOT NULL,
	deadline bigint  NOT NULL,
	done     boolean NOT NULL,
	total    integer NOT NULL
);
CREATE INDEX sb_groups_deadline ON sb_groups (deadline);
CREATE TABLE sb_parts (
	gkey bytea   NOT NULL REFERENCES sb_groups ON DELETE CASCADE,
	seq  integer NOT NULL,
	hash bytea   NOT NULL,
	data bytea,
	PRIMARY KEY (gkey, seq)
);`,
}

// SchemaVersion is the schema version this build writes and reads.
var SchemaVersion = len(migrations)

// migrationLock is the advisory lock that serialises migrations, so nodes
// starting together never apply one twice.
const migrationLock = 0x736d7363_62726467 // "smscbrdg"

// migrate applies the missing migrations in one transaction and returns the
// version before and after. A database written by a newer smscbridge is
// refused (ErrSchema), never touched.
func migrate(ctx context.Context, conn *pgx.Conn, apply bool) (from, to int, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return 0, 0, err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('smscbridge_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, 0, err
	}
	if exists {
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM smscbridge_migrations`).Scan(&from); err != nil {
			return 0, 0, err
		}
	}
	switch {
	case from > SchemaVersion:
		return from, from, fmt.Errorf("%w: the database has schema version %d, this smscbridge knows up to %d (written by a newer smscbridge?)", ErrSchema, from, SchemaVersion)
	case from == SchemaVersion || !apply:
		return from, from, nil
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE TABLE smscbridge_migrations (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return from, from, err
		}
	}
	for v := from + 1; v <= SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return from, from, fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO smscbridge_migrations (version) VALUES ($1)`, v); err != nil {
			return from, from, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return from, from, err
	}
	return from, SchemaVersion, nil
}
