"""Case 40 (docs/threats.md): a request stuck in a `stat` on a hung file system.

A FUSE file system whose server is stopped (bindfs, SIGSTOP) makes every `stat` under its
mount point block. One shell asks about a directory there; meanwhile another shell cds
between trusted projects and must get each answer from the daemon, fast (issue 13).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shellhook import protocol
from shellhook.daemon import control
from shellhook.daemon.server import MAX_STUCK
from tests.test_daemon import FakeShell

SHELL_WAIT = 0.2  # a hook's bounded wait for the daemon (DESIGN §6)
HUNG_AT = 5.0  # a prompt not back after this long counts as hung (as in test_faults.py)


@pytest.fixture
def env(sandbox, monkeypatch):
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    return sandbox


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"cannot stage a hung file system: {why}")
    pytest.skip(f"cannot stage a hung file system: {why}")


@contextlib.contextmanager
def bindfs(src: Path, mnt: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``src`` mirrored at ``mnt`` by a bindfs in the foreground (its pid is ours)."""
    if shutil.which("bindfs") is None:
        _unavailable("bindfs is not installed")
    if not os.path.exists("/dev/fuse"):
        _unavailable("no /dev/fuse")
    mnt.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["bindfs", "-f", str(src), str(mnt)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.ismount(mnt):
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                _unavailable(f"bindfs exited {proc.returncode}: {err.strip()}")
            if time.monotonic() > deadline:
                _unavailable("bindfs did not mount within 10 s")
            time.sleep(0.02)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
        for command in (["fusermount", "-u"], ["fusermount3", "-u"], ["umount", "-l"]):
            with contextlib.suppress(OSError):
                if subprocess.run([*command, str(mnt)], capture_output=True).returncode == 0:
                    break
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def send(shell: FakeShell, pwd: Path) -> str:
    """Ask without waiting for the answer (the shell falls back; we read it later)."""
    shell.seq += 1
    req = protocol.Request(str(shell.seq), str(pwd), "", "", False, "")
    os.write(shell.w, protocol.encode_request(req))
    return str(shell.seq)


def answer_within(shell: FakeShell, pwd: Path, wait: float) -> tuple[list, float] | None:
    """Ask as a hook does: the daemon's ops and how long they took, or None when no
    answer came within ``wait`` seconds (the hook would have fallen back)."""
    start = time.perf_counter()
    seq = send(shell, pwd)
    head = f"R\0{seq}\0".encode()
    while True:
        left = wait - (time.perf_counter() - start)
        if left <= 0 or not select.select([shell.r], [], [], left)[0]:
            return None
        shell.buf += os.read(shell.r, 65536)
        if protocol.DOORBELL_REPLY not in shell.buf:
            continue
        shell.buf = shell.buf.partition(protocol.DOORBELL_REPLY)[2]
        frame = (shell.rundir / f"{shell.sid}.a").read_bytes()
        if frame.startswith(head):
            took = time.perf_counter() - start
            return [op for op in protocol.parse_reply(frame) if op[0] not in "REY"], took


def no_answer(shell: FakeShell, pwd: Path, asked: float) -> tuple[list, float]:
    """The frame ``shell`` got for its last request (about ``pwd``, sent at ``asked``,
    wall clock), which must say there is no answer yet, and how long after ``asked`` it
    was written (the reply file's mtime)."""
    shell.wait_signal(protocol.DOORBELL_REPLY, timeout=SHELL_WAIT)
    reply = shell.rundir / f"{shell.sid}.a"
    frame = reply.read_bytes()
    took = reply.stat().st_mtime - asked
    assert frame.startswith(f"R\0{shell.seq}\0".encode()), frame
    ops = [op for op in protocol.parse_reply(frame) if op[0] not in "RE"]
    assert [op for op, _ in ops] == ["W"], ops
    assert "no answer about" in ops[0][1] and pwd.name in ops[0][1], ops
    return ops, took


def _threads(pid: int | None) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("Threads:"))


def test_a_request_stuck_in_stat_delays_no_other_shell(env, tmp_path, figures):
    one, two, three = (env.project(name) for name in ("one", "two", "three"))
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    (src / "far" / "sub").mkdir(parents=True)
    with bindfs(src, mnt) as server:
        far = mnt / "far"
        env.make_venv(far / ".venv")  # made there: a venv records where it was made
        env.shellhook("allow", str(far))
        daemon = control.ensure(wait=5)
        rundir = daemon.rundir
        a, b = FakeShell(rundir), FakeShell(rundir, pid=os.getpid())
        # B has been in two of its projects: their answers are cached.
        for proj in (one, two):
            got = answer_within(b, proj, 5)
            assert got is not None and ("A", str(proj / ".venv")) in got[0]
        os.kill(server.pid, signal.SIGSTOP)
        try:
            asked = time.time()  # (compared with the reply file's mtime)
            send(a, far / "sub")  # the daemon's stat of it blocks while bindfs is stopped
            time.sleep(0.005)  # B asks while the daemon still waits for that thread
            longest = 0.0
            deadline = time.monotonic() + 1.5
            rounds = 0
            while time.monotonic() < deadline or rounds < 6:
                proj = (one, two, three)[rounds % 3]  # three: never asked before
                got = answer_within(b, proj, SHELL_WAIT)
                assert got is not None, f"no answer about {proj} within {SHELL_WAIT}s (fallback)"
                ops, took = got
                assert ("A", str(proj / ".venv")) in ops
                longest = max(longest, took)
                rounds += 1
            figures.most(
                "longest answer to another shell while one request hangs in stat (ms)",
                round(longest * 1000, 2),
            )
            threads = _threads(daemon.pid)
            figures.most("daemon threads while one request hangs in stat", threads)
            assert threads <= 8  # DESIGN §8
            # A was told at once that there is no answer (its venv stays as it was),
            # rather than left to wait, then to ask a one-off Python that would hang too.
            ops, took = no_answer(a, far / "sub", asked)
            figures.most(
                "time to tell a shell whose directory hangs in stat (ms)", round(took * 1000)
            )
            assert took < SHELL_WAIT, took
            a.buf = b""
        finally:
            os.kill(server.pid, signal.SIGCONT)
        a.wait_signal(protocol.DOORBELL_NUDGE)  # the stat returned: A is told to ask again
        # Back on its feet: A's next question gets a correct answer.
        deadline = time.monotonic() + 5
        while True:
            got = answer_within(a, far, 1.0)
            if got is not None and ("A", str(far / ".venv")) in got[0]:
                break
            assert time.monotonic() < deadline, f"no correct answer about {far}: {got}"
        deadline = time.monotonic() + 5
        while _threads(daemon.pid) > 1:  # the abandoned thread ends once its stat returns
            assert time.monotonic() < deadline, "a thread of the daemon outlived the hang"
            time.sleep(0.02)
        control.stop()


