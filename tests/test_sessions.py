"""The daemon's session objects and the one table of session file names."""

from __future__ import annotations

import os
from pathlib import Path

from shellhook import protocol
from shellhook.daemon.sessions import (
    FileSession,
    SessionFile,
    StreamSession,
    nudge_session,
    parse_session_file,
    session_path,
)

SID = f"{os.getpid()}-abc123"


def _request(seq: str, pwd: str = "/") -> bytes:
    return protocol.encode_request(protocol.Request(seq, pwd, "", "", False, ""))


def test_names_round_trip_and_strangers_are_ignored(tmp_path: Path) -> None:
    for kind in SessionFile:
        path = session_path(tmp_path, SID, kind)
        assert path.parent == tmp_path
        assert parse_session_file(path.name) == (SID, os.getpid(), kind)
    assert parse_session_file("daemon.pid") is None
    assert parse_session_file(f"{SID}.tmp") is None
    assert parse_session_file("x-1.q") is None


def test_stream_session_rings_once_per_reply_and_nudges_once(tmp_path: Path) -> None:
    assert StreamSession.adopt(tmp_path, SID, os.getpid()) is None  # no FIFOs yet
    for kind in (SessionFile.REQUESTS, SessionFile.DOORBELL):
        os.mkfifo(session_path(tmp_path, SID, kind), 0o600)
    session = StreamSession.adopt(tmp_path, SID, os.getpid())
    assert session is not None
    listen = os.open(session_path(tmp_path, SID, SessionFile.DOORBELL), os.O_RDONLY | os.O_NONBLOCK)
    ask = os.open(session_path(tmp_path, SID, SessionFile.REQUESTS), os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(ask, _request("1"))
        assert [r.seq for r in session.receive()] == ["1"]
        assert session.receive() == []
        session.send(protocol.encode_reply("1", [("I", "a long first reply")]))
        session.send(protocol.encode_reply("2", []))
        reply = session_path(tmp_path, SID, SessionFile.REPLY).read_bytes()
        assert reply == protocol.encode_reply("2", [])  # rewritten in place, no tail left
        session.nudge()
        session.nudge()
        assert os.read(listen, 16) == b"RRN"
    finally:
        os.close(listen)
        os.close(ask)
    session.close()
    session.close()
    assert os.listdir(tmp_path) == []


def test_file_session_answers_a_request_once_and_withdraws_its_nudge(tmp_path: Path) -> None:
    session = FileSession(tmp_path, SID, os.getpid())
    nudge = session_path(tmp_path, SID, SessionFile.NUDGE)
    assert session.receive() == []  # no request file
    session_path(tmp_path, SID, SessionFile.REQUEST).write_bytes(_request("7"))
    (req,) = session.receive()
    session.last = req
    assert session.receive() == []  # the same request, heard again
    session.nudge()
    assert nudge.exists()
    session.send(protocol.encode_reply("7", []))
    assert not nudge.exists()
    nudge_session(tmp_path, SID)  # what `shellhook allow` does
    assert nudge.exists()
    session.close()
    assert os.listdir(tmp_path) == []
