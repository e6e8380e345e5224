#!/usr/bin/env bash
# Prints infra/gcp/service.yaml with its ${...} values filled in, for one of the three variants,
# ready for `gcloud run services replace`. Used by worker/cloudbuild.yaml, and by infra/lint.sh
# (with example values) to check every variant.
#
#   IMAGE=REGION-docker.pkg.dev/PROJECT/scenergy/worker:TAG \
#   SERVICE_ACCOUNT=scenergy-worker@PROJECT.iam.gserviceaccount.com \
#   R2_ENDPOINT=https://ACCOUNT.r2.cloudflarestorage.com R2_BUCKET_NAME=scenergy \
#   R2_PUBLIC_URL=https://assets.example.com VARIANT=default \
#   bash infra/gcp/render-service.sh > service.yaml
#
# VARIANT (see the header of service.yaml and docs/deploy.md):
#   default       request-based CPU, min 0, woken through QStash, ingress all + signature
#   internal      ingress internal: the Cloud Scheduler alone, up to a minute to start
#   instance-cpu  instance-based CPU with the `http` wake, ingress all + bearer
# SERVICE defaults to scenergy-worker. WORKER_WAKE_URL is optional (see below).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVICE=${SERVICE:-scenergy-worker}
VARIANT=${VARIANT:-default}

content=$(<"$ROOT/infra/gcp/service.yaml")
for name in SERVICE IMAGE SERVICE_ACCOUNT R2_ENDPOINT R2_BUCKET_NAME R2_PUBLIC_URL; do
  value=${!name:-}
  if [ -z "$value" ]; then
    echo "render-service: $name is not set" >&2
    exit 2
  fi
  # The values sit in double-quoted YAML strings.
  case "$value" in
    *'"'* | *\\* | *$'\n'*)
      echo "render-service: $name must not contain quotes, backslashes or newlines" >&2
      exit 2
      ;;
  esac
  content=${content//"\${$name}"/"$value"}
done

replace_once() { # old new: the variant's one-line change, which must apply exactly once
  local rest=${content//"$1"/} count
  count=$(((${#content} - ${#rest}) / ${#1}))
  if [ "$count" != 1 ]; then
    echo "render-service: expected '$1' once in service.yaml, found it $count times" >&2
    exit 1
  fi
  content=${content/"$1"/"$2"}
}

case "$VARIANT" in
  default) ;;
  internal) replace_once "run.googleapis.com/ingress: all" "run.googleapis.com/ingress: internal" ;;
  instance-cpu)
    replace_once 'run.googleapis.com/cpu-throttling: "true"' 'run.googleapis.com/cpu-throttling: "false"'
    ;;
  *)
    echo "render-service: VARIANT must be default, internal or instance-cpu, not '$VARIANT'" >&2
    exit 2
    ;;
esac

# Optional: WORKER_WAKE_URL, the /drain URL the enqueue function gives QStash (its
# WorkerWakeUrl). When set, the worker accepts only QStash signatures issued for that URL.
if [ -n "${WORKER_WAKE_URL:-}" ]; then
  case "$WORKER_WAKE_URL" in
    *'"'* | *\\* | *$'\n'*) echo "render-service: WORKER_WAKE_URL has quotes or backslashes" >&2; exit 2 ;;
    https://*/drain) ;;
    *) echo "render-service: WORKER_WAKE_URL must be https://…/drain" >&2; exit 2 ;;
  esac
  anchor=$'            - name: ENABLE_BULL_BOARD\n              value: "false"'
  replace_once "$anchor" "$anchor"$'\n            - name: WORKER_WAKE_URL\n              value: "'"$WORKER_WAKE_URL"'"'
fi

if grep -qE '"\$\{[A-Z_]+\}"' <<<"$content"; then
  echo "render-service: unfilled placeholders remain" >&2
  exit 1
fi
printf '%s\n' "$content"
