"""The daemon's answers, called in-process: memoized replies are the frames decide() and
encode_reply() make, and a request that raises costs one answer."""

from __future__ import annotations

import dataclasses
import os

from shellhook import locations, protocol
from shellhook.daemon.server import Daemon
from shellhook.daemon.sessions import StreamSession
from shellhook.policy import decide
from tests.test_daemon import FakeShell, env  # noqa: F401  (a fixture)


def test_memoized_reply_is_the_encoded_decision(env, tmp_path):  # noqa: F811
    proj = env.project("proj")
    rundir = locations.ensure_private_dir(locations.runtime_dir())
    daemon = Daemon(rundir)
    try:
        for seq in ("1", "2", "17"):  # the first computes, the others reuse
            req = protocol.Request(seq, str(proj), "", "", False, "")
            got = daemon._resolution(req)  # the path _answer takes
            assert got is not None
            _res, target = got
            ops = decide(req, target, daemon.ctx)
            assert daemon._reply(req, target) == protocol.encode_reply(seq, ops)
        assert ("A", str(proj / ".venv")) in protocol.parse_reply(daemon._reply(req, target))
    finally:
        daemon.watcher.stop()


def test_a_request_that_raises_costs_one_answer_not_the_daemon(env, monkeypatch, caplog):  # noqa: F811
    """A defect while answering (a parser's RecursionError killed the daemon once, at
    every request): logged, that request unanswered (its shell falls back), the next one
    answered."""
    proj = env.project("proj")
    rundir = locations.ensure_private_dir(locations.runtime_dir())
    shell = FakeShell(rundir)
    daemon = Daemon(rundir)
    try:
        session = StreamSession.adopt(rundir, shell.sid, os.getpid())
        assert session is not None
        daemon.sessions[session.sid] = session

        def broken(req):
            raise RecursionError("maximum recursion depth exceeded")

        request = protocol.Request("1", str(proj), "", "", False, "")
        monkeypatch.setattr(daemon, "_resolution", broken)
        os.write(shell.w, protocol.encode_request(request))
        daemon._serve(session)  # raises nothing
        assert "answering" in caplog.text and "RecursionError" in caplog.text
        monkeypatch.undo()
        os.write(shell.w, protocol.encode_request(dataclasses.replace(request, seq="2")))
        daemon._serve(session)
        frame = (rundir / f"{shell.sid}.a").read_bytes()
        assert frame.startswith(b"R\x002\x00")
        assert ("A", str(proj / ".venv")) in protocol.parse_reply(frame)
    finally:
        daemon.watcher.stop()
