"""Starting, finding, stopping the daemon: lock, pid file, detached spawn."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shellhook import locations
from shellhook.display import path_for_terminal
from shellhook.files import write_atomic

LOCK = "daemon.lock"
PIDFILE = "daemon.pid"
SPAWN_LOCK = "spawn.lock"
LOG_NAME = "daemon.log"  # in locations.log_dir()
# Only these reach the daemon: never PYTHON*, LD_*, or the venv a shell had active.
KEPT_ENV = (
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TMPDIR",
    "WORKON_HOME",
    "SHELLHOOK_IDLE_EXIT",
    "SHELLHOOK_DEBUG",  # 1: the daemon logs each answer's steps, timed
    "SHELLHOOK_DEBUG_DELAY",  # seconds the daemon sleeps before each reply (fault tests)
    "SHELLHOOK_WATCHDOG_OBSERVER",  # 1: watchdog's observer even on Linux (comparisons)
)


@dataclass(frozen=True)
class Status:
    """What we know about the daemon."""

    state: str  # "running", "stopped" (SIGSTOP), "not running"
    pid: int | None
    rundir: Path
    problem: str = ""  # why no daemon can run there (an unsafe runtime dir), if so


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def single_instance(rundir: Path) -> Iterator[bool]:
    """Hold the daemon lock for the body; yields False if another daemon holds it."""
    fd = _try_lock(rundir / LOCK)
    if fd is None:
        yield False
        return
    _setup_logging()
    pidfile = rundir / PIDFILE
    write_atomic(pidfile, f"{os.getpid()}\n".encode())
    try:
        yield True
    finally:
        with contextlib.suppress(OSError):
            if pidfile.read_text().strip() == str(os.getpid()):
                pidfile.unlink()
        os.close(fd)


def _setup_logging() -> None:
    import logging  # (logging and subprocess stay out of the one-shot hook's start-up)
    from logging.handlers import RotatingFileHandler

    logger = logging.getLogger("shellhook")
    logger.setLevel(logging.DEBUG if os.environ.get("SHELLHOOK_DEBUG") == "1" else logging.INFO)
    try:
        logdir = locations.log_dir()
        if logdir.parent == locations.state_dir():
            locations.ensure_private_dir(logdir.parent)  # it also holds the trust store
        locations.ensure_private_dir(logdir)
        handler: logging.Handler = RotatingFileHandler(
            logdir / LOG_NAME, maxBytes=256 * 1024, backupCount=1
        )
    except (OSError, locations.UnsafeDirectory):
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


def why_not_started(st: Status) -> str:
    """Where to find why the daemon did not start: the runtime dir's problem, the log
    when it exists, else the command that shows the error (never a file that is not there)."""
    if st.problem:
        return st.problem
    log = locations.log_dir() / LOG_NAME
    if log.is_file():
        return f"see {path_for_terminal(log)}"
    return "run it in the foreground to see why: shellhook daemon run"


def _process_state(pid: int) -> str | None:
    """One-letter state from /proc (Linux), or None where unknown."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :][:1].decode()


def status(rundir: Path | None = None) -> Status:
    """Whether the daemon runs: its lock is held and its pid file names it."""
    rundir = rundir or locations.runtime_dir()
    try:
        locations.check_private_dir(rundir)
    except locations.UnsafeDirectory as exc:
        if not os.path.lexists(rundir):
            return Status("not running", None, rundir)  # made at the first start
        return Status("not running", None, rundir, str(exc))
    fd = _try_lock(rundir / LOCK)
    if fd is not None:
        os.close(fd)
        return Status("not running", None, rundir)
    try:
        pid = int((rundir / PIDFILE).read_text().strip())
    except (OSError, ValueError):
        return Status("running", None, rundir)  # starting: lock taken, pid not yet written
    state = "stopped" if _process_state(pid) in ("T", "t") else "running"
    return Status(state, pid, rundir)


def spawn() -> None:
    """Start ``shellhook daemon run`` detached: new session, fds closed, scrubbed env."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k in KEPT_ENV or k.startswith("XDG_")}
    subprocess.Popen(  # noqa: S603 - our own interpreter, fixed at install time
        [sys.executable, "-I", "-m", "shellhook", "daemon", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
        cwd="/",
        env=env,
    )


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def ensure(replace_stopped: bool = False, wait: float = 0.0) -> Status:
    """Make sure a daemon runs (started once, under a lock); wait up to ``wait`` s for it.

    With ``replace_stopped`` a SIGSTOPped daemon (a shell timed out on it) is killed
    and replaced. Raises UnsafeDirectory when the runtime dir cannot be used.
    """
    rundir = locations.ensure_private_dir(locations.runtime_dir())
    spawn_fd = None
    deadline = time.monotonic() + 0.5
    while spawn_fd is None and time.monotonic() < deadline:
        spawn_fd = _try_lock(rundir / SPAWN_LOCK)
        if spawn_fd is None:
            time.sleep(0.01)
    try:
        st = status(rundir)
        if st.state == "stopped" and replace_stopped and st.pid:
            os.kill(st.pid, signal.SIGKILL)
            _wait(lambda: status(rundir).state == "not running", 1.0)
            st = status(rundir)
        if st.state == "not running" and spawn_fd is not None:
            spawn()  # a second daemon started meanwhile exits at once: it cannot get the lock
    finally:
        if spawn_fd is not None:
            os.close(spawn_fd)
    if wait:
        _wait(lambda: status(rundir).pid is not None, wait)
    return status(rundir)


def stop(timeout: float = 3.0) -> bool:
    """Stop the daemon (SIGTERM, then SIGKILL). True if one was running."""
    st = status()
    if st.state == "not running" or st.pid is None:
        return False
    os.kill(st.pid, signal.SIGCONT if st.state == "stopped" else 0)
    os.kill(st.pid, signal.SIGTERM)
    if not _wait(lambda: status().state == "not running", timeout):
        os.kill(st.pid, signal.SIGKILL)
        _wait(lambda: status().state == "not running", 1.0)
    return True
