#!/usr/bin/env bash
# Makes the TLS test certificates checked in under Tests/ClusterKitTests/Fixtures/tls (test fixtures, not secrets:
# nothing trusts them outside the tests). Run by hand when they must change; the tests never run it.
#   ca.pem              the test CA (its key is thrown away once everything below is signed)
#   server.pem/.key     a server certificate for 127.0.0.1, ::1 and localhost, signed by the test CA
#   client.pem/.key     a client certificate (CN clusterkit-test-client), signed by the test CA
#   other-ca.pem        another CA, which signed nothing here (a client trusting only it refuses server.pem)
#   wrong-host.pem/.key a server certificate for wrong.invalid only, signed by the test CA (host name mismatch)
# EC P-256 keys, about 100 years of validity.
set -euo pipefail
cd "$(dirname "$0")/../Tests/ClusterKitTests/Fixtures/tls"
days=36500
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name subject
    key "$work/$1.key"
    openssl req -x509 -new -key "$work/$1.key" -days "$days" -subj "$2" -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

leaf() { # name subject extensions
    key "$1.key"
    openssl req -new -key "$1.key" -subj "$2" -out "$work/$1.csr"
    printf '%s\n' "$3" >"$work/$1.ext"
    openssl x509 -req -in "$work/$1.csr" -CA ca.pem -CAkey "$work/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
        -days "$days" -sha256 -extfile "$work/$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca "/CN=ClusterKit test CA"
leaf server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"
leaf client "/CN=clusterkit-test-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
leaf wrong-host "/CN=wrong.invalid" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:wrong.invalid"
ca other-ca "/CN=ClusterKit other test CA"
chmod 0644 ./*.pem ./*.key
ls -1
