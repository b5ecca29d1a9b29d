#!/usr/bin/env bash
# Install shellhook for the current user, from this checkout. Never asks anything.
#
#   ./install.sh              install (again: idempotent) and (re)start the daemon
#   ./install.sh --uninstall  remove everything this script added
#
# What it does: a private venv under the user data dir (platformdirs; by default
# ~/.local/share/shellhook/venv) with shellhook installed into it (with uv when it is
# on PATH and works, else pip), a `shellhook` link in ~/.local/bin, and a marked block
# loading the hook in the start-up file of each of bash, zsh, fish and xonsh that is
# installed. Running it again installs this checkout again and restarts the daemon, so
# the new code serves. --uninstall stops the daemon and removes all of that, the
# daemon's runtime files and log, and every directory install.sh created that is empty
# then (it keeps a list of them); your trust records and config are kept.
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

# The directories among $1 and its parents that do not exist yet (the ones creating $1
# would create), one per line.
missing_dirs() {
  local d=$1
  while [[ -n $d && $d != / && ! -e $d && ! -L $d ]]; do
    printf '%s\n' "$d"
    d=$(dirname -- "$d")
  done
}

command -v "$python" >/dev/null 2>&1 || die "$python not found; set PYTHON=/path/to/python3 (>= 3.9)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  die "$python is older than 3.9"
data=$(data_dir)
venv=$data/venv
# What install.sh made, for --uninstall: "dir PATH" for each directory it created (or
# that the rc blocks and the daemon it started created), and "state", "log" and
# "runtime" PATH: the installed package's own directories.
record=$data/install-record

if [[ ${1-} == --uninstall ]]; then
  recorded=''
  [[ ! -f $record ]] || recorded=$(<"$record")
  if [[ -z $recorded && -x $venv/bin/python ]]; then  # installed before the record existed
    recorded=$("$venv/bin/python" -I -c 'from shellhook import locations as l
print("state", l.state_dir()); print("log", l.log_dir()); print("runtime", l.runtime_dir())') ||
      recorded=''
  fi
  if [[ -x $venv/bin/python ]]; then
    "$venv/bin/python" -I -m shellhook daemon stop >/dev/null 2>&1 || true
    "$venv/bin/python" -I -m shellhook rc uninstall
  fi
  if [[ -L $bindir/shellhook && $(readlink -- "$bindir/shellhook") == "$venv/bin/shellhook" ]]; then
    rm -f -- "$bindir/shellhook"
  fi
  rm -rf -- "$venv" "$data/hooks"
  rm -f -- "$record"
  rmdir -- "$data" 2>/dev/null || true
  while IFS=' ' read -r kind path; do
    case $kind in
      log)  # the daemon's log (and its one rotated copy)
        rm -f -- "$path/daemon.log" "$path/daemon.log.1"
        rmdir -- "$path" 2>/dev/null || true ;;
      state)  # the trust store stays when it holds records
        for d in "$path/trust/allow" "$path/trust/deny" "$path/trust" "$path"; do
          rmdir -- "$d" 2>/dev/null || true
        done ;;
      runtime)  # the daemon's lock and pid files, the shells' FIFOs: all ours
        if [[ -d $path && ! -L $path && -O $path && $(basename -- "$path") == shellhook ]]; then
          rm -rf -- "$path"
        fi ;;
    esac
  done <<<"$recorded"
  # Directories it created, deepest first, when nothing else is in them now.
  sed -n 's/^dir //p' <<<"$recorded" | LC_ALL=C sort -r | while IFS= read -r d; do
    rmdir -- "$d" 2>/dev/null || true
  done
  say "uninstalled (trust records and config, if any, are kept)"
  exit 0
fi
[[ $# -eq 0 ]] || die "unknown argument: $1 (usage: ./install.sh [--uninstall])"

created=$(
  missing_dirs "$data"
  missing_dirs "$bindir"
)
if [[ ! -x $venv/bin/python ]]; then
  say "creating $venv"
  mkdir -p -- "$data"
  chmod 700 -- "$data"
  "$python" -m venv -- "$venv"
fi
say "installing shellhook into $venv"
installed=''
if command -v uv >/dev/null 2>&1; then
  # uv fails where it has no network route or CA bundle (pip may have a local index).
  if uv pip install --quiet --python "$venv/bin/python" --reinstall-package shellhook "$src"; then
    installed=1
  else
    say "uv could not install shellhook (above); installing with pip instead"
  fi
fi
if [[ -z $installed ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$src" ||
    die "pip could not install shellhook into $venv"
fi
installed_data=$("$venv/bin/python" -I -c 'from shellhook import locations; print(locations.data_dir())')
[[ $installed_data == "$data" ]] ||
  say "warning: the installed package puts its data in $installed_data, not $data"

# What the rc blocks and the daemon will create, and the package's own directories.
paths=$("$venv/bin/python" -I - <<'EOF'
import shutil
from pathlib import Path

from shellhook import adapters, locations

print("state", locations.state_dir())
print("log", locations.log_dir())
print("runtime", locations.runtime_dir())
for shell in adapters.SHELLS:
    if shutil.which(shell):
        print("rc", adapters.get(shell).rc_file(Path.home()).parent)
EOF
)
while IFS=' ' read -r _ path; do
  created+=$'\n'$(missing_dirs "$path")
done <<<"$paths"
{
  [[ ! -f $record ]] || sed -n 's/^dir //p' "$record"  # created by an earlier run
  printf '%s\n' "$created"
} | sed '/^$/d' | LC_ALL=C sort -u | sed 's/^/dir /' >"$record.new"
grep -v '^rc ' <<<"$paths" >>"$record.new"
mv -f -- "$record.new" "$record"

mkdir -p -- "$bindir"
ln -sfn -- "$venv/bin/shellhook" "$bindir/shellhook"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) say "note: $bindir is not on your PATH; the hooks work anyway, the command needs it" ;;
esac

"$venv/bin/python" -I -m shellhook rc install
# A daemon of an earlier install would go on serving its old code: restart it.
"$venv/bin/python" -I -m shellhook daemon restart
say "done: open a new shell. In a project: python3 -m venv .venv && shellhook allow"
