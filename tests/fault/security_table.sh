#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Keeps SECURITY.md honest: every proof it names, written `NAME: LABEL`
# (a CTest test and one of its checks), must be a test registered in this
# build (its CTestTestfile.cmake files, what `ctest -N` lists) that ran in this CTest run and passed, and whose
# output has a passing check with that label: a shell suite's
# "ok - ...LABEL..." line or a cmocka suite's "[       OK ] LABEL" line.
# CTest runs it after every test it names (tests/CMakeLists.txt reads the
# names from SECURITY.md and makes them its FIXTURES_SETUP), and it reads
# their output from CTest's log of the run in progress
# (Testing/Temporary/LastTest.log.tmp).  A named test that CTest skipped
# (exit 77: not root) is reported as skipped, and its labels are not
# checked.
#
# usage: security_table.sh BUILD_DIR SECURITY.md
set -euo pipefail

if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -f "$2" ]; then
	echo "usage: $0 BUILD_DIR SECURITY.md" >&2
	exit 2
fi
build=$1
md=$2
log=$build/Testing/Temporary/LastTest.log.tmp
[ -f "$log" ] || log=$build/Testing/Temporary/LastTest.log
# shellcheck source=../lib/tap.sh
. "$(dirname -- "$0")/../lib/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/rk-security.XXXXXX")
tap_traps

if [ ! -f "$log" ]; then
	not_ok "no CTest log in $build/Testing/Temporary: run me through ctest"
	finish
fi
# The registered tests, from CTest's own files (`ctest -N` would start a
# new log of its own over the one of the run in progress).
registered=$(find "$build" -name CTestTestfile.cmake -exec sed -nE \
    's/^add_test\((\[=\[)?([A-Za-z0-9_.-]+)(\]=\])? .*/\2/p' {} + | sort -u)

# section NAME: the log's part for test NAME ("N/M Testing: NAME" up to the
# next test's).
section()
{
	awk -v n="$1" '
	    /^ *[0-9]+\/[0-9]+ Testing: / { on = ($NF == n) }
	    on { print }' "$log"
}

# shellcheck disable=SC2016 # backquotes, not expansions
refs=$(grep -oE '`[a-z0-9_]+: [^`]+`' "$md" | sed 's/^`//; s/`$//' |
    sort -u)
if [ -z "$refs" ]; then
	not_ok "SECURITY.md names no test"
fi
declare -A STATE=()
while IFS= read -r ref; do
	[ -n "$ref" ] || continue
	name=${ref%%: *}
	label=${ref#*: }
	if [ -z "${STATE[$name]:-}" ]; then
		if ! grep -qxF -- "$name" <<<"$registered"; then
			STATE[$name]=missing
			not_ok "$name is a registered CTest test"
		else
			s=$(section "$name")
			if [ -z "$s" ]; then
				STATE[$name]=notrun
				not_ok "$name ran in this CTest run"
			elif grep -q '^Test Passed\.' <<<"$s"; then
				STATE[$name]=passed
			elif grep -qE '^Test (Skipped|Not Run)|^SKIP:' <<<"$s"; then
				STATE[$name]=skipped
				echo "# skipped: $name: $(grep -m1 '^SKIP:' <<<"$s" || echo skipped)"
			else
				STATE[$name]=failed
				not_ok "$name passed in this CTest run"
			fi
		fi
	fi
	[ "${STATE[$name]}" = passed ] || continue
	# shellcheck disable=SC2016 # a sed program
	if section "$name" | grep -qE -- "^ok - .*$(printf '%s' "$label" |
	    sed 's/[][\.*^$(){}?+|/]/\\&/g')" ||
	    section "$name" | grep -qxF -- "[       OK ] $label"; then
		ok "$name: $label"
	else
		not_ok "$name: $label (no passing check with that label)"
	fi
done <<<"$refs"
finish
