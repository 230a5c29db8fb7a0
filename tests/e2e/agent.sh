#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The device agent end to end against a real nginx (DESIGN.md sections 3
# and 4): a device provisioned with a factory bundle polls latest.rkb, and
# the suite walks it through an update, every kind of refusal (an older
# bundle served as latest, an expired one, another channel's, one signed
# by a key the device does not pin, and an equivocation: other bytes under
# a version already verified), a rollback that the next poll must not
# undo, a conditional GET answered 304, the size cap enforced while
# downloading, and a dead mirror followed by a live one.  Each step is
# judged from the outside: exit codes, `status --json`, `list --json` and
# `certs --json` read with jq, the exported PEM read with openssl, and
# nginx's access log.  Then the status levels (ok, warning, critical for
# no store, unknown for a file that is not a store), `status` run by a
# user who can only read the store, and an export tampered with, which
# `status` reports and the next `check` rewrites.
#
# The agent has no command that shows its event log: the events are
# judged through last_check.detail, which holds the same text.
#
# usage: agent.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

CH=e2e
mkdir -p www dev
DB=$T/dev/store.db
PEM=$T/dev/trust.pem

"$SIGN" keygen -o k1 >/dev/null
"$SIGN" keygen -o k2 >/dev/null # never pinned on the device
for i in 1 2 3 4 5 6; do
	mk_ca "ca$i" "E2E Root $i"
done

mk v1 1 -- ca1
mk v2 2 -- ca1 ca2
mk v2b 2 -- ca1 ca3 # the equivocation
mk v3exp 3 --issued-at 2024-01-01T00:00:00Z \
    --expires-at 2024-03-01T00:00:00Z -- ca1
"$SIGN" create --key k1.key --channel other --version 3 --certs ca1.pem \
    -o v3other.rkb >/dev/null
"$SIGN" create --key k2.key --channel "$CH" --version 3 --certs ca1.pem \
    -o v3unk.rkb >/dev/null
mk v3 3 -- ca2 ca3
printf '[{"sha256": "%s", "after": "2025-01-01T00:00:00Z", "reason": "e2e"}]\n' \
    "$(der_sha ca3.pem)" >distrust.json
mk v4 4 --distrust distrust.json -- ca2 ca3 ca4 ca5 ca6

# ---- provisioning with a factory bundle --------------------------------

expect_exit 0 "init --pin --bundle v1.rkb (the factory bundle)" \
    agent init --pin k1.pub --bundle v1.rkb
st
check_eq "after init: status ok (exit 0)" "$ST_RC/$(jget st.json .status)" \
    "0/ok"
check_eq "after init: channel taken from the factory bundle" \
    "$(jget st.json .channel)" "$CH"
check_eq "after init: active_version 1, highest_version 1" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "1 1"
check_eq "after init: active.sha256 is v1.rkb's" \
    "$(jget st.json .active.sha256)" "$(sha_file v1.rkb)"
check_eq "after init: keys.ids is k1's key id, threshold 1" \
    "$(jget st.json '"\(.keys.threshold) \(.keys.ids | join(","))"')" \
    "1 $(spki_id k1.pub)"
agent list --json
check_eq "after init: list shows v1 active and factory" \
    "$(jget "$T/out" '[.versions[] | "\(.version):\(.state):\(.factory)"] | join(" ")')" \
    "1:active:true"
check_eq "after init: the export holds v1's certificate" \
    "$(pem_fps "$PEM")" "$(fps_of ca1.pem)"

# ---- an update over HTTP -----------------------------------------------

nginx_start www
URL=$NGINX_URL/$CH/latest.rkb
LPATH=/$CH/latest.rkb
publish v1.rkb www
publish v2.rkb www

expect_exit 0 "check --url: v2 published" agent check --url "$URL"
check "check says updated" grep -q '^updated: activated v2' "$T/out"
st
check_eq "v2 active, highest 2" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "2 2"
check_eq "last_check.result updated" "$(jget st.json .last_check.result)" \
    updated
check_eq "active.sha256 is v2.rkb's, active.certs 2" \
    "$(jget st.json '"\(.active.sha256) \(.active.certs)"')" \
    "$(sha_file v2.rkb) 2"
