#!/bin/sh
# The sandbox CA: a certificate authority made for one sandbox directory,
# and one server certificate signed by it for every name and address the
# plans' https checks use, so that checks verify TLS as they would in
# production (the inventory's ca_file names DIR/ca.pem). Both ITPASS hosts
# carry the same server certificate: after the swap each machine serves
# the other's names. Nothing is made again when DIR already has it.
#
#   ca.sh DIR      writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key
set -eu
dir=$1
[ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] && exit 0
names="ika-itpass.scitec.kobe-u.ac.jp tako-itpass.scitec.kobe-u.ac.jp
itpass.scitec.kobe-u.ac.jp epa.scitec.kobe-u.ac.jp aoe.scitec.kobe-u.ac.jp"
san=
for n in $names; do
	san="${san:+$san,}DNS:$n"
done
san="$san,IP:127.0.0.21,IP:127.0.0.22,IP:127.0.0.23"
umask 077
t=$(mktemp -d "$dir/.ca.XXXXXX")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$t/ca.key" -out "$t/ca.pem" -days 30 -subj "/CN=hostswap sandbox CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$t/server.key" -out "$t/server.csr" \
    -subj "/CN=itpass.scitec.kobe-u.ac.jp" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$san" >"$t/ext"
openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
    -CAcreateserial -days 30 -extfile "$t/ext" -out "$t/server.pem" 2>/dev/null
chmod 644 "$t/ca.pem" "$t/server.pem"
mv "$t/ca.key" "$t/ca.pem" "$t/server.key" "$t/server.pem" "$dir/"
rm -rf "$t"
