#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The device agent's sense of time, end to end, with the clock moved by
# libfaketime (preloaded by ft of common.sh, as the `faketime` command
# would) and bundles served by a real nginx
# (DESIGN.md section 3, step 5, and the status levels of section 4):
#  - a device whose clock reads 1971 (no RTC) accepts a fresh bundle, and
#    `status` says its clock is behind the time floor;
#  - a device past its bundle's expires_at warns about the expired bundle;
#  - a root expiring within 30 days is listed in expiring_soon (warning),
#    and a set whose roots have all expired is critical;
#  - a device whose clock reads 1971 but whose floor is recent refuses a
#    bundle that expired before the floor, which a device with no floor
#    (the same clock, nothing verified yet) takes: the floor, not the
#    clock, is what refuses it.
#
# With an ASan build libfaketime comes first in LD_PRELOAD, before the
# sanitizer's runtime: ASAN_OPTIONS needs verify_asan_link_order=0 and
# allocator_release_to_os_interval_ms=-1 (common.sh adds them unless the
# caller set them; see there).
#
# usage: clock.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=clock
Y1971='@1971-06-01 00:00:00'
mkdir -p www
"$SIGN" keygen -o k1 >/dev/null
mk_ca long "Clock Root Long"
mk_ca long2 "Clock Root Long 2"
# A root that expires in 20 days (mk_ca makes ten-year ones).
mk_ca short "Clock Root Short" 20

check "libfaketime works here (date reads 1971)" \
    test "$(ft "$Y1971" date -u +%Y)" = 1971
expect_exit 0 "libfaketime works here for the agent too" \
    ft "$Y1971" "$RK" --help

nginx_start www
URL=$NGINX_URL/$CH/latest.rkb

# at WHEN ARGS...: rootkeeper --db $DB ARGS with the clock at WHEN (a
# FAKETIME specification: "@1971-06-01 00:00:00", "+100d").
at()
{
	local when=$1
	shift
	run ft "$when" "$RK" --db "$DB" "$@"
}

# A bundle issued now that expires in 90 days.
mk fresh 1 --expires-in 90 -- long
publish fresh.rkb www

# ---- a device whose clock reads 1971 -----------------------------------

mkdir dev1971
DB=$T/dev1971/store.db
expect_exit 0 "1971: init (no factory bundle)" \
    ft "$Y1971" "$RK" --db "$DB" init --pin k1.pub --channel "$CH"
expect_exit 0 "1971: check accepts a bundle issued now, expiring in 90 days" \
    ft "$Y1971" "$RK" --db "$DB" check --url "$URL"
check "1971: check says updated" grep -q '^updated: activated v1' "$T/out"
expect_exit 0 "1971: status --json" ft "$Y1971" "$RK" --db "$DB" \
    status --json
cp "$T/out" st.json
check_eq "1971: status ok (a clock behind is not a fault)" \
    "$(jget st.json .status)" ok
check_eq "1971: clock.behind true" "$(jget st.json .clock.behind)" true
check "1971: clock.now reads 1971" grep -q '^1971-06-01T00:00' \
    <(jget st.json .clock.now)
check_eq "1971: clock.floor is the bundle's issued_at" \
    "$(jget st.json .clock.floor)" \
    "$("$SIGN" inspect --json fresh.rkb | jq -r .issued_at)"
check "1971: a reason says the clock is behind" grep -q 'clock is behind' \
    <(jget st.json '.reasons[]')
expect_exit 0 "1971: status (text)" ft "$Y1971" "$RK" --db "$DB" status
check "1971: the text status says the clock is behind" \
    grep -q 'clock behind' "$T/out"
check "1971: the text status gives the reason" grep -q 'clock is behind' \
    "$T/out"
run "$RK" --db "$DB" status --json
check_eq "the real clock: clock.behind false" \
    "$(jget "$T/out" .clock.behind)" false

# ---- a device past its bundle's expires_at -----------------------------

at +100d status --json
cp "$T/out" st.json
check_eq "+100 days: status warning (exit 1)" \
    "$RC/$(jget st.json .status)" 1/warning
check "+100 days: a reason says bundle v1 expired" \
    grep -q 'bundle v1 expired at' <(jget st.json '.reasons[]')
check_eq "+100 days: the clock is not behind" \
    "$(jget st.json .clock.behind)" false
