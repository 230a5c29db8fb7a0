#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The fleet census over real access logs: a private nginx (tests/lib/nginx.sh)
# writes the standard "combined" log while simulated devices poll it with
# curl, each with the agent's census User-Agent (DESIGN.md section 4, the id
# derived from its channel and device id as the agent derives it) at their
# own versions, some several times as they move on, one deferred by a
# rollout; other clients and an agent with `census = no` poll too.  The
# counts of `census --json` and of the text output must be the ones the
# fleet table below says: newest line per device wins, also when it is in
# the first of two logs given; malformed lines are counted and skipped.
#
# usage: census.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
# shellcheck source=../lib/nginx.sh
. "$(dirname -- "$0")/../lib/nginx.sh"
rk_setup "$@"
trap 'nginx_stop; rk_cleanup' EXIT
cd "$T"

mkdir -p www/hub www/lab
mk_ca r1 "Census Root"
"$BIN" keygen -o k >/dev/null
"$BIN" create --key k.key --channel hub --version 42 --certs r1.pem \
    -o hub.rkb >/dev/null
"$BIN" publish hub.rkb --to www >/dev/null
"$BIN" create --key k.key --channel lab --version 7 --certs r1.pem \
    -o lab.rkb >/dev/null
"$BIN" publish lab.rkb --to www >/dev/null

echo "access_log $T/access.log combined;" >extra.conf
NGINX_EXTRA_CONF=$T/extra.conf
nginx_start "$T/www"

# census_id CHANNEL DEVICE_ID: the first 16 hex digits of
# SHA-256("rootkeeper census" 0x00 channel 0x00 device_id).
census_id()
{
	printf 'rootkeeper census\0%s\0%s' "$1" "$2" | sha256sum | cut -c1-16
}

# poll DEVICE CHANNEL ACTIVE AGENT [DEFERRED]: one request as that device.
poll()
{
	local extra=
	[ -n "${5:-}" ] && extra="; deferred=$5"
	curl -sf -o /dev/null \
	    -A "rootkeeper/$4 (channel=$2; active=$3; highest=$3$extra; id=$(census_id "$2" "$1"))" \
	    "$NGINX_URL/$2/latest.rkb"
}

# The fleet as it ends up: 5 devices on hub, 2 on lab.
poll dev-a hub 40 0.3.0
poll dev-a hub 41 0.3.0
poll dev-a hub 42 0.4.0          # dev-a: 42, agent 0.4.0
poll dev-b hub 41 0.3.0          # dev-b: 41, agent 0.3.0
poll dev-c hub 41 0.4.0 42       # dev-c: 41, deferring 42
poll dev-d hub 42 0.4.0          # dev-d: 42
poll dev-e hub 41 0.4.0
poll dev-e hub 41 0.4.0 42       # dev-e: 41, deferring 42
poll dev-l1 lab 6 0.10.0
poll dev-l1 lab 7 0.10.0         # dev-l1: 7, agent 0.10.0
poll dev-l2 lab 7 0.9.1          # dev-l2: 7, agent 0.9.1
curl -sf -o /dev/null -A "curl/7.88.1" "$NGINX_URL/hub/latest.rkb"
curl -sf -o /dev/null -A "rootkeeper/0.4.0" "$NGINX_URL/hub/latest.rkb"
curl -s -o /dev/null -A "rootkeeper/0.4.0 (channel=hub; id=nothex)" \
    "$NGINX_URL/hub/latest.rkb"
curl -s -o /dev/null \
    -A "rootkeeper/0.4.0 (channel=hub; active=1; highest=1; id=$(census_id hub dev-z))" \
    "$NGINX_URL/hub/nosuch.rkb"   # dev-z: a 404 still counts: hub 1, 0.4.0

# A rotated log from yesterday: dev-b at an older version then, and dev-y,
# a device not seen today.  Given after today's log, it must not win.
grep -F "id=$(census_id hub dev-b)" access.log | head -n 1 |
    sed -e 's/active=41/active=39/' \
    -e 's|\[[0-9][0-9]/[A-Z][a-z][a-z]/[0-9]*:|[01/Jan/2026:|' >access.log.1
grep -F "id=$(census_id hub dev-d)" access.log | head -n 1 |
    sed -e "s/id=[0-9a-f]*/id=$(census_id hub dev-y)/" -e 's/active=42/active=40/' \
    -e 's|\[[0-9][0-9]/[A-Z][a-z][a-z]/[0-9]*:|[01/Jan/2026:|' >>access.log.1
echo "not a log line" >>access.log.1
nginx_stop

# (nginx_start's readiness probe may add a line of its own: "other".)
check_eq "nginx logged every request" "$(grep -c '"GET /' access.log)" 15
lines=$(($(wc -l <access.log) + 3))
check "the log is nginx's combined format" \
    grep -qE '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [+-][0-9]{4}\] "GET /hub/latest.rkb HTTP/1.1" 200 [0-9]+ "-" "rootkeeper/' \
    access.log

expect_exit 0 "census --json access.log access.log.1" \
    "$BIN" census --json access.log access.log.1
cp "$T/out" census.json
check "the output is JSON" jq -e . census.json
cat >want.json <<'EOF2'
{"devices": 9,
 "channels": {
  "hub": {"active": {"1": 1, "40": 1, "41": 3, "42": 2},
          "deferred": {"42": 2},
          "agents": {"0.3.0": 1, "0.4.0": 6}},
  "lab": {"active": {"7": 2},
          "deferred": {},
          "agents": {"0.9.1": 1, "0.10.0": 1}}}}
EOF2
check_eq "the counts are the fleet's" "$(jq -cS . census.json)" "$(jq -cS . want.json)"
check_eq "agent versions in version order" \
    "$(jq -r '.channels.lab.agents | keys_unsorted | join(",")' census.json)" \
    "0.9.1,0.10.0"
check "one malformed line and one broken User-Agent are reported" \
    grep -q "warning: 2 malformed log lines skipped" "$T/err"

expect_exit 0 "census as text" "$BIN" census access.log access.log.1
check "text: devices: 9" grep -qx "devices: 9" "$T/out"
check "text: channel hub: 7 devices" grep -qx "channel hub: 7 devices" "$T/out"
check "text: 3 devices on 41" grep -qE '^    41 +3 ' "$T/out"
check "text: the line count" \
    grep -qx "$lines log lines: 14 from agents, $((lines - 16)) from other clients (or agents without a census id), 2 malformed" \
    "$T/out"

expect_exit 0 "census from standard input" \
    bash -c "cat access.log | '$BIN' census --json -"
check_eq "today's log alone: 8 devices" "$(jq -r .devices "$T/out")" 8
gzip -c access.log >access.log.2.gz
expect_exit 2 "a compressed log is refused with a hint" \
    "$BIN" census access.log.2.gz
check "the hint names zcat" grep -q zcat "$T/err"
expect_exit 1 "a missing log is an error" "$BIN" census nosuch.log
expect_exit 2 "census needs a log" "$BIN" census

finish
