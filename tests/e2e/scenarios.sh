#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The scenarios of the issue, end to end: a real mosquitto with a TLS
# listener on 127.0.0.1 is the IoT hub (tests/lib/mosquitto.sh), a real
# nginx is the update server (tests/lib/nginx.sh), and the example device
# application rk-mqtt-device, linked to librootkeeper, is what every
# scenario judges: whether it connected to the hub or was refused, and the
# reason it printed.  The agent's own view comes from its command line
# (exit codes, `status --json`, `list --json`, `certs --json`,
# `events --json`), openssl, and nginx's and mosquitto's logs.
#
#  1 rotation       hub on Root A, v2 = {A, B} applied, hub moves to B: the
#                   updated device connects, a control device without the
#                   update is refused for an unknown CA;
#  2 expiry         Root A expires (the device's clock moved 30 days on):
#                   the device connects because B came in time, and
#                   `status` had warned that the hub depended on A alone;
#  3 revocation     v3 distrusts A: applied although the probe of a hub
#                   still on A fails under it (revocation beats
#                   availability, and the event says so); the app refuses
#                   that hub;
#  4 anti-lockout   v4 drops B while the hub serves B: refused by the
#                   probe, the active set stays, status and the event log
#                   name the probe and the reason; the app still connects;
#  5 partial        v5 distrusts Root C for leaves issued after a date: the
#                   app accepts a hub leaf issued before, refuses one after;
#  6 consumers      the exported PEM works for mosquitto_sub, curl and
#                   openssl s_client against the same hub;
#  7 recovery       a device that slept through the migration, all of its
#                   roots expired, cannot fetch over https but recovers
#                   from a plain http:// mirror: the signature carries the
#                   trust; then its app connects again;
#  8 clock behind   in 1971 the app still validates the hub (time floor)
#                   and `status` says the clock is behind.
#
# Time travel is libfaketime (ft of common.sh) on the device side only:
# the hub, nginx and the PKI stay in real time, as in the field.
#
# usage: scenarios.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
#                     PATH/TO/rk-mqtt-device
# shellcheck disable=SC2317 # functions run through trap, run() and check
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
# shellcheck source=../lib/mosquitto.sh
. "$(dirname -- "$0")/../lib/mosquitto.sh"

e2e_setup_app "$@"

for tool in curl mosquitto_pub mosquitto_sub; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		not_ok "$tool is installed (scripts/deps.sh --test)"
	fi
done

CH=scen
PLUS30=+30d
Y1971='@1971-01-01 00:00:00'

# scenario TITLE: the header line of a scenario.
scenario()
{
	echo "# ==== $* ===="
}

# show FILE: FILE's lines as comments of the output.
show()
{
	sed 's/^/#   /' -- "$1"
}

# ---- the test PKI ------------------------------------------------------
#
# Root A is valid now but expires in 10 days (the root being retired);
# Root B is its ten-year successor; Root C, made with `openssl ca` for
# dates of our choosing, is the root distrusted for leaves issued after a
# date 200 days ago.  A and B each have an intermediate and hub leaves; the
# hub's name is hub.test, and every leaf also carries IP:127.0.0.1, the
# address the agent probes and the update server's https URL uses.  Every
# date is relative to today, so that the suite does not age.

NOW=$(date -u +%s)
# day N FORMAT: midnight UTC N days from today, in date's FORMAT.
day()
{
	date -u -d "@$(((NOW / 86400 + $1) * 86400))" "+$2"
}

mk_ca rootA "Scenario Root A" 10
mk_ca rootB "Scenario Root B"
mk_dated_ca rootC "Scenario Root C" "$(day -800 %Y%m%d%H%M%SZ)" \
    "$(day 3650 %Y%m%d%H%M%SZ)"
mk_int intA rootA
mk_int intB rootB
mk_hub hubA intA
mk_hub hubB intB
mk_hub updA intA # the update server's https certificate, under Root A
cat updA.pem intA.pem >updA-chain.pem
# Root C is distrusted for leaves issued after C_AFTER: one hub leaf was
# issued before that date, one after (both valid now).
C_AFTER=$(day -200 %Y-%m-%dT%H:%M:%SZ)
C_OLD=$(day -400 %Y-%m-%d)
C_NEW=$(day -30 %Y-%m-%d)
mk_hub hubCold rootC "$(day -400 %Y%m%d%H%M%SZ)" \
    "$(day 730 %Y%m%d%H%M%SZ)"
