"""``shellhook run [-C DIR] -- CMD [ARGS...]``: run a command in the venv of a directory,
without activating anything in the calling shell (``direnv exec``, ``mise exec``, xonsh's
``vox runin``).

The venv is the one the directory resolves to, under the same trust rules as an
automatic activation (DESIGN §5): an untrusted, denied, refused or broken venv is not
used, and the refusal names the fix (the ``shellhook allow`` line). The command gets the
environment activation gives a shell (DESIGN §3): ``VIRTUAL_ENV``,
``VIRTUAL_ENV_PROMPT``, the venv's ``bin`` first on ``PATH`` exactly once (any other
active venv's ``bin`` taken off), ``PYTHONHOME`` unset; then shellhook *becomes* the
command (``exec``), so its exit status, signals and terminal are the command's own.
Nothing is printed on success: it is made for scripts, cron jobs and CI.

Exit status: the command's; 125 when shellhook refuses (no venv, not trusted, broken),
126 when the command cannot be executed, 127 when it is not found (as ``env``,
``timeout`` and ``nice`` do); 2 for a usage error, as every command.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping

from shellhook.commands.common import directory
from shellhook.display import for_terminal, path_for_command, path_for_terminal
from shellhook.errors import ShellhookError, UsageError
from shellhook.policy import Context, judge
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

HELP = "run CMD in the venv of DIR (default: here) without activating it (scripts, cron, CI)"

REFUSED = 125
CANNOT_EXECUTE = 126
NOT_FOUND = 127


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[-C DIR] -- CMD [ARGS...]``."""
    parser.add_argument(
        "-C",
        "--directory",
        metavar="DIR",
        help="use DIR's venv and run CMD in DIR (default: the current directory)",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD [ARGS...]",
        help="the command and its arguments (after --, so its options stay its own)",
    )


def environment(venv: str, name: str, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as activating ``venv`` (prompt name ``name``) in a shell would leave it.

    The bin of a venv active in ``env`` (``$VIRTUAL_ENV``, or ours in ``$SHELLHOOK_VENV``)
    leaves PATH, as its deactivate would; ``PYTHONHOME`` is unset and kept in
    ``SHELLHOOK_PYTHONHOME``, where a shell started by the command (``shellhook run --
    bash``) finds it again at ``deactivate``, as the hooks do.
    """
    out = dict(env)
    bin_dir = os.path.join(venv, "bin")
    drop = {bin_dir}
    for active in (out.pop("VIRTUAL_ENV", ""), out.pop("SHELLHOOK_VENV", "")):
        if active:
            drop.add(os.path.join(active, "bin"))
    path = out.get("PATH", os.defpath)
    kept = [e for e in path.split(os.pathsep) if e not in drop] if path else []
    out["PATH"] = os.pathsep.join([bin_dir, *kept])
    out["VIRTUAL_ENV"] = venv
    out["VIRTUAL_ENV_PROMPT"] = name
    if "PYTHONHOME" in out:
        out["SHELLHOOK_PYTHONHOME"] = out.pop("PYTHONHOME")
    return out


def usable_venv(where: str) -> tuple[str, str]:
    """The venv ``where`` resolves to and its prompt name, when it may be activated
    automatically; else a ShellhookError (exit status 125) saying why and what fixes it."""
    ctx = Context(Resolver(), TrustStore())
    res = ctx.resolver.resolve(where)
    if res.problem:
        raise ShellhookError(f"{path_for_terminal(res.problem)}; nothing was run", REFUSED)
    if not res.found or res.venv is None:
        raise ShellhookError(
            f"no venv for {path_for_terminal(where)} (make one with: mkvenv); nothing was run",
            REFUSED,
        )
    target = judge(res, ctx)
    if not target.usable:
        assert res.project is not None
        # A denied venv is silent in a shell (deny is for silence); here it must say why.
        reason = (target.warning or "").removeprefix("shellhook: ") or (
            f"{path_for_terminal(res.venv)} is denied (undo with: shellhook forget "
            f"{path_for_command(res.project)})"
        )
        raise ShellhookError(f"{reason}; nothing was run", REFUSED)
    return res.venv, target.name


def run(args: argparse.Namespace) -> int:
    """Exec the command in DIR's venv; returns only when it could not be run."""
    argv = list(args.command)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise UsageError("no command to run (usage: shellhook run [-C DIR] -- CMD [ARGS...])")
    try:
        where = directory(args.directory)
    except ShellhookError as exc:
        raise ShellhookError(f"{exc}; nothing was run", REFUSED) from None
    venv, name = usable_venv(where)
    env = environment(venv, name, os.environ)
    if args.directory is not None:
        os.chdir(where)
        env["PWD"] = where
    # Python ignores SIGPIPE and SIGXFSZ; an exec'd program must get the defaults back
    # (`shellhook run -- yes | head` ends quietly, as without shellhook).
    for sig in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, sig):
            signal.signal(getattr(signal, sig), signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        raise ShellhookError(
            f"{for_terminal(argv[0])}: command not found (in {path_for_terminal(venv)}/bin "
            "or on PATH)",
            NOT_FOUND,
        ) from None
    except OSError as exc:
        raise ShellhookError(
            f"{for_terminal(argv[0])}: cannot execute ({exc.strerror})", CANNOT_EXECUTE
        ) from None
    return 0  # not reached: exec does not return
