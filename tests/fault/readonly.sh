#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What the agent may not write, and files planted where it writes:
#   - the store's folder mounted read-only (a bind mount): status, list,
#     certs and events still answer; apply, check, rollback and export
#     exit 1 and leave the store's bytes as they were;
#   - the agent run as nobody (setpriv) on a store it may only read: the
#     same;
#   - the export folder mounted read-only: apply stores and activates,
#     exits 1 and records an error event naming the export; once the
#     folder is writable again the next write command repairs the export;
#   - a FIFO planted at the export path, and a FIFO given as the bundle:
#     refused, not waited on forever;
#   - a symlink planted at the export path: replaced, its target untouched.
# The invariants of lib.sh after every case.  Root is needed (mounts,
# setpriv): as another user the suite prints a SKIP line and exits 77.
#
# usage: readonly.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: fault_readonly needs root for read-only bind mounts and" \
	    "setpriv: the read-only store, read-only export, nobody reader," \
	    "FIFO and symlink cases were not run"
	exit 77
fi
fault_setup "$@"
MOUNTS=()
# shellcheck disable=SC2317 # the exit trap
unmount_then_cleanup()
{
	local rc=$? m
	for m in "${MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	(exit "$rc")
	e2e_cleanup
}
trap unmount_then_cleanup EXIT

# ro_mount DIR: DIR becomes a read-only view of itself.
ro_mount()
{
	mount --bind "$1" "$1"
	MOUNTS+=("$1")
	mount -o remount,bind,ro "$1"
}

ro_umount()
{
	umount "$1"
}

mkb v1 1
mkb v2 2
mkb v3 3
cp v3.rkb www/latest.rkb
rk init --pin k1.pub --bundle v1.rkb
rk apply v2.rkb
snap_save s2
chmod 755 "$T" "$T/dev"
chmod 644 "$DB" "$PEM"
READERS=0
WRITERS=0

# readers CASE [PREFIX...]: status, list, certs, events answer.
readers()
{
	local name=$1 c
	shift
	for c in status list certs events; do
		run "$@" "$RK" --config "$CONF" --db "$DB" "$c"
		READERS=$((READERS + 1))
		case $c:$RC in
		status:0 | status:1 | list:0 | certs:0 | events:0) ;;
		*) inv_fail other "$name" "$c exited $RC: $(head -n 1 "$T/err")" ;;
		esac
	done
}

# writers CASE [PREFIX...]: every write command exits 1 and the store's
# bytes stay as they were.
writers()
{
	local name=$1 c before
	shift
	before=$(sha_file "$DB")
	for c in "apply $T/v3.rkb" "check --url file://$T/www/latest.rkb" \
	    rollback "export --pem $PEM"; do
		# shellcheck disable=SC2086 # the words of c
		run timeout 30 "$@" "$RK" --config "$CONF" --db "$DB" $c
		WRITERS=$((WRITERS + 1))
		[ "$RC" = 1 ] ||
		    inv_fail other "$name" "${c%% *} exited $RC, want 1: $(head -n 1 "$T/err")"
		[ "$(sha_file "$DB")" = "$before" ] ||
		    inv_fail corrupt "$name" "${c%% *} changed the store"
	done
}

# ---- the store's folder read-only --------------------------------------
part_begin
snap_load s2
REPRO="mount --bind DEV DEV; mount -o remount,bind,ro DEV; rootkeeper apply/check/rollback/export"
ro_mount "$T/dev"
readers "read-only store folder"
writers "read-only store folder"
inv "read-only store folder" nowrite || true
ro_umount "$T/dev"
inv "read-only store folder, then writable" || true
part_end "read-only store folder: readers answer, writers exit 1, store unchanged"

# ---- nobody, who may only read the store -------------------------------
part_begin
snap_load s2
chmod 755 "$T/dev"
chmod 644 "$DB" "$PEM"
# A reader of the store must not need the -wal and -shm files.
REPRO="setpriv --reuid=nobody --regid=nogroup --clear-groups rootkeeper ..."
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
readers "nobody" "${NOBODY[@]}"
writers "nobody" "${NOBODY[@]}"
inv "nobody" || true
part_end "nobody on a store it may only read: readers answer, writers exit 1, store unchanged"

# ---- the export folder read-only ---------------------------------------
part_begin
snap_load s2
mkdir -p "$T/rox"
cp -- "$PEM" "$T/rox/trust.pem"
PEM=$T/rox/trust.pem
write_conf ""
ro_mount "$T/rox"
REPRO="export_pem in a read-only folder; rootkeeper apply v3.rkb"
ev_mark
rk apply v3.rkb
[ "$RC" = 1 ] ||
    inv_fail other "read-only export folder" "apply exited $RC, want 1 (stored but not exported)"
[ "$(q 'SELECT active_version FROM state')" = 3 ] ||
    inv_fail other "read-only export folder" "v3 was not stored and activated"
rk export --pem "$T/rox/other.pem"
[ "$RC" = 1 ] ||
    inv_fail other "read-only export folder" "export --pem into it exited $RC, want 1"
inv "read-only export folder" nowrite event=error || true
ro_umount "$T/rox"
inv "read-only export folder, then writable" || true
part_end "read-only export folder: the update is kept, exit 1, an error event, repaired later"
PEM=$T/dev/trust.pem
write_conf ""

# ---- planted FIFOs and symlinks ----------------------------------------
part_begin
snap_load s2
rm -f -- "$PEM"
mkfifo "$PEM"
REPRO="mkfifo trust.pem; rootkeeper apply v3.rkb"
run timeout 10 "$RK" --config "$CONF" --db "$DB" apply "$T/v3.rkb"
[ "$RC" != 124 ] ||
    inv_fail other "FIFO at the export path" "apply waited on the FIFO (killed after 10 s)"
rm -f -- "$PEM"
inv "FIFO at the export path" || true
part_end "a FIFO planted at the export path is not waited on"

part_begin
snap_load s2
mkfifo "$T/fifo.rkb"
REPRO="mkfifo fifo.rkb; rootkeeper apply fifo.rkb"
run timeout 10 "$RK" --config "$CONF" --db "$DB" apply "$T/fifo.rkb"
case $RC in
1 | 2 | 3) ;;
124) inv_fail other "FIFO as the bundle" "apply waited on the FIFO (killed after 10 s)" ;;
*) inv_fail other "FIFO as the bundle" "apply exited $RC" ;;
esac
inv "FIFO as the bundle" || true
part_end "a FIFO given as the bundle is refused, not waited on"

part_begin
snap_load s2
echo "not to be touched" >"$T/victim"
rm -f -- "$PEM"
ln -s "$T/victim" "$PEM"
REPRO="ln -s victim trust.pem; rootkeeper apply v3.rkb"
rk apply v3.rkb
[ "$(cat -- "$T/victim")" = "not to be touched" ] ||
    inv_fail other "symlink at the export path" "the symlink's target was written"
inv "symlink at the export path" || true
part_end "a symlink planted at the export path is replaced, its target untouched"
REPRO=

fault_summary readonly "$READERS reads and $WRITERS refused writes on a read-only store, a read-only export folder, 2 FIFOs, 1 symlink"
finish
