"""``shellhook allow [DIR]``: trust the venv of DIR's project."""

from __future__ import annotations

import argparse
import os

from shellhook.commands.common import directory, resolve
from shellhook.commands.which import explain
from shellhook.daemon.fallback import nudge
from shellhook.display import path_for_command
from shellhook.errors import ShellhookError
from shellhook.policy import Context, judge, within
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore
from shellhook.venvmake import has_project_marker

HELP = "trust the venv of DIR's project (default: here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def own_project(where: str, project: str) -> str | None:
    """The project ``where`` is in when it lies below ``project`` (a directory with a
    project marker between them, ``where`` included), else None."""
    directory = os.path.normpath(where)
    while directory != project and within(directory, project):
        if has_project_marker(directory):
            return directory
        directory = os.path.dirname(directory)
    return None


def run(args: argparse.Namespace) -> int:
    """Allow the venv DIR resolves to, bound to its project, venv and pointer content.

    Refused when DIR has no venv of its own: nothing found, or the venv found belongs to
    a project around DIR's own. A venv that stays unusable (unsafe permissions, broken)
    is allowed, and the command says why it is still not activated (exit status 1).
    """
    where = directory(args.dir)
    ctx = Context(Resolver(explain=True), TrustStore())
    ctx.reload_config()
    res = resolve(where, ctx.resolver)
    if not res.found:
        why = "".join(f"; {line}" for line in explain(res, where)[:1])
        raise ShellhookError(f"no venv for {path_for_command(where)}, nothing to allow{why}")
    assert res.venv and res.project
    venv, project = path_for_command(res.venv), path_for_command(res.project)
    inner = own_project(where, res.project)
    if inner is not None:
        raise ShellhookError(
            f"{path_for_command(inner)} has no venv of its own ({venv} belongs to {project}); "
            f"make one there with mkvenv, or allow that one: shellhook allow {project}"
        )
    ctx.trust.allow(res.project, res.venv, res.pointer)
    nudge()
    target = judge(res, ctx)
    if not target.usable and target.warning:
        reason = target.warning.removeprefix("shellhook: ").removeprefix(f"not activating {venv}: ")
        raise ShellhookError(f"allowed {venv} for {project}, but not activating it: {reason}")
    print(f"shellhook: allowed {venv} for {project}")
    return 0
