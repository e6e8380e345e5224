#!/usr/bin/env bash
# Release builds of what deploys, made the way the deploy workflows make them:
#   1. the three Lambda functions with cargo-lambda, each a zip holding one `bootstrap`;
#   2. the worker's release binary, with worker/Dockerfile's build command.
# Then checks each artefact and prints its size (docs/benchmarks.md has the numbers).
#
#   bash infra/aws/build-lambdas.sh              # x86_64: the only Rust target on our machines
#   LAMBDA_ARCH=arm64 bash infra/aws/build-lambdas.sh   # where `rustup target add
#                                                # aarch64-unknown-linux-gnu` works (CI runners)
#
# cargo-lambda and zig come from PyPI (`cargo-lambda`, `ziglang`) into the project venv
# (infra/venv.sh). cargo-lambda links with `zig cc` against an old glibc, so the bootstrap runs on
# provided.al2023 whatever glibc this machine has. The builds use their own target directory,
# $HOME/.cache/scenergy-target-release (SCENERGY_RELEASE_TARGET_DIR), so they never wait on the
# lock of the debug builds in $HOME/.cache/scenergy-target.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=infra/venv.sh
source infra/venv.sh
venv_install cargo-lambda==1.9.2 ziglang==0.17.1
export PATH="$VENV/bin:$PATH"

export CARGO_TARGET_DIR=${SCENERGY_RELEASE_TARGET_DIR:-$HOME/.cache/scenergy-target-release}
export SQLX_OFFLINE=true
FUNCTIONS=(enqueue status analyze)
# The newest glibc symbol version a binary may need where it runs: Amazon Linux 2023
# (provided.al2023) ships glibc 2.34; the worker's distroless cc-debian12 image 2.36.
LAMBDA_GLIBC=2.34
WORKER_GLIBC=2.36

case "${LAMBDA_ARCH:-x86_64}" in
  x86_64 | x86-64) arch_flag=--x86-64 elf_machine="X86-64" ;;
  arm64 | aarch64) arch_flag=--arm64 elf_machine="AArch64" ;;
  *) echo "LAMBDA_ARCH must be x86_64 or arm64, not ${LAMBDA_ARCH}" >&2; exit 2 ;;
esac

bins=()
for f in "${FUNCTIONS[@]}"; do bins+=(--bin "$f"); done
echo "+ cargo lambda build --release --locked $arch_flag --output-format zip ${bins[*]}" >&2
timeout 3600 cargo lambda build --release --locked "$arch_flag" --output-format zip "${bins[@]}"

human() { numfmt --to=iec-i --suffix=B --round=nearest --format='%.2f' "$1"; }

check_elf() { # path, what, max glibc: an executable of the expected machine, glibc no newer than max
  local file=$1 what=$2 max=$3 machine newest
  machine=$(readelf -h "$file" | sed -n 's/^ *Machine: *//p')
  case "$machine" in
    *"$elf_machine"* | *"${elf_machine/X86-64/X86_64}"*) ;;
    *) echo "FAIL: $what is a '$machine' binary, not $elf_machine" >&2; return 1 ;;
  esac
  newest=$(readelf --version-info --wide "$file" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' \
    | sort -uV | tail -n 1)
  if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -n 1)" != "$max" ]; then
    echo "FAIL: $what needs glibc $newest; where it runs has $max" >&2
    return 1
  fi
  echo "${newest:-none}"
}

failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-10s %12s %14s %s\n' artefact zip bootstrap "newest glibc symbol"
for f in "${FUNCTIONS[@]}"; do
  zip="$CARGO_TARGET_DIR/lambda/$f/bootstrap.zip"
  if [ ! -f "$zip" ]; then
    echo "FAIL: $zip was not produced" >&2
    failed=1
    continue
  fi
  # Exactly one entry, `bootstrap`, with its executable bit (Lambda runs the file itself).
  if ! python3 - "$zip" "$tmp/$f" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
if names != ["bootstrap"]:
    sys.exit(f"FAIL: {sys.argv[1]} holds {names}, not exactly one 'bootstrap'")
mode = (z.getinfo("bootstrap").external_attr >> 16) & 0o777
if not mode & 0o111:
    sys.exit(f"FAIL: bootstrap in {sys.argv[1]} is not executable (mode {mode:o})")
z.extract("bootstrap", sys.argv[2])
PY
  then
    failed=1
    continue
  fi
  glibc=$(check_elf "$tmp/$f/bootstrap" "$f's bootstrap" "$LAMBDA_GLIBC") || { failed=1; continue; }
  printf '%-10s %12s %14s %s\n' "$f" "$(human "$(stat -c %s "$zip")")" \
    "$(human "$(stat -c %s "$tmp/$f/bootstrap")")" "$glibc"
done

# The worker, exactly as worker/Dockerfile builds it (host target, Debian's glibc, like the
# image's builder and its distroless cc runtime). Until the worker crate has its `worker`
# binary there is nothing to build, and that is said rather than hidden.
has_worker_bin=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
pkgs = json.load(sys.stdin)["packages"]
print(any(t["name"] == "worker" and "bin" in t["kind"]
          for p in pkgs if p["name"] == "scenergy-worker" for t in p["targets"]))')
if [ "$has_worker_bin" = True ]; then
  echo "+ cargo build --release --locked -p scenergy-worker --bin worker" >&2
  timeout 3600 cargo build --release --locked -p scenergy-worker --bin worker
  worker="$CARGO_TARGET_DIR/release/worker"
  glibc=$(check_elf "$worker" "the worker binary" "$WORKER_GLIBC") || failed=1
  printf '%-10s %12s %14s %s\n' worker - "$(human "$(stat -c %s "$worker")")" "$glibc"
else
  echo "worker: scenergy-worker has no \`worker\` binary yet (worker/src/main.rs); not built" >&2
fi

if [ "$failed" -ne 0 ]; then
  echo "release build: FAILED" >&2
  exit 1
fi
echo "release build: ok ($CARGO_TARGET_DIR)"
