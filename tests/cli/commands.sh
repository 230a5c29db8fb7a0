#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The command-line contract of rootkeeper-sign (DESIGN.md section 4): help
# and usage errors (exit 2), keygen's file modes and refusal to overwrite,
# create's input checks (non-CA cert -> 3, bad version, channel or times ->
# 2, the distrust list), corrupted and truncated bundles (-> 3), publish's
# anti-rollback and one-bundle-per-version rules, idempotent sign, and the
# shape of inspect --json.  Each refusal is checked to leave files as they
# were.
#
# usage: commands.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
rk_setup "$@"
cd "$T"

mk_ca ca1 "Commands Root 1"
mk_ca ca2 "Commands Root 2"
mk_leaf leaf ca1
cat ca1.pem ca2.pem >cas.pem

# ---- help and usage errors --------------------------------------------

for h in --help -h; do
	expect_exit 0 "$h exits 0" "$BIN" "$h"
	missing=""
	for c in keygen create sign verify inspect publish; do
		grep -qE "^  $c( |\$)" "$T/out" || missing="$missing $c"
	done
	check_eq "$h lists the six commands" "$missing" ""
done
expect_exit 2 "no command" "$BIN"
expect_exit 2 "unknown command" "$BIN" frobnicate
check "unknown command names it on stderr" grep -q frobnicate "$T/err"
expect_exit 2 "unknown option" "$BIN" inspect --frob x.rkb
expect_exit 2 "keygen without -o" "$BIN" keygen
expect_exit 2 "keygen --alg rsa" "$BIN" keygen --alg rsa -o nope
check_not "keygen --alg rsa wrote nothing" test -e nope.key
expect_exit 2 "create without --key" "$BIN" create --channel c \
    --version 1 --certs cas.pem -o x.rkb
expect_exit 2 "create without --channel" "$BIN" create --key x.key \
    --version 1 --certs cas.pem -o x.rkb
expect_exit 2 "create without --version" "$BIN" create --key x.key \
    --channel c --certs cas.pem -o x.rkb
expect_exit 2 "create without --certs" "$BIN" create --key x.key \
    --channel c --version 1 -o x.rkb
expect_exit 2 "create without -o" "$BIN" create --key x.key \
    --channel c --version 1 --certs cas.pem
expect_exit 2 "sign without --key" "$BIN" sign x.rkb
expect_exit 2 "verify without --pub" "$BIN" verify x.rkb
expect_exit 2 "verify without a file" "$BIN" verify --pub x.pub
expect_exit 2 "inspect without a file" "$BIN" inspect
expect_exit 2 "publish without --to" "$BIN" publish x.rkb

# ---- keygen -------------------------------------------------------------

expect_exit 0 "keygen -o k" "$BIN" keygen -o k
check_eq "k.key has mode 0600" "$(stat -c %a k.key)" 600
check "k.pub exists" test -s k.pub
check "k.pub is SPKI PEM (BEGIN PUBLIC KEY)" grep -qx \
    -- '-----BEGIN PUBLIC KEY-----' k.pub
check_eq "keygen prints the key id" \
    "$(sed -n 's/^key id: *//p' "$T/out")" "$(spki_id k.pub)"
key_sum=$(sha_file k.key)
pub_sum=$(sha_file k.pub)
expect_nonzero "keygen refuses to overwrite k.key and k.pub" \
    "$BIN" keygen -o k
check_eq "k.key unchanged" "$(sha_file k.key)" "$key_sum"
check_eq "k.pub unchanged" "$(sha_file k.pub)" "$pub_sum"
check_eq "k.key still mode 0600" "$(stat -c %a k.key)" 600
echo "not a key" >lone.pub
expect_nonzero "keygen refuses when only NAME.pub exists" \
    "$BIN" keygen -o lone
check_not "... and writes no lone.key" test -e lone.key
check_eq "... and leaves lone.pub alone" "$(cat lone.pub)" "not a key"
echo "not a key" >solo.key
chmod 600 solo.key
expect_nonzero "keygen refuses when only NAME.key exists" \
    "$BIN" keygen -o solo