def test_stuck_threads_are_capped_and_cached_answers_still_come(env, tmp_path, figures):
    one, two, three = (env.project(name) for name in ("one", "two", "three"))
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    many = MAX_STUCK + 2
    for i in range(many):
        (src / f"d{i}").mkdir(parents=True)
    with bindfs(src, mnt) as server:
        daemon = control.ensure(wait=5)
        b = FakeShell(daemon.rundir)
        for _ in range(2):  # the first answers add watches, which drop the caches once
            for proj in (one, two):
                got = answer_within(b, proj, 5)
                assert got is not None and ("A", str(proj / ".venv")) in got[0]
            time.sleep(0.3)  # past the debounce (DEBOUNCE_MAX)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            for i in range(many):  # each in a place of its own: a thread each, up to the cap
                send(FakeShell(daemon.rundir), mnt / f"d{i}")
            deadline = time.monotonic() + 5
            while _threads(daemon.pid) < 1 + MAX_STUCK:
                assert time.monotonic() < deadline, f"threads: {_threads(daemon.pid)}"
                time.sleep(0.02)
            time.sleep(0.2)  # the requests beyond the cap: refused at once
            longest = 0.0
            for i in range(6):
                proj = (one, two)[i % 2]
                got = answer_within(b, proj, SHELL_WAIT)
                assert got is not None and ("A", str(proj / ".venv")) in got[0]
                longest = max(longest, got[1])
            figures.most(
                "longest cached answer with the stuck threads at their cap (ms)",
                round(longest * 1000, 2),
            )
            # A question that needs the file system is told there is no answer yet.
            got = answer_within(b, three, SHELL_WAIT)
            assert got is not None and [op for op, _ in got[0]] == ["W"], got
            assert "no answer about" in got[0][0][1]
            threads = _threads(daemon.pid)
            figures.most("daemon threads with the stuck threads at their cap", threads)
            assert threads == 1 + MAX_STUCK
        finally:
            os.kill(server.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while _threads(daemon.pid) > 1:
            assert time.monotonic() < deadline, "a thread of the daemon outlived the hang"
            time.sleep(0.02)
        got = answer_within(b, three, 2)
        assert got is not None and ("A", str(three / ".venv")) in got[0]
        got = answer_within(FakeShell(daemon.rundir), mnt / "d0", 2)
        assert got is not None and got[0] == []
        control.stop()


def test_a_shell_whose_venv_hangs_keeps_its_prompt_and_venv(
    sandbox, spawn, shell_name, tmp_path, figures
):
    """A project whose `.venv` links into a hung mount: the cd there returns within the
    daemon's deadline with one line, the venv stays as it was (no one-off Python that
    would hang in the same stat), and the venv comes once the mount answers again."""
    here = sandbox.project("here")
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    (src / "far").mkdir(parents=True)
    linked = sandbox.home / "linked"
    linked.mkdir()
    with bindfs(src, mnt) as server:
        far_venv = mnt / "far" / ".venv"
        sandbox.make_venv(far_venv)
        (linked / ".venv").symlink_to(far_venv)
        sandbox.shellhook("allow", str(linked))
        sh = spawn()
        sh.cd(here)
        assert sh.venv() == str(here / ".venv")
        os.kill(server.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            out = sh.cd(linked)  # the shell's own chdir is not on the mount
            seconds = time.monotonic() - start
            figures.most(
                "longest prompt, a cd whose venv hangs in stat (ms)", round(seconds * 1000)
            )
            print(f"longest prompt: {shell_name} venv on a hung mount: {seconds * 1000:.0f} ms")
            # The daemon says so at its 0.1 s deadline. On a loaded machine its answer can
            # come after the shell's 0.2 s wait: the shell then falls back to a one-off
            # Python, which hangs in the same stat until its own limit (seen once in CI:
            # 3 s; docs/threats.md, "Not done"). Never hung, and the venv as it was.
            assert b"no answer about ~/linked yet" in out or seconds > SHELL_WAIT, out
            assert seconds < HUNG_AT
            assert sh.venv() == str(here / ".venv")  # as it was
            assert sh.run("echo x").strip() == b"x"  # later prompts do not wait either
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # The stat returned: the daemon nudges the shell, whose next prompt asks again.
        assert sh.wait_for(lambda: sh.venv() == str(far_venv)), sh.transcript[-2000:]
