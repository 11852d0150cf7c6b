#!/usr/bin/env bash
# make interop: interop tests of smscbridge against real SMPP peers.
#
#   1. installs what is missing (idempotent): node + npm (Debian), the npm
#      package `smpp` from package-lock.json, Debian's kannel;
#   2. self-checks node-smsc.js with the smpp package's own client;
#   3. runs the Go tests tagged `interop` (our smsc.Client against
#      node-smsc.js; Kannel bearerbox+smsbox against bin/smscsim).
#
# Everything listens on 127.0.0.1. Every step has a timeout; every process
# started here, or by the tests (they write their PIDs to $INTEROP_PIDDIR),
# is stopped by PID on exit. Ends with "N passed, N failed"; exits non-zero
# on any failure.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
HERE=$ROOT/test/interop
export INTEROP_PIDDIR
INTEROP_PIDDIR=$(mktemp -d "${TMPDIR:-/tmp}/interop-pids.XXXXXX")
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/interop-logs.XXXXXX")
START=$(date +%s)
PASSED=0
FAILED=0
SKIPPED=0
SUMMARY=()
BGPIDS=()

# stop_pid stops a process group we started (or the process alone), by PID.
stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
}

CLEANED=
cleanup() {
	local pid f
	[ -n "$CLEANED" ] && return 0
	CLEANED=1
	for pid in "${BGPIDS[@]}"; do stop_pid "$pid"; done
	# Children the Go tests started and could not stop themselves (a test
	# binary killed by its timeout runs no cleanup). Each file is named by
	# the PID and holds the program name, checked against /proc before
	# signalling so a reused PID is left alone.
	for f in "$INTEROP_PIDDIR"/*; do
		[ -f "$f" ] || continue
		pid=$(basename "$f")
		if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(cat "$f")"; then
			echo "interop: stopping leftover $(cat "$f") (pid $pid)"
			stop_pid "$pid"
		fi
	done
	rm -rf "$INTEROP_PIDDIR"
}
trap cleanup EXIT
trap 'echo "interop: interrupted"; exit 130' INT TERM

# run_bg runs a command in its own process group in the background and
# waits for it, so the traps can stop it by PID.
run_bg() {
	set -m
	"$@" &
	local pid=$!
	set +m
	BGPIDS+=("$pid")
	wait "$pid"
	local rc=$?
	BGPIDS=("${BGPIDS[@]/$pid/}")
	return $rc
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		echo "interop: need root for: $*" >&2
		return 1
	fi
}

APT_UPDATED=
apt_install() {
	if [ -z "$APT_UPDATED" ]; then
		run_bg as_root timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
		APT_UPDATED=1
	fi
	run_bg as_root timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

record() { # record NAME RC
	if [ "$2" = 0 ]; then
		SUMMARY+=("ok    $1")
	else
		SUMMARY+=("FAIL  $1")
	fi
}

install_peers() {
	local rc=0
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "interop: installing nodejs and npm"
		apt_install nodejs npm || rc=1
	fi
	if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
		echo "interop: installing kannel"
		apt_install kannel || rc=1
	fi
	if [ ! -f "$HERE/node_modules/smpp/package.json" ]; then
		echo "interop: npm ci (smpp, from package-lock.json)"
		(cd "$HERE" && run_bg timeout 180 npm ci --no-audit --no-fund --loglevel=error) || rc=1
	fi
	if [ ! -x "$ROOT/bin/smscsim" ]; then
		echo "interop: building bin/smscsim"
		run_bg timeout 300 make -s build || rc=1
	fi
	return $rc
}

# run.sh --install-kannel: only install Debian's kannel if missing (make
# compare uses this); exits 0 when bearerbox and smsbox are there.
if [ "${1:-}" = "--install-kannel" ]; then
	if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
		echo "interop: installing kannel"
		apt_install kannel
	fi
	exit $?
fi

echo "=== interop: install peers"
install_peers
rc=$?
record "install peers (node $(node --version 2>/dev/null), smpp $(node -p 'require("'"$HERE"'/node_modules/smpp/package.json").version' 2>/dev/null), kannel $(dpkg-query -W -f='${Version}' kannel 2>/dev/null))" $rc
if [ $rc != 0 ]; then FAILED=$((FAILED + 1)); fi

echo "=== interop: node-smsc self-check (node --test)"
run_bg timeout 120 node --test --test-reporter=tap "$HERE/node-smsc.test.js" >"$LOGDIR/node.tap" 2>&1
rc=$?
cat "$LOGDIR/node.tap"
np=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOGDIR/node.tap" | tail -n 1)
nf=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOGDIR/node.tap" | tail -n 1)
np=${np:-0}
nf=${nf:-0}
if [ $rc != 0 ] && [ "$nf" = 0 ]; then nf=1; fi
PASSED=$((PASSED + np))
FAILED=$((FAILED + nf))
record "node-smsc self-check: $np passed, $nf failed" $rc

echo "=== interop: go test -race -tags interop ./test/interop/..."
export SMSCSIM="$ROOT/bin/smscsim" BEARERBOX=/usr/sbin/bearerbox SMSBOX=/usr/sbin/smsbox INTEROP_LOGDIR="$LOGDIR"
# The race detector watches our client while real peers drive it (needs cgo).
RACEFLAG=
if command -v gcc >/dev/null 2>&1 && [ "$(go env CGO_ENABLED)" = 1 ]; then RACEFLAG=-race; fi
run_bg timeout 420 go test $RACEFLAG -tags interop -count=1 -v -timeout "${INTEROP_GO_TIMEOUT:-6m}" ./test/interop/... >"$LOGDIR/go.out" 2>&1
rc=$?
cat "$LOGDIR/go.out"
gp=$(grep -cE '^ *--- PASS: ' "$LOGDIR/go.out")
gf=$(grep -cE '^ *--- FAIL: ' "$LOGDIR/go.out")
gs=$(grep -cE '^ *--- SKIP: ' "$LOGDIR/go.out")
if [ $rc != 0 ] && [ "$gf" = 0 ]; then gf=1; fi
PASSED=$((PASSED + gp))
FAILED=$((FAILED + gf))
SKIPPED=$gs
record "go interop tests: $gp passed, $gf failed, $gs skipped" $rc
while read -r line; do SUMMARY+=("      $line"); done < <(grep -E '^ *--- (PASS|FAIL|SKIP): ' "$LOGDIR/go.out")

# Stop leftovers now, so that nothing prints after the closing line.
cleanup

echo
if [ "$FAILED" = 0 ] && [ -z "${INTEROP_KEEP_LOGS:-}" ]; then
	rm -rf "$LOGDIR"
	LOGNOTE="logs removed; INTEROP_KEEP_LOGS=1 keeps them"
else
	LOGNOTE="logs in $LOGDIR"
fi
echo "=== interop summary ($(($(date +%s) - START))s; $LOGNOTE)"
for line in "${SUMMARY[@]}"; do echo "$line"; done
if [ "$SKIPPED" -gt 0 ]; then
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