check_not "... and writes no solo.pub" test -e solo.pub
check_eq "... and leaves solo.key alone" "$(cat solo.key)" "not a key"
expect_exit 0 "keygen --alg ecdsa-p256 -o e" "$BIN" keygen \
    --alg ecdsa-p256 -o e
check_eq "e.key has mode 0600" "$(stat -c %a e.key)" 600
"$BIN" keygen -o k2 >/dev/null

# ---- create: inputs -----------------------------------------------------

expect_exit 0 "create a valid bundle (control)" "$BIN" create --key k.key \
    --channel a.b_c-9 --version 1 --certs cas.pem -o good.rkb
expect_exit 3 "create refuses a CA:FALSE leaf" "$BIN" create --key k.key \
    --channel c --version 1 --certs leaf.pem -o leaf.rkb
check "the refusal names the file" grep -q 'leaf\.pem' "$T/err"
check_not "no bundle was written for the leaf" test -e leaf.rkb
cat ca1.pem leaf.pem ca2.pem >mixed.pem
expect_exit 3 "create refuses a leaf among CAs" "$BIN" create --key k.key \
    --channel c --version 1 --certs mixed.pem -o mixed.rkb
check "that refusal names mixed.pem" grep -q 'mixed\.pem' "$T/err"
expect_exit 2 "--expires-at before --issued-at" "$BIN" create --key k.key \
    --channel c --version 1 --certs cas.pem --allow-future \
    --issued-at 2030-01-02T00:00:00Z --expires-at 2030-01-01T00:00:00Z \
    -o t.rkb
check "that refusal is about the expiry" grep -q 'expiry' "$T/err"
expect_exit 2 "--expires-at equal to --issued-at" "$BIN" create \
    --key k.key --channel c --version 1 --certs cas.pem --allow-future \
    --issued-at 2030-01-01T00:00:00Z --expires-at 2030-01-01T00:00:00Z \
    -o t.rkb
# A typo in --issued-at would lift every device's time floor into the
# future (DESIGN.md section 3, "Time floor bound"): refused unless asked.
expect_exit 2 "--issued-at years ahead is refused without --allow-future" \
    "$BIN" create --key k.key --channel c --version 1 --certs cas.pem \
    --issued-at 2090-01-01T00:00:00Z -o future.rkb
check "that refusal says why and names --allow-future" \
    grep -q 'ahead of this host.s clock.*--allow-future' "$T/err"
check_not "no bundle was written for it" test -e future.rkb
expect_exit 2 "--issued-at two hours ahead is refused" "$BIN" create \
    --key k.key --channel c --version 1 --certs cas.pem \
    --issued-at "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)" -o future.rkb
expect_exit 0 "--issued-at half an hour ahead is fine" "$BIN" create \
    --key k.key --channel c --version 1 --certs cas.pem \
    --issued-at "$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ)" \
    -o future.rkb
rm -f future.rkb
expect_exit 0 "--issued-at 2090 with --allow-future" "$BIN" create \
    --key k.key --channel c --version 1 --certs cas.pem --allow-future \
    --issued-at 2090-01-01T00:00:00Z -o future.rkb
expect_exit 2 "--issued-at not RFC 3339" "$BIN" create --key k.key \
    --channel c --version 1 --certs cas.pem --issued-at yesterday -o t.rkb
expect_exit 0 "--issued-at before --expires-at (control)" "$BIN" create \
    --key k.key --channel c --version 1 --certs cas.pem --allow-future \
    --issued-at 2030-01-01T00:00:00Z --expires-at 2030-01-02T00:00:00Z \
    -o t.rkb
expect_exit 0 "inspect --json t.rkb" "$BIN" inspect --json t.rkb
check_eq "issued_at and expires_at are the ones given" \
    "$(jq -r '.issued_at + " " + .expires_at' "$T/out")" \
    "2030-01-01T00:00:00Z 2030-01-02T00:00:00Z"
for v in 0 9007199254740992 abc -1 18446744073709551617 ""; do
	expect_exit 2 "--version '$v' is refused" "$BIN" create --key k.key \
	    --channel c --version "$v" --certs cas.pem -o v.rkb
done
check_not "no bundle was written for a bad version" test -e v.rkb
expect_exit 0 "--version 9007199254740991 (2^53-1) is accepted" "$BIN" \
    create --key k.key --channel c --version 9007199254740991 \
    --certs cas.pem -o vmax.rkb
