#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Prints what rootkeeper costs, each figure next to a named reference measured
# in the same run, so that the ratio means something on a shared, noisy
# machine; it asserts no timing. Whole processes (wall time, and peak RSS from
# /usr/bin/time -v): `rootkeeper-sign verify` of a bundle of this machine's CA
# store against `openssl pkeyutl -verify` of the same signature over the same
# message; a device's idle poll (a 304) against the same conditional GET by
# curl; a device applying a new version (200, verify, store, export) against
# curl downloading it; `rootkeeper status` against `rootkeeper --version` (the
# same binary's start: loading its shared libraries). In process
# (tests/bench/bench_trust.c): librootkeeper's open, load into a wolfSSL
# context and refresh against wolfSSL_CTX_load_verify_buffer of the same PEM.
# Then the binaries' sizes. Each process figure is the median, min and max of
# BENCH_RUNS runs (default 9, at least 7) after one warm-up, subject and
# reference taking turns; wall times are read from bash's EPOCHREALTIME, which
# costs no process (date(1) would add one to every measurement). It installs
# what is missing (deps.sh --test), builds with build.sh in BUILD_DIR (default
# build/; -DRK_TESTS=ON -DRK_BENCH=ON), makes its data in a temp folder and
# serves it with a private nginx on 127.0.0.1 (tests/lib/nginx.sh), and
# removes both at exit. It does check that each measured command did what the
# figure claims (exit status, 304 or 200, the version applied).
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
cleanup()
{
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
build_dir=$(cd "$build_dir" && pwd)
SIGN=$build_dir/signing/rootkeeper-sign
RK=$build_dir/agent/rootkeeper
LIB=$(readlink -f "$build_dir/agent/librootkeeper.so.0")
BENCH_TRUST=$build_dir/tests/bench/bench_trust
CA_STORE=/etc/ssl/certs/ca-certificates.crt

# ---- measuring ------------------------------------------------------------

# Exit statuses a measured command may end with (a regex): status says
# "warning" with 1 when a root of the real CA store expires within 30 days.
OK_RC=0

# wall FILE CMD...: runs CMD, appends its wall time (microseconds) to FILE.
wall()
{
	local out=$1 t0 t1 rc=0
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>&1 || rc=$?
	t1=${EPOCHREALTIME/./}
	[[ $rc =~ ^($OK_RC)$ ]] || die "exit $rc from: $*"
	echo $((t1 - t0)) >>"$out"
}

# rss FILE CMD...: runs CMD under /usr/bin/time -v, appends its peak RSS
# (KiB) to FILE.
rss()
{
	local out=$1 rc=0 kb
	shift
	/usr/bin/time -v -o "$T/time.out" "$@" >/dev/null 2>&1 || rc=$?
	[[ $rc =~ ^($OK_RC)$ ]] || die "exit $rc from: $*"
	kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' \
	    "$T/time.out")
	[ -n "$kb" ] || die "no peak RSS from /usr/bin/time for: $*"
	echo "$kb" >>"$out"
}

# measure ID PREP: run 0 (the warm-up, not kept) and RUNS runs of the
# command in SUBJ and of the one in REF, taking turns, each once for wall
# time and once for peak RSS; PREP runs (untimed) before each run of SUBJ.
# Results in $T/ID.{subj,ref}.{wall,rss}.
measure()
{
	local id=$1 prep=$2 i d
	for ((i = 0; i <= RUNS; i++)); do
		d=$T/$id
		[ "$i" -gt 0 ] || d=$T/warmup
		"$prep"
		wall "$d.subj.wall" "${SUBJ[@]}"
		"$prep"
		rss "$d.subj.rss" "${SUBJ[@]}"
		wall "$d.ref.wall" "${REF[@]}"
		rss "$d.ref.rss" "${REF[@]}"
	done
}

# stats FILE: "median min max" of its numbers.
stats()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END {
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%s %s %s\n", m, v[1], v[NR] }'
}

row_fmt='%-37s %8s %8s %8s %-4s | %-31s %8s | %6s\n'

# row NAME UNIT DIVISOR DECIMALS REFNAME SUBJ_FILE REF_FILE
row()
{
	local name=$1 unit=$2 div=$3 dec=$4 refname=$5 s r
	s=$(stats "$6")
	r=$(stats "$7")
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

# rows ID NAME REFNAME: the wall-time and the peak-RSS rows of a figure.
rows()
{
	row "$2 (wall)" ms 1000 2 "$3" "$T/$1.subj.wall" "$T/$1.ref.wall"
	row "$2 (peak RSS)" MiB 1024 2 "$3" "$T/$1.subj.rss" "$T/$1.ref.rss"
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
for c in open load_wolfssl refresh; do
	case $c in
	open) name="5 rk_trust_open+close" ;;
	load_wolfssl) name="5 rk_trust_load_wolfssl" ;;
	refresh) name="5 rk_trust_refresh (no change)" ;;
	esac
	awk -v c="$c" -v f="$row_fmt" -v n="$name" -v ref="$ref" \
	    -v rn="wolfSSL_CTX_load_verify_buffer" '$1 == c {
	    printf f, n, sprintf("%.1f", $2), sprintf("%.1f", $3),
	        sprintf("%.1f", $4), "us", rn, sprintf("%.1f", ref),
	        ratio($2 / ref) }
	function ratio(q) { return sprintf(q < 0.1 ? "%.4fx" : "%.2fx", q) }' trust.out
done

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
echo "runs: $RUNS per figure after 1 warm-up (wall time and peak RSS in" \
    "separate runs; librootkeeper: $RUNS batches of ~100 ms after a" \
    "warm-up); ratio = median / reference median; timings are printed," \
    "never judged"
