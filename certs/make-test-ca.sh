#!/usr/bin/env bash
# make-test-ca.sh: a throw-away "enterprise" PKI for tests and the demo.
#
# Builds, with openssl, a root CA and a server certificate for the broker's
# API (ECDSA P-256, SHA-256), optionally with an intermediate CA between
# them, ready for `portcullisd tls import`. NOT for production: the CA keys
# sit unencrypted next to the certificates.
#
# Usage: certs/make-test-ca.sh [options]
#   --out DIR          output directory (default ./test-ca); created 0700, must
#                      not already hold a ca.pem
#   --ca-name CN       common name of the root CA (default "Example Plant Root CA")
#   --org O            organisation in every subject (default "Example Plant")
#   --cn CN            common name of the server certificate (default "portcullisd")
#   --san LIST         subjectAltName of the server certificate, openssl syntax
#                      (default "IP:127.0.0.1,DNS:localhost"); "none" = no SAN
#   --days N           server certificate lifetime in days (default 365)
#   --intermediate     sign the server certificate with an intermediate CA
#                      ("ORG Issuing CA 1"),
#                      (written as intermediate.pem/.key and chain.pem)
#   -h, --help         this text
#
# Writes into DIR (keys 0600):
#   ca.pem ca.key                 the root: what clients trust (`portcullis login --ca DIR/ca.pem`)
#   intermediate.pem/.key         with --intermediate only
#   chain.pem                     the certificates between server and root
#                                 (with --intermediate: the intermediate; else not written)
#   server.pem server.key         the broker's API certificate and key
# and prints the `portcullisd tls import` command line.
set -euo pipefail

out=./test-ca
ca_name="Example Plant Root CA"
org="Example Plant"
cn=portcullisd
san="IP:127.0.0.1,DNS:localhost"
days=365
intermediate=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "make-test-ca.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) need "$@"; out=$2; shift 2 ;;
    --ca-name) need "$@"; ca_name=$2; shift 2 ;;
    --org) need "$@"; org=$2; shift 2 ;;
    --cn) need "$@"; cn=$2; shift 2 ;;
    --san) need "$@"; san=$2; shift 2 ;;
    --days) need "$@"; days=$2; shift 2 ;;
    --intermediate) intermediate=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$days" in ''|*[!0-9]*) die "--days needs a positive number" ;; esac
[ "$days" -ge 1 ] || die "--days needs a positive number"
for v in "$ca_name" "$org" "$cn"; do
  case "$v" in */*|*=*) die "names must not contain '/' or '=': $v" ;; esac
done
command -v openssl >/dev/null || die "openssl is not installed"

umask 077
mkdir -p "$out"
chmod 0700 "$out"
[ ! -e "$out/ca.pem" ] || die "$out/ca.pem exists; use another --out"

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# new_key FILE: an ECDSA P-256 private key (PKCS#8 PEM, unencrypted).
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# 1. The root CA (self-signed, 10 years).
new_key "$out/ca.key"
openssl req -new -x509 -sha256 -key "$out/ca.key" -days 3650 \
  -subj "/O=$org/CN=$ca_name" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out "$out/ca.pem"

issuer_pem="$out/ca.pem"
issuer_key="$out/ca.key"

# sign CSR CERT DAYS EXTFILE: signs CSR with the current issuer.
sign() {
  openssl x509 -req -sha256 -in "$1" -CA "$issuer_pem" -CAkey "$issuer_key" \
    -set_serial "0x$(openssl rand -hex 16 | sed 's/^./7/')" -days "$3" \
    -extfile "$4" -extensions ext -out "$2" 2>/dev/null
}

# 2. The intermediate CA (5 years), if asked for.
if [ "$intermediate" = 1 ]; then
  new_key "$out/intermediate.key"
  openssl req -new -sha256 -key "$out/intermediate.key" \
    -subj "/O=$org/CN=$org Issuing CA 1" -out "$work/intermediate.csr"
  cat > "$work/intermediate.ext" <<'EOF'
[ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  sign "$work/intermediate.csr" "$out/intermediate.pem" 1825 "$work/intermediate.ext"
  cp "$out/intermediate.pem" "$out/chain.pem"
  issuer_pem="$out/intermediate.pem"
  issuer_key="$out/intermediate.key"
fi

# 3. The server certificate.
new_key "$out/server.key"
openssl req -new -sha256 -key "$out/server.key" -subj "/O=$org/CN=$cn" -out "$work/server.csr"
{
  echo "[ext]"
  echo "basicConstraints = critical,CA:FALSE"
  echo "keyUsage = critical,digitalSignature"
  echo "extendedKeyUsage = serverAuth"
  echo "subjectKeyIdentifier = hash"
  echo "authorityKeyIdentifier = keyid:always"
  if [ "$san" != none ]; then echo "subjectAltName = $san"; fi
} > "$work/server.ext"
sign "$work/server.csr" "$out/server.pem" "$days" "$work/server.ext"

chmod 0644 "$out"/*.pem
chmod 0600 "$out"/*.key

echo "Test PKI written to $out (throw-away; not for production)"
echo "  trust anchor:  $out/ca.pem"
echo "  import with:   portcullisd tls import --config CONFIG --cert $out/server.pem --key $out/server.key$([ "$intermediate" = 1 ] && echo " --chain $out/chain.pem")"
echo "  then:          portcullis login --broker HOST:PORT --ca $out/ca.pem --user NAME"
