#!/usr/bin/env bash
# Proves that each linter in infra/lint.sh really checks something: every one is run on a
# deliberately broken input made here, and must fail on it. A linter that "passes" a canary
# (a no-op wrapper, a check switched off, a tool that silently skips) fails the lint.
# Run by infra/lint.sh after the tools are installed; needs VENV from infra/venv.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=infra/venv.sh
source infra/venv.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

expect_failure() { # what, expected message fragment, command...
  local what=$1 fragment=$2 out
  shift 2
  if out=$(timeout 120 "$@" 2>&1); then
    echo "CANARY NOT CAUGHT: $what (the linter passed a broken input)" >&2
    failed=1
  elif ! grep -qF -- "$fragment" <<<"$out"; then
    echo "CANARY: $what failed, but without '$fragment':" >&2
    printf '%s\n' "$out" | head -n 20 >&2
    failed=1
  else
    echo "canary caught: $what"
  fi
}

# actionlint: a typo'd event filter, an unknown action input, an untrusted expression in a
# script, a `needs` on a missing job; and shellcheck through actionlint (an unquoted variable).
mkdir -p "$work/.github/workflows"
cat >"$work/.github/workflows/broken.yml" <<'EOF'
name: broken
on:
  push:
    branchs: [main]
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v6
        with:
          fetch-depht: 1
      - run: echo "${{ github.event.head_commit.message }}"
      - run: ls $HOME/*.txt
  deploy:
    needs: test
    runs-on: ubuntu-24.04
    steps:
      - run: echo deploy
EOF
for fragment in 'unexpected key "branchs"' 'input "fetch-depht" is not defined' \
  'potentially untrusted' 'needs job "test" which does not exist' 'SC2086'; do
  expect_failure "actionlint: $fragment" "$fragment" \
    "$VENV/bin/actionlint" -shellcheck "$VENV/bin/shellcheck" "$work/.github/workflows/broken.yml"
done

# hadolint: an unpinned base image, a shell-form CMD, root at run time.
cat >"$work/Dockerfile" <<'EOF'
FROM rust:latest
WORKDIR /app
COPY . .
RUN cd worker && cargo build --release
CMD worker serve
EOF
for fragment in DL3007 DL3003 DL3025; do
  expect_failure "hadolint: $fragment" "$fragment" \
    "$VENV/bin/hadolint" --no-color --config infra/hadolint.yaml "$work/Dockerfile"
done

# cfn-lint: the SAM template with a Lambda timeout over the maximum and a log retention that
# CloudWatch does not offer (both only visible after the Serverless transform).
sed -e 's/Timeout: 60$/Timeout: 99999/' -e '0,/RetentionInDays: !Ref LogRetentionInDays/s//RetentionInDays: 17/' \
  infra/aws/template.yaml >"$work/template.yaml"
expect_failure "cfn-lint: E3034 timeout" "E3034" "$VENV/bin/cfn-lint" "$work/template.yaml"
expect_failure "cfn-lint: E3030 retention" "E3030" "$VENV/bin/cfn-lint" "$work/template.yaml"

# yamllint: a duplicated key and a tab.
printf 'a: 1\na: 2\nb:\n\t- 1\n' >"$work/broken.yaml"
expect_failure "yamllint: duplicate key" "duplication of key" "$VENV/bin/yamllint" -s "$work/broken.yaml"

# Path filters: status without the queue crate it links, enqueue with the Gemini crate it does
# not, and the worker without its own crate.
sed -e '/^            status:$/,/^            analyze:$/{/shared\/queue\/\*\*/d}' \
  -e '/^            enqueue:$/a\              - shared/gemini/**' \
  .github/workflows/deploy-functions.yml >"$work/deploy-functions.yml"
sed -e '/^      - worker\/\*\*$/d' .github/workflows/deploy-worker.yml >"$work/deploy-worker.yml"
for fragment in "filter 'status': missing shared/queue/**" \
  "filter 'enqueue': shared/gemini/** is crate scenergy-gemini, which scenergy-enqueue does not link" \
  "on.push.paths: missing worker/**"; do
  expect_failure "path filters: $fragment" "$fragment" "$VENV/bin/python" infra/check-path-filters.py \
    --functions-workflow "$work/deploy-functions.yml" --worker-workflow "$work/deploy-worker.yml"
done

# A filter that matches another function's crate (a catch-all `functions/**` on status).
sed -e '/^            status:$/a\              - functions/**' \
  .github/workflows/deploy-functions.yml >"$work/deploy-functions-wide.yml"
expect_failure "path filters: catch-all on status" \
  "a change to functions/enqueue/src/main.rs deploys ['enqueue', 'status'], not just enqueue" \
  "$VENV/bin/python" infra/check-path-filters.py --functions-workflow "$work/deploy-functions-wide.yml"

# service.yaml: a variant the renderer does not know.
expect_failure "render-service: unknown variant" "VARIANT must be" \
  env VARIANT=always-on IMAGE=i SERVICE_ACCOUNT=s R2_ENDPOINT=e R2_BUCKET_NAME=b R2_PUBLIC_URL=u \
  bash infra/gcp/render-service.sh

exit "$failed"
