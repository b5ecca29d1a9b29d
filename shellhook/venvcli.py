"""The venv-management subcommands: workon, mkvenv, rmvenv, lsvenv (issue 4)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``shellhook`` parser."""
