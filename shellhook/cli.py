"""The ``shellhook`` command line: a parser built from ``shellhook.commands.NAMES``, and
one place where expected failures become one line and an exit status.

``shellhook init SHELL`` runs at every shell start (``eval "$(shellhook init bash)"``):
it takes a path that imports neither argparse nor the display module (their ``re`` and
``enum`` would be most of its time), and no command but init."""

from __future__ import annotations

import sys

from shellhook import __version__, commands
from shellhook.errors import ShellhookError

TYPE_CHECKING = False  # typing stays out of `shellhook init` (at every shell start)
if TYPE_CHECKING:
    import argparse


def _one_line_parser_class() -> type[argparse.ArgumentParser]:
    """The parser class whose usage errors are one line and exit status 2, for every
    command alike (made on demand: argparse stays out of `shellhook init`)."""
    import argparse
    from typing import NoReturn

    from shellhook.display import for_terminal

    class OneLineParser(argparse.ArgumentParser):
        def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
            """Unknown options are errors here, not left to the top-level parser."""
            namespace, extras = super().parse_known_args(args, namespace)
            if extras:
                self.error("unrecognized arguments: " + " ".join(extras))
            return namespace, extras

        def error(self, message: str) -> NoReturn:
            """``PROG: error: MESSAGE (see: PROG --help)`` on stderr, exit 2."""
            sys.stderr.write(
                f"{self.prog}: error: {for_terminal(message)} (see: {self.prog} --help)\n"
            )
            sys.exit(2)

    return OneLineParser


def build_parser(only: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The argument parser for every command, or for the commands in ``only``.

    Each command's module is imported to add its arguments; parsing one command's
    arguments needs no other module, so ``main`` imports only that one (start-up time:
    the venv commands run on every ``workon`` typed, DESIGN §8).
    """
    import importlib

    one_line_parser = _one_line_parser_class()
    parser = one_line_parser(
        prog="shellhook",
        description="Activate the right Python venv as you cd, in bash, zsh, fish and xonsh.",
    )
    parser.add_argument("--version", action="version", version=f"shellhook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=one_line_parser)
    sub.required = True
    for name in commands.NAMES:
        if only is not None and name not in only:
            continue
        module = importlib.import_module(f"shellhook.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def _needed(argv: list[str]) -> tuple[str, ...] | None:
    """The commands whose modules parsing ``argv`` needs: the one it names, none for
    ``--version``, else all of them (``--help``, a mistyped command)."""
    if argv and argv[0] in commands.NAMES:
        return (argv[0],)
    if argv[:1] == ["--version"]:
        return ()
    return None


def _init_shell(argv: list[str]) -> str | None:
    """The shell of ``init SHELL``, parsed without the parser (which imports argparse and
    every command): it runs at every shell start. None for anything else."""
    if len(argv) != 2 or argv[0] != "init":
        return None
    from shellhook import adapters

    return argv[1] if argv[1] in adapters.REGISTRY else None  # else the parser says why


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command, turning every expected failure into one line on stderr."""
    argv = sys.argv[1:] if argv is None else argv
    shell = _init_shell(argv)
    args = None if shell is not None else build_parser(_needed(argv)).parse_args(argv)
    try:
        if args is None:
            from shellhook.commands import init

            return init.print_hook(str(shell))
        return int(args.run(args))
    except (ShellhookError, OSError) as exc:
        from shellhook.display import for_terminal

        # Messages may hold names escaped already (path_for_terminal): not escaped twice.
        print(f"shellhook: {for_terminal(str(exc), keep_backslashes=True)}", file=sys.stderr)
        return exc.code if isinstance(exc, ShellhookError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
