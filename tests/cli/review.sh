#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Review before signing: `rootkeeper-sign diff` between two bundles (text
# and --json) shows the roots added and removed with subject, SHA-256 and
# not_after as openssl sees them, distrust entries added, changed and
# dropped, key rotation, expiry and the warnings a reviewer must not miss;
# `sign` shows on stderr what it is about to sign and, with --against, the
# diff from the published latest, before it touches a key.
#
# usage: review.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
rk_setup "$@"
cd "$T"

mk_ca ra "Review Root A"
mk_ca rb "Review Root B"
mk_ca rc "Review Root C"
mk_ca rd "Review Root D"
"$BIN" keygen -o k1 >/dev/null
"$BIN" keygen --alg ecdsa-p256 -o k2 >/dev/null
sha_a=$(der_sha ra.pem)
sha_b=$(der_sha rb.pem)
sha_c=$(der_sha rc.pem)
sha_d=$(der_sha rd.pem)
na_b=$(date -u -d "$(openssl x509 -in rb.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
na_a=$(date -u -d "$(openssl x509 -in ra.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)

cat >d1.json <<EOF2
[{"sha256": "$sha_c", "after": "2026-01-01T00:00:00Z", "reason": "partial"},
 {"sha256": "$sha_d", "reason": "old entry"}]
EOF2
cat >d2.json <<EOF2
[{"sha256": "$sha_c", "reason": "compromised"},
 {"sha256": "$(printf '%064d' 7)", "reason": "new entry"}]
EOF2
"$BIN" create --key k1.key --channel hub --version 41 --certs ra.pem \
    --distrust d1.json --issued-at 2026-11-01T00:00:00Z \
    --expires-at 2027-05-01T00:00:00Z -o old.rkb >/dev/null
"$BIN" create --key k1.key --channel hub --version 42 --certs ra.pem \
    --certs rb.pem --distrust d2.json --next-keys k2.pub --next-threshold 1 \
    --issued-at 2026-11-02T00:00:00Z --expires-at 2027-04-01T00:00:00Z \
    -o new.rkb >/dev/null 2>&1

# ---- diff --json ----------------------------------------------------------

expect_exit 0 "diff --json OLD NEW" "$BIN" diff --json old.rkb new.rkb
cp "$T/out" diff.json
check "the output is JSON" jq -e . diff.json
check_eq "one root added" "$(jq -r '.roots.added | length' diff.json)" 1
check_eq "the added root's subject" "$(jq -r '.roots.added[0].subject' diff.json)" \
    "/O=rootkeeper test/CN=Review Root B"
check_eq "the added root's sha256 (openssl)" \
    "$(jq -r '.roots.added[0].sha256' diff.json)" "$sha_b"
check_eq "the added root's not_after (openssl)" \
    "$(jq -r '.roots.added[0].not_after' diff.json)" "$na_b"
check_eq "no root removed" "$(jq -r '.roots.removed | length' diff.json)" 0
check_eq "one distrust entry added" \
    "$(jq -r '.distrust.added | map(.sha256) | join(",")' diff.json)" \
    "$(printf '%064d' 7)"
check_eq "the changed entry: after -> never" \
    "$(jq -r '.distrust.changed[0] | [.old.sha256, .old.after, .new.after, .new.reason] | join(",")' diff.json)" \
    "$sha_c,2026-01-01T00:00:00Z,,compromised"
check_eq "the dropped entry" \
    "$(jq -r '.distrust.dropped | map(.sha256) | join(",")' diff.json)" "$sha_d"
check_eq "key rotation changed, to k2" \
    "$(jq -r '.key_rotation | [.changed, .old, .new.threshold, .new.key_ids[0]] | join(",")' diff.json)" \
    "true,,1,$(spki_id k2.pub)"
check_eq "versions and expiry" \
    "$(jq -r '[.old.version, .new.version, .old.expires_at, .new.expires_at] | join(",")' diff.json)" \
    "41,42,2027-05-01T00:00:00Z,2027-04-01T00:00:00Z"
check "warned: the new bundle expires sooner" \
    jq -e '.warnings | any(test("expires before"))' diff.json
check "warned: a distrust entry dropped stays in force" \
    jq -e '.warnings | any(test("dropped"))' diff.json
check_eq "the sha256 of each file" \
    "$(jq -r '[.old.sha256, .new.sha256] | join(",")' diff.json)" \
    "$(sha_file old.rkb),$(sha_file new.rkb)"

# ---- diff as text ---------------------------------------------------------

expect_exit 0 "diff NEW OLD (backwards) as text" "$BIN" diff new.rkb old.rkb
check "text: Root B removed with its sha256" \
    grep -qF "  - /O=rootkeeper test/CN=Review Root B" "$T/out"
check "text: the removed root's sha256 and not_after" \
    grep -qF "sha256 $sha_b  not_after $na_b" "$T/out"
check "text: warns the version is not above" \
    grep -q "WARNING: version 41 is not above 42" "$T/out"
check_not "text: Root A is not listed as a change" \
    grep -qF "$sha_a  not_after $na_a" "$T/out"
"$BIN" create --key k1.key --channel other --version 43 --certs ra.pem \
    -o other.rkb >/dev/null
expect_exit 0 "diff across channels" "$BIN" diff old.rkb other.rkb
check "text: warns of the other channel" \
    grep -q "WARNING: channel differs: hub -> other" "$T/out"
expect_exit 0 "diff of a bundle with itself" "$BIN" diff old.rkb old.rkb
check "text: nothing added or removed" \
    grep -q "roots: 1 -> 1 (0 added, 0 removed)" "$T/out"
check_not "text: no warning" grep -q WARNING "$T/out"

head -c 100 new.rkb >cut.rkb
expect_exit 3 "diff of a truncated bundle is refused" "$BIN" diff old.rkb cut.rkb
expect_exit 2 "diff needs two bundles" "$BIN" diff old.rkb

# ---- rollout and lift ------------------------------------------------------

cat >d3.json <<EOF2
[{"sha256": "$sha_c", "lift": true, "reason": "distrusted by mistake"},
 {"sha256": "$(printf '%064d' 7)", "reason": "new entry"}]
EOF2
"$BIN" create --key k1.key --key k2.key --channel hub --version 43 \
    --certs ra.pem --certs rb.pem --distrust d3.json --rollout 10 \
    --rollout-seed hub-2026 --issued-at 2026-11-03T00:00:00Z \
    --expires-at 2027-04-01T00:00:00Z -o lift.rkb >/dev/null
expect_exit 0 "diff --json with a lift and a rollout" \
    "$BIN" diff --json new.rkb lift.rkb
cp "$T/out" lift.json
check_eq "the lifted entry" \
    "$(jq -r '.distrust.lifted | map([.sha256, .lift, .reason] | join(",")) | join(";")' lift.json)" \
    "$sha_c,true,distrusted by mistake"
check_eq "a lift is neither added nor changed" \
    "$(jq -r '[.distrust.added, .distrust.changed] | map(length) | join(",")' lift.json)" \
    "0,0"
check_eq "rollout: none before, 10% of seed hub-2026 now" \
    "$(jq -r '[.rollout.old, .rollout.new.percent, .rollout.new.seed] | join(",")' lift.json)" \
    ",10,hub-2026"
expect_exit 0 "diff as text with a lift and a rollout" \
    "$BIN" diff new.rkb lift.rkb
check "text: the lift" grep -qF "lift $sha_c  lifted: distrusted by mistake" "$T/out"
check "text: the rollout" \
    grep -qx "rollout: everyone -> 10% (seed hub-2026)" "$T/out"
"$BIN" create --key k1.key --key k2.key --channel hub --version 44 \
    --certs ra.pem --certs rb.pem --rollout 50 --rollout-seed other-seed \
    --issued-at 2026-11-04T00:00:00Z --expires-at 2027-04-01T00:00:00Z \
    -o reseed.rkb >/dev/null
expect_exit 0 "diff --json of a rollout under another seed" \
    "$BIN" diff --json lift.rkb reseed.rkb
check "warned: the seed changed" \
    jq -e '.warnings | any(test("seed changed"))' "$T/out"
expect_exit 0 "sign shows the rollout" "$BIN" sign --key k1.key -o z.rkb lift.rkb
check "stderr: rollout 10% (seed hub-2026)" \
    grep -q "rollout 10% (seed hub-2026)" "$T/err"

# ---- sign shows what it signs ----------------------------------------------

expect_exit 0 "sign --against LATEST" \
    "$BIN" sign --key k2.key --against old.rkb new.rkb
check "stderr: about to sign, with channel, version and counts" \
    grep -q "about to sign new.rkb: channel hub, version 42, 2 roots, 2 distrust entries" \
    "$T/err"
check "stderr: the diff from the latest" \
    grep -qF "  + /O=rootkeeper test/CN=Review Root B" "$T/err"
check_not "stdout: no diff" grep -q "about to sign" "$T/out"
expect_exit 0 "sign without --against" "$BIN" sign --key k1.key -o x.rkb old.rkb
check "stderr: about to sign old.rkb" \
    grep -q "about to sign old.rkb: channel hub, version 41, 1 roots" "$T/err"
expect_exit 3 "sign --against a truncated latest refuses before signing" \
    "$BIN" sign --key k1.key --against cut.rkb -o y.rkb old.rkb
check_not "nothing written" test -e y.rkb

finish
