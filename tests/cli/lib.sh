# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables set here are read by the suites
#
# Shared helpers of the rootkeeper-sign shell suites (tests/cli/*.sh): a temp
# folder removed on exit, "ok - ..." / "not ok - ..." check lines with a
# final "N passed, M failed" count, exit-code checks that also catch
# sanitizer reports, and a reader of the .rkb byte layout (DESIGN.md
# section 2) built from od alone, so that the tests never rely on the code
# under test to find the bytes they check.  It uses bash, coreutils, openssl,
# grep, sed, awk and jq; nothing else (no python).
#
# Source it, then call rk_setup "$@" (the first argument is the binary).

# shellcheck source=../lib/emulator.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/emulator.sh"

RK_PASS=0
RK_FAIL=0

RK_FINISHED=0
RK_ERR_LINE=
RK_ERR_CMD=

# On exit: a suite stopped by set -e before finish() still ends with a failed
# check and the count line, so that an aborted run never looks green.
rk_cleanup()
{
	local rc=$?
	if [ "$RK_FINISHED" -ne 1 ]; then
		not_ok "the suite ran to its end (stopped at line ${RK_ERR_LINE:-?}: ${RK_ERR_CMD:-exit $rc})"
		echo "$RK_PASS passed, $RK_FAIL failed"
	fi
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		rm -rf -- "$T"
	fi
	if [ "$RK_FINISHED" -ne 1 ]; then
		exit 1
	fi
}

