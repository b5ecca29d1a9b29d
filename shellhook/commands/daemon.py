"""``shellhook daemon start|stop|restart|status|run``: control the per-user daemon."""

from __future__ import annotations

import argparse

from shellhook.daemon import control
from shellhook.errors import ShellhookError

HELP = "start, stop, restart or query the per-user daemon"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ACTION``."""
    parser.add_argument("action", choices=("start", "stop", "restart", "status", "run"))


def run(args: argparse.Namespace) -> int:
    """Do ``args.action``; ``status`` exits 3 when the daemon does not run, 1 when it
    cannot (an unsafe runtime dir: the line says why and how to fix it)."""
    if args.action == "run":
        from shellhook.daemon.server import serve  # watchdog: only in the daemon itself

        return serve()
    if args.action in ("stop", "restart"):
        stopped = control.stop()
        if args.action == "stop":
            print("shellhook: daemon stopped" if stopped else "shellhook: daemon was not running")
            return 0
    if args.action in ("start", "restart"):
        st = control.ensure(wait=3.0)
        if st.state != "running":
            raise ShellhookError(f"daemon did not start; {control.why_not_started(st)}")
        print(f"shellhook: daemon running (pid {st.pid})")
        return 0
    st = control.status()
    if st.problem:
        raise ShellhookError(f"daemon cannot run: {st.problem}")
    print(f"{st.state}" + (f" (pid {st.pid})" if st.pid else ""))
    return 0 if st.state == "running" else 3
