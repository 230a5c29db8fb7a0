#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Racing writers on one store (DESIGN section 3, "Writers"), then the
# invariants of lib.sh after every round:
#   - apply v4 against apply v3, started together: v4 must end active and
#     highest, v3 is either applied first or refused, never committed on
#     top of v4;
#   - a key rotation (v3, next_keys k2) against v4 signed only by the key
#     it retires (k1): one of the two wins, never both (else v4 sits on a
#     store that pins k2 only);
#   - the daemon (`run`, every second from file://) against sideloads
#     (`apply`) of the version just below the one it is fetching; a second
#     daemon on the same store must exit 1 naming the first's pid; SIGTERM
#     stops the first with exit 0 and no error event.
# Every writer must exit 0 (updated or current) or 3 (refused): a writer
# that gives up on the lock is a failure too.
#
# usage: races.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# RK_FAULT_LONG=1: 200 rounds of each pair and 30 daemon rounds.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
fault_setup "$@"

N=$(fault_n 10 200)
R=$(fault_n 4 30)

mkb v1 1
mkb v2 2
mkb v3 3
mkb v4 4
mkb rot3 3 --key k1.key --key k2.key --next-keys k2.pub --next-threshold 1
rk init --pin k1.pub --bundle v1.rkb
rk apply v2.rkb
snap_save s2

# pair A B CASE REPRO: from the store of snapshot s2 (REPRO the recipe),
# apply A.rkb and B.rkb at once; sets RC_A, RC_B.
pair()
{
	local pa pb
	snap_load s2
	REPRO=$4
	ev_mark
	"$RK" --config "$CONF" --db "$DB" apply "$1.rkb" >"$T/a.out" 2>&1 &
	pa=$!
	"$RK" --config "$CONF" --db "$DB" apply "$2.rkb" >"$T/b.out" 2>&1 &
	pb=$!
	RC_A=0
	RC_B=0
	wait "$pa" || RC_A=$?
	wait "$pb" || RC_B=$?
	for x in "$RC_A:$1:a" "$RC_B:$2:b"; do
		case ${x%%:*} in
		0 | 3) ;;
		*) inv_fail other "$3" "apply ${x#*:} exited ${x%%:*}: $(head -n 1 "$T/${x##*:}.out")" ;;
		esac
	done
}

# refused_event: the inv option that asks for a "rejected" event when one
# writer of the pair was refused.
refused_event()
{
	if [ "$RC_A" = 3 ] || [ "$RC_B" = 3 ]; then
		echo event=rejected
	fi
}

# ---- apply v4 against apply v3 -----------------------------------------
order_34=0
order_43=0
part_begin
for ((i = 1; i <= N; i++)); do
	pair v4 v3 "apply v4 vs v3 #$i" \
	    "from a store at v2, rootkeeper apply v4.rkb & rootkeeper apply v3.rkb &"
	inv "apply v4 vs v3 #$i" "$(refused_event)" || true
	a=$(q 'SELECT active_version FROM state')
	[ "$a" = 4 ] ||
	    inv_fail other "apply v4 vs v3 #$i" "active is v$a, not v4 (exits: v4 $RC_A, v3 $RC_B)"
	if [ "$RC_B" = 0 ]; then
		order_34=$((order_34 + 1))
	else
		order_43=$((order_43 + 1))
	fi
done
part_end "apply v4 against apply v3: v4 ends active and highest, never lowered"

# ---- key rotation against a bundle signed only by the retired key ------
rot_first=0
old_first=0
part_begin
for ((i = 1; i <= N; i++)); do
	pair rot3 v4 "rotation vs retired key #$i" \
	    "from a store at v2 pinning k1, rootkeeper apply rot3.rkb (next_keys k2) & rootkeeper apply v4.rkb (k1 only) &"
	if [ "$RC_A" = 0 ] && [ "$RC_B" = 0 ]; then
		inv_fail keys "rotation vs retired key #$i" "both the rotation and the bundle of the retired key were applied"
	fi
	inv "rotation vs retired key #$i" "$(refused_event)" || true
	if [ "$RC_A" = 0 ]; then
		rot_first=$((rot_first + 1))
	else
		old_first=$((old_first + 1))
	fi
