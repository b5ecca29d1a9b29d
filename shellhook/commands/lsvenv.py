"""``lsvenv``: named venvs and the project venvs shellhook knows, the active one marked."""

from __future__ import annotations

import argparse
import json
import os
import sys

from shellhook import venvinfo, venvnames
from shellhook.commands.common import is_active, linked_project, say, workon_home
from shellhook.display import for_terminal, path_for_terminal
from shellhook.resolver import is_venv_dir
from shellhook.trust import TrustStore

HELP = "list named venvs and the project venvs shellhook knows (active one marked *)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lsvenv``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _trusted_project_venvs(store: TrustStore) -> list[tuple[str, str]]:
    """(project, venv) of every allow record (the project venvs shellhook knows)."""
    return [
        (r["project"], r["venv"])
        for r in store.records()
        if isinstance(r.get("project"), str) and isinstance(r.get("venv"), str)
    ]


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
        rows.append(
            {
                "name": name,
                "path": real,
                "kind": kind,
                "python": python,
                "project": project,
                "active": is_active(real),
            }
        )

    for name in venvnames.list_names(home):
        venv = os.path.join(home, name)
        add(name, venv, "named", linked_project(venv))
    for project, venv in sorted(_trusted_project_venvs(TrustStore())):
        add(venvinfo.display_name(os.path.realpath(venv)), venv, "project", project)
    return rows


def run(args: argparse.Namespace) -> int:
    """List named venvs and the project venvs shellhook knows, the active one marked."""
    rows = list_venvs()
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not rows:
        say("shellhook: no venvs yet (make one with: mkvenv, or mkvenv NAME)")
        return 0
    table = [
        (
            "*" if r["active"] else " ",
            for_terminal(r["name"]),
            r["python"] or "?",
            path_for_terminal(r["project"]) if r["project"] else "-",
        )
        for r in rows
    ]
    width_name = max(len(t[1]) for t in table)
    width_py = max(len(t[2]) for t in table)
    for mark, name, python, project in table:
        print(f"{mark} {name:<{width_name}}  {python:<{width_py}}  {project}".rstrip())
    return 0
