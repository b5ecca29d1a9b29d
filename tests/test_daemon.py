"""Unit tests of the daemon through its real IPC: waits use timeouts, never bare sleeps."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shellhook import locations, protocol
from shellhook.daemon import control
from shellhook.display import path_for_terminal


@pytest.fixture
def env(sandbox, monkeypatch):
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    return sandbox


class FakeShell:
    """A stream-transport client speaking the protocol like a hook script does."""

    def __init__(self, rundir, pid=None):
        self.rundir = rundir
        self.sid = f"{pid or os.getpid()}-t{time.monotonic_ns()}"
        for ext in ("req", "rep"):
            os.mkfifo(rundir / f"{self.sid}.{ext}", 0o600)
        self.w = os.open(rundir / f"{self.sid}.req", os.O_RDWR)
        self.r = os.open(rundir / f"{self.sid}.rep", os.O_RDWR | os.O_NONBLOCK)
        self.seq = 0
        self.buf = b""

    def wait_signal(self, signal_byte: bytes, timeout: float = 5.0) -> None:
        """Consume FIFO bytes until ``signal_byte`` arrives."""
        deadline = time.monotonic() + timeout
        while signal_byte not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, f"no {signal_byte!r} within {timeout}s; got {self.buf!r}"
            if select.select([self.r], [], [], left)[0]:
                self.buf += os.read(self.r, 65536)
        self.buf = self.buf.partition(signal_byte)[2]

    def ask(self, pwd, venv="", marker="", owned=False, off=""):
        self.seq += 1
        req = protocol.Request(str(self.seq), str(pwd), venv, marker, owned, off)
        os.write(self.w, protocol.encode_request(req))
        head = f"R\0{self.seq}\0".encode()
        while True:
            self.wait_signal(protocol.DOORBELL_REPLY)
            frame = (self.rundir / f"{self.sid}.a").read_bytes()
            if frame.startswith(head):
                break
        ops = protocol.parse_reply(frame)
        return [op for op in ops if op[0] not in ("R", "E", "Y")]


def test_single_instance_and_stop(env):
    first = control.ensure(wait=5)
    second = control.ensure(wait=5)
    assert first.state == "running" and first.pid == second.pid
    out = subprocess.run(
        [sys.executable, "-m", "shellhook", "daemon", "status"],
        env=env.env,
        capture_output=True,
        text=True,
    )
    assert out.stdout.startswith("running")
    assert control.stop()
    assert control.status().state == "not running"


def test_answers_and_nudges_on_venv_creation_and_deletion(env):
    import shutil

    st = control.ensure(wait=5)
    proj = env.home / "proj"
    proj.mkdir()
    shell = FakeShell(st.rundir)
    assert shell.ask(proj) == []
    env.make_venv(proj / ".venv")
    env.shellhook("allow", str(proj))
    shell.wait_signal(protocol.DOORBELL_NUDGE)
    ops = shell.ask(proj)
    assert ("A", str(proj / ".venv")) in ops
    venv = str(proj / ".venv")
    assert shell.ask(proj, venv=venv, marker=venv, owned=True) == []
    shutil.rmtree(proj / ".venv")
    shell.wait_signal(protocol.DOORBELL_NUDGE)
    assert ("D", "") in shell.ask(proj, venv=venv, marker=venv, owned=True)


def test_shell_exit_detaches_and_cleans_up(env):
    st = control.ensure(wait=5)
    child = subprocess.Popen(["sleep", "30"])
    shell = FakeShell(st.rundir, pid=child.pid)
    assert shell.ask(env.home) == []
    child.kill()
    child.wait()
    deadline = time.monotonic() + 5
    while (st.rundir / f"{shell.sid}.req").exists():
        assert time.monotonic() < deadline, "FIFOs of an exited shell were not removed"
        select.select([], [], [], 0.05)


def test_idle_daemon_exits(env, monkeypatch):
    monkeypatch.setenv("SHELLHOOK_IDLE_EXIT", "0.5")
    st = control.ensure(wait=5)
    assert st.state == "running"
    proc = st.pid
    deadline = time.monotonic() + 10
    while control.status().state != "not running":
        assert time.monotonic() < deadline, "idle daemon did not exit"
        select.select([], [], [], 0.1)
    # The lock goes a moment before the process ends: give it that moment, bounded.
    while control._process_state(proc) not in (None, "Z"):  # gone, or a zombie of ours
        assert time.monotonic() < deadline, "idle daemon released its lock but lives on"
        select.select([], [], [], 0.01)


@pytest.mark.parametrize("bad", ["mode", "symlink"])
def test_unsafe_runtime_dir_is_refused(env, bad, tmp_path):
    rundir = locations.runtime_dir()
    rundir.parent.mkdir(parents=True, exist_ok=True)
    if bad == "mode":
        rundir.mkdir(mode=0o777)
        os.chmod(rundir, 0o777)
    else:
        (tmp_path / "attacker").mkdir(mode=0o700)
        os.symlink(tmp_path / "attacker", rundir)
    with pytest.raises(locations.UnsafeDirectory):
        control.ensure()
    out = env.shellhook("hook", "1", str(env.home), "", "", "0", "", "", check=False)
    assert out.returncode == 0 and "daemon not started" in out.stdout
    assert not (tmp_path / "attacker" / "daemon.pid").exists()


def test_stampede_of_shells_starts_one_daemon(env):
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-m",
                "shellhook",
                "hook",
                "1",
                str(env.home),
                "",
                "",
                "0",
                "",
                "",
            ],
            env=env.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.startswith(b"R\x001\x00"), err
    st = control.ensure(wait=5)
    assert st.state == "running"
    deadline = time.monotonic() + 5
    while True:
        daemons = [p for p in os.listdir("/proc") if p.isdigit() and _is_our_daemon(p, env)]
        if len(daemons) == 1 or time.monotonic() > deadline:
            break
        select.select([], [], [], 0.1)
    assert daemons == [str(st.pid)]


def _is_our_daemon(pid: str, env) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        state = control._process_state(int(pid))
    except OSError:
        return False
    home = f"HOME={env.home}".encode()
    return cmdline[-3:-1] == [b"daemon", b"run"] and home in environ and state != "Z"


# -- inotify limits (simulated: lowering fs.inotify.* would hit every root process on this
# machine, other test runs included; the daemon runs with the failure patched in) ----------

LIMIT_PATCHES = {
    # max_user_instances reached: inotify_init fails, in our backend and watchdog's.
    "instances": (
        "import ctypes, errno\n"
        "from watchdog.observers import inotify_c\n"
        "def fail(*_):\n"
        "    ctypes.set_errno(errno.EMFILE)\n"
        "    return -1\n"
        "inotify_c.inotify_init = fail\n"
    ),
    # max_user_watches reached: every inotify_add_watch fails.
    "watches": (
        "import errno\n"
        "from shellhook.daemon import watcher\n"
        "def fail(self, path, flags):\n"
        "    raise OSError(errno.ENOSPC, 'inotify watch limit reached', path)\n"
        "watcher.InotifyWatcher._add_watch = fail\n"
    ),
}


@pytest.mark.parametrize("limit", sorted(LIMIT_PATCHES))
def test_inotify_limits_keep_the_daemon_serving_new_shells(env, limit):
    """Case 41: the daemon starts, adopts shells started after it (a rescan of the
    unwatched runtime dir), answers correctly, and logs the limit once."""
    code = LIMIT_PATCHES[limit] + "import sys\nfrom shellhook.daemon.server import serve\n"
    daemon = subprocess.Popen(
        [sys.executable, "-c", code + "sys.exit(serve())"], env=env.env, cwd="/"
    )
    try:
        deadline = time.monotonic() + 10
        while control.status().pid != daemon.pid:
            assert daemon.poll() is None, f"the daemon died at start ({daemon.returncode})"
            assert time.monotonic() < deadline, "the daemon did not start"
            select.select([], [], [], 0.05)
        proj = env.project("proj")
        shell = FakeShell(locations.runtime_dir())  # after the start: found by a rescan
        assert ("A", str(proj / ".venv")) in shell.ask(proj)
        (proj / ".venv" / "pyvenv.cfg").write_text("home = /x\n")  # not heard: not cached
        assert ("A", str(proj / ".venv")) not in shell.ask(env.home / "..")
        assert ("A", str(proj / ".venv")) not in shell.ask(proj)
    finally:
        control.stop()
        daemon.wait(5)
    log = (locations.log_dir() / "daemon.log").read_text()
    said = [line for line in log.splitlines() if " WARNING " in line]
    assert len(said) == 1, log


def test_umask_000_makes_nothing_open_to_others(env):
    """Case 25: state dirs 0700, records and the log 0600, whatever the umask."""
    proj = env.project("proj", trust=False)
    old = os.umask(0)
    try:
        env.shellhook("allow", str(proj))
        st = control.ensure(wait=5)
    finally:
        os.umask(old)
    assert st.state == "running"
    state = env.home / ".local" / "state"
    for directory in (state, state / "shellhook", locations.trust_dir(), locations.log_dir()):
        assert directory.stat().st_mode & 0o777 == 0o700, directory
    log = locations.log_dir() / "daemon.log"
    deadline = time.monotonic() + 5
    while not log.exists():
        assert time.monotonic() < deadline
        select.select([], [], [], 0.05)
    assert log.stat().st_mode & 0o777 == 0o600
    for record in (locations.trust_dir() / "allow").iterdir():
        assert record.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("bad", ["missing", "mode", "owner"])
def test_a_bad_xdg_runtime_dir_falls_back_and_the_daemon_starts(env, monkeypatch, bad):
    """Issue 13: as platformdirs does, an XDG_RUNTIME_DIR that is missing (and cannot be
    made), not 0700 or not ours is passed over for $TMPDIR/runtime-<uid>."""
    xdg = env.root / "xdg"
    if bad == "missing":
        xdg.write_text("a file: nothing can be made below it")
        xdg = xdg / "run"
    else:
        xdg.mkdir(mode=0o755)
        xdg.chmod(0o755)
        if bad == "owner":
            if os.geteuid() != 0:
                pytest.skip("chown to another uid needs root")
            xdg.chmod(0o700)
            os.chown(xdg, 4242, 4242)
    tmp = env.root / "tmp"
    tmp.mkdir()
    env.env.update(XDG_RUNTIME_DIR=str(xdg), TMPDIR=str(tmp))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    monkeypatch.setenv("TMPDIR", str(tmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    try:
        out = env.shellhook("daemon", "start", check=False)
        assert out.returncode == 0, out.stderr
        assert locations.runtime_dir().is_relative_to(tmp)
        assert control.status().state == "running"
    finally:
        env.stop_daemon()


def test_why_the_daemon_did_not_start_names_no_missing_file(env):
    st = control.Status("not running", None, locations.runtime_dir())
    assert control.why_not_started(st).endswith("shellhook daemon run")  # no log yet
    log = locations.log_dir() / control.LOG_NAME
    log.parent.mkdir(parents=True)
    log.write_text("")
    assert control.why_not_started(st) == f"see {path_for_terminal(log)}"
