"""``shellhook allow [DIR]``: trust the venv of DIR's project."""

from __future__ import annotations

import argparse

from shellhook.commands.common import directory, resolve
from shellhook.daemon.fallback import nudge
from shellhook.display import path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.trust import TrustStore

HELP = "trust the venv of DIR's project (default: here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]``."""
    parser.add_argument("dir", nargs="?", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    """Allow the venv DIR resolves to, bound to its project, venv and pointer content."""
    where = directory(args.dir)
    res = resolve(where)
    if not res.found:
        raise ShellhookError(f"no venv for {path_for_terminal(where)}; nothing to allow")
    assert res.venv and res.project
    TrustStore().allow(res.project, res.venv, res.pointer)
    print(f"shellhook: allowed {path_for_terminal(res.venv)} for {path_for_terminal(res.project)}")
    nudge()
    return 0
