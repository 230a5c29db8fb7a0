# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # TLS_PORT and TLS_PID are for the callers
#
# What every server the suites start needs (tests/lib/nginx.sh,
# tests/lib/mosquitto.sh, and openssl s_server through tls_serve): a free
# port on 127.0.0.1, and a watchdog: should the test's shell die without stopping
# its server (ctest's timeout kills with SIGKILL), the server goes within a
# second.  It needs bash, coreutils and util-linux (setsid).

# free_port: a TCP port on 127.0.0.1 nobody answers on right now; the
# server's bind is the real test (a caller retries with another port when
# it loses a race).
free_port()
{
	local port

	for _ in $(seq 1 200); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

# watchdog NAME SHELL_PID PID DIR CONF: in a session of its own (out of
# reach of a kill aimed at the test's process group), rk-NAME-watchdog waits
# for the test shell SHELL_PID to end; if the server PID outlived it (and
# still runs with DIR/CONF in its command line), stops it; then removes
# DIR.  It leaves on its own as soon as the server stops (a restart starts
# another), and holds none of the test's file descriptors, so nobody waits
# for it.
watchdog()
{
	# shellcheck disable=SC2016 # the program is for the inner bash
	setsid bash -c '
		while kill -0 "$1" 2>/dev/null; do
			kill -0 "$2" 2>/dev/null || exit 0
			sleep 1
		done
		if tr "\0" " " <"/proc/$2/cmdline" 2>/dev/null |
		    grep -qF -- "$3/$4"; then
			kill -TERM "$2"
			sleep 1
		fi
		rm -rf -- "$3"
	' "rk-$1-watchdog" "$2" "$3" "$4" "$5" </dev/null >/dev/null 2>&1 &
}

# tls_serve LOG PEM KEY [S_SERVER OPTIONS...]: an openssl s_server for PEM
# and KEY on a free port (all addresses, IPv4 and IPv6), its messages in
# LOG; sets TLS_PORT and TLS_PID (the server's own pid) once it accepts
# connections.  Call it outside a subshell, so that the caller's exit trap
# can stop TLS_PID; should the shell die without its trap, the watchdog
# stops the server and removes PEM's folder.
tls_serve()
{
	local log=$1 pem key port pid
	pem=$(readlink -f -- "$2")
	key=$(readlink -f -- "$3")
	shift 3
	for _ in $(seq 1 10); do
		port=$(free_port) || return 1
		openssl s_server -quiet -www -accept "$port" -cert "$pem" \
		    -key "$key" "$@" </dev/null >>"$log" 2>&1 &
		pid=$!
		for _ in $(seq 1 50); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				watchdog s_server "$BASHPID" "$pid" \
				    "$(dirname -- "$pem")" "$(basename -- "$pem")"
				TLS_PORT=$port
				TLS_PID=$pid
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "openssl s_server for $pem did not start:" >&2
	cat -- "$log" >&2
	return 1
}
