#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Signing keys that are not plain files: keys in a PKCS#11 token (SoftHSM2,
# set up here in a temp folder of its own through SOFTHSM2_CONF, with
# OpenSC's pkcs11-tool as the independent client) and encrypted PKCS#8 key
# files (made by openssl pkcs8 -topk8 -v2 aes-256-cbc).  Each signs bundles
# that `verify` accepts and whose signatures, cut out by the shell, openssl
# accepts; keygen makes a key inside the token that never leaves it (the
# token says so, and only NAME.pub is written); the PIN and the passphrase
# never appear in any output, also when they are wrong; without a way to
# get a secret (no file, no terminal) the tool says what to give it.
#
# usage: keys.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
rk_setup "$@"
cd "$T"

MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && MODULE=$m && break
done
if [ -z "$MODULE" ] || ! command -v softhsm2-util >/dev/null ||
    ! command -v pkcs11-tool >/dev/null; then
	not_ok "softhsm2 and opensc are installed (scripts/deps.sh --test)"
	finish
fi

# SoftHSM's EdDSA leaks a few bytes inside OpenSSL's libcrypto, which
# rootkeeper does not link: under LeakSanitizer that is the module's leak,
# not ours.
printf 'leak:libcrypto.so\nleak:libsofthsm2.so\n' >"$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

PIN=pin-4711-xyzzy
PASS=pass-0815-plugh
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" >softhsm2.conf
export SOFTHSM2_CONF=$T/softhsm2.conf
softhsm2-util --init-token --free --label rk-ops --pin "$PIN" \
    --so-pin so-1234-5678 >/dev/null
printf '%s\n' "$PIN" >pin.txt
chmod 600 pin.txt
uri()
{
	echo "pkcs11:token=rk-ops;object=$1?module-path=$MODULE&pin-source=$T/pin.txt"
}

# no_secret DESC: neither the PIN nor the passphrase in the last run's output.
no_secret()
{
	if grep -qF -e "$PIN" -e "$PASS" -- "$T/out" "$T/err"; then
		not_ok "$1: a secret appears in the output"
	else
		ok "$1: no secret in the output"
	fi
}

mk_ca ca1 "Keys Root 1"

# openssl_ok LABEL RKB I PUB ALG: signature I of RKB verifies with openssl.
openssl_ok()
{
	rkb_parse "$2"
	rkb_message "$2" "$1.msg"
	rkb_sig "$2" "$3" "$1.sig"
	if [ "$5" = ed25519 ]; then
		check "$1: openssl pkeyutl accepts the signature" \
		    openssl pkeyutl -verify -pubin -inkey "$4" -rawin \
		    -in "$1.msg" -sigfile "$1.sig"
	else
		check "$1: openssl dgst -sha256 accepts the signature" \
		    openssl dgst -sha256 -verify "$4" -signature "$1.sig" \
		    "$1.msg"
	fi
	check_eq "$1: the signature's key id is the key's" \
	    "${RKB_SIG_KEYID[$3]}" "$(spki_id "$4")"
}

# ---- keygen in the token ---------------------------------------------

expect_exit 0 "keygen --alg ecdsa-p256 --key pkcs11: makes a key in the token" \
    "$BIN" keygen --alg ecdsa-p256 --key "$(uri ec1)" -o tok-ec1
no_secret "keygen in the token"
check "keygen wrote tok-ec1.pub" test -f tok-ec1.pub
check_not "keygen wrote no tok-ec1.key" test -e tok-ec1.key
check_eq "the key id printed is the SHA-256 of the SPKI" \
    "$(awk '/^key id:/ { print $3 }' "$T/out")" "$(spki_id tok-ec1.pub)"
pkcs11-tool --module "$MODULE" --token-label rk-ops --login --pin "$PIN" \
    --list-objects --type privkey >objects.txt 2>/dev/null
check "the token holds private key ec1" grep -q "label: *ec1" objects.txt
check "the private key is sensitive and never extractable" \
    grep -q "never extractable" objects.txt
check "it was made in the token (local)" grep -q "local" objects.txt
expect_exit 1 "keygen refuses a label that is already in the token" \
    "$BIN" keygen --alg ecdsa-p256 --key "$(uri ec1)" -o tok-again
check_not "the refused keygen wrote no .pub" test -e tok-again.pub
expect_exit 1 "keygen refuses an existing NAME.pub before touching the token" \
    "$BIN" keygen --alg ecdsa-p256 --key "$(uri ec9)" -o tok-ec1
