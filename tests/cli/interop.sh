#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Interoperability of rootkeeper-sign with an implementation we did not
# write, the openssl CLI: signatures cut out of a .rkb by the shell alone
# (od, head, tail; DESIGN.md section 2) verify with openssl pkeyutl (Ed25519)
# and openssl dgst (ECDSA P-256), and fail once a byte of the message is
# changed; key ids are the SHA-256 of the SPKI DER as openssl writes it; keys
# made by openssl sign bundles the tool verifies, keys made by the tool are
# read by openssl; and threshold signing with `sign` adds a signature that
# openssl also accepts, without touching the signed region.
#
# usage: interop.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
rk_setup "$@"
cd "$T"

mk_ca ca1 "Interop Root 1"
mk_ca ca2 "Interop Root 2"
cat ca1.pem ca2.pem >cas.pem

# check_bundle_sig LABEL RKB I PUB ALG: signature I of RKB, cut by the shell,
# is accepted by openssl under PUB, and refused for a message or a signature
# with one byte changed.
check_bundle_sig()
{
	local label=$1 rkb=$2 i=$3 pub=$4 alg=$5 mid
	rkb_message "$rkb" "$label.msg"
	rkb_sig "$rkb" "$i" "$label.sig"
	cp "$label.msg" "$label.bad.msg"
	# A byte of the manifest, well inside the signed region.
	mid=$((21 + RKB_MAN_OFF + RKB_MAN_LEN / 2))
	flip "$label.bad.msg" "$mid"
	cp "$label.sig" "$label.bad.sig"
	flip "$label.bad.sig" $((RKB_SIG_LEN[i] - 1))
	check "$label: $(sig_tool "$alg") -verify accepts the signature" \
	    sig_ok "$pub" "$alg" "$label.msg" "$label.sig"
	check_not "$label: openssl refuses a message with one byte changed" \
	    sig_ok "$pub" "$alg" "$label.bad.msg" "$label.sig"
	check_not "$label: openssl refuses a signature with one byte changed" \
	    sig_ok "$pub" "$alg" "$label.msg" "$label.bad.sig"
	if [ "$alg" != ed25519 ]; then
		check "$label: the ECDSA signature is one DER SEQUENCE" \
		    openssl asn1parse -inform DER -in "$label.sig"
	fi
}

# ---- Ed25519 key from keygen ------------------------------------------

expect_exit 0 "keygen (ed25519) succeeds" "$BIN" keygen -o ed
printed_id=$(sed -n 's/^key id: *//p' "$T/out")
ed_id=$(spki_id ed.pub)
check_eq "keygen prints the key id = sha256 of the SPKI DER" "$printed_id" \
    "$ed_id"
expect_exit 0 "create signed with the ed25519 key" "$BIN" create \
    --key ed.key --channel interop --version 7 --certs cas.pem -o ed.rkb

check "ed.rkb parses by the shell (od) to the last signature" rkb_parse ed.rkb
check_eq "magic is RKB1" "$RKB_MAGIC" RKB1
check_eq "no trailing bytes after the last signature" "$RKB_END" \
    "$(fsize ed.rkb)"
check_eq "the manifest cut by offsets is the JSON object" \
    "$(cutb ed.rkb "$RKB_MAN_OFF" "$RKB_MAN_LEN" | jq -r .channel)" interop
check_eq "n_certs is 2" "$RKB_NCERTS" 2
check_eq "n_sigs is 1" "$RKB_NSIGS" 1
check_eq "alg byte is 1 (Ed25519)" "${RKB_SIG_ALG[0]}" 1
check_eq "Ed25519 sig_len is 64" "${RKB_SIG_LEN[0]}" 64
check_eq "key_id = sha256 of the SPKI DER (openssl pkey)" \
    "${RKB_SIG_KEYID[0]}" "$ed_id"
cutb ed.rkb "${RKB_CERT_OFF[1]}" "${RKB_CERT_LEN[1]}" >c2.der
openssl x509 -in ca2.pem -outform DER >ca2.der
check "cert #2 cut by offsets is the input's DER" cmp -s c2.der ca2.der
check_bundle_sig ed ed.rkb 0 ed.pub ed25519

# ---- ECDSA P-256 key from keygen --------------------------------------

expect_exit 0 "keygen --alg ecdsa-p256 succeeds" "$BIN" keygen \
    --alg ecdsa-p256 -o ec
ec_id=$(spki_id ec.pub)
expect_exit 0 "create signed with the ECDSA key" "$BIN" create \
    --key ec.key --channel interop --version 8 --certs cas.pem -o ec.rkb
check "ec.rkb parses by the shell (od) to the last signature" rkb_parse ec.rkb
check_eq "ec.rkb: no trailing bytes" "$RKB_END" "$(fsize ec.rkb)"
check_eq "ec.rkb: alg byte is 2 (ECDSA P-256)" "${RKB_SIG_ALG[0]}" 2
if [ "${RKB_SIG_LEN[0]}" -ge 8 ] && [ "${RKB_SIG_LEN[0]}" -le 72 ]; then
	ok "ec.rkb: sig_len ${RKB_SIG_LEN[0]} is within 8..72"
else
	not_ok "ec.rkb: sig_len ${RKB_SIG_LEN[0]} is within 8..72"
fi
check_eq "ec.rkb: key_id = sha256 of the SPKI DER" "${RKB_SIG_KEYID[0]}" \
    "$ec_id"
check_bundle_sig ec ec.rkb 0 ec.pub ecdsa
# The openssl check must depend on the key: the Ed25519 key does not fit.
check_not "openssl refuses the ECDSA signature under another key" \
    openssl dgst -sha256 -verify ed.pub -signature ec.sig ec.msg

