#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# librootkeeper in a device application, end to end: the example
# rk-mqtt-device (examples/mqtt-device) connects over TLS to a real
# mosquitto (tests/lib/mosquitto.sh) standing in for an IoT hub, trusting
# what the agent keeps in its store.  A test PKI has two roots, each with
# an intermediate and a hub leaf (DNS:hub.test, IP:127.0.0.1); the broker
# serves leaf + intermediate.  The suite shows: a device trusting only
# Root A connects to the A hub and is refused, for a certificate reason, by
# the B hub (DESIGN.md section 6's proof that peer verification is on),
# as is a device trusting only Root B by the A hub; a running application
# picks up an update applied by the agent (v2, {A, B}) through
# rk_trust_refresh and connects to the B hub, and drops B again after a
# rollback (a new WOLFSSL_CTX, not CAs added to the old one); a root
# distrusted for leaves issued after a date is refused by librootkeeper's
# verify callback although it is still in the set; host name mismatch,
# MQTT refusal (CONNACK 5), network failure and usage errors each give
# their own line and exit code.  The agent's PEM export is checked with an
# independent client: mosquitto_pub and mosquitto_sub (OpenSSL) publish
# and receive a retained message with --cafile set to it.
#
# usage: mqtt.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
#                PATH/TO/rk-mqtt-device
# shellcheck disable=SC2317 # functions run through trap, run() and check
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
# shellcheck source=../lib/mosquitto.sh
. "$(dirname -- "$0")/../lib/mosquitto.sh"

e2e_setup_app "$@"

mkdir -p dev devb
DB=$T/dev/store.db
PEM=$T/dev/trust.pem
DBB=$T/devb/store.db

# ---- test PKI: two roots, an intermediate and a hub leaf under each ----

mk_ca rootA "MQTT Root A"
mk_ca rootB "MQTT Root B"
mk_int intA rootA
mk_int intB rootB
mk_hub hubA intA
mk_hub hubB intB
check "openssl: hub A's chain verifies to Root A" openssl verify \
    -CAfile rootA.pem -untrusted intA.pem -verify_hostname hub.test hubA.pem
check "openssl: hub B's chain verifies to Root B" openssl verify \
    -CAfile rootB.pem -untrusted intB.pem -verify_hostname hub.test hubB.pem
check_not "openssl: hub B's chain does not verify to Root A" openssl verify \
    -CAfile rootA.pem -untrusted intB.pem hubB.pem

# ---- bundles and the devices' stores -----------------------------------

"$SIGN" keygen -o k1 >/dev/null
# A distrusted for leaves issued after 2020: every A hub leaf here is later.
printf '[{"sha256": "%s", "after": "%s", "reason": "e2e"}]\n' \
    "$(der_sha rootA.pem)" 2020-01-01T00:00:00Z >distrust-a.json
"$SIGN" create --key k1.key --channel mqtt --version 1 --certs rootA.pem \
    -o v1.rkb >/dev/null
"$SIGN" create --key k1.key --channel mqtt --version 2 --certs rootA.pem \
    --certs rootB.pem -o v2.rkb >/dev/null
"$SIGN" create --key k1.key --channel mqtt --version 3 --certs rootA.pem \
    --certs rootB.pem --distrust distrust-a.json -o v3.rkb >/dev/null
"$SIGN" create --key k1.key --channel mqtt-b --version 1 --certs rootB.pem \
    -o b1.rkb >/dev/null

expect_exit 0 "device: init with v1 ({Root A})" \
    agent init --pin k1.pub --bundle v1.rkb
check_eq "device: the export is Root A alone" "$(pem_fps "$PEM")" \
    "$(fps_of rootA.pem)"
expect_exit 0 "device B: init with a bundle of Root B alone" \
    "$RK" --db "$DBB" init --pin k1.pub --bundle b1.rkb

