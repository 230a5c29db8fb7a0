# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# A private nginx for the test suites: the "static web server" of DESIGN.md
# section 1, run from a temp folder of its own (config, pid, logs, temp
# paths) on 127.0.0.1 and a free port, as root or not, never touching
# /etc/nginx or /var.  Besides the docroot it serves a few locations the
# transport tests need:
#
#   /redir/N/PATH       N chained 302s (1 <= N <= 20), the last one to /PATH
#   /redir-file/PATH    a 302 to file://DOCROOT/PATH (must not be followed)
#   /to-tls/PATH        a 302 to https://127.0.0.1:TLS_PORT/PATH (with TLS)
#   /chunked/PATH       DOCROOT/PATH without Content-Length (chunked: a
#                       sub_filter that never matches removes the length)
#   /slow/PATH          DOCROOT/PATH at 50 bytes per second
#   /echo/ua            the request's User-Agent as the body
#   /echo/cond          "If-None-Match|If-Modified-Since" of the request
#
# Static files get nginx's default validators: a strong ETag
# "<mtime hex>-<size hex>" and Last-Modified, with If-None-Match and exact
# If-Modified-Since answered by 304.  The access log has one line per
# request: "$request $status $body_bytes_sent $request_completion", the
# last field "OK" only for a response sent in full.  $NGINX_COMBINED_LOG has
# the same requests in nginx's standard "combined" format (with the
# User-Agent), as a production server would log them.
#
# Use:
#   . tests/lib/nginx.sh
#   trap nginx_stop EXIT
#   nginx_start DOCROOT [CERT.pem KEY.pem]
#   ... $NGINX_URL, $NGINX_TLS_URL, $NGINX_ACCESS_LOG ...
#   nginx_stop
#
# A suite may set NGINX_EXTRA_CONF to a file of server-level directives
# (extra locations) before nginx_start.  nginx_test_pki DIR makes a test CA,
# a server certificate for 127.0.0.1 and localhost, and an unrelated CA.
# One instance per shell.  Should the calling shell die without stopping
# it (ctest's timeout kills with SIGKILL), a watchdog stops nginx within a
# second.  Safe under set -euo pipefail.  It needs bash, coreutils,
# util-linux (setsid) and nginx; openssl for nginx_test_pki.

# shellcheck source=server.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/server.sh"
# shellcheck source=pki.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/pki.sh"

NGINX_BIN=${NGINX_BIN:-nginx}
NGINX_DIR=
NGINX_PID=
NGINX_PORT=
NGINX_URL=
NGINX_TLS_PORT=
NGINX_TLS_URL=
NGINX_ACCESS_LOG=
NGINX_COMBINED_LOG=
NGINX_ERROR_LOG=

# nginx_write_conf DOCROOT CERT KEY: the config for the chosen ports.
nginx_write_conf()
{
	local docroot=$1 cert=$2 key=$3 i

	{
		if [ "$(id -u)" -eq 0 ]; then
			# The workers read our 0700 temp folders.
			echo "user root root;"
		fi
		cat <<EOF
daemon on;
master_process on;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
lock_file $NGINX_DIR/nginx.lock;
error_log $NGINX_ERROR_LOG info;

events {
	worker_connections 128;
}

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	types_hash_max_size 4096;
	log_format rk '\$request \$status \$body_bytes_sent \$request_completion';
	access_log $NGINX_ACCESS_LOG rk;
	access_log $NGINX_COMBINED_LOG combined;
	client_body_temp_path $NGINX_DIR/tmp/body;
	proxy_temp_path $NGINX_DIR/tmp/proxy;
	fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
	uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
	scgi_temp_path $NGINX_DIR/tmp/scgi;
	sendfile on;
	etag on;
	if_modified_since exact;
	keepalive_timeout 5;
	server_tokens off;

	server {
		listen 127.0.0.1:$NGINX_PORT;
EOF
		if [ -n "$cert" ]; then
			cat <<EOF
		listen 127.0.0.1:$NGINX_TLS_PORT ssl;
		ssl_certificate $cert;
		ssl_certificate_key $key;
		ssl_protocols TLSv1.2 TLSv1.3;

		location /to-tls/ {
			rewrite ^/to-tls/(.*)\$ https://127.0.0.1:$NGINX_TLS_PORT/\$1 redirect;
		}
EOF
		fi
		cat <<EOF
		server_name localhost;
		root $docroot;

		location /redir/ {
			rewrite ^/redir/1/(.*)\$ /\$1 redirect;
EOF
		for i in $(seq 2 20); do
			# shellcheck disable=SC2016 # $1 is nginx's, not ours
			printf '\t\t\trewrite ^/redir/%d/(.*)$ /redir/%d/$1 redirect;\n' \
			    "$i" "$((i - 1))"
		done
		cat <<EOF
			return 404;
		}

		location /redir-file/ {
			rewrite ^/redir-file/(.*)\$ file://$docroot/\$1 redirect;
		}

		location /chunked/ {
			alias $docroot/;
			sub_filter_types *;
			sub_filter 'rootkeeper-never-matches-this' '';
		}

		location /slow/ {
			alias $docroot/;
			# sendfile would go out in page-sized bursts.
			sendfile off;
			postpone_output 0;
			limit_rate 50;
		}

		location = /echo/ua {
			default_type text/plain;
			return 200 "\$http_user_agent";
		}

		location = /echo/cond {
			default_type text/plain;
			return 200 "\$http_if_none_match|\$http_if_modified_since";
		}
EOF
		if [ -n "${NGINX_EXTRA_CONF:-}" ]; then
			echo "		include $NGINX_EXTRA_CONF;"
		fi
		cat <<EOF
	}
}
EOF
	} >"$NGINX_DIR/nginx.conf"
}