mk_hub hubCnew rootC "$(day -30 %Y%m%d%H%M%SZ)" \
    "$(day 730 %Y%m%d%H%M%SZ)"

check "openssl: hub A's chain verifies to Root A" openssl verify \
    -CAfile rootA.pem -untrusted intA.pem -verify_hostname hub.test hubA.pem
check "openssl: hub B's chain verifies to Root B" openssl verify \
    -CAfile rootB.pem -untrusted intB.pem -verify_hostname hub.test hubB.pem
check_not "openssl: hub B's chain does not verify to Root A" openssl verify \
    -CAfile rootA.pem -untrusted intB.pem hubB.pem
check "openssl: both C leaves verify to Root C (only a date tells them apart)" \
    openssl verify -CAfile rootC.pem -verify_hostname hub.test hubCold.pem \
    hubCnew.pem
check "openssl: Root A is valid now" openssl verify -CAfile rootA.pem \
    -untrusted intA.pem hubA.pem
check_not "openssl: Root A has expired 30 days from now" openssl verify \
    -attime "$(($(date +%s) + 30 * 86400))" -CAfile rootA.pem \
    -untrusted intA.pem hubA.pem
# not_before PEM: the certificate's notBefore as YYYY-MM-DD (openssl).
not_before()
{
	date -u -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" \
	    +%Y-%m-%d
}
check_eq "openssl: hub C (old) was issued $C_OLD" "$(not_before hubCold.pem)" \
    "$C_OLD"
check_eq "openssl: hub C (new) was issued $C_NEW" "$(not_before hubCnew.pem)" \
    "$C_NEW"
check "libfaketime works here (date reads 1971)" \
    test "$(ft "$Y1971" date -u +%Y)" = 1971

# ---- bundles -----------------------------------------------------------

"$SIGN" keygen -o ops >/dev/null
printf '[{"sha256": "%s", "reason": "Root A retired"}]\n' \
    "$(der_sha rootA.pem)" >distrust-a.json
printf '[{"sha256": "%s", "after": "%s", "reason": "misissuance"}]\n' \
    "$(der_sha rootC.pem)" "$C_AFTER" >distrust-c.json
# Every bundle is signed by the operator's key, ops.
mk v1 1 --key ops.key -- rootA            # the factory bundle
mk v2 2 --key ops.key -- rootA rootB      # overlap
mk v3 3 --key ops.key --distrust distrust-a.json -- rootB # remove A, for good
mk v4 4 --key ops.key -- rootC            # drops B: a mistake
mk v5 5 --key ops.key --distrust distrust-c.json -- rootB rootC # C, partially

# ---- the hub, the update server, the devices ---------------------------

mosq_start hubA.pem hubA.key intA.pem
HUB=127.0.0.1:$MOSQ_PORT
mkdir -p www dev ctl sleeper
nginx_start www updA-chain.pem updA.key
URL=$NGINX_URL/$CH/latest.rkb
TLS_URL=$NGINX_TLS_URL/$CH/latest.rkb
publish v1.rkb www

# The device: polls the update server over http and probes the hub
# before it accepts a bundle (DESIGN.md section 3, step 8).
DB=$T/dev/store.db
PEM=$T/dev/trust.pem
cat >dev/rootkeeper.conf <<EOF
[agent]
url = $URL
channel = $CH
db = $DB
export_pem = $PEM
probe = $HUB
EOF
# The control device: the same factory bundle, never updated.
CDB=$T/ctl/store.db
# The sleeper: offline from the start of the migration until all of its
# roots have expired.  Its update server is https first (the nginx
# certificate is under Root A), a plain http mirror second.
SDB=$T/sleeper/store.db
cat >sleeper/rootkeeper.conf <<EOF
[agent]
url = $TLS_URL
url = $URL
channel = $CH
db = $SDB
export_pem = $T/sleeper/trust.pem
EOF

# dev ARGS...: the device's agent, with its configuration.
dev()
{
	run "$RK" --config "$T/dev/rootkeeper.conf" "$@"
}

