#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian 12 packages rootkeeper needs that are not installed yet:
# the build and runtime set, and with --test also what the test suites use
# (cmocka, clang and its sanitizer runtime, clang-format, nginx, mosquitto and
# its clients, faketime, valgrind, jq, time, curl, and SoftHSM2 with OpenSC's
# pkcs11-tool for the keys-in-a-token suite). It asks dpkg first and
# touches apt only when something is missing, so a second run is silent and
# instant. It does not configure or rely on the nginx and mosquitto system
# services: the tests start their own servers on 127.0.0.1, so the services it
# has just installed are stopped and disabled (services that were already there
# are left alone).
set -euo pipefail

usage()
{
	echo "usage: $0 [--test]" >&2
	exit 2
}

with_test=0
for arg in "$@"; do
	case "$arg" in
	--test) with_test=1 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

pkgs=(gcc make libc6-dev cmake pkg-config libwolfssl-dev libjansson-dev
	libcurl4-openssl-dev libsqlite3-dev libinih-dev libp11-kit-dev openssl
	ca-certificates)
if [ "$with_test" = 1 ]; then
	pkgs+=(libcmocka-dev clang libclang-rt-14-dev clang-format nginx
		mosquitto mosquitto-clients faketime valgrind jq time curl strace procps
		softhsm2 opensc)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found; this script is for Debian 12" >&2
	exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	if [ "$status" != installed ]; then
		missing+=("$p")
	fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: installing them needs root, and sudo is not available;" \
	    "run this script as root or install them yourself" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"

# The package scripts start nginx (port 80) and mosquitto (port 1883) when
# systemd runs. Nothing here uses them, so stop the ones this run installed.
# In a container there is no systemd: nothing was started, nothing to do.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	for svc in nginx mosquitto; do
		for p in "${missing[@]}"; do
			if [ "$p" = "$svc" ]; then
				"${as_root[@]}" systemctl disable --now "$svc" \
				    >/dev/null 2>&1 || true
			fi
		done
	done
fi
exit 0
