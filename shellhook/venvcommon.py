"""What the venv commands (workon, mkvenv, rmvenv, lsvenv) share: one-line errors and
their exit statuses, and small facts about named venvs and the calling shell."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

from shellhook import locations, venvnames
from shellhook.display import for_terminal, path_for_terminal
from shellhook.resolver import is_venv_dir, parse_pointer, read_small_file


class VenvCommandError(Exception):
    """A problem reported as one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say(text: str) -> None:
    """One line on stderr, at once (before a tool's output)."""
    print(text, file=sys.stderr, flush=True)


def _exit_status(exc: Exception) -> int | None:
    """The exit status for an expected failure, None for a bug (a traceback)."""
    if isinstance(exc, venvnames.InvalidName):
        return 2
    if isinstance(exc, VenvCommandError):
        return exc.code
    # interpreters and venvmake are imported by mkvenv and rmvenv only (start-up time)
    found = sys.modules.get("shellhook.interpreters")
    if found is not None and isinstance(exc, found.SpecifierError):
        return 2
    if found is not None and isinstance(exc, found.NoInterpreter):
        return 1
    found = sys.modules.get("shellhook.venvmake")
    if found is not None and isinstance(exc, (found.VenvExists, found.BuildFailed)):
        return 1
    return None


def one_line_errors(func: Callable[[argparse.Namespace], int]):
    """Turn the expected failures of a command into one line on stderr and a status."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except Exception as exc:
            status = _exit_status(exc)
            if status is None:
                raise
            say(f"shellhook: {exc}")
            return status

    return wrapper


def workon_home() -> str:
    """``$WORKON_HOME`` (default ``~/.virtualenvs``) as a string."""
    return str(locations.workon_home())


def linked_project(venv: str) -> str | None:
    """The project directory named by ``venv/.project`` (virtualenvwrapper), if any."""
    try:
        target = parse_pointer(read_small_file(os.path.join(venv, ".project")))
    except (OSError, ValueError):
        return None
    return target if os.path.isabs(target) and os.path.isdir(target) else None


def is_active(venv_real: str, env: dict[str, str] | None = None) -> bool:
    """True when ``$VIRTUAL_ENV`` is the venv at ``venv_real`` (a realpath)."""
    active = (os.environ if env is None else env).get("VIRTUAL_ENV", "")
    return bool(active) and os.path.realpath(active) == venv_real


def no_shell_note(what: str) -> None:
    """Say that no shell can be changed (run from a script), and what to do instead."""
    say(f"shellhook: no shell to change (not run through the shellhook hook); {what}")


def named_venv(name: str) -> str:
    """``$WORKON_HOME/NAME`` for a valid name of an existing venv (realpath)."""
    venvnames.check_name(name)
    home = workon_home()
    venv = os.path.join(home, name)
    if not is_venv_dir(venv):
        raise VenvCommandError(
            f"no venv named '{for_terminal(name)}' in "
            f"{path_for_terminal(home)} (list them with: workon)"
        )
    return os.path.realpath(venv)
