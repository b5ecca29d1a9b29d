"""``rmvenv``: remove a named venv or the current project's venv, after a y/N question.

The venv is deactivated first when it is the active one, disappears with one rename
before it is deleted, and pointer files that named it go with it (they would dangle),
as does the allow record that bound it (never a deny record). A symlink is removed as a
link, never what it points to.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from shellhook import protocol, venvmake
from shellhook.commands import shellops
from shellhook.commands.common import (
    is_active,
    linked_project,
    named_venv,
    no_shell_note,
    say,
    workon_home,
)
from shellhook.display import path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import logical_cwd
from shellhook.resolver import (
    RULE_DOT_VENV,
    RULE_POINTER,
    RULE_VENV,
    Resolution,
    Resolver,
    is_venv_dir,
    parse_pointer,
    pointer_target,
    read_pointer,
)
from shellhook.trust import TrustStore, TrustStoreError

HELP = "remove a named venv, or this project's venv (asks first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rmvenv``."""
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask")


def _pointer_target(pointer_path: str, workon_home: str) -> str | None:
    """The venv a pointer file names (realpath), or None."""
    try:
        _, target = read_pointer(pointer_path)
        venv, _ = pointer_target(os.path.dirname(pointer_path), target, workon_home)
    except (OSError, ValueError):
        return None
    return os.path.realpath(venv)


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


def _forget_trust(project: str, venv: str) -> None:
    """Drop the allow record that named ``venv`` (never a deny record)."""
    store = TrustStore()
    try:
        if store.is_denied(project):
            return
        record = store.allowed_record(project)
        if record is not None and record.get("venv") == venv:
            store.forget(project)
    except TrustStoreError:
        pass


def _entry_of(res: Resolution, home: str) -> str:
    """The directory entry holding the venv ``res`` found (not resolved: a symlink there
    is removed as a link, never what it points to)."""
    assert res.venv is not None and res.project is not None
    if res.rule == RULE_POINTER and res.pointer is not None:
        return pointer_target(res.project, parse_pointer(res.pointer), home)[0]
    if res.rule in (RULE_DOT_VENV, RULE_VENV):
        return os.path.join(res.project, res.rule)
    for parent in (res.project, home):  # a fancy-named child, or a .project link
        with contextlib.suppress(OSError), os.scandir(parent) as it:
            for entry in it:
                if os.path.realpath(entry.path) == res.venv:
                    return entry.path
    return res.venv


def run(args: argparse.Namespace) -> int:
    """Remove a named venv or this project's venv (after a y/N question)."""
    home = workon_home()
    pointers: list[str] = []
    if args.name is not None:
        entry = os.path.join(home, args.name)
        project = linked_project(named_venv(args.name))
    else:
        cwd = logical_cwd()
        res = Resolver().resolve(cwd)
        if res.problem and res.pointer_path and not res.found:
            return _remove_dangling_pointer(res.pointer_path, res.problem, args.yes)
        if not res.found:
            raise ShellhookError(f"no venv for {path_for_terminal(cwd)}")
        entry, project = _entry_of(res, home), res.project
        if res.pointer_path:
            pointers.append(res.pointer_path)
    venv = os.path.realpath(entry)
    protected = {"/", os.path.realpath(home), os.path.realpath(os.path.expanduser("~"))}
    if not is_venv_dir(entry) or venv in protected or entry in protected:
        raise ShellhookError(f"{path_for_terminal(entry)} is not a venv; not removing it")
    if project:
        candidate = os.path.join(project, ".venv")
        if (
            candidate not in pointers
            and os.path.isfile(candidate)
            and not os.path.islink(candidate)
        ):
            pointers.append(candidate)
    pointers = [p for p in pointers if _pointer_target(p, home) == venv]
    link = os.path.islink(entry)
    what = (
        f"the link {path_for_terminal(entry)} (its venv {path_for_terminal(venv)} stays)"
        if link
        else f"venv {path_for_terminal(entry)}"
    )
    if not _confirm(f"Remove {what}?", args.yes):
        say("shellhook: not removed")
        return 1
    ops: protocol.Ops = []
    if is_active(venv):
        ops = shellops.leave_current()
    if link:
        os.unlink(entry)
    else:
        venvmake.remove_tree(entry)
    for pointer in pointers:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(pointer)
    if project:
        _forget_trust(project, venv)
    done = f"shellhook: removed {what.split(' (')[0]}"
    if pointers:
        done += " and " + ", ".join(path_for_terminal(p) for p in pointers)
    say(done)
    shell = shellops.link()
    if ops and shell is None:
        no_shell_note("it was active: run deactivate")
    elif shell is not None:
        shellops.send(shell, ops)
    return 0


def _remove_dangling_pointer(pointer: str, problem: str, assume_yes: bool) -> int:
    """``rmvenv`` where a pointer names a venv that is gone: offer to remove the pointer."""
    say(f"shellhook: {path_for_terminal(problem)}")
    if not _confirm(f"Remove the pointer file {path_for_terminal(pointer)}?", assume_yes):
        say("shellhook: not removed")
        return 1
    os.unlink(pointer)
    say(f"shellhook: removed {path_for_terminal(pointer)}")
    return 0