# nginx_answers PORT: 0 once a plain HTTP request gets an HTTP status line.
nginx_answers()
{
	local line

	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
		IFS= read -r -t 2 line <&3 || exit 1
		case $line in
		HTTP/1.*) exit 0 ;;
		*) exit 1 ;;
		esac
	) 2>/dev/null
}

# nginx_start DOCROOT [CERT KEY]: starts nginx; sets NGINX_PORT, NGINX_URL,
# NGINX_ACCESS_LOG, NGINX_ERROR_LOG, NGINX_DIR, and with a certificate
# NGINX_TLS_PORT and NGINX_TLS_URL.  Returns non-zero (with nginx's error
# log on stderr) when it cannot start.
nginx_start()
{
	local docroot cert='' key='' i

	if [ $# -ne 1 ] && [ $# -ne 3 ]; then
		echo "usage: nginx_start DOCROOT [CERT KEY]" >&2
		return 2
	fi
	if [ -n "$NGINX_PID" ]; then
		echo "nginx_start: already running (pid $NGINX_PID)" >&2
		return 1
	fi
	docroot=$(readlink -f -- "$1") || return 1
	if [ ! -d "$docroot" ]; then
		echo "nginx_start: $1: not a directory" >&2
		return 1
	fi
	if [ $# -eq 3 ]; then
		cert=$(readlink -f -- "$2") && key=$(readlink -f -- "$3") ||
		    return 1
	fi
	NGINX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rk-nginx.XXXXXX") || return 1
	mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/tmp"
	NGINX_ACCESS_LOG=$NGINX_DIR/logs/access.log
	NGINX_COMBINED_LOG=$NGINX_DIR/logs/combined.log
	NGINX_ERROR_LOG=$NGINX_DIR/logs/error.log

	for _ in $(seq 1 20); do
		NGINX_PORT=$(free_port) || break
		NGINX_TLS_PORT=
		if [ -n "$cert" ]; then
			NGINX_TLS_PORT=$(free_port) || break
			[ "$NGINX_TLS_PORT" != "$NGINX_PORT" ] || continue
		fi
		nginx_write_conf "$docroot" "$cert" "$key"
		# With "daemon on" nginx returns once it has bound its
		# sockets, or fails at once when it could not.
		if "$NGINX_BIN" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		    -e "$NGINX_ERROR_LOG" >>"$NGINX_DIR/logs/start.log" 2>&1; then
			for i in $(seq 1 50); do
				[ -s "$NGINX_DIR/nginx.pid" ] && break
				sleep 0.1
			done
			NGINX_PID=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null) ||
			    NGINX_PID=
			break
		fi
		if ! grep -q 'Address already in use' \
		    "$NGINX_DIR/logs/start.log" "$NGINX_ERROR_LOG" \
		    2>/dev/null; then
			break
		fi
		: >"$NGINX_DIR/logs/start.log"
	done
	if [ -z "$NGINX_PID" ]; then
		echo "nginx_start: nginx did not start:" >&2
		cat "$NGINX_DIR/logs/start.log" "$NGINX_ERROR_LOG" >&2 \
		    2>/dev/null
		nginx_stop
		return 1
	fi

	watchdog nginx "$BASHPID" "$NGINX_PID" "$NGINX_DIR" nginx.conf

	NGINX_URL=http://127.0.0.1:$NGINX_PORT
	NGINX_TLS_URL=
	if [ -n "$cert" ]; then
		NGINX_TLS_URL=https://127.0.0.1:$NGINX_TLS_PORT
	fi
	for i in $(seq 1 100); do
		if nginx_answers "$NGINX_PORT"; then
			export NGINX_DIR NGINX_PORT NGINX_URL NGINX_TLS_PORT \
			    NGINX_TLS_URL NGINX_ACCESS_LOG NGINX_COMBINED_LOG \
			    NGINX_ERROR_LOG
			return 0
		fi
		sleep 0.1
	done
	echo "nginx_start: nginx on port $NGINX_PORT does not answer" >&2
	cat "$NGINX_ERROR_LOG" >&2 2>/dev/null
	nginx_stop
	return 1
}

# nginx_stop: stops nginx and removes its folder (logs included: copy what
# you need first).  Safe to call twice and when nothing was started.
nginx_stop()
{
	local i

	if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
		kill -TERM "$NGINX_PID" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 "$NGINX_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$NGINX_PID" 2>/dev/null; then
			kill -KILL "$NGINX_PID" 2>/dev/null || true
		fi
	fi
	NGINX_PID=
	if [ -n "$NGINX_DIR" ] && [ -d "$NGINX_DIR" ]; then
		rm -rf -- "$NGINX_DIR"
	fi
	NGINX_DIR=
	return 0
}

# nginx_test_pki DIR: DIR/ca.pem (a test root, key ca.key), DIR/server.pem
# and DIR/server.key (signed by it, subjectAltName IP:127.0.0.1 and
# DNS:localhost), DIR/wrong-ca.pem (an unrelated root with the same name).
nginx_test_pki()
{
	(
		pki_init "$1" || exit 1
		pki_cert "$1/ca.pem" "$1/ca.key" "/CN=rootkeeper test CA" v3_ca \
		    "$(pki_date now)" "$(pki_date "now + 30 days")" &&
		    pki_cert "$1/wrong-ca.pem" "$1/wrong-ca.key" \
		    "/CN=rootkeeper test CA" v3_ca "$(pki_date now)" \
		    "$(pki_date "now + 30 days")" &&
		    PKI_SAN=IP:127.0.0.1,DNS:localhost pki_cert \
		    "$1/server.pem" "$1/server.key" /CN=localhost v3_leaf \
		    "$(pki_date now)" "$(pki_date "now + 30 days")" \
		    "$1/ca.pem" "$1/ca.key"
	)
}
