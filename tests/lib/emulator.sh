# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Running the programs under test through an emulator, for a cross build
# (scripts/cross.sh arm64): CTest hands every suite RK_RUN_PREFIX, the
# build's CMAKE_CROSSCOMPILING_EMULATOR as words ("qemu-aarch64 -L DIR"),
# and a shell suite turns each program it was given into a small script
# that runs it through that prefix.  The suites then call "$RK" as usual,
# also in the background (the script execs, so $! is the emulator, which
# passes signals on) and under libfaketime: LD_PRELOAD goes to the program
# only, whose loader expands /usr/$LIB/... to its own architecture's copy.
# Without RK_RUN_PREFIX nothing changes.  The words may not contain blanks;
# the emulator is qemu-user (QEMU_SET_ENV).
#
# Use:
#   . tests/lib/emulator.sh
#   BIN=$(emu_wrap "$(readlink -f -- "$1")" "$T")

# emu_wrap PROGRAM DIR: prints PROGRAM, or with RK_RUN_PREFIX set the path
# of DIR/.emu/NAME, a script that runs PROGRAM through the prefix.
emu_wrap()
{
	local prog=$1 dir=$2 w

	if [ -z "${RK_RUN_PREFIX:-}" ]; then
		printf '%s\n' "$prog"
		return 0
	fi
	mkdir -p -- "$dir/.emu"
	w=$dir/.emu/$(basename -- "$prog")
	# A preloaded library (libfaketime, tests/fakeclock.c) is for the
	# program, not the emulator: qemu-user makes some of the program's
	# clock calls through its own C library, so libfaketime in both
	# moves the clock twice.  qemu-user hands QEMU_SET_ENV to the program.
	# shellcheck disable=SC2016 # the script's own expansions
	printf '%s\n' '#!/bin/sh' \
	    'if [ -n "${LD_PRELOAD:-}" ]; then' \
	    '	QEMU_SET_ENV=LD_PRELOAD=$LD_PRELOAD' \
	    '	export QEMU_SET_ENV' \
	    '	unset LD_PRELOAD' \
	    'fi' >"$w"
	printf 'exec %s %q "$@"\n' "$RK_RUN_PREFIX" "$prog" >>"$w"
	chmod 755 -- "$w"
	printf '%s\n' "$w"
}
