"""``workon``: list the venvs in $WORKON_HOME, or activate one by hand.

The activation is manual (op ``V``, DESIGN §4): ``cd`` never replaces it, ``deactivate``
ends it, and auto-activation resumes after that. An automatic activation of ours is
undone first (``D``), anyone else's venv is deactivated with its own ``deactivate``
(``U``); a ``.project`` file makes the shell ``cd`` to the project (``C``).
"""

from __future__ import annotations

import argparse
import os

from shellhook import protocol, venvinfo, venvnames
from shellhook.commands import shellops
from shellhook.commands.common import (
    linked_project,
    named_venv,
    no_shell_note,
    say,
    workon_home,
)
from shellhook.display import for_terminal, path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.policy import activation_ops
from shellhook.trust import ownership_problem

HELP = "list the venvs in $WORKON_HOME, or activate NAME (and cd to its project)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``workon``."""
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument(
        "-n", "--no-cd", action="store_true", help="do not cd to the venv's project (.project file)"
    )


def run(args: argparse.Namespace) -> int:
    """List the venvs in $WORKON_HOME, or activate one (and cd to its project)."""
    if args.name is None:
        home = workon_home()
        names = venvnames.list_names(home)
        for name in names:
            print(for_terminal(name))
        if not names:
            say(f"shellhook: no venvs in {path_for_terminal(home)} (make one with: mkvenv NAME)")
        return 0
    venv = named_venv(args.name)
    for path in (venv, os.path.join(venv, "bin")):
        problem = ownership_problem(path)
        if problem:
            raise ShellhookError(f"not activating {path_for_terminal(venv)}: {problem}")
    broken = venvinfo.broken_reason(venv)
    if broken:
        raise ShellhookError(
            f"not activating {path_for_terminal(venv)}: {broken}; "
            f"recreate it with: mkvenv --force {for_terminal(args.name)}"
        )
    project = linked_project(venv)
    ops = shellops.leave_current() + activation_ops(
        protocol.OP_MANUAL, venv, project or "", venvinfo.display_name(venv)
    )
    if project and not args.no_cd:
        ops.append((protocol.OP_CD, project))
    shell = shellops.link()
    if shell is None:
        print(for_terminal(venv))
        activate = path_for_terminal(os.path.join(venv, "bin", "activate"))
        no_shell_note(f"to activate it: . {activate}")
        return 0
    shellops.send(shell, ops)
    return 0
