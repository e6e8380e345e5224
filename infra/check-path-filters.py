#!/usr/bin/env python3
"""Checks the deploy workflows' path filters against the crate graph (run by infra/lint.sh).

A change must redeploy exactly the artefacts that link the changed code:

- deploy-functions.yml: the dorny/paths-filter entry of each function lists its own crate and
  every workspace crate it links (normal and build dependencies, transitively; dev-dependencies
  do not ship), and no other workspace crate.
- deploy-worker.yml: `on.push.paths` does the same for the worker.

The graph comes from `cargo metadata --no-deps` (the workspace members and their path
dependencies; nothing is resolved, downloaded or written). A crate that reads files outside its
own folder at build time adds them (EXTRA_PATHS). Anything that is not a crate folder (the
workspace manifests, infra/, the workflow itself) is left to the workflow.

Exit status 1 with one line per problem; 0 with a summary of what each filter covers.

It also matches a file inside each function's crate against every filter, as GitHub would: a
change to functions/X must deploy X and nothing else.

    python3 infra/check-path-filters.py [--functions-workflow FILE] [--worker-workflow FILE]
    python3 infra/check-path-filters.py --explain PATH...   # what a change to PATH deploys

(the workflow options let infra/lint-canaries.sh check deliberately broken copies).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_WORKFLOW = ROOT / ".github/workflows/deploy-functions.yml"
WORKER_WORKFLOW = ROOT / ".github/workflows/deploy-worker.yml"
WORKER_PACKAGE = "scenergy-worker"
# Build-time inputs outside a crate's folder: sqlx's migrate!() embeds migrations/, and the
# query macros read the offline data in .sqlx/ (SQLX_OFFLINE=true in every build).
EXTRA_PATHS = {"scenergy-db": ["migrations/**", ".sqlx/**"]}
# Every build reads these.
WORKSPACE_PATHS = ["Cargo.toml", "Cargo.lock"]
CRATE_ROOTS = ("functions/", "shared/", "tools/", "worker/")


def cargo_metadata() -> dict:
    out = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


class Graph:
    def __init__(self, meta: dict) -> None:
        self.by_name: dict[str, dict] = {}
        self.by_dir: dict[str, str] = {}
        for pkg in meta["packages"]:
            crate_dir = Path(pkg["manifest_path"]).parent.relative_to(ROOT).as_posix()
            pkg["dir"] = crate_dir
            self.by_name[pkg["name"]] = pkg
            self.by_dir[crate_dir] = pkg["name"]

    def bin_package(self, binary: str) -> str | None:
        for name, pkg in self.by_name.items():
            if any(t["name"] == binary and "bin" in t["kind"] for t in pkg["targets"]):
                return name
        return None

    def shipped_closure(self, name: str) -> set[str]:
        """The workspace crates that end up in `name`'s binary (itself included)."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for dep in self.by_name[current]["dependencies"]:
                if dep.get("kind") == "dev" or "path" not in dep:
                    continue
                dep_dir = Path(dep["path"]).resolve().relative_to(ROOT).as_posix()
                if dep_dir in self.by_dir:
                    todo.append(self.by_dir[dep_dir])
        return seen

    def required_paths(self, name: str) -> tuple[set[str], set[str]]:
        crates = self.shipped_closure(name)
        paths = {f"{self.by_name[c]['dir']}/**" for c in crates} | set(WORKSPACE_PATHS)
        for crate in crates:
            paths.update(EXTRA_PATHS.get(crate, []))
        return crates, paths


def flatten(items) -> list[str]:
    """paths-filter entries may nest through YAML anchors (`- *workspace`)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, list):
            out.extend(flatten(item))
        else:
            out.append(str(item))
    return out


def glob_matches(pattern: str, path: str) -> bool:
    """The subset of picomatch globs the workflows use (`**`, `*`), as paths-filter and GitHub's
    `paths` apply them."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, path) is not None


def load_filters(functions_workflow: Path, worker_workflow: Path) -> dict[str, list[str]]:
    """Every deploy trigger: each paths-filter entry of deploy-functions.yml, and `worker`."""
    workflow = yaml.safe_load(functions_workflow.read_text())
    steps = workflow["jobs"]["changes"]["steps"]
    filter_step = next(s for s in steps if str(s.get("uses", "")).startswith("dorny/paths-filter@"))
    filters = {k: flatten(v) for k, v in yaml.safe_load(filter_step["with"]["filters"]).items()}
    if worker_workflow.is_file():
        worker = yaml.safe_load(worker_workflow.read_text())
        on = worker.get("on", worker.get(True))  # PyYAML reads a bare `on:` key as True
        filters["worker"] = flatten(on["push"]["paths"])
    return filters


