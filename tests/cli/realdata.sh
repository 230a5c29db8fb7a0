#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# rootkeeper-sign on real data: the system's CA file (Debian's
# /etc/ssl/certs/ca-certificates.crt, or RK_CA_FILE) made into a bundle with
# --keep-expired keeps every certificate, in order, with the SHA-256, subject
# and not_after that openssl reports for it; without --keep-expired the
# expired ones (as openssl -checkend 0 counts them) are dropped with one
# warning each.  The DER of certificates cut out of the .rkb by offsets is
# compared byte for byte with openssl's.  Nothing is hard-coded about the
# file: every expectation is counted from it with openssl.
#
# usage: realdata.sh PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "$0")/lib.sh"
rk_setup "$@"
cd "$T"

CA_FILE=${RK_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -r "$CA_FILE" ]; then
	not_ok "the system CA file $CA_FILE is readable"
	finish
fi

"$BIN" keygen -o k >/dev/null

# ---- what openssl says about each PEM block ---------------------------

n_begin=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$CA_FILE")
mkdir pem
awk '/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("pem/%04d.pem", n) }
    n && f != "" { print > f }
    /-----END CERTIFICATE-----/ { close(f); f = "" }' "$CA_FILE"
n_split=$(find pem -name '*.pem' | wc -l)
check_eq "awk split the file into one file per BEGIN CERTIFICATE block" \
    "$n_split" "$n_begin"
if [ "$n_begin" -gt 0 ]; then
	ok "the CA file has $n_begin certificates"
else
	not_ok "the CA file has certificates"
fi

