#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Writers that race, crashes and bad clocks (DESIGN.md section 3,
# "Writers", "Time floor bound", "Init is all or nothing"), with real
# processes on real stores:
#  - `apply v9 & apply v8` (and the other way round), many times: the end
#    is always v9 active and highest, never v8;
#  - a daemon polling v12 while an operator sideloads v11: v12 ends active
#    and highest, and status is ok;
#  - a rollback raced by an apply of a newer version: the end is one of
#    the two serial orders;
#  - a key rotation (v2: new key k2) raced by a bundle signed by the old
#    key alone (v4): either v4 came first (v2 is then a rollback) or the
#    rotation did (v4 is then unsigned); never v4 under k2's rotation;
#  - two `check`s of one new version: both exit 0, one "updated", the
#    other "current";
#  - two `run` daemons on one store: the second exits 1 naming the first's
#    pid (the lock file beside the store holds it); once the first stops,
#    a daemon starts again;
#  - a writer stopped inside its commit (strace) makes another one wait
#    30 s and exit 1 naming the store and the other writer;
#  - `init` killed at every fsync and fdatasync it makes (strace's fault
#    injection): each time either no store or a complete one, and the
#    same init run again succeeds and leaves no temporary file; two inits
#    at once both succeed with one complete store;
#  - a bundle issued in 2090 is refused ("issued in the future", exit 3)
#    by a device with a sane clock, its floor unmoved, and taken by a
#    device whose clock reads 1971 and is behind its floor (which is what
#    the floor is for); `rootkeeper-sign create` refuses to make one
#    without --allow-future.
# Everything is judged from the command line: exit codes, stdout/stderr,
# `status --json` and `list --json`.  No timed assertion: the races are
# repeated, and each round's end state must be one that a serial order
# could give.
#
# usage: writers.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# shellcheck disable=SC2317 # the predicates are called through wait_for
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=e2e
ROUNDS=${RK_WRITERS_ROUNDS:-6}
mkdir -p www
"$SIGN" keygen -o k1 >/dev/null
"$SIGN" keygen -o k2 >/dev/null
mk_ca ca1 "Writers Root 1"
mk_ca ca2 "Writers Root 2"

# mk NAME VERSION [create options...]: NAME.rkb signed by k1, {ca1, ca2}.
mk()
{
	local name=$1 ver=$2
	shift 2
	"$SIGN" create --key k1.key --channel "$CH" --version "$ver" \
	    --certs ca1.pem --certs ca2.pem "$@" -o "$name.rkb" >/dev/null
}

for v in 1 2 3 8 9 11 12 20; do
	mk "v$v" "$v"
done
# The rotation to k2 (signed by both) and a later bundle by k1 alone.
mk v2rot 2 --key k2.key --next-keys k2.pub --next-threshold 1
mk v4old 4

# fresh NAME: a device in dev-NAME/ provisioned with v1; sets DB.
fresh()
{
	rm -rf -- "$T/dev-$1"
	mkdir -p "$T/dev-$1"
	DB=$T/dev-$1/store.db
	"$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb >/dev/null
}

# sj FILTER: jq -r FILTER of `status --json` on $DB (whatever its level).
sj()
{
	{ "$RK" --db "$DB" status --json || true; } | jq -r "$1"
}

# state: "active highest" of $DB.
state()
{
	sj '"\(.active_version) \(.highest_version)"'
}

log_has()
{
	grep -qE -- "$2" "$1"
}

# ---- apply v9 & apply v8 ------------------------------------------------

# race_apply FIRST SECOND: FIRST in the background, SECOND 10 ms later;
# prints the end state.
race_apply()
{
	local pid rc=0
	"$RK" --db "$DB" apply "$1.rkb" >"$T/a1.out" 2>"$T/a1.err" &
	pid=$!
	sleep 0.01
	"$RK" --db "$DB" apply "$2.rkb" >"$T/a2.out" 2>"$T/a2.err" || rc=$?
	wait "$pid" || true
	echo "$rc"
}

bad=0
errs=0
for ((i = 0; i < ROUNDS; i++)); do
	fresh race
	rc=$(race_apply v9 v8)
	# v8 after v9 is a rollback (3); before it, an update (0).
	case $rc in 0 | 3) ;; *) errs=$((errs + 1)) ;; esac
	[ "$(state)" = "9 9" ] || bad=$((bad + 1))
	fresh race
	race_apply v8 v9 >/dev/null
	[ "$(state)" = "9 9" ] || bad=$((bad + 1))
