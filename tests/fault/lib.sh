# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables set here are read by the suites
#
# Shared part of the fault campaign (tests/fault/*.sh): a device store
# provisioned from bundles signed here, snapshots of it to start each case
# from, and the invariant check run after every case.  The check reads the
# store with the sqlite3 CLI and judges it with rootkeeper-sign and
# openssl, never with the agent's own libraries:
#
#   - the store passes PRAGMA integrity_check and foreign_key_check;
#   - the active version is one complete version: its raw bundle hashes to
#     the stored SHA-256 and re-verifies with `rootkeeper-sign verify`;
#   - highest_version and time_floor never went down (against the last
#     check of this store), and are not below any stored version or
#     issued_at;
#   - the pinned keys are the next_keys of the highest stored rotation (or
#     the keys pinned at init), and every stored version above that
#     rotation verifies under them;
#   - after the next write command (`export --pem`) the exported PEM holds
#     exactly the certificates of the active bundle, and no temp file
#     (*.tmp.*, or a file named after the store that SQLite does not own)
#     is left beside the store or the export;
#   - when the case expects it, an event row names the failure.
#
# A broken invariant is a "not ok" line naming the case and how to
# reproduce it, and is counted in one of: corrupt (integrity, incomplete
# active version), lowered (highest version, time floor), leaked (temp
# files), keys, export, events, other.  fault_summary prints them.
#
# Long runs: RK_FAULT_LONG=1 multiplies the iteration counts (fault_n).

FAULT_DIR=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/common.sh
. "$FAULT_DIR/../e2e/common.sh"

F_CORRUPT=0
F_LOWERED=0
F_LEAKED=0
F_KEYS=0
F_EXPORT=0
F_EVENTS=0
F_OTHER=0
F_CASES=0
INV_BAD=0

# fault_n DEFAULT LONG: the iteration count of this run.
fault_n()
{
	if [ "${RK_FAULT_LONG:-0}" = 1 ]; then
		echo "$2"
	else
		echo "$1"
	fi
}

# fault_setup ROOTKEEPER ROOTKEEPER_SIGN: e2e_setup, then the device
# folders, a config and the operator keys k1 (pinned at init) and k2.
fault_setup()
{
	e2e_setup "$@"
	mkdir -p dev www cmp snap cache
	DB=$T/dev/store.db
	PEM=$T/dev/trust.pem
	CONF=$T/fault.conf
	CH=fault
	write_conf ""
	"$SIGN" keygen -o k1 >/dev/null
	"$SIGN" keygen -o k2 >/dev/null
	INIT_KEY_IDS=$(spki_id "$T/k1.pub")
	ALL_PUB_ARGS=(--pub "$T/k1.pub" --pub "$T/k2.pub")
	declare -gA VSHA=()
	for i in 1 2 3 4; do
		mk_ca "ca$i" "Fault Root $i"
	done
	INV_H=0
	INV_F=0
}

# write_conf [EXTRA LINES...] (empty ones skipped): the agent's config: every version kept (the
# key check needs the rotation bundles), the export beside the store.
write_conf()
{
	{
		echo "[agent]"
		echo "channel = $CH"
		echo "db = $DB"
		echo "export_pem = $PEM"
		echo "keep_versions = 100"
		echo "log_level = error"
		local l
		for l in "$@"; do
			[ -z "$l" ] || echo "$l"
		done
	} >"$CONF"
}

# rk ARGS...: the agent with the campaign's config (output as run()).
rk()
{
	run "$RK" --config "$CONF" --db "$DB" "$@"
}

# mkb NAME VERSION [create options...]: NAME.rkb of channel $CH, signed by
# k1 unless the options give keys, with a certificate set that depends on
# the version (so that the export changes with each).
mkb()
{
	local name=$1 ver=$2 keys=(--key k1.key) c
	shift 2
	for c in "$@"; do
		if [ "$c" = --key ]; then
			keys=()
			break
		fi
	done
	"$SIGN" create "${keys[@]}" --channel "$CH" --version "$ver" \
	    --certs ca1.pem --certs "ca$((ver % 3 + 2)).pem" "$@" \
	    -o "$name.rkb" >/dev/null
}

# q SQL: one query of the store (read-only; immutable when the folder
# cannot hold the -shm file).  Prints nothing and fails when it cannot.
q()
{
	if [ -w "$(dirname -- "$DB")" ]; then
		sqlite3 -batch -noheader "file:$DB?mode=ro" "$1" 2>/dev/null
	else
		sqlite3 -batch -noheader "file:$DB?immutable=1" "$1" 2>/dev/null
	fi
}

