#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole flow on one machine, with no server: installs what is missing,
# builds, then plays both sides. The operator makes a signing key, signs this
# machine's CA store as version 1 of channel "demo" and publishes it into a
# folder laid out as a web server would serve it; a device is provisioned with
# that bundle as its factory set; the operator publishes version 2 (one new
# root added, one root removed); the device checks (file:// URL), shows its
# status and versions, rolls back, and refuses a replayed version 1. Each
# command is printed before it runs. Everything is made in a temporary
# directory that is removed at exit; nothing is installed outside build/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

"$root/scripts/deps.sh"
# Only the programs: the test suites need the test-only packages (cmocka).
"$root/scripts/build.sh" "$root/build" -DRK_TESTS=OFF

PATH="$root/build/signing:$root/build/agent:$PATH"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

run()
{
	echo "+ $*"
	"$@"
}

# A command whose non-zero exit is part of the story (status 1 = warning,
# 3 = rejected): show the code, fail the demo only on a different one.
expect()
{
	local want=$1 rc=0
	shift
	echo "+ $*"
	"$@" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "demo: expected exit $want from '$*', got $rc" >&2
		exit 1
	fi
	[ "$rc" -eq 0 ] || echo "(exit $rc, as expected)"
}

section()
{
	printf '\n=== %s\n' "$*"
}

status_code()
{
	local rc=0
	rootkeeper --db "$T/device/store.db" status >/dev/null || rc=$?
	echo "$rc"
}

section "operator: a signing key and bundle v1 from this machine's CA store"
run rootkeeper-sign keygen -o "$T/operator"
run rootkeeper-sign create --key "$T/operator.key" --channel demo \
    --version 1 --certs /etc/ssl/certs/ca-certificates.crt -o "$T/v1.rkb"
run mkdir "$T/pub"
run rootkeeper-sign publish "$T/v1.rkb" --to "$T/pub"
run rootkeeper-sign verify --pub "$T/operator.pub" "$T/pub/demo/latest.rkb"

section "device: provisioned with the operator's key and v1 as factory set"
run mkdir "$T/device"
run rootkeeper --db "$T/device/store.db" init --pin "$T/operator.pub" \
    --bundle "$T/pub/demo/1.rkb"
expect "$(status_code)" rootkeeper --db "$T/device/store.db" status

section "operator: v2 adds a new root and removes one"
mkdir "$T/roots"
# One file per root, so that one can be left out.
awk -v dir="$T/roots" '/BEGIN CERTIFICATE/ { n++ }
    n { print > sprintf("%s/%04d.pem", dir, n) }' \
    /etc/ssl/certs/ca-certificates.crt
roots=("$T"/roots/*.pem) # in name order: the first root of the file
removed=${roots[0]##*/}
echo "+ # removing $(openssl x509 -in "$T/roots/$removed" -noout -subject)"
rm "$T/roots/$removed"
run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/newroot.key" -out "$T/roots/zz-new-root.pem" -days 3650 \
    -subj "/O=rootkeeper demo/CN=Demo Root G2" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
run rootkeeper-sign create --key "$T/operator.key" --channel demo \
    --version 2 --certs "$T/roots" --note "adds Demo Root G2" -o "$T/v2.rkb"
run rootkeeper-sign publish "$T/v2.rkb" --to "$T/pub"

section "device: one check picks up v2; status and versions"
run rootkeeper --db "$T/device/store.db" check \
    --url "file://$T/pub/demo/latest.rkb"
expect "$(status_code)" rootkeeper --db "$T/device/store.db" status
run rootkeeper --db "$T/device/store.db" list
echo "+ grep -c 'BEGIN CERTIFICATE' $T/device/trust.pem"
grep -c 'BEGIN CERTIFICATE' "$T/device/trust.pem"
echo "+ openssl verify -CAfile $T/device/trust.pem $T/roots/zz-new-root.pem"
openssl verify -CAfile "$T/device/trust.pem" "$T/roots/zz-new-root.pem"

section "device: rollback to v1; the next check does not re-apply v2"
run rootkeeper --db "$T/device/store.db" rollback
run rootkeeper --db "$T/device/store.db" list
run rootkeeper --db "$T/device/store.db" check \
    --url "file://$T/pub/demo/latest.rkb"

section "attacker: replays v1 as latest; the device refuses it"
run cp "$T/pub/demo/1.rkb" "$T/pub/demo/latest.rkb"
expect 3 rootkeeper --db "$T/device/store.db" check \
    --url "file://$T/pub/demo/latest.rkb"

echo
echo "demo: v1 provisioned, v2 applied, rolled back to v1, and a replayed" \
    "v1 refused; the device's trust set is in trust.pem beside its store"
