#!/usr/bin/env bash
# Run shellhook's test suite on a fresh machine. Installs what the tests need first: zsh,
# fish, shellcheck, npm, strace, direnv, bindfs, gcc, tmux and a zsh theme from Debian
# packages (when run as root), and, into a private venv of this checkout (.venv, made once
# and reused; never the Python you run this with), shellhook itself with its test extras
# from PyPI.
# Then: ruff, mypy and pytest. Extra arguments go to pytest. PYTHON picks the interpreter
# (python3).
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python3}
venv=.venv

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  # strace and direnv: bench/'s smoke run (tests/test_bench_smoke.py) counts processes
  # with strace and compares with direnv; bindfs stages a hung file system (FUSE); gcc
  # builds an LD_PRELOAD library (case 39); tmux runs child shells (case 48).
  for tool in zsh fish shellcheck npm strace direnv bindfs gcc tmux; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  # A real zsh theme for the prompt tests (pure comes from the npm registry).
  [[ -f /usr/share/powerlevel9k/powerlevel9k.zsh-theme ]] || missing+=(zsh-theme-powerlevel9k)
  # Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
  "$python" -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
if [[ ! -x $venv/bin/python ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
"$venv/bin/python" -m ruff format --check --quiet .
"$venv/bin/python" -m ruff check --quiet .
"$venv/bin/python" -m mypy
# The test tools installed with the extras (xonsh, uv, poetry...) are on PATH as in use.
PATH="$PWD/$venv/bin:$PATH" exec "$venv/bin/python" -m pytest "$@"
