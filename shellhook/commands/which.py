"""``shellhook which [DIR]``: the venv for DIR, the rule that chose it, whether it activates."""

from __future__ import annotations

import argparse

from shellhook.commands.common import directory, resolve, say
from shellhook.display import for_terminal, path_for_terminal
from shellhook.policy import Context, judge
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

HELP = "print the venv for DIR and the rule that chose it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    """Print the venv for DIR (default: here); exit 1 when there is none."""
    where = directory(args.dir)
    ctx = Context(Resolver(), TrustStore())
    res = resolve(where, ctx.resolver)
    if not res.found:
        say(f"shellhook: no venv for {path_for_terminal(where)}")
        return 1
    target = judge(res, ctx)
    print(for_terminal(res.venv or ""))
    print(f"  rule: {for_terminal(res.detail)} in {path_for_terminal(res.project or '')}")
    state = "activates automatically" if target.usable else (target.warning or "")
    print(f"  {for_terminal(state.removeprefix('shellhook: '))}")
    return 0
