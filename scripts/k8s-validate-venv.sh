#!/usr/bin/env bash
# Installs PyPI's kubernetes-validate (offline validation of Kubernetes
# manifests against the schemas of many Kubernetes versions) into
# .tools/k8svenv, unless it is already there, and prints the tool's path.
# Idempotent and interrupt-safe: the file `.complete` is written only once the
# tool runs; a venv without it (an interrupted install) is rebuilt. A lock
# keeps concurrent callers (parallel tests) from building it twice.
#
#   scripts/k8s-validate-venv.sh      # prints .tools/k8svenv/bin/kubernetes-validate
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIN="1.37.0"
venv="$root/.tools/k8svenv"
tool="$venv/bin/kubernetes-validate"
ready() { [ -f "$venv/.complete" ] && [ "$(cat "$venv/.complete")" = "$PIN" ] && [ -x "$tool" ]; }
if ready; then echo "$tool"; exit 0; fi
mkdir -p "$root/.tools"
exec 9>"$root/.tools/k8svenv.lock"
flock 9
if ! ready; then
  echo "installing kubernetes-validate==$PIN into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$PIN" >&2
  "$tool" --version >/dev/null
  echo "$PIN" >"$venv/.complete"
fi
echo "$tool"