done
part_end "key rotation against a bundle of the retired key: never both"

# ---- the daemon against sideloads ---------------------------------------
REPRO="rootkeeper run (interval 1s, file:// latest.rkb) while rootkeeper apply sideloads the version below the published one"
for ((r = 0; r < R; r++)); do
	mkb "d$((2 * r + 3))" $((2 * r + 3))
	mkb "d$((2 * r + 4))" $((2 * r + 4))
done
part_begin
snap_load s2
write_conf "url = file://$T/www/latest.rkb" "interval = 1s" "jitter = 0"
cp d4.rkb www/latest.rkb
"$RK" --config "$CONF" --db "$DB" run >"$T/daemon.out" 2>&1 &
DPID=$!
E2E_PIDS+=("$DPID")
sideloads=0
refused=0
for ((r = 0; r < R; r++)); do
	cp "d$((2 * r + 4)).rkb" www/latest.rkb.new
	mv -f www/latest.rkb.new www/latest.rkb
	sleep "0.$((RANDOM % 10))"
	rk apply "d$((2 * r + 3)).rkb"
	sideloads=$((sideloads + 1))
	case $RC in
	0) ;;
	3) refused=$((refused + 1)) ;;
	*) inv_fail other "daemon vs sideload #$r" "apply exited $RC: $(head -n 1 "$T/err")" ;;
	esac
	inv "daemon vs sideload #$r" nowrite || true
done
part_end "the daemon against sideloads: invariants hold in every round"
# Let the daemon fetch the last one.
for ((k = 0; k < 100; k++)); do
	[ "$(q 'SELECT active_version FROM state')" = $((2 * R + 2)) ] && break
	sleep 0.2
done
# One daemon per store.
REPRO="rootkeeper run twice on one store"
rc=0
timeout 10 "$RK" --config "$CONF" --db "$DB" run >"$T/second.out" 2>&1 || rc=$?
if [ "$rc" = 1 ] && grep -qw -- "$DPID" "$T/second.out"; then
	ok "a second daemon on the same store exits 1 ($(head -n 1 "$T/second.out"))"
elif [ "$rc" = 1 ]; then
	inv_fail other "second daemon" "the second daemon's message does not name the first's pid $DPID: $(head -n 1 "$T/second.out")"
	not_ok "a second daemon on the same store exits 1"
else
	inv_fail other "second daemon" "a second daemon on the same store did not exit 1 (exit $rc after up to 10 s)"
	not_ok "a second daemon on the same store exits 1"
fi
REPRO="rootkeeper run, then SIGTERM"
part_begin
ev_mark
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
[ "$rc" = 0 ] || inv_fail other "daemon stop" "the daemon exited $rc on SIGTERM"
n=$(q "SELECT count(*) FROM events WHERE id > $INV_EV AND kind = 'error'")
[ "$n" = 0 ] ||
    inv_fail events "daemon stop" "SIGTERM was recorded as an error: $(q "SELECT detail FROM events WHERE id > $INV_EV AND kind = 'error'" | head -n 1)"
REPRO=
write_conf ""
inv "after the daemon" || true
a=$(q 'SELECT active_version FROM state')
[ "$a" = $((2 * R + 2)) ] ||
    inv_fail other "after the daemon" "active is v$a, not the last published v$((2 * R + 2))"

part_end "SIGTERM stops the daemon with exit 0 and no error event"
fault_summary races "apply/apply $N (v3 first $order_34, v4 first $order_43), rotation/retired key $N (rotation first $rot_first, retired first $old_first), daemon/sideload $R rounds ($sideloads sideloads, $refused refused as older)"
finish