check_eq "the export holds 2 certificates" "$(pem_count "$PEM")" 2
check_eq "the export is v2's set (ca1, ca2)" "$(pem_fps "$PEM")" \
    "$(fps_of ca1.pem ca2.pem)"
check_eq "nginx sent latest.rkb in full (200, all bytes)" \
    "$(req_lines "$LPATH" | tail -n 1 | awk '{ print $4, $5, $6 }')" \
    "200 $(fsize v2.rkb) OK"

# ---- refusals: each leaves v2 active -----------------------------------

# refuse NAME DESC PATTERN: serves NAME.rkb as latest; check must exit 3,
# record "rejected" with PATTERN in the detail, and change nothing.
refuse()
{
	local name=$1 desc=$2 pat=$3 before
	agent list --json
	before=$(jget "$T/out" '[.versions[] | "\(.version):\(.state)"] | join(" ")')
	serve "$name.rkb" "www/$CH/latest.rkb"
	expect_exit 3 "$desc: check rejects it" agent check --url "$URL"
	check "$desc: stderr says why ($pat)" grep -qE -- "$pat" "$T/err"
	st
	check_eq "$desc: last_check.result rejected" \
	    "$(jget st.json .last_check.result)" rejected
	check "$desc: last_check.detail says why ($pat)" \
	    grep -qE -- "$pat" <(jget st.json .last_check.detail)
	check_eq "$desc: v2 stays active, highest stays 2" \
	    "$(jget st.json '"\(.active_version) \(.highest_version) \(.active.sha256)"')" \
	    "2 2 $(sha_file v2.rkb)"
	check_eq "$desc: status warns of the rejection (exit 1)" \
	    "$ST_RC/$(jget st.json .status)" "1/warning"
	agent list --json
	check_eq "$desc: nothing stored" \
	    "$(jget "$T/out" '[.versions[] | "\(.version):\(.state)"] | join(" ")')" \
	    "$before"
	check_eq "$desc: the export is still v2's" "$(pem_fps "$PEM")" \
	    "$(fps_of ca1.pem ca2.pem)"
}

refuse v1 "v1 served as latest (older)" 'version not above 2 \(rollback\)'
refuse v3exp "an expired v3" 'expired at 2024-03-01T00:00:00Z'
refuse v3other "a v3 of channel other" 'channel "other"'
refuse v3unk "a v3 signed by an unpinned key" \
    '0 valid signatures by pinned keys, 1 required'
refuse v2b "another bundle under version 2" 'equivocation'

# ---- rollback, and a poll that must not undo it ------------------------

expect_exit 0 "rollback" agent rollback
check "rollback says from v2 to v1" grep -q 'rolled back from v2 to v1' \
    "$T/out"
st
check_eq "after rollback: v1 active, highest still 2" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "1 2"
agent list --json
check_eq "after rollback: v2 bad, v1 active" \
    "$(jget "$T/out" '[.versions[] | "\(.version):\(.state)"] | join(" ")')" \
    "2:bad 1:active"
check_eq "after rollback: the export is v1's" "$(pem_fps "$PEM")" \
    "$(fps_of ca1.pem)"

serve v2.rkb "www/$CH/latest.rkb"
expect_exit 0 "check with v2 (same bytes) still published" \
    agent check --url "$URL"
st
check_eq "v2 is not re-applied: last_check.result current" \
    "$(jget st.json .last_check.result)" current
check_eq "v1 stays active, highest 2" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "1 2"
check_eq "the export is still v1's" "$(pem_fps "$PEM")" "$(fps_of ca1.pem)"

# ---- a newer version after the rollback --------------------------------

publish v3.rkb www
expect_exit 0 "check: v3 published" agent check --url "$URL"
st
check_eq "v3 active, highest 3" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "3 3"
check_eq "the export is v3's set (ca2, ca3)" "$(pem_fps "$PEM")" \
    "$(fps_of ca2.pem ca3.pem)"
agent list --json
check_eq "list: v3 active, v2 bad, v1 factory" \
    "$(jget "$T/out" '[.versions[] | "\(.version):\(.state)"] | join(" ")')" \
    "3:active 2:bad 1:factory"

