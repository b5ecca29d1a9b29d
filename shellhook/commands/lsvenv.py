"""``lsvenv``: named venvs and the project venvs shellhook knows, the active one marked.

One row per venv under a header: a named venv by its name, a project venv by its
project's path (their directories are mostly all called ``.venv``); a venv that cannot
be activated is marked with the reason (its python missing, pyvenv.cfg unreadable).
Project venvs are those of allowed projects and those a venv tool (poetry, pipenv, pdm,
hatch, uv) made for a project shellhook has seen; the latter name their tool and where
the tool keeps them, found as a cd there would find them now, with this shell's
variables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from shellhook import venvinfo, venvnames
from shellhook.commands.common import is_active, linked_project, say, workon_home
from shellhook.display import for_terminal, path_for_terminal
from shellhook.known import KnownProjects
from shellhook.resolver import Resolver, is_venv_dir
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


def _tool_project_venvs(known: KnownProjects) -> list[tuple[str, str, str]]:
    """(project, venv, tool) of each known tool project whose tool's venv exists now."""
    resolver = Resolver()
    found = []
    for project in known.projects():
        try:
            res = resolver.resolve(project)
        except OSError:
            continue
        if res.venv and res.tool and res.project == project:
            found.append((project, res.venv, res.tool))
    return found


def list_venvs() -> list[dict]:
    """Named venvs, then project venvs (allowed, or a venv tool's), as lsvenv shows them."""
    home = workon_home()
    rows, seen = [], set()

    def add(name: str, venv: str, kind: str, project: str | None, tool: str | None) -> None:
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
                "tool": tool,
                "active": is_active(real),
                "broken": venvinfo.broken_reason(real),
            }
        )

    for name in venvnames.list_names(home):
        venv = os.path.join(home, name)
        add(name, venv, "named", linked_project(venv), None)
    projects: list[tuple[str, str, str | None]] = [
        (p, v, None) for p, v in _trusted_project_venvs(TrustStore())
    ]
    projects += _tool_project_venvs(KnownProjects())
    # By project; of two rows for one venv (allowed, and a tool's) the tool's is kept.
    for project, venv, tool in sorted(projects, key=lambda r: (r[0], r[2] is None, r[1])):
        add(venvinfo.display_name(os.path.realpath(venv)), venv, "project", project, tool)
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
    table = [(" ", "NAME", "PYTHON", "PROJECT", "")]
    for r in rows:
        project = path_for_terminal(r["project"]) if r["project"] else "-"
        name = for_terminal(r["name"]) if r["kind"] == "named" else project
        note = f"broken: {r['broken']}; {_fix(r)}" if r["broken"] else _where(r)
        table.append(("*" if r["active"] else " ", name, r["python"] or "?", project, note))
    widths = [max(len(t[i]) for t in table) for i in range(1, 4)]
    for mark, name, python, project, note in table:
        line = f"{mark} {name:<{widths[0]}}  {python:<{widths[1]}}  {project:<{widths[2]}}"
        print(f"{line}  {note}".rstrip())
    return 0


def _where(row: dict) -> str:
    """Which tool made a project's venv, and where it keeps it."""
    if not row["tool"]:
        return ""
    return f"({row['tool']}: {path_for_terminal(row['path'])})"


def _fix(row: dict) -> str:
    """How to recreate a broken venv."""
    if row["kind"] == "named":
        return f"recreate it with: mkvenv --force {for_terminal(row['name'])}"
    if row["tool"]:
        return f"recreate it with {row['tool']}, in {path_for_terminal(row['project'])}"
    return f"recreate it with: cd {path_for_terminal(row['project'])} && mkvenv --force"
