#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What a poll that finds nothing new writes, against a real nginx: a device
# polls every few hours for years, often on flash that wears.  After the
# first "current" (which the store records), further 304s must leave the
# store untouched (the database and its WAL byte for byte, the event log
# as it was) and the export file alone, while `status` still shows when
# the device last checked, from the poll file beside the store.  The poll
# sends If-None-Match alone once an ETag is stored.  A change (a new
# version) is recorded in the store as before, and a poll file that is
# damaged or lost changes nothing but what status shows.  Then a `run`
# daemon's idle polls under strace: not one fsync, fdatasync or ftruncate.
#
# usage: idle.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

e2e_device idle

"$SIGN" keygen -o k1 >/dev/null
mk_ca ca1 "Idle Root 1"
mk_ca ca2 "Idle Root 2"
"$SIGN" create --key k1.key --channel "$CH" --version 1 --certs ca1.pem \
    -o v1.rkb >/dev/null
"$SIGN" create --key k1.key --channel "$CH" --version 2 --certs ca1.pem \
    --certs ca2.pem -o v2.rkb >/dev/null

expect_exit 0 "init --pin --bundle v1.rkb" agent init --pin k1.pub \
    --bundle v1.rkb
publish v1.rkb www
nginx_start www
URL=$NGINX_URL/$CH/latest.rkb

# store_sum: the database and its WAL, as bytes.
store_sum()
{
	local f
	for f in "$DB" "$DB-wal"; do
		[ ! -e "$f" ] || cat -- "$f"
	done | sha256sum | cut -d ' ' -f 1
}

# events: the number of events in the log.
events()
{
	"$RK" --db "$DB" events --json | jq ".events | length"
}

expect_exit 0 "the first check finds v1 current" agent check --url "$URL"
st
check_eq "the first current is recorded: last_check.result current" \
    "$(jget st.json .last_check.result)" current
sum0=$(store_sum)
ev0=$(events)
pem0=$(stat -c '%i %s %Y' "$PEM")
first_at=$(jget st.json .last_check.at)
sleep 1.1
expect_exit 0 "a second check (304)" agent check --url "$URL"
expect_exit 0 "a third check (304)" agent check --url "$URL"
check_eq "the idle checks left the store byte for byte" "$(store_sum)" \
    "$sum0"
check_eq "the idle checks added no event" "$(events)" "$ev0"
check_eq "the idle checks left the export alone (inode, size, time)" \
    "$(stat -c '%i %s %Y' "$PEM")" "$pem0"
st
check_eq "status: last_check is the latest idle check, current" \
    "$(jget st.json '.last_check.result') $([ "$(jget st.json .last_check.at)" \> "$first_at" ] && echo later)" \
    "current later"
check_eq "status: the export is not stale" "$(jget st.json .export.stale)" \
    false
check "the poll file is there, readable by all" \
    test "$(stat -c %a "$DB-poll")" = 644
statuses=$(req_lines "/$CH/latest.rkb" | awk '{ print $4 }' | sort | uniq -c |
    awk '{ printf "%s:%s ", $2, $1 }')
check_eq "nginx answered the polls: one 200, two 304s" "$statuses" \
    "200:1 304:2 "

# An idle check that the poll file vouches for (the store's files as the
# last unchanged poll left them) does not even open the store.
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer cannot run under strace.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -o open.out -e trace=open,openat \
	    "$RK" --db "$DB" check --url "$URL" >check.out 2>&1 || true
	check_eq "an idle check says current" "$(cat check.out)" \
	    "current: not modified at $URL"
	check_eq "...without opening the database or its WAL" \
	    "$(grep -cE "\"$DB(-wal|-shm)?\"" open.out || true)" 0
else
	ok "# SKIP strace is not installed"
fi
# Any write to the store voids that: an error recorded by a check of a
# dead URL is followed by a "current" that the store records again.
expect_exit 1 "a check of a dead URL records an error" \
    agent check --url "http://127.0.0.1:9/$CH/latest.rkb"
