#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian packages on this machine: scripts/package.sh builds them
# (lintian must report no error), dpkg -i installs all four, and a demo runs
# against the installed files only: the rootkeeper user and its 0755 state
# folder made by postinst, init and a check as that user with the packaged
# configuration, status, the PEM export, an application built with the
# installed pkg-config file reading the store through the installed
# librootkeeper, the man pages, and systemd-analyze verify of the installed
# units.  dpkg -r then removes the programs and leaves the state; dpkg -P
# removes the state too.  It needs root (CI runs as root): otherwise, or
# when rootkeeper is installed already or /var/lib/rootkeeper exists (a
# real device's state is never touched), it prints SKIP and exits 77.
#
# usage: package.sh REPO_ROOT
# shellcheck disable=SC2317 # functions run through check, run() and the trap
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/scripts/package.sh" ]; then
	echo "usage: $0 REPO_ROOT" >&2
	exit 2
fi
repo=$(readlink -f -- "$1")
skip()
{
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "installing packages needs root"
if dpkg-query -W -f='${db:Status-Status}' rootkeeper 2>/dev/null |
    grep -q installed; then
	skip "rootkeeper is installed on this machine already"
fi
[ ! -e /var/lib/rootkeeper ] || skip "/var/lib/rootkeeper exists"
[ ! -e /etc/rootkeeper ] || skip "/etc/rootkeeper exists"

# shellcheck source=../cli/lib.sh
. "$repo/tests/cli/lib.sh"
rk_setup /bin/true
PKGS=(rootkeeper rootkeeper-sign librootkeeper-dev librootkeeper0)
installed=0
# dpkg ARGS..., waiting (at most 10 minutes) while another dpkg or apt on
# this machine holds dpkg's lock: dpkg itself gives up at once.
dpkg_wait()
{
	local i rc
	for ((i = 0; i < 120; i++)); do
		rc=0
		dpkg "$@" 2>"$T/dpkg.err" || rc=$?
		if [ "$rc" -eq 0 ] || ! grep -q 'lock' "$T/dpkg.err"; then
			cat "$T/dpkg.err" >&2
			return "$rc"
		fi
		sleep 5
	done
	cat "$T/dpkg.err" >&2
	return "$rc"
}
purge_all()
{
	if [ "$installed" = 1 ]; then
		dpkg_wait -P "${PKGS[@]}" >/dev/null 2>&1 || true
	fi
	rk_cleanup
}
trap purge_all EXIT
chmod 0755 "$T"
cd "$T"

expect_exit 0 "scripts/package.sh builds the packages (lintian: no error)" \
    "$repo/scripts/package.sh" "$T/dist"
tail -n 20 "$T/err" | sed 's/^/# /'
for p in "${PKGS[@]}"; do
	check "dist has $p" test -f "$T/dist/${p}_"*.deb
done
installed=1
expect_exit 0 "dpkg -i of the four packages" dpkg_wait -i "$T"/dist/*.deb
check "postinst made the rootkeeper system user" \
    sh -c 'getent passwd rootkeeper | grep -q "^rootkeeper:x:[0-9]*:"'
check_eq "... and /var/lib/rootkeeper, 0755, its own" \
    "$(stat -c '%a %U' /var/lib/rootkeeper 2>&1)" "755 rootkeeper"
# shellcheck disable=SC2016 # ${Conffiles} is dpkg-query's
check "the configuration is a conffile" \
    sh -c 'dpkg-query -W -f="\${Conffiles}" rootkeeper |
	grep -q /etc/rootkeeper/rootkeeper.conf'

# ---- a demo against the installed files ---------------------------------

RK=/usr/bin/rootkeeper
SIGN=/usr/bin/rootkeeper-sign
as_rk()
{
	runuser -u rootkeeper -- "$@"
}
expect_exit 0 "installed rootkeeper-sign keygen" "$SIGN" keygen -o ops
# A small trust set: the first five roots of this machine's store.
awk '/BEGIN CERT/ { n++ } n <= 5' /etc/ssl/certs/ca-certificates.crt >five.pem
awk '/BEGIN CERT/ { n++ } n <= 6' /etc/ssl/certs/ca-certificates.crt >six.pem
expect_exit 0 "create v1" "$SIGN" create --key ops.key --channel demo \
    --version 1 --certs five.pem -o v1.rkb
expect_exit 0 "create v2" "$SIGN" create --key ops.key --channel demo \
    --version 2 --certs six.pem -o v2.rkb
chmod 0644 ./*.pub ./*.rkb
expect_exit 0 "init as the rootkeeper user, default paths" \
    as_rk "$RK" init --pin "$T/ops.pub" --bundle "$T/v1.rkb"
check "the store is /var/lib/rootkeeper/store.db" \
    test -f /var/lib/rootkeeper/store.db
expect_exit 0 "publish v2 into a new folder" "$SIGN" publish v2.rkb --to www
expect_exit 0 "check as the rootkeeper user" \
    as_rk "$RK" check --url "file://$T/www/demo/latest.rkb"
run "$RK" status --json
check_eq "status (as root, read-only): ok, v2" \
    "$RC $(jq -r '"\(.status) \(.active_version)"' "$T/out")" "0 ok 2"
check_eq "the export has the six roots" \
    "$(grep -c 'BEGIN CERTIFICATE' /var/lib/rootkeeper/trust.pem)" 6

cat >app.c <<'C'
#include <inttypes.h>
#include <stdio.h>

#include <rootkeeper.h>

int
main(void)
{
	struct rk_trust *t = NULL;
	int rc = rk_trust_open("/var/lib/rootkeeper/store.db", &t);

	if (rc != 0) {
		fprintf(stderr, "%s\n", rk_strerror(rc));
		return 1;
	}
	printf("%" PRIu64 "\n", rk_trust_version(t));
	rk_trust_close(t);
	return 0;
}
C
# shellcheck disable=SC2046 # pkg-config's output is words
expect_exit 0 "an application builds with the installed pkg-config file" \
    cc -Wall -Werror $(pkg-config --cflags rootkeeper) -o app app.c \
    $(pkg-config --libs rootkeeper)
run as_rk "$T/app"
check_eq "... and reads v2 through the installed librootkeeper" \
    "$RC $(cat "$T/out")" "0 2"
check "... the packaged librootkeeper.so.0" \
    sh -c "ldd '$T/app' | grep -q 'librootkeeper.so.0 => /.*lib/.*-linux-gnu/librootkeeper.so.0'"
for page in rootkeeper.8 rootkeeper-sign.1 rootkeeper.conf.5 librootkeeper.3; do
	check "man finds $page" man -w "${page%.*}" "${page%.*}"
done
expect_exit 0 "systemd-analyze verify of the installed units" \
    env SYSTEMD_LOG_LEVEL=err systemd-analyze verify \
    /lib/systemd/system/rootkeeper.service \
    /lib/systemd/system/rootkeeper-check.service \
    /lib/systemd/system/rootkeeper-check.timer

# ---- remove keeps the state, purge removes it ---------------------------

expect_exit 0 "dpkg -r of the four packages" dpkg_wait -r "${PKGS[@]}"
check_not "the agent is gone" test -e /usr/bin/rootkeeper
check_not "the library is gone" sh -c 'ls /usr/lib/*/librootkeeper.so* 2>/dev/null | grep -q .'
check "the store stays" test -f /var/lib/rootkeeper/store.db
check "the configuration stays" test -f /etc/rootkeeper/rootkeeper.conf
expect_exit 0 "dpkg -P of the four packages" dpkg_wait -P "${PKGS[@]}"
installed=0
check_not "purge removed /var/lib/rootkeeper" test -e /var/lib/rootkeeper
check_not "purge removed /etc/rootkeeper" test -e /etc/rootkeeper
finish