# ---- nothing new: a conditional GET answered 304 -----------------------

n=$(req_count "$LPATH")
expect_exit 0 "check with nothing new" agent check --url "$URL"
check "check says not modified" grep -q 'not modified' "$T/out"
check_eq "exactly one request for latest.rkb" "$(req_count "$LPATH")" \
    $((n + 1))
check_eq "nginx answered it 304 with no body" \
    "$(req_lines "$LPATH" | tail -n 1 | awk '{ print $4, $5 }')" "304 0"
st
check_eq "after the 304: last_check.result current, v3 active" \
    "$(jget st.json '"\(.last_check.result) \(.active_version)"')" \
    "current 3"
expect_exit 0 "a second check with nothing new" agent check --url "$URL"
check_eq "... is a 304 again (the validators were kept)" \
    "$(req_lines "$LPATH" | tail -n 1 | awk '{ print $4, $5 }')" "304 0"

# ---- the size cap, enforced while downloading --------------------------

cat >cap.conf <<EOF
[agent]
db = $DB
max_bundle_size = 1K
EOF
publish v4.rkb www
check "v4.rkb is over 1 KiB" test "$(fsize v4.rkb)" -gt 1024
expect_exit 3 "max_bundle_size = 1K: check rejects v4" \
    "$RK" --config cap.conf check --url "$URL"
st
check_eq "over the cap: last_check.result rejected" \
    "$(jget st.json .last_check.result)" rejected
check "over the cap: the detail says over max_bundle_size" \
    grep -q 'over max_bundle_size' <(jget st.json .last_check.detail)
check_eq "over the cap: v3 active, highest 3" \
    "$(jget st.json '"\(.active_version) \(.highest_version)"')" "3 3"
agent list --json
check_eq "over the cap: no v4 stored" \
    "$(jget "$T/out" '[.versions[] | select(.version == 4)] | length')" 0

# A body far larger than any socket buffer: nginx can only log a partial
# transfer if the agent hung up once it passed the cap.
mkdir -p www/big
head -c $((64 << 20)) /dev/zero >www/big/latest.rkb
expect_exit 3 "a 64 MiB body with max_bundle_size = 1K" \
    "$RK" --config cap.conf check --url "$NGINX_URL/big/latest.rkb"
check "... the detail says over max_bundle_size" grep -q \
    'over max_bundle_size' "$T/err"
for _ in $(seq 1 50); do
	[ "$(req_count /big/latest.rkb)" -ge 1 ] && break
	sleep 0.1
done
big=$(req_lines /big/latest.rkb | tail -n 1)
check_eq "... nginx did not send it in full (no OK)" \
    "$(awk '{ print $6 }' <<<"$big")" ""
check "... nginx sent less than the file (${big:-no log line})" \
    test "$(awk '{ print $5 + 0 }' <<<"$big")" -lt $((64 << 20))
rm -f www/big/latest.rkb

# ---- an operational error ----------------------------------------------

expect_exit 1 "check of a URL that is 404" agent check --url \
    "$NGINX_URL/nope/latest.rkb"
st
check_eq "after a 404: last_check.result error" \
    "$(jget st.json .last_check.result)" error
check "after a 404: the detail names HTTP 404" \
    grep -q '404' <(jget st.json .last_check.detail)

# ---- mirrors: a dead one, then nginx -----------------------------------

dead=$(free_port)
cat >mirror.conf <<EOF
[agent]
url = http://127.0.0.1:$dead/$CH/latest.rkb
url = $URL
db = $DB
EOF
expect_exit 0 "two url= lines, the first a closed port: check" \
    "$RK" --config mirror.conf check
st
check_eq "updated from the second mirror: v4 active" \
    "$(jget st.json '"\(.last_check.result) \(.active_version)"')" \
    "updated 4"
check "the detail names the second mirror" \
    grep -qF "from $URL" <(jget st.json .last_check.detail)
check_eq "the export is v4's set" "$(pem_fps "$PEM")" \
    "$(fps_of ca2.pem ca3.pem ca4.pem ca5.pem ca6.pem)"