done
check_eq "apply v9 & apply v8, $ROUNDS rounds each way: always active 9, highest 9" \
    "$bad" 0
check_eq "apply v8 never failed with an error (exit 0 or 3 only)" "$errs" 0
# The loser of a race is told why, in the terms of the policy.
fresh race
"$RK" --db "$DB" apply v9.rkb >/dev/null
expect_exit 3 "v8 after v9: rejected" "$RK" --db "$DB" apply v8.rkb
check "its reason is the rollback" grep -q 'version not above 9' "$T/err"

# ---- rollback & apply ---------------------------------------------------

# A rollback reads what it rolls back from inside its transaction: the end
# is one that a serial order gives (rollback first: v4 active, v3 bad;
# apply first: v3 active, v4 bad), never v2 active with v4 left unmarked.
bad=0
for ((i = 0; i < ROUNDS; i++)); do
	fresh rb
	"$RK" --db "$DB" apply v2.rkb >/dev/null
	"$RK" --db "$DB" apply v3.rkb >/dev/null
	"$RK" --db "$DB" rollback >/dev/null 2>&1 &
	pid=$!
	"$RK" --db "$DB" apply v4old.rkb >/dev/null 2>&1 || true
	wait "$pid" || true
	got="$(state) bad:$("$RK" --db "$DB" list --json |
	    jq -r '[.versions[] | select(.state == "bad") | .version] | join(",")')"
	case $got in
	"4 4 bad:3" | "3 4 bad:4") ;;
	*)
		bad=$((bad + 1))
		echo "# round $i: $got"
		;;
	esac
done
check_eq "rollback & apply v4, $ROUNDS rounds: an end a serial order gives" \
    "$bad" 0

# ---- two checks of one new version --------------------------------------

nginx_start www
URL=$NGINX_URL/$CH/latest.rkb
publish v20.rkb www
bad=0
for ((i = 0; i < ROUNDS; i++)); do
	fresh twice
	"$RK" --db "$DB" check --url "$URL" >"$T/c1.out" 2>"$T/c1.err" &
	pid=$!
	rc2=0
	"$RK" --db "$DB" check --url "$URL" >"$T/c2.out" 2>"$T/c2.err" || rc2=$?
	rc1=0
	wait "$pid" || rc1=$?
	got="$rc1 $rc2 $(cat "$T/c1.out" "$T/c2.out" | cut -d: -f1 | sort | tr '\n' ' ')"
	if [ "$got" != "0 0 current updated " ] || [ "$(state)" != "20 20" ]; then
		bad=$((bad + 1))
		echo "# round $i: $got; $(state); $(cat "$T/c1.err" "$T/c2.err")"
	fi
done
check_eq "two checks of v20, $ROUNDS rounds: both exit 0, one updated, one current" \
    "$bad" 0

# ---- a key rotation raced by a bundle of the old key --------------------

bad=0
for ((i = 0; i < ROUNDS; i++)); do
	fresh rot
	if ((i % 2)); then race_apply v2rot v4old >/dev/null; else
		race_apply v4old v2rot >/dev/null
	fi
	ids=$(sj '.keys.ids | join(",")')
	case "$(state) $ids" in
	"2 2 $(spki_id k2.pub)" | "4 4 $(spki_id k1.pub)") ;;
	*)
		bad=$((bad + 1))
		echo "# round $i: $(state) keys $ids"
		;;
	esac
done
check_eq "rotation & old-key bundle, $ROUNDS rounds: v2 under k2 or v4 under k1, never v4 under k2" \
    "$bad" 0

# ---- a daemon polling while an operator sideloads -----------------------

# start_daemon LOG: rootkeeper run on $DB in the background; sets DPID.
start_daemon()
{
	cat >"$T/d.conf" <<EOF
[agent]
url = $URL
db = $DB
interval = 1s
jitter = 0
log_level = debug
EOF
	"$RK" --config "$T/d.conf" run </dev/null >"$1.out" 2>"$1" &
	DPID=$!
	E2E_PIDS+=("$DPID")
}

stop_daemon()
{
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
}

