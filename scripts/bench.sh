#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Prints what rootkeeper costs, each figure next to a named reference measured
# in the same run, so that the ratio means something on a shared, noisy
# machine; it asserts no timing. Whole processes, run by tests/bench/bench_run
# (wall time, and user + system CPU time from wait4, to the microsecond; in
# separate runs, the peak RSS and the peak Private_Dirty sampled from
# /proc/PID/smaps_rollup): `rootkeeper-sign verify` of a bundle of this
# machine's CA store against `openssl pkeyutl -verify` of the same signature;
# a device's idle poll (a 304) against the same conditional GET by curl; a
# device fetching and applying a new version against curl downloading it;
# `rootkeeper apply` of a new version of the same roots against
# `update-ca-certificates --fresh` rebuilding a private copy of this machine's
# store (its --certsconf, --certsdir, --localcertsdir, --etccertsdir and
# --hooksdir options point it at a temp folder: the system's store is never
# touched); apply at 16, 139 and 1024 roots (the 1024: this machine's roots
# and synthetic P-256 ones), which must stay linear; `rootkeeper status`
# against `rootkeeper --version` (the same binary's start). A `run` daemon
# polling every second: the syncs one idle poll makes (strace -f of the
# daemon, counted between two polls), the CPU time it spends on one
# (/proc/PID/task/*/schedstat) and its Private_Dirty. In process
# (tests/bench/bench_trust.c): librootkeeper's open, load into a wolfSSL
# context and refresh against wolfSSL_CTX_load_verify_buffer of the same PEM
# and against the DER floor (the same certificates loaded as DER). Then the
# binaries' sizes, and a summary of each figure with its goal, also written as
# JSON to BUILD_DIR/bench.json. Each process figure is the median, min and max
# of BENCH_RUNS runs (default 9, at least 7) after one warm-up, subject and
# reference taking turns. It installs what is missing (deps.sh --test), builds
# with build.sh in BUILD_DIR (default build/; -DRK_TESTS=ON -DRK_BENCH=ON),
# makes its data in a temp folder and serves it with a private nginx on
# 127.0.0.1 (tests/lib/nginx.sh), and removes both at exit. It does check that
# each measured command did what the figure claims (exit status, 304 or 200,
# the version applied, the number of roots).
set -euo pipefail

usage()
{
	echo "usage: $0 [BUILD_DIR]   (BENCH_RUNS=N, N >= 7, default 9)" >&2
	exit 2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$root/build"
case $# in
0) ;;
1)
	[ "${1#-}" = "$1" ] || usage
	build_dir=$1
	;;
*) usage ;;
esac
RUNS=${BENCH_RUNS:-9}
case $RUNS in
'' | *[!0-9]*) usage ;;
esac
[ "$RUNS" -ge 7 ] || usage
if [ -z "${EPOCHREALTIME:-}" ]; then
	echo "bench.sh: needs bash 5 (EPOCHREALTIME)" >&2
	exit 1
