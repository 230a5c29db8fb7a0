#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every consumer of the active set (DESIGN.md section 4, "Fleet and
# packaging additions"), judged by real programs:
#  - export_dir keeps an OpenSSL CApath folder: the same names and links as
#    `openssl rehash` makes for the same roots (also for names with spaces,
#    upper case, BMPString, T61String and a multi-valued RDN), which
#    `openssl rehash -n` finds complete; `openssl s_client -CApath` and
#    `curl --capath` against a real TLS server (openssl s_server) trust it,
#    and stop trusting it once an update drops the root, and again after
#    a rollback; the folder is swapped as a whole (one folder left);
#  - on_change runs after every activation and rollback with RK_VERSION,
#    RK_EXPORT and RK_EXPORT_DIR; a failing hook is logged and the
#    activation stands;
#  - `export --pem -` writes to standard output (no file named "-");
#    `export --dir` refuses a folder it did not make;
#  - the README's recipes: examples/system-store/rootkeeper-to-system-store
#    as on_change feeding update-ca-certificates (on a private copy of its
#    folders), and examples/curl-device (CURLOPT_CAINFO_BLOB from
#    rk_trust_pem) against the TLS server.
#
# usage: consumers.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
#                     PATH/TO/rk-curl-get
# shellcheck disable=SC2317 # functions run through check, run() and the trap
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
if [ $# -ne 3 ] || [ ! -x "$3" ]; then
	echo "usage: $0 ROOTKEEPER ROOTKEEPER_SIGN RK_CURL_GET" >&2
	exit 2
fi
CURLGET=$(readlink -f -- "$3")
RECIPE=$(readlink -f -- "$E2E_DIR/../../examples/system-store/rootkeeper-to-system-store")
e2e_setup "$1" "$2"

mkdir -p dev
DB=$T/dev/store.db
PEM=$T/dev/trust.pem
CAP=$T/dev/capath

mk_ca ca1 "Consumers Root 1"
mk_ca ca2 "Consumers Root 2"
mk_leaf srv ca1
mk_ca other "Unrelated Root" # curl's CA file, so that only --capath counts

# Roots whose subjects exercise OpenSSL's canonical name: spaces and case,
# and each string type openssl req can write.
i=0
for mask in utf8only default nombstr pkix; do
	for subj in "/CN=  Spaced   OUT  Root /O=Case TEST" \
	    "/CN=R+O=Multi+OU=  Valued/C=DE" "/CN=Ünïcödé  ÄÖ Root/O=x"; do
		i=$((i + 1))
		printf '[req]\ndistinguished_name=dn\nstring_mask=%s\n[dn]\n[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' \
		    "$mask" >w.cnf
		openssl req -x509 -new -config w.cnf -extensions v3_ca -utf8 \
		    -multivalue-rdn -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout /dev/null -subj "$subj" -days 3650 \
		    -out "w$i.pem" 2>/dev/null
	done
done
for f in w*.pem; do
	openssl asn1parse -in "$f"
done >asn1.txt
check "the odd names include a BMPString" grep -q BMPSTRING asn1.txt
check "... and a T61String" grep -q T61STRING asn1.txt
WS=()
for f in w*.pem; do
	WS+=(--certs "$f")
done

"$SIGN" keygen -o k >/dev/null
mk()
{
	local v=$1
	shift
	"$SIGN" create --key k.key --channel cons --version "$v" "$@" \
	    "${WS[@]}" -o "v$v.rkb" >/dev/null
}
mk 1 --certs ca1.pem --certs ca2.pem
mk 2 --certs ca2.pem
mk 3 --certs ca2.pem
mk 4 --certs ca1.pem --certs ca2.pem
mk 5 --certs ca2.pem

cat >hook.sh <<'SH'
printf '%s %s %s\n' "$RK_VERSION" "$RK_EXPORT" "${RK_EXPORT_DIR:-}" >>"$HOOK_LOG"
SH
export HOOK_LOG=$T/hook.log
cat >rk.conf <<EOF2
[agent]
db = $DB
export_dir = $CAP
on_change = sh $T/hook.sh
EOF2
rk()
{
	run "$RK" --config "$T/rk.conf" "$@"
}

expect_exit 0 "init with export_dir and on_change" rk init --pin k.pub \
    --bundle v1.rkb
check_eq "on_change ran after init's activation" "$(cat hook.log)" \
    "1 $PEM $CAP"
check "export_dir is a link to a folder beside it" test -L "$CAP" -a -d "$CAP"

# capath_matches: the folder has the names, links and targets that
# `openssl rehash` makes for the same PEM files.
capath_matches()
{
	local ref=$T/rehash l
	rm -rf "$ref"
	mkdir "$ref"
	cp "$CAP"/*.pem "$ref"/
	openssl rehash "$ref" 2>/dev/null
	[ "$(cd "$ref" && ls)" = "$(cd "$CAP" && ls)" ] || return 1
	for l in "$ref"/*.[0-9]; do
		[ "$(readlink "$l")" = "$(readlink "$CAP/${l##*/}")" ] || return 1
	done
}
check "the folder is what openssl rehash makes of the same roots" \
    capath_matches