# ---- list --json --------------------------------------------------------

expect_exit 0 "list --json" agent list --json
cp "$T/out" list.json
check_eq "list: channel" "$(jget list.json .channel)" "$CH"
check_eq "list: versions 4 3 2 1, newest first" \
    "$(jget list.json '[.versions[].version | tostring] | join(" ")')" \
    "4 3 2 1"
check_eq "list: every version is a number" \
    "$(jget list.json '[.versions[] | .version | type] | unique | join(",")')" \
    number
check_eq "list: every certs is a number" \
    "$(jget list.json '[.versions[] | .certs | type] | unique | join(",")')" \
    number
check_eq "list: every state is active, stored, bad or factory" \
    "$(jget list.json '[.versions[] | select(.state | IN("active", "stored", "bad", "factory") | not)] | length')" \
    0
check_eq "list: exactly one active" \
    "$(jget list.json '[.versions[] | select(.state == "active")] | length')" \
    1
check_eq "list: every sha256 is 64 lowercase hex" \
    "$(jget list.json '[.versions[] | select(.sha256 | test("^[0-9a-f]{64}$") | not)] | length')" \
    0
check_eq "list: states and certificate counts" \
    "$(jget list.json '[.versions[] | "\(.version):\(.state):\(.certs)"] | join(" ")')" \
    "4:active:5 3:stored:2 2:bad:2 1:factory:1"
for v in 1 2 3 4; do
	check_eq "list: v$v's sha256 is the SHA-256 of v$v.rkb" \
	    "$(jget list.json ".versions[] | select(.version == $v) | .sha256")" \
	    "$(sha_file "v$v.rkb")"
done
check_eq "list: issued and expires are RFC 3339 times" \
    "$(jget list.json '[.versions[] | .issued, .expires | select(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$") | not)] | length')" \
    0

# ---- certs --json -------------------------------------------------------

expect_exit 0 "certs --json" agent certs --json
cp "$T/out" certs.json
check_eq "certs: version 4, 5 certificates" \
    "$(jget certs.json '"\(.version) \(.certs | length)"')" "4 5"
check_eq "certs: the sha256 are v4's certificates" \
    "$(jget certs.json '.certs[].sha256' | sort)" \
    "$(fps_of ca2.pem ca3.pem ca4.pem ca5.pem ca6.pem)"
check_eq "certs: every subject is a string naming an E2E root" \
    "$(jget certs.json '[.certs[] | select(.subject | type == "string" and test("CN ?= ?E2E Root [2-6]")) ] | length')" \
    5
check_eq "certs: every not_after is an RFC 3339 time" \
    "$(jget certs.json '[.certs[] | select(.not_after | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) ] | length')" \
    5
want_na=$(date -u -d "$(openssl x509 -in ca4.pem -noout -enddate |
    sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)
check_eq "certs: ca4's not_after is openssl's" \
    "$(jget certs.json ".certs[] | select(.sha256 == \"$(der_sha ca4.pem)\") | .not_after")" \
    "$want_na"
check_eq "certs: distrust_after is null but for ca3" \
    "$(jget certs.json '[.certs[] | select(.distrust_after != null) | .sha256] | join(",")')" \
    "$(der_sha ca3.pem)"
check_eq "certs: ca3's distrust_after is the bundle's" \
    "$(jget certs.json ".certs[] | select(.sha256 == \"$(der_sha ca3.pem)\") | .distrust_after")" \
    2025-01-01T00:00:00Z

# ---- status levels ------------------------------------------------------

st
check_eq "status ok exits 0" "$ST_RC/$(jget st.json .status)" 0/ok
check_eq "status ok has no reasons" "$(jget st.json '.reasons | length')" 0
check_eq "status --json has the fields of DESIGN.md section 4" \
    "$(jget st.json '[
	(.reasons | type == "array"),
	(.channel == "e2e"),
	(.active_version == 4), (.highest_version == 4),
	(.active.issued_at | test("Z$")), (.active.expires_at | test("Z$")),
	(.active.sha256 | test("^[0-9a-f]{64}$")), (.active.certs == 5),
	(.active.activated_at | test("Z$")),
	(.last_check.at | test("Z$")), (.last_check.result == "updated"),
	(.last_check.detail | type == "string"),
	has("next_check"), (.expiring_soon == []),
	(.clock.now | test("Z$")), (.clock.floor | test("Z$")),
	(.clock.behind == false),
	(.keys.threshold == 1), (.keys.ids | length == 1)
	] | all')" true
