#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Key-rotation catch-up end to end against a real nginx (DESIGN.md section
# 4): a device provisioned with key A sleeps while the fleet rotates A -> B
# -> C, then reaches the latest bundle, signed by C alone, from the static
# files `rootkeeper-sign publish` left (CHANNEL/rotations/index.txt and
# CHANNEL/rotations/N.rkb).  The same walk when the old rotation bundles
# have expired (keys only, never their certificates).  Then a server that
# forges a step, hides one, lists them out of order, or renames one: the
# device is delayed, each refusal is an event, its keys never move to a
# key the old ones did not sign for, and once the files are right it gets
# there.  A walk fetches at most 32 rotation bundles.  Everything is judged
# from `status --json`, `list --json`, `events --json`, the export and
# nginx's access log.
#
# usage: rotation.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# shellcheck disable=SC2016 # $... in single quotes are jq's
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=rot
mkdir -p www
for k in a b c x; do
	"$SIGN" keygen -o "k$k" >/dev/null
done
for i in 1 2 3 4; do
	mk_ca "ca$i" "Rotation Root $i"
done

OLD=(--issued-at 2024-01-01T00:00:00Z --expires-at 2024-03-01T00:00:00Z)
mk v1 1 --key ka.key -- ca1
mk v2 2 --key ka.key --key kb.key \
    --next-keys kb.pub --next-threshold 1 -- ca1 ca3
mk v3 3 --key kb.key -- ca1
mk v4 4 --key kb.key --key kc.key \
    --next-keys kc.pub --next-threshold 1 -- ca1 ca3
mk v5 5 --key kc.key -- ca1 ca2
# The same rotations, long expired, for the second walk.
mk e2 2 --key ka.key --key kb.key "${OLD[@]}" \
    --next-keys kb.pub --next-threshold 1 -- ca1 ca3
mk e4 4 --key kb.key --key kc.key "${OLD[@]}" \
    --next-keys kc.pub --next-threshold 1 -- ca1 ca3
# A real rotation, but not the one the index names (v6 as 2.rkb).
mk s6 6 --key ka.key --key kb.key \
    --next-keys kb.pub --next-threshold 1 -- ca1
# A forger's rotation to its own key, signed by it alone.
mk x2 2 --key kx.key --next-keys kx.pub --next-threshold 1 -- ca4

nginx_start "$T/www"
URL=$NGINX_URL/$CH/latest.rkb
ROT=www/$CH/rotations

# device NAME: a fresh device pinning A, on v1.
device()
{
	mkdir -p "$1"
	cat >"$1.conf" <<EOF
[agent]
url = $URL
db = $T/$1/store.db
device_id = $1
EOF
	run "$RK" --config "$T/$1.conf" init --pin ka.pub --bundle v1.rkb
	[ "$RC" -eq 0 ] || not_ok "init of $1 (exit $RC): $(cat "$T/err")"
}
on()
{
	local d=$1
	shift
	run "$RK" --config "$T/$d.conf" "$@"
}
# keys_of DEVICE: the pinned key ids, comma-separated.
keys_of()
{
	on "$1" status --json
	jq -r '.keys.ids | join(",")' "$T/out"
}

# ---- the fleet rotates while the device sleeps -------------------------

device sleeper
for v in 2 3 4 5; do
	publish "v$v.rkb" www
done
check_eq "publish kept the two rotations" "$(tr '\n' ' ' <"$ROT/index.txt")" \
    "2 4 "
check "rotations/2.rkb is v2" cmp -s "$ROT/2.rkb" v2.rkb
check "rotations/4.rkb is v4" cmp -s "$ROT/4.rkb" v4.rkb
# What would fail without the walk: the latest is signed by C alone.
expect_exit 3 "control: A alone cannot verify v5" "$SIGN" verify \
    --pub ka.pub v5.rkb

on sleeper check
check_eq "the sleeper's check: exit 0" "$RC" 0
check "it says it caught up two rotations" grep -q \
    'activated v5 .*(after 2 key rotations caught up)' "$T/out"
on sleeper status --json
cp "$T/out" st.json
check_eq "it is on v5 now" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "5 5"
check_eq "it pins C" "$(keys_of sleeper)" "$(spki_id kc.pub)"
check_eq "its export is v5's set" "$(fps_of sleeper/trust.pem)" \
    "$(fps_of ca1.pem ca2.pem)"