# expect.tsv: sha256, not_after (RFC 3339), expired (0/1), CN or O.
: >expect.tsv
n_expired=0
bad_date=0
for f in pem/*.pem; do
	sha=$(openssl x509 -in "$f" -outform DER | sha256sum | awk '{print $1}')
	# -checkend 0 fails (exit 1) for a certificate expired now.
	exp=0
	info=$(openssl x509 -in "$f" -noout -enddate -subject \
	    -nameopt sep_multiline,sname,utf8,-esc_msb -checkend 0) || exp=1
	n_expired=$((n_expired + exp))
	end=$(printf '%s\n' "$info" | sed -n 's/^notAfter=//p')
	if ! rfc=$(date -u -d "$end" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null); then
		bad_date=$((bad_date + 1))
		rfc="?"
	fi
	# The most specific CN, else the most specific O.
	name=$(printf '%s\n' "$info" | sed -n 's/^ *CN=/CN=/p' | tail -n 1)
	[ -n "$name" ] ||
	    name=$(printf '%s\n' "$info" | sed -n 's/^ *O=/O=/p' | tail -n 1)
	printf '%s\t%s\t%s\t%s\n' "$sha" "$rfc" "$exp" "$name" >>expect.tsv
done
check_eq "date -u -d converts every openssl -enddate" "$bad_date" 0
check_eq "every certificate has a CN or an O" \
    "$(awk -F'\t' '$4 == ""' expect.tsv | wc -l)" 0
n_unexpired=$((n_begin - n_expired))
echo "# $n_begin certificates, $n_expired expired now ($(date -u +%F))"

# ---- --keep-expired: everything, in order -----------------------------

expect_exit 0 "create --keep-expired from $CA_FILE" "$BIN" create \
    --key k.key --channel system --version 1 --certs "$CA_FILE" \
    --keep-expired -o all.rkb
check "create reports $n_begin certificates" \
    grep -q ", $n_begin certificates," "$T/out"
check_not "--keep-expired drops nothing" grep -q 'dropping expired' "$T/err"
expect_exit 0 "verify accepts the system bundle" "$BIN" verify --pub k.pub \
    all.rkb
expect_exit 0 "inspect --json all.rkb" "$BIN" inspect --json all.rkb
cp "$T/out" all.json
check_eq "inspect --json: number of certs = number of BEGIN blocks" \
    "$(jq '.certs | length' all.json)" "$n_begin"
jq -r '.certs[].sha256' all.json >got.sha
cut -f1 expect.tsv >want.sha
check_files_eq "every cert's DER SHA-256 appears in inspect --json, in order" \
    got.sha want.sha
jq -r '.certs[].not_after' all.json >got.json.end
cut -f2 expect.tsv >want.end
check_files_eq "inspect --json not_after = openssl -enddate, every cert" \
    got.json.end want.end

expect_exit 0 "inspect (text) all.rkb" "$BIN" inspect all.rkb
cp "$T/out" all.txt
check "inspect text says certs: $n_begin" \
    grep -qE "^certs: +$n_begin\$" all.txt
# got.tsv: sha256, not_after, subject, from the text output.
awk '/^    not_after / {
	sha = $NF; t = $2
	sub(/^  /, "", prev)
	printf "%s\t%s\t%s\n", sha, t, prev
    }
    { prev = $0 }' all.txt >got.tsv
check_eq "inspect text lists $n_begin certificate entries" \
    "$(wc -l <got.tsv)" "$n_begin"
cut -f1 got.tsv >got.txt.sha
check_files_eq "inspect text: sha256 of every cert, in order" got.txt.sha \
    want.sha
cut -f2 got.tsv >got.txt.end
check_files_eq "inspect text: not_after = openssl -enddate, every cert" \
    got.txt.end want.end
# Subject of entry i contains the CN (or O) of PEM block i.
missing=0
i=0
while IFS=$'\t' read -r _ _ _ name; do
	i=$((i + 1))
	subj=$(sed -n "${i}p" got.tsv | cut -f3)
	case "$subj" in
	*"/$name"*) ;;
	*)
		missing=$((missing + 1))
		[ "$missing" -le 5 ] &&
		    echo "# cert $i: '$name' not in '$subj'"
		;;
	esac
done <expect.tsv
check_eq "inspect text: each subject shows its cert's CN or O" "$missing" 0
marked=$(grep -c '^    not_after .* (EXPIRED)  sha256' all.txt || true)
check_eq "inspect text marks $n_expired certs (EXPIRED)" "$marked" \
    "$n_expired"

# ---- the DER bytes, cut out of the .rkb by offsets --------------------

if rkb_parse all.rkb; then
	ok "all.rkb parses by the shell to its last signature"
else
	not_ok "all.rkb parses by the shell to its last signature"
fi
check_eq "n_certs in the bytes = $n_begin" "$RKB_NCERTS" "$n_begin"
check_eq "no trailing bytes" "$RKB_END" "$(fsize all.rkb)"
cutb all.rkb "${RKB_CERT_OFF[0]}" "${RKB_CERT_LEN[0]}" >first.der
openssl x509 -in pem/0001.pem -outform DER >first.want.der
check "cert #1 cut from the .rkb = DER of the first PEM block" \
    cmp -s first.der first.want.der
last=$((RKB_NCERTS - 1))
cutb all.rkb "${RKB_CERT_OFF[last]}" "${RKB_CERT_LEN[last]}" >last.der
openssl x509 -in "pem/$(printf %04d "$n_begin").pem" -outform DER \
    >last.want.der
check "cert #$n_begin cut from the .rkb = DER of the last PEM block" \
    cmp -s last.der last.want.der
# All of them, cheaply: the hashes of the cut DERs against openssl's.
: >cut.sha
for ((i = 0; i < RKB_NCERTS; i++)); do
	cutb all.rkb "${RKB_CERT_OFF[i]}" "${RKB_CERT_LEN[i]}" |
	    sha256sum | awk '{print $1}' >>cut.sha
done
check_files_eq "every DER cut by offsets hashes to openssl's DER SHA-256" \
    cut.sha want.sha
cutb all.rkb "$RKB_MAN_OFF" "$RKB_MAN_LEN" >all.manifest
check "the manifest cut by offsets is JSON with channel system" \
    jq -e '.channel == "system"' all.manifest

# ---- without --keep-expired: expired ones dropped, one warning each ---

expect_exit 0 "create without --keep-expired" "$BIN" create \
    --key k.key --channel system --version 2 --certs "$CA_FILE" -o live.rkb
cp "$T/err" live.err
check_eq "one 'dropping expired' warning per expired cert" \
    "$(grep -c 'dropping expired' live.err || true)" "$n_expired"
check "create reports $n_unexpired certificates" \
    grep -q ", $n_unexpired certificates," "$T/out"
grep 'dropping expired' live.err >live.warn || true
missing=0
while IFS=$'\t' read -r _ _ exp name; do
	[ "$exp" = 1 ] || continue
	grep -qF -- "$name" live.warn ||
	    missing=$((missing + 1))
done <expect.tsv
check_eq "each expired cert is named by a warning" "$missing" 0
expect_exit 0 "inspect --json live.rkb" "$BIN" inspect --json live.rkb
check_eq "live.rkb holds the $n_unexpired unexpired certs" \
    "$(jq '.certs | length' "$T/out")" "$n_unexpired"
jq -r '.certs[].sha256' "$T/out" >live.sha
awk -F'\t' '$3 == 0 { print $1 }' expect.tsv >live.want.sha
check_files_eq "live.rkb keeps exactly the unexpired certs, in order" \
    live.sha live.want.sha

# The same with one more root known to be expired (2000-2001), so that the
# dropping is exercised whatever the date and the system file.
mk_dated_ca old "Long Expired Root" 20000101000000Z 20010101000000Z
cat "$CA_FILE" old.pem >plus.pem
expect_exit 0 "create with an extra root that expired in 2001" "$BIN" create \
    --key k.key --channel system --version 3 --certs plus.pem -o plus.rkb
check_eq "one more warning: $((n_expired + 1)) in all" \
    "$(grep -c 'dropping expired' "$T/err" || true)" $((n_expired + 1))
check "the warning names the 2001 root and its expiry" grep -q \
    'dropping expired .*Long Expired Root.*2001-01-01T00:00:00Z' "$T/err"
expect_exit 0 "inspect --json plus.rkb" "$BIN" inspect --json plus.rkb
check_eq "plus.rkb: still $n_unexpired certs" \
    "$(jq '.certs | length' "$T/out")" "$n_unexpired"
expect_exit 0 "--keep-expired keeps the 2001 root" "$BIN" create \
    --key k.key --channel system --version 4 --certs plus.pem \
    --keep-expired -o plusall.rkb
expect_exit 0 "inspect --json plusall.rkb" "$BIN" inspect --json plusall.rkb
check_eq "plusall.rkb: the 2001 root is last with not_after 2001-01-01" \
    "$(jq -r '.certs[-1].not_after' "$T/out")" 2001-01-01T00:00:00Z

finish
