# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables set here are read by the suites
#
# Shared helpers of the device agent's end-to-end suites (tests/e2e/*.sh).
# They build on tests/cli/lib.sh (the ok/not_ok/check/expect_exit/finish
# lines, run(), the test PKI of mk_ca) and tests/lib/nginx.sh (a private
# nginx on 127.0.0.1), and add what every e2e suite needs: both binaries,
# one exit trap that stops the daemons and nginx before the temp folder
# goes, a way to serve a file as latest.rkb with validators of its own,
# the certificates of a PEM file as a sorted list of fingerprints, and
# readers of the agent's JSON and of nginx's access log.  Everything the
# suites assert comes from the agent's command line, openssl, jq and
# nginx's log: never from the code under test's libraries.
#
# Source it, then call e2e_setup "$@" (rootkeeper, then rootkeeper-sign).

E2E_DIR=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$E2E_DIR/../cli/lib.sh"
# shellcheck source=../lib/nginx.sh
. "$E2E_DIR/../lib/nginx.sh"

E2E_PIDS=()
E2E_MTIME=0

# Stops what the suite started (daemons first: they talk to nginx), then
# lets lib.sh count and remove the temp folder.
e2e_cleanup()
{
	local rc=$? p
	set +e
	for p in "${E2E_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	nginx_stop
	(exit "$rc")
	rk_cleanup
}

# asan_opt NAME VALUE: adds NAME=VALUE to ASAN_OPTIONS unless the caller
# set NAME there.
asan_opt()
{
	case :${ASAN_OPTIONS:-}: in
	*":$1="*) ;;
	*) export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}$1=$2 ;;
	esac
}

# e2e_setup ROOTKEEPER ROOTKEEPER_SIGN: sets RK, SIGN, T (the temp folder,
# the current directory from now on) and the exit trap.
e2e_setup()
{
	if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
		echo "usage: $0 PATH/TO/rootkeeper PATH/TO/rootkeeper-sign" >&2
		exit 2
	fi
	rk_setup "$1"
	RK=$BIN
	SIGN=$(emu_wrap "$(readlink -f -- "$2")" "$T")
	trap e2e_cleanup EXIT
	# libfaketime comes before the ASan runtime in LD_PRELOAD.  And
	# ASan's allocator reads the monotonic clock when it maps a region
	# (to time its release of memory to the OS): with libfaketime that
	# call can be libfaketime's first, whose lazy dlsym() mallocs inside
	# the allocator's lock, a deadlock.  Without the release timer that
	# call is never made.
	asan_opt verify_asan_link_order 0
	asan_opt allocator_release_to_os_interval_ms -1
	# No proxy may stand between the agent and the private nginx.
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	# Files the unprivileged checks must be able to read.
	umask 022
	E2E_MTIME=$(($(date +%s) - 100000))
	cd "$T" || exit 1
}

# serve SRC DOCROOT_FILE: copies SRC over DOCROOT_FILE (atomic rename) with
# an mtime of its own.  nginx's ETag is mtime and size: two bundles of one
# size replaced within a second would otherwise share a validator and the
# second would be answered 304.
serve()
{
	local dst=$2
	E2E_MTIME=$((E2E_MTIME + 10))
	cp -- "$1" "$dst.tmp"
	touch -d "@$E2E_MTIME" -- "$dst.tmp"
	mv -f -- "$dst.tmp" "$dst"
}

# publish RKB DOCROOT: rootkeeper-sign publish, then a fresh mtime on
# latest.rkb (see serve).  Returns publish's exit status.
publish()
{
	local ch
	"$SIGN" publish "$1" --to "$2" >"$T/publish.out" 2>&1 || return $?
	ch=$("$SIGN" inspect --json "$1" | jq -r .channel)
	E2E_MTIME=$((E2E_MTIME + 10))
	touch -d "@$E2E_MTIME" -- "$2/$ch/latest.rkb"
}