# dev_at WHEN ARGS...: the same with the clock at WHEN (FAKETIME spec).
dev_at()
{
	local when=$1
	shift
	run ft "$when" "$RK" --config "$T/dev/rootkeeper.conf" "$@"
}

# dst [WHEN]: the device's `status --json` into st.json (clock at WHEN),
# its exit status in ST_RC.
dst()
{
	if [ $# -eq 1 ]; then
		dev_at "$1" status --json
	else
		dev status --json
	fi
	cp -- "$T/out" "$T/st.json"
	ST_RC=$RC
}

# reasons FILE: the reasons of a status --json, one a line.
reasons()
{
	jget "$1" '.reasons[]'
}

# probe_of FILE FILTER: FILTER applied to the hub's entry of probes[].
probe_of()
{
	jget "$1" ".probes[] | select(.target == \"$HUB\") | $2"
}

# last_event DB: "kind|version|detail" of the newest event
# (`rootkeeper events --json` lists them newest first).
last_event()
{
	"$RK" --db "$1" events --json >"$T/events.json" 2>"$T/events.err" ||
	    return 1
	jget "$T/events.json" \
	    '.events[0] | "\(.kind)|\(.version)|\(.detail)"'
}

# app WHEN DB ARGS...: rk-mqtt-device against the hub as hub.test, with
# the clock at WHEN ("" for the real clock).
app()
{
	local when=$1 db=$2
	shift 2
	if [ -n "$when" ]; then
		run ft "$when" "$APP" --db "$db" --host 127.0.0.1 \
		    --port "$MOSQ_PORT" --name hub.test "$@"
	else
		run "$APP" --db "$db" --host 127.0.0.1 --port "$MOSQ_PORT" \
		    --name hub.test "$@"
	fi
}

# connacks: how many CONNACKs the broker has sent to the app so far (its
# log goes on across restarts): the broker's side of each verdict.
connacks()
{
	grep -c 'Sending CONNACK to rk-scen ' "$MOSQ_LOG" || true
}

# connects DESC WHEN DB VERSION: the app connected with trust set vVERSION,
# and the broker sent it a CONNACK.
connects()
{
	local line n0
	n0=$(connacks)
	app "$2" "$3" --client-id rk-scen
	line=$(sed -n 1p "$T/out")
	if [ "$RC" -eq 0 ] && [ "$line" = \
	    "attempt 1: connected (CONNACK 0) with trust set v$4" ] &&
	    [ "$(connacks)" -eq $((n0 + 1)) ]; then
		ok "$1: the app connected (trust set v$4)"
	else
		not_ok "$1: the app connected with trust set v$4" \
		    "(exit $RC: $line; CONNACKs $n0 -> $(connacks))"
		show "$T/err"
	fi
}

# refused DESC WHEN DB ERE WHY: the app was refused for a certificate
# reason (exit 1) matching ERE, and the broker never got to MQTT; WHY
# names the reason in the output.
refused()
{
	local line n0
	n0=$(connacks)
	app "$2" "$3" --client-id rk-scen
	line=$(sed -n 1p "$T/out")
	if [ "$RC" -eq 1 ] && printf '%s\n' "$line" | grep -qE -- \
	    "^attempt 1: refused: certificate verify failed: $4" &&
	    [ "$(connacks)" -eq "$n0" ]; then
		ok "$1: the app was refused: $5"
	else
		not_ok "$1: the app was refused: $5" \
		    "(exit $RC: $line; CONNACKs $n0 -> $(connacks))"
		show "$T/err"
	fi
}

UNKNOWN_CA='no trusted root signed the chain'
BY_RK='rejected by rootkeeper \(its root is distrusted for leaves issued '
BY_RK+='after a date, or is not valid now\)'

expect_exit 0 "device: init with the factory bundle v1 ({A})" \
    dev init --pin ops.pub --bundle v1.rkb
expect_exit 0 "control device: init with v1" \
    "$RK" --db "$CDB" init --pin ops.pub --bundle v1.rkb
expect_exit 0 "sleeper: init with v1" \
    "$RK" --config "$T/sleeper/rootkeeper.conf" init --pin ops.pub \
    --bundle v1.rkb

# =======================================================================
scenario "1. rotation: the hub moves from Root A to Root B"

connects "rotation: device (v1), hub on A" "" "$DB" 1
connects "rotation: control device (v1), hub on A" "" "$CDB" 1
connects "rotation: sleeper (v1), hub on A, before it goes offline" "" \
    "$SDB" 1

expect_exit 0 "rotation: check finds v1 current (and probes the hub)" \
    dev check
check "rotation: ... says so" grep -q '^current: ' "$T/out"
dst
cp st.json st-before.json
BEFORE_RC=$ST_RC
check_eq "rotation: the probe validated the hub" \
    "$(probe_of st.json .result)" ok
check "rotation: ... via Root A" grep -q 'Scenario Root A' \
    <(probe_of st.json .root.subject)

publish v2.rkb www
expect_exit 0 "rotation: the operator published v2 ({A, B}); check applies it" \
    dev check
check "rotation: ... activated v2" grep -q '^updated: activated v2 ' "$T/out"
check_eq "rotation: the device's export is {A, B}" "$(pem_fps "$PEM")" \
    "$(fps_of rootA.pem rootB.pem)"
dst
cp st.json st-overlap.json
check_eq "rotation: while the hub is on A, only A validates it" \
    "$(probe_of st.json .other_root_validates)" false
connects "rotation: device (v2), hub still on A" "" "$DB" 2

mosq_restart hubB.pem hubB.key intB.pem
check_eq "rotation: the hub now serves leaf + intermediate under B" \
    "$(pem_fps "$MOSQ_DIR/server-chain.pem")" "$(fps_of hubB.pem intB.pem)"
connects "rotation: device (v2), hub on B" "" "$DB" 2
n_uca=$(grep -c 'alert unknown ca' "$MOSQ_LOG" || true)
refused "rotation: control device (v1), hub on B" "" "$CDB" "$UNKNOWN_CA" \
    "unknown CA (no trusted root signed the chain)"
check_eq "rotation: ... and the broker got its TLS alert 'unknown ca'" \
    "$(grep -c 'alert unknown ca' "$MOSQ_LOG" || true)" "$((n_uca + 1))"

expect_exit 0 "rotation: the next check (current) probes the hub again" \
    dev check
dst
check_eq "rotation: the probe validates the hub again" \
    "$(probe_of st.json .result)" ok
check "rotation: ... now via Root B" grep -q 'Scenario Root B' \
    <(probe_of st.json .root.subject)

# =======================================================================
scenario "2. expiry: Root A expires; B came in time"
#
# Root A is valid today and expires in 10 days; the device side (agent and
# app) is then run with its clock 30 days on.  This is the most faithful
# way to get an expired A: the same root, the same stores and bundles and
# the same hub, with only time passing, as in the field (a second root
# made with past validity would be another certificate with another
# fingerprint, and the agent's warnings beforehand would be about a root
# that never expires during the test).

# Beforehand: with v1 and the hub on A (st-before.json), status warned
# that the hub depended on A alone.
A_END=$(date -u -d "$(openssl x509 -in rootA.pem -noout -enddate |
    cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
check_eq "expiry: beforehand, status was a warning (exit 1)" \
    "$BEFORE_RC/$(jget st-before.json .status)" 1/warning
DEPENDS="^$HUB depends on .*Scenario Root A.*, which expires on $A_END "
DEPENDS+="\\(in (9|10) days\\), and no other root of the active set "
DEPENDS+="validates it$"
check "expiry: beforehand, status warned: the hub depends on Root A alone" \
    grep -qE "$DEPENDS" <(reasons st-before.json)
reasons st-before.json | grep -F "$HUB depends on" | sed 's/^/#   /'
check_eq "expiry: beforehand, the probe named Root A's expiry" \
    "$(probe_of st-before.json \
        '.root.not_after + " " + (.other_root_validates | tostring)')" \
    "$A_END false"
check "expiry: with v2, hub still on A: still warned (B cannot validate it)" \
    grep -q "^$HUB depends on .*Scenario Root A" <(reasons st-overlap.json)
check_not "expiry: with the hub on B, that warning is gone" \
    grep -q "^$HUB depends on" <(reasons st.json)
check "expiry: ... and Root A itself is still listed as expiring soon" \
    grep -q "Scenario Root A" <(jget st.json '.expiring_soon[].subject')

check "expiry: the device's clock 30 days on reads past Root A's notAfter" \
    test "$(ft "$PLUS30" date -u +%s)" -gt "$(epoch "$A_END")"
connects "expiry: +30 days, device (v2), hub on B" "$PLUS30" "$DB" 2
dst "$PLUS30"
check_eq "expiry: +30 days, device status is a warning, not critical" \
    "$ST_RC/$(jget st.json .status)" 1/warning
check "expiry: +30 days, status says Root A expired" \
    grep -q "root .*Scenario Root A.* expired on $A_END" <(reasons st.json)
refused "expiry: +30 days, control device (v1), hub on B" "$PLUS30" "$CDB" \
    "$UNKNOWN_CA" "unknown CA"
run ft "$PLUS30" "$RK" --db "$CDB" status --json
check_eq "expiry: +30 days, control device status is critical" \
    "$RC/$(jget "$T/out" .status)" 2/critical
check "expiry: ... no unexpired root left" \
    grep -q 'no unexpired root left' <(reasons "$T/out")
# Had the hub stayed on A, B would not have saved anyone.
mosq_restart hubA.pem hubA.key intA.pem
refused "expiry: +30 days, control device (v1), hub back on A" "$PLUS30" \
    "$CDB" "$BY_RK" "Root A is not valid now"
refused "expiry: +30 days, device (v2), hub back on A" "$PLUS30" "$DB" \
    "$BY_RK" "Root A is not valid now"
connects "expiry: today, control device (v1), hub on A (it is the clock)" \
    "" "$CDB" 1

# =======================================================================
scenario "3. revocation: v3 distrusts Root A while a hub still presents it"

publish v3.rkb www
expect_exit 0 "revocation: check applies v3 ({B}, A distrusted)" dev check
show "$T/out"
check "revocation: ... activated v3" grep -q '^updated: activated v3 ' \
    "$T/out"
REVOKED="probe $HUB fails under it: its chain ends at .*Scenario Root A.*, "
REVOKED+="which this bundle distrusts \\(revocation beats availability\\)"
check "revocation: the output says the hub's probe fails, and why no veto" \
    grep -qE "$REVOKED" "$T/out"
dst
check "revocation: last_check.detail says revocation beats availability" \
    grep -qF "probe $HUB fails under it" <(jget st.json .last_check.detail)
EV=$(last_event "$DB" || echo "(no event)")
echo "#   event: $EV"
check "revocation: the event log's newest event is updated v3 and says so" \
    grep -qE "^updated\\|3\\|.*$REVOKED" <<<"$EV"
check_eq "revocation: the export is {B}" "$(pem_fps "$PEM")" \
    "$(fps_of rootB.pem)"
check_not "revocation: certs no longer lists A" grep -q 'Scenario Root A' \
    <("$RK" --db "$DB" certs --json)
check_eq "revocation: status shows the probe of the A hub failing" \
    "$(probe_of st.json .result)" cert
refused "revocation: device (v3), hub still on A" "" "$DB" "$UNKNOWN_CA" \
    "unknown CA (A is distrusted, gone from the set)"
mosq_restart hubB.pem hubB.key intB.pem
connects "revocation: device (v3), hub on B" "" "$DB" 3

# =======================================================================
scenario "4. anti-lockout: a bundle that drops B while the hub serves B"

publish v4.rkb www
expect_exit 3 "anti-lockout: check refuses v4 ({C})" dev check
show "$T/err"
LOCKOUT="probe $HUB validates under the active set "
LOCKOUT+="\\(root .*Scenario Root B.*\\) but not under v4: "
check "anti-lockout: the error names the probe and why" grep -qE \
    "$LOCKOUT" "$T/err"
dst
check_eq "anti-lockout: the active set stays v3; highest seen stays 3" \
    "$(jget st.json '"\(.active_version)/\(.highest_version)"')" 3/3
check_eq "anti-lockout: last_check.result rejected" \
    "$(jget st.json .last_check.result)" rejected
check "anti-lockout: last_check.detail names the probe and why" grep -qE \
    "^bundle v4 from $URL rejected: $LOCKOUT" \
    <(jget st.json .last_check.detail)
check "anti-lockout: status warns with the same reason" grep -qE \
    "^last check rejected: bundle v4 from $URL rejected: $LOCKOUT" \
    <(reasons st.json)
EV=$(last_event "$DB" || echo "(no event)")
echo "#   event: $EV"
check "anti-lockout: the event log's newest event: rejected v4, the probe" \
    grep -qE "^rejected\\|4\\|bundle v4 from $URL rejected: $LOCKOUT" <<<"$EV"
run "$RK" --db "$DB" list --json
check_eq "anti-lockout: list shows v4 was not stored (v3 active)" \
    "$(jget "$T/out" \
        '[.versions[] | "\(.version):\(.state)"] | sort | join(" ")')" \
    "1:factory 2:stored 3:active"
check_eq "anti-lockout: the export is still {B}" "$(pem_fps "$PEM")" \
    "$(fps_of rootB.pem)"
connects "anti-lockout: device (v3), hub on B" "" "$DB" 3

# =======================================================================
scenario "5. partial distrust: Root C distrusted for leaves issued" \
    "after $C_AFTER"

publish v5.rkb www
expect_exit 0 "partial: check applies v5 ({B, C}, C distrusted after a date)" \
    dev check
check "partial: ... activated v5" grep -q '^updated: activated v5 ' "$T/out"
run "$RK" --db "$DB" certs --json
check_eq "partial: certs shows C's distrust-after date" \
    "$(jget "$T/out" ".certs[] | select(.sha256 == \"$(der_sha rootC.pem)\")
        | .distrust_after")" \
    "$C_AFTER"
mosq_restart hubCold.pem hubCold.key
connects "partial: device (v5), hub leaf issued $C_OLD (before)" "" "$DB" 5
mosq_restart hubCnew.pem hubCnew.key
refused "partial: device (v5), hub leaf issued $C_NEW (after)" "" \
    "$DB" "$BY_RK" "Root C is distrusted for leaves issued after $C_AFTER"
expect_exit 0 "partial: a check (current) probes the hub with the new C leaf" \
    dev check
dst
check "partial: the agent's probe gives the same verdict, with the dates" \
    grep -qE "issued after $C_AFTER \\(leaf issued $C_NEW" \
    <(probe_of st.json .detail)

# =======================================================================
scenario "6. other consumers of the exported PEM, against the same hub"

mosq_restart hubB.pem hubB.key intB.pem
expect_exit 0 "consumers: rootkeeper export --pem" \
    "$RK" --db "$DB" export --pem "$T/export.pem"
check_files_eq "consumers: it is the file the agent keeps exported" \
    "$T/export.pem" "$PEM"
check_eq "consumers: the export is {B, C}" "$(pem_fps export.pem)" \
    "$(fps_of rootB.pem rootC.pem)"

run mosquitto_pub --cafile export.pem -h 127.0.0.1 -p "$MOSQ_PORT" \
    -i rk-scen-pub -t rk/scen -m "hello hub" -r
check_eq "consumers: mosquitto_pub --cafile EXPORT publishes" "$RC" 0
run mosquitto_sub --cafile export.pem -h 127.0.0.1 -p "$MOSQ_PORT" \
    -i rk-scen-sub -t rk/scen -C 1 -W 5
check_eq "consumers: mosquitto_sub --cafile EXPORT receives it" \
    "$RC/$(cat "$T/out")" "0/hello hub"
run mosquitto_sub --cafile rootA.pem -h 127.0.0.1 -p "$MOSQ_PORT" \
    -i rk-scen-sub -t rk/scen -C 1 -W 5
check "consumers: mosquitto_sub --cafile ROOT_A (control) fails" \
    [ "$RC" -ne 0 ]

# curl speaks HTTP to an MQTT port: the broker drops the connection after
# the handshake, so curl ends in an HTTP-level error, but its handshake
# verdict is what counts (35 and 60 are curl's TLS errors).
# curl_tls CAFILE: curl -v against the hub as hub.test.
curl_tls()
{
	run curl -sS -v --max-time 10 --cacert "$1" \
	    --resolve "hub.test:$MOSQ_PORT:127.0.0.1" \
	    "https://hub.test:$MOSQ_PORT/" -o /dev/null
}
curl_tls export.pem
check "consumers: curl --cacert EXPORT: 'SSL certificate verify ok'" \
    grep -q 'SSL certificate verify ok' "$T/err"
D="consumers: curl --cacert EXPORT: ends at HTTP, not in TLS (exit $RC)"
case $RC in
0 | 35 | 60) not_ok "$D" ;;
*) ok "$D" ;;
esac
curl_tls rootA.pem
check_eq "consumers: curl --cacert ROOT_A (control): exit 60" "$RC" 60

# s_client ARGS...: openssl s_client against the hub as hub.test.
s_client()
{
	run openssl s_client -connect "127.0.0.1:$MOSQ_PORT" \
	    -servername hub.test -verify_hostname hub.test \
	    -verify_return_error "$@" </dev/null
}
s_client -CAfile export.pem
check_eq "consumers: openssl s_client -CAfile EXPORT: exit 0" "$RC" 0
check "consumers: ... 'Verify return code: 0 (ok)'" \
    grep -q 'Verify return code: 0 (ok)' "$T/out"
s_client -CAfile rootA.pem
check "consumers: openssl s_client -CAfile ROOT_A (control) fails" \
    [ "$RC" -ne 0 ]
check_not "consumers: ... without 'Verify return code: 0 (ok)'" \
    grep -q 'Verify return code: 0 (ok)' "$T/out"

# =======================================================================
scenario "7. recovery over plain HTTP: a device whose every root expired"

SLEEP=(ft "$PLUS30" "$RK" --config "$T/sleeper/rootkeeper.conf")
refused "recovery: +30 days, sleeper (v1), hub on B" "$PLUS30" "$SDB" \
    "$UNKNOWN_CA" "unknown CA"
run "${SLEEP[@]}" status --json
check_eq "recovery: +30 days, sleeper status is critical: no unexpired root" \
    "$RC/$(jget "$T/out" .status)/$(reasons "$T/out" |
        grep -c 'no unexpired root left' || true)" 2/critical/1
