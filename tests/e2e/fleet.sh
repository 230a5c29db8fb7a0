#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A fleet migration end to end against a real nginx (DESIGN.md sections 2
# to 5): a staged rollout to a few dozen real agents, each with its own
# store and device_id, whose share is computed here from the formula with
# sha256sum alone and compared device by device; raising the percentage
# under the same seed keeps every device that took it; a deferred device's
# next poll is a 304, its status, events and census say what it waits for,
# and a sideload ignores the rollout.  The census User-Agent is read back
# from nginx's "combined" access log and compared with the id computed
# here.  Then correctable distrust on one device: an entry moved by a later
# bundle, lifted by another, kept by one that does not mention it, and
# left alone by rollbacks, judged from certs, events and the export.
#
# usage: fleet.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# shellcheck disable=SC2016 # $s and \(...) in single quotes are jq's
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=fleet
NDEV=30
mkdir -p www
URL=
VERSION=$("$RK" --version | awk '{ print $2 }')

"$SIGN" keygen -o k1 >/dev/null
for i in 1 2 3 4; do
	mk_ca "ca$i" "Fleet Root $i"
done

# bucket SEED ID: the rollout bucket of DESIGN.md section 2, from sha256sum
# and shell arithmetic (the 64-bit value split in two 32-bit halves:
# 2^32 mod 10000 = 7296).
bucket()
{
	local h hi lo
	h=$(printf 'rootkeeper rollout\0%s\0%s' "$1" "$2" | sha256sum)
	hi=$((16#${h:0:8}))
	lo=$((16#${h:8:8}))
	echo $((((hi % 10000) * 7296 + lo) % 10000))
}

# census_id CHANNEL ID: the first 16 hex digits of the census hash.
census_id()
{
	printf 'rootkeeper census\0%s\0%s' "$1" "$2" | sha256sum | cut -c1-16
}

# dev N ARGS...: run() of rootkeeper with device N's configuration.
dev()
{
	local n=$1
	shift
	run "$RK" --config "$T/dev$n.conf" "$@"
}

mk v1 1 -- ca1
mk v2 2 --rollout 10 --rollout-seed wave-1 -- ca1 ca2
mk v3 3 --rollout 50 --rollout-seed wave-1 -- ca1 ca2 ca3
mk v4 4 -- ca1 ca2 ca3 ca4

nginx_start "$T/www"
URL=$NGINX_URL/$CH/latest.rkb

# ---- a fleet of real agents --------------------------------------------

for n in $(seq 1 "$NDEV"); do
	mkdir -p "dev$n"
	cat >"dev$n.conf" <<EOF
[agent]
url = $URL
db = $T/dev$n/store.db
device_id = fleet-device-$n
EOF
	dev "$n" init --pin k1.pub --bundle v1.rkb
	[ "$RC" -eq 0 ] || not_ok "init of device $n (exit $RC)"
done
ok "$NDEV devices provisioned with v1"

# check_fleet VERSION PERCENT: every device checks once; those whose bucket
# is below PERCENT x 100 must end on VERSION, the others must stay where
# they were and say that they deferred it.
check_fleet()
{
	local ver=$1 pct=$2 n b took=0 bad=0 act
	for n in $(seq 1 "$NDEV"); do
		b=$(bucket wave-1 "fleet-device-$n")
		dev "$n" check
		if [ "$RC" -ne 0 ]; then
			bad=$((bad + 1))
			echo "# device $n: check exit $RC: $(cat "$T/err")"
			continue
		fi
		"$RK" --config "dev$n.conf" status --json >st.json || true
		act=$(jget st.json .active_version)
		if [ "$b" -lt $((pct * 100)) ]; then
			took=$((took + 1))
			if [ "$act" != "$ver" ]; then
				bad=$((bad + 1))
				echo "# device $n (bucket $b) is on v$act, want v$ver"
			fi
			echo "$n" >>"took-$ver"
		else
			if [ "$act" = "$ver" ] ||
			    ! grep -q "deferred v$ver (rollout $pct%)" "$T/out"; then
				bad=$((bad + 1))
				echo "# device $n (bucket $b) on v$act: $(cat "$T/out")"
			fi
		fi
	done
	check_eq "v$ver at $pct%: every device took or deferred it by its bucket" \
	    "$bad" 0
	TOOK=$took
}

touch took-2 took-3
publish v2.rkb www
check_fleet 2 10
took_2=$TOOK
check "at 10% some device takes v2 and most do not (control: $took_2 of $NDEV)" \
    test "$took_2" -ge 1 -a "$took_2" -lt $((NDEV / 2))

# A deferred device keeps the validators: its next poll is a 304, and it
# says what it waits for in status, in its events and to the census.
out_dev=
for n in $(seq 1 "$NDEV"); do
	if ! grep -qx "$n" took-2; then
		out_dev=$n
		break
	fi
done
id_out=$(census_id "$CH" "fleet-device-$out_dev")
dev "$out_dev" check
check_eq "a deferred device checks again: exit 0" "$RC" 0
last=$(grep -F "id=$id_out" "$NGINX_COMBINED_LOG" | tail -n 1)
check "the deferred device's second poll of v2 is answered 304" \
    grep -qE '" 304 ' <<<"$last"
"$RK" --config "dev$out_dev.conf" status --json >st.json || true
check_eq "the deferred device is still on v1, highest 1" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "1 1"
check_eq "status --json: deferred v2 at 10%, status ok" \
    "$(jget st.json '"\(.status) \(.deferred.version) \(.deferred.percent)"')" \
    "ok 2 10"
check "status --json reasons say deferred v2 (rollout 10%)" jq -e \
    '.reasons | index("deferred v2 (rollout 10%)") != null' st.json
dev "$out_dev" status
check "status (text) says deferred v2 (rollout 10%)" \
    grep -q 'deferred v2 (rollout 10%)' "$T/out"
dev "$out_dev" events --json
check "events: a deferred event for v2" jq -e \
    '[.events[] | select(.kind == "deferred" and .version == 2 and (.detail | startswith("deferred v2 (rollout 10%)")))] | length == 1' \
    "$T/out"
check "events: the 304 after it says still deferred v2 (rollout 10%)" jq -e \
    '.events[0].detail | endswith("still deferred v2 (rollout 10%)")' "$T/out"
check_eq "census UA of the deferred device says deferred=2" \
    "$(awk -F'"' '{ print $6 }' <<<"$last")" \
    "rootkeeper/$VERSION (channel=$CH; active=1; highest=1; id=$id_out; deferred=2)"

# ---- the census User-Agent in nginx's combined log ---------------------

ua_of()
{
	grep -F "id=$(census_id "$CH" "fleet-device-$1")" "$NGINX_COMBINED_LOG" |
	    tail -n 1 | awk -F'"' '{ print $6 }'
}
in_dev=$(head -n 1 took-2)
check_eq "census UA of a device that took v2" "$(ua_of "$in_dev")" \
    "rootkeeper/$VERSION (channel=$CH; active=1; highest=1; id=$(census_id "$CH" "fleet-device-$in_dev"))"
check "no raw device id in the access log" \
    test "$(grep -c 'fleet-device-' "$NGINX_COMBINED_LOG")" -eq 0
check_eq "one census id per device in the log" \
    "$(grep -oE 'id=[0-9a-f]{16}' "$NGINX_COMBINED_LOG" | sort -u | wc -l)" \
    "$NDEV"

# ---- raising the percentage under the same seed ------------------------

publish v3.rkb www
check_fleet 3 50
took_3=$TOOK
check_eq "every device that took v2 (10%) takes v3 (50%)" \
    "$(comm -23 <(sort took-2) <(sort took-3) | wc -l)" 0
check "more devices take v3 than v2 ($took_3 > $took_2)" \
    test "$took_3" -gt "$took_2"
check_eq "census UA after taking v3" "$(ua_of "$in_dev")" \
    "rootkeeper/$VERSION (channel=$CH; active=2; highest=2; id=$(census_id "$CH" "fleet-device-$in_dev"))"

# A sideload ignores the rollout.
for n in $(seq 1 "$NDEV"); do
	if ! grep -qx "$n" took-3; then
		out_dev=$n
		break
	fi
done
dev "$out_dev" apply v3.rkb
check_eq "apply v3.rkb on a device left out of the rollout: exit 0" "$RC" 0
"$RK" --config "dev$out_dev.conf" status --json >st.json || true
check_eq "the sideloaded device is on v3" "$(jget st.json .active_version)" 3

# ---- census = no --------------------------------------------------------

printf 'census = no\n' >>"dev$out_dev.conf"
before=$(wc -l <"$NGINX_COMBINED_LOG")
dev "$out_dev" check
check_eq "check with census = no: exit 0" "$RC" 0
check_eq "census = no: the UA is the version alone" \
    "$(tail -n +$((before + 1)) "$NGINX_COMBINED_LOG" | awk -F'"' '{ print $6 }')" \
    "rootkeeper/$VERSION"

# ---- the rollout ends ----------------------------------------------------

publish v4.rkb www
check_fleet 4 100
check_eq "without a rollout every device takes v4" "$TOOK" "$NDEV"
"$RK" --config "dev$out_dev.conf" status --json >st.json || true
check_eq "no deferral left once v4 is in" "$(jget st.json .deferred)" null

# ---- correctable distrust ------------------------------------------------
# The entry of the highest version that mentions a fingerprint is in
# force: moved by a later bundle, lifted by one, kept by one that does not
# mention it, and never changed by a rollback.

DCH=dist
sha2=$(der_sha ca2.pem)
sha3=$(der_sha ca3.pem)
# dmk NAME VERSION DISTRUST_JSON CERTS...
dmk()
{
	local name=$1 ver=$2 dj=$3 certs=()
	shift 3
	for c in "$@"; do
		certs+=(--certs "$c.pem")
	done
	if [ -n "$dj" ]; then
		printf '%s\n' "$dj" >"$name.json"
		certs+=(--distrust "$name.json")
	fi
	"$SIGN" create --key k1.key --channel "$DCH" --version "$ver" \
	    "${certs[@]}" -o "$name.rkb" >/dev/null
}
dmk d1 1 "" ca1 ca2 ca3
dmk d2 2 "[{\"sha256\": \"$sha2\", \"after\": \"2025-01-01T00:00:00Z\"}]" \
    ca1 ca2 ca3
dmk d3 3 "[{\"sha256\": \"$sha2\", \"after\": \"2026-06-01T00:00:00Z\"}]" \
    ca1 ca2 ca3
dmk d4 4 "[{\"sha256\": \"$sha3\", \"reason\": \"compromised?\"}]" ca1 ca2
dmk d5 5 "[{\"sha256\": \"$sha3\", \"lift\": true, \"reason\": \"by mistake\"}]" \
    ca1 ca2 ca3
mkdir -p ddev
cat >ddev.conf <<EOF
[agent]
url = $NGINX_URL/$DCH/latest.rkb
db = $T/ddev/store.db
device_id = dist-device
EOF
drk()
{
	run "$RK" --config "$T/ddev.conf" "$@"
}
# cert_line SHA: "distrust_after distrust.state distrust.version" of a cert
# in `certs --json`, or "absent".
cert_line()
{
	drk certs --json
	jq -r --arg s "$1" '[.certs[] | select(.sha256 == $s)] |
	    if length == 0 then "absent" else .[0] |
	    "\(.distrust_after) \(.distrust.state) \(.distrust.version)" end' \
	    "$T/out"
}
drk init --pin k1.pub --bundle d1.rkb
check_eq "distrust device provisioned" "$RC" 0
for v in 2 3; do
	publish "d$v.rkb" www
	drk check
	check_eq "check d$v: exit 0" "$RC" 0
done
check_eq "ca2's entry in force is v3's later date" "$(cert_line "$sha2")" \
    "2026-06-01T00:00:00Z after 3"
drk events --json
cp "$T/out" dev-events.json
check "events: distrust of ca2 set by v2" jq -e --arg s "$sha2" \
    'any(.events[]; .kind == "distrust" and .detail == "distrust of \($s) set (after 2025-01-01T00:00:00Z) by v2")' \
    dev-events.json
check "events: distrust of ca2 moved from 2025 to 2026 by v3" jq -e \
    --arg s "$sha2" \
    'any(.events[]; .detail == "distrust of \($s) moved from after 2025-01-01T00:00:00Z to after 2026-06-01T00:00:00Z by v3")' \
    dev-events.json
drk certs
check "certs (text) names the version that set the entry" grep -q \
    'distrusted for leaves issued after 2026-06-01T00:00:00Z (set by v3)' \
    "$T/out"

publish d4.rkb www
drk check
check_eq "check d4 (distrusts ca3): exit 0" "$RC" 0
# Rolled back to v3, which holds ca3: still distrusted, v4's entry stays.
drk rollback --to 3
check_eq "rollback --to 3: exit 0" "$RC" 0
check_eq "after the rollback ca3 is still left out" "$(cert_line "$sha3")" \
    absent
check_eq "nor is it in the export" \
    "$(fps_of ddev/trust.pem | grep -c "$sha3" || true)" 0
check_eq "the rollback left ca2's entry as it was" "$(cert_line "$sha2")" \
    "2026-06-01T00:00:00Z after 3"

publish d5.rkb www
drk check
check_eq "check d5 (lifts ca3): exit 0" "$RC" 0
check_eq "ca3 is trusted again, lifted by v5" "$(cert_line "$sha3")" \
    "null lifted 5"
check_eq "ca3 is in the export again" \
    "$(fps_of ddev/trust.pem | grep -c "$sha3" || true)" 1
check_eq "d5 does not mention ca2: its entry stays v3's" \
    "$(cert_line "$sha2")" "2026-06-01T00:00:00Z after 3"
drk events --json
check "events: distrust of ca3 lifted by v5" jq -e --arg s "$sha3" \
    'any(.events[]; .detail == "distrust of \($s) (never trusted) lifted by v5")' \
    "$T/out"
drk certs
check "certs (text) says the lift" grep -q 'distrust lifted by v5' "$T/out"
# A rollback to v3 keeps the lift: the entries in force do not move back.
drk rollback --to 3
check_eq "rollback --to 3 after the lift: exit 0" "$RC" 0
check_eq "ca3 stays lifted after the rollback" "$(cert_line "$sha3")" \
    "null lifted 5"

finish
