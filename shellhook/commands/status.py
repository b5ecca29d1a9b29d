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
from shellhook.trust import TrustStore, TrustStoreError

HELP = "show the daemon, the active venv and this directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> int:
    """Print one line per fact; exit 1 when something keeps shellhook from working
    (an unsafe runtime dir, an unusable trust store, a bad config), each said in a
    ``problem:`` line with its fix. A daemon not running is fine: a shell starts it."""
    problems = []
    st = control.status()
    pid = f" (pid {st.pid})" if st.pid else ""
    print(f"daemon:      {st.state}{pid}, {path_for_terminal(st.rundir)}")
    if st.problem:
        problems.append(f"the daemon cannot run: {st.problem}")
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
    # The daemon answers each shell with that shell's own $WORKON_HOME: this one's.
    print(f"WORKON_HOME: {path_for_terminal(ctx.resolver.workon_home)}")
    config = locations.config_file()
    print(f"config:      {path_for_terminal(config) if config.is_file() else 'none (defaults)'}")
    print(f"trust store: {path_for_terminal(locations.trust_dir())}")
    try:
        ctx.trust.check()
    except TrustStoreError as exc:
        problems.append(str(exc))
    if ctx.config_error:
        problems.append(ctx.config_error)
    for problem in problems:
        print(f"problem:     {for_terminal(problem, keep_backslashes=True)}")
    return 1 if problems else 0
