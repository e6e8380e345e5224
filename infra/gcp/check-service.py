#!/usr/bin/env python3
"""Renders infra/gcp/service.yaml in each variant and checks the settings the design fixes
(run by infra/lint.sh; yamllint checks the rendered files too).

    python3 infra/gcp/check-service.py OUT_DIR    # writes OUT_DIR/service-VARIANT.yaml

Cloud Run itself is not reachable from here, so this is what stands in for a dry run: the
Knative fields `gcloud run services replace` reads, with the values DESIGN §5 and §9 give.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = {
    "IMAGE": "europe-west1-docker.pkg.dev/example-project/scenergy/worker:0123abc",
    "SERVICE_ACCOUNT": "scenergy-worker@example-project.iam.gserviceaccount.com",
    "R2_ENDPOINT": "https://example-account.r2.cloudflarestorage.com",
    "R2_BUCKET_NAME": "scenergy-assets",
    "R2_PUBLIC_URL": "https://assets.example.com",
}
VARIANTS = {
    # variant: (ingress, cpu-throttling)
    "default": ("all", "true"),
    "internal": ("internal", "true"),
    "instance-cpu": ("all", "false"),
}
SECRETS = [
    "REDIS_URL",
    "DATABASE_URL",
    "GOOGLE_AI_STUDIO_API_KEY",
    "GOOGLE_AI_STUDIO_API_KEY_2",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "WORKER_TOKEN",
    "QSTASH_CURRENT_SIGNING_KEY",
    "QSTASH_NEXT_SIGNING_KEY",
    "ADMIN_TOKEN",
    "ALERT_WEBHOOK_URL",
]
PLAIN = {
    "R2_ENDPOINT": EXAMPLE["R2_ENDPOINT"],
    "R2_BUCKET_NAME": EXAMPLE["R2_BUCKET_NAME"],
    "R2_PUBLIC_URL": EXAMPLE["R2_PUBLIC_URL"],
    "WORKER_CONCURRENCY": "5",
    "MAX_JOBS_PER_SECOND": "10",
    "SHUTDOWN_GRACE_SECS": "8",
    "DRAIN_DEADLINE_SECS": "840",
    "QUEUE_NAME": "images",
    "ENABLE_BULL_BOARD": "false",
}


def render(variant: str, extra: dict[str, str] | None = None) -> str:
    # Only what is given here: a WORKER_WAKE_URL in the caller's environment must not leak in.
    env = {k: v for k, v in os.environ.items() if k != "WORKER_WAKE_URL"}
    env.update(EXAMPLE, VARIANT=variant, **(extra or {}))
    return subprocess.run(
        ["bash", str(ROOT / "infra/gcp/render-service.sh")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout


def check(variant: str, doc: dict) -> list[str]:
    problems: list[str] = []

    def expect(what: str, got, want) -> None:
        if got != want:
            problems.append(f"{variant}: {what} is {got!r}, expected {want!r}")

    ingress, throttling = VARIANTS[variant]
    expect("apiVersion", doc.get("apiVersion"), "serving.knative.dev/v1")
    expect("kind", doc.get("kind"), "Service")
    expect("ingress", doc["metadata"]["annotations"].get("run.googleapis.com/ingress"), ingress)
    template = doc["spec"]["template"]
    notes = template["metadata"]["annotations"]
    expect("minScale", notes.get("autoscaling.knative.dev/minScale"), "0")
    expect("maxScale", notes.get("autoscaling.knative.dev/maxScale"), "10")
    expect("cpu-throttling", notes.get("run.googleapis.com/cpu-throttling"), throttling)
    spec = template["spec"]
    expect("timeoutSeconds", spec.get("timeoutSeconds"), 900)
    expect("containerConcurrency", spec.get("containerConcurrency"), 8)
    expect("serviceAccountName", spec.get("serviceAccountName"), EXAMPLE["SERVICE_ACCOUNT"])
    (container,) = spec["containers"]
    expect("image", container.get("image"), EXAMPLE["IMAGE"])
    expect("ports", container.get("ports"), [{"name": "http1", "containerPort": 8080}])
    expect("limits", container["resources"]["limits"], {"cpu": "2", "memory": "2Gi"})
    for probe in ("startupProbe", "livenessProbe"):
        expect(f"{probe}.httpGet", container.get(probe, {}).get("httpGet"), {"path": "/healthz", "port": 8080})
    env = {e["name"]: e for e in container["env"]}
    if len(env) != len(container["env"]):
        problems.append(f"{variant}: a variable is set twice")
    if "PORT" in env:
        problems.append(f"{variant}: PORT is reserved; Cloud Run sets it")
    for name, value in PLAIN.items():
        expect(f"env {name}", env.get(name, {}).get("value"), value)
    for name in SECRETS:
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef")
        expect(f"env {name} secretKeyRef", ref, {"name": name, "key": "latest"})
    for name, entry in env.items():
        if name not in PLAIN and name not in SECRETS and "valueFrom" in entry:
            problems.append(f"{variant}: {name} comes from a secret the check does not know")
    # Drain deadline, shutdown grace and the platform's limits fit together.
    if int(env["DRAIN_DEADLINE_SECS"]["value"]) >= spec["timeoutSeconds"]:
        problems.append(f"{variant}: DRAIN_DEADLINE_SECS must end before the request timeout")
    if int(env["SHUTDOWN_GRACE_SECS"]["value"]) >= 10:
        problems.append(f"{variant}: SHUTDOWN_GRACE_SECS must end before Cloud Run's 10 s SIGKILL")
    return problems


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    problems: list[str] = []
    for variant in VARIANTS:
        text = render(variant)
        if out_dir is not None:
            (out_dir / f"service-{variant}.yaml").write_text(text)
        doc = yaml.safe_load(text)
        problems += check(variant, doc)
        if any(e["name"] == "WORKER_WAKE_URL" for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]):
            problems.append(f"{variant}: WORKER_WAKE_URL is set although none was given")
    # The optional WORKER_WAKE_URL (QStash signatures must name it) lands in the env when given.
    wake = "https://scenergy-worker-123456789.europe-west1.run.app/drain"
    doc = yaml.safe_load(render("default", {"WORKER_WAKE_URL": wake}))
    env = {e["name"]: e.get("value") for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
    if env.get("WORKER_WAKE_URL") != wake:
        problems.append(f"default with WORKER_WAKE_URL: env has {env.get('WORKER_WAKE_URL')!r}")
    for line in problems:
        print(f"service.yaml: {line}", file=sys.stderr)
    if not problems:
        print(f"service.yaml ok: {', '.join(VARIANTS)} render with the designed settings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
