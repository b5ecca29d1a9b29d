"""The per-user daemon: answers shells, watches what their answers depend on, nudges them.

Single-threaded: one selector over the shells' request FIFOs, their pidfds and the
watcher's wake-up pipe, each registered with the callback that handles it. The shells are
sessions (sessions.py, docs/protocol.md): a stream session (bash, zsh, xonsh) is adopted
when its FIFO pair appears in the runtime dir, a file session (fish) when its first
request file does.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import selectors
import signal
import time
from collections.abc import Callable
from pathlib import Path

from shellhook import locations, protocol
from shellhook.daemon import control
from shellhook.daemon.control import pid_alive
from shellhook.daemon.sessions import (
    FileSession,
    Session,
    SessionFile,
    StreamSession,
    parse_session_file,
    remove_session_files,
)
from shellhook.daemon.watcher import Watcher
from shellhook.policy import Context, Target, decide, judge, still_current
from shellhook.resolver import Resolution, Resolver
from shellhook.trust import TrustStore, TrustStoreError

log = logging.getLogger("shellhook.daemon")

DEBOUNCE = 0.03  # seconds of quiet after a burst of file events
DEBOUNCE_MAX = 0.25
IDLE_EXIT = float(os.environ.get("SHELLHOOK_IDLE_EXIT", "900"))


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
        self.sessions: dict[str, Session] = {}
        self.dirty_since: float | None = None
        self.last_event = 0.0
        self.idle_since = time.monotonic()
        self.running = True
        self.workon_children: set[str] = set()
        self._homes: set[str] = set()
        self._newborn: set[str] = set()
        # Judgements (trust, venv health) stay valid until a watched file changes or the
        # trust store does (checked by its directories' mtimes: `shellhook allow` in a
        # shell makes that shell ask at once, before the daemon hears the file event).
        self._judged: dict[tuple[Resolution, tuple], Target] = {}
        # Watched whatever the shells do: new shells, named venvs, trust, config.
        self.static_watch = {
            str(rundir),
            self.resolver.workon_home,
            os.path.dirname(self.resolver.workon_home),
            *self.ctx.trust.watched_dirs(),
            str(locations.config_file().parent),
        }

    # -- set-up -------------------------------------------------------------------
    def run(self) -> None:
        """Serve until stopped (SIGTERM/SIGINT) or idle for IDLE_EXIT seconds."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.sel.register(self.watcher.wake_r, selectors.EVENT_READ, self._on_fs_events)
        self.watcher.start()
        self._refresh_workon_children()
        self._reconcile_watches()
        self._scan_rundir()
        log.info("daemon %d serving %s", os.getpid(), self.rundir)
        while self.running:
            for key, _mask in self.sel.select(self._timeout()):
                callback: Callable[[], None] = key.data
                callback()
            self._maybe_flush()
            if not self.sessions and time.monotonic() - self.idle_since > IDLE_EXIT:
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
        if not self.sessions:
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
        found = parse_session_file(os.path.basename(path))
        if found is None:
            return
        sid, pid, kind = found
        if kind in (SessionFile.REQUESTS, SessionFile.DOORBELL) and sid not in self.sessions:
            self._attach_stream(sid, pid)
        elif kind is SessionFile.REQUEST:
            self._on_file_request(sid, pid)

    def _attach_stream(self, sid: str, pid: int) -> None:
        if not pid_alive(pid):
            remove_session_files(self.rundir, sid)
            return
        try:
            session = StreamSession.adopt(self.rundir, sid, pid)
        except OSError as exc:
            log.warning("cannot open fifos of %s: %s", sid, exc)
            return
        if session is None:
            return  # the shell is still creating the pair: the .rep event brings us back
        self._add(session)
        readable = functools.partial(self._serve, session)
        self.sel.register(session.req_fd, selectors.EVENT_READ, readable)
        readable()  # requests written before we opened
        if session.last is None:
            self._nudge(session)  # a shell from before a restart: it asks, we learn its dir

    def _on_file_request(self, sid: str, pid: int) -> None:
        session = self.sessions.get(sid)
        if session is None:
            if not pid_alive(pid):
                remove_session_files(self.rundir, sid)
                return
            session = FileSession(self.rundir, sid, pid)
            self._add(session)
        self._serve(session)

    def _add(self, session: Session) -> None:
        self.sessions[session.sid] = session
        if session.pid_fd >= 0:
            exited = functools.partial(self._detach, session)
            self.sel.register(session.pid_fd, selectors.EVENT_READ, exited)
        log.info("attached %s (%s)", session.sid, session.transport)

    def _detach(self, session: Session) -> None:
        if self.sessions.get(session.sid) is not session:
            return  # already detached by an earlier event of the same select()
        for fd in session.fds():
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(fd)
        session.close()
        del self.sessions[session.sid]
        if not self.sessions:
            self.idle_since = time.monotonic()
        log.info("detached %s", session.sid)
        self._reconcile_watches()

    def _reap_dead_without_pidfd(self) -> None:
        for session in list(self.sessions.values()):
            if session.pid_fd < 0 and not pid_alive(session.pid):
                self._detach(session)

    # -- requests -------------------------------------------------------------------
    def _serve(self, session: Session) -> None:
        """Answer what the shell asked since we last looked."""
        if self.sessions.get(session.sid) is not session:
            return  # detached by an earlier event of the same select(): its fds are closed
        try:
            requests = session.receive()
        except OSError as exc:
            log.warning("read from %s failed: %s", session.sid, exc)
            self._detach(session)
            return
        for req in requests:
            self._answer(session, req)

    def _resolve(self, req: protocol.Request) -> Resolution:
        """What ``req``'s directory resolves to, in the asking shell's scope."""
        if self.ctx.reload_config():  # before resolving: home_is_project is part of it
            self._judged.clear()
        return self.resolver.resolve(req.pwd, self.ctx.scope_for(req))

    def _judge(self, res: Resolution) -> Target:
        """``res`` judged, after ``_resolve`` (which re-read the config). The key holds
        the resolution's scope ($WORKON_HOME decides trust too); a cached refusal is
        re-checked against the files' owner and mode (a chmod may not be heard)."""
        key = (res, self.ctx.trust.generation())
        target = self._judged.get(key)
        if target is None or not still_current(target):
            target = self._judged[key] = judge(res, self.ctx)
        return target

    def _answer(self, session: Session, req: protocol.Request) -> None:
        res = self._resolve(req)
        target = self._judge(res)
        ops = decide(req, target, self.ctx)
        ops.append((protocol.OP_DAEMON, str(self.rundir)))
        session.last = req
        session.last_key = (res, target.usable, target.warning)
        try:
            session.send(protocol.encode_reply(req.seq, ops))
        except OSError as exc:
            log.warning("cannot answer %s: %s", session.sid, exc)
        if res.watch != session.watch:
            session.watch = res.watch
            self._reconcile_watches()

    def _nudge(self, session: Session) -> None:
        try:
            session.nudge()
        except OSError as exc:
            log.warning("cannot nudge %s: %s", session.sid, exc)

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
        for session in list(self.sessions.values()):
            req = session.last
            if req is None:
                continue
            res = self._resolve(req)
            target = self._judge(res)
            if (res, target.usable, target.warning) != session.last_key:
                log.info("nudging %s", session.sid)
                self._nudge(session)
        self._reconcile_watches()

    def _workon_homes(self) -> set[str]:
        """Every $WORKON_HOME in use: the daemon's and each shell's own."""
        homes = {self.resolver.workon_home}
        for session in self.sessions.values():
            if session.last is not None:
                homes.add(self.ctx.scope_for(session.last).workon_home)
        return homes

    def _refresh_workon_children(self) -> None:
        self.workon_children = set()
        for home in self._workon_homes():
            with contextlib.suppress(OSError):
                self.workon_children |= {e.path for e in os.scandir(home) if e.is_dir()}

    def _reconcile_watches(self) -> None:
        homes = self._workon_homes()
        if homes != self._homes:  # a shell with a $WORKON_HOME of its own: its venvs too
            self._homes = homes
            self._refresh_workon_children()
        wanted = self.static_watch | self.workon_children | homes
        wanted |= {os.path.dirname(home) for home in homes}
        ancestors: set[str] = set()
        for session in self.sessions.values():
            ancestors.update(session.watch)
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
