"""``shellhook status``: the daemon, the active venv, what this directory resolves to."""

from __future__ import annotations

import argparse
import os

from shellhook import locations
from shellhook.daemon import control
from shellhook.display import for_terminal, path_for_terminal
from shellhook.files import logical_cwd
from shellhook.policy import Context, judge
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

HELP = "show the daemon, the active venv and this directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def daemon_workon_home(pid: int) -> str | None:
    """The ``$WORKON_HOME`` the daemon ``pid`` was started with (its default when it
    had none), read from ``/proc``; None where that cannot be read (not Linux)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read(1 << 20)
    except OSError:
        return None
    env = dict(item.split(b"=", 1) for item in data.split(b"\0") if b"=" in item)
    value = os.fsdecode(env.get(b"WORKON_HOME", b"")).strip()
    home = os.fsdecode(env.get(b"HOME", b"")) or os.path.expanduser("~")
    if not value:
        return os.path.join(home, ".virtualenvs")
    return home + value[1:] if value == "~" or value.startswith("~/") else value


def run(args: argparse.Namespace) -> int:
    """Print one line per fact."""
    st = control.status()
    pid = f" (pid {st.pid})" if st.pid else ""
    print(f"daemon:      {st.state}{pid}, {path_for_terminal(st.rundir)}")
    venv = os.environ.get("VIRTUAL_ENV", "")
    owner = "auto (shellhook)" if venv and venv == os.environ.get("SHELLHOOK_VENV") else "manual"
    print(f"active:      {path_for_terminal(venv) + ' [' + owner + ']' if venv else 'none'}")
    ctx = Context(Resolver(), TrustStore())
    ctx.reload_config()
    res = ctx.resolver.resolve(logical_cwd())
    if res.found:
        target = judge(res, ctx)
        verdict = "trusted" if target.usable else (target.warning or "").removeprefix("shellhook: ")
        print(
            f"here:        {path_for_terminal(res.venv or '')} ({for_terminal(res.detail)}); "
            f"{for_terminal(verdict)}"
        )
    else:
        print(f"here:        {for_terminal(res.problem) if res.problem else 'no venv'}")
    print(f"WORKON_HOME: {path_for_terminal(ctx.resolver.workon_home)}")
    if st.pid:
        theirs = daemon_workon_home(st.pid)
        if theirs is not None and theirs != ctx.resolver.workon_home:
            print(
                f"             the daemon's is {path_for_terminal(theirs)} (it answers "
                "every shell with it; to use this one: shellhook daemon restart)"
            )
    config = locations.config_file()
    print(f"config:      {path_for_terminal(config) if config.is_file() else 'none (defaults)'}")
    print(f"trust store: {path_for_terminal(locations.trust_dir())}")
    if ctx.config_error:
        print(f"warning:     {for_terminal(ctx.config_error)}")
    return 0
