#!/usr/bin/env bash
# Install shellhook for the current user, from this checkout. Never asks anything.
#
#   ./install.sh              install (again: idempotent) and start the daemon
#   ./install.sh --uninstall  remove everything this script added
#
# What it does: a private venv under the user data dir (platformdirs; by default
# ~/.local/share/shellhook/venv) with shellhook installed into it, a `shellhook` link
# in ~/.local/bin, and a marked block loading the hook in the start-up file of each of
# bash, zsh, fish and xonsh that is installed. Your trust records and config are kept.
# Environment: PYTHON (default python3), SHELLHOOK_PREFIX_BIN (default ~/.local/bin).
set -euo pipefail

src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
bindir=${SHELLHOOK_PREFIX_BIN:-$HOME/.local/bin}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

# The user data dir as platformdirs computes it (the installed package double-checks).
data_dir() {
  "$python" - <<'EOF'
import os, sys
try:
    import platformdirs
    print(platformdirs.user_data_dir("shellhook", appauthor=False))
except ImportError:
    if sys.platform == "darwin":
        print(os.path.expanduser("~/Library/Application Support/shellhook"))
    else:
        base = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.expanduser("~/.local/share")
        print(os.path.join(base, "shellhook"))
EOF
}

command -v "$python" >/dev/null 2>&1 || die "$python not found; set PYTHON=/path/to/python3 (>= 3.9)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  die "$python is older than 3.9"
data=$(data_dir)
venv=$data/venv

if [[ ${1-} == --uninstall ]]; then
  if [[ -x $venv/bin/python ]]; then
    "$venv/bin/python" -I -m shellhook daemon stop >/dev/null 2>&1 || true
    "$venv/bin/python" -I -m shellhook rc uninstall
  fi
  if [[ -L $bindir/shellhook && $(readlink -- "$bindir/shellhook") == "$venv/bin/shellhook" ]]; then
    rm -f -- "$bindir/shellhook"
  fi
  rm -rf -- "$venv" "$data/hooks"
  rmdir -- "$data" 2>/dev/null || true
  say "uninstalled (trust records and config, if any, are kept)"
  exit 0
fi
[[ $# -eq 0 ]] || die "unknown argument: $1 (usage: ./install.sh [--uninstall])"

if [[ ! -x $venv/bin/python ]]; then
  say "creating $venv"
  mkdir -p -- "$data"
  chmod 700 -- "$data"
  "$python" -m venv -- "$venv"
fi
say "installing shellhook into $venv"
if command -v uv >/dev/null 2>&1; then
  uv pip install --quiet --python "$venv/bin/python" --reinstall-package shellhook "$src"
else
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$src"
fi
installed_data=$("$venv/bin/python" -I -c 'from shellhook import locations; print(locations.data_dir())')
[[ $installed_data == "$data" ]] ||
  say "warning: the installed package puts its data in $installed_data, not $data"

mkdir -p -- "$bindir"
ln -sfn -- "$venv/bin/shellhook" "$bindir/shellhook"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) say "note: $bindir is not on your PATH; the hooks work anyway, the command needs it" ;;
esac

"$venv/bin/python" -I -m shellhook rc install
"$venv/bin/python" -I -m shellhook daemon start
say "done: open a new shell. In a project: python3 -m venv .venv && shellhook allow"