# snap_save NAME / snap_load NAME: the device folder (store and export)
# as it is now; loading resets the "never lower" baseline to it.
snap_save()
{
	rm -rf -- "$T/snap/$1"
	mkdir -p "$T/snap/$1"
	cp -a -- "$(dirname -- "$DB")/." "$T/snap/$1/"
}

snap_load()
{
	local dev
	dev=$(dirname -- "$DB")
	rm -rf -- "$dev"
	mkdir -p "$dev"
	cp -a -- "$T/snap/$1/." "$dev/"
	INV_H=$(q 'SELECT highest_version FROM state' || echo 0)
	INV_F=$(q 'SELECT time_floor FROM state' || echo 0)
}

# snap_starts: the starting points of a campaign, snapshot "fresh"
# (nothing) and "s2" (v1 the factory bundle, v2 active); a failed set-up
# ends the suite.
snap_starts()
{
	snap_save fresh
	rk init --pin k1.pub --bundle v1.rkb
	rk apply v2.rkb
	if [ "$RC" -ne 0 ]; then
		not_ok "set-up: apply v2 in $(dirname -- "$DB") (exit $RC)"
		finish
	fi
	snap_save s2
}

# inv_fail CLASS CASE TEXT: one broken invariant.
inv_fail()
{
	case $1 in
	corrupt) F_CORRUPT=$((F_CORRUPT + 1)) ;;
	lowered) F_LOWERED=$((F_LOWERED + 1)) ;;
	leaked) F_LEAKED=$((F_LEAKED + 1)) ;;
	keys) F_KEYS=$((F_KEYS + 1)) ;;
	export) F_EXPORT=$((F_EXPORT + 1)) ;;
	events) F_EVENTS=$((F_EVENTS + 1)) ;;
	*) F_OTHER=$((F_OTHER + 1)) ;;
	esac
	INV_BAD=$((INV_BAD + 1))
	not_ok "$2: $3${REPRO:+ [reproduce: $REPRO]}"
}

# raw_of VERSION OUT: the stored raw bundle of VERSION into OUT.
raw_of()
{
	rm -f -- "$2"
	q "SELECT writefile('$2', raw) FROM versions WHERE version = $1" \
	    >/dev/null || true
	[ -s "$2" ]
}

