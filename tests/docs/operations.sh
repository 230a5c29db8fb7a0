#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs docs/OPERATIONS.md: every fenced `sh` block, in order, as one bash
# script (set -euo pipefail) in a temp folder, so the operators' guide
# cannot drift from the tools.  The suite provides what the guide assumes
# of a signing host and its web server: a SoftHSM2 token store of its own
# (SOFTHSM2_CONF), the publish folder served by a real nginx
# (tests/lib/nginx.sh) that writes the "combined" access log, and PATH with
# the two programs under test.  It then checks that the walk-through ended
# where the guide says: the published versions, the devices' active
# versions and pinned keys, and the census of the access log.
#
# usage: operations.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=../cli/lib.sh
. "$(dirname -- "$0")/../cli/lib.sh"
# shellcheck source=../lib/nginx.sh
. "$(dirname -- "$0")/../lib/nginx.sh"
DOC=$(readlink -f -- "$(dirname -- "$0")/../../docs/OPERATIONS.md")
if [ $# -ne 2 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH/TO/rootkeeper PATH/TO/rootkeeper-sign" >&2
	exit 2
fi
RK=$(readlink -f -- "$1")
rk_setup "$2"
trap 'nginx_stop; rk_cleanup' EXIT
printf 'leak:libcrypto.so\nleak:libsofthsm2.so\n' >"$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

mkdir -p "$T/tokens" "$T/publish" "$T/work" "$T/bin"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
for m in /usr/lib/softhsm/libsofthsm2.so \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && export PKCS11_MODULE=$m && break
done
ln -s "$RK" "$T/bin/rootkeeper"
ln -s "$BIN" "$T/bin/rootkeeper-sign"
export PATH="$T/bin:$PATH"

echo "access_log $T/access.log combined;" >"$T/extra.conf"
NGINX_EXTRA_CONF=$T/extra.conf
nginx_start "$T/publish"
export PUBLISH=$T/publish UPDATE_URL=$NGINX_URL ACCESS_LOG=$T/access.log

# The guide's sh blocks, in order.
awk '/^```sh$/ { on = 1; next } /^```/ { on = 0 } on' "$DOC" >"$T/guide.sh"
check "the guide has commands to run" test -s "$T/guide.sh"
cd "$T/work"
if bash -euo pipefail "$T/guide.sh" >"$T/guide.out" 2>&1; then
	ok "every command of docs/OPERATIONS.md runs ($(grep -c . "$T/guide.sh") lines)"
else
	not_ok "every command of docs/OPERATIONS.md runs"
	tail -n 25 "$T/guide.out" | sed 's/^/# /'
fi
nginx_stop

# Where the walk-through must have ended.
latest()
{
	"$BIN" inspect --json "$PUBLISH/$1/latest.rkb" 2>/dev/null | jq -r .version
}
active()
{
	rootkeeper --config "dev/$1/rootkeeper.conf" status --json 2>/dev/null |
	    jq -r .active_version
}
check_eq "store: version 4 published" "$(latest store)" 4
check_eq "hub: version 6 published" "$(latest hub)" 6
check_eq "every published version is kept" \
    "$(find "$PUBLISH" -mindepth 2 -maxdepth 2 -name '[0-9]*.rkb' | wc -l)" 10
check "the rotation is kept for the catch-up" \
    test -f "$PUBLISH/hub/rotations/5.rkb"
check_eq "store-1 took version 4" "$(active store-1)" 4
check_eq "store-2 stayed on version 2 (not polled since)" "$(active store-2)" 2
check_eq "hub-1 took version 6, signed by the rotated keys" "$(active hub-1)" 6
check_eq "hub-4, offline during the rotation, caught up to version 6" \
    "$(active hub-4)" 6
check "hub-1 no longer trusts Root A" \
    bash -c "! rootkeeper --config dev/hub-1/rootkeeper.conf certs |
	grep -q 'CN=DigiCert Global Root CA\$'"
check "store-1 trusts Root A again after the lift" \
    bash -c "rootkeeper --config dev/store-1/rootkeeper.conf certs |
	grep -q 'CN=DigiCert Global Root CA\$'"
# The rollout's buckets: SHA-256("rootkeeper rollout" 0x00 seed 0x00 id),
# the first 8 bytes big-endian, modulo 10000, below 25 x 100 takes it.
took=0
for d in hub-1 hub-2 hub-3 hub-4; do
	h=$(printf 'rootkeeper rollout\0hub-root-b\0%s' "$d" | sha256sum | cut -c1-16)
	b=$((((16#${h:0:8} % 10000) * 7296 + 16#${h:8:8}) % 10000)) # 2^32 = 7296 mod 10000
	if [ "$b" -lt 2500 ]; then took=$((took + 1)); fi
done
check_eq "census at 25%: hub devices active on 2 as their buckets say" \
    "$(jq -r '.channels.hub.active["2"] // 0' census-25.json)" "$took"
check_eq "census at 25%: the others defer version 2" \
    "$(jq -r '.channels.hub.deferred["2"] // 0' census-25.json)" \
    "$((4 - took))"
check_eq "census after the full rollout: 6 devices, every hub device on 3" \
    "$(jq -c '[.devices, .channels.hub.active]' census.json)" '[6,{"3":4}]'
check "no private key file in the tokens' folder of keys" \
    bash -c "! ls keys/signer-*.key 2>/dev/null | grep -q ."
check "census: the guide's census.json counts devices" \
    jq -e '.devices | type == "number"' census.json
cat keys/*.pin keys/recovery.pass >"$T/secrets"
check_not "the PINs and the passphrase never reached the output" \
    grep -qF -f "$T/secrets" "$T/guide.out"

finish