fi
export LC_ALL=C TZ=UTC
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# rkb_parse, rkb_message, rkb_sig: the bundle layout read with od alone.
# shellcheck source-path=SCRIPTDIR/.. source=tests/cli/lib.sh disable=SC1091
. "$root/tests/cli/lib.sh"
# shellcheck source=tests/lib/nginx.sh disable=SC1091
. "$root/tests/lib/nginx.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench.XXXXXX")
DAEMON_PID=
cleanup()
{
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	nginx_stop
	rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die()
{
	echo "bench.sh: $*" >&2
	exit 1
}

"$root/scripts/deps.sh" --test
if grep -qs '^RK_SANITIZE:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
	die "$build_dir is a sanitizer build; give another BUILD_DIR"
fi
echo "bench.sh: building in $build_dir" >&2
if ! "$root/scripts/build.sh" "$build_dir" -DRK_TESTS=ON -DRK_BENCH=ON \
    >"$T/build.log" 2>&1; then
	tail -n 40 "$T/build.log" >&2
	die "the build failed"
fi
# A binary whose pages the kernel has not written back yet counts them as
# Private_Dirty in every process that maps it (about 100 KiB per binary):
# written back, as on a device, they are clean and shared.
sync
build_dir=$(cd "$build_dir" && pwd)
SIGN=$build_dir/signing/rootkeeper-sign
RK=$build_dir/agent/rootkeeper
LIB=$(readlink -f "$build_dir/agent/librootkeeper.so.0")
BENCH_TRUST=$build_dir/tests/bench/bench_trust
BENCH_RUN=$build_dir/tests/bench/bench_run
CA_STORE=/etc/ssl/certs/ca-certificates.crt

# ---- measuring ------------------------------------------------------------

# Exit statuses a measured command may end with (a regex): status says
# "warning" with 1 when a root of the real CA store expires within 30 days.
OK_RC=0

# run1 PREFIX [-m] CMD...: runs CMD under bench_run and appends its wall
# time and CPU time (microseconds) to PREFIX.wall and PREFIX.cpu, or with -m
# its peak RSS and sampled peak Private_Dirty (KiB) to PREFIX.rss and
# PREFIX.pd.
run1()
{
	local out=$1 m=() rc=0 w c r p
	shift
	if [ "$1" = -m ]; then
		m=(-m)
		shift
	fi
	: >"$T/run1.line"
	"$BENCH_RUN" "${m[@]}" "$T/run1.line" "$@" || rc=$?
	[[ $rc =~ ^($OK_RC)$ ]] || die "exit $rc from: $*"
	read -r w c r p <"$T/run1.line" || die "no figures from bench_run: $*"
	if [ ${#m[@]} -eq 0 ]; then
		echo "$w" >>"$out.wall"
		echo "$c" >>"$out.cpu"
	else
		echo "$r" >>"$out.rss"
		echo "$p" >>"$out.pd"
	fi
}

# measure ID PREP: run 0 (the warm-up, not kept) and RUNS runs of the
# command in SUBJ and of the one in REF (none when REF is empty), taking
# turns, each once timed and once sampled for memory; PREP runs (untimed)
# before each run of SUBJ. Results in $T/ID.{subj,ref}.{wall,cpu,rss,pd}.
measure()
{
	local id=$1 prep=$2 i d
	for ((i = 0; i <= RUNS; i++)); do
		d=$T/$id
		[ "$i" -gt 0 ] || d=$T/warmup
		"$prep"
		run1 "$d.subj" "${SUBJ[@]}"
		"$prep"
		run1 "$d.subj" -m "${SUBJ[@]}"
		if [ ${#REF[@]} -gt 0 ]; then
			run1 "$d.ref" "${REF[@]}"
			run1 "$d.ref" -m "${REF[@]}"
		fi
	done
}

# median FILE: the median of its numbers.
median()
{
	stats "$1" | cut -d ' ' -f 1
}

# stats FILE: "median min max" of its numbers.
stats()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END {
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%s %s %s\n", m, v[1], v[NR] }'
}

row_fmt='%-42s %8s %8s %8s %-4s | %-31s %8s | %6s\n'

# row NAME UNIT DIVISOR DECIMALS REFNAME SUBJ_FILE REF_FILE
row()
{
	local name=$1 unit=$2 div=$3 dec=$4 refname=$5 s r
	s=$(stats "$6")
	r="0 0 0"
	[ ! -f "$7" ] || r=$(stats "$7")
	awk -v f="$row_fmt" -v n="$name" -v u="$unit" -v d="$div" \
	    -v p="$dec" -v rn="$refname" -v r="$r" -v s="$s" 'BEGIN {
	    split(s, a, " "); split(r, b, " ")
	    x = "%." p "f"
	    # Not inside printf: there ">" would be a redirection.
	    q = b[1] > 0 ? ratio(a[1] / b[1]) : "-"
	    printf f, n, sprintf(x, a[1] / d), sprintf(x, a[2] / d),
	        sprintf(x, a[3] / d), u, rn, sprintf(x, b[1] / d), q }
	function ratio(q) { return sprintf(q < 0.1 ? "%.4fx" : "%.2fx", q) }'
}

# rows ID NAME REFNAME: the wall-time, CPU-time, peak-RSS and
# Private_Dirty rows of a figure.
rows()
{
	row "$2 (wall)" ms 1000 2 "$3" "$T/$1.subj.wall" "$T/$1.ref.wall"
	row "$2 (CPU)" ms 1000 2 "$3" "$T/$1.subj.cpu" "$T/$1.ref.cpu"
	row "$2 (peak RSS)" MiB 1024 2 "$3" "$T/$1.subj.rss" "$T/$1.ref.rss"
	row "$2 (Private_Dirty)" MiB 1024 2 "$3" "$T/$1.subj.pd" "$T/$1.ref.pd"
}

no_prep()
{
	:
}

# lines_in FILE: its line count (0 when missing).
lines_in()
{
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# log_statuses FROM: the HTTP statuses nginx logged after line FROM, sorted
# and counted ("304 40").
log_statuses()
{
	tail -n +"$(($1 + 1))" "$NGINX_ACCESS_LOG" | awk '{ print $(NF - 2) }' |
	    sort | uniq -c | awk '{ printf "%s %s\n", $2, $1 }'
}

# ---- data -------------------------------------------------------------------

echo "bench.sh: making the data" >&2
cd "$T"
"$SIGN" keygen -o op >/dev/null
# Versions 2.. are published one per run of figure 3 (twice per run: wall
# time and peak RSS), the warm-up included.
last=$((2 * (RUNS + 1) + 1))
for ((v = 1; v <= last; v++)); do
	"$SIGN" create --key op.key --channel bench --version "$v" \
	    --certs "$CA_STORE" -o "v$v.rkb" >/dev/null 2>&1 ||
	    die "rootkeeper-sign create of version $v failed"
done
ncerts=$(grep -c 'BEGIN CERTIFICATE' "$CA_STORE")
rkb_parse v1.rkb || die "v1.rkb: cannot parse its layout"
n139=$RKB_NCERTS

# The sets of the apply figures: the first 16 of this machine's roots (kept
# if expired), its unexpired ones (v*.rkb), and those plus synthetic P-256
# roots up to 1024 (this machine has fewer). Each size has its own device
# and versions 1..last.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out synth.key 2>/dev/null || die "openssl genpkey failed"
: >synth.pem
for ((i = n139; i < 1024; i++)); do
	openssl req -x509 -new -key synth.key -sha256 -days 3650 \
	    -subj "/O=rootkeeper bench/CN=Synthetic Root $i" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null \
	    >>synth.pem || die "openssl req failed"
done
awk '/BEGIN CERTIFICATE/ { n++ } n >= 1 && n <= 16 { print }
    /END CERTIFICATE/ && n == 16 { exit }' "$CA_STORE" >first.pem
for size in 16 1024; do
	case $size in
	16) certs=(--certs first.pem --keep-expired) ;;
	1024) certs=(--certs "$CA_STORE" --certs synth.pem) ;;
	esac
	for ((v = 1; v <= last; v++)); do
		"$SIGN" create --key op.key --channel bench --version "$v" \
		    "${certs[@]}" -o "s${size}v$v.rkb" >/dev/null 2>&1 ||
		    die "rootkeeper-sign create of $size roots failed"
	done
	rkb_parse "s${size}v1.rkb" ||
	    die "s${size}v1.rkb: cannot parse its layout"
	[ "$RKB_NCERTS" = "$size" ] ||
	    die "the $size-root bundle has $RKB_NCERTS roots"
done
for v in $(seq 1 "$last"); do
	ln -s "v$v.rkb" "s139v$v.rkb"
done
rkb_parse v1.rkb
rkb_message v1.rkb v1.msg
rkb_sig v1.rkb 0 v1.sig
openssl pkeyutl -verify -pubin -inkey op.pub -rawin -in v1.msg \
    -sigfile v1.sig >/dev/null 2>&1 ||
    die "openssl does not accept the signature of v1.rkb"

mkdir www dev
"$SIGN" publish v1.rkb --to www >/dev/null
mtime=$(($(date +%s) - 100000))
touch -d "@$mtime" www/bench/latest.rkb
nginx_start www || die "nginx did not start"
URL=$NGINX_URL/bench/latest.rkb
: >empty.conf
DEV=("$RK" --config "$T/empty.conf" --db "$T/dev/store.db")
"${DEV[@]}" init --pin op.pub --bundle v1.rkb >/dev/null 2>&1 ||
    die "rootkeeper init failed"
# The device's first poll finds the factory version and keeps its ETag.
"${DEV[@]}" check --url "$URL" >/dev/null 2>&1 ||
    die "rootkeeper's first check failed"
etag=$(curl -sI "$URL" | tr -d '\r' |
    sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
[ -n "$etag" ] || die "nginx sent no ETag"

# ---- process figures --------------------------------------------------------

echo "bench.sh: 1/5 verify" >&2
SUBJ=("$SIGN" verify --pub op.pub v1.rkb)
REF=(openssl pkeyutl -verify -pubin -inkey op.pub -rawin -in v1.msg
	-sigfile v1.sig)
measure verify no_prep

echo "bench.sh: 2/5 idle poll" >&2
from=$(lines_in "$NGINX_ACCESS_LOG")
SUBJ=("${DEV[@]}" check --url "$URL")
REF=(curl -s -o /dev/null -H "If-None-Match: $etag" "$URL")
measure poll no_prep
got=$(log_statuses "$from")
[ "$got" = "304 $((4 * (RUNS + 1)))" ] ||
    die "the idle polls were not all 304s: $got"

echo "bench.sh: idle daemon" >&2
POLLS=${BENCH_POLLS:-10}
printf '[agent]\nurl = %s\ninterval = 1s\njitter = 0\n' "$URL" >daemon.conf
DAEMON=("$RK" --config "$T/daemon.conf" --db "$T/dev/store.db" run)

# wait_requests N: waits until nginx has logged N requests after $from.
wait_requests()
{
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(($(lines_in "$NGINX_ACCESS_LOG") - from))" -lt "$1" ] ||
		    return 0
		sleep 0.05
	done
	die "the daemon made fewer than $1 requests in 30 s"
}

# cpu_ns PID: the CPU time of all of PID's threads so far (nanoseconds).
cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'
}

# daemon_window PREFIX TRACE: starts the daemon (under strace -f when TRACE
# is 1) and, from 0.4 s after its 2nd request to 0.4 s after its
# (2 + POLLS)th (each poll done, the next 0.6 s away), records the window's
# times in PREFIX.t and, when untraced, its CPU time and last Private_Dirty
# in PREFIX.cpu and PREFIX.pd; then stops it.
daemon_window()
{
	local pfx=$1 trace=$2 pid t1 t2 c1=0 c2 i
	from=$(lines_in "$NGINX_ACCESS_LOG")
	if [ "$trace" = 1 ]; then
		strace -f -qq -ttt -o "$T/strace.out" -e \
		    trace=fsync,fdatasync,ftruncate,sync_file_range,syncfs,msync,sync \
		    "${DAEMON[@]}" 2>"$T/daemon.log" &
	else
		"${DAEMON[@]}" 2>"$T/daemon.log" &
	fi
	DAEMON_PID=$!
	wait_requests 2
	sleep 0.4
	pid=$(sed -n 's/^rootkeeper\[\([0-9]*\)\]: info: started.*/\1/p' \
	    "$T/daemon.log" | head -n 1)
	[ -n "$pid" ] || die "the daemon did not log its start"
	t1=$EPOCHREALTIME
	[ "$trace" = 1 ] || c1=$(cpu_ns "$pid")
	wait_requests $((2 + POLLS))
	sleep 0.4
	t2=$EPOCHREALTIME
	if [ "$trace" != 1 ]; then
		c2=$(cpu_ns "$pid")
		echo $((c2 - c1)) >"$pfx.cpu"
		awk '$1 == "Private_Dirty:" { print $2 }' \
		    /proc/"$pid"/smaps_rollup >"$pfx.pd"
	fi
	echo "$t1 $t2" >"$pfx.t"
	kill "$pid"
	wait "$DAEMON_PID" || die "the daemon did not exit cleanly"
	DAEMON_PID=
	got=$(log_statuses "$from" | grep -v '^304 ' || true)
	[ -z "$got" ] || die "the daemon's polls were not all 304s: $got"
}
daemon_window "$T/daemon" 0
daemon_window "$T/daemon.trace" 1
read -r t1 t2 <"$T/daemon.trace.t"
# The calls of the window, by name; an interrupted call's "resumed" half is
# not counted again.
awk -v a="$t1" -v b="$t2" '$2 >= a && $2 < b && !/resumed>/ {
    n[substr($3, 1, index($3, "(") - 1)]++ }
    END { for (k in n) print k, n[k] }' "$T/strace.out" | sort >syncs.out
syncs=$(awk '{ s += $2 } END { print s + 0 }' syncs.out)

echo "bench.sh: 3/5 apply" >&2
next=2
publish_next()
{
	"$SIGN" publish "v$next.rkb" --to www >/dev/null
	# Bundles of equal size published within a second would share
	# nginx's ETag (mtime-size) and be taken for the old one.
	touch -d "@$((mtime + next))" www/bench/latest.rkb
	next=$((next + 1))
}
from=$(lines_in "$NGINX_ACCESS_LOG")
SUBJ=("${DEV[@]}" check --url "$URL")
REF=(curl -s -o "$T/out.rkb" "$URL")
measure apply publish_next
got=$(log_statuses "$from")
[ "$got" = "200 $((4 * (RUNS + 1)))" ] ||
    die "the downloads were not all 200s: $got"
active=$("${DEV[@]}" list | awk '$2 == "active" { print $1 }')
[ "$active" = "$last" ] ||
    die "the device's active version is '$active', not $last"

echo "bench.sh: 4/5 status" >&2
OK_RC='0|1'
SUBJ=("${DEV[@]}" status)
REF=("$RK" --version)
measure status no_prep
OK_RC=0

echo "bench.sh: apply from a file, and update-ca-certificates" >&2
# update-ca-certificates on a private copy of this machine's store.
mkdir uca uca/etc uca/hooks uca/local
cp -R /usr/share/ca-certificates uca/share
cp /etc/ca-certificates.conf uca/certs.conf
if [ -d /usr/local/share/ca-certificates ]; then
	cp -R /usr/local/share/ca-certificates/. uca/local/
fi
UCA=(update-ca-certificates --fresh --certsconf "$T/uca/certs.conf"
	--certsdir "$T/uca/share" --localcertsdir "$T/uca/local"
	--etccertsdir "$T/uca/etc" --hooksdir "$T/uca/hooks")
for size in 16 139 1024; do
	mkdir "dev$size"
	"$RK" --config "$T/empty.conf" --db "$T/dev$size/store.db" init \
	    --pin op.pub --bundle "s${size}v1.rkb" >/dev/null 2>&1 ||
	    die "rootkeeper init of $size roots failed"
done
# apply_prep: the command of the next run, applying the next version to
# the device of asize roots.
apply_prep()
{
	SUBJ=("$RK" --config "$T/empty.conf" --db "$T/dev$asize/store.db"
		apply "$T/s${asize}v$anext.rkb")
	anext=$((anext + 1))
}
for asize in 139 16 1024; do
	anext=2
	REF=()
	[ "$asize" != 139 ] || REF=("${UCA[@]}")
	measure "apply$asize" apply_prep
	active=$("$RK" --config "$T/empty.conf" --db "$T/dev$asize/store.db" \
	    list | awk '$2 == "active" { print $1 }')
	[ "$active" = "$last" ] ||
	    die "the $asize-root device's active version is '$active'"
done
uca_n=$(grep -c 'BEGIN CERTIFICATE' uca/etc/ca-certificates.crt)

echo "bench.sh: 5/5 librootkeeper" >&2
"$BENCH_TRUST" "$T/dev/store.db" "$RUNS" >trust.out ||
    die "bench_trust failed"

# ---- report -----------------------------------------------------------------

echo
echo "rootkeeper benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
    "$(uname -srm), $(nproc) CPUs:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "bundle: $CA_STORE ($ncerts certificates, $(stat -c %s "$CA_STORE")" \
    "bytes) as v1.rkb: $RKB_NCERTS" \
    "certificates, $(stat -c %s v1.rkb) bytes, Ed25519; served by nginx" \
    "on 127.0.0.1"
echo "references: $(openssl version | cut -d ' ' -f 1-2)," \
    "$(curl --version | head -n 1 | cut -d ' ' -f 1-2)," \
    "wolfSSL $(pkg-config --modversion wolfssl)"
echo
# shellcheck disable=SC2059 # the format is ours
printf "$row_fmt" figure median min max unit reference median ratio
rows verify "1 verify bundle" "openssl pkeyutl -verify -rawin"
rows poll "2 idle poll (304)" "curl If-None-Match (304)"
rows apply "3 apply new version (200)" "curl download (200)"
rows status "4 rootkeeper status" "rootkeeper --version"
ref=$(awk '$1 == "ref_load_verify_buffer" { print $2 }' trust.out)
for c in open load_wolfssl open_load_wolfssl refresh ref_load_der; do
	case $c in
	open) name="5 rk_trust_open+close" ;;
	load_wolfssl) name="5 rk_trust_load_wolfssl" ;;
	open_load_wolfssl) name="5 open+load_wolfssl+close" ;;
	refresh) name="5 rk_trust_refresh (no change)" ;;
	ref_load_der) name="5 DER floor: load_verify_buffer_ex" ;;
	esac
	awk -v c="$c" -v f="$row_fmt" -v n="$name" -v ref="$ref" \
	    -v rn="wolfSSL_CTX_load_verify_buffer" '$1 == c {
	    printf f, n, sprintf("%.1f", $2), sprintf("%.1f", $3),
	        sprintf("%.1f", $4), "us", rn, sprintf("%.1f", ref),
	        ratio($2 / ref) }
	function ratio(q) { return sprintf(q < 0.1 ? "%.4fx" : "%.2fx", q) }' trust.out