ev1=$(events)
expect_exit 0 "the next idle check" agent check --url "$URL"
check_eq "...is recorded in the store after the error (one event)" \
    "$(events)" "$((ev1 + 1))"
st
check_eq "...and status says current" "$(jget st.json .last_check.result)" \
    current
first_at=$(jget st.json .last_check.at)
expect_exit 0 "two more idle checks" agent check --url "$URL"
expect_exit 0 "..." agent check --url "$URL"
check_eq "...which add no event" "$(events)" "$((ev1 + 1))"
sum0=$(store_sum)
ev0=$(events)

# A damaged poll file is ignored; the next idle poll writes a good one.
printf 'garbage' >"$DB-poll"
expect_exit 0 "a check with a damaged poll file" agent check --url "$URL"
check_eq "...the store is still untouched" "$(store_sum)" "$sum0"
st
check_eq "...and status reads the rewritten poll file" \
    "$(jget st.json .last_check.result)" current
rm -f -- "$DB-poll"
st
check_eq "without a poll file, status falls back to the store" \
    "$(jget st.json .last_check.at)" "$first_at"

# A change is recorded in the store as before.
publish v2.rkb www
expect_exit 0 "v2 published: the check applies it" agent check --url "$URL"
st
check_eq "v2 active, last_check updated" \
    "$(jget st.json .active_version) $(jget st.json .last_check.result)" \
    "2 updated"
check "the store changed" test "$(store_sum)" != "$sum0"
check "an event was added" test "$(events)" -gt "$ev0"
check_eq "the export holds v2's two roots" "$(pem_count "$PEM")" 2

# The export is still checked: one tampered with is rewritten.
printf 'tampered\n' >"$PEM"
expect_exit 0 "a check after the export was tampered with" \
    agent check --url "$URL"
check_eq "the export is v2's set again" "$(pem_fps "$PEM")" \
    "$(fps_of ca1.pem ca2.pem)"

# polls_after FROM N: waits (10 s at most) until the access log has N
# lines more than FROM, then 0.4 s for the poll to end.
polls_after()
{
	for _ in $(seq 1 200); do
		[ "$(($(wc -l <"$NGINX_ACCESS_LOG") - $1))" -ge "$2" ] && break
		sleep 0.05
	done
	sleep 0.4
}

# The daemon: idle polls under strace make no sync of any kind.
if command -v strace >/dev/null 2>&1; then
	expect_exit 0 "a check to settle (current recorded)" \
	    agent check --url "$URL"
	printf '[agent]\nurl = %s\ninterval = 1s\njitter = 0\n' "$URL" \
	    >daemon.conf
	sum1=$(store_sum)
	from=$(wc -l <"$NGINX_ACCESS_LOG")
	strace -f -qq -ttt -o strace.out \
	    -e trace=fsync,fdatasync,ftruncate,sync_file_range,syncfs \
	    "$RK" --config daemon.conf --db "$DB" run 2>daemon.log &
	spid=$!
	E2E_PIDS+=("$spid")
	polls_after "$from" 2
	t1=$EPOCHREALTIME
	polls_after "$from" 5
	t2=$EPOCHREALTIME
	dpid=$(sed -n 's/^rootkeeper\[\([0-9]*\)\]: info: started.*/\1/p' \
	    daemon.log | head -n 1)
	[ -z "$dpid" ] || kill -TERM "$dpid"
	wait "$spid" || true
	syncs=$(awk -v a="$t1" -v b="$t2" '$2 >= a && $2 < b' strace.out |
	    wc -l)
	polls=$(tail -n +"$((from + 1))" "$NGINX_ACCESS_LOG" | wc -l)
	check "the daemon polled at least 5 times" test "$polls" -ge 5
	check_eq "three idle polls of the daemon: no sync, no truncate" \
	    "$syncs" 0
	check_eq "...and the store is as the last change left it" \
	    "$(store_sum)" "$sum1"
else
	ok "# SKIP strace is not installed"
fi

finish
