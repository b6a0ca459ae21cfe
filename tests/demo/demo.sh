#!/usr/bin/env bash
# `make demo`: initialises a demo broker in ./demo-data (once), starts
# portcullisd on its embedded SQLite store, registers demo roles, users and
# targets, prints how to log in, and stays in the foreground (Ctrl-C stops).
# Demo only: the generated admin password is kept in demo-data/ (0600) so the
# demo can be re-run; never do this in production.
# PORTCULLIS_DEMO_ENTERPRISE_CA=1 (on the first run): the API serves a
# certificate from a throw-away "enterprise" CA (certs/make-test-ca.sh, with
# an intermediate) through `portcullisd tls import`, instead of the broker's own.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=${PORTCULLIS_DEMO_DIR:-$ROOT/demo-data}
PCD=$ROOT/$BUILD/broker/daemon/portcullisd
PC=$ROOT/$BUILD/broker/cli/portcullis
CONFIG=$DEMO/portcullis.yaml
API=${PORTCULLIS_DEMO_API:-127.0.0.1:7443}
export PORTCULLIS_HOME=$DEMO/cli-admin

mkdir -p "$DEMO"
chmod 700 "$DEMO"
if [ ! -f "$DEMO/data/portcullis.db" ]; then
  cat > "$CONFIG" <<YAML
# Demo broker configuration (see docs/operator-guide.md).
data_dir: data
listen:
  grpc: $API
  ssh: 127.0.0.1:2222
  vnc: 127.0.0.1:5900
  rdp: 0.0.0.0:0
log:
  level: info
YAML
  PASSWORD="demo-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)"
  umask 077
  printf '%s\n' "$PASSWORD" > "$DEMO/admin-password"
  "$PCD" init --config "$CONFIG" --admin admin --password-stdin < "$DEMO/admin-password" \
    > "$DEMO/init-output.txt"
  FIRST_RUN=1
  if [ "${PORTCULLIS_DEMO_ENTERPRISE_CA:-0}" = 1 ]; then
    "$ROOT/certs/make-test-ca.sh" --out "$DEMO/enterprise-ca" --intermediate >/dev/null
    "$PCD" tls import --config "$CONFIG" --cert "$DEMO/enterprise-ca/server.pem" \
      --key "$DEMO/enterprise-ca/server.key" --chain "$DEMO/enterprise-ca/chain.pem" \
      > "$DEMO/tls-import-output.txt"
  fi
else
  FIRST_RUN=0
fi