done
rows apply139 "6 apply file, $n139 roots" "update-ca-certs --fresh"
rows apply16 "7 apply file, 16 roots" "-"
rows apply1024 "7 apply file, 1024 roots" "-"

echo
echo "sizes in bytes (text, data, bss from size(1); the file as built," \
    "RelWithDebInfo, and a copy through strip(1)):"
size_fmt='%-22s %9s %8s %8s %10s %10s   %s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$size_fmt" binary text data bss bytes stripped \
    "shared libraries loaded (ldd)"
mkdir stripped
for f in "$RK" "$SIGN" "$LIB"; do
	b=$(basename "$f")
	strip -o "stripped/$b" "$f"
	read -r text data bss _ < <(size "$f" | tail -n 1)
	# The closure of shared libraries, each file counted once.
	deps=$(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
	    xargs -r readlink -f | sort -u)
	ndeps=$(printf '%s\n' "$deps" | grep -c . || true)
	kdeps=$(printf '%s\n' "$deps" | grep . | xargs -r stat -L -c %s |
	    awk '{ s += $1 } END { printf "%d", s / 1024 }')
	# shellcheck disable=SC2059 # the format is ours
	printf "$size_fmt" "$b" "$text" "$data" \
	    "$bss" "$(stat -c %s "$f")" "$(stat -c %s "stripped/$b")" \
	    "$ndeps, $kdeps KiB"
