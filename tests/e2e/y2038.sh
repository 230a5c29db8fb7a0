#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Dates past 2038 end to end.  A 32-bit time_t ends at
# 2038-01-19T03:14:07Z, and roots in today's stores expire later (DigiCert
# Global Root G2: 2038-01-15, many in the 2040s), so every date must
# survive the whole path: the openssl-made certificate (UTCTime up to
# 2049, GeneralizedTime from 2050), rootkeeper-sign, the bundle, the
# store, the PEM export, `certs`, `list`, `status`, and the clock itself.
# The suite runs on any build; it matters most on a 32-bit one (i386 or
# armhf: scripts/cross.sh), where Debian's wolfSSL and OpenSSL keep a
# 32-bit time_t and judge certificate dates wrongly past 2038.
#
# The clock is moved by tests/fakeclock.c (libfaketime fakes only 32-bit
# time on a 32-bit system and stops at 2038): in 2039 a bundle issued then
# is applied and raises the time floor to 2039, a bundle expiring in 2040
# is fresh, an anti-lockout probe of a server whose leaf was issued
# before a 2039 distrust-after date validates, one issued after it is
# refused, and status shows it all; in 2040, after the bundle expired,
# status says so and an expired bundle is refused, never accepted.
#
# usage: y2038.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
#                 PATH/TO/librkfakeclock.so
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
if [ $# -ne 3 ] || [ ! -f "$3" ]; then
	echo "usage: $0 PATH/TO/rootkeeper PATH/TO/rootkeeper-sign" \
	    "PATH/TO/librkfakeclock.so" >&2
	exit 2
fi
FAKECLOCK=$(readlink -f -- "$3")
e2e_setup "$1" "$2"

# at RFC3339 COMMAND...: COMMAND with the wall clock starting at RFC3339.
at()
{
	local when
	when=$(epoch "$1")
	shift
	env LD_PRELOAD="$FAKECLOCK" RK_FAKETIME="$when" "$@"
}

# ---- the PKI: openssl ca, the one openssl command that sets dates -------

mkdir -p www dev
rk_pki
P=$PKI

# cert NAME CN START END [ISSUER]: $P/NAME.pem (key $P/NAME.key), subject
# CN=CN, O=rootkeeper y2038 in that order, valid from START to END
# (YYYYMMDDHHMMSSZ); a root signed by itself, or a leaf for localhost and
# 127.0.0.1 by ISSUER.
cert()
{
	if [ $# -eq 4 ]; then
		pki_cert "$P/$1.pem" "$P/$1.key" "/CN=$2/O=rootkeeper y2038" \
		    v3_ca "$3" "$4"
	else
		pki_cert "$P/$1.pem" "$P/$1.key" "/CN=$2/O=rootkeeper y2038" \
		    v3_leaf "$3" "$4" "$P/$5.pem" "$P/$5.key"
	fi
}

# Like DigiCert Global Root G2, to the second; then 2040 (UTCTime) and
# 2050 (GeneralizedTime); rD, whose leaves the distrust-after date splits.
cert r2038 "Root 2038" 20130801120000Z 20380115120000Z
cert r2040 "Root 2040" 20200101000000Z 20400115000000Z
cert r2050 "Root 2050" 20200101000000Z 20500601000000Z
cert rD "Root D" 20200101000000Z 20491231235959Z
cert leafOld "old leaf" 20300101000000Z 20450101000000Z rD
cert leafNew "new leaf" 20390901000000Z 20450101000000Z rD

check_eq "openssl wrote 2040 as UTCTime, 2050 as GeneralizedTime" \
    "$(openssl x509 -in "$P/r2040.pem" -noout -enddate)|$(openssl x509 \
	-in "$P/r2050.pem" -noout -enddate)" \
    "notAfter=Jan 15 00:00:00 2040 GMT|notAfter=Jun  1 00:00:00 2050 GMT"

# ---- the bundles ---------------------------------------------------------

CH=y2038
"$SIGN" keygen -o k >/dev/null
printf '[{"sha256": "%s", "after": "2039-06-01T00:00:00Z", "reason": "y2038"}]\n' \
    "$(der_sha "$P/rD.pem")" >distrust.json
ALL=(--certs "$P/r2038.pem" --certs "$P/r2040.pem" --certs "$P/r2050.pem"
	--certs "$P/rD.pem")
expect_exit 0 "rootkeeper-sign create: a bundle expiring in 2040" \
    "$SIGN" create --key k.key --channel "$CH" --version 1 "${ALL[@]}" \
    --expires-at 2040-06-01T00:00:00Z -o v1.rkb
expect_exit 0 "rootkeeper-sign create in 2039: issued then, distrusting Root D's leaves issued after 2039-06-01" \
    at 2039-10-01T00:00:00Z "$SIGN" create --key k.key --channel "$CH" \
    --version 2 "${ALL[@]}" --issued-at 2039-10-01T00:00:00Z \
    --expires-at 2040-06-01T00:00:00Z --distrust distrust.json -o v2.rkb
check "... dropping Root 2038, expired in 2039, with a warning" \
    grep -q 'Root 2038.*2038-01-15T12:00:00Z' "$T/err"
run "$SIGN" inspect --json v2.rkb
check_eq "... v2 holds the three roots valid in 2039" \
    "$(jq -r '[.certs[].subject] | sort | join(",")' "$T/out" 2>/dev/null)" \
    "/CN=Root 2040/O=rootkeeper y2038,/CN=Root 2050/O=rootkeeper y2038,/CN=Root D/O=rootkeeper y2038"
expect_exit 0 "rootkeeper-sign create: expires_at in 2106 (past 32 bits unsigned)" \
    "$SIGN" create --key k.key --channel "$CH" --version 9 \
    "${ALL[@]}" --expires-at 2106-02-08T00:00:00Z -o v9.rkb
run "$SIGN" inspect --json v9.rkb
check_eq "inspect: expires_at 2106-02-08T00:00:00Z" \
    "$(jq -r .expires_at "$T/out" 2>/dev/null)" 2106-02-08T00:00:00Z

run "$SIGN" inspect --json v1.rkb
cp -- "$T/out" inspect.json
check_eq "inspect: the bundle expires 2040-06-01T00:00:00Z" \
    "$(jget inspect.json .expires_at)" 2040-06-01T00:00:00Z
check_eq "inspect: each root's not_after, 2038 to 2050, to the second" \
    "$(jget inspect.json '[.certs[].not_after] | sort | join(" ")')" \
    "2038-01-15T12:00:00Z 2040-01-15T00:00:00Z 2049-12-31T23:59:59Z 2050-06-01T00:00:00Z"
run "$SIGN" inspect v1.rkb
check "inspect (text) prints 2050-06-01T00:00:00Z" \
    grep -q 2050-06-01T00:00:00Z "$T/out"
expect_exit 0 "rootkeeper-sign verify: a bundle expiring in 2040 verifies" \
    "$SIGN" verify --pub k.pub v1.rkb

# ---- today: the device takes the bundle ----------------------------------

DB=$T/dev/store.db
PEM=$T/dev/trust.pem
expect_exit 0 "init with a factory bundle expiring in 2040 (fresh)" \
    agent init --pin k.pub --bundle v1.rkb
agent certs --json
cp -- "$T/out" certs.json
check_eq "certs: every root, its not_after to the second" \
    "$(jget certs.json '[.certs[].not_after] | sort | join(" ")')" \
    "2038-01-15T12:00:00Z 2040-01-15T00:00:00Z 2049-12-31T23:59:59Z 2050-06-01T00:00:00Z"
agent list --json
check_eq "list: version 1 expires 2040-06-01T00:00:00Z" \
    "$(jget "$T/out" '.versions[] | select(.version == 1) | .expires')" \
    2040-06-01T00:00:00Z
st
check_eq "status: ok (exit 0): nothing expires within 30 days" \
    "$ST_RC/$(jget st.json .status)" 0/ok
check_eq "status: active.expires_at 2040-06-01T00:00:00Z" \
    "$(jget st.json .active.expires_at)" 2040-06-01T00:00:00Z
agent status
check "status (text) prints the expiry, 2040-06-01T00:00:00Z" \
    grep -q 2040-06-01T00:00:00Z "$T/out"
check_eq "export: the four roots" "$(pem_fps "$PEM")" \
    "$(fps_of "$P"/r2038.pem "$P"/r2040.pem "$P"/r2050.pem "$P"/rD.pem)"
awk '/BEGIN/ { n++ } { print > ("exp" n ".pem") }' "$PEM"
check_eq "export: openssl reads the 2050 root's notAfter back" \
    "$(for f in exp*.pem; do openssl x509 -in "$f" -noout -enddate; done |
	sort | tr '\n' '|')" \
    "notAfter=Dec 31 23:59:59 2049 GMT|notAfter=Jan 15 00:00:00 2040 GMT|notAfter=Jan 15 12:00:00 2038 GMT|notAfter=Jun  1 00:00:00 2050 GMT|"

# ---- 2039: the floor, a probe each side of the distrust-after date ---------

# serve VAR LEAF: an openssl s_server for LEAF (tls_serve), its
# host:port in VAR.
serve()
{
	tls_serve "$T/s_server.$2.log" "$P/$2.pem" "$P/$2.key" || return 1
	E2E_PIDS+=("$TLS_PID")
	printf -v "$1" '127.0.0.1:%s' "$TLS_PORT"
}
serve OLD leafOld
serve NEW leafNew
nginx_start "$T/www" "$P/leafOld.pem" "$P/leafOld.key"
publish v2.rkb www >/dev/null
cat >dev.conf <<EOF
[agent]
url = $NGINX_URL/$CH/latest.rkb
db = $DB
probe = $OLD
probe = $NEW
EOF

Y39=2039-10-01T00:00:00Z
expect_exit 0 "in 2039: check applies v2, issued in 2039" \
    at "$Y39" "$RK" --config dev.conf check
grep -E 'rejected|probe' "$T/err" | sed 's/^/# /' || true
run at "$Y39" "$RK" --config dev.conf status --json
cp -- "$T/out" st39.json
check_eq "in 2039: active version 2" "$(jget st39.json .active_version)" 2
check_eq "in 2039: the time floor is 2039-10-01T00:00:00Z" \
    "$(jget st39.json .clock.floor)" "$Y39"
check_eq "in 2039: the clock reads 2039-10-01 (status clock.now)" \
    "$(jget st39.json '.clock.now[0:10]')" 2039-10-01
check_eq "in 2039: the clock is not behind the floor" \
    "$(jget st39.json .clock.behind)" false
check_eq "in 2039: a bundle expiring in 2040 is fresh" \
    "$(jget st39.json '.reasons | map(select(test("expire"; "i") and
	test("bundle"; "i"))) | length')" 0