expect_exit 1 "recovery: +30 days, the https update server alone fails" \
    "${SLEEP[@]}" check --url "$TLS_URL"
show "$T/err"
check "recovery: ... because of its certificate (Root A expired)" \
    grep -qiE 'certificate.*expired|expired.*certificate' "$T/err"
n_tls=$(grep -c "GET /$CH/latest.rkb" "$NGINX_ACCESS_LOG" || true)
# nginx logs (at info) the TLS alert a client sends when it refuses the
# server's certificate: libcurl's says "certificate expired".
n_exp=$(grep -c 'alert certificate expired' "$NGINX_ERROR_LOG" || true)
expect_exit 0 "recovery: +30 days, check (https, then the http mirror)" \
    "${SLEEP[@]}" check
check_eq "recovery: ... https first, refused: certificate expired (nginx log)" \
    "$(grep -c 'alert certificate expired' "$NGINX_ERROR_LOG" || true)" \
    "$((n_exp + 1))"
show "$T/out"
check "recovery: ... activated v5 from the http:// mirror" grep -qF \
    "updated: activated v5 from $URL" "$T/out"
check_eq "recovery: nginx served one more GET (the mirror's)" \
    "$(grep -c "GET /$CH/latest.rkb" "$NGINX_ACCESS_LOG" || true)" \
    "$((n_tls + 1))"
check_eq "recovery: the sleeper's export is {B, C}" \
    "$(pem_fps sleeper/trust.pem)" "$(fps_of rootB.pem rootC.pem)"
connects "recovery: +30 days, sleeper (v5), hub on B" "$PLUS30" "$SDB" 5
run "${SLEEP[@]}" status --json
check_eq "recovery: +30 days, sleeper status is no longer critical" \
    "$(reasons "$T/out" | grep -c 'no unexpired root left' || true)/$RC" 0/1

# =======================================================================
scenario "8. clock behind: the device boots in 1971"

connects "clock: 1971, device (v5), hub on B" "$Y1971" "$DB" 5
dst "$Y1971"
check_eq "clock: 1971, status --json clock.behind true" \
    "$(jget st.json .clock.behind)" true
check "clock: 1971, clock.now reads 1971" grep -q '^1971-01-01T' \
    <(jget st.json .clock.now)
check "clock: 1971, a reason says the clock is behind" \
    grep -q 'clock is behind' <(reasons st.json)
dev_at "$Y1971" status
check "clock: 1971, the text status says 'clock behind'" \
    grep -q 'clock behind' "$T/out"
dst
check_eq "clock: the real clock, clock.behind false" \
    "$(jget st.json .clock.behind)" false

finish
