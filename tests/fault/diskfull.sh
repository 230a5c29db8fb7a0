#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Disk full: the store and its export on a small tmpfs mounted by the
# suite, the free space set by a filler file, and init, apply and export
# run at every size step from "nothing fits" (0 bytes free) up to the
# first sizes where the command succeeds.  At each step: the command exits
# 0 with its whole result, or 1 with a message that names the full disk
# (never 3: a full disk does not make a bundle bad); then, with the filler
# removed, the invariants of lib.sh (the next write command repairs the
# export and leaves no temp file).  Mounting needs root: as another user
# the suite prints a SKIP line and exits 77 (CTest: skipped).
#
# usage: diskfull.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# By default every 4th page (4 KiB) of free space is tried, from a random
# first one; RK_FAULT_LONG=1 tries every page.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: fault_diskfull needs root to mount a tmpfs: init, apply" \
	    "and export on a full disk were not run"
	exit 77
fi
fault_setup "$@"

STRIDE=$(fault_n 4 1)
PAGE=4096
MNT=$T/mnt
mkdir -p "$MNT"
mount -t tmpfs -o size=4M,mode=0755 tmpfs "$MNT"
# shellcheck disable=SC2317 # the exit trap
unmount_then_cleanup()
{
	local rc=$?
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	(exit "$rc")
	e2e_cleanup
}
trap unmount_then_cleanup EXIT

mkb v1 1
mkb v2 2
mkb v3 3

# The device folder on the tmpfs.
DB=$MNT/dev/store.db
PEM=$MNT/dev/trust.pem
mkdir -p "$MNT/dev"
write_conf ""
snap_starts

cmd_args()
{
	case $1 in
	init) echo "init --pin $T/k1.pub --bundle $T/v1.rkb" ;;
	apply) echo "apply $T/v3.rkb" ;;
	export) echo "export --pem $PEM" ;;
	esac
}

# want_done COMMAND: did the command's whole result land?
want_done()
{
	case $1 in
	init | apply)
		[ "$(q 'SELECT active_version FROM state')" = "$([ "$1" = init ] && echo 1 || echo 3)" ]
		;;
	export) [ "$(pem_count "$PEM")" -gt 0 ] ;;
	esac
}

declare -A STEPS=() FAILED=() FITS=()
for c in init apply export; do
	part_begin
	STEPS[$c]=0
	FAILED[$c]=0
	FITS[$c]=-
	args=$(cmd_args "$c")
	wins=0
	for ((step = RANDOM % STRIDE; step < 1000; step += STRIDE)); do
		if [ "$c" = init ]; then
			snap_load fresh
		else
			snap_load s2
			[ "$c" = export ] && echo stale >"$PEM"
		fi
		ev_mark
		free=$((step * PAGE))
		avail=$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')
		if [ "$avail" -gt "$free" ]; then
			fallocate -l $((avail - free)) "$MNT/filler"
		fi
		REPRO="rootkeeper $args with $free bytes free on a tmpfs"
		# shellcheck disable=SC2086 # the words of cmd_args
		rk $args
		STEPS[$c]=$((STEPS[$c] + 1))
		rm -f -- "$MNT/filler"
		name="$c with $free bytes free"
		if [ "$RC" -eq 0 ]; then
			want_done "$c" ||
			    inv_fail other "$name" "exit 0 but the result is not there"
			wins=$((wins + 1))
			[ "${FITS[$c]}" != - ] || FITS[$c]=$free
		else
			FAILED[$c]=$((FAILED[$c] + 1))
			wins=0
			[ "$RC" -eq 1 ] ||
			    inv_fail other "$name" "exit $RC, want 1 (or 0): $(head -n 1 "$T/err")"
			if grep -qiE 'space|full|disk' "$T/err"; then
				:
			else
				inv_fail events "$name" "the message does not name the full disk: $(head -n 1 "$T/err")"
			fi
		fi
		if [ "$c" = init ]; then
			inv "$name" nostore-ok || true
		else
			inv "$name" || true
		fi
		# Two successes in a row: everything fits from here on.
		[ "$wins" -lt 2 ] || break
	done
	part_end "$c on a full disk, every size step: exit 1 naming the disk, nothing lost"
done
REPRO=

summary="sizes tried (every $((STRIDE * PAGE)) bytes free):"
for c in init apply export; do
	summary+=" $c ${STEPS[$c]} (${FAILED[$c]} failed, fits from ${FITS[$c]} bytes)"
done
fault_summary diskfull "$summary"
finish
