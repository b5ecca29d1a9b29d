"""``mkvenv``: create a project's venv (or a named one linked to the project), trust it,
activate it.

The new venv is activated as the project's venv (op ``A``, as if auto-activated), not as
a manual one: it is exactly what the resolver finds for this directory and it is
trusted, so this is what the daemon would do at the next prompt anyway; leaving the
project deactivates it, coming back activates it. A named venv made outside any project
(``mkvenv NAME`` in ``~``) is linked to no directory and is activated like ``workon``.
See docs/venv-commands.md for the interpreter, tool and pip choices.
"""

from __future__ import annotations

import argparse
import os
import shutil

from shellhook import interpreters, protocol, venvinfo, venvmake, venvnames
from shellhook.commands import shellops
from shellhook.commands.common import (
    no_shell_note,
    say,
    workon_home,
)
from shellhook.display import for_terminal, path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import logical_cwd
from shellhook.policy import Context, activation_ops, judge, within
from shellhook.resolver import Resolver, is_venv_dir, read_pointer
from shellhook.tools import poetry
from shellhook.trust import TrustStore, TrustStoreError

HELP = (
    "create the project's .venv (or $WORKON_HOME/NAME, linked to the project), "
    "activate it and trust it"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mkvenv``."""
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument(
        "-p",
        "--python",
        metavar="PYTHON",
        help="a version (3.12, >=3.10), a command or a path; default: "
        ".python-version, requires-python, else python3",
    )
    parser.add_argument(
        "-r",
        "--requirements",
        action="append",
        default=[],
        metavar="FILE",
        help="install from a requirements file (repeatable)",
    )
    parser.add_argument(
        "-i", "--install", action="store_true", help="install the project itself (pip install -e .)"
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="recreate the venv if it exists (replaced only once the new one works)",
    )
    pip = parser.add_mutually_exclusive_group()
    pip.add_argument(
        "--with-pip",
        dest="with_pip",
        action="store_true",
        default=True,
        help="install pip into the venv (the default)",
    )
    pip.add_argument(
        "--without-pip",
        dest="with_pip",
        action="store_false",
        help="no pip in the venv (install with uv pip, or python -m ensurepip later)",
    )
    parser.add_argument(
        "--no-uv", action="store_true", help="use python -m venv even if uv is on PATH"
    )


def _check_pointer_slot(root: str, name: str, force: bool) -> None:
    """May ``root/.venv`` become a pointer to ``name``? Raise ShellhookError if not."""
    pointer = os.path.join(root, ".venv")
    if not os.path.lexists(pointer):
        return
    if os.path.isdir(pointer) and not os.path.islink(pointer):
        raise ShellhookError(
            f"{path_for_terminal(pointer)} is a directory; not linking "
            f"{path_for_terminal(root)} to '{name}' (remove it with: rmvenv, "
            "or run mkvenv without NAME)"
        )
    try:
        _, current = read_pointer(pointer)
    except (OSError, ValueError):
        current = None
    if current != name and not force:
        shown = f"'{for_terminal(current)}'" if current else "something else"
        raise ShellhookError(
            f"{path_for_terminal(pointer)} already points to {shown} (use --force to relink)"
        )


def _choose_interpreter(
    wanted: interpreters.Request | None, cwd: str, root: str | None, uv: str | None
):
    """The interpreter for this mkvenv (``-p``, else what the project asks for, else the
    default), the request it answers, and the requires-python to check it against."""
    project = interpreters.project_python(cwd, root or cwd)
    for warning in project.warnings:
        say(f"shellhook: warning: {warning}")
    request = wanted or project.request or interpreters.DEFAULT
    finder = interpreters.Finder.from_environment(uv=uv)
    return finder.find(request), request, project.requires


def _check_version(
    venv: str, request: interpreters.Request, requires: interpreters.Request | None
) -> None:
    """Warn when the venv's Python does not match what was asked for."""
    try:
        version = interpreters.parse_version(venvinfo.python_version(venvinfo.read_cfg(venv)))
    except (OSError, interpreters.SpecifierError):
        return
    shown = ".".join(map(str, version))
    for req in (request, requires):
        if req is None or req.kind not in ("version", "spec"):
            continue
        ok = (
            version[: len(req.prefix)] == req.prefix
            if req.kind == "version"
            else interpreters.satisfies(req.clauses, version)
        )
        if not ok:
            say(
                f"shellhook: warning: the venv has Python {shown}, "
                f"not {for_terminal(req.describe())}"
            )


def _activation_ops(cwd: str, target: str, named: bool) -> tuple[shellops.Ops, str]:
    """What the shell does with the new venv: ``A`` if it is this directory's venv."""
    real = os.path.realpath(target)
    ctx = Context(Resolver(), TrustStore())
    res = ctx.resolver.resolve(cwd)
    ops = shellops.leave_current()
    if res.found and res.venv == real:
        found = judge(res, ctx)
        if found.usable:
            assert res.project is not None
            ops.append((protocol.OP_SUPPRESS, ""))
            ops += activation_ops(protocol.OP_ACTIVATE, real, res.project, found.name)
            return ops, found.name
        if found.warning:
            ops.append((protocol.OP_WARN, found.warning))
    project = "" if named else os.path.dirname(real)
    name = venvinfo.display_name(real)
    return ops + activation_ops(protocol.OP_MANUAL, real, project, name), name


def _target(cwd: str, root: str | None, name: str | None, force: bool, pointer: bool) -> str:
    """Where the venv goes: ``root/.venv``, or ``$WORKON_HOME/NAME`` (checked: nothing
    there that ``--force`` may not replace, nothing that blocks the project's pointer,
    when ``pointer`` says it gets one)."""
    store = os.path.realpath(workon_home())
    if root is not None and (is_venv_dir(root) or within(os.path.realpath(root), store)):
        raise ShellhookError(
            f"{path_for_terminal(root)} is a venv or inside $WORKON_HOME, not a project"
        )
    if name is None:
        if root is None:
            raise ShellhookError(
                f"{path_for_terminal(cwd)} is not a project (home and / never are): cd into "
                "a project, or give a NAME to make one in $WORKON_HOME"
            )
        target = os.path.join(root, ".venv")
    else:
        target = os.path.join(workon_home(), name)
        if root is not None and pointer:
            _check_pointer_slot(root, name, force)
    if ":" in target:
        raise ShellhookError(
            f"{path_for_terminal(target)} has a ':' in its path, so its "
            "bin cannot go on PATH (':' separates PATH entries)"
        )
    if os.path.lexists(target):
        if not force:
            hint = f"workon {name} to use it, " if name else ""
            raise ShellhookError(
                f"{path_for_terminal(target)} already exists ({hint}--force to recreate it)"
            )
        if not venvmake.replaceable(target):
            raise ShellhookError(
                f"{path_for_terminal(target)} is not a venv; not replacing it (remove it yourself)"
            )
    return target


def _note(text: str) -> None:
    say(f"shellhook: {text}")


def _pip_text(built: venvmake.Built) -> str:
    """Whether the new venv has pip, for the created line (a bare ``pip`` in a venv
    without one would reach the user's or the system's pip)."""
    if built.pip is None:
        return "without pip: install with uv pip, or run python -m ensurepip first"
    return f"with pip {built.pip}" if built.pip else "with pip"


def run(args: argparse.Namespace) -> int:
    """Create the project's .venv (or $WORKON_HOME/NAME linked to the project), activate it."""
    name = venvnames.check_name(args.name) if args.name is not None else None
    wanted = interpreters.parse_request(args.python, "-p") if args.python else None
    cwd = logical_cwd()
    root = venvmake.find_project_root(cwd, os.path.expanduser("~"))
    requirements = []
    for req in args.requirements:
        path = os.path.abspath(os.path.expanduser(req))
        if not os.path.isfile(path):
            raise ShellhookError(f"no such requirements file: {path_for_terminal(path)}")
        requirements.append(path)
    if args.install and root is None:
        raise ShellhookError("--install needs a project: cd into it first")
    # poetry deletes a .venv pointer file: there the named venv's .project link finds it.
    poetry_root = bool(name and root and poetry.is_project(root))
    target = _target(cwd, root, name, args.force, pointer=not poetry_root)
    uv = None if args.no_uv else shutil.which("uv")
    interpreter, request, requires = _choose_interpreter(wanted, cwd, root, uv)
    with_pip = bool(args.with_pip)
    if (requirements or args.install) and uv is None and not with_pip:
        raise ShellhookError("-r and --install need pip (or uv): drop --without-pip")
    tool = venvmake.UV if uv else venvmake.VENV
    say(
        f"shellhook: creating {path_for_terminal(target)} from {interpreter.describe()} "
        f"with {tool}{', with pip' if with_pip else ', without pip'}"
    )
    plan = venvmake.Plan(
        target=target,
        interpreter=interpreter,
        uv=uv,
        with_pip=with_pip,
        requirements=tuple(requirements),
        install_project=root if args.install else None,
        project_link=root if name and root else None,
        replace=args.force,
        workdir=root or cwd,
        in_process=venvmake.same_interpreter(interpreter.path),
    )
    pointer: list[bytes] = []
    relink = root is not None and os.path.lexists(os.path.join(root, ".venv"))

    def link_project() -> None:
        if name and root and not poetry_root:  # no-clobber unless checked above
            pointer.append(venvmake.write_pointer(root, name, replace=relink))

    try:
        built = venvmake.build(plan, after_commit=link_project, note=_note)
    except KeyboardInterrupt:
        say("shellhook: interrupted; nothing was created")
        return 130
    _check_version(target, request, requires)
    if root is not None:
        try:
            TrustStore().allow(root, target, pointer[0] if pointer else None)
        except TrustStoreError as exc:
            say(f"shellhook: warning: {for_terminal(str(exc))}")
    ops, label = _activation_ops(cwd, target, named=name is not None)
    done = f"shellhook: created {path_for_terminal(target)} ({_pip_text(built)})"
    if pointer:
        done += f", linked from {path_for_terminal(os.path.join(root or '', '.venv'))}"
    elif poetry_root:
        done += (
            f", linked to {path_for_terminal(root or '')} by its .project file (a poetry "
            "project: no .venv pointer, poetry would delete it)"
        )
    shell = shellops.link()
    if shell is None:
        say(done)
        no_shell_note(f"activate it with: . {path_for_terminal(target)}/bin/activate")
        return 0
    ops.append((protocol.OP_INFO, f"{done}; activated {path_for_terminal(label)}"))
    shellops.send(shell, ops)
    return 0