serve v12.rkb "www/$CH/latest.rkb"
settled()
{
	[ "$(sj '"\(.active_version) \(.highest_version) \(.status)"')" = "12 12 ok" ]
}
bad=0
for ((i = 0; i < 4; i++)); do
	fresh poll
	start_daemon "$T/p$i.log"
	rc=0
	"$RK" --db "$DB" apply v11.rkb >/dev/null 2>&1 || rc=$?
	# The daemon polls every second: v12 must end active and highest and
	# status ok (a refused sideload is a warning until the next poll),
	# not v12 stored but inactive behind a 304.
	wait_for 30 settled || true
	stop_daemon
	"$RK" --db "$DB" status --json >"$T/st.json" || true
	if [ "$(state)" != "12 12" ] || [ "$(jget "$T/st.json" .status)" != ok ] ||
	    { [ "$rc" != 0 ] && [ "$rc" != 3 ]; }; then
		bad=$((bad + 1))
		echo "# round $i: $(state), status $(jget "$T/st.json" .status), apply exit $rc"
	fi
done
check_eq "daemon polling v12 & sideload of v11, 4 rounds: v12 active and highest, status ok" \
    "$bad" 0

# ---- one daemon per store -----------------------------------------------

fresh lock
start_daemon "$T/l1.log"
first=$DPID
check "the first daemon starts" wait_for 20 log_has "$T/l1.log" \
    'info: started: store '
# (timeout: without the lock the second one would run on for good.)
expect_exit 1 "a second run on the same store exits 1" \
    timeout 20 "$RK" --config "$T/d.conf" run
check "it names the first daemon's pid" grep -q "pid $first" "$T/err"
check "and the store" grep -qF "$DB" "$T/err"
check_eq "the lock file beside the store holds that pid" \
    "$(cat "$DB.lock")" "$first"
check "the first daemon still runs" kill -0 "$first"
stop_daemon
start_daemon "$T/l2.log"
check "once the first stopped, a daemon starts again" \
    wait_for 20 log_has "$T/l2.log" 'info: started: store '
stop_daemon
nginx_stop

# ---- a writer that waits for another gives up ---------------------------

# strace stops a writer at its first fdatasync: inside its commit, holding
# the store's write lock.  Another writer waits its 30 s, then exits 1
# saying so; once the first is gone, the store takes the write.
fresh busy
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    bash -c '"$@"; exit $?' holder strace -f -o /dev/null \
    -e trace=fdatasync -e inject=fdatasync:signal=STOP:when=1 \
    "$RK" --db "$DB" apply v2.rkb >/dev/null 2>&1 &
holder=$!
E2E_PIDS+=("$holder")
# holder (bash) -> strace -> rootkeeper, stopped ("t") once it is there.
held()
{
	local s
	s=$(pgrep -P "$holder" | head -n 1) || return 1
	HELD=$(pgrep -P "$s" | head -n 1) || return 1
	[ "$(ps -o stat= -p "$HELD" | cut -c1)" = t ]
}
if wait_for 20 held; then
	E2E_PIDS+=("$HELD")
	expect_exit 1 "a writer waiting for one that holds the store gives up" \
	    "$RK" --db "$DB" apply v3.rkb
	check "it names the store and the other writer" \
	    grep -qF "$DB: another writer holds the store; gave up after waiting 30 s" \
	    "$T/err"
	kill -KILL "$HELD" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	expect_exit 0 "once that writer is gone, the same apply succeeds" \
	    "$RK" --db "$DB" apply v3.rkb
	check_eq "v3 active" "$(state)" "3 3"
else
	not_ok "strace stopped a writer inside its commit"
fi

# ---- init killed at every fsync -----------------------------------------

