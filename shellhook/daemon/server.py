"""The per-user daemon: answers shells, watches what their answers depend on, nudges them.

One thread around one selector over the shells' request FIFOs, their pidfds, the
watcher's fd (on Linux the inotify fd itself) and a wake-up pipe for signals, each
registered with the callback that handles it. Answers come from the caches in that
thread; what needs the file system (a cache miss) runs on a thread of its own the loop
waits for at most FS_DEADLINE (offload.py): a `stat` stuck on a hung file system holds one
request, never every shell (docs/threats.md, case 40). That shell is told at once that
there is no answer yet (its venv stays as it was) and nudged when the thread ends. The
shells are sessions (sessions.py, docs/protocol.md): a stream session (bash, zsh, xonsh)
is adopted when its FIFO pair appears in the runtime dir, a file session (fish) when its
first request file does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import os
import selectors
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path

from shellhook import locations, protocol, tools
from shellhook.daemon import control
from shellhook.daemon import watcher as w
from shellhook.daemon.control import pid_alive
from shellhook.daemon.offload import Lost, Offload, Unavailable
from shellhook.daemon.sessions import (
    FileSession,
    Session,
    SessionFile,
    StreamSession,
    parse_session_file,
    remove_session_files,
)
from shellhook.display import path_for_terminal
from shellhook.known import KnownProjects, remember_tool_project
from shellhook.policy import Context, Target, decide, judge, still_current
from shellhook.resolver import Resolution, Resolver, Scope
from shellhook.trust import PYTHONS, TrustStore, TrustStoreError, site_packages

log = logging.getLogger("shellhook.daemon")

DEBOUNCE = 0.03  # seconds of quiet after a burst of file events
DEBOUNCE_MAX = 0.25
RESCAN = 1.0  # seconds between scans of a runtime dir that cannot be watched
# ...and between looks at fish's request files then (no event says one was written):
# fish gives up on the daemon after about 150 ms (shells/shellhook.fish), so well below.
POLL = 0.05
IDLE_EXIT = float(os.environ.get("SHELLHOOK_IDLE_EXIT", "900"))
# A cache miss runs on a thread of its own: waited for this long (a shell waits 200 ms:
# DESIGN §6), then abandoned. At most MAX_STUCK abandoned threads (blocked in the kernel)
# at a time: with the loop's and a live one, 6 threads at most (DESIGN §8: 8); 1 at rest.
FS_DEADLINE = 0.1
MAX_STUCK = 4


def _debug_delay(value: str) -> float:
    """``SHELLHOOK_DEBUG_DELAY``: seconds (at most 60) to sleep before each reply, for
    fault-injection tests (a slow daemon); 0 when unset or not a number."""
    try:
        delay = float(value)
    except ValueError:
        return 0.0
    return min(delay, 60.0) if delay > 0 else 0.0


DEBUG_DELAY = _debug_delay(os.environ.get("SHELLHOOK_DEBUG_DELAY", ""))  # read once

# What a watched path is to the daemon (DESIGN §6): each role asks the kernel for the
# changes that can alter an answer, and names which entries matter (``_relevant``).
RUNDIR = "rundir"  # shells' session files appear; fish's request files are written
LEVEL = "level"  # a directory a resolution walked: .venv, venv, child directories
POINTER = "pointer"  # a .venv pointer file: its content and mode
VENV = "venv"  # a venv (or a new directory that may become one): pyvenv.cfg, bin, .project
BIN = "bin"  # a venv's bin: python
WORKON = "workon"  # $WORKON_HOME: the named venvs
WORKON_PARENT = "workon-parent"  # $WORKON_HOME's parent: $WORKON_HOME itself
TRUST = "trust"  # the trust store's directories: records (not write_atomic's temp files)
CONFIG = "config"  # the config dir: config.toml
TOOL_FILE = "tool-file"  # a file a venv tool's answer read: pyproject.toml, poetry.toml...
STORE = "store"  # a venv tool's store (or its nearest existing ancestor): venvs come and go
MODE = "mode"  # a directory whose owner and mode trust checks (the project, site-packages)

ROLE_FLAGS = {
    RUNDIR: w.ENTRIES | w.WRITES,
    LEVEL: w.ENTRIES,
    POINTER: w.FILE | w.WRITES | w.ATTRS,
    VENV: w.ENTRIES | w.WRITES | w.ATTRS,
    BIN: w.ENTRIES | w.ATTRS,
    WORKON: w.ENTRIES,
    WORKON_PARENT: w.ENTRIES,
    TRUST: w.ENTRIES,
    CONFIG: w.ENTRIES | w.WRITES,
    TOOL_FILE: w.FILE | w.WRITES | w.ATTRS,
    STORE: w.ENTRIES,
    MODE: w.ATTRS,
}
# The roles of the paths trust.permissions_stamp reads (pyvenv.cfg: through VENV).
MODE_ROLES = frozenset({VENV, BIN, POINTER, MODE})
VENV_NAMES = ("pyvenv.cfg", "bin", ".project")
LEVEL_NAMES = (".venv", "venv", *tools.PROJECT_FILES)
DEPENDENCY_ROLES = {tools.DEP_FILE: TOOL_FILE, tools.DEP_DIR: STORE}

Roles = tuple[tuple[str, str], ...]  # (path, role) pairs


def resolution_roles(res: Resolution) -> Roles:
    """What the answer ``res`` depends on, path by path.

    ``res.watch`` is every level walked, then (for a venv) the venv and its ``bin``;
    ``res.depends`` the files and stores the venv tools' answers read. The other
    directories whose mode trust checks are watched for attribute changes, so a chmod
    that fixes (or breaks) a venv is heard without a cd.
    """
    levels = res.watch
    roles: list[tuple[str, str]] = []
    if res.venv is not None and res.watch[-2:] == (res.venv, os.path.join(res.venv, "bin")):
        levels = res.watch[:-2]
        roles += [(res.venv, VENV), (res.watch[-1], BIN)]
    if res.venv is not None and res.project is not None:
        roles += [(os.path.realpath(res.project), MODE)]
        roles += [(path, MODE) for path in site_packages(res.venv)]
    roles += [(path, LEVEL) for path in levels]
    if res.pointer_path:  # a .venv pointer, or the file a tool's answer came from
        roles.append((res.pointer_path, POINTER))
    roles += [(path, DEPENDENCY_ROLES[kind]) for path, kind in res.depends]
    return tuple(roles)


class Daemon:
    """The event loop and its per-shell bookkeeping."""

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        self.sel = selectors.DefaultSelector()
        self.watcher = w.make_watcher()
        self.resolver = Resolver(cacheable=self.watcher.is_watched)
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        self.ctx = Context(self.resolver, TrustStore())
        # A lost thread that ends wakes the loop: the shells it left unanswered ask again.
        self.offload: Offload[tuple[Resolution, Target]] = Offload(
            FS_DEADLINE, MAX_STUCK, on_lost_done=self._wake
        )
        self._unanswered: dict[str, Session] = {}  # told "no answer yet", to nudge later
        self._refusing = False  # MAX_STUCK threads are stuck (logged once)
        self.known = KnownProjects()
        with contextlib.suppress(TrustStoreError):
            self.ctx.trust.ensure()
        self.sessions: dict[str, Session] = {}
        self.dirty_since: float | None = None
        self.last_event = 0.0
        self.idle_since = time.monotonic()
        self.running = True
        self.next_rescan = 0.0
        self.next_poll = 0.0
        self.workon_children: set[str] = set()
        self._newborn: set[str] = set()
        # Judgements (trust, venv health) stay valid until a watched file changes or the
        # trust store does (checked by its directories' mtimes: `shellhook allow` in a
        # shell makes that shell ask at once, before the daemon hears the file event).
        self._judged: dict[tuple[Resolution, tuple], Target] = {}
        # Reply frames without their seq, per request (but its seq) and judgement: most
        # requests repeat one made before (cd back and forth). Dropped with _judged.
        self._replies: dict[tuple, bytes] = {}
        # What each answer depends on (resolution_roles globs site-packages). Dropped too.
        self._depends: dict[tuple, Roles] = {}
        # Watched whatever the shells do: new shells, named venvs, trust, config.
        home = self.resolver.workon_home
        self.static_roles: Roles = (
            (str(rundir), RUNDIR),
            (home, WORKON),
            (os.path.dirname(home), WORKON_PARENT),
            *((d, TRUST) for d in self.ctx.trust.watched_dirs()),
            (str(locations.config_file().parent), CONFIG),
        )
        # What the watches are for: each source (a session's id, "static", "children",
        # "newborn") wants (path, role) pairs; _refs counts them per path and role.
        self._sources: dict[str, Roles] = {}
        self._refs: dict[str, dict[str, int]] = {}
        self._roles: dict[str, set[str]] = {}  # every watched path (spares too): its roles
        self.debug = log.isEnabledFor(logging.DEBUG)
        # Counters, logged on SIGUSR1 (bench/ and the breakdown read them).
        self.stats = dict.fromkeys(("requests", "wakeups", "changes", "relevant", "flushes"), 0)

    # -- set-up -------------------------------------------------------------------
    def run(self) -> None:
        """Serve until stopped (SIGTERM/SIGINT) or idle for IDLE_EXIT seconds."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGUSR1, lambda *_: self._log_stats())
        self.sel.register(self._wake_r, selectors.EVENT_READ, self._on_wake)
        self.sel.register(self.watcher.fileno(), selectors.EVENT_READ, self._on_fs_events)
        self.watcher.start()
        self._refresh_workon_children()
        self._reconcile_watches()
        self._scan_rundir()
        for session in list(self.sessions.values()):
            if session.last is not None:
                # Its shell asked before we ran and had its answer from the one-off
                # Python, which may be stale by now (and which we never saw): it asks
                # again at its next prompt. (One with no request was nudged already.)
                self._nudge(session)
        log.info("daemon %d serving %s", os.getpid(), self.rundir)
        while self.running:
            for key, _mask in self.sel.select(self._timeout()):
                callback: Callable[[], None] = key.data
                callback()
            self._maybe_flush()
            self._maybe_rescan()
            if not self.sessions and time.monotonic() - self.idle_since > IDLE_EXIT:
                log.info("idle for %ds, exiting", IDLE_EXIT)
                break
        self.watcher.stop()

    def stop(self) -> None:
        """Ask the loop to end (safe in a signal handler: it only wakes the selector)."""
        self.running = False
        self._wake()

    def _wake(self) -> None:
        """Wake the loop (from a signal handler or another thread)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"w")

    def _on_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass
        self._nudge_unanswered()

    def _nudge_unanswered(self) -> None:
        """Nudge the shells told "no answer yet" whose place no lost thread is stuck on
        any more: they ask again (a cache miss, answered now that the stat returns)."""
        if not self._unanswered:
            return
        stuck = self.offload.stuck_on()
        for sid, session in list(self._unanswered.items()):
            req = session.last
            if req is not None and any(_under(req.pwd, hung) for hung in stuck):
                continue
            del self._unanswered[sid]
            if self.sessions.get(sid) is session:
                self._nudge(session)

    def _log_stats(self) -> None:
        counts = " ".join(f"{k}={v}" for k, v in self.stats.items())
        log.info("stats: %s sessions=%d watches=%d", counts, len(self.sessions), len(self._roles))

    def _timeout(self) -> float | None:
        timeout = self._event_timeout()
        if self.watcher.is_watched(str(self.rundir)):
            return timeout
        # Unwatched (inotify limits): new shells are found by a rescan, on a timer, and
        # fish's requests by a look at their files, on a shorter one.
        due = self.next_rescan
        if self._file_sessions():
            due = min(due, self.next_poll)
        rescan = max(0.0, due - time.monotonic())
        return rescan if timeout is None else min(timeout, rescan)

    def _event_timeout(self) -> float | None:
        if self.dirty_since is not None:
            now = time.monotonic()
            return max(0.0, min(self.last_event + DEBOUNCE, self.dirty_since + DEBOUNCE_MAX) - now)
        if not self.sessions:
            return max(0.0, IDLE_EXIT - (time.monotonic() - self.idle_since)) + 0.01
        return None

    def _maybe_rescan(self) -> None:
        """The fallback for a runtime dir that cannot be watched: adopt the shells that
        appeared since the last look, and try the watches again; in between, answer what
        the fish shells wrote in their request files."""
        now = time.monotonic()
        if self.watcher.is_watched(str(self.rundir)):
            return
        if now >= self.next_rescan:
            self.next_rescan = now + RESCAN
            self.next_poll = now + POLL
            self._scan_rundir()
            self._added(self.watcher.retry())
        elif now >= self.next_poll:
            self.next_poll = now + POLL
            for session in self._file_sessions():
                self._serve(session)

    def _file_sessions(self) -> list[Session]:
        """The sessions whose requests are files (fish's): no fd says one was written."""
        return [s for s in self.sessions.values() if isinstance(s, FileSession)]

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
        self._unanswered.pop(session.sid, None)
        if not self.sessions:
            self.idle_since = time.monotonic()
        log.info("detached %s", session.sid)
        self._want(session.sid, ())

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
            try:
                if self.debug or DEBUG_DELAY:
                    self._answer_timed(session, req)
                else:
                    self._answer(session, req)
            except Exception:  # a defect costs that shell one answer, not every shell us
                log.exception("answering %s about %r failed", session.sid, req.pwd)

    def _resolution(self, req: protocol.Request) -> tuple[Resolution, Target] | None:
        """What ``req``'s directory resolves to, in the asking shell's scope (its own
        $WORKON_HOME), judged. The config is re-read first: home_is_project is part of it.

        From the caches in this thread (the cd hot path: no thread hand-off); else on a
        thread of its own, for at most FS_DEADLINE: None then (no answer: the shell falls
        back).
        """
        if self.ctx.reload_config():
            self._judged.clear()
            self._replies.clear()
        scope = self.ctx.scope_for(req)
        res = self.resolver.cached(req.pwd, scope)
        if res is not None:
            target = self._cached_judgement(res)
            if target is not None:
                return res, target
        return self._offloaded(req.pwd, scope)

    def _cached_judgement(self, res: Resolution) -> Target | None:
        """``res``'s judgement when it is cached and needs no file checked, else None."""
        if res.venv is not None and not self.watcher.is_watched(res.venv):
            return None  # never cached
        target = self._judged.get((res, self.ctx.trust.generation()))
        if target is None or not (target.stamp is None or self._modes_heard(res)):
            return None
        return target

    def _offloaded(self, pwd: str, scope: Scope) -> tuple[Resolution, Target] | None:
        """``pwd`` resolved and judged on a thread, with the caches it may change: the
        resolver, the context and the judgements. When it does not answer in time they
        are replaced by copies, so the abandoned thread, whenever its `stat` returns,
        changes only objects nobody uses any more (its answer is dropped). The copies keep
        the whole answers and judgements: the other shells' cds stay cache hits."""
        for hung in self.offload.stuck_on():
            if _under(pwd, hung):
                return None  # still stuck there: no second thread for the same place
        resolver, ctx, judged = self.resolver, self.ctx, self._judged

        def job() -> tuple[Resolution, Target]:
            res = resolver.resolve(pwd, scope)
            return res, self._judge_in(ctx, judged, res)

        try:
            got = self.offload.run(job, tag=pwd)
        except Lost as exc:
            log.warning(
                "no answer about %r: %s (a hung file system?); its thread is abandoned "
                "(%d now) with the caches it could change",
                pwd,
                exc,
                self.offload.stuck(),
            )
            # What it may still change is copied as it is now (all of it consistent:
            # this thread changed nothing while it waited); the originals are its own.
            self.resolver = resolver.successor()
            self.ctx = dataclasses.replace(ctx, resolver=self.resolver, _scopes=dict(ctx._scopes))
            self._judged = dict(judged)
            return None
        except Unavailable as exc:
            if not self._refusing:
                log.warning("%s: answering only from the caches until one returns", exc)
                self._refusing = True
            return None
        self._refusing = False
        return got

    def _judge_in(
        self, ctx: Context, judged: dict[tuple[Resolution, tuple], Target], res: Resolution
    ) -> Target:
        """``res`` judged in ``ctx``, cached in ``judged``. The key holds the resolution's
        scope ($WORKON_HOME decides trust too); a cached judgement is re-checked against
        the files' owner and mode unless a chmod of any of them would be heard."""
        if res.venv is not None and not self.watcher.is_watched(res.venv):
            return judge(res, ctx)  # its changes would not be heard: never cached
        key = (res, ctx.trust.generation())
        target = judged.get(key)
        if target is None or not (self._modes_heard(res) or still_current(target)):
            target = judged[key] = judge(res, ctx)
        return target

    def _modes_heard(self, res: Resolution) -> bool:
        """Whether every path whose owner and mode trust checks for ``res`` is watched
        for attribute changes (a new or changed watch drops the judgements: ``_added``)."""
        roles = self._depends.get((res, res.watch, res.depends))
        return roles is not None and all(
            self.watcher.is_watched(path) for path, role in roles if role in MODE_ROLES
        )

    def _reply(self, req: protocol.Request, target: Target) -> bytes:
        """The reply frame for ``req``: what ``decide`` says, encoded (memoized)."""
        manual = req.virtual_env and req.virtual_env != req.marker
        key = (
            req.pwd,
            req.virtual_env,
            req.marker,
            req.owned,
            req.suppressed,
            req.workon_home,
            req.tool_env,
            target,
        )
        tail = None if manual else self._replies.get(key)
        if tail is None:
            ops = decide(req, target, self.ctx)
            # The frame is "R\0SEQ\0" and the rest (docs/protocol.md): kept without SEQ.
            tail = protocol.encode_reply("", ops)[len(b"R\0\0") :]
            if not manual:  # (a manual venv is judged by decide itself, on the spot)
                if len(self._replies) >= 4096:
                    self._replies.clear()
                self._replies[key] = tail
        return b"R\0" + os.fsencode(req.seq) + b"\0" + tail

    def _no_answer(self, session: Session, req: protocol.Request) -> None:
        """Tell ``session`` that its directory cannot be judged now (its file system does
        not answer): a frame with one warning, so the shell keeps its venv as it is
        instead of waiting, or asking a one-off Python that would hang in the same stat.
        It is nudged to ask again once the stuck thread ends (``_nudge_unanswered``)."""
        session.last = req
        session.last_key = None
        self._unanswered[session.sid] = session
        text = (
            f"shellhook: no answer about {path_for_terminal(req.pwd)} yet (its file system "
            "does not respond): the venv stays as it was"
        )
        frame = protocol.encode_reply(req.seq, [(protocol.OP_WARN, text)])
        try:
            session.send(frame)
        except OSError as exc:
            log.warning("cannot answer %s: %s", session.sid, exc)

    def _answer(self, session: Session, req: protocol.Request) -> None:
        self.stats["requests"] += 1
        got = self._resolution(req)
        if got is None:
            self._no_answer(session, req)
            return
        self._unanswered.pop(session.sid, None)
        res, target = got
        frame = self._reply(req, target)
        session.last = req
        session.last_key = (res, target.usable, target.warning)
        try:
            session.send(frame)
        except OSError as exc:
            log.warning("cannot answer %s: %s", session.sid, exc)
        self._after_reply(session, req, res)

    def _answer_timed(self, session: Session, req: protocol.Request) -> None:
        """``_answer``, step by step, timed into the log (SHELLHOOK_DEBUG=1); with
        SHELLHOOK_DEBUG_DELAY, after a sleep before the reply (a slow daemon, for tests)."""
        t = [time.perf_counter_ns()]
        self.stats["requests"] += 1
        got = self._resolution(req)
        t.append(time.perf_counter_ns())
        if got is None:
            log.debug("no answer to %s seq %s (%r)", session.sid, req.seq, req.pwd)
            self._no_answer(session, req)
            return
        self._unanswered.pop(session.sid, None)
        res, target = got
        frame = self._reply(req, target)
        session.last = req
        session.last_key = (res, target.usable, target.warning)
        if DEBUG_DELAY:
            log.info(
                "delaying the answer to %s seq %s (%r) by %gs",
                session.sid,
                req.seq,
                req.pwd,
                DEBUG_DELAY,
            )
            time.sleep(DEBUG_DELAY)
        t.append(time.perf_counter_ns())
        try:
            session.send(frame)
        except OSError as exc:
            log.warning("cannot answer %s: %s", session.sid, exc)
        t.append(time.perf_counter_ns())
        self._after_reply(session, req, res)
        t.append(time.perf_counter_ns())
        steps = ("resolve+judge", "decide", "send", "after")
        log.debug(
            "answer %s seq %s: %s, total %d us (after the reply: watches, lsvenv's projects)",
            session.sid,
            req.seq,
            " ".join(f"{n}={(b - a) // 1000}us" for n, a, b in zip(steps, t, t[1:])),
            (t[3] - t[0]) // 1000,
        )

    def _after_reply(self, session: Session, req: protocol.Request, res: Resolution) -> None:
        """What answering ``req`` with ``res`` leaves to do once the shell has its reply."""
        self._watch_for(session, req, res)
        remember_tool_project(self.known, res)

    def _watch_for(self, session: Session, req: protocol.Request, res: Resolution) -> None:
        """Watch what the answer ``res`` to ``session``'s request ``req`` depends on."""
        key = (res, res.watch, res.depends)  # (the walk is not part of equality)
        roles = self._depends.get(key)
        if roles is None:
            if len(self._depends) >= 4096:
                self._depends.clear()
            roles = self._depends[key] = resolution_roles(res)
        roles += self._home_roles(req)
        if roles != session.watch:
            session.watch = roles
            self._want(session.sid, roles)

    def _nudge(self, session: Session) -> None:
        try:
            session.nudge()
        except OSError as exc:
            log.warning("cannot nudge %s: %s", session.sid, exc)

    # -- file events ----------------------------------------------------------------
    def _on_fs_events(self) -> None:
        self.stats["wakeups"] += 1
        noise = False  # changes that cannot alter an answer were read too
        for change in self.watcher.read():
            self.stats["changes"] += 1
            if change.kind == w.OVERFLOW:
                log.warning("file events were lost: forgetting every cached answer")
                self.resolver.invalidate()
                self._scan_rundir()
                self._dirty()
                continue
            roles = self._roles.get(change.watched, ())
            if self.debug:
                log.debug(
                    "change %s %r in %s (%s)",
                    change.kind,
                    change.name,
                    change.watched,
                    ",".join(sorted(roles)),
                )
            if RUNDIR in roles:
                if change.kind in (w.CREATED, w.WRITTEN) and change.name:
                    self._consider(change.path)
                continue
            if not any(self._relevant(change, role) for role in roles):
                noise = True
                continue
            self.stats["relevant"] += 1
            path = change.path
            # The entry's level and the watched directory's (a venv's pyvenv.cfg changes
            # its project's answer; so may a new child directory the parent's).
            self.resolver.invalidate(path)
            self.resolver.invalidate(change.watched)
            if change.kind == w.CREATED and change.is_dir and (LEVEL in roles or STORE in roles):
                self._newborn.add(path)  # maybe a venv being made: watched for pyvenv.cfg
            self._dirty()
        if noise and self.dirty_since is not None:
            # A flush is due and the storm goes on (a checkout, a build): one flush once it
            # calms down (DEBOUNCE_MAX at most), not one per pause between relevant changes.
            self.last_event = time.monotonic()

    def _dirty(self) -> None:
        self._judged.clear()
        self._replies.clear()
        self._depends.clear()
        self.last_event = time.monotonic()
        if self.dirty_since is None:
            self.dirty_since = self.last_event

    def _relevant(self, change: w.Change, role: str) -> bool:
        """Whether ``change`` to a path of this role can change an answer (DESIGN §6).

        Mirrors the resolver's rules (resolver.py) and what judging a venv reads
        (trust.py, venvinfo.py): a rule that reads another name must be named here.
        """
        name, kind = change.name, change.kind
        if kind == w.GONE or not name:
            return True  # the path itself: deleted, moved, rewritten, chmod-ed
        if kind == w.DELETED and LEVEL in self._roles.get(change.path, ()):
            # A level itself deleted or moved away: its own watch hears nothing while a
            # shell sits in it (the kernel reports an inode's deletion when its last user
            # lets go), and a .project link (rule 6) yields only for a directory that is.
            return True
        if role == LEVEL:
            if name in LEVEL_NAMES:
                return True
            if kind == w.CREATED:
                # A directory may be a venv (rule 2, any name); so may a symlink to one.
                return change.is_dir or _is_symlink(change.path)
            if kind == w.DELETED:
                # Only the child a cached answer came from (rule 2, any name) matters.
                # (Read from the caches: a walk here could hang the loop in a stat.)
                return self.resolver.found_by_child(change.watched)
            return False  # content: only a pointer file's matters (its own watch)
        if role == VENV:
            return name in VENV_NAMES
        if role == BIN:
            return name in PYTHONS
        if role in (WORKON, STORE):
            return kind != w.WRITTEN
        if role == WORKON_PARENT:
            return name in {os.path.basename(home) for home in self._workon_homes()}
        if role == TRUST:
            return not name.startswith(".")  # records, not write_atomic's temp files
        if role == CONFIG:
            return name == locations.config_file().name
        return False

    def _maybe_flush(self) -> None:
        if self.dirty_since is None:
            return
        now = time.monotonic()
        if now - self.last_event < DEBOUNCE and now - self.dirty_since < DEBOUNCE_MAX:
            return
        self.dirty_since = None
        self.stats["flushes"] += 1
        self._refresh_workon_children()
        self._reap_dead_without_pidfd()
        for session in list(self.sessions.values()):
            req = session.last
            if req is None:
                continue
            got = self._resolution(req)
            if got is None:
                continue  # its file system does not answer: nothing to say
            res, target = got
            if (res, target.usable, target.warning) != session.last_key:
                log.info("nudging %s", session.sid)
                self._nudge(session)
            else:
                # The same answer may now rest on other paths (a tool's store that did
                # not exist is nearer now): watch those, or its venv is never seen.
                self._watch_for(session, req, res)
        self._reconcile_watches()

    def _home_roles(self, req: protocol.Request) -> Roles:
        """The watches a shell with a $WORKON_HOME of its own needs (the daemon's own is
        watched anyway)."""
        home = self.ctx.scope_for(req).workon_home
        if home == self.resolver.workon_home:
            return ()
        return ((home, WORKON), (os.path.dirname(home), WORKON_PARENT))

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

    def _want(self, source: str, roles: Roles) -> None:
        """``source`` now wants these (path, role) pairs: change the watches that differ.

        Costs in proportion to what changed for that source, not to every session's.
        """
        old = self._sources.get(source, ())
        if roles == old:
            return
        if roles:
            self._sources[source] = roles
        else:
            self._sources.pop(source, None)
        changed = set()
        old_set, new_set = set(old), set(roles)
        for path, role in old_set - new_set:
            counts = self._refs[path]
            counts[role] -= 1
            if not counts[role]:
                del counts[role]
                if not counts:
                    del self._refs[path]
            changed.add(path)
        for path, role in new_set - old_set:
            counts = self._refs.setdefault(path, {})
            counts[role] = counts.get(role, 0) + 1
            changed.add(path)
        flags = {}
        for path in changed:
            mask = 0
            for role in self._refs.get(path, ()):
                mask |= ROLE_FLAGS[role]
            flags[path] = mask
            if mask:
                self._roles[path] = set(self._refs[path])
            # (a path no longer wanted keeps its roles while its watch is a spare)
        self._added(self.watcher.update(flags))

    def _added(self, added: set[str]) -> None:
        if added:
            # Changes made before a watch existed were not heard: look again once.
            for path in added:
                self.resolver.invalidate(path)
            self._dirty()

    def _reconcile_watches(self) -> None:
        """Watch what is wanted whatever the shells do, and what the directories that just
        appeared need; try again what could not be watched."""
        self._want("static", self.static_roles)
        self._want("children", tuple((path, VENV) for path in sorted(self.workon_children)))
        # A directory just created next to a shell may be a venv still being made.
        self._newborn = {
            d
            for d in self._newborn
            if not {LEVEL, STORE}.isdisjoint(self._refs.get(os.path.dirname(d), ()))
        }
        self._want("newborn", tuple((path, VENV) for path in sorted(self._newborn)))
        self._added(self.watcher.retry())
        self._roles = {
            p: roles
            for p, roles in self._roles.items()
            if p in self._refs or self.watcher.is_watched(p)
        }


def _under(path: str, top: str) -> bool:
    """Whether ``path`` is ``top`` or inside it."""
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def _is_symlink(path: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def serve() -> int:
    """Run the daemon in the foreground (what ``shellhook daemon run`` does)."""
    os.umask(0o077)  # its log, pid file and lock are private whatever the shell's umask
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
