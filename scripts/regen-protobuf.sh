#!/usr/bin/env bash
# Regenerates the Rust code for codecs/schemas/*.proto with prost-build
# (tools/protogen) and Debian's protoc (apt-get install protobuf-compiler).
#
#   scripts/regen-protobuf.sh          regenerate into codecs/src/pb/generated/
#   scripts/regen-protobuf.sh --check  fail (exit 1, with a diff) if the
#                                      committed code differs from a fresh run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v "${PROTOC:-protoc}" >/dev/null; then
  echo "protoc not found: apt-get install protobuf-compiler (or set PROTOC)" >&2
  exit 1
fi

out="$root/codecs/src/pb/generated"
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
# tools/protogen is its own workspace (prost-build never enters normal
# builds); it shares the repository's target directory.
CARGO_TARGET_DIR="$root/target" cargo run --quiet --manifest-path "$root/tools/protogen/Cargo.toml" -- "$out" "$root"/codecs/schemas/*.proto
# Committed in rustfmt's style, so that `cargo fmt` leaves it alone.
PATH="$HOME/.cargo/bin:$PATH" rustfmt --edition 2021 "$out"/*.rs

if [ "$check" = 1 ]; then
  if ! diff -ru "$root/codecs/src/pb/generated" "$out" --exclude=mod.rs; then
    echo "generated protobuf code is stale: run scripts/regen-protobuf.sh and commit" >&2
    exit 1
  fi
  echo "generated protobuf code is current"
fi
