#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The install layout as a device or an application developer sees it:
# `cmake --install` into a temp prefix gives both programs, librootkeeper
# shared and static, the header, rootkeeper.pc, the CMake package, the
# example configuration, the four manual pages and the systemd units; the
# man pages render without warnings and list every command and option that
# the programs' own help lists (one source, so they cannot drift); the
# example configuration loads; a consumer project finds the library with
# find_package(rootkeeper CONFIG) and links both flavours; the units pass
# systemd-analyze verify.
#
# usage: install.sh BUILD_DIR CC [CFLAGS...]   (the compiler and flags of
#        the consumer project: the build's, with its sanitizer flags)
set -euo pipefail
# shellcheck source=../cli/lib.sh
. "$(dirname -- "$0")/../cli/lib.sh"

if [ $# -lt 2 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR CC [CFLAGS...]" >&2
	exit 2
fi
build=$(readlink -f -- "$1")
app_cc=$2
shift 2
app_flags="$*"
rk_setup "$build/agent/rootkeeper"
X=$T/prefix

expect_exit 0 "cmake --install into a temp prefix" \
    cmake --install "$build" --prefix "$X"
for f in bin/rootkeeper bin/rootkeeper-sign lib/librootkeeper.so.0 \
    lib/librootkeeper.so lib/librootkeeper.a include/rootkeeper.h \
    lib/pkgconfig/rootkeeper.pc lib/cmake/rootkeeper/rootkeeperConfig.cmake \
    lib/cmake/rootkeeper/rootkeeperConfigVersion.cmake \
    share/man/man8/rootkeeper.8 share/man/man1/rootkeeper-sign.1 \
    share/man/man5/rootkeeper.conf.5 share/man/man3/librootkeeper.3 \
    share/doc/rootkeeper/examples/rootkeeper.conf \
    share/rootkeeper/rootkeeper-to-system-store \
    lib/systemd/system/rootkeeper.service \
    lib/systemd/system/rootkeeper-check.service \
    lib/systemd/system/rootkeeper-check.timer; do
	check "installed: $f" test -e "$X/$f"
done
check "the static library holds rk_trust_open" \
    sh -c "nm '$X/lib/librootkeeper.a' | grep -q ' T rk_trust_open$'"
check "... and no signing code" \
    sh -c "! nm '$X/lib/librootkeeper.a' | grep -q ' T privkey_'"

# ---- man pages and help: one source -------------------------------------

RK=$X/bin/rootkeeper
SIGN=$X/bin/rootkeeper-sign
for page in man8/rootkeeper.8 man1/rootkeeper-sign.1 man5/rootkeeper.conf.5 \
    man3/librootkeeper.3; do
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l \
	    "$X/share/man/$page"
	check_eq "$page renders without warnings" "$RC:$(cat "$T/err")" "0:"
	cp "$T/out" "$T/$(basename "$page").txt"
done

# commands PROG: the command words of PROG --help.
commands()
{
	"$1" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
	    on && /^  [a-z]/ { print $1 }'
}

for prog in "$RK" "$SIGN"; do
	name=$(basename "$prog")
	case $name in
	rootkeeper) page=$T/rootkeeper.8.txt ;;
	*) page=$T/rootkeeper-sign.1.txt ;;
	esac
	cmds=$(commands "$prog")
	check "$name --help lists commands" test -n "$cmds"
	for c in $cmds; do
		expect_exit 0 "$name help $c" "$prog" help "$c"
		cp "$T/out" "$T/help1"
		expect_exit 0 "$name $c --help" "$prog" "$c" --help
		check "... the same text as help $c" cmp -s "$T/help1" "$T/out"
		check "... names the command in its usage line" \
		    grep -q "^usage: $name .*$c" "$T/out"
		check "the man page has $c" \
		    grep -qE "^       $c( |$)" "$page"
		# Every option the command's help lists is in the page.
		for o in $(grep -oE '^  -[-a-z]+' "$T/help1" | tr -d ' '); do
			check "the man page has $c's $o" grep -q -- "$o" "$page"
		done
	done
	expect_exit 2 "$name help of an unknown command" "$prog" help nope
	check "... says so" grep -q "unknown command 'nope'" "$T/err"
done
check "rootkeeper.conf(5) documents every key of the example" \
    sh -c "for k in \$(sed -n 's/^;\\{0,1\\}\\([a-z_]*\\) = .*/\\1/p' \
	'$X/share/doc/rootkeeper/examples/rootkeeper.conf' | sort -u); do
	grep -q \"^       \$k = \" '$T/rootkeeper.conf.5.txt' || exit 1; done"