done
echo
echo "runs: $RUNS per figure after 1 warm-up (wall and CPU time in one run," \
    "peak RSS and Private_Dirty in another; librootkeeper: $RUNS batches of" \
    "~100 ms after a warm-up; the daemon: $POLLS polls, 1 s apart);" \
    "ratio = median / reference median; timings are printed, never judged"

# ---- goals ------------------------------------------------------------------

# trust FIELD CASE: a field (2: median) of bench_trust's line for CASE.
trust()
{
	awk -v c="$2" -v f="$1" '$1 == c { print $f }' trust.out
}

# div A B: A / B, or 0 when B is 0.
div()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6g\n", b != 0 ? a / b : 0 }'
}

json=()
goal_fmt='%-46s %10s %-8s %-14s %s\n'
# goal KEY TEXT VALUE UNIT OP TARGET: prints a figure with its goal (OP is
# le or ge) and whether it is met, and keeps it for bench.json.
goal()
{
	local met
	met=$(awk -v v="$3" -v t="$6" -v op="$5" 'BEGIN {
	    print (op == "le" ? v <= t : v >= t) ? "true" : "false" }')
	# shellcheck disable=SC2059 # the format is ours
	printf "$goal_fmt" "$2" "$(printf '%.3g' "$3")" "$4" \
	    "goal $([ "$5" = le ] && echo '<=' || echo '>=') $6" \
	    "$([ "$met" = true ] && echo met || echo 'NOT met')"
	json+=("$(printf '"%s": {"what": "%s", "value": %s, "unit": "%s", "goal": "%s %s", "met": %s}' \
	    "$1" "$2" "$(printf '%.6g' "$3")" "$4" "$5" "$6" "$met")")
}

