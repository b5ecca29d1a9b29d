"""``shellhook init SHELL``: print the hook for a shell.

``eval "$(shellhook init bash)"`` runs this at every shell start: ``shellhook.cli`` calls
``print_hook`` without building its parser (which imports argparse and every command), and
it imports nothing but the adapters.
"""

from __future__ import annotations

import os
import sys

from shellhook import adapters

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

HELP = "print the hook for a shell (eval it in your rc file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``SHELL``, one of the adapter registry's names."""
    parser.add_argument("shell", choices=adapters.SHELLS)


def run(args: argparse.Namespace) -> int:
    """Print the hook for ``args.shell``."""
    return print_hook(args.shell)


def print_hook(shell: str) -> int:
    """Print the hook for ``shell``, fixed to this interpreter (``shellhook.cli`` calls
    this one directly: no parser at shell start)."""
    # Not realpath: a venv's python is a symlink to a base interpreter without shellhook.
    sys.stdout.write(adapters.get(shell).init_text(os.path.abspath(sys.executable)))
    return 0
