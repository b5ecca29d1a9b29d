"""The per-user daemon: answers shells, watches what their answers depend on, nudges them.

Single-threaded: one selector over the shells' request FIFOs, their pidfds and the
watcher's wake-up pipe. Two transports share the protocol (docs/protocol.md):

* stream (bash, zsh, xonsh): ``<id>.req`` / ``<id>.rep`` FIFOs that the shell creates
  and holds open read-write; the daemon adopts them when they appear.
* file (fish, which has no read timeout): the shell writes ``<id>.q``; the daemon
  answers in ``<id>.a`` (atomic rename) and nudges by creating ``<id>.n``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import selectors
import signal
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from shellhook import locations, protocol
from shellhook.daemon import control
from shellhook.daemon.control import pid_alive
from shellhook.daemon.watcher import Watcher
from shellhook.policy import Context, Target, decide, judge
from shellhook.resolver import Resolution, Resolver
from shellhook.trust import TrustStore, TrustStoreError

log = logging.getLogger("shellhook.daemon")

SESSION_ID = re.compile(r"^(\d+)-[0-9A-Za-z]+$")
DEBOUNCE = 0.03  # seconds of quiet after a burst of file events
DEBOUNCE_MAX = 0.25
IDLE_EXIT = float(os.environ.get("SHELLHOOK_IDLE_EXIT", "900"))


def session_pid(session_id: str) -> int | None:
    """The shell pid encoded in a session id (``<pid>-<random>``), or None if malformed."""
    m = SESSION_ID.match(session_id)
    return int(m.group(1)) if m else None


@dataclass
class Client:
    """One attached shell session."""

    sid: str
    pid: int
    stream: bool
    req_fd: int = -1
    rep_fd: int = -1
    pid_fd: int = -1
    reply_fd: int = -1  # <sid>.a, rewritten in place (see _send)
    reader: protocol.RequestReader = field(default_factory=protocol.RequestReader)
    last: protocol.Request | None = None  # the latest request: re-judged on file events
    last_key: tuple | None = None  # what that request's answer depended on
    watch: tuple[str, ...] = ()
    nudged: bool = False


class Daemon:
    """The event loop and its per-shell bookkeeping."""

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        self.sel = selectors.DefaultSelector()
        self.watcher = Watcher()
        self.resolver = Resolver(cacheable=self.watcher.is_watched)
        self.ctx = Context(self.resolver, TrustStore())
        with contextlib.suppress(TrustStoreError):
            self.ctx.trust.ensure()
        self.clients: dict[str, Client] = {}
        self.dirty_since: float | None = None
        self.last_event = 0.0
        self.idle_since = time.monotonic()
        self.running = True
        self.workon_children: set[str] = set()
        self._newborn: set[str] = set()
        # Judgements (trust, venv health) stay valid until a watched file changes or the
        # trust store does (checked by its directories' mtimes: `shellhook allow` in a
        # shell makes that shell ask at once, before the daemon hears the file event).
        self._judged: dict[tuple[Resolution, tuple], Target] = {}
        trust = str(self.ctx.trust.root)
        # Watched whatever the shells do: new shells, named venvs, trust, config.
        self.static_watch = {
            str(rundir),
            self.resolver.workon_home,
            os.path.dirname(self.resolver.workon_home),
            trust,
            os.path.join(trust, "allow"),
            os.path.join(trust, "deny"),
            str(locations.config_file().parent),
        }

    # -- set-up -------------------------------------------------------------------
    def run(self) -> None:
        """Serve until stopped (SIGTERM/SIGINT) or idle for IDLE_EXIT seconds."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.sel.register(self.watcher.wake_r, selectors.EVENT_READ, ("wake", None))
        self.watcher.start()
        self._refresh_workon_children()
        self._reconcile_watches()
        self._scan_rundir()
        log.info("daemon %d serving %s", os.getpid(), self.rundir)
        while self.running:
            for key, _mask in self.sel.select(self._timeout()):
                kind, client = key.data
                if kind == "wake":
                    self._on_fs_events()
                elif kind == "req":
                    self._on_readable(client)
                elif kind == "exit":
                    self._detach(client)
            self._maybe_flush()
            if not self.clients and time.monotonic() - self.idle_since > IDLE_EXIT:
                log.info("idle for %ds, exiting", IDLE_EXIT)
                break
        self.watcher.stop()

    def stop(self) -> None:
        """Ask the loop to end (safe in a signal handler: it only wakes the selector)."""
        self.running = False
        self.watcher.wake()

    def _timeout(self) -> float | None:
        if self.dirty_since is not None:
            now = time.monotonic()
            return max(0.0, min(self.last_event + DEBOUNCE, self.dirty_since + DEBOUNCE_MAX) - now)
        if not self.clients:
            return max(0.0, IDLE_EXIT - (time.monotonic() - self.idle_since)) + 0.01
        return None

    # -- shells coming and going --------------------------------------------------
    def _scan_rundir(self) -> None:
        try:
            names = os.listdir(self.rundir)
        except OSError:
            return
        for name in names:
            self._consider(os.path.join(self.rundir, name))

    def _consider(self, path: str) -> None:
        """A file appeared in the runtime dir: a new shell, or a fish request."""
        name = os.path.basename(path)
        sid, _, ext = name.rpartition(".")
        pid = session_pid(sid)
        if pid is None:
            return
        if ext in ("req", "rep") and sid not in self.clients:
            self._attach_stream(sid, pid)
        elif ext == "q":
            self._on_file_request(sid, pid, path)

    def _owned_fifo(self, path: str) -> bool:
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return stat.S_ISFIFO(st.st_mode) and st.st_uid == os.geteuid()

    def _attach_stream(self, sid: str, pid: int) -> None:
        req, rep = (os.path.join(self.rundir, f"{sid}.{e}") for e in ("req", "rep"))
        if not pid_alive(pid):
            self._remove_files(sid)
            return
        if not (self._owned_fifo(req) and self._owned_fifo(rep)):
            return  # the shell is still creating the pair: the .rep event brings us back
        flags = os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            client = Client(sid, pid, True, os.open(req, flags), os.open(rep, flags))
        except OSError as exc:
            log.warning("cannot open fifos of %s: %s", sid, exc)
            return
        self._add_client(client)
        self.sel.register(client.req_fd, selectors.EVENT_READ, ("req", client))
        self._on_readable(client)  # requests written before we opened
        if client.last is None:
            self._nudge(client)  # a shell from before a restart: it asks, we learn its dir

    def _add_client(self, client: Client) -> None:
        self.clients[client.sid] = client
        with contextlib.suppress(AttributeError, OSError):
            client.pid_fd = os.pidfd_open(client.pid)
            self.sel.register(client.pid_fd, selectors.EVENT_READ, ("exit", client))
        log.info("attached %s (%s)", client.sid, "fifo" if client.stream else "file")

    def _detach(self, client: Client) -> None:
        for fd in (client.req_fd, client.rep_fd, client.pid_fd, client.reply_fd):
            if fd >= 0:
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(fd)
                os.close(fd)
        self.clients.pop(client.sid, None)
        self._remove_files(client.sid)
        if not self.clients:
            self.idle_since = time.monotonic()
        log.info("detached %s", client.sid)
        self._reconcile_watches()

    def _remove_files(self, sid: str) -> None:
        for ext in ("req", "rep", "q", "a", "n", "ops"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.rundir, f"{sid}.{ext}"))

    def _reap_dead_without_pidfd(self) -> None:
        for client in list(self.clients.values()):
            if client.pid_fd < 0 and not pid_alive(client.pid):
                self._detach(client)

    # -- requests -------------------------------------------------------------------
    def _on_readable(self, client: Client) -> None:
        try:
            data = os.read(client.req_fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            log.warning("read from %s failed: %s", client.sid, exc)
            self._detach(client)
            return
        for req in client.reader.feed(data):
            self._answer(client, req)

    def _on_file_request(self, sid: str, pid: int, path: str) -> None:
        client = self.clients.get(sid)
        if client is None:
            if not pid_alive(pid):
                self._remove_files(sid)
                return
            client = Client(sid, pid, False)
            self._add_client(client)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                    return
                data = os.read(fd, protocol.MAX_REQUEST_BYTES)
            finally:
                os.close(fd)
        except OSError:
            return
        for req in protocol.RequestReader().feed(data):
            if client.last is None or req.seq != client.last.seq:
                self._answer(client, req)

    def _judge(self, res: Resolution) -> Target:
        if self.ctx.reload_config():
            self._judged.clear()
        key = (res, self.ctx.trust.generation())
        target = self._judged.get(key)
        if target is None:
            target = self._judged[key] = judge(res, self.ctx)
        return target

    def _answer(self, client: Client, req: protocol.Request) -> None:
        res = self.resolver.resolve(req.pwd)
        target = self._judge(res)
        ops = decide(req, target, self.ctx)
        ops.append((protocol.OP_DAEMON, str(self.rundir)))
        client.last = req
        client.last_key = (res, target.usable, target.warning)
        client.nudged = False
        self._send(client, protocol.encode_reply(req.seq, ops))
        if res.watch != client.watch:
            client.watch = res.watch
            self._reconcile_watches()

    def _send(self, client: Client, frame: bytes) -> None:
        """Put the reply in ``<sid>.a``; ring a stream shell's doorbell.

        A regular file is read in one go by the shells (bash reads a pipe a byte at a
        time); the FIFO only carries one-byte signals. Every hook skips a frame that is
        not complete (``R seq`` ... ``E``), so the file is rewritten in place: a rename
        costs more than all the rest of an answer, and a watched directory would see a
        moved-from event, which watchdog holds back for half a second.
        """
        if not client.stream:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.rundir, f"{client.sid}.n"))
        try:
            if client.reply_fd < 0:
                client.reply_fd = os.open(
                    self.rundir / f"{client.sid}.a",
                    os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                )
            os.pwrite(client.reply_fd, frame, 0)
            os.ftruncate(client.reply_fd, len(frame))
        except OSError as exc:
            log.warning("cannot write the reply of %s: %s", client.sid, exc)
            return
        if client.stream:
            self._ring(client, protocol.DOORBELL_REPLY)

    def _ring(self, client: Client, signal_byte: bytes) -> None:
        try:
            os.write(client.rep_fd, signal_byte)
        except BlockingIOError:
            log.warning("signal pipe of %s is full; dropping a signal", client.sid)
        except OSError as exc:
            log.warning("write to %s failed: %s", client.sid, exc)

    def _nudge(self, client: Client) -> None:
        if client.nudged:
            return
        client.nudged = True
        if client.stream:
            self._ring(client, protocol.DOORBELL_NUDGE)
        else:
            with contextlib.suppress(OSError):
                fd = os.open(
                    self.rundir / f"{client.sid}.n", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600
                )
                os.close(fd)

    # -- file events ----------------------------------------------------------------
    def _on_fs_events(self) -> None:
        rundir = str(self.rundir)
        for event in self.watcher.drain():
            src = os.fsdecode(event.src_path)
            dest = os.fsdecode(getattr(event, "dest_path", "") or "")
            for path in filter(None, (src, dest)):
                if os.path.dirname(path) == rundir:
                    if event.event_type in ("created", "closed", "moved"):
                        self._consider(path)
                    continue
                self.resolver.invalidate(path)
                self._judged.clear()
                if path == src and event.event_type in ("deleted", "moved"):
                    self.watcher.drop(path)  # a re-created directory needs a new watch
                if event.is_directory and event.event_type == "created":
                    self._newborn.add(path)
                self.last_event = time.monotonic()
                if self.dirty_since is None:
                    self.dirty_since = self.last_event

    def _maybe_flush(self) -> None:
        if self.dirty_since is None:
            return
        now = time.monotonic()
        if now - self.last_event < DEBOUNCE and now - self.dirty_since < DEBOUNCE_MAX:
            return
        self.dirty_since = None
        self._refresh_workon_children()
        self._reap_dead_without_pidfd()
        for client in list(self.clients.values()):
            req = client.last
            if req is None:
                continue
            res = self.resolver.resolve(req.pwd)
            target = self._judge(res)
            if (res, target.usable, target.warning) != client.last_key:
                log.info("nudging %s", client.sid)
                self._nudge(client)
        self._reconcile_watches()

    def _refresh_workon_children(self) -> None:
        home = self.resolver.workon_home
        try:
            self.workon_children = {e.path for e in os.scandir(home) if e.is_dir()}
        except OSError:
            self.workon_children = set()

    def _reconcile_watches(self) -> None:
        wanted = self.static_watch | self.workon_children
        ancestors: set[str] = set()
        for client in self.clients.values():
            ancestors.update(client.watch)
        wanted |= ancestors
        # A directory just created next to a shell may be a venv still being made.
        self._newborn = {d for d in self._newborn if os.path.dirname(d) in ancestors}
        wanted |= self._newborn
        added = self.watcher.set_watched(wanted)
        if added:
            # Changes made before a watch existed were not heard: look again once.
            for path in added:
                self.resolver.invalidate(path)
            self._judged.clear()
            self.last_event = time.monotonic()
            self.dirty_since = self.dirty_since or self.last_event


def serve() -> int:
    """Run the daemon in the foreground (what ``shellhook daemon run`` does)."""
    try:
        rundir = locations.ensure_private_dir(locations.runtime_dir())
    except (locations.UnsafeDirectory, OSError) as exc:
        log.error("unsafe runtime dir: %s", exc)
        return 1
    with control.single_instance(rundir) as got_lock:
        if not got_lock:
            return 0
        try:
            Daemon(rundir).run()
        except OSError as exc:
            if exc.errno != errno.EINTR:
                log.exception("daemon failed")
                return 1
    return 0