expect_exit 2 "keygen --key wants a pkcs11: URI" \
    "$BIN" keygen --key some.key -o x

# ---- sign with the token ----------------------------------------------

expect_exit 0 "create --key pkcs11: signs a bundle" \
    "$BIN" create --key "$(uri ec1)" --channel ops --version 1 \
    --certs ca1.pem -o tok1.rkb
no_secret "create with a token key"
expect_exit 0 "verify accepts it under tok-ec1.pub" \
    "$BIN" verify --pub tok-ec1.pub tok1.rkb
openssl_ok tok-ec1 tok1.rkb 0 tok-ec1.pub ecdsa

if "$BIN" keygen --alg ed25519 --key "$(uri ed1)" -o tok-ed1 \
    >"$T/out" 2>"$T/err"; then
	ok "keygen --alg ed25519 makes an Ed25519 key in the token"
	expect_exit 0 "sign --key pkcs11: adds an Ed25519 signature" \
	    "$BIN" sign --key "$(uri ed1)" tok1.rkb
	expect_exit 0 "verify accepts both token signatures (threshold 2)" \
	    "$BIN" verify --pub tok-ec1.pub --pub tok-ed1.pub --threshold 2 \
	    tok1.rkb
	openssl_ok tok-ed1 tok1.rkb 1 tok-ed1.pub ed25519
else
	not_ok "keygen --alg ed25519 in SoftHSM ($(head -n 1 "$T/err"))"
fi

# A key made by another program (pkcs11-tool) in the same token.
pkcs11-tool --module "$MODULE" --token-label rk-ops --login --pin "$PIN" \
    --keypairgen --key-type EC:prime256v1 --label ext1 --id 4242 \
    >/dev/null 2>&1
pkcs11-tool --module "$MODULE" --token-label rk-ops --read-object \
    --type pubkey --label ext1 -o ext1.pub.der >/dev/null 2>&1
openssl pkey -pubin -inform DER -in ext1.pub.der -out ext1.pub
expect_exit 0 "create signs with a key pkcs11-tool made" \
    "$BIN" create --key "$(uri ext1)" --channel ops --version 2 \
    --certs ca1.pem -o ext.rkb
expect_exit 0 "verify accepts it under the key pkcs11-tool exported" \
    "$BIN" verify --pub ext1.pub ext.rkb
openssl_ok ext1 ext.rkb 0 ext1.pub ecdsa

# ---- failures name the problem, never the PIN -------------------------

bad_pin="pkcs11:token=rk-ops;object=ec1?module-path=$MODULE&pin-value=$PASS"
expect_exit 1 "a wrong PIN is refused" \
    "$BIN" create --key "$bad_pin" --channel ops --version 3 \
    --certs ca1.pem -o wrong.rkb
no_secret "wrong PIN"
check "the wrong PIN is reported as such" grep -q "refused the PIN" "$T/err"
check_not "nothing written after a wrong PIN" test -e wrong.rkb
expect_exit 1 "a missing object is named" \
    "$BIN" create --key "$(uri nosuch)" --channel ops --version 3 \
    --certs ca1.pem -o wrong.rkb
check "the missing object's label is in the message" \
    grep -q "no private key labelled 'nosuch'" "$T/err"
expect_exit 1 "a missing token is named" \
    "$BIN" sign --key "pkcs11:token=other;object=ec1?module-path=$MODULE&pin-value=$PIN" \
    tok1.rkb
no_secret "missing token"
expect_exit 2 "a URI without module-path is a usage error" \
    "$BIN" sign --key "pkcs11:token=rk-ops;object=ec1?pin-value=$PIN" tok1.rkb
no_secret "no module-path"
expect_exit 2 "an unknown URI attribute is refused" \
    "$BIN" sign --key "pkcs11:token=rk-ops;object=ec1;slot-id=3?module-path=$MODULE&pin-value=$PIN" \
    tok1.rkb
no_secret "unknown attribute"
expect_exit 2 "pin-value and pin-source together are refused" \
    "$BIN" sign --key "$(uri ec1)&pin-value=$PIN" tok1.rkb
no_secret "two PINs"
expect_exit 2 "no PIN and no terminal: a usage error" \
    setsid -w "$BIN" sign --key "pkcs11:token=rk-ops;object=ec1?module-path=$MODULE" \
    tok1.rkb