# ---- keys made by openssl sign, the tool verifies ---------------------

openssl genpkey -algorithm ed25519 -out o_ed.key 2>/dev/null
openssl pkey -in o_ed.key -pubout -out o_ed.pub
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out o_ec.key 2>/dev/null
openssl pkey -in o_ec.key -pubout -out o_ec.pub
for k in o_ed o_ec; do
	expect_exit 0 "create --key $k.key (openssl genpkey)" "$BIN" create \
	    --key "$k.key" --channel interop --version 9 --certs cas.pem \
	    -o "$k.rkb"
	expect_exit 0 "verify --pub $k.pub (openssl pkey -pubout) accepts" \
	    "$BIN" verify --pub "$k.pub" "$k.rkb"
	expect_exit 3 "verify of $k.rkb under the keygen ed25519 key -> 3" \
	    "$BIN" verify --pub ed.pub "$k.rkb"
	rkb_parse "$k.rkb" || true
	check_eq "$k.rkb: key_id = sha256 of openssl's SPKI DER" \
	    "${RKB_SIG_KEYID[0]}" "$(spki_id "$k.pub")"
done
rkb_parse o_ed.rkb || true
check_bundle_sig o_ed o_ed.rkb 0 o_ed.pub ed25519
rkb_parse o_ec.rkb || true
check_bundle_sig o_ec o_ec.rkb 0 o_ec.pub ecdsa

# ---- keys made by keygen, read by openssl -----------------------------

for k in ed ec; do
	if openssl pkey -in "$k.key" -pubout -out "$k.derived.pub" 2>/dev/null
	then
		ok "openssl pkey reads $k.key (keygen)"
	else
		not_ok "openssl pkey reads $k.key (keygen)"
	fi
	check "openssl's derived public key of $k.key equals $k.pub" \
	    cmp -s "$k.derived.pub" "$k.pub"
done
check "ed.key is PKCS#8 (BEGIN PRIVATE KEY)" grep -qx \
    -- '-----BEGIN PRIVATE KEY-----' ed.key
check "ec.key is PKCS#8 (BEGIN PRIVATE KEY)" grep -qx \
    -- '-----BEGIN PRIVATE KEY-----' ec.key
check "openssl sees ec.key as a P-256 key" sh -c \
    "openssl pkey -in ec.key -noout -text | grep -q 'NIST CURVE: P-256'"

# ---- threshold signing ------------------------------------------------

"$BIN" keygen -o third >/dev/null
"$BIN" keygen --alg ecdsa-p256 -o wrong >/dev/null
expect_exit 0 "create with two keys (ed25519 + ecdsa)" "$BIN" create \
    --key ed.key --key ec.key --channel interop --version 10 \
    --certs cas.pem -o thr.rkb
rkb_parse thr.rkb || true
rkb_message thr.rkb thr2.msg
check_eq "two-key bundle has n_sigs 2" "$RKB_NSIGS" 2
expect_exit 0 "sign with a third key" "$BIN" sign --key third.key thr.rkb
check "signed bundle parses by the shell" rkb_parse thr.rkb
check_eq "after sign: n_sigs 3" "$RKB_NSIGS" 3
check_eq "after sign: no trailing bytes" "$RKB_END" "$(fsize thr.rkb)"
rkb_message thr.rkb thr3.msg
check "sign leaves the signed region byte-identical" cmp -s thr2.msg thr3.msg
check_eq "third signature's key_id is the third key's" \
    "${RKB_SIG_KEYID[2]}" "$(spki_id third.pub)"
check_bundle_sig thr_ed thr.rkb 0 ed.pub ed25519
check_bundle_sig thr_ec thr.rkb 1 ec.pub ecdsa
check_bundle_sig thr_third thr.rkb 2 third.pub ed25519
expect_exit 0 "verify --threshold 3 with the three pubs" "$BIN" verify \
    --pub ed.pub --pub ec.pub --pub third.pub --threshold 3 thr.rkb
expect_exit 2 "verify --threshold 3 with two pubs (threshold above keys)" \
    "$BIN" verify --pub ed.pub --pub ec.pub --threshold 3 thr.rkb
expect_exit 2 "verify --threshold 2 with one pub given twice" \
    "$BIN" verify --pub ed.pub --pub ed.pub --threshold 2 thr.rkb
expect_exit 3 "verify with a wrong key" "$BIN" verify --pub wrong.pub thr.rkb
expect_exit 3 "verify --threshold 2 with one right and one wrong key" \
    "$BIN" verify --pub ed.pub --pub wrong.pub --threshold 2 thr.rkb
expect_exit 0 "verify --threshold 3 with a wrong fourth key" "$BIN" verify \
    --pub ed.pub --pub wrong.pub --pub ec.pub --pub third.pub \
    --threshold 3 thr.rkb
expect_exit 3 "verify --threshold 4 of four keys, one wrong" "$BIN" verify \
    --pub ed.pub --pub wrong.pub --pub ec.pub --pub third.pub \
    --threshold 4 thr.rkb

# A signature from the right key over another bundle must not count: swap
# the third signature of thr.rkb onto ed.rkb's signed region.
rkb_parse ed.rkb || true
ed_signed=$RKB_SIGNED_END
rkb_parse thr.rkb || true
{
	head -c "$ed_signed" ed.rkb
	printf '\001'
	cutb thr.rkb $((RKB_SIG_OFF[2] - 35)) $((35 + RKB_SIG_LEN[2]))
} >spliced.rkb
expect_exit 3 "a signature moved onto another bundle is refused" "$BIN" \
    verify --pub third.pub spliced.rkb

finish