# pem_fps FILE: the SHA-256 of every certificate in a PEM file, sorted, one
# a line (openssl parses each; a block that does not parse prints BAD).
pem_fps()
{
	local d i
	d=$(mktemp -d "$T/split.XXXXXX")
	awk -v d="$d" '
	    /-----BEGIN CERTIFICATE-----/ { n++; f = d "/" n ".pem" }
	    f != "" { print > f }
	    /-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
	for i in "$d"/*.pem; do
		[ -e "$i" ] || continue
		{ openssl x509 -in "$i" -outform DER 2>/dev/null || true; } |
		    sha256sum | awk '{ print $1 }' |
		    sed 's/^e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$/BAD/'
	done | sort
	rm -rf -- "$d"
}

# fps_of PEM...: the sorted fingerprints of the certificates of the files.
fps_of()
{
	local f
	for f in "$@"; do
		pem_fps "$f"
	done | sort
}

# pem_count FILE: the number of certificate blocks.
pem_count()
{
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true
}

# jget FILE FILTER: jq -r, or "(bad json)" when FILE does not parse.
jget()
{
	jq -r "$2" "$1" 2>/dev/null || echo "(bad json)"
}

# agent ARGS...: run() of rootkeeper with --db $DB.
agent()
{
	run "$RK" --db "$DB" "$@"
}

# st: `status --json` into $T/st.json; its exit status in ST_RC.
st()
{
	run "$RK" --db "$DB" status --json
	cp -- "$T/out" "$T/st.json"
	ST_RC=$RC
}

# req_lines PATH: the access log's lines for requests of PATH, in order
# ("GET /x HTTP/1.1 200 1234 OK": method, path, protocol, status, body
# bytes sent, "OK" when the response went out in full).
req_lines()
{
	awk -v p="$1" '$2 == p' "$NGINX_ACCESS_LOG"
}

# req_count PATH
req_count()
{
	req_lines "$1" | wc -l
}

# ft SPEC COMMAND...: COMMAND with libfaketime preloaded and FAKETIME=SPEC
# ("@1971-06-01 00:00:00" starts the clock there, "+100d" moves it,
# "+0 x200" speeds it up).  The `faketime` command does the same but
# stays as the parent (a signal sent to $! does not reach the program) and
# leaves its semaphore in /dev/shm when it is killed, which makes it fail
# later for a process that gets the same pid: the library is used alone.
# In the background, call env directly ("env LD_PRELOAD=$FT_PRELOAD
# FAKETIME=... CMD &"): $! of a function is a subshell, not CMD.
# On a 32-bit system CTest also hands RK_FAKETIME64, tests/faketime64.c,
# which gives libfaketime's clock to programs with a 64-bit time_t.
# shellcheck disable=SC2016 # $LIB is ld.so's, not ours
FT_PRELOAD="${RK_FAKETIME64:+$RK_FAKETIME64 }"'/usr/$LIB/faketime/libfaketime.so.1'
ft()
{
	local spec=$1
	shift
	env LD_PRELOAD="$FT_PRELOAD" FAKETIME="$spec" "$@"
}

# epoch RFC3339: seconds since 1970 (GNU date).
epoch()
{
	date -u -d "$1" +%s
}

# mk NAME VERSION [create options...] -- ROOTS...: NAME.rkb, a bundle of
# channel $CH holding ROOT.pem of every ROOT, signed by the --key
# options given, or by k1.key when there are none.
mk()
{
	local name=$1 ver=$2 r certs=() opts=() keys=(--key k1.key)
	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		if [ "$1" = --key ]; then
			keys=()
		fi
		opts+=("$1")
		shift
	done
	shift
	for r in "$@"; do
		certs+=(--certs "$r.pem")
	done
	"$SIGN" create "${keys[@]}" --channel "$CH" --version "$ver" \
	    "${certs[@]}" "${opts[@]}" -o "$name.rkb" >/dev/null
}

# mk_hub NAME CA [START END]: a leaf for hub.test and 127.0.0.1 issued by CA
# (mk_ca, mk_int or mk_dated_ca of lib.sh), valid from now for a year or
# from START to END (YYYYMMDDHHMMSSZ), $T/NAME.pem and $T/NAME.key.
mk_hub()
{
	rk_pki
	PKI_SAN=DNS:hub.test,IP:127.0.0.1 pki_cert "$T/$1.pem" "$T/$1.key" \
	    /CN=hub.test v3_leaf "${3:-$(pki_date now)}" \
	    "${4:-$(pki_date "now + 365 days")}" "$T/$2.pem" "$T/$2.ca.key"
}

# e2e_setup_app ROOTKEEPER ROOTKEEPER_SIGN RK_MQTT_DEVICE: e2e_setup for the
# suites that also run the example device application against a private
# mosquitto (tests/lib/mosquitto.sh, sourced by the caller); sets APP, and
# an exit trap that stops the broker before the temp folder holding its
# certificates goes.
e2e_setup_app()
{
	if [ $# -ne 3 ] || [ ! -x "${3:-}" ]; then
		echo "usage: $0 PATH/TO/rootkeeper PATH/TO/rootkeeper-sign" \
		    "PATH/TO/rk-mqtt-device" >&2
		exit 2
	fi
	APP=$(readlink -f -- "$3")
	e2e_setup "$1" "$2"
	APP=$(emu_wrap "$APP" "$T")
	trap e2e_app_cleanup EXIT
}

e2e_app_cleanup()
{
	local rc=$?
	set +e
	mosq_stop
	(exit "$rc")
	e2e_cleanup
}