expect_exit 0 "inspect --json vmax.rkb" "$BIN" inspect --json vmax.rkb
check_eq "version 2^53-1 round-trips" "$(jq -r .version "$T/out")" \
    9007199254740991
for ch in "Bad Channel" "UPPER" "" "$(printf 'x%.0s' {1..65})"; do
	expect_exit 2 "--channel '${ch:0:20}' is refused" "$BIN" create \
	    --key k.key --channel "$ch" --version 1 --certs cas.pem -o ch.rkb
done
check_not "no bundle was written for a bad channel" test -e ch.rkb
expect_exit 2 "create with the same key twice" "$BIN" create --key k.key \
    --key k.key --channel c --version 1 --certs cas.pem -o twice.rkb
expect_exit 2 "create --key with a public key file" "$BIN" create \
    --key k.pub --channel c --version 1 --certs cas.pem -o pub.rkb

# ---- create --distrust --------------------------------------------------

ca2_sha=$(der_sha ca2.pem)
printf '[{"sha256": "%s", "reason": "test distrust"}]\n' "$ca2_sha" \
    >distrust.json
expect_exit 0 "create --distrust with the fingerprint of ca2" "$BIN" \
    create --key k.key --channel c --version 1 --certs cas.pem \
    --distrust distrust.json -o dist.rkb
check "a warning names the distrusted cert" grep -q 'Commands Root 2' \
    "$T/err"
expect_exit 0 "inspect --json good.rkb" "$BIN" inspect --json good.rkb
n_good=$(jq '.certs | length' "$T/out")
expect_exit 0 "inspect --json dist.rkb" "$BIN" inspect --json dist.rkb
cp "$T/out" dist.json
check_eq "dist.rkb has one cert fewer" "$(jq '.certs | length' dist.json)" \
    $((n_good - 1))
check_eq "the cert left is ca1" "$(jq -r '.certs[0].sha256' dist.json)" \
    "$(der_sha ca1.pem)"
check_eq "the distrust entry is in the manifest" \
    "$(jq -r '.distrust[0].sha256 + " " + .distrust[0].reason' dist.json)" \
    "$ca2_sha test distrust"
expect_exit 0 "inspect (text) dist.rkb" "$BIN" inspect dist.rkb
check "inspect text shows the distrust entry" grep -qE \
    "^  $ca2_sha +never trusted: test distrust\$" "$T/out"
check "inspect text says distrust: 1" grep -qE '^distrust: +1$' "$T/out"
expect_exit 0 "verify dist.rkb" "$BIN" verify --pub k.pub dist.rkb
printf '[{"sha256": "%s"}, {"sha256": "%s"}]\n' "$ca2_sha" \
    "$(der_sha ca1.pem)" >all-distrusted.json
expect_exit 3 "distrusting every input cert leaves nothing -> 3" "$BIN" \
    create --key k.key --channel c --version 1 --certs cas.pem \
    --distrust all-distrusted.json -o none.rkb
echo '{"sha256": "00"}' >bad-distrust.json
expect_exit 3 "a malformed distrust file -> 3" "$BIN" create --key k.key \
    --channel c --version 1 --certs cas.pem --distrust bad-distrust.json \
    -o bad.rkb

# ---- lift entries and --rollout ----------------------------------------

printf '[{"sha256": "%s", "lift": true, "reason": "by mistake"}]\n' \
    "$ca2_sha" >lift.json
expect_exit 0 "create with a lift entry keeps the lifted cert" "$BIN" \
    create --key k.key --channel c --version 2 --certs cas.pem \
    --distrust lift.json --rollout 10 --rollout-seed wave-1 -o lift.rkb
expect_exit 0 "inspect --json lift.rkb" "$BIN" inspect --json lift.rkb
cp "$T/out" lift-out.json
check_eq "the lifted cert is in the set" \
    "$(jq '.certs | length' lift-out.json)" "$n_good"
check_eq "the lift entry is shown" \
    "$(jq -r '.distrust[0] | "\(.sha256) \(.lift) \(.after)"' lift-out.json)" \
    "$ca2_sha true null"
