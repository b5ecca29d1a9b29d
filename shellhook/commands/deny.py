"""``shellhook deny [DIR]``: never activate DIR's project venv automatically."""

from __future__ import annotations

import argparse

from shellhook.commands.common import directory, resolve
from shellhook.daemon.fallback import nudge
from shellhook.display import path_for_terminal
from shellhook.trust import TrustStore

HELP = "never auto-activate DIR's project venv (default: here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    """Deny DIR's project (by path: survives edits, beats allow)."""
    where = directory(args.dir)
    res = resolve(where)
    project = res.project if res.project else where
    TrustStore().deny(project)
    print(f"shellhook: denied {path_for_terminal(project)}")
    nudge()
    return 0