check "it fetched rotations/2.rkb and 4.rkb from nginx" \
    test "$(req_count "/$CH/rotations/2.rkb")" -eq 1 -a \
    "$(req_count "/$CH/rotations/4.rkb")" -eq 1
on sleeper events --json
check_eq "two rotation events, v2 then v4" \
    "$(jq -r '[.events[] | select(.kind == "rotation") | .version] | reverse | join(" ")' "$T/out")" \
    "2 4"

# ---- the rotations have expired ------------------------------------------

cp e2.rkb "$ROT/2.rkb"
cp e4.rkb "$ROT/4.rkb"
device late
on late check
check_eq "a walk over expired rotations: exit 0" "$RC" 0
on late status --json
check_eq "it still ends on v5, pinning C" \
    "$(jget "$T/out" .active_version) $(keys_of late)" "5 $(spki_id kc.pub)"
on late list --json
check_eq "no version of the walk is stored (keys only)" \
    "$(jq -r '[.versions[].version] | join(" ")' "$T/out")" "5 1"
check "ca3, only in the rotation bundles, is not in the export" \
    test "$(fps_of late/trust.pem | grep -c "$(der_sha ca3.pem)" || true)" -eq 0
on late events --json
check "the events say the expired bundles gave their keys only" jq -e \
    '[.events[] | select(.kind == "rotation" and (.detail | contains("expired bundle (keys only)")))] | length == 2' \
    "$T/out"

# ---- a server that lies ----------------------------------------------------

cp v2.rkb "$ROT/2.rkb"
cp v4.rkb "$ROT/4.rkb"

# A forged step: the forger's own rotation under the name of v2.
cp x2.rkb "$ROT/2.rkb"
device forged
on forged check
check_eq "a forged step: the check is rejected (exit 3)" "$RC" 3
check_eq "the keys did not move: still A" "$(keys_of forged)" \
    "$(spki_id ka.pub)"
on forged events --json
check "the forged step is recorded as refused" jq -e \
    'any(.events[]; .kind == "rotation" and .version == 2 and (.detail | contains("refused")))' \
    "$T/out"
check "so is the step that then cannot be verified" jq -e \
    'any(.events[]; .kind == "rotation" and .version == 4 and (.detail | contains("refused")))' \
    "$T/out"

# A step renamed: a rotation signed by A, but v6, served as 2.rkb.
cp s6.rkb "$ROT/2.rkb"
on forged check
check_eq "a step under another version's name: exit 3" "$RC" 3
on forged events --json
check "it is refused for its name" jq -e \
    'any(.events[]; .version == 2 and (.detail | contains("it is v6, published as v2")))' \
    "$T/out"
check_eq "still A" "$(keys_of forged)" "$(spki_id ka.pub)"

# A hidden step: the index leaves v2 out.
cp v2.rkb "$ROT/2.rkb"
printf '4\n' >"$ROT/index.txt"
on forged check
check_eq "a hidden step: exit 3" "$RC" 3
check_eq "still A after the hidden step" "$(keys_of forged)" \
    "$(spki_id ka.pub)"

# Out of order, but complete: the device sorts, and gets there.
printf '4\n2\n' >"$ROT/index.txt"
on forged check
check_eq "the files right again (listed out of order): exit 0" "$RC" 0
on forged status --json
check_eq "the delayed device ends on v5, pinning C" \
    "$(jget "$T/out" .active_version) $(keys_of forged)" \
    "5 $(spki_id kc.pub)"

# ---- at most 32 steps ------------------------------------------------------

seq 6 60 >"$ROT/index.txt"
device bounded
before=$(grep -c "/$CH/rotations/[0-9]*.rkb" "$NGINX_ACCESS_LOG" || true)
on bounded check
check_eq "an index of 55 steps that lead nowhere: exit 3" "$RC" 3
after=$(grep -c "/$CH/rotations/[0-9]*.rkb" "$NGINX_ACCESS_LOG" || true)
check_eq "the walk fetched 32 rotation bundles, no more" \
    $((after - before)) 32

finish
