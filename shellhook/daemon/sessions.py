"""The shells attached to the daemon, and the files a session is made of.

Every file of a session lives in the private runtime dir and is named ``<id>.<ext>``
(docs/protocol.md, "Transports"). :class:`SessionFile` is the one list of those extensions
and :func:`session_path` the one place that builds such a name; the hook scripts in
``shells/`` spell the same names. Two transports share the protocol:

* :class:`StreamSession` (bash, zsh, xonsh): the shell makes the FIFOs ``<id>.req`` and
  ``<id>.rep`` and holds both open read-write; requests arrive on ``.req``, one-byte
  doorbells go back on ``.rep``.
* :class:`FileSession` (fish, which has no read timeout): the shell writes its latest
  request to ``<id>.q``; a nudge is the existence of ``<id>.n``.

Both read their reply in ``<id>.a``. This module neither logs nor imports watchdog:
``shellhook allow`` nudges through :func:`nudge_session` without loading the daemon, and
the daemon reports the OSErrors raised here.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import os
import re
import stat
from pathlib import Path
from typing import ClassVar

from shellhook import protocol

SESSION_ID = re.compile(r"^(\d+)-[0-9A-Za-z]+$")


class SessionFile(enum.Enum):
    """The files of one session, by extension."""

    REQUESTS = "req"  # stream: the shell's requests (FIFO)
    DOORBELL = "rep"  # stream: the daemon's one-byte signals (FIFO)
    REQUEST = "q"  # file: the shell's latest request
    REPLY = "a"  # both: the daemon's latest reply frame
    NUDGE = "n"  # file: exists while the shell should ask again
    OPS = "ops"  # both: a command's reply frame for its shell (commands/shellops.py)
    SCRATCH = "s"  # the shell's own: bash reads a function's text there, without a fork

    @property
    def suffix(self) -> str:
        """The file name's suffix, dot included."""
        return "." + self.value


def session_path(rundir: Path, sid: str, kind: SessionFile) -> Path:
    """The path of session ``sid``'s file of this kind."""
    return rundir / f"{sid}.{kind.value}"


def session_pid(sid: str) -> int | None:
    """The shell pid encoded in a session id (``<pid>-<random>``), or None if malformed."""
    m = SESSION_ID.match(sid)
    return int(m.group(1)) if m else None


def parse_session_file(name: str) -> tuple[str, int, SessionFile] | None:
    """``(id, pid, kind)`` when ``name`` is a session file's name, else None."""
    sid, _, ext = name.rpartition(".")
    pid = session_pid(sid)
    if pid is None:
        return None
    try:
        return sid, pid, SessionFile(ext)
    except ValueError:
        return None


def remove_session_files(rundir: Path, sid: str) -> None:
    """Delete whatever files session ``sid`` left (its shell is gone)."""
    for kind in SessionFile:
        with contextlib.suppress(OSError):
            os.unlink(session_path(rundir, sid, kind))


def nudge_session(rundir: Path, sid: str) -> None:
    """Make session ``sid`` ask again at its next prompt, from outside the daemon.

    Does nothing when the session has no files here; raises OSError when they cannot be
    used.
    """
    doorbell = session_path(rundir, sid, SessionFile.DOORBELL)
    if doorbell.is_fifo():
        fd = os.open(doorbell, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        try:
            os.write(fd, protocol.DOORBELL_NUDGE)
        finally:
            os.close(fd)
    elif session_path(rundir, sid, SessionFile.REQUEST).exists():
        _create(session_path(rundir, sid, SessionFile.NUDGE))


def _create(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))


