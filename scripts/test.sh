#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole check, as CI runs it: installs what is missing (deps.sh --test),
# checks the C sources' format with clang-format and greps them for banned
# functions, checks every shell script with shellcheck, then builds twice and runs every CTest suite in each build: gcc in
# build/, and clang with AddressSanitizer + UndefinedBehaviorSanitizer and the
# libFuzzer targets in build-asan/. A failing step does not stop the later
# ones, so one run shows every problem; the last line is the summary
# `summary: N passed, N failed` (each CTest test and each source check counts
# once, a failed build counts as one failure) and the exit status is non-zero
# if anything failed. It does not start system services: the suites start the
# servers they need themselves.
#
# Then the boards it is for (scripts/cross.sh): the unit suites of an arm64
# cross build under qemu-aarch64 (build-arm64/, about 3 minutes), unless
# --no-arm64; and with --i386 every suite of a 32-bit build in a Debian i386
# root (build-i386/; it needs root or sudo for debootstrap, chroot and
# mount, so not in an unprivileged container; about 10 minutes the first
# time).
#
# usage: test.sh [--no-arm64] [--i386] [--long-faults]
#
# --long-faults: the fault campaign's long run (tests/fault/, RK_FAULT_LONG=1):
# hundreds of kills per command, every page of a full disk, longer races:
# some 20 minutes instead of 2.5 in each of the two builds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

with_arm64=1
with_i386=0
for arg in "$@"; do
	case "$arg" in
	--no-arm64) with_arm64=0 ;;
	--i386) with_i386=1 ;;
	--long-faults) export RK_FAULT_LONG=1 ;;
	-h | --help)
		echo "usage: $0 [--no-arm64] [--i386] [--long-faults]"
		exit 0
		;;
	*)
		echo "usage: $0 [--no-arm64] [--i386] [--long-faults]" >&2
		exit 2
		;;
	esac
done

passed=0
failed=0
failures=()

note_fail()
{
	failed=$((failed + 1))
	failures+=("$1")
}

note_pass()
{
	passed=$((passed + 1))
}

# The project's C files: tracked ones, and new ones not yet added that git
# does not ignore, so that the check also covers work about to be committed.
c_sources()
{
	list_c_sources | while IFS= read -r -d '' f; do
		[ -f "$f" ] && printf '%s\0' "$f"
	done
	return 0
}

list_c_sources()
{
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files -z --cached --others --exclude-standard \
		    -- '*.c' '*.h' | sort -zu
	else
		find . -path './build*' -prune -o -type f \
		    \( -name '*.c' -o -name '*.h' \) -printf '%P\0' | sort -z
	fi
}

check_format()
{
	local f bad=()

	while IFS= read -r -d '' f; do
		if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			bad+=("$f")
		fi
	done < <(c_sources)
	if [ "${#bad[@]}" -gt 0 ]; then
		echo "format: these files differ from .clang-format" \
		    "(fix with clang-format -i):"
		printf '  %s\n' "${bad[@]}"
		return 1
	fi
	echo "format: ok"
}

