# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables set here are read by the suites
#
# Shared helpers of the rootkeeper-sign shell suites (tests/cli/*.sh): a temp
# folder removed on exit, the check lines of tests/lib/tap.sh, the test PKI
# of tests/lib/pki.sh, and a reader of the .rkb byte layout (DESIGN.md
# section 2) built from od alone, so that the tests never rely on the code
# under test to find the bytes they check.  It uses bash, coreutils, openssl,
# grep, sed, awk and jq; nothing else (no python).
#
# Source it, then call rk_setup "$@" (the first argument is the binary).

# shellcheck source=../lib/emulator.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/emulator.sh"
# shellcheck source=../lib/tap.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/tap.sh"
# shellcheck source=../lib/pki.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/pki.sh"

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
	tap_traps
	# The CLI's expiry checks run against the real clock; the tests too.
	export TZ=UTC LC_ALL=C
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
#
# Made by tests/lib/pki.sh in one `openssl ca` folder, $T/pki; every key
# is P-256.

# rk_pki: sets PKI to the suite's PKI folder, made on first use.
rk_pki()
{
	if [ -f "$T/pki/ca.cnf" ]; then
		PKI=$T/pki
	else
		pki_init "$T/pki"
	fi
}

# mk_ca NAME CN [DAYS]: a self-signed root "/O=rootkeeper test/CN=CN" valid
# from now for DAYS (3650) days, $T/NAME.pem and $T/NAME.ca.key.
mk_ca()
{
	rk_pki
	pki_cert "$T/$1.pem" "$T/$1.ca.key" "/O=rootkeeper test/CN=$2" v3_ca \
	    "$(pki_date now)" "$(pki_date "now + ${3:-3650} days")"
}

# mk_dated_ca NAME CN START END: a self-signed root "/CN=CN/O=rootkeeper
# test" valid from START to END (YYYYMMDDHHMMSSZ, see pki_date),
# $T/NAME.pem and $T/NAME.ca.key.
mk_dated_ca()
{
	rk_pki
	pki_cert "$T/$1.pem" "$T/$1.ca.key" "/CN=$2/O=rootkeeper test" v3_ca \
	    "$3" "$4"
}

# mk_int NAME ROOT: an intermediate CA (pathlen 0) issued by ROOT (mk_ca)
# for 3000 days, $T/NAME.pem and $T/NAME.ca.key.
mk_int()
{
	rk_pki
	pki_cert "$T/$1.pem" "$T/$1.ca.key" "/O=rootkeeper test/CN=$1" v3_int \
	    "$(pki_date now)" "$(pki_date "now + 3000 days")" \
	    "$T/$2.pem" "$T/$2.ca.key"
}

# mk_leaf NAME CA: a CA:FALSE leaf for leaf.example issued by CA (mk_ca)
# for a year, $T/NAME.pem and $T/NAME.leaf.key.
mk_leaf()
{
	rk_pki
	PKI_SAN=DNS:leaf.example pki_cert "$T/$1.pem" "$T/$1.leaf.key" \
	    "/CN=$1 leaf" v3_leaf "$(pki_date now)" \
	    "$(pki_date "now + 365 days")" "$T/$2.pem" "$T/$2.ca.key"
}

# der_sha PEM: SHA-256 of the certificate's DER.
der_sha()
{
	openssl x509 -in "$1" -outform DER | sha256sum | awk '{ print $1 }'
}
