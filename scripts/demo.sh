#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The operator's side in five commands: installs what is missing, builds, then
# with the freshly built rootkeeper-sign makes a signing key, signs this
# machine's CA bundle as version 1 of channel "demo", publishes it to a
# directory laid out as a web server would serve it, and shows and verifies
# what was published. Each command is printed before it runs. Everything is
# made in a temporary directory that is removed at exit; nothing is installed
# outside the build directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

"$root/scripts/deps.sh"
# Only the programs: the test suites need the test-only packages (cmocka).
"$root/scripts/build.sh" "$root/build" -DRK_TESTS=OFF

PATH="$root/build/signing:$PATH"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

run()
{
	echo "+ $*"
	"$@"
}

echo
run rootkeeper-sign keygen -o "$T/operator"
run rootkeeper-sign create --key "$T/operator.key" --channel demo \
    --version 1 --certs /etc/ssl/certs/ca-certificates.crt -o "$T/v1.rkb"
run mkdir "$T/pub"
run rootkeeper-sign publish "$T/v1.rkb" --to "$T/pub"
echo "+ ls $T/pub/demo"
ls "$T/pub/demo"

# Not a pipe into head: rootkeeper-sign would die of SIGPIPE under pipefail.
echo "+ rootkeeper-sign inspect $T/pub/demo/latest.rkb | head -n 25"
out=$(rootkeeper-sign inspect "$T/pub/demo/latest.rkb")
head -n 25 <<<"$out"
n=$(wc -l <<<"$out")
if [ "$n" -gt 25 ]; then
	echo "[... $((n - 25)) more lines]"
fi

run rootkeeper-sign verify --pub "$T/operator.pub" "$T/pub/demo/latest.rkb"
echo
echo "demo: the published bundle demo/latest.rkb (version 1) verified" \
    "against the operator's public key"