# inv CASE [OPTIONS]: checks every invariant of the store now.
#   nostore-ok   a missing store is fine (an init that was stopped)
#   nowrite      skip the write command and what depends on it
#   event=KINDS  an event of one of the kinds (|-separated) was recorded
#                after INV_EV (the largest event id before the case)
# Returns 0 when nothing broke.  What it learns of a bundle (by its
# SHA-256) or a key set is cached in $T/cache: it runs after every case.
inv()
{
	local name=$1 opt nostore=0 nowrite=0 want_ev='' row ic a h f mv mi thr
	local nkeys nev kinds want_sha v vsha rot_v want_keys keys x
	shift
	for opt in "$@"; do
		case $opt in
		nostore-ok) nostore=1 ;;
		nowrite) nowrite=1 ;;
		event=*) want_ev=${opt#event=} ;;
		esac
	done
	INV_BAD=0
	F_CASES=$((F_CASES + 1))
	if [ ! -e "$DB" ]; then
		if [ "$nostore" = 1 ]; then
			leftovers "$name"
			return "$INV_BAD"
		fi
		inv_fail corrupt "$name" "the store is gone"
		return 1
	fi
	ic=$(q 'PRAGMA integrity_check; PRAGMA foreign_key_check;' |
	    tr '\n' ' ' || true)
	if [ "$ic" != "ok " ]; then
		inv_fail corrupt "$name" "integrity_check: ${ic:-cannot open}"
		return 1
	fi
	kinds=${want_ev:-none}
	row=$(q "SELECT ifnull(active_version, 0), highest_version,
	    time_floor, threshold,
	    (SELECT ifnull(max(version), 0) FROM versions),
	    (SELECT ifnull(max(issued_at), 0) FROM versions),
	    (SELECT count(*) FROM keys),
	    (SELECT count(*) FROM events WHERE id > ${INV_EV:-0} AND
	     kind IN ('${kinds//|/\',\'}'))
	    FROM state" || true)
	IFS='|' read -r a h f thr mv mi nkeys nev <<<"$row"
	if [ -z "$a" ] || [ -z "$nev" ]; then
		inv_fail corrupt "$name" "no state row"
		return 1
	fi
	[ "$h" -ge "$INV_H" ] ||
	    inv_fail lowered "$name" "highest_version went down: $INV_H -> $h"
	[ "$f" -ge "$INV_F" ] ||
	    inv_fail lowered "$name" "time_floor went down: $INV_F -> $f"
	[ "$h" -ge "$mv" ] ||
	    inv_fail lowered "$name" "highest_version $h is below stored v$mv"
	[ "$f" -ge "$mi" ] ||
	    inv_fail lowered "$name" "time_floor $f is below a stored issued_at $mi"
	[ "$h" -gt "$INV_H" ] && INV_H=$h
	[ "$f" -gt "$INV_F" ] && INV_F=$f
	if [ -n "$want_ev" ] && [ "$nev" -eq 0 ]; then
		inv_fail events "$name" "no '$want_ev' event names the failure"
	fi
	if [ "$a" = 0 ]; then
		# Every store of the campaign is made with a factory bundle.
		inv_fail corrupt "$name" "a store with no active version (half provisioned: $nkeys keys, $mv versions)"
		[ "$nowrite" = 1 ] || inv_after_write "$name" 0
		return "$INV_BAD"
	fi
	# Every stored bundle: its hash, and its manifest (cached).
	rot_v=0
	want_sha=
	while IFS='|' read -r v vsha; do
		[ -n "$v" ] || continue
		if [ ! -s "$T/cache/$vsha.json" ]; then
			raw_of "$v" "$T/cache/v.rkb" || {
				inv_fail corrupt "$name" "v$v has no stored bundle"
				continue
			}
			x=$(sha_file "$T/cache/v.rkb")
			if [ "$x" != "$vsha" ]; then
				inv_fail corrupt "$name" "v$v: raw bundle hashes to $x, stored $vsha"
				continue
			fi
			mv -f -- "$T/cache/v.rkb" "$T/cache/$vsha.rkb"
			"$SIGN" inspect --json "$T/cache/$vsha.rkb" \
			    >"$T/cache/$vsha.json" 2>/dev/null || true
			if [ "$(jq -r .version "$T/cache/$vsha.json" 2>/dev/null)" != "$v" ]; then
				inv_fail corrupt "$name" "v$v holds another version's bundle"
				rm -f -- "$T/cache/$vsha.json"
				continue
			fi
			"$SIGN" verify "${ALL_PUB_ARGS[@]}" "$T/cache/$vsha.rkb" \
			    >/dev/null 2>&1 || {
				inv_fail corrupt "$name" "stored v$v does not verify"
				rm -f -- "$T/cache/$vsha.json"
				continue
			}
			jq -r '(.next_keys.key_ids // [])[]' \
			    "$T/cache/$vsha.json" | sort >"$T/cache/$vsha.keys"
		fi
		[ "$v" = "$a" ] && want_sha=$vsha
		if [ -s "$T/cache/$vsha.keys" ]; then
			rot_v=$v
			want_keys=$(cat -- "$T/cache/$vsha.keys")
		fi
		VSHA[$v]=$vsha
	done < <(q 'SELECT version, lower(hex(sha256)) FROM versions ORDER BY version')
	if [ -z "$want_sha" ] || [ ! -s "$T/cache/$want_sha.json" ]; then
		inv_fail corrupt "$name" "active v$a is not a complete verified version"
		return 1
	fi
	cp -- "$T/cache/$want_sha.json" "$T/cache/active.json"
	[ "$rot_v" != 0 ] || want_keys=$INIT_KEY_IDS
	keys=$(q 'SELECT lower(hex(key_id)) FROM keys ORDER BY 1')
	if [ "$keys" != "$want_keys" ]; then
		inv_fail keys "$name" "pinned keys are not those of the highest rotation (v$rot_v)"
	else
		# Every version above that rotation verifies under them.
		pinned_args "$keys"
		for v in $(q "SELECT version FROM versions WHERE version > $rot_v"); do
			x=${VSHA[$v]:-}
			if [ -z "$x" ] || [ ! -s "$T/cache/$x.rkb" ]; then
				continue
			fi
			[ -e "$T/cache/$x.ok-$thr-$PINS_TAG" ] && continue
			if "$SIGN" verify "${PIN_ARGS[@]}" --threshold "$thr" \
			    "$T/cache/$x.rkb" >/dev/null 2>&1; then
				: >"$T/cache/$x.ok-$thr-$PINS_TAG"
			else
				inv_fail keys "$name" "stored v$v (above rotation v$rot_v) does not verify under the pinned keys"
			fi
		done
	fi
	[ "$nowrite" = 1 ] || inv_after_write "$name" "$a"
	return "$INV_BAD"
}

# pinned_args KEY_IDS: PIN_ARGS (--pub FILE for each pinned key, as PEM
# made from the stored SPKI) and PINS_TAG (a name for the set).
pinned_args()
{
	local id
	PIN_ARGS=()
	PINS_TAG=$(printf '%s' "$1" | sha256sum | cut -c1-16)
	for id in $1; do
		if [ ! -s "$T/cache/pin-$id.pem" ]; then
			q "SELECT writefile('$T/cache/pin-$id.der', spki) FROM keys WHERE lower(hex(key_id)) = '$id'" >/dev/null
			openssl pkey -pubin -inform DER -in "$T/cache/pin-$id.der" \
			    -out "$T/cache/pin-$id.pem" 2>/dev/null || true
		fi
		PIN_ARGS+=(--pub "$T/cache/pin-$id.pem")
	done
}

# inv_after_write CASE ACTIVE: runs the next write command, then judges the
# export and the temp files.
inv_after_write()
{
	local name=$1 a=$2 got want
	rm -f -- "$T/cmp/out.pem"
	rk export --pem "$T/cmp/out.pem"
	if [ "$a" = 0 ]; then
		leftovers "$name"
		return 0
	fi
	if [ "$RC" -ne 0 ]; then
		inv_fail export "$name" "the next write command (export) failed: $(head -n 1 "$T/err")"
		return 0
	fi
	# The fingerprints of a PEM file are read once per content.
	got=$(sha_file "$PEM")
	if [ ! -e "$T/cache/pem-$got" ]; then
		pem_fps "$PEM" >"$T/cache/pem-$got"
	fi
	want=$(jq -r '.certs[].sha256' "$T/cache/active.json" | sort)
	[ "$(cat -- "$T/cache/pem-$got")" = "$want" ] ||
	    inv_fail export "$name" "after the next write command the export is not v$a's set"
	cmp -s -- "$PEM" "$T/cmp/out.pem" ||
	    inv_fail export "$name" "the export differs from export --pem"
	leftovers "$name"
}

# leftovers CASE: temp files beside the store or the export.  DB.lock and
# DB-poll are not: the daemon's lock file stays (the kernel drops the
# lock), and the poll file is what an unchanged poll leaves by design.
leftovers()
{
	local name=$1 base x found=()
	base=$(basename -- "$DB")
	for x in "$(dirname -- "$DB")"/* "$(dirname -- "$DB")"/.[!.]*; do
		[ -e "$x" ] || [ -L "$x" ] || continue
		case ${x##*/} in
		"$base" | "$base-wal" | "$base-shm" | "$base-journal" | "$base.lock" | \
		    "$base-poll") ;;
		*.tmp.* | "$base"* | .*) found+=("${x##*/}") ;;
		esac
	done
	if [ "$(dirname -- "$PEM")" != "$(dirname -- "$DB")" ]; then
		for x in "$(dirname -- "$PEM")"/*.tmp.*; do
			[ -e "$x" ] && found+=("${x##*/}")
		done
	fi
	if [ "${#found[@]}" -gt 0 ]; then
		inv_fail leaked "$name" "temp files left: ${found[*]}"
	fi
}

