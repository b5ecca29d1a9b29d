"""``lsvenv``: named venvs and the project venvs shellhook knows, the active one marked."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from shellhook import locations, venvinfo, venvnames
from shellhook.display import for_terminal, path_for_terminal
from shellhook.policy import venv_display_name
from shellhook.resolver import is_venv_dir, read_small_file
from shellhook.trust import TrustStore
from shellhook.venvcommon import is_active, linked_project, one_line_errors, say, workon_home


def _trusted_project_venvs(store: TrustStore) -> list[tuple[str, str]]:
    """(project, venv) of every allow record (the project venvs shellhook knows)."""
    allow = Path(store.root) / "allow"
    try:
        locations.check_private_dir(Path(store.root))
        locations.check_private_dir(allow)
        paths = sorted(allow.glob("*.json"))
    except (locations.UnsafeDirectory, OSError):
        return []
    found = []
    for path in paths:
        try:
            record = json.loads(read_small_file(str(path), 65536))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("venv"), str) \
                and isinstance(record.get("project"), str):
            found.append((record["project"], record["venv"]))
    return found


def list_venvs() -> list[dict]:
    """Named venvs, then project venvs from the trust records, as lsvenv shows them."""
    home = workon_home()
    rows, seen = [], set()

    def add(name: str, venv: str, kind: str, project: str | None) -> None:
        real = os.path.realpath(venv)
        if real in seen or not is_venv_dir(real):
            return
        seen.add(real)
        try:
            python = venvinfo.python_version(venvinfo.read_cfg(real))
        except OSError:
            python = ""
        rows.append({"name": name, "path": real, "kind": kind, "python": python,
                     "project": project, "active": is_active(real)})

    for name in venvnames.list_names(home):
        venv = os.path.join(home, name)
        add(name, venv, "named", linked_project(venv))
    for project, venv in sorted(_trusted_project_venvs(TrustStore())):
        add(venv_display_name(venv), venv, "project", project)
    return rows


@one_line_errors
def cmd_lsvenv(args: argparse.Namespace) -> int:
    """List named venvs and the project venvs shellhook knows, the active one marked."""
    rows = list_venvs()
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not rows:
        say("shellhook: no venvs yet (make one with: mkvenv, or mkvenv NAME)")
        return 0
    table = [("*" if r["active"] else " ", for_terminal(r["name"]), r["python"] or "?",
              path_for_terminal(r["project"]) if r["project"] else "-") for r in rows]
    width_name = max(len(t[1]) for t in table)
    width_py = max(len(t[2]) for t in table)
    for mark, name, python, project in table:
        print(f"{mark} {name:<{width_name}}  {python:<{width_py}}  {project}".rstrip())
    return 0
