#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `rootkeeper run`, the daemon (DESIGN.md section 4), against a real nginx:
#  - with interval = 1s and jitter = 0 it picks up a newly published
#    version within a few seconds;
#  - `status` works for a user who can only read the store while the
#    daemon holds it open;
#  - SIGHUP after the url= of the config changed makes it poll the new URL
#    (nginx's access log shows it, and a version published only there is
#    activated), and the old URL is not asked again;
#  - SIGTERM and SIGINT make it exit 0 at once (well under 5 s), also in
#    the middle of a download that nginx sends at 50 bytes a second, and
#    such a cancelled check records no failure (status stays ok);
#  - an unreachable server gives an exponential backoff: with the clock
#    sped up 200 times by libfaketime (interval 1h, so that the backoff is
#    not capped), the second to fourth delays between checks are
#    60-120 s, 120-240 s and 240-480 s of the device's time, read from
#    the daemon's "next check at" log lines; once the server answers
#    again, the next check is a whole interval away;
#  - an unreachable server with interval = 1s does not make it poll in a
#    tight loop.
# The daemon's log (stderr) goes to a file that the checks read.  About
# 20 seconds.
#
# usage: daemon.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# shellcheck disable=SC2317 # the predicates are called through wait_for
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=e2e
mkdir -p www/e2e www/alt dev
DB=$T/dev/store.db
"$SIGN" keygen -o k1 >/dev/null
mk_ca ca1 "Daemon Root 1"
mk_ca ca2 "Daemon Root 2"
for v in 1 2 3 4 5; do
	"$SIGN" create --key k1.key --channel "$CH" --version "$v" \
	    --certs ca1.pem --certs ca2.pem --note "v$v" -o "v$v.rkb" >/dev/null
done

expect_exit 0 "init with the factory bundle v1" \
    "$RK" --db "$DB" init --pin k1.pub --bundle v1.rkb
nginx_start www
publish v1.rkb www