check_eq "the rollout is shown" \
    "$(jq -r '.rollout | "\(.percent) \(.seed)"' lift-out.json)" "10 wave-1"
check_eq "no rollout shows as null" "$(jq -r .rollout dist.json)" null
expect_exit 0 "inspect (text) lift.rkb" "$BIN" inspect lift.rkb
check "inspect text shows the lift" grep -qE \
    "^  $ca2_sha +lifted \\(trusted again\\): by mistake\$" "$T/out"
check "inspect text shows the rollout" grep -qE \
    '^rollout: +10% \(seed wave-1\)$' "$T/out"
printf '[{"sha256": "%s", "lift": true, "after": "2025-01-01T00:00:00Z"}]\n' \
    "$ca2_sha" >lift-after.json
expect_exit 3 "a lift with an after date -> 3" "$BIN" create --key k.key \
    --channel c --version 2 --certs cas.pem --distrust lift-after.json \
    -o bad.rkb
for bad in "--rollout 0 --rollout-seed s" "--rollout 101 --rollout-seed s" \
    "--rollout 10" "--rollout-seed s" "--rollout 10 --rollout-seed S" \
    "--rollout ten --rollout-seed s"; do
	# shellcheck disable=SC2086 # the options are split on purpose
	expect_exit 2 "create $bad" "$BIN" create --key k.key --channel c \
	    --version 2 --certs cas.pem $bad -o bad.rkb
done
check_not "no bad.rkb was written" test -e bad.rkb

# ---- corrupted and truncated bundles ----------------------------------

rkb_parse good.rkb || true
size=$(fsize good.rkb)
cp good.rkb flip0.rkb
flip flip0.rkb "$RKB_MAN_OFF"            # '{' of the manifest
expect_exit 3 "manifest's first byte flipped: verify" "$BIN" verify \
    --pub k.pub flip0.rkb
expect_exit 3 "manifest's first byte flipped: inspect" "$BIN" inspect \
    flip0.rkb
# A byte inside the channel name: the JSON still parses, only the
# signature can tell.
off=$(grep -boa '"a.b_c-9"' good.rkb | head -n 1 | cut -d: -f1)
cp good.rkb flipch.rkb
printf 'z' | dd of=flipch.rkb bs=1 seek=$((off + 1)) conv=notrunc \
    status=none
check_eq "the altered bundle now says channel z.b_c-9" \
    "$(cutb flipch.rkb "$RKB_MAN_OFF" "$RKB_MAN_LEN" | jq -r .channel)" \
    z.b_c-9
expect_exit 3 "channel byte changed in the manifest: verify" "$BIN" \
    verify --pub k.pub flipch.rkb
cp good.rkb flipcert.rkb
flip flipcert.rkb $((RKB_CERT_OFF[1] + RKB_CERT_LEN[1] - 10))
expect_exit 3 "a byte of cert #2 flipped: verify" "$BIN" verify \
    --pub k.pub flipcert.rkb
cp good.rkb flipsig.rkb
flip flipsig.rkb $((RKB_SIG_OFF[0] + 5))
expect_exit 3 "a byte of the signature flipped: verify" "$BIN" verify \
    --pub k.pub flipsig.rkb
cp good.rkb flipalg.rkb
flip flipalg.rkb $((RKB_SIG_OFF[0] - 3))
expect_exit 3 "the alg byte flipped: verify" "$BIN" verify --pub k.pub \
    flipalg.rkb
for cut in $((size - 1)) $((RKB_SIGNED_END + 1)) "$RKB_SIGNED_END" \
    $((size / 2)) 10 3 0; do
	head -c "$cut" good.rkb >trunc.rkb
	expect_exit 3 "truncated to $cut of $size bytes: verify" "$BIN" \
	    verify --pub k.pub trunc.rkb
	expect_exit 3 "truncated to $cut of $size bytes: inspect" "$BIN" \
	    inspect trunc.rkb
done
{ cat good.rkb; printf '\0'; } >trail.rkb
expect_exit 3 "one trailing byte: verify" "$BIN" verify --pub k.pub \
    trail.rkb
