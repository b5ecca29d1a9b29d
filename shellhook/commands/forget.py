"""``shellhook forget [DIR]``: remove the allow or deny of DIR's project."""

from __future__ import annotations

import argparse
import os

from shellhook.daemon.fallback import nudge
from shellhook.display import path_for_command
from shellhook.errors import ShellhookError
from shellhook.files import logical_cwd
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

HELP = "remove the allow or deny of DIR's project (default: here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def candidates(where: str) -> list[str]:
    """Where a record for ``where`` may be: its project's, then ``where`` and each
    directory above it (a deny of a directory that has no venv any more)."""
    found = []
    if os.path.isdir(where):
        project = Resolver().resolve(where).project
        if project is not None:
            found.append(project)
    directory = where
    while True:
        found.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return list(dict.fromkeys(found))
        directory = parent


def run(args: argparse.Namespace) -> int:
    """Forget the nearest record for DIR (which need not exist any more)."""
    where = logical_cwd() if args.dir is None else os.path.abspath(os.path.expanduser(args.dir))
    store = TrustStore()
    for project in candidates(where):
        removed = store.forget(project)
        if removed:
            what = " and the ".join(removed)
            print(f"shellhook: forgot the {what} of {path_for_command(project)}")
            nudge()
            return 0
    raise ShellhookError(f"nothing to forget: no allow or deny for {path_for_command(where)}")