# app ARGS...: run() of rk-mqtt-device against the broker, as hub.test.
app()
{
	run "$APP" --host 127.0.0.1 --port "$MOSQ_PORT" --name hub.test "$@"
}

# show FILE: FILE's lines as comments of the TAP-like output, so that a
# log of the suite shows what the application printed.
show()
{
	sed 's/^/# /' -- "$1"
}

# line K: line K of the last run's stdout.
line()
{
	sed -n "${1}p" "$T/out"
}

# app_bg OUT ARGS...: rk-mqtt-device in the background, stdout in OUT,
# stderr in OUT.err; its pid in BG.
app_bg()
{
	local out=$1
	shift
	"$APP" --host 127.0.0.1 --port "$MOSQ_PORT" --name hub.test "$@" \
	    >"$out" 2>"$out.err" &
	BG=$!
	E2E_PIDS+=("$BG")
}

# wait_line FILE PATTERN: waits (20 s at most) for a line of FILE.
wait_line()
{
	for _ in $(seq 1 200); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# bg_done DESC: waits for BG; its exit status in RC; a sanitizer report in
# its stderr is a failed check.
bg_done()
{
	RC=0
	wait "$BG" || RC=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' \
	    "$1.err" || grep -q 'runtime error:' "$1.err"; then
		not_ok "no sanitizer report from the background rk-mqtt-device"
		head -n 40 "$1.err" | sed 's/^/# /'
	fi
}

# log_has PATTERN: the broker's log has a line matching PATTERN (ERE).
log_has()
{
	grep -qE -- "$1" "$MOSQ_LOG"
}

CERT_REFUSED='^attempt 1: refused: certificate verify failed: '

# ---- the A hub ---------------------------------------------------------

mosq_start hubA.pem hubA.key intA.pem
check_eq "the broker serves leaf + intermediate" \
    "$(pem_fps "$MOSQ_DIR/server-chain.pem")" "$(fps_of hubA.pem intA.pem)"

expect_exit 0 "A device, A hub: connects" app --db "$DB" --client-id rk-e2e-1
check_eq "A device, A hub: the line says connected with v1" "$(line 1)" \
    "attempt 1: connected (CONNACK 0) with trust set v1"
check_eq "A device, A hub: one line" "$(wc -l <"$T/out")" 1
check "the broker saw client rk-e2e-1 connect (clean session, keepalive 30)" \
    log_has 'New client connected from .* as rk-e2e-1 \(p2, c1, k30\)'
check "the broker sent rk-e2e-1 CONNACK 0" \
    log_has 'Sending CONNACK to rk-e2e-1 \(0, 0\)'
check "the broker received rk-e2e-1's DISCONNECT" \
    log_has 'Received DISCONNECT from rk-e2e-1$'

run "$APP" --db "$DB" --host 127.0.0.1 --port "$MOSQ_PORT" \
    --client-id rk-e2e-ip
check_eq "without --name the host, 127.0.0.1, is checked (IP SAN): connects" \
    "$RC/$(line 1)" "0/attempt 1: connected (CONNACK 0) with trust set v1"

expect_exit 1 "A device, A hub, as other.test: refused" \
    app --db "$DB" --name other.test --client-id rk-e2e-name
show "$T/out"
check "the reason is the name mismatch" grep -qE \
    "${CERT_REFUSED}peer subject name mismatch" "$T/out"
check_not "the broker never saw rk-e2e-name" log_has 'rk-e2e-name'

expect_exit 1 "B device (Root B only), A hub: refused (DESIGN section 6)" \
    app --db "$DBB" --client-id rk-e2e-b
show "$T/out"
check "the reason is a certificate's: no trusted signer" grep -qE \
    "${CERT_REFUSED}no trusted root signed the chain" "$T/out"
check_not "the broker never saw rk-e2e-b" log_has 'rk-e2e-b'

# mosq_ok DESC MESSAGE: an independent client (OpenSSL) with the agent's
# export as its CA file publishes a retained MESSAGE, then a subscriber
# with the same CA file receives it.
mosq_ok()
{
	run mosquitto_pub --cafile "$PEM" -h 127.0.0.1 -p "$MOSQ_PORT" \
	    -i rk-e2e-pub -t rk/test -m "$2" -r
	check_eq "$1: mosquitto_pub --cafile EXPORT sends a retained message" \
	    "$RC" 0
	run mosquitto_sub --cafile "$PEM" -h 127.0.0.1 -p "$MOSQ_PORT" \
	    -i rk-e2e-sub -t rk/test -C 1 -W 5
	check_eq "$1: mosquitto_sub --cafile EXPORT receives it" \
	    "$RC/$(cat "$T/out")" "0/$2"
}
mosq_ok "v1 export, A hub" "hello from hub A"

# ---- the B hub ---------------------------------------------------------

mosq_restart hubB.pem hubB.key intB.pem
expect_exit 1 "A device (v1, Root A only), B hub: refused" \
    app --db "$DB" --client-id rk-e2e-1
check "the reason is a certificate's: no trusted signer" grep -qE \
    "${CERT_REFUSED}no trusted root signed the chain" "$T/out"
expect_exit 0 "B device, B hub: connects" app --db "$DBB" --client-id rk-e2e-b
check_eq "B device, B hub: with its v1" "$(line 1)" \
    "attempt 1: connected (CONNACK 0) with trust set v1"

run mosquitto_sub --cafile "$PEM" -h 127.0.0.1 -p "$MOSQ_PORT" -t rk/test \
    -C 1 -W 5
check "mosquitto_sub with the v1 export, B hub: fails" [ "$RC" -ne 0 ]
check "mosquitto_sub says it is a TLS error" grep -qi 'TLS\|certificate' \
    "$T/err"

# An update applied while the application runs: the refresh before each
# connect finds it.
app_bg live1.out --db "$DB" --client-id rk-e2e-live --count 3 --interval 2
if wait_line live1.out '^attempt 1: '; then
	ok "running app: attempt 1 done"
else
	not_ok "running app: attempt 1 done"
fi
expect_exit 0 "apply v2 ({A, B}) while the app runs" agent apply v2.rkb
bg_done live1.out
show live1.out
check_eq "running app: exit 0 (the last attempt connected)" "$RC" 0
check "running app: attempt 1 refused for a certificate reason (v1)" \
    grep -qE "${CERT_REFUSED}" live1.out
check_eq "running app: attempt 3 connected with trust set v2" \
    "$(sed -n 3p live1.out)" \
    "attempt 3: connected (CONNACK 0) with trust set v2"
check_eq "running app: 3 lines" "$(wc -l <live1.out)" 3
check_not "running app: never connected with v1" grep -q 'with trust set v1' \
    live1.out
check "the broker saw rk-e2e-live connect" log_has 'as rk-e2e-live '

check_eq "the export is v2's set (A, B)" "$(pem_fps "$PEM")" \
    "$(fps_of rootA.pem rootB.pem)"
mosq_ok "v2 export, B hub" "hello from hub B"

# ---- distrust-after: A is in the set but its new leaves are not --------

expect_exit 0 "apply v3 (A distrusted for leaves after 2020)" \
    agent apply v3.rkb
check_eq "the export still holds A and B" "$(pem_fps "$PEM")" \
    "$(fps_of rootA.pem rootB.pem)"
expect_exit 0 "v3, B hub: connects" app --db "$DB" --client-id rk-e2e-1
check_eq "v3, B hub: with trust set v3" "$(line 1)" \
    "attempt 1: connected (CONNACK 0) with trust set v3"

mosq_restart hubA.pem hubA.key intA.pem
expect_exit 1 "v3, A hub (leaf issued after the date): refused" \
    app --db "$DB" --client-id rk-e2e-1
show "$T/out"
check "the reason is rootkeeper's refusal" grep -qE \
    "${CERT_REFUSED}rejected by rootkeeper \\(its root is distrusted" "$T/out"
check_not "the reason is not a missing signer (A is trusted, not this leaf)" \
    grep -q 'no trusted root signed' "$T/out"
# What a PEM file cannot say: an OpenSSL client given the export accepts
# the A hub, so the refusal above is librootkeeper's verify callback.
mosq_ok "v3 export (PEM has no distrust-after), A hub" "hello again"

# ---- a rollback while the application runs: B leaves the set ----------

mosq_restart hubB.pem hubB.key intB.pem
app_bg live2.out --db "$DB" --client-id rk-e2e-live --count 3 --interval 2
if wait_line live2.out '^attempt 1: '; then
	ok "running app (v3): attempt 1 done"
else
	not_ok "running app (v3): attempt 1 done"
fi
expect_exit 0 "rollback --to 1 ({A}) while the app runs" \
    agent rollback --to 1
bg_done live2.out
show live2.out
check_eq "running app: attempt 1 connected with v3" "$(sed -n 1p live2.out)" \
    "attempt 1: connected (CONNACK 0) with trust set v3"
check_eq "running app: exit 1 (the last attempt refused: B left the set)" \
    "$RC" 1
check "running app: attempt 3 refused, no trusted signer" grep -qE \
    "${CERT_REFUSED/1/3}no trusted root signed the chain" \
    live2.out

# ---- an MQTT refusal ---------------------------------------------------

echo "allow_anonymous false" >noanon.conf
MOSQ_EXTRA_CONF=$T/noanon.conf mosq_restart hubB.pem hubB.key intB.pem
expect_exit 3 "B device, broker without anonymous clients: refused" \
    app --db "$DBB" --client-id rk-e2e-b
check_eq "the line is the CONNACK's code" "$(line 1)" \
    "attempt 1: refused: CONNACK 5 (not authorized)"

# ---- network failures, usage, no store ---------------------------------

PORT=$MOSQ_PORT
mosq_stop
expect_exit 3 "no broker: refused" "$APP" --db "$DB" --host 127.0.0.1 \
    --port "$PORT" --name hub.test --count 2 --interval 0
check_eq "no broker: a line per attempt, connection refused" \
    "$(cat "$T/out")" "attempt 1: refused: connect: Connection refused
attempt 2: refused: connect: Connection refused"
expect_exit 3 "a host that does not resolve" "$APP" --db "$DB" \
    --host no-such-host.invalid --port "$PORT"
check "it says so" \
    grep -q '^attempt 1: refused: resolve no-such-host.invalid: ' "$T/out"
expect_exit 3 "no store at --db" "$APP" --db "$T/nothing.db" \
    --host 127.0.0.1 --port "$PORT"
check "it names the store" grep -qF "$T/nothing.db" "$T/err"

expect_exit 2 "usage: no --db" "$APP" --host 127.0.0.1 --port "$PORT"
expect_exit 2 "usage: port 0" "$APP" --db "$DB" --host 127.0.0.1 --port 0
expect_exit 2 "usage: port 65536" "$APP" --db "$DB" --host 127.0.0.1 \
    --port 65536
expect_exit 2 "usage: port -1" "$APP" --db "$DB" --host 127.0.0.1 --port -1
expect_exit 2 "usage: count 0" "$APP" --db "$DB" --host 127.0.0.1 \
    --port "$PORT" --count 0
expect_exit 2 "usage: a 24-byte client id" "$APP" --db "$DB" \
    --host 127.0.0.1 --port "$PORT" --client-id 123456789012345678901234
expect_exit 2 "usage: an extra argument" "$APP" --db "$DB" \
    --host 127.0.0.1 --port "$PORT" extra
expect_exit 0 "--help" "$APP" --help
check "--help prints the usage" grep -q '^usage: rk-mqtt-device' "$T/out"

finish
