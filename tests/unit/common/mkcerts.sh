#!/bin/sh
# Throw-away PKI for tests: mkcerts.sh DIR NAME...
#   DIR/ca.pem ca.key            the test CA
#   DIR/NAME.pem NAME.key        one certificate per NAME (CN=NAME), signed by the CA
#   DIR/foreign-ca.pem           a second CA, and DIR/foreign-NAME.pem/.key for
#                                every NAME signed by it (refusal tests)
#   DIR/crl.pem                  a CRL of the CA revoking DIR/revoked.pem (CN=revoked)
# Never committed: generated at test time.
set -eu
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
ossl() { openssl "$@" >/dev/null 2>&1; }
mkca() { # name
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$1.key" -out "$1.pem"
}
mkcert() { # ca cn out
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$3.key" -out "$3.csr"
	ossl x509 -req -in "$3.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -days 2 \
		-out "$3.pem"
	rm -f "$3.csr"
}
mkca ca
mkca foreign-ca
for n in "$@" revoked; do
	mkcert ca "$n" "$n"
done
for n in "$@"; do
	mkcert foreign-ca "$n" "foreign-$n"
done
# CRL revoking "revoked"
cat > ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 2
CNF
: > index.txt
echo 01 > crlnumber
ossl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke revoked.pem
ossl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out crl.pem
test -s crl.pem
