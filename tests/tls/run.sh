#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the TLS suite (tests/test_tls.c) against real TLS servers.  Makes a
# test PKI with the openssl CLI: Root A with an intermediate and a copy of
# it cross-signed by Root B, Root B, Root C, a twin of Root A (same name,
# another key), an RSA Root R, a Root E that expired in 2020, and leaves
# for 127.0.0.1, ::1 and localhost, dated with `openssl ca`: under Root C
# one issued before the distrust date D and one after; under Root A one
# that expired in 2021, one under an intermediate with an unknown critical
# extension and one under an intermediate with a 512-bit RSA key.  Starts
# one `openssl s_server` per leaf and chain (Root A's leaf three times:
# with its intermediate, alone, with the cross-signed copy) on all
# addresses and free ports, and a plain-HTTP nginx (tests/lib/nginx.sh)
# for the "not TLS" case; signs three bundles with rootkeeper-sign for the
# librootkeeper cases (which drive the rootkeeper command themselves).
# Then runs the suite twice: as is, then under faketime in 1971 (the
# "clock" group: a device without RTC).  Everything it started is stopped
# on every way out.
set -euo pipefail

if [ $# -ne 3 ] || [ ! -x "$1" ] || [ ! -x "$2" ] || [ ! -x "$3" ]; then
	echo "usage: $0 PATH/TO/test_tls PATH/TO/rootkeeper" \
	    "PATH/TO/rootkeeper-sign" >&2
	exit 2
fi
bin=$(readlink -f -- "$1")
rk=$(readlink -f -- "$2")
sign=$(readlink -f -- "$3")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/nginx.sh
. "$here/../lib/nginx.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/emulator.sh
. "$here/../lib/emulator.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/pki.sh
. "$here/../lib/pki.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/rk-tls.XXXXXX")
bin=$(emu_wrap "$bin" "$T")
rk=$(emu_wrap "$rk" "$T")
sign=$(emu_wrap "$sign" "$T")
PIDS=()
# shellcheck disable=SC2317 # called by the trap
cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	nginx_stop
	rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# No proxy between the suite and its servers; faketime's library comes
# before the ASan runtime in LD_PRELOAD.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
case ${ASAN_OPTIONS:-} in
*verify_asan_link_order=*) ;;
*)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	;;
esac

# ---- the PKI --------------------------------------------------------
pki_init "$T/pki"
P=$PKI
# An intermediate with an extension nobody understands, marked critical.
cat >>"$P/ca.cnf" <<EOF
[critint]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.55555.1 = critical,ASN1:UTF8String:must be understood
EOF
# Every leaf is for all the addresses the servers listen on.
export PKI_SAN=IP:127.0.0.1,IP:::1,DNS:localhost

