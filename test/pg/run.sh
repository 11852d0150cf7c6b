#!/usr/bin/env bash
# make test-pg: the PostgreSQL store tests, run for real (never skipped).
#
# The server: $SMSCBRIDGE_TEST_PG_DSN if set; else the local one at
# 127.0.0.1:5432 (role postgres, trust) if it answers; else a throwaway
# cluster on 127.0.0.1 in a temporary directory, from Debian's postgresql
# (installed if missing), stopped and removed on exit. Set
# SMSCBRIDGE_PG_THROWAWAY=1 to use a throwaway cluster anyway.
#
# Every test works in a schema of its own (package store/pgstore/pgtest).
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
GO=${GO:-go}

local_dsn="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=2"
if [ -z "${SMSCBRIDGE_TEST_PG_DSN:-}" ] && [ -z "${SMSCBRIDGE_PG_THROWAWAY:-}" ] &&
	command -v psql >/dev/null && timeout 10 psql "$local_dsn" -tAc 'SELECT 1' >/dev/null 2>&1; then
	export SMSCBRIDGE_TEST_PG_DSN=$local_dsn
fi

if [ -z "${SMSCBRIDGE_TEST_PG_DSN:-}" ]; then
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$bin" ]; then
		echo "test-pg: installing Debian's postgresql"
		timeout 300 apt-get update -qq
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends postgresql >/dev/null
		bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/smscbridge-pg.XXXXXX")
	as_pg=()
	if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
		chown postgres "$dir"
		as_pg=(runuser -u postgres --)
	fi
	port=$((20000 + RANDOM % 20000))
	"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log"
	stop() {
		"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
		rm -rf "$dir"
	}
	trap stop EXIT
	"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on" start >/dev/null
	export SMSCBRIDGE_TEST_PG_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	echo "test-pg: throwaway PostgreSQL on 127.0.0.1:$port"
fi

# With the variable set, a test that cannot connect fails instead of skipping.
$GO test -race -count=1 ./store/...
$GO test -race -count=1 -run 'Postgres|Migrate' ./cmd/smscbridge/