# rk_setup BINARY: sets BIN and T (a fresh temp folder, removed on exit).
rk_setup()
{
	if [ $# -lt 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 PATH/TO/rootkeeper-sign" >&2
		exit 2
	fi
	BIN=$(readlink -f -- "$1")
	T=$(mktemp -d "${TMPDIR:-/tmp}/rk-cli.XXXXXX")
	BIN=$(emu_wrap "$BIN" "$T")
	set -o errtrace
	trap 'RK_ERR_LINE=$LINENO RK_ERR_CMD=$BASH_COMMAND' ERR
	trap rk_cleanup EXIT
	trap 'exit 130' INT TERM
	# The CLI's expiry checks run against the real clock; the tests too.
	export TZ=UTC LC_ALL=C
}

ok()
{
	RK_PASS=$((RK_PASS + 1))
	echo "ok - $*"
}

not_ok()
{
	RK_FAIL=$((RK_FAIL + 1))
	echo "not ok - $*"
}

# check DESC COMMAND...: passes when COMMAND exits 0 (output hidden).
check()
{
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# check_not DESC COMMAND...: passes when COMMAND exits non-zero.
check_not()
{
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		not_ok "$desc"
	else
		ok "$desc"
	fi
}

# check_eq DESC GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', want '$3')"
	fi
}

# check_files_eq DESC GOT WANT: the two files are equal; the first lines of
# their diff are shown when not.
check_files_eq()
{
	if cmp -s -- "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff -- "$2" "$3" >"$T/diff.out" || true
		head -n 8 "$T/diff.out" | sed 's/^/# /'
	fi
}

# run COMMAND...: runs it, keeps stdout in $T/out, stderr in $T/err and the
# exit status in RC.  A sanitizer report on stderr is a failed check of its
# own, whatever the exit status.
run()
{
	RC=0
	"$@" >"$T/out" 2>"$T/err" || RC=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    "$T/err"; then
		not_ok "no sanitizer report from: $*"
		head -n 40 "$T/err" | sed 's/^/# /'
	fi
}

# expect_exit CODE DESC COMMAND...: runs COMMAND, passes when it exits CODE.
expect_exit()
{
	local want=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc (exit $RC, want $want)"
		head -n 10 "$T/err" | sed 's/^/# stderr: /'
	fi
}

# expect_nonzero DESC COMMAND...
expect_nonzero()
{
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -ne 0 ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc (exit 0, want non-zero)"
	fi
}

# finish: the count line; exit status 1 if any check failed.
finish()
{
	echo "$RK_PASS passed, $RK_FAIL failed"
	RK_FINISHED=1
	if [ "$RK_FAIL" -ne 0 ] || [ "$RK_PASS" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# ---- bytes --------------------------------------------------------------

# u8|u16|u32 FILE OFFSET: big-endian unsigned integer at OFFSET.
u8()
{
	od -An -v -tu1 -j "$2" -N1 -- "$1" | awk '{ print $1 + 0 }'
}

u16()
{
	od -An -v -tu1 -j "$2" -N2 -- "$1" |
	    awk 'NF == 2 { print $1 * 256 + $2 } NF != 2 { print -1 }'
}

u32()
{
	od -An -v -tu1 -j "$2" -N4 -- "$1" | awk 'NF == 4 {
	    print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }
	    NF != 4 { print -1 }'
}

# hexat FILE OFFSET LEN: lowercase hex of LEN bytes.
hexat()
{
	od -An -v -tx1 -j "$2" -N "$3" -- "$1" | tr -d ' \n'
}

# cutb FILE OFFSET LEN: LEN bytes from OFFSET to stdout.
cutb()
{
	# dd, not tail | head: head closing the pipe early is a SIGPIPE
	# failure under pipefail.
	dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" \
	    count="$3" status=none
}

fsize()
{
	stat -c %s -- "$1"
}

# flip FILE OFFSET: XOR one byte with 0xff, in place.
flip()
{
	local b
	b=$(u8 "$1" "$2")
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((b ^ 255)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

sha_file()
{
	sha256sum -- "$1" | awk '{ print $1 }'
}

# spki_id PUB.pem: SHA-256 of the SubjectPublicKeyInfo DER (the key id).
spki_id()
{
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | awk '{ print $1 }'
}

# rkb_parse FILE: walks the layout of DESIGN.md section 2 and sets
#   RKB_MAGIC, RKB_MAN_OFF, RKB_MAN_LEN, RKB_NCERTS,
#   RKB_CERT_OFF[i], RKB_CERT_LEN[i] (i from 0), RKB_SIGNED_END,
#   RKB_NSIGS, RKB_SIG_KEYID[i], RKB_SIG_ALG[i], RKB_SIG_OFF[i],
#   RKB_SIG_LEN[i], RKB_END (offset after the last signature).
# Returns 1 when a length runs past the end of the file.
rkb_parse()
{
	local f=$1 size off i len
	size=$(fsize "$f")
	RKB_MAGIC=$(cutb "$f" 0 4)
	RKB_MAN_LEN=$(u32 "$f" 4)
	RKB_MAN_OFF=8
	off=$((8 + RKB_MAN_LEN))
	[ "$off" -le "$size" ] || return 1
	RKB_NCERTS=$(u32 "$f" "$off")
	[ "$RKB_NCERTS" -ge 0 ] || return 1
	off=$((off + 4))
	RKB_CERT_OFF=()
	RKB_CERT_LEN=()
	for ((i = 0; i < RKB_NCERTS; i++)); do
		len=$(u32 "$f" "$off")
		[ "$len" -ge 0 ] || return 1
		RKB_CERT_LEN[i]=$len
		RKB_CERT_OFF[i]=$((off + 4))
		off=$((off + 4 + len))
		[ "$off" -le "$size" ] || return 1
	done
	RKB_SIGNED_END=$off
	RKB_NSIGS=$(u8 "$f" "$off")
	off=$((off + 1))
	RKB_SIG_KEYID=()
	RKB_SIG_ALG=()
	RKB_SIG_OFF=()
	RKB_SIG_LEN=()
	for ((i = 0; i < RKB_NSIGS; i++)); do
		[ $((off + 35)) -le "$size" ] || return 1
		RKB_SIG_KEYID[i]=$(hexat "$f" "$off" 32)
		RKB_SIG_ALG[i]=$(u8 "$f" $((off + 32)))
		len=$(u16 "$f" $((off + 33)))
		RKB_SIG_LEN[i]=$len
		RKB_SIG_OFF[i]=$((off + 35))
		off=$((off + 35 + len))
		[ "$off" -le "$size" ] || return 1
	done
	RKB_END=$off
}

# rkb_message FILE OUT: the signed message, "rootkeeper bundle v1" NUL and
# the signed region (needs rkb_parse FILE first).
rkb_message()
{
	{
		printf 'rootkeeper bundle v1\0'
		head -c "$RKB_SIGNED_END" -- "$1"
	} >"$2"
}

# rkb_sig FILE I OUT: signature I (from 0) as raw bytes.
rkb_sig()
{
	cutb "$1" "${RKB_SIG_OFF[$2]}" "${RKB_SIG_LEN[$2]}" >"$3"
}

# ---- test PKI -----------------------------------------------------------

rk_openssl_cnf()
{
	[ -f "$T/openssl.cnf" ] && return 0
	cat >"$T/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:leaf.example
EOF
}

# mk_ca NAME CN: a self-signed P-256 root, $T/NAME.pem and $T/NAME.ca.key.
mk_ca()
{
	rk_openssl_cnf
	openssl req -x509 -new -config "$T/openssl.cnf" -extensions v3_ca \
	    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.ca.key" -subj "/O=rootkeeper test/CN=$2" \
	    -days 3650 -out "$T/$1.pem" 2>/dev/null
}

# mk_leaf NAME CA: a CA:FALSE leaf issued by CA (made by mk_ca), $T/NAME.pem.
mk_leaf()
{
	rk_openssl_cnf
	openssl req -new -config "$T/openssl.cnf" \
	    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.leaf.key" -subj "/CN=$1 leaf" \
	    -out "$T/$1.csr" 2>/dev/null
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" \
	    -CAkey "$T/$2.ca.key" -CAcreateserial -days 365 \
	    -extfile "$T/openssl.cnf" -extensions v3_leaf \
	    -out "$T/$1.pem" 2>/dev/null
}

# der_sha PEM: SHA-256 of the certificate's DER.
der_sha()
{
	openssl x509 -in "$1" -outform DER | sha256sum | awk '{ print $1 }'
}

# mk_expired_ca NAME CN: a self-signed P-256 root valid in 2000 only,
# $T/NAME.pem (openssl ca, the one openssl command that backdates).
mk_expired_ca()
{
	local d="$T/ca-$1"
	mkdir -p "$d"
	: >"$d/index.txt"
	echo 01 >"$d/serial"
	cat >"$d/ca.cnf" <<EOF2
[ca]
default_ca = ca_default
[ca_default]
dir = $d
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
default_md = sha256
policy = pol
email_in_dn = no
unique_subject = no
[pol]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
EOF2
	openssl req -new -config "$d/ca.cnf" -newkey ec \
	    -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
	    -subj "/O=rootkeeper test/CN=$2" -out "$d/ca.csr" 2>/dev/null
	openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$d/ca.key" \
	    -in "$d/ca.csr" -startdate 20000101000000Z \
	    -enddate 20010101000000Z -extensions v3_ca -notext \
	    -out "$T/$1.pem" 2>/dev/null
}
