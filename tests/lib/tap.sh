# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables set here are read by the suites
#
# The check lines of every shell suite, in TAP's words: "ok - ..." and
# "not ok - ..." lines, a final "N passed, M failed" count and an exit
# status of 1 when a check failed, none passed, or the suite stopped
# before finish() (set -e).  run() keeps a command's output and exit status
# and counts a sanitizer report as a failed check of its own.  The suite
# sets T, a temp folder that rk_cleanup removes.
#
# Use:
#   . tests/lib/tap.sh
#   T=$(mktemp -d)
#   tap_traps
#   check "DESC" COMMAND...
#   finish

RK_PASS=0
RK_FAIL=0

RK_FINISHED=0
RK_ERR_LINE=
RK_ERR_CMD=

# rk_cleanup: on exit, a suite stopped by set -e before finish() still
# ends with a failed check and the count line, so that an aborted run never
# looks green; then the temp folder T goes.
rk_cleanup()
{
	local rc=$?
	if [ "$RK_FINISHED" -ne 1 ]; then
		not_ok "the suite ran to its end (stopped at line ${RK_ERR_LINE:-?}: ${RK_ERR_CMD:-exit $rc})"
		echo "$RK_PASS passed, $RK_FAIL failed"
	fi
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		rm -rf -- "$T"
	fi
	if [ "$RK_FINISHED" -ne 1 ]; then
		exit 1
	fi
}

ok()
{
	RK_PASS=$((RK_PASS + 1))
	echo "ok - $*"
}

not_ok()
{
	RK_FAIL=$((RK_FAIL + 1))
	echo "not ok - $*"
}

# check DESC COMMAND...: passes when COMMAND exits 0 (its output is shown
# only when it fails).
check()
{
	local desc=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		head -n 20 "$T/check.out" | sed 's/^/#   /'
	fi
}

# check_not DESC COMMAND...: passes when COMMAND exits non-zero.
check_not()
{
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		not_ok "$desc"
	else
		ok "$desc"
	fi
}

# check_eq DESC GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', want '$3')"
	fi
}

# check_files_eq DESC GOT WANT: the two files are equal; the first lines of
# their diff are shown when not.
check_files_eq()
{
	if cmp -s -- "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff -- "$2" "$3" >"$T/diff.out" || true
		head -n 8 "$T/diff.out" | sed 's/^/# /'
	fi
}

# run COMMAND...: runs it, keeps stdout in $T/out, stderr in $T/err and the
# exit status in RC.  A sanitizer report on stderr is a failed check of its
# own, whatever the exit status.
run()
{
	RC=0
	"$@" >"$T/out" 2>"$T/err" || RC=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    "$T/err"; then
		not_ok "no sanitizer report from: $*"
		head -n 40 "$T/err" | sed 's/^/# /'
	fi
}

# expect_exit CODE DESC COMMAND...: runs COMMAND, passes when it exits CODE.
expect_exit()
{
	local want=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc (exit $RC, want $want)"
		head -n 10 "$T/err" | sed 's/^/# stderr: /'
	fi
}

# expect_nonzero DESC COMMAND...
expect_nonzero()
{
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -ne 0 ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc (exit 0, want non-zero)"
	fi
}

# finish: the count line; exit status 1 if any check failed.
finish()
{
	echo "$RK_PASS passed, $RK_FAIL failed"
	RK_FINISHED=1
	if [ "$RK_FAIL" -ne 0 ] || [ "$RK_PASS" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# tap_traps: the exit trap (rk_cleanup), with the line and command where
# set -e stopped the suite, and INT and TERM as an exit.
tap_traps()
{
	set -o errtrace
	trap 'RK_ERR_LINE=$LINENO RK_ERR_CMD=$BASH_COMMAND' ERR
	trap rk_cleanup EXIT
	trap 'exit 130' INT TERM
}
