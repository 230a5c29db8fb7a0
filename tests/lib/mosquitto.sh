# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# A private mosquitto for the test suites: the MQTT broker over TLS that
# stands in for an IoT hub (DESIGN.md section 1), run from a temp folder of
# its own (config, pid file, log, the served certificate chain) with one TLS
# listener on 127.0.0.1 and a free port, as root or not, never touching
# /etc/mosquitto or /var.  Clients need no certificate and no password
# (require_certificate false, allow_anonymous true); nothing is persisted,
# so retained messages live as long as the broker.  The served certfile is
# the leaf followed by its intermediates, so that a client that trusts only
# the root can build the chain.  The log (log_type all) has a line per
# connection, CONNACK and TLS error.  Made for Debian 12's mosquitto 2.0.
#
# Use:
#   . tests/lib/mosquitto.sh
#   trap mosq_stop EXIT
#   mosq_start LEAF.pem KEY.pem [INTERMEDIATES.pem]
#   ... $MOSQ_PORT, $MOSQ_LOG ...
#   mosq_restart OTHER-LEAF.pem OTHER-KEY.pem [INTERMEDIATES.pem]
#   mosq_stop
#
# mosq_restart serves another chain on the same port (a stop and a start:
# clients connected at that moment are dropped).  A suite may set
# MOSQ_EXTRA_CONF to a file of general directives (allow_anonymous false,
# say: they come after the defaults, and the last one wins) before a start
# or a restart.  The broker is not a child of the calling shell, so a bare
# `wait` does not wait for it.  One instance per shell.  Should the calling
# shell die without stopping it (ctest's timeout kills with SIGKILL), a
# watchdog stops mosquitto within a second.  Safe under set -euo pipefail.
# It needs bash, coreutils, util-linux (setsid) and mosquitto.

# shellcheck source=server.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/server.sh"

