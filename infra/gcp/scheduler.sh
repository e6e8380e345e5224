#!/usr/bin/env bash
# The safety-net ping: a Cloud Scheduler job that POSTs the worker's /drain every minute, for
# delayed jobs and retries, and as the fallback when a wake is lost. Creates the job, or updates
# it when it exists (run it again after rotating WORKER_TOKEN).
#
#   PROJECT=my-project REGION=europe-west1 bash infra/gcp/scheduler.sh
#
# Variables: PROJECT, REGION (required); SERVICE (default scenergy-worker); JOB (default
# scenergy-worker-drain); SCHEDULE (default "* * * * *").
#
# Authentication. /drain accepts `Authorization: Bearer $WORKER_TOKEN` or a QStash
# `Upstash-Signature`. The job sends the bearer, read here from Secret Manager (WORKER_TOKEN)
# and stored in the job's headers; anyone who can read the job's configuration
# (cloudscheduler.jobs.get) can read the token, so keep that role as narrow as the secret's.
#
# The job uses no OIDC token. Cloud Scheduler puts an OIDC token in the same `Authorization`
# header, so the worker would receive Google's ID token instead of its bearer and answer 401:
# the two cannot be combined in one request. The service therefore lets allUsers invoke it at
# the IAM level in every variant (QStash needs that anyway), and the gate is the worker's own
# bearer/signature check; in the `internal` variant the ingress setting adds a network gate
# (only sources inside Google Cloud, Cloud Scheduler among them, reach the service).
# docs/deploy.md, "The safety-net ping", has the details.
set -euo pipefail

: "${PROJECT:?set PROJECT to the GCP project id}"
: "${REGION:?set REGION to the Cloud Run region, e.g. europe-west1}"
SERVICE=${SERVICE:-scenergy-worker}
JOB=${JOB:-scenergy-worker-drain}
SCHEDULE=${SCHEDULE:-* * * * *}

url=$(timeout 60 gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" \
  --format 'value(status.url)')
if [ -z "$url" ]; then
  echo "scheduler: service $SERVICE has no URL yet; deploy it first (worker/cloudbuild.yaml)" >&2
  exit 1
fi
token=$(timeout 60 gcloud secrets versions access latest --secret WORKER_TOKEN --project "$PROJECT")
case "$token" in
  "" | *,* | *[[:space:]]*)
    echo "scheduler: WORKER_TOKEN must be non-empty, without commas or whitespace" >&2
    exit 1
    ;;
esac

if timeout 60 gcloud scheduler jobs describe "$JOB" --project "$PROJECT" --location "$REGION" >/dev/null 2>&1; then
  verb=update headers_flag=--update-headers
else
  verb=create headers_flag=--headers
fi

# The flags go through a private flags file, so the token is never on a command line.
flags=$(mktemp)
trap 'rm -f "$flags"' EXIT
chmod 600 "$flags"
cat >"$flags" <<EOF
--schedule: "$SCHEDULE"
--time-zone: Etc/UTC
--uri: "$url/drain"
--http-method: POST
$headers_flag: "Authorization=Bearer $token"
--description: "scenergy: drain the worker's queue every minute (safety net for wakes, delays, retries)"
# A drain lasts up to DRAIN_DEADLINE_SECS (840 s); the attempt waits for its summary.
--attempt-deadline: 900s
# The next minute is the retry.
--max-retry-attempts: 0
EOF

timeout 120 gcloud scheduler jobs "$verb" http "$JOB" --project "$PROJECT" --location "$REGION" \
  --flags-file "$flags"
echo "scheduler: $verb $JOB -> POST $url/drain ($SCHEDULE)"
