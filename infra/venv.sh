# shellcheck shell=bash
# Sourced by infra/lint.sh and infra/aws/build-lambdas.sh: the project's Python venv for its tools.
#
#   source infra/venv.sh
#   venv_install cfn-lint==1.2.3 yamllint==1.2.3   # exact pins, from PyPI, wheels only
#
# The venv lives in $SCENERGY_VENV (default $HOME/.cache/scenergy-venv). Every tool comes from PyPI
# as a wheel (`--only-binary :all:`): an sdist whose build downloads a binary from elsewhere can
# not install on a machine that reaches only the package registries, and must fail loudly rather
# than half-install. A pin that is already satisfied costs no network round trip.

VENV=${SCENERGY_VENV:-$HOME/.cache/scenergy-venv}

venv_install() {
  if [ ! -x "$VENV/bin/python" ]; then
    timeout 120 python3 -m venv "$VENV"
  fi
  local wanted=() spec name version
  for spec in "$@"; do
    name=${spec%%==*}
    version=${spec#*==}
    # `pip show` is local; only packages that are missing or at another version are fetched.
    if [ "$("$VENV/bin/pip" show "$name" 2>/dev/null | sed -n 's/^Version: //p')" != "$version" ]; then
      wanted+=("$spec")
    fi
  done
  if [ ${#wanted[@]} -gt 0 ]; then
    echo "+ pip install ${wanted[*]} (into $VENV)" >&2
    if ! timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "${wanted[@]}"; then
      echo "ERROR: could not install ${wanted[*]} from PyPI into $VENV" >&2
      return 1
    fi
  fi
}