# The project's shell scripts, tracked or new (as c_sources): the *.sh
# files and the files whose first line runs sh, bash or dash.
sh_sources()
{
	local f first
	list_files | while IFS= read -r -d '' f; do
		[ -f "$f" ] || continue
		first=
		case $f in
		*.sh) ;;
		*)
			IFS= read -r first <"$f" || true
			[[ $first =~ ^\#!.*[/\ ](ba|da)?sh(\ |$) ]] || continue
			;;
		esac
		printf '%s\0' "$f"
	done
	return 0
}

list_files()
{
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files -z --cached --others --exclude-standard |
		    sort -zu
	else
		find . -path './build*' -prune -o -type f -printf '%P\0' |
		    sort -z
	fi
}

# Every shell script through shellcheck, following what they source; any
# finding fails.
check_shell()
{
	local files=()

	mapfile -d '' files < <(sh_sources)
	if ! command -v shellcheck >/dev/null 2>&1; then
		echo "shellcheck: not installed (scripts/deps.sh --test)"
		return 1
	fi
	if ! shellcheck -x -P SCRIPTDIR "${files[@]}"; then
		echo "shellcheck: findings above (${#files[@]} scripts)"
		return 1
	fi
	echo "shellcheck: ok (${#files[@]} scripts)"
}

# Prints FILE:LINE: text for each call of a banned function, ignoring
# comments and string or character literals (line numbers are kept).
check_banned()
{
	local hits

	# shellcheck disable=SC2016 # the single quotes hold a Perl program
	hits=$(c_sources | xargs -0 -r perl -e '
		my $re = qr/\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|system)\s*\(/;
		for my $f (@ARGV) {
			open(my $fh, "<", $f) or die "$f: $!\n";
			local $/;
			my $src = <$fh>;
			close($fh);
			my @orig = split(/\n/, $src, -1);
			# Blank out comments and literals, keeping newlines.
			$src =~ s{/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27}{
				(my $k = $&) =~ s/[^\n]/ /g;
				$k;
			}gse;
			my @lines = split(/\n/, $src, -1);
			for my $i (0 .. $#lines) {
				if ($lines[$i] =~ $re) {
					my $t = $orig[$i];
					$t =~ s/^\s+//;
					print "$f:", $i + 1, ": $t\n";
				}
			}
		}
	') || {
		echo "banned functions: the check itself failed"
		return 1
	}
	if [ -n "$hits" ]; then
		echo "banned functions: strcpy strcat sprintf vsprintf gets" \
		    "atoi atol strtok system are not used in this project:"
		printf '%s\n' "$hits" | sed 's/^/  /'
		return 1
	fi
	echo "banned functions: none"
}

# Runs CTest in build directory $1 (label $2); adds its counts to the totals.
run_ctest()
{
	local dir=$1 label=$2

	count_ctest "$dir/ctest-summary.log" "$label" ctest_in "$dir"
}

ctest_in()
{
	(cd "$1" && ctest --output-on-failure --no-tests=error --timeout 600)
}

# count_ctest LOG LABEL COMMAND...: runs COMMAND, which ends with CTest's
# summary, with its output also in LOG; adds the counts to the totals.
count_ctest()
{
	local log=$1 label=$2 rc=0 line total nfail

	shift 2
	"$@" 2>&1 | tee "$log" || rc=$?
	# "100% tests passed, 0 tests failed out of 12"
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' \
	    "$log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' \
		    <<<"$line")
		total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
		passed=$((passed + total - nfail))
		failed=$((failed + nfail))
		if [ "$nfail" -gt 0 ]; then
			failures+=("$label: $nfail of $total tests")
		fi
	fi
	if [ "$rc" -ne 0 ] && { [ -z "$line" ] || [ "$nfail" -eq 0 ]; }; then
		# failed without a count (build, no tests, crash): one failure.
		note_fail "$label: exited $rc"
	fi
	return 0
}

echo "== dependencies"
"$root/scripts/deps.sh" --test

echo "== format"
if check_format; then note_pass; else note_fail "format"; fi

echo "== banned functions"
if check_banned; then note_pass; else note_fail "banned functions"; fi

echo "== shellcheck"
if check_shell; then note_pass; else note_fail "shellcheck"; fi

echo "== gcc build (build/)"
# RK_TESTS=ON explicitly: demo.sh configures build/ without the tests.
if CC=gcc "$root/scripts/build.sh" "$root/build" -DRK_TESTS=ON; then
	echo "== gcc tests"
	run_ctest "$root/build" "gcc"
else
	note_fail "gcc build"
fi

echo "== clang ASan+UBSan build with fuzz targets (build-asan/)"
if CC=clang "$root/scripts/build.sh" "$root/build-asan" \
    -DRK_TESTS=ON -DRK_SANITIZE=ON -DRK_FUZZ=ON; then
	echo "== clang ASan+UBSan tests"
	# verify_asan_link_order=0 lets suites LD_PRELOAD libfaketime.
	asan=detect_leaks=1:strict_string_checks=1:verify_asan_link_order=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-$asan} \
	    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    run_ctest "$root/build-asan" "asan"
else
	note_fail "clang asan build"
fi

if [ "$with_arm64" = 1 ]; then
	echo "== arm64 cross build, unit suites under qemu-aarch64 (build-arm64/)"
	mkdir -p "$root/build-arm64"
	count_ctest "$root/build-arm64/ctest-summary.log" "arm64" \
	    "$root/scripts/cross.sh" arm64 "$root/build-arm64" --test -- \
	    --no-tests=error -L unit
fi

if [ "$with_i386" = 1 ]; then
	echo "== i386 (32-bit time_t libraries): every suite in a Debian root" \
	    "(build-i386/)"
	mkdir -p "$root/build-i386"
	count_ctest "$root/build-i386/ctest-summary.log" "i386" \
	    "$root/scripts/cross.sh" i386 "$root/build-i386" --test -- \
	    --no-tests=error
fi

echo "=="
if [ "$failed" -gt 0 ]; then
	(
		IFS=,
		echo "FAILED: ${failures[*]}" | sed 's/,/, /g'
	)
fi
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