a139_wall=$(median "$T/apply139.subj.wall")
a139_cpu=$(median "$T/apply139.subj.cpu")
uca_wall=$(median "$T/apply139.ref.wall")
load=$(trust 2 load_wolfssl)
open_load=$(trust 2 open_load_wolfssl)
pem=$(trust 2 ref_load_verify_buffer)
der=$(trust 2 ref_load_der)
poll_cpu=$(median "$T/poll.subj.cpu")
curl_cpu=$(median "$T/poll.ref.cpu")
d_cpu=$(cat "$T/daemon.cpu")
d_pd=$(cat "$T/daemon.pd")
a16_cpu=$(median "$T/apply16.subj.cpu")
a1024_cpu=$(median "$T/apply1024.subj.cpu")
# The marginal CPU time of a root, between two sizes (microseconds).
low=$(div "$((a139_cpu - a16_cpu))" "$((n139 - 16))")
high=$(div "$((a1024_cpu - a139_cpu))" "$((1024 - n139))")

echo
echo "goals (medians; ratios to references of this run):"
goal apply_wall_ms "apply of a new $n139-root version, wall" \
    "$(div "$a139_wall" 1000)" ms le 15
goal apply_cpu_ms "apply of a new $n139-root version, CPU" \
    "$(div "$a139_cpu" 1000)" ms le 15
