"""``shellhook init SHELL``: print the hook for a shell.

``eval "$(shellhook init bash)"`` runs this at every shell start: ``shellhook.cli`` runs
it without building its parser (which imports every command), and it imports nothing but
the adapters.
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
    """Print the hook for ``args.shell``, fixed to this interpreter."""
    # Not realpath: a venv's python is a symlink to a base interpreter without shellhook.
    sys.stdout.write(adapters.get(args.shell).init_text(os.path.abspath(sys.executable)))
    return 0
