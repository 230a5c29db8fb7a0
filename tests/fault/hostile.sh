#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A hostile update server (hostile.py, 127.0.0.1 only) against `check`:
# a drip of one byte a second, an endless body, a truncated body, wrong
# Content-Lengths both ways, 5xx, a redirect loop, redirects to file://
# and ftp://, a gzip bomb, 1 MB of headers, an unsolicited 304, junk after
# a valid bundle, a 16 KB ETag, and credentials in the URL (which no
# message, event or status may show); also `check --url ftp://...` (a
# usage error, exit 2), and the daemon stopped by SIGTERM in the middle of
# the drip (exit 0, no error event).  Each case starts from a store at v2 while the
# server's bundle is v3, and is judged by its exit status, the event it
# records, the agent's peak memory (the gzip bomb) and the invariants of
# lib.sh.  The drip takes the transfer's low-speed abort, about 15 s.
#
# usage: hostile.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
fault_setup "$@"

mkb v1 1
mkb v2 2
mkb v3 3
rk init --pin k1.pub --bundle v1.rkb
rk apply v2.rkb
snap_save s2

python3 "$FAULT_DIR/hostile.py" "$T/port" "$T/v3.rkb" 600 \
    >"$T/server.log" 2>&1 &
E2E_PIDS+=("$!")
disown
for ((i = 0; i < 300; i++)); do
	[ ! -s "$T/port" ] || break
	sleep 0.1
done
[ -s "$T/port" ] || {
	not_ok "the hostile server started"
	finish
}
BASE=http://127.0.0.1:$(cat "$T/port")
CASES=0

# rk_case NAME WANT REPRO ARGS...: one more case, REPRO its recipe: the
# agent with ARGS must exit WANT, and the invariants hold after it.
rk_case()
{
	local name=$1 want=$2
	CASES=$((CASES + 1))
	REPRO=$3
	shift 3
	rk "$@"
	[ "$RC" = "$want" ] ||
	    inv_fail other "$name" "exit $RC, want $want: $(head -c 300 "$T/err")"
	inv "$name" || true
}

# hcase PATH WANT_EXITS WANT_ACTIVE [EVENT]: check --url BASE/PATH from a
# store at v2; the exit status must be one of WANT_EXITS (|-separated),
# the active version WANT_ACTIVE, and for a failure an event of kind
# error or rejected must name it.
hcase()
{
	local path=$1 want=$2 active=$3 name="hostile $1" a
	CASES=$((CASES + 1))
	part_begin
	snap_load s2
	ev_mark
	REPRO="python3 tests/fault/hostile.py PORT_FILE v3.rkb 600; rootkeeper check --url $BASE/$path"
	run /usr/bin/time -f '%M' -o "$T/rss" timeout 120 \
	    "$RK" --config "$CONF" --db "$DB" check --url "$BASE/$path"
	case "|$want|" in
	*"|$RC|"*) ;;
	*) inv_fail other "$name" "exit $RC, want $want: $(head -c 300 "$T/err")" ;;
	esac
	a=$(q 'SELECT active_version FROM state')
	[ "$a" = "$active" ] ||
	    inv_fail other "$name" "active is v$a, want v$active"
	# Peak memory in KiB: the bomb inflated would be 256 MiB; 160 MiB
	# leaves room for a sanitizer build's own.
	if [ "$(tail -n 1 "$T/rss")" -gt 163840 ] 2>/dev/null; then
		inv_fail other "$name" "the agent grew to $(tail -n 1 "$T/rss") KiB"
	fi
	if [ "$(wc -c <"$T/err")" -gt 4096 ]; then
		inv_fail other "$name" "a message of $(wc -c <"$T/err") bytes"
	fi
	if [ "$RC" = 0 ]; then
		inv "$name" || true
	else
		inv "$name" event="error|rejected" || true
	fi
	part_end "hostile server /$path: the expected outcome, invariants hold"
}

hcase good 0 3
hcase drip 1 2
hcase endless "1|3" 2
hcase truncated 1 2
hcase short-length "1|3" 2
hcase long-length "1|3" 2
hcase 500 1 2
hcase 503 1 2
hcase loop 1 2
hcase to-file 1 2
hcase to-ftp 1 2
hcase gzip-bomb "1|3" 2
hcase huge-headers "1|3" 2
hcase huge-header "1|3" 2
hcase 304 "0|1" 2
hcase junk-after 3 2
hcase long-etag 0 3
# The next poll sends that ETag back and must still work.
rk_case "hostile long-etag, again" 0 \
    "rootkeeper check --url $BASE/long-etag, twice" \
    check --url "$BASE/long-etag"

# Credentials in the URL stay out of every message and record.
part_begin
snap_load s2
CASES=$((CASES + 1))
REPRO="rootkeeper check --url http://user:s3cret-pw@127.0.0.1:PORT/500"
rk check --url "http://fault:s3cret-pw@127.0.0.1:${BASE##*:}/500"
rk_out=$(cat "$T/out" "$T/err")
rk status --json
rk_out+=$(cat "$T/out")
rk events --json
rk_out+=$(cat "$T/out")
rk_out+=$(q 'SELECT * FROM state; SELECT * FROM events')
if grep -q 's3cret-pw' <<<"$rk_out"; then
	inv_fail other "credentials in the URL" "the password shows in a message, status, an event or the state"
fi
inv "credentials in the URL" || true
part_end "credentials in the URL appear in no message, event or status"

# SIGTERM in the middle of a download: the daemon exits 0 at once and
# records no error (being stopped is not a failed check).
part_begin
snap_load s2
CASES=$((CASES + 1))
REPRO="rootkeeper run with url = $BASE/drip; SIGTERM during the download"
write_conf "url = $BASE/drip" "interval = 1h" "jitter = 0"
ev_mark
"$RK" --config "$CONF" --db "$DB" run >"$T/daemon.out" 2>&1 &
dpid=$!
E2E_PIDS+=("$dpid")
sleep 2
kill -TERM "$dpid"
rc=0
for ((i = 0; i < 100; i++)); do
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$dpid" 2>/dev/null; then
	inv_fail other "SIGTERM mid-download" "the daemon still runs 10 s after SIGTERM"
	kill -KILL "$dpid" 2>/dev/null || true
fi
wait "$dpid" || rc=$?
[ "$rc" = 0 ] ||
    inv_fail other "SIGTERM mid-download" "the daemon exited $rc, want 0"
n=$(q "SELECT count(*) FROM events WHERE id > $INV_EV AND kind = 'error'")
[ "$n" = 0 ] ||
    inv_fail events "SIGTERM mid-download" "recorded as an error: $(q "SELECT detail FROM events WHERE id > $INV_EV AND kind = 'error'" | head -n 1)"
write_conf ""
inv "SIGTERM mid-download" || true
part_end "SIGTERM in the middle of a download: exit 0, no error event"

# A scheme the transport does not take is a usage error.
part_begin
snap_load s2
rk_case "check --url ftp://" 2 \
    "rootkeeper check --url ftp://127.0.0.1/latest.rkb" \
    check --url "ftp://127.0.0.1:1/latest.rkb"
part_end "check --url ftp:// is a usage error (exit 2)"
REPRO=

fault_summary hostile "$CASES hostile cases"
finish