# mk NAME SUBJECT EXT START END [ISSUER]: NAME.pem, NAME.key, NAME.der;
# self-signed without ISSUER.  A P-256 key, or RSA of PKI_RSA bits.
mk()
{
	local name=$1 subj=$2 ext=$3 start end
	local -a issuer=()
	start=$(pki_date "$4")
	end=$(pki_date "$5")
	if [ $# -ge 6 ]; then
		issuer=("$P/$6.pem" "$P/$6.key")
	fi
	pki_cert "$P/$name.pem" "$P/$name.key" "$subj" "$ext" "$start" "$end" \
	    "${issuer[@]}"
	openssl x509 -in "$P/$name.pem" -outform DER -out "$P/$name.der"
}

now=$(date -u +%s)
# The distrust date D of Root C: its old leaf is from before, its new one
# from after.
D=2025-01-01T00:00:00Z
{
	mk rootA "/O=rootkeeper test/CN=Root A" v3_ca 2019-01-01 2036-12-31
	mk rootB "/O=rootkeeper test/CN=Root B" v3_ca 2019-01-01 2036-12-31
	mk rootC "/O=rootkeeper test/CN=Root C" v3_ca 2019-01-01 2036-12-31
	mk twinA "/O=rootkeeper test/CN=Root A" v3_ca 2019-01-01 2036-12-31
	mk intA "/O=rootkeeper test/CN=Intermediate A" v3_int 2019-01-01 \
	    2036-12-31 rootA
	mk leafA "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 intA
	mk leafB "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 rootB
	mk leafCold "/CN=localhost" v3_leaf 2024-01-01 2036-12-31 rootC
	mk leafCnew "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 rootC
	mk leafAexp "/CN=localhost" v3_leaf 2020-01-01 2021-01-01 intA
	mk intAcrit "/O=rootkeeper test/CN=Intermediate A critical" critint \
	    2019-01-01 2036-12-31 rootA
	mk leafAcrit "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 \
	    intAcrit
	# Intermediate A again, the same key and name, signed by Root B: a
	# cross-signed copy.
	openssl ca -batch -config "$P/ca.cnf" -cert "$P/rootB.pem" \
	    -keyfile "$P/rootB.key" -in "$P/intA.csr" -extensions v3_int \
	    -startdate "$(pki_date 2019-01-01)" \
	    -enddate "$(pki_date 2036-12-31)" -notext -out "$P/intAx.pem"
	PKI_RSA=2048 mk rootR "/O=rootkeeper test/CN=Root R (RSA)" v3_ca \
	    2019-01-01 2036-12-31
	mk leafR "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 rootR
	mk rootE "/O=rootkeeper test/CN=Root E (expired)" v3_ca 2015-01-01 \
	    2020-01-01
	mk leafE "/CN=localhost" v3_leaf 2019-01-01 2036-12-31 rootE
	PKI_RSA=512 mk intAweak "/O=rootkeeper test/CN=Intermediate A weak" \
	    v3_int 2019-01-01 2036-12-31 rootA
	mk leafAweak "/CN=localhost" v3_leaf "@$((now - 86400))" 2036-12-31 \
	    intAweak
} >"$T/pki.log" 2>&1 || {
	echo "making the test PKI failed:" >&2
	cat "$T/pki.log" >&2
	exit 1
}

# ---- the servers ----------------------------------------------------
# serve VAR LEAF [CHAIN]: an s_server for LEAF (tls_serve), its port in
# VAR.
serve()
{
	local var=$1 leaf=$2 chain=${3:-}
	local -a extra=()
	if [ -n "$chain" ]; then
		extra=(-cert_chain "$P/$chain.pem")
	fi
	# OpenSSL itself would refuse to serve the weak intermediate.
	if [ -n "${SERVE_SECLEVEL0:-}" ]; then
		extra+=(-cipher 'DEFAULT@SECLEVEL=0')
	fi
	tls_serve "$T/s_server.$leaf.log" "$P/$leaf.pem" "$P/$leaf.key" \
	    "${extra[@]}" || exit 1
	PIDS+=("$TLS_PID")
	printf -v "$var" '%s' "$TLS_PORT"
	export "${var?}"
}

serve RK_TLS_PORT_A leafA intA
serve RK_TLS_PORT_A0 leafA
serve RK_TLS_PORT_AX leafA intAx
serve RK_TLS_PORT_R leafR
serve RK_TLS_PORT_E leafE
serve RK_TLS_PORT_B leafB
serve RK_TLS_PORT_COLD leafCold
serve RK_TLS_PORT_CNEW leafCnew
serve RK_TLS_PORT_AEXP leafAexp intA
serve RK_TLS_PORT_ACRIT leafAcrit intAcrit
SERVE_SECLEVEL0=1 serve RK_TLS_PORT_AWEAK leafAweak intAweak

mkdir -p "$T/www"
echo "not TLS" >"$T/www/index.html"
nginx_start "$T/www"
export RK_TLS_PORT_HTTP=$NGINX_PORT
RK_TLS_PORT_CLOSED=$(free_port)
export RK_TLS_PORT_CLOSED

# ---- the bundles for librootkeeper ----------------------------------
B=$T/bundles
mkdir -p "$B"
{
	"$sign" keygen -o "$B/k1"
	"$sign" create --key "$B/k1.key" --channel tls --version 1 \
	    --certs "$P/rootB.pem" -o "$B/v1.rkb"
	"$sign" create --key "$B/k1.key" --channel tls --version 2 \
	    --certs "$P/rootA.pem" --certs "$P/rootB.pem" -o "$B/v2.rkb"
	printf '[{"sha256": "%s", "after": "%s", "reason": "test"}]\n' \
	    "$(sha256sum <"$P/rootC.der" | cut -d' ' -f1)" "$D" \
	    >"$B/distrust.json"
	"$sign" create --key "$B/k1.key" --channel tls --version 3 \
	    --certs "$P/rootA.pem" --certs "$P/rootB.pem" \
	    --certs "$P/rootC.pem" --distrust "$B/distrust.json" \
	    -o "$B/v3.rkb"
} >"$T/bundles.log" 2>&1 || {
	echo "signing the test bundles failed:" >&2
	cat "$T/bundles.log" >&2
	exit 1
}

export RK_TLS_DIR=$P RK_TLS_BUNDLES=$B RK_TLS_ROOTKEEPER=$rk
RK_TLS_D=$(date -u -d "$D" +%s)
export RK_TLS_NOW=$now RK_TLS_D
export RK_TLS_STORE=$T/store/store.db
mkdir -p "$T/store"

"$bin"
# A device without RTC: the clock starts in 1971 and runs.  The library
# as /usr/$LIB/..., not the faketime command (an absolute path), so that
# an emulated suite (tests/lib/emulator.sh) preloads its own copy.
# shellcheck disable=SC2016 # $LIB is the loader's
# RK_FAKETIME64: see tests/e2e/common.sh.
FAKETIME_DONT_FAKE_MONOTONIC=1 \
    LD_PRELOAD="${RK_FAKETIME64:+$RK_FAKETIME64 }"'/usr/$LIB/faketime/libfaketime.so.1' \
    FAKETIME='@1971-01-01 00:00:00' "$bin" clock
