#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian 12 packages rootkeeper needs that are not installed yet:
# the build and runtime set; with --package also what scripts/package.sh uses
# (debhelper, dpkg-dev, fakeroot, lintian); with --test that and what the
# test suites use (cmocka, clang and its sanitizer runtime, clang-format, the
# shell linter, nginx, mosquitto and its clients, faketime, valgrind, jq, time, curl,
# systemd for systemd-analyze, man-db, prometheus for promtool, strace for
# scripts/bench.sh and the fault campaign, procps, and for the fault campaign
# python3, sqlite3 and util-linux's mount and setpriv; SoftHSM2 with OpenSC's
# pkcs11-tool for the keys-in-a-token suite). It asks dpkg first and
# touches apt only when something is missing, so a second run is silent and
# instant. It does not configure or rely on the nginx and mosquitto system
# services: the tests start their own servers on 127.0.0.1, so the services it
# has just installed are stopped and disabled (services that were already there
# are left alone).
set -euo pipefail

usage()
{
	echo "usage: $0 [--test] [--package]" >&2
	exit 2
}

with_test=0
with_package=0
for arg in "$@"; do
	case "$arg" in
	--test) with_test=1 with_package=1 ;;
	--package) with_package=1 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

pkgs=(gcc make libc6-dev cmake pkg-config libwolfssl-dev libjansson-dev
	libcurl4-openssl-dev libsqlite3-dev libinih-dev libp11-kit-dev openssl
	ca-certificates)
if [ "$with_test" = 1 ]; then
	pkgs+=(libcmocka-dev clang libclang-rt-14-dev clang-format shellcheck
		nginx mosquitto mosquitto-clients faketime valgrind jq time curl strace
		procps
		systemd man-db prometheus python3 sqlite3 util-linux
		softhsm2 opensc)
fi
if [ "$with_package" = 1 ]; then
	pkgs+=(debhelper dpkg-dev fakeroot lintian)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found; this script is for Debian 12" >&2
	exit 1
fi

# Installed for this machine's architecture (or for all).  A bare name
# matches every architecture's copy of a multiarch package: with
# scripts/cross.sh's arm64 added, libc6-dev is there twice.
native=$(dpkg --print-architecture)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$p" \
	    2>/dev/null | grep -qE "^($native|all) installed\$"; then
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

# The package scripts start nginx (port 80), mosquitto (port 1883) and
# prometheus (port 9090) when systemd runs. Nothing here uses them, so stop
# the ones this run installed.
# In a container there is no systemd: nothing was started, nothing to do.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	for svc in nginx mosquitto prometheus; do
		for p in "${missing[@]}"; do
			if [ "$p" = "$svc" ]; then
				"${as_root[@]}" systemctl disable --now "$svc" \
				    >/dev/null 2>&1 || true
			fi
		done
	done
fi
exit 0