expect_exit 3 "one trailing byte: inspect" "$BIN" inspect trail.rkb
expect_exit 0 "the untouched bundle still verifies (control)" "$BIN" \
    verify --pub k.pub good.rkb
expect_exit 1 "verify of a missing file -> 1" "$BIN" verify --pub k.pub \
    missing.rkb

# ---- sign ---------------------------------------------------------------

cp good.rkb s.rkb
s_sum=$(sha_file s.rkb)
expect_exit 0 "sign with the key that already signed" "$BIN" sign \
    --key k.key s.rkb
check "it says 'already signed'" grep -q 'already signed' "$T/out"
check_eq "the file is unchanged" "$(sha_file s.rkb)" "$s_sum"
expect_exit 0 "sign with a second key" "$BIN" sign --key k2.key s.rkb
s2_sum=$(sha_file s.rkb)
expect_exit 0 "sign with the second key again" "$BIN" sign --key k2.key \
    s.rkb
check "it says 'already signed' again" grep -q 'already signed' "$T/out"
check_eq "the two-signature file is unchanged" "$(sha_file s.rkb)" \
    "$s2_sum"
expect_exit 0 "sign -o writes elsewhere" "$BIN" sign --key e.key \
    -o s3.rkb s.rkb
check_eq "sign -o leaves the input alone" "$(sha_file s.rkb)" "$s2_sum"
expect_exit 0 "s3.rkb verifies under three keys" "$BIN" verify \
    --pub k.pub --pub k2.pub --pub e.pub --threshold 3 s3.rkb
expect_exit 3 "sign refuses a corrupted bundle" "$BIN" sign --key k2.key \
    flip0.rkb

# ---- inspect --json -----------------------------------------------------

expect_exit 0 "inspect --json s3.rkb" "$BIN" inspect --json s3.rkb
cp "$T/out" s3.json
check "inspect --json parses with jq" jq -e . s3.json
check_eq "channel" "$(jq -r .channel s3.json)" a.b_c-9
check_eq "version is the number 1" "$(jq -r '.version | type' s3.json) \
$(jq -r .version s3.json)" "number 1"
check "certs[] each have a string subject, a hex sha256, an RFC 3339 not_after" \
    jq -e '(.certs | length) == 2 and all(.certs[]; (.subject | type) == "string" and (.sha256 | test("^[0-9a-f]{64}$")) and (.not_after | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")))' \
    s3.json
check "signatures[] each have a 64-hex key_id" jq -e \
    '(.signatures | length) == 3 and all(.signatures[]; .key_id | test("^[0-9a-f]{64}$"))' \
    s3.json
check_eq "certs[] sha256 are the inputs' DER hashes" \
    "$(jq -r '[.certs[].sha256] | join(" ")' s3.json)" \
    "$(der_sha ca1.pem) $(der_sha ca2.pem)"
check "certs[0].subject names Commands Root 1" jq -e \
    '.certs[0].subject | contains("CN=Commands Root 1")' s3.json
check_eq "signatures[].key_id are the three keys' ids, in order" \
    "$(jq -r '[.signatures[].key_id] | join(" ")' s3.json)" \
    "$(spki_id k.pub) $(spki_id k2.pub) $(spki_id e.pub)"
check_eq "signatures[].alg" \
    "$(jq -r '[.signatures[].alg] | join(" ")' s3.json)" \
    "ed25519 ed25519 ecdsa-p256"

# ---- publish ------------------------------------------------------------

mkdir www
"$BIN" create --key k.key --channel pub --version 1 --certs cas.pem \
    -o v1.rkb >/dev/null
"$BIN" create --key k.key --channel pub --version 2 --certs cas.pem \
    -o v2.rkb >/dev/null
"$BIN" create --key k.key --channel pub --version 2 --certs ca1.pem \
    -o v2other.rkb >/dev/null
check_not "v2 and v2other differ (control)" cmp -s v2.rkb v2other.rkb
expect_exit 0 "publish v1" "$BIN" publish v1.rkb --to www
check "www/pub/1.rkb is byte-identical to v1.rkb" cmp -s www/pub/1.rkb v1.rkb
check "www/pub/latest.rkb is byte-identical to v1.rkb" \
    cmp -s www/pub/latest.rkb v1.rkb
