#!/usr/bin/env bash
# `make demo`: initialises a demo broker in ./demo-data (once), starts
# portcullisd on its embedded SQLite store, registers demo roles, users and
# targets, prints how to log in, and stays in the foreground (Ctrl-C stops).
# Demo only: the generated admin password is kept in demo-data/ (0600) so the
# demo can be re-run; never do this in production.
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
  vnc: 0.0.0.0:0
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
else
  FIRST_RUN=0
fi

PASSWORD=$(cat "$DEMO/admin-password")
SECRET=$(grep -o 'secret=[A-Z2-7]*' "$DEMO/init-output.txt" | head -1 | cut -d= -f2)

"$PCD" --config "$CONFIG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/${API%:*}/${API##*:}) 2>/dev/null; then break; fi
  sleep 0.1
done

"$PC" login --broker "$API" --ca "$DEMO/data/tls/ca.pem" --user admin --password-stdin \
  --totp "$(oathtool --totp -b "$SECRET")" <<< "$PASSWORD" >/dev/null

if [ "$FIRST_RUN" = 1 ]; then
  "$PC" roles apply -f "$ROOT/tests/demo/demo-roles.yaml" >/dev/null
  "$PC" targets add demo-rtu --address 127.0.0.1:2022 --protocol ssh \
    --label site=demo --label kind=rtu >/dev/null
  "$PC" targets add demo-hmi --address 127.0.0.1:5901 --protocol vnc \
    --label site=demo --label kind=hmi >/dev/null
  "$PC" targets add demo-sis --address 127.0.0.1:2024 --protocol ssh \
    --label site=demo --label zone=safety >/dev/null
  "$PC" targets add rtu-01 --address 127.0.0.1:2023 --protocol ssh \
    --label site=plant-a --label vendor=acme >/dev/null
  printf 'operator password 1234\n' | "$PC" users add operator --role demo-operator \
    --password-stdin > "$DEMO/operator-enrolment.txt"
fi

cat <<TXT

=== Portcullis demo broker is running (pid $PID) ===
API:        $API  (TLS CA: $DEMO/data/tls/ca.pem)
Data dir:   $DEMO/data

Demo admin:  admin / $PASSWORD
TXT
sed -n '/Admin admin:/,/^SSH user CA/p' "$DEMO/init-output.txt" | sed '$d'
cat <<TXT
Demo user:   operator / operator password 1234 (role demo-operator)
             $(grep -o 'otpauth://[^ ]*' "$DEMO/operator-enrolment.txt" | head -1)

SSH user CA line (for a target's TrustedUserCAKeys):
  $("$PC" ca export --ssh)

Try, in another terminal:
  export PORTCULLIS_HOME=\$HOME/.config/portcullis-demo
  $PC login --broker $API --ca $DEMO/data/tls/ca.pem --user operator
  $PC targets ls
  PORTCULLIS_HOME=$PORTCULLIS_HOME $PC policy check --user operator --target demo-sis
  PORTCULLIS_HOME=$PORTCULLIS_HOME $PC audit ls

Press Ctrl-C to stop the broker.
TXT
wait $PID