# now_ms: wall clock in milliseconds.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s; 0 once it passes.
wait_for()
{
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# active_is V: the store's active version is V.
active_is()
{
	[ "$("$RK" --db "$DB" status --json | jq -r .active_version)" = "$1" ]
}

# log_has FILE PATTERN
log_has()
{
	grep -qE -- "$2" "$1"
}

# start_daemon LOG [FAKETIME]: rootkeeper --config d.conf run in the
# background, stderr to LOG; sets DPID.
start_daemon()
{
	local log=$1
	if [ $# -ge 2 ]; then
		# A simple command, so that $! is the daemon (see ft).
		env LD_PRELOAD="$FT_PRELOAD" FAKETIME="$2" \
		    "$RK" --config "$T/d.conf" run \
		    </dev/null >"$log.out" 2>"$log" &
	else
		"$RK" --config "$T/d.conf" run </dev/null >"$log.out" 2>"$log" &
	fi
	DPID=$!
	E2E_PIDS+=("$DPID")
}

# stop_daemon SIGNAL DESC: sends SIGNAL, expects exit 0 within 5 s.
stop_daemon()
{
	local sig=$1 desc=$2 t0 ms i rc=0
	t0=$(now_ms)
	if ! kill "-$sig" "$DPID" 2>/dev/null; then
		not_ok "$desc: the daemon was still running for SIG$sig"
		wait "$DPID" 2>/dev/null || true
		return 0
	fi
	for ((i = 0; i < 50; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DPID" 2>/dev/null; then
		not_ok "$desc: the daemon exits within 5 s of SIG$sig"
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
		return 0
	fi
	wait "$DPID" || rc=$?
	ms=$(($(now_ms) - t0))
	ok "$desc: the daemon exits within 5 s of SIG$sig (${ms} ms)"
	check_eq "$desc: exit status 0 after SIG$sig" "$rc" 0
}

# no_sanitizer LOG DESC
no_sanitizer()
{
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    "$1"; then
		not_ok "$2: no sanitizer report in the daemon's log"
		head -n 40 "$1" | sed 's/^/# /'
	else
		ok "$2: no sanitizer report in the daemon's log"
	fi
}

# ---- a new version is picked up within seconds -------------------------

cat >d.conf <<EOF
[agent]
url = $NGINX_URL/$CH/latest.rkb
db = $DB
interval = 1s
jitter = 0
log_level = debug
EOF
start_daemon "$T/d1.log"
check "the daemon starts and logs it" wait_for 5 log_has "$T/d1.log" \
    'info: started: store '
check "its first check finds v1 current" wait_for 5 log_has "$T/d1.log" \
    'check: current'

t0=$(now_ms)
publish v2.rkb www
if wait_for 5 active_is 2; then
	ok "v2 published: active within 5 s ($(($(now_ms) - t0)) ms)"
else
	not_ok "v2 published: active within 5 s"
fi
check "the log says check: updated: activated v2" \
    log_has "$T/d1.log" 'info: check: updated: activated v2 from '
check "the log gives the next check time" log_has "$T/d1.log" \
    'debug: next check at [0-9]{4}-[0-9]{2}-[0-9]{2}T'
run "$RK" --db "$DB" status --json
check "status shows a next_check while the daemon runs" \
    grep -qE '^[0-9]{4}-' <(jget "$T/out" .next_check)
# The daemon holds the store open (its -wal and -shm files exist): a user
# who can only read the files still gets an answer (DESIGN.md section 7).
chmod 0755 "$T" "$T/dev"
run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$RK" --db "$DB" status --json
check_eq "while the daemon runs: status as nobody (exit 0, v2 active)" \
    "$RC/$(jget "$T/out" '"\(.status) \(.active_version)"')" "0/ok 2"

# ---- SIGHUP re-reads the config ----------------------------------------

"$SIGN" publish v3.rkb --to www/alt >/dev/null
sed -i "s|^url = .*|url = $NGINX_URL/alt/$CH/latest.rkb|" d.conf
kill -HUP "$DPID"
check "SIGHUP: the log says the configuration was re-read" \
    wait_for 5 log_has "$T/d1.log" 'info: configuration re-read: 1 url'
if wait_for 5 active_is 3; then
	ok "SIGHUP: v3, published only at the new URL, is active"
else
	not_ok "SIGHUP: v3, published only at the new URL, is active"
fi
check "SIGHUP: nginx logged requests for the new URL" \
    test "$(req_count "/alt/$CH/latest.rkb")" -ge 1
old=$(req_count "/$CH/latest.rkb")
new=$(req_count "/alt/$CH/latest.rkb")
sleep 2.5
check_eq "SIGHUP: the old URL is not asked again" \
    "$(req_count "/$CH/latest.rkb")" "$old"
check "SIGHUP: the new URL is polled every second (2.5 s: >= 2 more)" \
    test "$(req_count "/alt/$CH/latest.rkb")" -ge $((new + 2))
check "SIGHUP: the polls of the new URL are 304s" test \
    "$(req_lines "/alt/$CH/latest.rkb" | tail -n 1 | awk '{ print $4 }')" \
    = 304

# A config that no longer parses is refused; the old one stays.
cp d.conf d.conf.good
echo "interval = soon" >>d.conf
kill -HUP "$DPID"
check "SIGHUP with a broken config: the log says the old one is kept" \
    wait_for 5 log_has "$T/d1.log" 'keeping the old configuration'
cp d.conf.good d.conf
check "... and the daemon is still running" kill -0 "$DPID"

stop_daemon TERM "interval 1s"
check "SIGTERM: the log says stopping on request" \
    log_has "$T/d1.log" 'info: stopping on request'
no_sanitizer "$T/d1.log" "interval 1s"

start_daemon "$T/d2.log"
check "a second daemon starts" wait_for 5 log_has "$T/d2.log" 'check: '
stop_daemon INT "SIGINT"
no_sanitizer "$T/d2.log" "SIGINT"

# SIGTERM in the middle of a download: nginx's /slow/ sends 50 bytes a
# second, so latest.rkb (about 1 KiB) takes some 20 s, and the transfer
# would only end at the low-speed limit (15 s below 100 B/s).
cat >d.conf <<EOF
[agent]
url = $NGINX_URL/slow/$CH/latest.rkb
db = $DB
interval = 1h
jitter = 0
log_level = debug
EOF
check "latest.rkb takes over 10 s at 50 B/s" \
    test "$(fsize "www/$CH/latest.rkb")" -gt 500
start_daemon "$T/d5.log"
check "slow download: the daemon starts" wait_for 5 log_has "$T/d5.log" \
    'info: started: store '
sleep 1.5
check "slow download: the first check is still under way" \
    test "$(grep -c 'check: ' "$T/d5.log" || true)" -eq 0
stop_daemon TERM "SIGTERM during a download"
no_sanitizer "$T/d5.log" "SIGTERM during a download"
# A stop request is not a failed check: status stays ok after it.
slow_logged()
{
	[ -n "$(req_lines "/slow/$CH/latest.rkb")" ]
}
check "the download was under way (nginx logged it cut short)" \
    wait_for 5 slow_logged
run "$RK" --db "$DB" status --json
check_eq "SIGTERM during a download records no failure: status ok" \
    "$RC/$(jget "$T/out" .status)" 0/ok
check_not "last_check.result is not error" \
    test "$(jget "$T/out" .last_check.result)" = error

# ---- backoff on an unreachable server ----------------------------------

dead=$(free_port)
cat >d.conf <<EOF
[agent]
url = http://127.0.0.1:$dead/$CH/latest.rkb
db = $DB
interval = 1h
jitter = 0
log_level = debug
EOF
# 200 device seconds to a real one: the fourth delay (240-480 s) ends
# within 2.5 s.
start_daemon "$T/d3.log" '+0 x200'
next_count()
{
	grep -c 'debug: next check at' "$T/d3.log" || true
}
next_count_ge()
{
	[ "$(next_count)" -ge "$1" ]
}
check "unreachable: four checks fail within 10 s" wait_for 10 next_count_ge 4
check "unreachable: each check logs an error" log_has "$T/d3.log" \
    "warn: check: error: .*127\\.0\\.0\\.1:$dead"
mapfile -t nexts < <(sed -n 's/.*debug: next check at //p' "$T/d3.log" |
    head -n 4)
gaps=()
for i in 1 2 3; do
	gaps+=($(($(epoch "${nexts[i]}") - $(epoch "${nexts[i - 1]}"))))
done
# The gap between next-check times k-1 and k is delay k plus the time the
# check took: delay k is in [30 * 2^(k-1), 60 * 2^(k-1)], and a check
# that takes 0.3 s on a loaded machine is 60 device seconds at 200x.
lo=60
for i in 0 1 2; do
	hi=$((lo * 2 + 60))
	check "unreachable: delay $((i + 2)) is ${lo}..$((lo * 2)) s (${gaps[i]} s)" \
	    test "${gaps[i]}" -ge "$lo" -a "${gaps[i]}" -le "$hi"
	lo=$((lo * 2))
done
check "unreachable: the delays grow (${gaps[*]})" \
    test "${gaps[0]}" -lt "${gaps[2]}"
run "$RK" --db "$DB" status --json
cp "$T/out" st.json
check_eq "unreachable: status says the last check failed (warning)" \
    "$(jget st.json '"\(.status) \(.last_check.result)"')" "warning error"
d=$(($(epoch "$(jget st.json .next_check)") - $(epoch "$(jget st.json .last_check.at)")))
check "unreachable: status's next_check is 30 s to 1h after the last check ($d s)" \
    test "$d" -ge 30 -a "$d" -le 3600

# The server is back (SIGHUP with a live URL): the backoff ends.
publish v4.rkb www
sed -i "s|^url = .*|url = $NGINX_URL/$CH/latest.rkb|" d.conf
kill -HUP "$DPID"
check "back online: v4 is activated" wait_for 10 active_is 4
check "back online: the log says updated" wait_for 5 log_has "$T/d3.log" \
    'info: check: updated: activated v4'
sleep 0.3
run "$RK" --db "$DB" status --json
cp "$T/out" st.json
d=$(($(epoch "$(jget st.json .next_check)") - $(epoch "$(jget st.json .last_check.at)")))
check "back online: the next check is a whole interval (1h) away ($d s)" \
    test "$d" -ge 3600 -a "$d" -le 3660
stop_daemon TERM "faketime x200"
no_sanitizer "$T/d3.log" "faketime x200"

# interval = 1s and an unreachable server: the smallest backoff must
# still wait (a poll loop without a pause hammers the server and the
# store, which records every failure).
cat >d.conf <<EOF
[agent]
url = http://127.0.0.1:$dead/$CH/latest.rkb
db = $DB
interval = 1s
jitter = 0
EOF
start_daemon "$T/d4.log"
sleep 2
fails=$(grep -c 'check: error' "$T/d4.log" || true)
check "interval 1s, unreachable: at most 4 checks in 2 s (got $fails)" \
    test "$fails" -le 4
stop_daemon TERM "interval 1s, unreachable"
no_sanitizer "$T/d4.log" "interval 1s, unreachable"

finish
