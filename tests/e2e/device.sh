#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent as a monitored service on a device:
#  - `status` speaks as a Nagios/Icinga plugin: a first line
#    "ROOTKEEPER LEVEL - summary | perfdata" and the exit code of the level
#    (ok, warning with a root expiring within 30 days, critical without a
#    store, unknown for a store that cannot be read, a bad configuration or
#    bad usage), the reasons on the lines after;
#  - `status --prometheus` is node_exporter's textfile format, which
#    `promtool check metrics` accepts, with values that match status --json;
#  - `run` under systemd's protocols: READY=1, STATUS= and WATCHDOG=1 on
#    NOTIFY_SOCKET (tests/notify_listen.c plays systemd's end), STOPPING=1;
#    log lines with journald priorities and no pid when stderr is the
#    journal (JOURNAL_STREAM); SIGHUP re-reads and checks at once; after
#    it stops, status shows no next_check; `log = syslog` without a syslog
#    socket falls back to stderr and says so;
#  - init makes the store's folder; channel= in the configuration that is
#    not the store's is refused; after a rollback status still shows the
#    probes; counts read "1 certificate", "1 root".
#
# usage: device.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
#                  PATH/TO/notify_listen
# shellcheck disable=SC2317 # functions run through check, run() and the trap
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
if [ $# -ne 3 ] || [ ! -x "$3" ]; then
	echo "usage: $0 ROOTKEEPER ROOTKEEPER_SIGN NOTIFY_LISTEN" >&2
	exit 2
fi
LISTEN=$(readlink -f -- "$3")
e2e_setup "$1" "$2"

wait_for()
{
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

mk_ca ca1 "Device Root 1"
mk_ca soon "Device Root Soon" 10
# A leaf for localhost under Root 1, for a probe.
PKI_SAN=DNS:localhost pki_cert "$T/lh.pem" "$T/lh.key" /CN=localhost v3_leaf \
    "$(pki_date now)" "$(pki_date "now + 365 days")" ca1.pem ca1.ca.key

"$SIGN" keygen -o k >/dev/null
expect_exit 0 "create v1 with one root" "$SIGN" create --key k.key \
    --channel dev --version 1 --certs ca1.pem -o v1.rkb
check "... says 1 certificate" grep -q ', 1 certificate, 1 signature,' \
    "$T/out"
"$SIGN" create --key k.key --channel dev --version 2 --certs ca1.pem \
    --certs soon.pem -o v2.rkb >/dev/null
"$SIGN" create --key k.key --channel dev --version 3 --certs ca1.pem \
    --certs soon.pem -o v3.rkb >/dev/null

DB=$T/state/lib/store.db
expect_exit 0 "init makes the store's missing folders" \
    "$RK" --db "$DB" init --pin k.pub --bundle v1.rkb
check_eq "... mode 0755" "$(stat -c %a "$T/state/lib")" 755
check "init says 1 certificate" grep -q '1 certificate$' "$T/out"
expect_exit 0 "certs" "$RK" --db "$DB" certs
check_eq "certs says 1 certificate" "$(head -n 1 "$T/out")" \
    "active set v1, 1 certificate"

# ---- the plugin line ----------------------------------------------------

PLUGIN_RE='^ROOTKEEPER (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+( \| ([a-z_]+=[0-9]+s?)( [a-z_]+=[0-9]+s?)*)?$'
expect_exit 0 "status: ok" "$RK" --db "$DB" status
check "... a plugin line first" grep -qE "$PLUGIN_RE" <(head -n 1 "$T/out")
check "... ROOTKEEPER OK - v1 active, 1 root | roots=1 expiring=0 age=" \
    grep -q '^ROOTKEEPER OK - v1 active, 1 root | roots=1 expiring=0 age=[0-9]*s' \
    "$T/out"
check "the details say 1 root" grep -q '), 1 root$' "$T/out"

# prom FILE: promtool's verdict on FILE.
prom_ok()
{
	if ! command -v promtool >/dev/null; then
		echo "promtool is not installed (Debian package prometheus)"
		return 1
	fi
	promtool check metrics <"$1"
}
# metric FILE NAME: the value of an unlabelled metric.
metric()
{
	awk -v n="$2" '$1 == n { print $2 }' "$1"
}

expect_exit 0 "status --prometheus" "$RK" --db "$DB" status --prometheus
cp "$T/out" ok.prom
check "promtool check metrics accepts it" prom_ok ok.prom
check_eq "rootkeeper_status 0, roots 1, active_version 1" \
    "$(metric ok.prom rootkeeper_status) $(metric ok.prom rootkeeper_roots) $(metric ok.prom rootkeeper_active_version)" \
    "0 1 1"
st
check_eq "bundle_expires_timestamp_seconds is status's expires_at" \
    "$(metric ok.prom rootkeeper_bundle_expires_timestamp_seconds)" \
    "$(epoch "$(jget st.json .active.expires_at)")"
check_eq "clock_behind 0" "$(metric ok.prom rootkeeper_clock_behind)" 0

mkdir -p www
"$SIGN" publish v2.rkb --to www >/dev/null
expect_exit 1 "status after v2 (a root expiring in 10 days): warning" \
    sh -c "'$RK' --db '$DB' check --url 'file://$T/www/dev/latest.rkb' \
	>/dev/null && '$RK' --db '$DB' status"
check "... the plugin line" grep -qE "$PLUGIN_RE" <(head -n 1 "$T/out")
check "... ROOTKEEPER WARNING - v2 active, 1 root expires within 30 days" \
    grep -q '^ROOTKEEPER WARNING - v2 active, 1 root expires within 30 days | roots=2 expiring=1 age=[0-9]*s last_check=[0-9]*s$' \
    "$T/out"
check "... the reason on the next line" \
    grep -q '^  ! root .*Device Root Soon expires on' <(sed -n 2p "$T/out")
expect_exit 0 "status --prometheus exits 0 at warning" \
    "$RK" --db "$DB" status --prometheus
cp "$T/out" warn.prom
check "promtool accepts it" prom_ok warn.prom
check_eq "rootkeeper_status 1, roots_expiring 1" \
    "$(metric warn.prom rootkeeper_status) $(metric warn.prom rootkeeper_roots_expiring)" \
    "1 1"
run "$RK" --db "$DB" check --url "file://$T/www/missing.rkb"
run "$RK" --db "$DB" status --prometheus
check_eq "a failed check: last_check_success 0" \
    "$(metric "$T/out" rootkeeper_last_check_success)" 0

expect_exit 2 "no store: critical" "$RK" --db "$T/none/store.db" status
check "... ROOTKEEPER CRITICAL - no store at" \
    grep -q "^ROOTKEEPER CRITICAL - no store at $T/none/store.db" "$T/out"
expect_exit 0 "no store: --prometheus" "$RK" --db "$T/none/store.db" \
    status --prometheus
cp "$T/out" none.prom
check "promtool accepts it" prom_ok none.prom
check_eq "rootkeeper_status 2, store_readable 0" \
    "$(metric none.prom rootkeeper_status) $(metric none.prom rootkeeper_store_readable)" \
    "2 0"
head -c 4096 /dev/urandom >garbage.db
expect_exit 3 "a store that cannot be read: unknown" \
    "$RK" --db "$T/garbage.db" status
check "... ROOTKEEPER UNKNOWN -" grep -q '^ROOTKEEPER UNKNOWN - ' "$T/out"
printf '[agent]\nbogus = 1\n' >bad.conf
expect_exit 3 "a bad configuration: unknown (cannot judge)" \
    "$RK" --config bad.conf --db "$DB" status
check "... a plugin line naming the line" \
    grep -q '^ROOTKEEPER UNKNOWN - .*bad.conf:2' "$T/out"
expect_exit 3 "bad usage: unknown" "$RK" --db "$DB" status --bogus
check "... a plugin line" grep -q '^ROOTKEEPER UNKNOWN - cannot judge: bad usage' "$T/out"
expect_exit 2 "other commands keep exit 2 for a bad configuration" \
    "$RK" --config bad.conf --db "$DB" list

# ---- channel, probes after a rollback -----------------------------------

printf '[agent]\ndb = %s\nchannel = canary\n' "$DB" >canary.conf
expect_exit 2 "channel = canary in the config of a dev store: refused" \
    "$RK" --config canary.conf check --url "file://$T/www/dev/latest.rkb"
check "... naming both channels" \
    grep -q 'channel = canary, but this store follows channel dev' "$T/err"

tls_serve s_server.log lh.pem lh.key
E2E_PIDS+=("$TLS_PID")
PORT=$TLS_PORT
printf '[agent]\ndb = %s\nprobe = localhost:%s\n' "$DB" "$PORT" >probe.conf
"$SIGN" publish v3.rkb --to www >/dev/null
expect_exit 0 "check v3 with a probe" "$RK" --config probe.conf check \
    --url "file://$T/www/dev/latest.rkb"
run "$RK" --config probe.conf status --json
check_eq "status shows the probe: ok via Root 1" \
    "$(jq -r '.probes | map("\(.target) \(.result)") | join(",")' "$T/out")" \
    "localhost:$PORT ok"
expect_exit 0 "rollback" "$RK" --config probe.conf rollback
run "$RK" --config probe.conf status --json
check_eq "after the rollback status still shows the probe" \
    "$(jq -r '.probes | map("\(.target) \(.result)") | join(",")' "$T/out")" \
    "localhost:$PORT ok"

# ---- the daemon under systemd's protocols ----------------------------------

cat >d.conf <<EOF2
[agent]
db = $DB
url = file://$T/www/dev/latest.rkb
interval = 1h
jitter = 0
EOF2
SOCK=$T/notify.sock
: >notify.out
"$LISTEN" "$SOCK" "$T/notify.out" &
LPID=$!
E2E_PIDS+=("$LPID")
wait_for 5 test -S "$SOCK" || true
: >d.log
JS=$(stat -c '%d:%i' d.log)
env NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=2000000 JOURNAL_STREAM="$JS" \
    "$RK" --config d.conf run 2>>d.log &
DPID=$!
E2E_PIDS+=("$DPID")
check "READY=1 on NOTIFY_SOCKET" wait_for 20 grep -q '^READY=1$' notify.out
check "a STATUS= line after the first check" \
    wait_for 20 grep -q '^STATUS=last check: current: ' notify.out
check "WATCHDOG=1 while it sleeps" wait_for 10 grep -q '^WATCHDOG=1$' notify.out
run "$RK" --db "$DB" status --json
check "while it runs, status shows the next check" \
    test "$(jq -r .next_check "$T/out")" != null
check "log lines carry journald priorities" \
    grep -q '^<6>info: started: store ' d.log
check_not "... and no pid" grep -q 'rootkeeper\[' d.log
kill -HUP "$DPID"
check "SIGHUP: re-read, then a check at once" wait_for 20 \
    sh -c "grep -A1 'configuration re-read' d.log | grep -q 'check: current'"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
check_eq "SIGTERM: exit 0" "$rc" 0
check "STOPPING=1" wait_for 10 grep -q '^STOPPING=1$' notify.out
wait "$LPID" 2>/dev/null || true
run "$RK" --db "$DB" status --json
check_eq "after the daemon stopped, status shows no next check" \
    "$(jq -r .next_check "$T/out")" null
run "$RK" --db "$DB" status
check "... the text says not scheduled" grep -q 'next check   not scheduled' \
    "$T/out"

if [ -S /dev/log ]; then
	ok "log = syslog fallback: skipped, this machine has a syslog socket"
else
	printf 'log = syslog\n' >>d.conf
	"$RK" --config d.conf run 2>sys.log &
	DPID=$!
	E2E_PIDS+=("$DPID")
	check "log = syslog without /dev/log: says so on stderr" wait_for 20 \
	    grep -q 'no syslog socket at /dev/log: logging to stderr' sys.log
	check "... and logs there" wait_for 20 grep -q 'info: check: current' \
	    sys.log
	kill -TERM "$DPID"
	wait "$DPID" || true
fi
finish
