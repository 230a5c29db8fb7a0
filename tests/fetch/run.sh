#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the fetch suite (tests/test_fetch.c) against a real nginx: makes a
# test PKI with openssl (a CA, a server certificate for 127.0.0.1 and
# localhost, and an unrelated CA), starts nginx on HTTP and HTTPS through
# tests/lib/nginx.sh, hands the suite the URLs, the CA files, the docroot
# and the access log in RK_FETCH_* variables, and stops nginx on every way
# out.  The suite writes its own files into the docroot.  One case (the
# low-speed abort) takes about 15 seconds by design.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH/TO/test_fetch" >&2
	exit 2
fi
bin=$(readlink -f -- "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/nginx.sh
. "$here/../lib/nginx.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/emulator.sh
. "$here/../lib/emulator.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/rk-fetch.XXXXXX")
bin=$(emu_wrap "$bin" "$T")
# shellcheck disable=SC2317 # called by the trap
cleanup()
{
	nginx_stop
	rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/www" "$T/pki"
nginx_test_pki "$T/pki"

# Responses whose headers the suite checks byte for byte; /hdr/huge has a
# 1 MiB header line (nginx_conf_huge_header).
long=$(printf '"%0300d"' 0)
toolong=$(printf '"%02000d"' 0)
{
	cat <<CONF
location = /hdr/long {
	add_header ETag '$long';
	add_header Last-Modified 'Tue, 01 Jan 2030 00:00:00 GMT';
	default_type text/plain;
	return 200 "long";
}
location = /hdr/toolong {
	add_header ETag '$toolong';
	default_type text/plain;
	return 200 "toolong";
}
location = /hdr/huge {
CONF
	nginx_conf_huge_header
	cat <<CONF
	default_type text/plain;
	return 200 "huge";
}
location = /hdr/lower {
	add_header etag '"lower-case"';
	add_header last-modified 'Tue, 01 Jan 2030 00:00:00 GMT';
	default_type text/plain;
	return 200 "lower";
}
location = /hdr/redirect {
	add_header ETag '"from-the-redirect"' always;
	add_header Last-Modified 'Mon, 01 Jan 2001 00:00:00 GMT' always;
	return 302 /hdr/plain;
}
location = /hdr/plain {
	default_type text/plain;
	return 200 "plain";
}
location = /status/500 {
	return 500;
}
CONF
} >"$T/extra.conf"
export NGINX_EXTRA_CONF=$T/extra.conf
nginx_start "$T/www" "$T/pki/server.pem" "$T/pki/server.key"

# OpenSSL's default store (what a curl falling back to "the system store"
# would load) is made to trust the test CA: fetch must still refuse the
# server when the caller's PEM is the wrong CA.  First the premise: OpenSSL
# honours the variable, and without it the server is not trusted.
tls_host=127.0.0.1:$NGINX_TLS_PORT
if ! SSL_CERT_FILE=$T/pki/ca.pem SSL_CERT_DIR=$T/pki \
    openssl s_client -connect "$tls_host" -verify_return_error \
    </dev/null >"$T/s_client.log" 2>&1; then
	echo "premise: OpenSSL ignores SSL_CERT_FILE" >&2
	cat "$T/s_client.log" >&2
	exit 1
fi
if SSL_CERT_FILE=$T/pki/wrong-ca.pem SSL_CERT_DIR=$T/pki \
    openssl s_client -connect "$tls_host" -verify_return_error \
    </dev/null >"$T/s_client.log" 2>&1; then
	echo "premise: the server is trusted without its CA" >&2
	exit 1
fi
export SSL_CERT_FILE=$T/pki/ca.pem SSL_CERT_DIR=$T/pki

# No proxy may stand between the suite and 127.0.0.1.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY \
    no_proxy NO_PROXY
export RK_FETCH_URL=$NGINX_URL
export RK_FETCH_TLS_URL=$NGINX_TLS_URL
export RK_FETCH_CA=$T/pki/ca.pem
export RK_FETCH_WRONG_CA=$T/pki/wrong-ca.pem
export RK_FETCH_DOCROOT=$T/www
export RK_FETCH_ACCESS_LOG=$NGINX_ACCESS_LOG

rc=0
"$bin" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- nginx access log" >&2
	tail -n 60 "$NGINX_ACCESS_LOG" >&2 || true
	echo "--- nginx error log" >&2
	grep -v ' \[info\] ' "$NGINX_ERROR_LOG" | tail -n 30 >&2 || true
fi
exit "$rc"