expect_exit 3 "publish v1 again" "$BIN" publish v1.rkb --to www
check "latest unchanged (v1)" cmp -s www/pub/latest.rkb v1.rkb
expect_exit 0 "publish v2" "$BIN" publish v2.rkb --to www
check "www/pub/2.rkb is v2" cmp -s www/pub/2.rkb v2.rkb
check "latest replaced by v2" cmp -s www/pub/latest.rkb v2.rkb
check "1.rkb still v1" cmp -s www/pub/1.rkb v1.rkb
expect_exit 3 "publish v1 (lower) after v2" "$BIN" publish v1.rkb --to www
check "latest unchanged (v2)" cmp -s www/pub/latest.rkb v2.rkb
expect_exit 3 "publish a different bundle as v2 while latest is v2" \
    "$BIN" publish v2other.rkb --to www
rm www/pub/latest.rkb
expect_exit 3 "publish a DIFFERENT v2 after removing latest" "$BIN" \
    publish v2other.rkb --to www
check "2.rkb still the first v2" cmp -s www/pub/2.rkb v2.rkb
check_not "no latest.rkb was written by the refusal" test -e \
    www/pub/latest.rkb
expect_exit 0 "re-publish the same v2 after removing latest" "$BIN" \
    publish v2.rkb --to www
check "latest restored to v2" cmp -s www/pub/latest.rkb v2.rkb
# With latest gone, the numbered files still hold the line.
rm www/pub/latest.rkb
expect_exit 3 "publish v1 after removing latest while 2.rkb exists" "$BIN" \
    publish v1.rkb --to www
check_not "no latest.rkb written by that refusal" test -e www/pub/latest.rkb
expect_exit 0 "re-publish v2 to restore latest" "$BIN" publish v2.rkb \
    --to www
check "latest is v2 again" cmp -s www/pub/latest.rkb v2.rkb
leftovers=$(find www -type f ! -name '[0-9]*.rkb' ! -name latest.rkb)
check_eq "no temp files left in www" "$leftovers" ""
expect_exit 1 "publish --to a missing folder" "$BIN" publish v1.rkb \
    --to nowhere
check_not "the missing folder was not created" test -e nowhere
echo "not a bundle" >www/pub/junk.rkb
expect_exit 3 "publish refuses a corrupted input" "$BIN" publish \
    www/pub/junk.rkb --to www
check "latest unchanged after that" cmp -s www/pub/latest.rkb v2.rkb

# ---- publish keeps the rotations ---------------------------------------

"$BIN" keygen -o rot1 >/dev/null
"$BIN" keygen -o rot2 >/dev/null
check_not "no rotations folder before a rotation" test -e www/pub/rotations
"$BIN" create --key k.key --key rot1.key --channel pub --version 10 \
    --certs cas.pem --next-keys rot1.pub --next-threshold 1 -o r10.rkb \
    >/dev/null
"$BIN" create --key rot1.key --channel pub --version 11 --certs cas.pem \
    -o r11.rkb >/dev/null
"$BIN" create --key rot1.key --key rot2.key --channel pub --version 12 \
    --certs cas.pem --next-keys rot2.pub --next-threshold 1 -o r12.rkb \
    >/dev/null
expect_exit 0 "publish v10 (rotates to rot1)" "$BIN" publish r10.rkb --to www
check "it says where the rotation is kept" grep -q 'rotations/10.rkb' \
    "$T/out"
check "www/pub/rotations/10.rkb is v10" cmp -s www/pub/rotations/10.rkb \
    r10.rkb
check_eq "rotations/index.txt lists 10" "$(cat www/pub/rotations/index.txt)" \
    10
expect_exit 0 "publish v11 (no rotation)" "$BIN" publish r11.rkb --to www
check_not "v11 is not under rotations/" test -e www/pub/rotations/11.rkb
expect_exit 0 "publish v12 (rotates to rot2)" "$BIN" publish r12.rkb --to www
check_eq "rotations/index.txt lists 10 and 12, in order" \
    "$(tr '\n' ' ' <www/pub/rotations/index.txt)" "10 12 "
check "latest is v12" cmp -s www/pub/latest.rkb r12.rkb

finish
