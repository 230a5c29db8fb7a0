#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Makes the small test PKI that the bundle tests read from tests/data/: two
# CA roots valid until 2099 (root-a, root-b), a non-CA leaf issued by root-a
# (leaf), a v1 self-signed root with no extensions at all (root-v1), an
# expired CA root whose validity lies entirely in the past (root-expired),
# two roots whose dates lie past 2038 (root-2040, root-2050),
# and the bundle-signing test keys (key-ed1..3 Ed25519, key-ec1..2 ECDSA
# P-256; PKCS#8 .key and SPKI .pub).  Every key is P-256 or Ed25519 so the
# files stay small.  Only the openssl CLI is used: dates in the past or far
# future come from `openssl ca -startdate/-enddate` with a throwaway CA
# directory, not from the clock.  The outputs are committed; run this again
# only to replace them (every key and certificate changes, and the golden
# bundles must then be rewritten: RK_WRITE_GOLDEN, see tests/test_bundle.c).
# The private keys here are test keys, published on purpose: never use
# them for anything else.
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../lib/pki.sh
. "$out/../lib/pki.sh"
pki_init "$tmp"

p256() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

# selfsign name subject start end [extensions-section]
selfsign() {
	pki_cert "$tmp/$1.pem" "$tmp/$1.key" "$2" "${5:-}" "$3" "$4"
	openssl x509 -in "$tmp/$1.pem" -out "$out/$1.pem"
}

selfsign root-a "/O=rootkeeper test/CN=Test Root A" \
    20240101000000Z 20991231235959Z v3_ca
selfsign root-b "/O=rootkeeper test/CN=Test Root B" \
    20240101000000Z 20991231235959Z v3_ca
# No extensions section: openssl ca then writes an X.509 v1 certificate.
selfsign root-v1 "/O=rootkeeper test/CN=Test Root V1" \
    20240101000000Z 20991231235959Z
selfsign root-expired "/O=rootkeeper test/CN=Test Root Expired" \
    20100101000000Z 20151231235959Z v3_ca
# Past a 32-bit time_t: valid from its first second (2038-01-19T03:14:08Z)
# to 2040 (UTCTime); and from the last UTCTime second to 2050, the first
# year written as GeneralizedTime (RFC 5280).
selfsign root-2040 "/O=rootkeeper test/CN=Test Root 2040" \
    20380119031408Z 20400115000000Z v3_ca
selfsign root-2050 "/O=rootkeeper test/CN=Test Root 2050" \
    20491231235959Z 20500601000000Z v3_ca

PKI_SAN=DNS:leaf.rootkeeper.test pki_cert "$tmp/leaf.pem" "$tmp/leaf.key" \
    "/O=rootkeeper test/CN=leaf.rootkeeper.test" v3_leaf \
    20240101000000Z 20991231235959Z "$tmp/root-a.pem" "$tmp/root-a.key"
openssl x509 -in "$tmp/leaf.pem" -out "$out/leaf.pem"

# Check what the tests rely on, so a different openssl cannot silently
# produce something else.
text() { openssl x509 -in "$out/$1.pem" -noout -text; }
for r in root-a root-b root-expired; do
	text $r | grep -q 'Version: 3 (0x2)'
	text $r | grep -q 'CA:TRUE'
done
text leaf | grep -q 'CA:FALSE'
text root-v1 | grep -q 'Version: 1 (0x0)'
if text root-v1 | grep -q 'X509v3'; then
	echo "root-v1 has extensions" >&2
	exit 1
fi
openssl x509 -in "$out/root-expired.pem" -noout -checkend 0 >/dev/null &&
    { echo "root-expired is not expired" >&2; exit 1; }
openssl verify -CAfile "$out/root-a.pem" "$out/leaf.pem" >/dev/null

# Bundle-signing test keys.
for k in ed1 ed2 ed3; do
	openssl genpkey -algorithm ed25519 -out "$out/key-$k.key"
done
for k in ec1 ec2; do
	p256 "$out/key-$k.key"
done
for k in ed1 ed2 ed3 ec1 ec2; do
	openssl pkey -in "$out/key-$k.key" -pubout -out "$out/key-$k.pub"
done
