"""What the commands share: the directory a command is about, one-line notes, and small
facts about named venvs and the calling shell."""

from __future__ import annotations

import os
import sys

from shellhook import locations, venvnames
from shellhook.display import for_terminal, path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import logical_cwd, read_small_file
from shellhook.resolver import Resolution, Resolver, is_venv_dir, parse_pointer


def say(text: str) -> None:
    """One line on stderr, at once (before a tool's output)."""
    print(text, file=sys.stderr, flush=True)


def directory(arg: str | None) -> str:
    """The directory a command is about: ARG (which must exist), or the logical cwd."""
    if arg is None:
        return logical_cwd()
    path = os.path.abspath(os.path.expanduser(arg))
    if not os.path.isdir(path):
        raise ShellhookError(f"not a directory: {path_for_terminal(path)}")
    return path


def resolve(where: str, resolver: Resolver | None = None) -> Resolution:
    """What ``where`` resolves to; a venv declared there that cannot be used (a broken
    pointer file, say) is an error."""
    res = (resolver or Resolver()).resolve(where)
    if res.problem:
        raise ShellhookError(res.problem)
    return res


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
        raise ShellhookError(
            f"no venv named '{for_terminal(name)}' in "
            f"{path_for_terminal(home)} (list them with: workon)"
        )
    return os.path.realpath(venv)