goal apply_vs_update_ca_certificates \
    "update-ca-certificates --fresh ($uca_n) / apply, wall" \
    "$(div "$uca_wall" "$a139_wall")" x ge 100
goal trust_load_vs_pem "rk_trust_load_wolfssl / PEM load" \
    "$(div "$load" "$pem")" x le 0.6
goal trust_load_vs_der "rk_trust_load_wolfssl / DER floor" \
    "$(div "$load" "$der")" x le 1.1
goal trust_open_load_vs_pem "rk_trust_open + load (first ctx) / PEM load" \
    "$(div "$open_load" "$pem")" x le 1
goal idle_check_cpu_vs_curl "idle check (304) / curl conditional GET, CPU" \
    "$(div "$poll_cpu" "$curl_cpu")" x le 1.2
goal idle_poll_cpu_ms "one idle poll inside run, CPU" \
    "$(div "$d_cpu" "$((POLLS * 1000000))")" ms le 1.5
goal idle_poll_syncs "one idle poll inside run, syncs+truncates" \
    "$(div "$syncs" "$POLLS")" calls le 0
goal apply_private_dirty_139 "apply, $n139 roots, Private_Dirty" \
    "$(div "$(median "$T/apply139.subj.pd")" 1024)" MiB le 4
goal apply_private_dirty_1024 "apply, 1024 roots, Private_Dirty" \
    "$(div "$(median "$T/apply1024.subj.pd")" 1024)" MiB le 4
goal idle_private_dirty "idle daemon, Private_Dirty" \
    "$(div "$d_pd" 1024)" MiB le 1.5
goal apply_linear "apply, CPU per root $n139..1024 / 16..$n139" \
    "$(div "$high" "$low")" x le 1.25
echo "apply CPU: $(div "$a16_cpu" 1000) ms at 16 roots," \
    "$(div "$a139_cpu" 1000) ms at $n139, $(div "$a1024_cpu" 1000) ms at" \
    "1024; per root: $(printf '%.0f' "$low") us from 16 to $n139," \
    "$(printf '%.0f' "$high") us from $n139 to 1024 (synthetic P-256 roots)"
echo "idle poll syscalls in $POLLS polls (strace -f):" \
    "$(tr '\n' ' ' <syncs.out)"
{
	printf '{"date": "%s", "runs": %s, "polls": %s, "figures": {\n' \
	    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$RUNS" "$POLLS"
	for ((i = 0; i < ${#json[@]}; i++)); do
		printf '  %s%s\n' "${json[i]}" \
		    "$([ "$i" -lt $((${#json[@]} - 1)) ] && echo ,)"
	done
	printf '}}\n'
} >"$build_dir/bench.json"
echo "written: $build_dir/bench.json"