# ev_mark: remembers the newest event id (for inv event=...).
ev_mark()
{
	INV_EV=$(q 'SELECT ifnull(max(id), 0) FROM events' || echo 0)
}

# part_begin / part_end LABEL: "ok - LABEL" when nothing broke in between
# (the labels SECURITY.md names), else "not ok - LABEL".
part_begin()
{
	PART_MARK=$((F_CORRUPT + F_LOWERED + F_LEAKED + F_KEYS + F_EXPORT + F_EVENTS + F_OTHER))
}

part_end()
{
	if [ $((F_CORRUPT + F_LOWERED + F_LEAKED + F_KEYS + F_EXPORT + F_EVENTS + F_OTHER)) -eq "${PART_MARK:-0}" ]; then
		ok "$1"
	else
		not_ok "$1"
	fi
}

# fault_summary PART COUNTS: the part's last line, then one check of it.
fault_summary()
{
	local line="$1: $2; corrupt $F_CORRUPT, lowered floors $F_LOWERED, leaked temps $F_LEAKED, keys $F_KEYS, export $F_EXPORT, events $F_EVENTS, other $F_OTHER ($F_CASES invariant checks)"
	echo "$line"
	if [ $((F_CORRUPT + F_LOWERED + F_LEAKED + F_KEYS + F_EXPORT + F_EVENTS + F_OTHER)) -eq 0 ]; then
		ok "$1: every invariant held after every case"
	else
		not_ok "$1: invariants broke (see the lines above)"
	fi
}