check_eq "in 2039: no root of v2 expires within 30 days" \
    "$(jget st39.json '.expiring_soon | length')" 0
check_eq "in 2039: a leaf issued in 2030 under Root D validates (probe ok)" \
    "$(jget st39.json ".probes[] | select(.target == \"$OLD\") |
	.result + \" \" + (.root.subject // \"-\")")" \
    "ok /CN=Root D/O=rootkeeper y2038"
check_eq "in 2039: its root expires 2049-12-31T23:59:59Z (probe root)" \
    "$(jget st39.json ".probes[] | select(.target == \"$OLD\") |
	.root.not_after")" 2049-12-31T23:59:59Z
check_eq "in 2039: a leaf issued after the 2039 distrust-after is refused" \
    "$(jget st39.json ".probes[] | select(.target == \"$NEW\") | .result")" \
    cert
check "in 2039: ... for that reason, named with its date" \
    jq -e ".probes[] | select(.target == \"$NEW\") | .detail |
	test(\"distrusted for leaves issued after 2039-06-01T00:00:00Z\")" \
    st39.json
run at "$Y39" "$RK" --config dev.conf events --json
check_eq "in 2039: the event log dates v2's update in 2039" \
    "$(jq -r '[.events[] | select(.kind == "updated")][0].at[0:10]' \
	"$T/out" 2>/dev/null)" 2039-10-01
run at "$Y39" "$RK" --config dev.conf status
check "in 2039: status (text) prints the floor 2039-10-01T00:00:00Z" \
    grep -q "$Y39" "$T/out"
run at "$Y39" "$RK" --config dev.conf certs --json
check_eq "in 2039: certs shows Root D's distrust-after date" \
    "$(jq -r '.certs[] | select(.subject | test("Root D")) |
	.distrust_after' "$T/out" \
	2>/dev/null)" 2039-06-01T00:00:00Z

# https in 2039: libcurl verifies with OpenSSL, whose time_t is 32 bits on
# a 32-bit Debian: there it refuses the server's certificate (exit 1, an
# operational error naming it), elsewhere the poll finds v2 current.  A
# verdict on the bundle (exit 3) or a change of the active set would be
# wrong either way.
run at "$Y39" "$RK" --config dev.conf check \
    --url "$NGINX_TLS_URL/$CH/latest.rkb"
if [ "$RC" -eq 0 ]; then
	ok "in 2039: check over https (exit 0: the poll finds v2 current)"
elif [ "$RC" -eq 1 ] && grep -qi 'certificate' "$T/err"; then
	ok "in 2039: check over https fails, naming the certificate (exit 1):" \
	    "$(head -n 1 "$T/err")"
else
	not_ok "in 2039: check over https (exit $RC, want 0, or 1 naming" \
	    "the certificate)"
	sed 's/^/# /' "$T/err"
fi
check_eq "in 2039: ... v2 stays active" \
    "$(at "$Y39" "$RK" --db "$DB" status --json | jq .active_version)" 2

# Back in today: the floor stays in 2039.
st
check_eq "today: the floor is still 2039-10-01T00:00:00Z, the clock behind" \
    "$(jget st.json '.clock.floor + " " + (.clock.behind | tostring)')" \
    "$Y39 true"

# ---- 2040: past the bundle's expiry ---------------------------------------

Y40=2040-07-01T00:00:00Z
run at "$Y40" "$RK" --config dev.conf status --json
cp -- "$T/out" st40.json
check_eq "in 2040: status warns (exit 1): the bundle expired 2040-06-01" \
    "$RC/$(jget st40.json .status)" 1/warning
check_eq "in 2040: Root 2040 (2040-01-15) is listed as expired" \
    "$(jget st40.json '[.expiring_soon[].not_after] | join(" ")')" \
    2040-01-15T00:00:00Z
check "in 2040: a reason names the bundle's expiry" \
    jq -e '.reasons | map(select(test("2040-06-01"))) | length > 0' \
    st40.json
at 2039-12-01T00:00:00Z "$SIGN" create --key k.key --channel "$CH" \
    --version 3 "${ALL[@]}" --issued-at 2039-12-01T00:00:00Z \
    --expires-at 2040-06-01T00:00:00Z -o v3.rkb >/dev/null 2>&1
expect_exit 3 "in 2040: a bundle that expired 2040-06-01 is refused" \
    at "$Y40" "$RK" --config dev.conf apply v3.rkb
check "in 2040: ... as expired" grep -qi expire "$T/err"
check_eq "in 2040: v2 stays active" \
    "$(at "$Y40" "$RK" --db "$DB" status --json | jq .active_version)" 2

finish