check_eq "status: active.sha256 is v4.rkb's" \
    "$(jget st.json .active.sha256)" "$(sha_file v4.rkb)"
run "$RK" --db "$DB" status
check_eq "status (text) exits 0 and says ok" \
    "$RC/$(head -n 1 "$T/out" | cut -d" " -f1-3)" "0/ROOTKEEPER OK -"

run "$RK" --db "$T/nothing/store.db" status --json
check_eq "no store at the path: exit 2, critical" \
    "$RC/$(jget "$T/out" .status)" 2/critical
check "no store: the reason says so" grep -q 'no store' \
    <(jget "$T/out" '.reasons[]')
check_not "no store: status created nothing" test -e "$T/nothing"

head -c 4096 /dev/urandom >garbage.db
run "$RK" --db "$T/garbage.db" status --json
check_eq "a garbage file as the store: exit 3, unknown" \
    "$RC/$(jget "$T/out" .status)" 3/unknown
run "$RK" --db "$T/garbage.db" status
check_eq "a garbage file (text): exit 3, says unknown" \
    "$RC/$(head -n 1 "$T/out" | cut -d" " -f1-3)" "3/ROOTKEEPER UNKNOWN -"
echo "SQLite format 3" >notsqlite.db
run "$RK" --db "$T/notsqlite.db" status --json
check_eq "a text file as the store: exit 3, unknown" \
    "$RC/$(jget "$T/out" .status)" 3/unknown

# ---- status by a user who can only read the store ----------------------

chmod 0755 "$T" "$T/dev"
chmod 0644 "$DB" "$PEM"
before=$(sha_file "$DB")
run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$RK" --db "$DB" status --json
check "status as nobody: exit code is not 3 (got $RC)" test "$RC" -ne 3
check_eq "status as nobody: JSON parses, same answer as root's" \
    "$(jget "$T/out" '"\(.status) \(.active_version) \(.active.sha256)"')" \
    "ok 4 $(sha_file v4.rkb)"
check_eq "status as nobody: exit 0 (ok)" "$RC" 0
run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$RK" --db "$DB" list --json
check_eq "list as nobody: exit 0, 4 versions" \
    "$RC/$(jget "$T/out" '.versions | length')" 0/4
check_eq "the store file is unchanged by the readers" "$(sha_file "$DB")" \
    "$before"
run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$RK" --db "$DB" check --url "$URL"
check "check as nobody fails as an operational error (exit 1)" \
    test "$RC" -eq 1

# ---- a tampered export --------------------------------------------------

cp "$PEM" good.pem
cat ca1.pem >"$PEM"
st
check_eq "tampered export: status warning (exit 1)" \
    "$ST_RC/$(jget st.json .status)" 1/warning
check "tampered export: a reason says stale export" grep -q 'stale export' \
    <(jget st.json '.reasons[]')
check_eq "tampered export: export.stale true" \
    "$(jget st.json .export.stale)" true
expect_exit 0 "check after the tampering" agent check --url "$URL"
check "check notes that it rewrote the export" grep -q \
    'export did not match the active set' "$T/err"
check_files_eq "the export is rewritten byte for byte" "$PEM" good.pem
st
check_eq "after the rewrite: status ok (exit 0), not stale" \
    "$ST_RC/$(jget st.json .status)/$(jget st.json .export.stale)" \
    0/ok/false
rm -f "$PEM"
st
check_eq "a missing export: status warning (exit 1)" \
    "$ST_RC/$(jget st.json .status)" 1/warning
expect_exit 0 "export --pem elsewhere also brings the export back" \
    agent export --pem "$T/copy.pem"
check_files_eq "the export is back" "$PEM" good.pem
check_files_eq "export --pem wrote the same PEM" "$T/copy.pem" good.pem

finish
