#!/usr/bin/env bash
# Installs the Debian 12 packages Portcullis needs to build, test and run.
# Idempotent: does nothing when every package is already present.
# Uses sudo when not root. Downloads only from the configured Debian mirrors.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config ninja-build
  clang libclang-rt-14-dev
  libssl-dev libargon2-dev liboath-dev
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libsqlite3-dev sqlite3 libyaml-cpp-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcli11-dev libqrencode-dev
  libgtest-dev libgmock-dev
  libssh-dev openssh-server openssh-client dropbear-bin oathtool tzdata
  asciinema python3 openssl
  python3-paramiko
  libvncserver-dev libzstd-dev libjpeg62-turbo-dev zlib1g-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg
  tigervnc-standalone-server tigervnc-tools tigervnc-viewer x11vnc vncsnapshot
  xvfb xauth x11-apps x11-utils x11-xserver-utils xclip
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
