"""The daemon's memoized replies are the frames decide() and encode_reply() make."""

from __future__ import annotations

from shellhook import locations, protocol
from shellhook.daemon.server import Daemon
from shellhook.policy import decide
from tests.test_daemon import env  # noqa: F401  (a fixture)


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