# Each of SQLite's fdatasync calls and each fsync (the temporary file, the
# folder after the rename, the export) in turn kills init.
kills=0
bad=0
for sc in fdatasync fsync; do
	for ((n = 1; n <= 60; n++)); do
		rm -rf -- "$T/dev-kill"
		mkdir "$T/dev-kill"
		DB=$T/dev-kill/store.db
		rc=0
		# An inner shell waits for it: its "Killed" goes nowhere.
		# LeakSanitizer (an ASan build) cannot ptrace under strace.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		    bash -c '"$@"; exit $?' init-killed strace -f -o /dev/null \
		    -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
		    "$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb \
		    >/dev/null 2>"$T/kill.err" || rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -ne 137 ]; then
			bad=$((bad + 1))
			echo "# $sc #$n: init exited $rc: $(head -n 3 "$T/kill.err")"
			break
		fi
		kills=$((kills + 1))
		# Either no store at all, or a complete one.
		if [ -e "$DB" ]; then
			if [ "$(state)" != "1 1" ]; then
				bad=$((bad + 1))
				echo "# $sc #$n: a store, but $(state)"
			fi
		else
			st_rc=0
			"$RK" --db "$DB" status >/dev/null 2>&1 || st_rc=$?
			[ "$st_rc" -eq 2 ] || bad=$((bad + 1))
		fi
		# The same init again succeeds, and leaves no temporary store.
		# (A temporary export file left by a kill inside the export's
		# own fsync is the export's business, not init's.)
		if ! "$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb \
		    >/dev/null 2>"$T/init.err"; then
			bad=$((bad + 1))
			echo "# $sc #$n: init again failed: $(cat "$T/init.err")"
		fi
		# (The poll file beside the store is written after the store,
		# without fsync: not init's either.)
		left=$(find "$T/dev-kill" -mindepth 1 -printf '%f\n' |
		    grep -v -e '^trust\.pem\.tmp\.' -e '^store\.db-poll$' |
		    sort | tr '\n' ' ')
		if [ "$(state)" != "1 1" ] ||
		    [ "$left" != "store.db trust.pem " ]; then
			bad=$((bad + 1))
			echo "# $sc #$n: after init again: $(state), files: $left"
		fi
	done
done
check "init was killed at 10 or more fsync/fdatasync calls ($kills)" \
    test "$kills" -ge 10
check_eq "after each kill: no store or a complete one; init again succeeds" \
    "$bad" 0

# ---- two inits of one store at once ------------------------------------

# They take turns: the first makes the store, the second finds it made as
# asked and succeeds; neither removes the other's temporary store.
bad=0
for ((i = 0; i < ROUNDS; i++)); do
	rm -rf -- "$T/dev-two"
	mkdir "$T/dev-two"
	DB=$T/dev-two/store.db
	"$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb >/dev/null 2>&1 &
	pid=$!
	rc2=0
	"$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb >/dev/null 2>&1 ||
	    rc2=$?
	rc1=0
	wait "$pid" || rc1=$?
	# store.db-poll: the export's record (what an idle poll checks).
	left=$(find "$T/dev-two" -mindepth 1 -printf '%f\n' |
	    grep -v '^store\.db-poll$' | sort | tr '\n' ' ')
	if [ "$rc1 $rc2 $(state) $left" != "0 0 1 1 store.db trust.pem " ]; then
		bad=$((bad + 1))
		echo "# round $i: $rc1 $rc2 $(state) $left"
	fi
done
check_eq "two inits at once, $ROUNDS rounds: both exit 0, one complete store" \
    "$bad" 0

# ---- a bundle issued in the future --------------------------------------

expect_exit 2 "create refuses --issued-at 2090 without --allow-future" \
    "$SIGN" create --key k1.key --channel "$CH" --version 30 \
    --certs ca1.pem --issued-at 2090-01-01T00:00:00Z -o v30.rkb
check "it names --allow-future" grep -q -- '--allow-future' "$T/err"
check_not "and writes nothing" test -e v30.rkb
expect_exit 0 "create makes it with --allow-future" \
    "$SIGN" create --key k1.key --channel "$CH" --version 30 \
    --certs ca1.pem --issued-at 2090-01-01T00:00:00Z \
    --expires-at 2091-01-01T00:00:00Z --allow-future -o v30.rkb

fresh future
floor=$(sj .clock.floor)
expect_exit 3 "a sane clock refuses the 2090 bundle" \
    "$RK" --db "$DB" apply v30.rkb
check "it says issued in the future" grep -q 'issued in the future' "$T/err"
st
check_eq "the floor has not moved, v1 active" \
    "$(jget st.json '"\(.clock.floor) \(.active_version) \(.highest_version)"')" \
    "$floor 1 1"
mk v31 31
expect_exit 0 "the next bundle is not expired" \
    "$RK" --db "$DB" apply v31.rkb

# A clock in 1971, behind its floor, cannot judge "the future": it takes
# the bundle, as it takes any bundle its floor says is fresh.
fresh future1971
Y1971='@1971-06-01 00:00:00'
expect_exit 0 "a clock in 1971 (behind its floor) takes the 2090 bundle" \
    ft "$Y1971" "$RK" --db "$DB" apply v30.rkb
check_eq "v30 active" "$(state)" "30 30"

finish
