#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Crashes: the agent killed with SIGKILL in the middle of init, apply,
# check (file://), rollback and export, then the invariants of lib.sh.
# Two ways: at a random moment (the command in the background, a random
# sleep up to its measured run time, kill -9), and deterministically at
# every fsync and fdatasync it makes (strace's fault injection,
# `-e inject=SYSCALL:signal=KILL:when=N` for N = 1, 2, ... until the
# command runs to its end).  An init that was killed must leave no store
# or a complete one, and a retried init must then succeed or find the
# complete store.
#
# usage: kills.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
# RK_FAULT_LONG=1: 200 random kills per command instead of 6.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
fault_setup "$@"

N=$(fault_n 6 200)
declare -A KILLS=() SYSKILLS=()

mkb v1 1
mkb v2 2
mkb v3 3
cp v3.rkb www/latest.rkb

snap_starts

# cmd_args COMMAND: the agent's arguments for it.
cmd_args()
{
	case $1 in
	init) echo "init --pin $T/k1.pub --bundle $T/v1.rkb" ;;
	apply) echo "apply $T/v3.rkb" ;;
	check) echo "check --url file://$T/www/latest.rkb" ;;
	rollback) echo "rollback" ;;
	export) echo "export --pem $PEM" ;;
	esac
}

# prepare COMMAND: the state the command starts from.
prepare()
{
	if [ "$1" = init ]; then
		snap_load fresh
	else
		snap_load s2
		# A stale export, so that every write command rewrites it.
		if [ "$1" = export ]; then
			echo stale >"$PEM"
		fi
	fi
}

# after_kill COMMAND CASE: the invariants once the command was killed.
after_kill()
{
	local c=$1 name=$2 a
	if [ "$c" = init ] && [ -e "$DB" ]; then
		# What is there must be no store or a complete one.
		a=$(q 'SELECT ifnull(active_version, 0) FROM state' || true)
		if [ "${a:-0}" = 0 ]; then
			inv_fail corrupt "$name" "the killed init left a store with no active version"
		fi
	fi
	if [ "$c" = init ]; then
		# A retried init must work or find a complete store.
		# shellcheck disable=SC2046 # the words of cmd_args
		rk $(cmd_args init)
		a=$(q 'SELECT ifnull(active_version, 0) FROM state' || true)
		if [ "${a:-0}" = 0 ]; then
			inv_fail other "$name" "init retried after the kill failed (exit $RC: $(head -n 1 "$T/err"))"
			return 0
		fi
	fi
	inv "$name" || true
}

# Random kills.
for c in init apply check rollback export; do
	part_begin
	KILLS[$c]=0
	args=$(cmd_args "$c")
	# The kill lands within the command's run time: the shortest of
	# three runs (the first one pays for cold caches).
	dur_us=0
	for _ in 1 2 3; do
		prepare "$c"
		start=$(date +%s%N)
		# shellcheck disable=SC2086 # the words of cmd_args
		"$RK" --config "$CONF" --db "$DB" $args >/dev/null 2>&1 || true
		d=$((($(date +%s%N) - start) / 1000))
		if [ "$dur_us" = 0 ] || [ "$d" -lt "$dur_us" ]; then
			dur_us=$d
		fi
	done
	[ "$dur_us" -gt 1000 ] || dur_us=1000
	for ((i = 1; i <= N; i++)); do
		prepare "$c"
		delay=$(((RANDOM * 32768 + RANDOM) % dur_us))
		REPRO="rootkeeper $args, SIGKILL after ${delay}us"
		# shellcheck disable=SC2086
		"$RK" --config "$CONF" --db "$DB" $args >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '0.%06d' "$delay")"
		if kill -KILL "$pid" 2>/dev/null; then
			KILLS[$c]=$((KILLS[$c] + 1))
		fi
		wait "$pid" 2>/dev/null || true
		after_kill "$c" "random kill of $c #$i"
	done
	part_end "kill -9 at random points of $c: no store lost or half written"
done

# Deterministic kills at every fsync and fdatasync.
for c in init apply check rollback export; do
	part_begin
	SYSKILLS[$c]=0
	args=$(cmd_args "$c")
	for sc in fsync fdatasync; do
		for ((k = 1; k <= 200; k++)); do
			prepare "$c"
			REPRO="strace -f -e inject=$sc:signal=KILL:when=$k rootkeeper --db DB $args"
			rc=0
			# (The braces keep bash's "Killed" note quiet.)
			# shellcheck disable=SC2086
			{ strace -f -qq -o /dev/null -e trace="$sc" \
			    -e inject="$sc:signal=KILL:when=$k" \
			    "$RK" --config "$CONF" --db "$DB" $args \
			    >/dev/null; } 2>/dev/null || rc=$?
			if [ "$rc" -ne 137 ]; then
				# Ran to its end: the kill point is past the
				# last call.
				REPRO=
				break
			fi
			SYSKILLS[$c]=$((SYSKILLS[$c] + 1))
			after_kill "$c" "kill at $sc #$k of $c"
		done
	done
	part_end "kill -9 at every fsync and fdatasync of $c: no store lost or half written"
done
REPRO=

summary="random kills:"
for c in init apply check rollback export; do
	summary+=" $c ${KILLS[$c]}"
done
summary+="; kills at fsync/fdatasync:"
for c in init apply check rollback export; do
	summary+=" $c ${SYSKILLS[$c]}"
done
fault_summary kills "$summary"
finish
