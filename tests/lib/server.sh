# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The watchdog of the servers the suites start (tests/lib/nginx.sh,
# tests/lib/mosquitto.sh): should the test's shell die without stopping its
# server (ctest's timeout kills with SIGKILL), the server goes within a
# second.  It needs bash, coreutils and util-linux (setsid).

# watchdog NAME SHELL_PID PID DIR CONF: in a session of its own (out of
# reach of a kill aimed at the test's process group), rk-NAME-watchdog waits
# for the test shell SHELL_PID to end; if the server PID outlived it (and
# still runs with DIR/CONF), stops it and removes DIR.  It leaves on its own
# as soon as the server stops (a restart starts another), and holds none
# of the test's file descriptors, so nobody waits for it.
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