# The demo SSH target: a stock sshd on loopback whose only trust is the
# broker's user CA (no authorized_keys, no passwords). The demo role's login
# is the account running the demo (sshd can only log in real accounts).
LOGIN=$(id -un)
TARGET_DIR=$DEMO/demo-target
mkdir -p "$TARGET_DIR"
if [ ! -f "$TARGET_DIR/ssh_host_ed25519_key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C demo-rtu -f "$TARGET_DIR/ssh_host_ed25519_key"
fi
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd

PASSWORD=$(cat "$DEMO/admin-password")
TLS_CA=$DEMO/data/tls/ca.pem
if [ -f "$DEMO/data/tls/imported.pem" ] && [ -f "$DEMO/enterprise-ca/ca.pem" ]; then
  TLS_CA=$DEMO/enterprise-ca/ca.pem
fi
SECRET=$(grep -o 'secret=[A-Z2-7]*' "$DEMO/init-output.txt" | head -1 | cut -d= -f2)

# A broker initialised by an earlier demo may have the VNC listener off.
sed -i 's/^  vnc: 0.0.0.0:0$/  vnc: 127.0.0.1:5900/' "$CONFIG"

"$PCD" --config "$CONFIG" &
PID=$!
SSHD_PID=
HMI_PID=
CLOCK_PID=
cleanup() {
  [ -n "$CLOCK_PID" ] && kill -TERM "$CLOCK_PID" 2>/dev/null
  [ -n "$HMI_PID" ] && kill -TERM "$HMI_PID" 2>/dev/null
  [ -n "$SSHD_PID" ] && kill -TERM "$SSHD_PID" 2>/dev/null
  kill -TERM $PID 2>/dev/null
  wait $PID 2>/dev/null
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/${API%:*}/${API##*:}) 2>/dev/null; then break; fi
  sleep 0.1
done

"$PC" login --broker "$API" --ca "$TLS_CA" --user admin --password-stdin \
  --totp "$(oathtool --totp -b "$SECRET")" <<< "$PASSWORD" >/dev/null

# The demo HMI's TLS certificate (self-signed, as HMIs have them): the
# broker reaches it over VeNCrypt with this certificate pinned.
HMI_DIR=$DEMO/demo-hmi
mkdir -p "$HMI_DIR"
chmod 700 "$HMI_DIR"
if [ ! -f "$HMI_DIR/hmi.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$HMI_DIR/hmi.key" -out "$HMI_DIR/hmi.pem" \
    -days 3650 -subj "/CN=demo-hmi" 2>/dev/null
  chmod 600 "$HMI_DIR/hmi.key"
fi

if [ "$FIRST_RUN" = 1 ]; then
  sed "s/__DEMO_LOGIN__/$LOGIN/" "$ROOT/tests/demo/demo-roles.yaml" > "$DEMO/demo-roles.yaml"
  "$PC" roles apply -f "$DEMO/demo-roles.yaml" >/dev/null
  "$PC" targets add demo-rtu --address 127.0.0.1:2022 --protocol ssh \
    --label site=demo --label kind=rtu >/dev/null
  "$PC" targets add demo-hmi --address 127.0.0.1:5901 --protocol vnc --crypto modern \
    --host-key "$(openssl x509 -in "$HMI_DIR/hmi.pem" -noout -fingerprint -sha256)" \
    --label site=demo --label kind=hmi >/dev/null
  "$PC" targets add demo-sis --address 127.0.0.1:2024 --protocol ssh \
    --label site=demo --label zone=safety >/dev/null
  "$PC" targets add rtu-01 --address 127.0.0.1:2023 --protocol ssh \
    --label site=plant-a --label vendor=acme >/dev/null
  printf 'operator password 1234\n' | "$PC" users add operator --role demo-operator \
    --password-stdin > "$DEMO/operator-enrolment.txt"
fi

"$PC" ca export --ssh > "$TARGET_DIR/trusted_user_ca.pub"
cat > "$TARGET_DIR/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port 2022
HostKey $TARGET_DIR/ssh_host_ed25519_key
PidFile $TARGET_DIR/sshd.pid
TrustedUserCAKeys $TARGET_DIR/trusted_user_ca.pub
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
Subsystem sftp internal-sftp
CFG
/usr/sbin/sshd -D -e -f "$TARGET_DIR/sshd_config" 2> "$TARGET_DIR/sshd.log" &
SSHD_PID=$!

# The demo HMI: a TigerVNC X server on loopback (display :51, port 5901)
# showing a clock, with a VNC password the broker keeps in its vault; users
# never see it (they get a one-time ticket from `portcullis access`). It
# offers VeNCrypt X509Vnc (what the broker uses) and, for a demo directory
# made before VeNCrypt, VncAuth in the clear.
if [ ! -f "$HMI_DIR/passwd" ]; then
  head -c 6 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 8 > "$HMI_DIR/password"
  tigervncpasswd -f < "$HMI_DIR/password" > "$HMI_DIR/passwd"
  chmod 600 "$HMI_DIR/password" "$HMI_DIR/passwd"
fi
"$PC" targets set-secret demo-hmi --password-stdin < "$HMI_DIR/password" >/dev/null
Xtigervnc :51 -rfbport 5901 -interface 127.0.0.1 -localhost -SecurityTypes X509Vnc,VncAuth \
  -X509Cert "$HMI_DIR/hmi.pem" -X509Key "$HMI_DIR/hmi.key" \
  -rfbauth "$HMI_DIR/passwd" -geometry 1280x1024 -depth 24 -AlwaysShared \
  > "$HMI_DIR/xvnc.log" 2>&1 &
HMI_PID=$!
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/5901) 2>/dev/null; then break; fi
  sleep 0.1
done
DISPLAY=:51 xclock -update 1 -geometry 400x400+440+300 > "$HMI_DIR/xclock.log" 2>&1 &
CLOCK_PID=$!

cat <<TXT

=== Portcullis demo broker is running (pid $PID) ===
API:        $API  (TLS CA: $TLS_CA)
Data dir:   $DEMO/data

Demo admin:  admin / $PASSWORD
TXT
sed -n '/Admin admin:/,/^SSH user CA/p' "$DEMO/init-output.txt" | sed '$d'
cat <<TXT
Demo user:   operator / operator password 1234 (role demo-operator)
             $(grep -o 'otpauth://[^ ]*' "$DEMO/operator-enrolment.txt" | head -1)

SSH user CA line (for a target's TrustedUserCAKeys):
  $("$PC" ca export --ssh)

Demo SSH target: demo-rtu = sshd on 127.0.0.1:2022 (pid $SSHD_PID), trusting only the
broker's CA. Reach it through the broker (password, then the code from the
operator's authenticator app or: oathtool --totp -b SECRET):
  ssh -p 2222 operator:demo-rtu@127.0.0.1

Demo HMI: demo-hmi = TigerVNC on 127.0.0.1:5901 (pid $HMI_PID) showing a clock, reached
by the broker over VeNCrypt/TLS with its certificate pinned; its VNC password is
vaulted in the broker. As the operator (after portcullis login below):
  $PC access demo-hmi          # prints a one-time ticket
  vncviewer 127.0.0.1::5900    # enter the ticket as the VNC password

Try, in another terminal:
  export PORTCULLIS_HOME=\$HOME/.config/portcullis-demo
  $PC login --broker $API --ca $TLS_CA --user operator
  $PC targets ls
  PORTCULLIS_HOME=$PORTCULLIS_HOME $PC policy check --user operator --target demo-sis
  PORTCULLIS_HOME=$PORTCULLIS_HOME $PC audit ls

Press Ctrl-C to stop the broker.
TXT
wait $PID