check_eq "one PEM per root of the active set" \
    "$(fps_of "$CAP"/*.pem | tr '\n' ' ')" "$(pem_fps "$PEM" | tr '\n' ' ')"
rm -rf copy
cp -a "$CAP/" copy
openssl rehash -n copy 2>/dev/null
check_eq "openssl rehash -n finds nothing to add" "$(cd copy && ls)" \
    "$(cd "$CAP" && ls)"

# A real TLS server with a leaf under Root 1.
tls_serve s_server.log srv.pem srv.leaf.key
E2E_PIDS+=("$TLS_PID")
PORT=$TLS_PORT

# s_client_ok: the handshake verifies against the CApath folder.
s_client_ok()
{
	openssl s_client -connect "127.0.0.1:$PORT" -CApath "$CAP" \
	    -verify_hostname leaf.example -verify_return_error </dev/null \
	    >s_client.out 2>&1 && grep -q 'Verify return code: 0 (ok)' s_client.out
}
curl_ok()
{
	curl -sS -o /dev/null --capath "$CAP" --cacert other.pem \
	    --resolve "leaf.example:$PORT:127.0.0.1" "https://leaf.example:$PORT/"
}
app_ok()
{
	"$CURLGET" --db "$DB" --resolve "leaf.example:$PORT:127.0.0.1" \
	    "https://leaf.example:$PORT/" >/dev/null 2>app.err
}
check "openssl s_client -CApath trusts the server under Root 1" s_client_ok
check "curl --capath trusts it" curl_ok
check "the libcurl example (CURLOPT_CAINFO_BLOB) trusts it" app_ok

expect_exit 0 "apply v2, without Root 1" rk apply v2.rkb
check_eq "on_change ran with v2" "$(tail -n 1 hook.log)" "2 $PEM $CAP"
check "the folder follows: what openssl rehash makes" capath_matches
check_not "s_client -CApath no longer trusts the server" s_client_ok
check "... for want of its issuer" grep -q 'unable to get local issuer' \
    s_client.out
check_not "curl --capath neither" curl_ok
check_not "the libcurl example neither" app_ok
check "... a TLS failure" grep -qi 'certificate' app.err
check_eq "one folder beside the link: the old one is gone" \
    "$(find "$T/dev" -maxdepth 1 -name '.capath.*' -type d | wc -l)" 1

expect_exit 0 "rollback to v1" rk rollback
check_eq "on_change ran after the rollback" "$(tail -n 1 hook.log)" \
    "1 $PEM $CAP"
check "s_client -CApath trusts the server again" s_client_ok

# A failing hook: logged, the activation stands.
sed -i 's|^on_change = .*|on_change = exit 7|' rk.conf
expect_exit 0 "apply v3 with a hook that fails" rk apply v3.rkb
check "... which is logged" grep -q 'on_change: exited 7; v3 stays active' \
    "$T/err"
run "$RK" --db "$DB" status --json
check_eq "... and v3 is active" "$(jq -r .active_version "$T/out")" 3

# export --pem - and export --dir.
expect_exit 0 "export --pem -" "$RK" --db "$DB" export --pem -
check "... writes the set to standard output" cmp -s "$T/out" "$PEM"
check_not "... and no file named -" test -e ./-
mkdir -p mine
: >mine/keep
expect_exit 1 "export --dir into a folder rootkeeper did not make" \
    "$RK" --db "$DB" export --dir mine
check "... is refused, and the folder left alone" test -f mine/keep -a \
    ! -L mine
expect_exit 0 "export --dir into a new folder" "$RK" --db "$DB" export \
    --dir new/cap
check "... makes it" sh -c 'ls new/cap/*.pem >/dev/null'

# The README's system-store recipe, on a private copy of the folders
# update-ca-certificates works on.
U=$T/usc
mkdir -p "$U/certs" "$U/local" "$U/etc" "$U/hooks"
: >"$U/ca-certificates.conf"
cat >recipe.sh <<EOF2
RK_LOCAL_CA_DIR=$U/local/rootkeeper \
RK_UPDATE_CA_OPTS='--certsconf $U/ca-certificates.conf --certsdir $U/certs
    --localcertsdir $U/local --etccertsdir $U/etc --hooksdir $U/hooks' \
    exec $RECIPE
EOF2
cat >rk.conf <<EOF2
[agent]
db = $DB
on_change = sh $T/recipe.sh
EOF2
expect_exit 0 "apply v4 with the system-store recipe as on_change" \
    rk apply v4.rkb
check "... which succeeded" grep -q 'on_change: done for v4' "$T/err"
check_eq "ca-certificates.crt holds the active set" \
    "$(pem_fps "$U/etc/ca-certificates.crt" | tr '\n' ' ')" \
    "$(pem_fps "$PEM" | tr '\n' ' ')"
check "openssl verify -CApath of the store trusts the leaf" \
    openssl verify -CApath "$U/etc" srv.pem
expect_exit 0 "apply v5, without Root 1" rk apply v5.rkb
check_eq "ca-certificates.crt follows" \
    "$(pem_fps "$U/etc/ca-certificates.crt" | tr '\n' ' ')" \
    "$(pem_fps "$PEM" | tr '\n' ' ')"
check_not "openssl verify no longer trusts the leaf" \
    openssl verify -CApath "$U/etc" srv.pem
finish