check "it says to give pin-source" grep -q "pin-source" "$T/err"
expect_exit 1 "a module that is not there is named" \
    "$BIN" sign --key "pkcs11:token=rk-ops;object=ec1?module-path=$T/none.so&pin-value=$PIN" \
    tok1.rkb
no_secret "missing module"

# ---- encrypted PKCS#8 files --------------------------------------------

printf '%s\n' "$PASS" >pass.txt
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.plain.key
openssl pkcs8 -topk8 -v2 aes-256-cbc -in ec.plain.key -passout "file:pass.txt" \
    -out ec.enc.key
openssl pkey -in ec.plain.key -pubout -out ec.pub
openssl genpkey -algorithm ed25519 -out ed.plain.key
openssl pkcs8 -topk8 -v2 aes-256-cbc -in ed.plain.key -passout "file:pass.txt" \
    -out ed.enc.key
openssl pkey -in ed.plain.key -pubout -out ed.pub
check "the key file is encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" ec.enc.key

expect_exit 0 "create reads an encrypted ECDSA key with --passphrase-file" \
    "$BIN" create --key ec.enc.key --key ed.enc.key --passphrase-file pass.txt \
    --channel ops --version 4 --certs ca1.pem -o enc.rkb
no_secret "encrypted keys"
expect_exit 0 "verify accepts both signatures" \
    "$BIN" verify --pub ec.pub --pub ed.pub --threshold 2 enc.rkb
openssl_ok enc-ec enc.rkb 0 ec.pub ecdsa
openssl_ok enc-ed enc.rkb 1 ed.pub ed25519
printf 'wrong-%s\n' "$PASS" >wrong.txt
expect_exit 2 "a wrong passphrase is refused" \
    "$BIN" sign --key ec.enc.key --passphrase-file wrong.txt -o wrong2.rkb tok1.rkb
check "it says wrong passphrase" grep -q "wrong passphrase" "$T/err"
check_not "nothing written after a wrong passphrase" test -e wrong2.rkb
no_secret "wrong passphrase"
expect_exit 2 "no passphrase file and no terminal: a usage error" \
    setsid -w "$BIN" sign --key ec.enc.key -o wrong2.rkb tok1.rkb
check "it says to give --passphrase-file" grep -q -- "--passphrase-file" "$T/err"
expect_exit 1 "a missing passphrase file is named" \
    "$BIN" sign --key ec.enc.key --passphrase-file none.txt tok1.rkb
check "the message names the file" grep -q "none.txt" "$T/err"

# ---- keygen --encrypt ------------------------------------------------------

for alg in ed25519 ecdsa-p256; do
	expect_exit 0 "keygen --alg $alg --encrypt --passphrase-file" \
	    "$BIN" keygen --alg "$alg" --encrypt --passphrase-file pass.txt \
	    -o "enc-$alg"
	no_secret "keygen --encrypt ($alg)"
	check "the $alg key is written encrypted" \
	    grep -q "BEGIN ENCRYPTED PRIVATE KEY" "enc-$alg.key"
	check_eq "the $alg key file is mode 600" "$(stat -c %a "enc-$alg.key")" 600
	openssl pkey -in "enc-$alg.key" -passin file:pass.txt -pubout \
	    -out "enc-$alg.openssl.pub" 2>/dev/null || true
	check_files_eq "openssl decrypts the $alg key to the same public key" \
	    "enc-$alg.openssl.pub" "enc-$alg.pub"
	check_not "openssl refuses the $alg key under another passphrase" \
	    openssl pkey -in "enc-$alg.key" -passin file:wrong.txt -noout
	expect_exit 0 "the encrypted $alg key signs" \
	    "$BIN" create --key "enc-$alg.key" --passphrase-file pass.txt \
	    --channel ops --version 5 --certs ca1.pem -o "enc-$alg.rkb"
	expect_exit 0 "the bundle verifies under the $alg key" \
	    "$BIN" verify --pub "enc-$alg.pub" "enc-$alg.rkb"
done
expect_exit 2 "keygen --encrypt without a file or a terminal: a usage error" \
    setsid -w "$BIN" keygen --encrypt -o enc-none
check_not "nothing written" test -e enc-none.key
expect_exit 2 "keygen --encrypt with a token key is refused" \
    "$BIN" keygen --encrypt --key "$(uri ec5)" -o enc-tok
expect_exit 2 "--passphrase-file without --encrypt is refused" \
    "$BIN" keygen --passphrase-file pass.txt -o enc-none

finish
