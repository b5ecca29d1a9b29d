"""The venv-management subcommands: workon, mkvenv, rmvenv, lsvenv (the argument parsers).

Each command lives in its own module (``shellhook.workon``, ``.mkvenv``, ``.rmvenv``,
``.lsvenv``), imported only when that command runs, so the other subcommands start as
fast as before. Run through the hook's shell functions they change the calling shell
by leaving a reply frame (``shellops``); run from a script they only do the file-system
part and say what a shell would do. Behaviour: docs/venv-commands.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from shellhook.display import for_terminal


def _command(name: str):
    """``func`` for a subcommand whose module is imported when it runs."""

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"shellhook.{name}"), f"cmd_{name}")(args)

    return run


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (exit 2), also for unknown options after the command."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error("unrecognized arguments: " + " ".join(extras))
        return namespace, extras

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {for_terminal(message)} (see: {self.prog} --help)\n")
        sys.exit(2)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``shellhook`` parser."""
    # argparse has no public way to pick the class of one subparser; without it an
    # unknown option (``workon -p``) would be reported by the top parser in two lines.
    original = sub._parser_class
    sub._parser_class = _OneLineParser
    try:
        _add_parsers(sub)
    finally:
        sub._parser_class = original


def _add_parsers(sub: argparse._SubParsersAction) -> None:
    text = "list the venvs in $WORKON_HOME, or activate NAME (and cd to its project)"
    p = sub.add_parser("workon", help=text, description=text)
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument(
        "-n", "--no-cd", action="store_true", help="do not cd to the venv's project (.project file)"
    )
    p.set_defaults(func=_command("workon"))

    text = (
        "create the project's .venv (or $WORKON_HOME/NAME, linked to the project), "
        "activate it and trust it"
    )
    p = sub.add_parser("mkvenv", help=text, description=text)
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument(
        "-p",
        "--python",
        metavar="PYTHON",
        help="a version (3.12, >=3.10), a command or a path; default: "
        ".python-version, requires-python, else python3",
    )
    p.add_argument(
        "-r",
        "--requirements",
        action="append",
        default=[],
        metavar="FILE",
        help="install from a requirements file (repeatable)",
    )
    p.add_argument(
        "-i", "--install", action="store_true", help="install the project itself (pip install -e .)"
    )
    p.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="recreate the venv if it exists (replaced only once the new one works)",
    )
    pip = p.add_mutually_exclusive_group()
    pip.add_argument(
        "--with-pip",
        dest="with_pip",
        action="store_true",
        default=None,
        help="install pip into the venv (default without uv)",
    )
    pip.add_argument(
        "--without-pip",
        dest="with_pip",
        action="store_false",
        help="no pip in the venv (default with uv: use uv pip)",
    )
    p.add_argument("--no-uv", action="store_true", help="use python -m venv even if uv is on PATH")
    p.set_defaults(func=_command("mkvenv"))

    text = "remove a named venv, or this project's venv (asks first)"
    p = sub.add_parser("rmvenv", help=text, description=text)
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.set_defaults(func=_command("rmvenv"))

    text = "list named venvs and the project venvs shellhook knows (active one marked *)"
    p = sub.add_parser("lsvenv", help=text, description=text)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_command("lsvenv"))