def deploys_for(filters: dict[str, list[str]], path: str) -> list[str]:
    return sorted(
        name for name, patterns in filters.items()
        if name != "workspace" and any(glob_matches(p, path) for p in patterns)
    )


def check_filter(graph: Graph, label: str, package: str, patterns: list[str]) -> list[str]:
    problems = []
    crates, required = graph.required_paths(package)
    have = set(patterns)
    for path in sorted(required - have):
        why = "every build reads it"
        for crate in sorted(crates):
            if path == f"{graph.by_name[crate]['dir']}/**":
                why = f"{package} links {crate}" if crate != package else "its own crate"
            elif path in EXTRA_PATHS.get(crate, []):
                why = f"{package} links {crate}, which reads it at build time"
        problems.append(f"{label}: missing {path} ({why})")
    for path in sorted(have - required):
        if not path.startswith(CRATE_ROOTS):
            continue  # infra/, the workflow file, ...: the workflow's own business
        crate_dir = path.removesuffix("/**")
        if crate_dir in graph.by_dir:
            problems.append(
                f"{label}: {path} is crate {graph.by_dir[crate_dir]}, which {package} does not link"
                " (a change there would redeploy it for nothing)"
            )
        else:
            problems.append(f"{label}: {path} is not the folder of a workspace crate")
    return problems


def functions_filters(
    graph: Graph, path: Path, all_filters: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    workflow = yaml.safe_load(path.read_text())
    steps = workflow["jobs"]["changes"]["steps"]
    filter_step = next(s for s in steps if str(s.get("uses", "")).startswith("dorny/paths-filter@"))
    filters = yaml.safe_load(filter_step["with"]["filters"])
    pick = next(s for s in steps if s.get("id") == "pick")["run"]

    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").is_file())
    problems, report = [], []
    for binary in functions:
        label = f"deploy-functions.yml filter '{binary}'"
        package = graph.bin_package(binary)
        if package is None:
            problems.append(f"functions/{binary} has no binary named {binary}")
            continue
        if binary not in filters:
            problems.append(f"{label}: no such filter (functions/{binary} would never deploy)")
            continue
        # The jq select of changed filters, and the workflow_dispatch list of all functions.
        if f'. == "{binary}"' not in pick or pick.count(f'"{binary}"') < 2:
            problems.append(f"deploy-functions.yml step 'pick': does not select {binary}")
        problems += check_filter(graph, label, package, flatten(filters[binary]))
        probe = f"functions/{binary}/src/main.rs"
        hit = deploys_for(all_filters, probe)
        if hit != [binary]:
            problems.append(f"a change to {probe} deploys {hit or 'nothing'}, not just {binary}")
        crates = sorted(graph.shipped_closure(package) - {package})
        report.append(f"{binary}: functions/{binary} + {', '.join(crates)}")
    return problems, report


def worker_filter(graph: Graph, path: Path) -> tuple[list[str], list[str]]:
    if not path.is_file():
        return [f"{path} is missing"], []
    workflow = yaml.safe_load(path.read_text())
    on = workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on:` key as True
    paths = flatten(on["push"]["paths"])
    label = "deploy-worker.yml on.push.paths"
    problems = check_filter(graph, label, WORKER_PACKAGE, paths)
    for path in ("infra/gcp/**", ".github/workflows/deploy-worker.yml"):
        if path not in paths:
            problems.append(f"{label}: missing {path}")
    crates = sorted(graph.shipped_closure(WORKER_PACKAGE) - {WORKER_PACKAGE})
    return problems, [f"worker: worker + {', '.join(crates) or 'no workspace crate'}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions-workflow", type=Path, default=FUNCTIONS_WORKFLOW)
    parser.add_argument("--worker-workflow", type=Path, default=WORKER_WORKFLOW)
    parser.add_argument("--explain", nargs="+", metavar="PATH", help="print what a change deploys")
    args = parser.parse_args()
    all_filters = load_filters(args.functions_workflow, args.worker_workflow)
    if args.explain:
        for path in args.explain:
            print(f"{path}: {', '.join(deploys_for(all_filters, path)) or 'nothing'}")
        return 0
    graph = Graph(cargo_metadata())
    problems, report = functions_filters(graph, args.functions_workflow, all_filters)
    more, worker_report = worker_filter(graph, args.worker_workflow)
    problems += more
    if problems:
        for line in problems:
            print(f"path filters: {line}", file=sys.stderr)
        return 1
    for line in report + worker_report:
        print(f"path filters ok: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