# Every key config.c accepts is in rootkeeper.conf(5), and no other.
src=$(cd "$(dirname -- "$0")/../.." && pwd)
sed -n '/key_names\[K_COUNT\] = {/,/};/p' "$src/agent/config.c" |
    grep -o '"[a-z_]*"' | tr -d '"' | sort >"$T/keys.code"
sed -n 's/^       \([a-z_]*\) = .*/\1/p' "$T/rootkeeper.conf.5.txt" | sort -u \
    >"$T/keys.man"
check "config.c's keys are those of rootkeeper.conf(5)" \
    cmp -s "$T/keys.code" "$T/keys.man"
check "... and there are some" test -s "$T/keys.code"
if ! cmp -s "$T/keys.code" "$T/keys.man"; then
	diff "$T/keys.code" "$T/keys.man" | sed 's/^/#   /'
fi

# ---- the example configuration -----------------------------------------

# `list` on a missing store: 1 (no store); a bad configuration would be 2.
expect_exit 1 "the example configuration loads" "$RK" --config \
    "$X/share/doc/rootkeeper/examples/rootkeeper.conf" --db "$T/none.db" list
sed 's/^;//' "$X/share/doc/rootkeeper/examples/rootkeeper.conf" \
    | grep -v '^ \|^[a-z].*:' >"$T/all.conf"
check "... and with every key uncommented too" sh -c \
    "'$RK' --config '$T/all.conf' --db '$T/none.db' list 2>&1 |
	grep -q 'no store'"

# ---- a CMake consumer ---------------------------------------------------

mkdir -p "$T/app"
cat >"$T/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(rkapp C)
find_package(rootkeeper 0.1 CONFIG REQUIRED)
add_executable(app_shared app.c)
target_link_libraries(app_shared PRIVATE rootkeeper::rootkeeper)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE rootkeeper::rootkeeper_static)
CM
cp -- "$(dirname -- "$0")/../lib/consumer.c" "$T/app/app.c"
expect_exit 0 "a consumer project configures with find_package" \
    cmake -S "$T/app" -B "$T/app/build" -DCMAKE_PREFIX_PATH="$X" \
    -DCMAKE_C_COMPILER="$app_cc" -DCMAKE_C_FLAGS="$app_flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$app_flags"
expect_exit 0 "... and builds against both libraries" \
    cmake --build "$T/app/build"
expect_exit 0 "the shared one runs" \
    env LD_LIBRARY_PATH="$X/lib" "$T/app/build/app_shared"
check "... against the installed librootkeeper.so.0" sh -c \
    "LD_LIBRARY_PATH='$X/lib' ldd '$T/app/build/app_shared' |
	grep -q -F '$X/lib/librootkeeper.so.0'"
expect_exit 0 "the static one runs" "$T/app/build/app_static"
check "... without librootkeeper.so" sh -c \
    "! ldd '$T/app/build/app_static' | grep -q librootkeeper"

# ---- systemd units ------------------------------------------------------

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify resolves ExecStart= and man: links: the installed binary
	# and pages are found through PATH and MANPATH.
	# ExecStart= names the agent where the build's prefix puts it; the
	# copies point into the temp prefix.
	mkdir -p "$T/units"
	for u in rootkeeper.service rootkeeper-check.service \
	    rootkeeper-check.timer; do
		sed "s|^ExecStart=.*/rootkeeper |ExecStart=$X/bin/rootkeeper |" \
		    "$X/lib/systemd/system/$u" >"$T/units/$u"
	done
	check "ExecStart= is the installed agent's full path" \
	    grep -q '^ExecStart=/.*/bin/rootkeeper run$' \
	    "$X/lib/systemd/system/rootkeeper.service"
	run env MANPATH="$X/share/man:" SYSTEMD_LOG_LEVEL=notice \
	    systemd-analyze verify "$T/units/rootkeeper.service" \
	    "$T/units/rootkeeper-check.service" \
	    "$T/units/rootkeeper-check.timer"
	check_eq "systemd-analyze verify: no complaint" \
	    "$RC:$(grep -v -e 'Failed to .*bus' -e 'not running as PID 1' \
	    "$T/err" || true)" "0:"
	grep -q . "$T/err" && sed 's/^/# /' "$T/err"
	run env SYSTEMD_LOG_LEVEL=err systemd-analyze security --offline=true \
	    "$T/units/rootkeeper.service"
	exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$T/out")
	check "systemd-analyze security: exposure ${exposure:-?} below 3.0" \
	    awk -v e="${exposure:-99}" 'BEGIN { exit !(e < 3.0) }'
else
	not_ok "systemd-analyze is installed (Debian package systemd)"
fi
finish