def _owned_fifo(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISFIFO(st.st_mode) and st.st_uid == os.geteuid()


class Session(abc.ABC):
    """One attached shell: what the daemon last told it, and how to reach it."""

    transport: ClassVar[str]  # for the log

    def __init__(self, rundir: Path, sid: str, pid: int) -> None:
        self.rundir = rundir
        self.sid = sid
        self.pid = pid
        self.pid_fd = -1  # readable when the shell exits; -1 without pidfd support
        with contextlib.suppress(AttributeError, OSError):
            self.pid_fd = os.pidfd_open(pid)
        self.last: protocol.Request | None = None  # the latest request: re-judged on events
        self.last_key: tuple | None = None  # what that request's answer depended on
        # What that answer depended on: (path, role) pairs (server.resolution_roles).
        self.watch: tuple[tuple[str, str], ...] = ()
        self.nudged = False  # told to ask again since the last reply
        self._reply_path = session_path(rundir, sid, SessionFile.REPLY)
        self._reply_fd = -1

    @abc.abstractmethod
    def receive(self) -> list[protocol.Request]:
        """The requests that arrived since the last call; OSError when the session broke."""

    def send(self, frame: bytes) -> None:
        """Give the shell its reply ``frame``; OSError when it cannot be delivered.

        The reply is a regular file because the shells read one in a go (bash reads a pipe
        a byte at a time). Every hook skips a frame that is not complete (``R seq`` ...
        ``E``), so the file is rewritten in place rather than renamed: a rename costs more
        than all the rest of an answer, and a watched directory would see a moved-from
        event, which watchdog holds back for half a second.
        """
        self.nudged = False
        if self._reply_fd < 0:
            self._reply_fd = os.open(
                self._reply_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
        os.pwrite(self._reply_fd, frame, 0)
        os.ftruncate(self._reply_fd, len(frame))

    def nudge(self) -> None:
        """Tell the shell to ask again at its next prompt (once until it is answered)."""
        if self.nudged:
            return
        self.nudged = True
        self._signal_nudge()

    @abc.abstractmethod
    def _signal_nudge(self) -> None: ...

    def fds(self) -> tuple[int, ...]:
        """The descriptors this session holds open (unregister them before ``close``)."""
        return tuple(fd for fd in (self.pid_fd, self._reply_fd) if fd >= 0)

    def close(self) -> None:
        """Close the descriptors and delete the session's files (its shell is gone)."""
        for fd in self.fds():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pid_fd = self._reply_fd = -1
        remove_session_files(self.rundir, self.sid)


class StreamSession(Session):
    """bash, zsh, xonsh: requests on ``<id>.req``, one-byte doorbells on ``<id>.rep``."""

    transport = "fifo"

    def __init__(self, rundir: Path, sid: str, pid: int, req_fd: int, rep_fd: int) -> None:
        super().__init__(rundir, sid, pid)
        self.req_fd = req_fd  # the daemon's selector waits on this one
        self._rep_fd = rep_fd
        self._reader = protocol.RequestReader()

    @classmethod
    def adopt(cls, rundir: Path, sid: str, pid: int) -> StreamSession | None:
        """Open the FIFO pair shell ``sid`` made; None while the pair is not complete.

        Both ends are opened read-write and non-blocking, as the shell does, so neither
        open nor a write can block the daemon.
        """
        req = session_path(rundir, sid, SessionFile.REQUESTS)
        rep = session_path(rundir, sid, SessionFile.DOORBELL)
        if not (_owned_fifo(req) and _owned_fifo(rep)):
            return None
        flags = os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
        req_fd = os.open(req, flags)
        try:
            rep_fd = os.open(rep, flags)
        except OSError:
            os.close(req_fd)
            raise
        return cls(rundir, sid, pid, req_fd, rep_fd)

    def receive(self) -> list[protocol.Request]:
        """Every complete request read from ``<id>.req`` (none when it is empty)."""
        try:
            data = os.read(self.req_fd, 65536)
        except BlockingIOError:
            return []
        return self._reader.feed(data)

    def send(self, frame: bytes) -> None:
        """Rewrite ``<id>.a`` with ``frame``, then ring the reply doorbell."""
        super().send(frame)
        os.write(self._rep_fd, protocol.DOORBELL_REPLY)

    def _signal_nudge(self) -> None:
        os.write(self._rep_fd, protocol.DOORBELL_NUDGE)

    def fds(self) -> tuple[int, ...]:
        """The FIFOs, the pidfd and the reply file, those that are open."""
        return tuple(fd for fd in (self.req_fd, self._rep_fd) if fd >= 0) + super().fds()

    def close(self) -> None:
        """Close the FIFOs too, then do what every session does."""
        super().close()
        self.req_fd = self._rep_fd = -1


class FileSession(Session):
    """fish: the latest request in ``<id>.q``; a nudge is the file ``<id>.n``."""

    transport = "file"

    def __init__(self, rundir: Path, sid: str, pid: int) -> None:
        super().__init__(rundir, sid, pid)
        self._request_path = session_path(rundir, sid, SessionFile.REQUEST)
        self._nudge_path = session_path(rundir, sid, SessionFile.NUDGE)

    def receive(self) -> list[protocol.Request]:
        """The request in ``<id>.q`` unless it was answered already.

        The file is read on every event about it (created, closed), so a request is
        usually seen more than once. A missing or unsafe file holds no request.
        """
        try:
            fd = os.open(self._request_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                    return []
                data = os.read(fd, protocol.MAX_REQUEST_BYTES)
            finally:
                os.close(fd)
        except OSError:
            return []
        seen = self.last.seq if self.last is not None else None
        fresh = []
        for req in protocol.RequestReader().feed(data):
            if req.seq != seen:
                fresh.append(req)
                seen = req.seq
        return fresh

    def send(self, frame: bytes) -> None:
        """Withdraw any nudge, then rewrite ``<id>.a`` with ``frame``."""
        with contextlib.suppress(OSError):
            os.unlink(self._nudge_path)
        super().send(frame)

    def _signal_nudge(self) -> None:
        _create(self._nudge_path)
