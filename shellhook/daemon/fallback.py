"""Answering a shell without the daemon (``shellhook hook``), and waking one up.

The hook scripts run this only when the daemon is missing, dead or stuck: it decides
exactly as the daemon would (same policy), prints the reply frame on stdout, and makes
sure a daemon is (re)started for the next prompt. It never imports watchdog.
"""

from __future__ import annotations

import contextlib
import os
import sys

from shellhook import locations, protocol
from shellhook.daemon import control
from shellhook.display import for_terminal
from shellhook.known import KnownProjects, remember_tool_project
from shellhook.policy import Context, decide, judge
from shellhook.resolver import Resolver
from shellhook.toolenv import tool_variables
from shellhook.trust import TrustStore


def answer(argv: list[str]) -> int:
    """``hook [--stuck] SEQ PWD VIRTUAL_ENV SHELLHOOK_VENV OWNED OFF WORKON_HOME``: the
    reply frame on stdout. The tool variables are this process's: the shell's exported
    ones, inherited."""
    stuck = bool(argv) and argv[0] == "--stuck"
    fields = [os.fsencode(a) for a in (argv[1:] if stuck else argv)]
    try:
        req = protocol.parse_request(fields, tool_variables(os.environ))
    except ValueError as exc:
        print(f"shellhook: hook: {exc}", file=sys.stderr)
        return 2
    ctx = Context(Resolver(), TrustStore())
    res = ctx.resolver.resolve(req.pwd, ctx.scope_for(req))
    ops = decide(req, judge(res, ctx), ctx)
    remember_tool_project(KnownProjects(), res)
    try:
        st = control.ensure(replace_stopped=stuck)
        if st.state == "running":
            ops.append((protocol.OP_DAEMON, str(st.rundir)))
    except (locations.UnsafeDirectory, OSError) as exc:
        ops.append((protocol.OP_WARN, f"shellhook: daemon not started: {for_terminal(str(exc))}"))
    sys.stdout.buffer.write(protocol.encode_reply(req.seq, ops))
    sys.stdout.flush()
    return 0


def nudge(session_id: str | None = None) -> None:
    """Tell the calling shell (``$SHELLHOOK_SESSION``) to ask again at its next prompt.

    Used after ``allow``/``deny``/``forget`` (and venv commands) so the change shows at once
    instead of waiting for the daemon's file watch. Silent when there is no session.
    """
    sid = session_id if session_id is not None else os.environ.get("SHELLHOOK_SESSION", "")
    if not sid or "/" in sid or sid.startswith("."):
        return
    from shellhook.daemon.sessions import nudge_session  # (not needed to answer a hook)

    rundir = locations.runtime_dir()
    with contextlib.suppress(OSError, locations.UnsafeDirectory):
        locations.check_private_dir(rundir)
        nudge_session(rundir, sid)
