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
-- Not partial: the functions below look keys up with parameters, and a
-- generic plan could not use an index restricted to key <> ''.
CREATE INDEX sb_items_key ON sb_items (lane, key, seq);
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
);

-- A transaction-scoped advisory lock on hashtextextended(lane/key)
-- serialises changes to the order of one (lane, key): an enqueue deciding
-- whether it is the head, a head handing over to the next. (Written out in
-- both functions: PL/pgSQL caches its plans, an SQL helper would be
-- planned at every call.)

-- sb_put queues an item at the end of its key and says whether it is the
-- key's head (due at p_due). Each statement of a volatile function takes
-- a fresh snapshot, so the check after the lock sees every earlier holder.
CREATE FUNCTION sb_put(p_id text, p_lane bytea, p_key bytea, p_payload bytea, p_attempts integer,
	p_first bigint, p_age bigint, p_due bigint, p_err bytea) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	h boolean := true;
	q bigint := 0;
BEGIN
	IF p_key <> '' THEN
		PERFORM pg_advisory_xact_lock(hashtextextended(encode(p_lane, 'base64') || '/' || encode(p_key, 'base64'), 7248));
		h := NOT EXISTS (SELECT 1 FROM sb_items WHERE lane = p_lane AND key = p_key);
		q := nextval('sb_counter');
	END IF;
	INSERT INTO sb_items (id, lane, key, seq, payload, attempts, first_seen, age_from, next_due, idx, last_error, head)
	VALUES (p_id, p_lane, p_key, q, p_payload, p_attempts, p_first, p_age, p_due, p_due, p_err, h);
	RETURN h;
END
$$;

-- sb_unqueue deletes a queued item; if it was its key's head, the key's
-- next item becomes the head, due at the later of its due time and p_now.
-- It returns the lane if a head was promoted (to wake its workers).
CREATE FUNCTION sb_unqueue(p_id text, p_now bigint) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	DELETE FROM sb_items WHERE id = p_id RETURNING lane, key, head INTO r;
	IF NOT FOUND OR NOT r.head OR r.key = '' THEN
		RETURN NULL;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtextextended(encode(r.lane, 'base64') || '/' || encode(r.key, 'base64'), 7248));
	UPDATE sb_items SET head = true, next_due = greatest(next_due, p_now), idx = greatest(next_due, p_now)
	WHERE id = (SELECT id FROM sb_items WHERE lane = r.lane AND key = r.key ORDER BY seq LIMIT 1);
	IF FOUND THEN
		RETURN r.lane;
	END IF;
	RETURN NULL;
END
$$;

-- sb_ack acks a held item: 1 (acked, a new head in its lane), 0 (acked),
-- -1 (not queued), -2 (in another lane), -3 (stale token).
CREATE FUNCTION sb_ack(p_lane bytea, p_id text, p_token bigint, p_now bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	SELECT lane, token INTO r FROM sb_items WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN -1;
	ELSIF r.lane <> p_lane THEN
		RETURN -2;
	ELSIF r.token <> p_token THEN
		RETURN -3;
	ELSIF sb_unqueue(p_id, p_now) IS NULL THEN
		RETURN 0;
	END IF;
	RETURN 1;
END
$$;

-- sb_ack_or_fail is sb_ack that fails the transaction unless the item is
-- acked (SQLSTATE SBNF1 not queued, SBNF2 another lane, SBSTL stale token),
-- so a completion sent as one batch changes nothing when it is refused.
CREATE FUNCTION sb_ack_or_fail(p_lane bytea, p_id text, p_token bigint, p_now bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	c integer := sb_ack(p_lane, p_id, p_token, p_now);
BEGIN
	IF c = -1 THEN
		RAISE EXCEPTION 'not queued' USING ERRCODE = 'SBNF1';
	ELSIF c = -2 THEN
		RAISE EXCEPTION 'in another lane' USING ERRCODE = 'SBNF2';
	ELSIF c = -3 THEN
		RAISE EXCEPTION 'stale lease' USING ERRCODE = 'SBSTL';
	END IF;
	RETURN c;
END
$$;`,

	// 2: the message trace (trace.go). id, ref and number are the keys an
	// event is found by (store.TraceKeys), NULL for those it is not; hash
	// indexes, as they are only looked up by equality and take keys of
	// any length. seq orders the events of one nanosecond.
	`CREATE TABLE sb_trace (
	seq    bigserial PRIMARY KEY,
	at     bigint NOT NULL,
	id     bytea,
	ref    bytea,
	number text COLLATE "C",
	hop    text   NOT NULL,
	event  bytea  NOT NULL
);
CREATE INDEX sb_trace_at ON sb_trace (at, seq);
CREATE INDEX sb_trace_id ON sb_trace USING hash (id);
CREATE INDEX sb_trace_ref ON sb_trace USING hash (ref);
CREATE INDEX sb_trace_number ON sb_trace USING hash (number);`,
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
