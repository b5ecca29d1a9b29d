"""``shellhook deny [DIR]``: never activate DIR's project venv automatically."""

from __future__ import annotations

import argparse

from shellhook.commands.common import directory
from shellhook.daemon.fallback import nudge
from shellhook.display import path_for_command
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

HELP = "never auto-activate DIR's project venv, nor mention it (default: here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    """Deny DIR's project (by path: survives edits, beats allow)."""
    where = directory(args.dir)
    res = Resolver().resolve(where)  # a broken pointer file can be denied too
    project = res.project if res.project else where
    TrustStore().deny(project)
    shown = path_for_command(project)
    print(
        f"shellhook: denied {shown}: its venv stays off and silent (undo: shellhook forget {shown})"
    )
    nudge()
    return 0
