# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The test PKI of the shell suites and of tests/data/make-test-pki.sh: one
# `openssl ca` folder and its configuration, and one function that makes a
# certificate in it, a root (signed by itself) or one issued by another,
# with the dates of the caller's choosing.  `openssl ca` is the one openssl
# command that sets both dates (the past, the far future, 2038 and 2050),
# so every certificate is made by it; the subject is kept as written, in
# its order.
#
# The configuration's sections (the EXT of pki_cert):
#   v3_ca    a root: CA:TRUE, keyCertSign and cRLSign, a key identifier;
#   v3_int   an intermediate: the same with pathlen 0 and the issuer's key
#            identifier;
#   v3_leaf  a TLS server leaf: CA:FALSE, digitalSignature, serverAuth, the
#            subjectAltName of PKI_SAN;
# a suite appends sections of its own to "$PKI/ca.cnf" after pki_init.
#
# Use:
#   . tests/lib/pki.sh
#   pki_init "$T/pki"
#   pki_cert "$PKI/root.pem" "$PKI/root.key" "/CN=Root" v3_ca \
#       "$(pki_date 2020-01-01)" "$(pki_date 2040-01-01)"
#   PKI_SAN=DNS:hub.test pki_cert "$PKI/hub.pem" "$PKI/hub.key" \
#       /CN=hub.test v3_leaf "$(pki_date now)" "$(pki_date +1year)" \
#       "$PKI/root.pem" "$PKI/root.key"

# pki_init DIR: makes DIR an `openssl ca` folder (ca.cnf, the database, the
# serial, new/) and sets PKI to it.
pki_init()
{
	PKI=$1
	mkdir -p -- "$PKI/new"
	: >"$PKI/index.txt"
	echo 1000 >"$PKI/serial"
	cat >"$PKI/ca.cnf" <<EOF
[ca]
default_ca = tca
[tca]
dir = $PKI
database = $PKI/index.txt
new_certs_dir = $PKI/new
serial = $PKI/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
email_in_dn = no
[pol]
countryName = optional
organizationName = optional
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::PKI_SAN
EOF
}

# pki_date DATE: DATE (anything GNU date reads: 2040-01-15, @SECONDS,
# "now + 10 days") as `openssl ca` takes it, YYYYMMDDHHMMSSZ in UTC.
pki_date()
{
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

# pki_cert PEM KEY SUBJECT EXT START END [ISSUER_PEM ISSUER_KEY]: a new key
# in KEY (P-256, or RSA of PKI_RSA bits), its request next to PEM
# (PEM's name with .csr for .pem), and the certificate in PEM, valid from
# START to END (YYYYMMDDHHMMSSZ, see pki_date) with the extensions of
# section EXT (none, an X.509 v1 certificate, when EXT is empty): signed
# by itself, or issued by ISSUER_PEM with ISSUER_KEY.  PKI_SAN is a
# leaf's subjectAltName (DNS:localhost,IP:127.0.0.1 unless set).  openssl's
# messages go to $PKI/openssl.log, and to stderr when it fails.
pki_cert()
{
	local pem=$1 key=$2 subj=$3 ext=$4 start=$5 end=$6 csr=${1%.pem}.csr
	local -a newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	local -a by=(-selfsign -keyfile "$key") with=()
	if [ -n "${PKI_RSA:-}" ]; then
		newkey=(-newkey rsa -pkeyopt "rsa_keygen_bits:$PKI_RSA")
	fi
	if [ $# -ge 8 ]; then
		by=(-cert "$7" -keyfile "$8")
	fi
	if [ -n "$ext" ]; then
		with=(-extensions "$ext")
	fi
	# The configuration reads it as $ENV::PKI_SAN.
	local -x PKI_SAN=${PKI_SAN:-DNS:localhost,IP:127.0.0.1}
	if ! pki_openssl req -new -config "$PKI/ca.cnf" "${newkey[@]}" -nodes \
	    -keyout "$key" -subj "$subj" -out "$csr" ||
	    ! pki_openssl ca -batch -config "$PKI/ca.cnf" -preserveDN "${by[@]}" \
	    -in "$csr" "${with[@]}" -startdate "$start" -enddate "$end" \
	    -notext -out "$pem"; then
		echo "pki_cert: openssl failed making $pem:" >&2
		tail -n 20 -- "$PKI/openssl.log" >&2
		return 1
	fi
}

# pki_openssl ARGS...: openssl ARGS with its messages in $PKI/openssl.log.
pki_openssl()
{
	openssl "$@" >>"$PKI/openssl.log" 2>&1
}
