#!/bin/sh
# tls-certs.sh DIR: make the certificates of the TLS tests in DIR with
# openssl, at test time (nothing secret is kept in the tree):
#   ca.crt ca.key          the CA the tests trust
#   server.crt server.key  for localhost and 127.0.0.1, signed by the CA
#   client.crt client.key  a client certificate (mutual TLS)
#   expired.crt            the server's key, expired (valid for 0 days)
#   wrong.crt              the server's key, for wrong.example only
#   other-ca.crt           a CA that signed none of these
set -eu
d=$1
mkdir -p "$d"
cd "$d"
o() { openssl "$@" 2>/dev/null; }
o req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=bullmq-c test CA"
o req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt \
    -days 2 -subj "/CN=bullmq-c other CA"
o genrsa -out server.key 2048
o genrsa -out client.key 2048
# cert NAME KEY SUBJECT DAYS SAN
cert() {
	printf 'subjectAltName=%s\n' "$5" >"$1.ext"
	o req -new -key "$2" -subj "$3" -out "$1.csr"
	o x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -days "$4" -extfile "$1.ext" -out "$1.crt"
	rm -f "$1.csr" "$1.ext"
}
cert server server.key /CN=localhost 2 "DNS:localhost,IP:127.0.0.1"
cert client client.key /CN=bullmq-client 2 "DNS:bullmq-client"
cert expired server.key /CN=localhost 0 "DNS:localhost,IP:127.0.0.1"
cert wrong server.key /CN=wrong.example 2 "DNS:wrong.example"
chmod 600 ./*.key
# a certificate valid for 0 days has expired a second later
sleep 1
