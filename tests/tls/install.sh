#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# librootkeeper as an application sees it: `cmake --install` of the build
# into a temp prefix must give lib/librootkeeper.so (with its soname
# links), include/rootkeeper.h and lib/pkgconfig/rootkeeper.pc; pkg-config
# must answer from the .pc wherever the prefix is; the library must export
# the rk_ functions of the header and nothing else, and hold no signing
# code; and a C file built with the installed copy's `pkg-config --cflags
# --libs` must link and run against it.
set -euo pipefail

if [ $# -lt 2 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR CC [CFLAGS...]" >&2
	exit 2
fi
build=$(readlink -f -- "$1")
cc=$2
shift 2
# shellcheck source-path=SCRIPTDIR source=../lib/emulator.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/emulator.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/rk-install.XXXXXX")
tap_traps

X=$T/prefix
check "cmake --install into a temp prefix" \
    cmake --install "$build" --prefix "$X"
for f in lib/librootkeeper.so lib/librootkeeper.so.0 include/rootkeeper.h \
    lib/pkgconfig/rootkeeper.pc; do
	check "installed: $f" test -e "$X/$f"
done
readelf -d "$X/lib/librootkeeper.so" >"$T/dynamic" 2>&1 || true
check "librootkeeper.so.0 is the soname" \
    grep -q 'SONAME.*\[librootkeeper\.so\.0\]' "$T/dynamic"

export PKG_CONFIG_PATH=$X/lib/pkgconfig
if flags=$(pkg-config --cflags --libs rootkeeper 2>"$T/pc.err"); then
	ok "pkg-config --cflags --libs rootkeeper: $flags"
else
	not_ok "pkg-config --cflags --libs rootkeeper"
	sed 's/^/#   /' "$T/pc.err"
fi
pc=$X/lib/pkgconfig/../..
case $flags in
*"-I$pc/include"*"-L$pc/lib"*-lrootkeeper*-lwolfssl*)
	ok "the flags point into the prefix and bring wolfSSL" ;;
*) not_ok "the flags point into the prefix and bring wolfSSL: $flags" ;;
esac

nm -D --defined-only "$X/lib/librootkeeper.so" | awk '{ print $3 }' |
    sort >"$T/exported"
printf '%s\n' rk_strerror rk_trust_close rk_trust_load_wolfssl \
    rk_trust_open rk_trust_pem rk_trust_refresh rk_trust_set_verify_cb \
    rk_trust_version >"$T/want"
if cmp -s "$T/exported" "$T/want"; then
	ok "exports exactly the header's rk_ functions"
else
	not_ok "exports exactly the header's rk_ functions"
	diff "$T/want" "$T/exported" | sed 's/^/#   /'
fi
if nm "$X/lib/librootkeeper.so" | grep -q -E ' (privkey_|sign_ecdsa)'; then
	not_ok "no signing code (privkey_) inside"
else
	ok "no signing code (privkey_) inside"
fi

# shellcheck disable=SC2046 # pkg-config's output is words
check "an application builds against the installed copy" \
    "$cc" "$@" -Wall -Werror $(pkg-config --cflags rootkeeper) \
    -o "$T/app" "$(dirname -- "${BASH_SOURCE[0]}")/../lib/consumer.c" \
    $(pkg-config --libs rootkeeper)
app=$(emu_wrap "$T/app" "$T")
check "... and runs against it" \
    env LD_LIBRARY_PATH="$X/lib" "$app"
if [ -z "${RK_RUN_PREFIX:-}" ]; then
	LD_LIBRARY_PATH=$X/lib ldd "$T/app" >"$T/ldd" 2>&1 || true
else
	# ldd cannot read a foreign program: its own loader lists what it
	# loads, told so through qemu-user (not the emulator itself).
	env LD_LIBRARY_PATH="$X/lib" \
	    QEMU_SET_ENV=LD_TRACE_LOADED_OBJECTS=1 "$app" >"$T/ldd" 2>&1 || true
fi
check "... which is the installed library" \
    grep -q -F "$X/lib/librootkeeper.so.0" "$T/ldd"
finish