at +100d status
check_eq "+100 days (text): exit 1, warning" \
    "$RC/$(head -n 1 "$T/out" | cut -d" " -f1-3)" "1/ROOTKEEPER WARNING -"
# The same bundle, 100 days on: no longer acceptable on a new device.
mkdir dev100
DB=$T/dev100/store.db
expect_exit 0 "+100 days: init of a second device" \
    ft +100d "$RK" --db "$DB" init --pin k1.pub --channel "$CH"
at +100d check --url "$URL"
check_eq "+100 days: a new device rejects the bundle (exit 3)" "$RC" 3
check "+100 days: ... as expired" grep -q 'expired at' "$T/err"

# ---- a root expiring within 30 days ------------------------------------

mkdir devsoon
DB=$T/devsoon/store.db
mk soon 2 -- long short
expect_exit 0 "init with a bundle holding a root that expires in 20 days" \
    agent init --pin k1.pub --bundle soon.rkb
st
check_eq "expiring root: status warning (exit 1)" \
    "$ST_RC/$(jget st.json .status)" 1/warning
check_eq "expiring root: expiring_soon lists it, and it alone, by sha256" \
    "$(jget st.json '[.expiring_soon[].sha256] | join(",")')" \
    "$(der_sha short.pem)"
check "expiring root: ... with its subject" grep -q 'Clock Root Short' \
    <(jget st.json '.expiring_soon[0].subject')
check_eq "expiring root: ... and openssl's not_after" \
    "$(jget st.json '.expiring_soon[0].not_after')" \
    "$(date -u -d "$(openssl x509 -in short.pem -noout -enddate |
	sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)"
check "expiring root: a reason names it" grep -q 'root .*Clock Root Short.* expires' \
    <(jget st.json '.reasons[]')
at +25d status --json
check_eq "+25 days: the short root has expired, one is left: warning" \
    "$RC/$(jget "$T/out" .status)" 1/warning
check "+25 days: a reason says it expired" \
    grep -q 'Clock Root Short.* expired' <(jget "$T/out" '.reasons[]')

mkdir devonly
DB=$T/devonly/store.db
mk only 1 -- short
expect_exit 0 "init with a bundle whose one root expires in 20 days" \
    agent init --pin k1.pub --bundle only.rkb
at +25d status --json
check_eq "+25 days with no unexpired root: critical (exit 2)" \
    "$RC/$(jget "$T/out" .status)" 2/critical
check "+25 days: a reason says no unexpired root is left" \
    grep -q 'no unexpired root' <(jget "$T/out" '.reasons[]')

# ---- the time floor against a clock in 1971 ----------------------------

# Issued and expired in 2025: after 1971, before the floor (now).
mk old 2 --issued-at 2025-01-01T00:00:00Z \
    --expires-at 2025-06-01T00:00:00Z -- long long2
publish old.rkb www

mkdir devfloor
DB=$T/devfloor/store.db
expect_exit 0 "floor: init with the fresh factory bundle (floor = now)" \
    agent init --pin k1.pub --bundle fresh.rkb
at "$Y1971" check --url "$URL"
check_eq "floor, clock 1971: the bundle expired in 2025 is rejected (exit 3)" \
    "$RC" 3
check "floor, clock 1971: ... as expired against the time floor" \
    grep -q 'expired at 2025-06-01T00:00:00Z (now .*, the time floor)' \
    "$T/err"
at "$Y1971" status --json
cp "$T/out" st.json
check_eq "floor, clock 1971: v1 stays active, highest 1" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "1 1"
check_eq "floor, clock 1971: last_check.result rejected" \
    "$(jget st.json .last_check.result)" rejected
check_eq "floor, clock 1971: clock.behind true" \
    "$(jget st.json .clock.behind)" true

mkdir devnofloor
DB=$T/devnofloor/store.db
expect_exit 0 "no floor: init without a bundle, clock 1971" \
    ft "$Y1971" "$RK" --db "$DB" init --pin k1.pub --channel "$CH"
at "$Y1971" check --url "$URL"
check_eq "no floor, clock 1971: the same bundle is taken (exit 0)" "$RC" 0
at "$Y1971" status --json
check_eq "no floor, clock 1971: v2 active, floor its issued_at" \
    "$(jget "$T/out" '"\(.active_version) \(.clock.floor)"')" \
    "2 2025-01-01T00:00:00Z"

finish
