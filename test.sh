#!/usr/bin/env bash
# Run shellhook's test suite on a fresh machine: installs what the tests need first
# (zsh, fish, shellcheck from Debian packages when run as root; pytest, pexpect, xonsh,
# ruff and shellhook itself from PyPI), then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for tool in zsh fish shellcheck; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]' ruff
exec python3 -m pytest "$@"
