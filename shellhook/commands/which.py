"""``shellhook which [DIR]``: the venv for DIR, the rule that chose it, whether it
activates, and every candidate passed over on the way (with why)."""

from __future__ import annotations

import argparse
import os

from shellhook.commands.common import directory, resolve, say
from shellhook.display import for_terminal, path_for_command, path_for_terminal
from shellhook.policy import Context, judge
from shellhook.resolver import PASSED_FOREIGN, PASSED_STORE, PassedOver, Resolution, Resolver
from shellhook.trust import TrustStore

HELP = "print the venv for DIR, the rule that chose it and what was passed over"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def pick_one(venv: str, where: str) -> str:
    """The command making ``where`` a project of ``venv`` (one of a store's): a pointer."""
    relative = os.path.relpath(venv, where)
    if "/" not in relative:
        relative = "./" + relative  # a bare name would mean $WORKON_HOME/NAME
    return f"echo {path_for_command(relative)} > {path_for_command(os.path.join(where, '.venv'))}"


def passed_over(passed: PassedOver, where: str) -> str:
    """One line saying what was passed over, why, and how to use it anyway."""
    shown = path_for_command(passed.directory)
    if passed.kind == PASSED_FOREIGN:
        return f"{shown} {for_terminal(passed.reason)}, not by shellhook"
    if passed.kind == PASSED_STORE:
        line = f"passed over {shown}: it {passed.reason}"
        return f"{line}; to use one here: {pick_one(passed.venvs[0], where)}"
    venvs = ", ".join(path_for_command(v) for v in passed.venvs[:3])
    line = f"passed over {venvs}: {shown} {for_terminal(passed.reason)}"
    return f"{line}; {for_terminal(passed.hint)}" if passed.hint else line


def explain(res: Resolution, where: str) -> list[str]:
    """A line per candidate the walk passed over, innermost first."""
    return [passed_over(p, where) for p in res.passed]


def run(args: argparse.Namespace) -> int:
    """Print the venv for DIR (default: here); exit 1 when there is none."""
    where = directory(args.dir)
    ctx = Context(Resolver(explain=True), TrustStore())
    ctx.reload_config()
    res = resolve(where, ctx.resolver)
    if not res.found:
        say(f"shellhook: no venv for {path_for_terminal(where)}")
        for line in explain(res, where):
            say(f"  {line}")
        return 1
    assert res.venv is not None and res.project is not None
    target = judge(res, ctx)
    print(for_terminal(res.venv))
    print(f"  rule: {for_terminal(res.detail)} in {path_for_terminal(res.project)}")
    if target.usable:
        state = "activates automatically"
    elif target.warning is None and ctx.trust.is_denied(res.project):
        state = f"denied: never activated (undo: shellhook forget {path_for_command(res.project)})"
    else:
        state = (target.warning or "").removeprefix("shellhook: ")
    print(f"  {state}")
    if target.usable and target.note:
        print(f"  {target.note.removeprefix('shellhook: ')}")
    for line in explain(res, where):
        print(f"  {line}")
    return 0