MOSQ_BIN=${MOSQ_BIN:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
MOSQ_DIR=
MOSQ_PID=
MOSQ_PORT=
MOSQ_LOG=

# mosq_write_conf: the config for MOSQ_PORT and the chain in MOSQ_DIR.
mosq_write_conf()
{
	{
		if [ "$(id -u)" -eq 0 ]; then
			# Else it drops to user mosquitto, who cannot read
			# our 0700 temp folder.
			echo "user root"
		fi
		cat <<EOF
per_listener_settings false
pid_file $MOSQ_DIR/mosquitto.pid
persistence false
log_dest file $MOSQ_LOG
log_type all
log_timestamp true
allow_anonymous true
EOF
		if [ -n "${MOSQ_EXTRA_CONF:-}" ]; then
			cat -- "$MOSQ_EXTRA_CONF"
		fi
		cat <<EOF

listener $MOSQ_PORT 127.0.0.1
certfile $MOSQ_DIR/server-chain.pem
keyfile $MOSQ_DIR/server.key
require_certificate false
EOF
	} >"$MOSQ_DIR/mosquitto.conf"
}

# mosq_set_chain LEAF KEY [INTERMEDIATES]: the files mosquitto serves.
mosq_set_chain()
{
	local leaf=$1 key=$2 chain=${3:-}

	if [ ! -r "$leaf" ] || [ ! -r "$key" ] ||
	    { [ -n "$chain" ] && [ ! -r "$chain" ]; }; then
		echo "mosquitto: cannot read $leaf, $key${chain:+ or $chain}" >&2
		return 1
	fi
	# Leaf first: mosquitto reads certfile with
	# SSL_CTX_use_certificate_chain_file() and sends the rest as the chain.
	cat -- "$leaf" ${chain:+"$chain"} >"$MOSQ_DIR/server-chain.pem" &&
	    cp -- "$key" "$MOSQ_DIR/server.key"
}

# mosq_launch: one try at starting mosquitto on MOSQ_PORT.  Returns 0 once
# it logged that it runs (its listener is bound by then), 1 when it failed,
# 3 when it failed because the port was taken.
mosq_launch()
{
	local n0

	mosq_write_conf
	n0=$(wc -l <"$MOSQ_LOG")
	# In the foreground, from a subshell that ends at once: the broker's
	# pid is known at once, and the caller's shell is not its parent
	# (no job messages, no bare `wait` waiting for it).
	MOSQ_PID=$("$MOSQ_BIN" -c "$MOSQ_DIR/mosquitto.conf" </dev/null \
	    >>"$MOSQ_DIR/start.log" 2>&1 & echo $!)
	for _ in $(seq 1 100); do
		if tail -n "+$((n0 + 1))" -- "$MOSQ_LOG" |
		    grep -q 'mosquitto version .* running'; then
			kill -0 "$MOSQ_PID" 2>/dev/null && return 0
		fi
		if ! kill -0 "$MOSQ_PID" 2>/dev/null; then
			MOSQ_PID=
			if tail -n "+$((n0 + 1))" -- "$MOSQ_LOG" |
			    grep -q 'Address already in use'; then
				return 3
			fi
			return 1
		fi
		sleep 0.1
	done
	echo "mosquitto: no 'running' line in its log after 10 s" >&2
	mosq_kill
	return 1
}

# mosq_kill: stops the running broker, if any; keeps the folder.
mosq_kill()
{
	if [ -n "$MOSQ_PID" ] && kill -0 "$MOSQ_PID" 2>/dev/null; then
		kill -TERM "$MOSQ_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$MOSQ_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$MOSQ_PID" 2>/dev/null; then
			kill -KILL "$MOSQ_PID" 2>/dev/null || true
			sleep 0.1
		fi
	fi
	MOSQ_PID=
}

mosq_fail()
{
	echo "$1:" >&2
	cat -- "$MOSQ_DIR/start.log" "$MOSQ_LOG" >&2 2>/dev/null
	mosq_stop
	return 1
}

# mosq_start LEAF KEY [INTERMEDIATES]: starts mosquitto serving LEAF (and
# the intermediates after it) with KEY; sets MOSQ_PORT, MOSQ_LOG and
# MOSQ_DIR.  Returns non-zero (with mosquitto's log on stderr) when it
# cannot start.
mosq_start()
{
	local rc=1

	if [ $# -ne 2 ] && [ $# -ne 3 ]; then
		echo "usage: mosq_start CERT KEY [CHAIN]" >&2
		return 2
	fi
	if [ -n "$MOSQ_PID" ]; then
		echo "mosq_start: already running (pid $MOSQ_PID)" >&2
		return 1
	fi
	MOSQ_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rk-mosquitto.XXXXXX") ||
	    return 1
	MOSQ_LOG=$MOSQ_DIR/mosquitto.log
	: >"$MOSQ_LOG"
	mosq_set_chain "$@" || { mosq_stop; return 1; }

	for _ in $(seq 1 20); do
		MOSQ_PORT=$(free_port) || break
		rc=0
		mosq_launch || rc=$?
		[ "$rc" -eq 3 ] || break
	done
	if [ "$rc" -ne 0 ] || [ -z "$MOSQ_PID" ]; then
		mosq_fail "mosq_start: mosquitto did not start"
		return 1
	fi
	watchdog mosquitto "$BASHPID" "$MOSQ_PID" "$MOSQ_DIR" mosquitto.conf
	export MOSQ_DIR MOSQ_PORT MOSQ_LOG
	return 0
}

# mosq_restart LEAF KEY [INTERMEDIATES]: the same broker configuration on
# the same port, serving another chain.  The log goes on in the same file.
mosq_restart()
{
	local rc=1

	if [ $# -ne 2 ] && [ $# -ne 3 ]; then
		echo "usage: mosq_restart CERT KEY [CHAIN]" >&2
		return 2
	fi
	if [ -z "$MOSQ_DIR" ] || [ -z "$MOSQ_PORT" ]; then
		echo "mosq_restart: not started" >&2
		return 1
	fi
	mosq_kill
	mosq_set_chain "$@" || { mosq_stop; return 1; }
	# SO_REUSEADDR lets it bind at once; another process taking the
	# port meanwhile is retried for a few seconds, then a failure.
	for _ in $(seq 1 30); do
		rc=0
		mosq_launch || rc=$?
		[ "$rc" -eq 3 ] || break
		sleep 0.2
	done
	if [ "$rc" -ne 0 ] || [ -z "$MOSQ_PID" ]; then
		mosq_fail "mosq_restart: mosquitto did not start again on port $MOSQ_PORT"
		return 1
	fi
	watchdog mosquitto "$BASHPID" "$MOSQ_PID" "$MOSQ_DIR" mosquitto.conf
	return 0
}

# mosq_stop: stops mosquitto and removes its folder (the log included: copy
# what you need first).  Safe to call twice and when nothing was started.
mosq_stop()
{
	mosq_kill
	if [ -n "$MOSQ_DIR" ] && [ -d "$MOSQ_DIR" ]; then
		rm -rf -- "$MOSQ_DIR"
	fi
	MOSQ_DIR=
	MOSQ_PORT=
	MOSQ_LOG=
	return 0
}
