"""Fault injection in every shell (issue 13, item 5): a daemon that sleeps inside a request
(``SHELLHOOK_DEBUG_DELAY``), one killed while it sleeps (case 34), Ctrl-C while a reply is
slow (case 37) and a live "daemon" sending malformed, oversized or stale frames (case 5).

Each prompt is timed from sending the line to the prompt after it (``run``'s echo
included: an upper bound), and must stay within ``BOUND``: DESIGN §6's budget is 200 ms,
the bound leaves room for a loaded 2-core CI machine and the one-off Python a timed-out
wait falls back to. The longest prompt is the figure the run's summary prints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Sandbox
from tests.drivers import ShellDriver

BOUND = 1.0  # seconds: 200 ms budgeted, headroom for a loaded CI machine
# fish has no clock: it bounds its wait by rounds of polling, which a loaded machine makes
# slower (1.1-1.5 s seen with a sleeping daemon on 2 busy cores), plus the one-off Python.
FISH_SLOW_BOUND = 3.0
HUNG_AT = 5.0  # a prompt not back after this long counts as hung
FIGURE = "longest prompt, daemon killed/stopped/sleeping (ms)"
HUNG = "hung prompts"
FAKE = b"shellhook-test: FAKE-APPLIED"  # a warning only a malformed frame carries


def rundir(sandbox: Sandbox) -> Path:
    return Path(sandbox.env["XDG_RUNTIME_DIR"]) / "shellhook"


def daemon_log(sandbox: Sandbox) -> bytes:
    """Everything the sandbox's daemons logged so far."""
    return b"".join(p.read_bytes() for p in sorted(sandbox.home.rglob("daemon.log*")))


def wait_until(condition, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def start_slow_daemon(sandbox: Sandbox, delay: float) -> int:
    """Replace the sandbox's daemon by one sleeping ``delay`` s before each reply; its pid
    once it serves (it answered whatever was waiting when it started: shells are calm).
    The shells' own environment has no delay: a daemon they start is a normal one."""
    sandbox.stop_daemon()
    env = {**sandbox.env, "SHELLHOOK_DEBUG_DELAY": str(delay)}
    subprocess.run(
        [sys.executable, "-m", "shellhook", "daemon", "start"],
        env=env,
        capture_output=True,
        timeout=30,
        check=True,
    )
    wait_until(lambda: sandbox.daemon_pid() is not None, what="the slow daemon's pid")
    pid = sandbox.daemon_pid()
    assert pid
    serving = f"daemon {pid} serving".encode()
    wait_until(lambda: serving in daemon_log(sandbox), timeout=20, what="the slow daemon")
    return pid


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def delaying(sandbox: Sandbox, directory: Path):
    """A condition: the daemon is sleeping on a request from ``directory``."""
    needle = repr(str(directory)).encode()
    return lambda: any(
        b"delaying the answer" in line and needle in line
        for line in daemon_log(sandbox).splitlines()
    )


def timed(sh: ShellDriver, command: str) -> tuple[float, bytes]:
    """Run ``command``: seconds until the prompt after it, and what it printed."""
    start = time.monotonic()
    out = sh.run(command)
    return time.monotonic() - start, out


def record(figures, fault: str, shell: str, seconds: float) -> None:
    """The figure of one prompt; a prompt over the bound counts as hung."""
    figures.most(FIGURE, round(seconds * 1000))
    figures.add(HUNG, 1 if seconds >= HUNG_AT else 0)
    print(f"longest prompt: {shell} {fault}: {seconds * 1000:.0f} ms")


def assert_coherent(sh: ShellDriver) -> str | None:
    """DESIGN §4's invariant: VIRTUAL_ENV is set iff its bin is first on PATH, no other
    venv's bin is on PATH, and a prompt prefix shows iff a venv is active. The venv."""
    venv = sh.venv()
    path = os.fsdecode(sh.getenv("PATH") or b"").split(":")
    # (the venvs this test made: the test run's own may be on PATH)
    ours = [p for p in path if p.startswith(str(sh.sandbox) + os.sep)]
    venv_bins = [p for p in ours if os.path.isfile(os.path.join(os.path.dirname(p), "pyvenv.cfg"))]
    if venv:
        assert path[0] == os.path.join(venv, "bin"), (venv, path)
        assert venv_bins == [path[0]], path
        assert sh.prompt_prefix, sh.last_prompt_line
    else:
        assert venv_bins == [], path
        assert not sh.prompt_prefix, sh.last_prompt_line
    return venv


def cd_line(sh: ShellDriver, path: Path) -> str:
    return "cd " + sh.quote(str(path))


def in_background(action) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


# -- a daemon sleeping inside a request -------------------------------------------------
def test_sleeping_daemon_keeps_prompts_bounded_and_converges(sandbox, spawn, shell_name, figures):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.cd(sandbox.home)
    pid = start_slow_daemon(sandbox, 1.0)
    try:
        seconds, _ = timed(sh, cd_line(sh, proj))
        record(figures, "sleeping daemon, cd", shell_name, seconds)
        assert assert_coherent(sh) == str(proj / ".venv")  # answered without the daemon
        assert seconds < (FISH_SLOW_BOUND if shell_name == "fish" else BOUND)
        # The late answers arrive (and ring): later prompts stay bounded and right.
        time.sleep(1.5)
        for _ in range(3):
            seconds, _ = timed(sh, "echo x")
            record(figures, "sleeping daemon, later prompts", shell_name, seconds)
            assert seconds < BOUND
        assert assert_coherent(sh) == str(proj / ".venv")
        seconds, _ = timed(sh, cd_line(sh, sandbox.home))
        record(figures, "sleeping daemon, cd", shell_name, seconds)
        assert seconds < BOUND
        assert assert_coherent(sh) is None
        assert sandbox.daemon_pid() == pid  # slow is not dead: nothing replaced it
    finally:
        kill(pid)


# -- killed inside a request (case 34) --------------------------------------------------
def test_daemon_killed_inside_a_request(sandbox, spawn, shell_name, figures):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.cd(sandbox.home)
    pid = start_slow_daemon(sandbox, 5.0)
    try:
        # Killed while it sleeps on the cd's request, the shell still waiting for it.
        killer = in_background(
            lambda: (wait_until(delaying(sandbox, proj), what="the request"), kill(pid))
        )
        seconds, out = timed(sh, cd_line(sh, proj))
        killer.join(10)
        record(figures, "daemon killed inside a request", shell_name, seconds)
        assert seconds < BOUND
        assert delaying(sandbox, proj)(), "the daemon never got the request"
        assert assert_coherent(sh) == str(proj / ".venv")
        assert out.count(b"activated proj") == 1, out
    finally:
        kill(pid)
    # The next prompts recover through a new daemon.
    assert sh.wait_for(lambda: sandbox.daemon_pid() not in (None, pid))
    for target, venv in ((sandbox.home, None), (proj, str(proj / ".venv"))):
        seconds, _ = timed(sh, cd_line(sh, target))
        record(figures, "after the kill", shell_name, seconds)
        assert seconds < BOUND
        assert assert_coherent(sh) == venv


# -- Ctrl-C during a slow reply (case 37) -----------------------------------------------
USER_TRAP = {
    "bash": "trap 'echo mine' INT",
    "zsh": "trap 'echo mine' INT",
    "xonsh": "__import__('signal').signal(2, lambda *a: print('mine'))",
}


@pytest.mark.parametrize("shell_name", sorted(USER_TRAP))  # fish: tests/test_fish.py
def test_ctrl_c_during_a_slow_reply(sandbox, start_shell, shell_name, figures):
    proj = sandbox.project("proj")
    sh = start_shell(shell_name)
    sh.run(USER_TRAP[shell_name])
    sh.cd(sandbox.home)
    before = sh.getenv("PATH")
    pid = start_slow_daemon(sandbox, 5.0)
    pressed: list[float] = []

    def press() -> None:
        wait_until(delaying(sandbox, proj), what="the request")
        pressed.append(time.monotonic())
        sh.child.sendintr()

    try:
        presser = in_background(press)
        seconds, _ = timed(sh, cd_line(sh, proj))
        presser.join(10)
        assert pressed, "Ctrl-C was never pressed"
        after_press = time.monotonic() - pressed[0]
        record(figures, "Ctrl-C while the daemon sleeps", shell_name, seconds)
        print(f"prompt after Ctrl-C: {shell_name}: {after_press * 1000:.0f} ms")
        assert seconds < BOUND and after_press < BOUND
        venv, path = assert_coherent(sh), sh.getenv("PATH")
        assert (venv, path) in (
            (None, before),
            (str(proj / ".venv"), os.fsencode(proj / ".venv/bin") + b":" + before),
        )
        sh.cd(sandbox.home)
        sh.cd(proj)
        assert assert_coherent(sh) == str(proj / ".venv")
    finally:
        kill(pid)
    if shell_name != "xonsh":
        # xonsh runs on_chdir handlers in a ProcProxyThread, whose SIGINT handler stays
        # installed after a Ctrl-C during it, in place of the user's: xonsh's own doing.
        sh.child.sendintr()  # at the prompt: the user's trap is still theirs
        assert b"mine" in sh.sync()


# -- malformed frames from a live daemon (case 5) ---------------------------------------
FAKE_DAEMON = r'''
"""A "daemon" for tests: holds the lock and daemon.pid, answers every shell honestly (as
`shellhook hook` would) except the first request from DIR after MODE is written to
MODE_FILE ("MODE\nDIR"), which gets the faulty frame of that mode."""
import fcntl, os, sys, time
from pathlib import Path
from shellhook import protocol
from shellhook.daemon.sessions import FileSession, SessionFile, StreamSession, parse_session_file
from shellhook.policy import Context, decide, judge
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore

rundir, mode_file, decoy, served = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = os.open(rundir / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
(rundir / "daemon.pid").write_text(f"{os.getpid()}\n")
print("ready", flush=True)
BIG = 10 * 1024 * 1024
SENTINEL = os.path.join(os.path.dirname(decoy), "PWNED")
HOSTILE_KEYS = (
    f"FOO;touch {SENTINEL}", "1ABC", "", "PS1", "PROMPT_COMMAND", "BASH_ENV", "ENV",
    "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "PYTHONPATH", "PYTHONSTARTUP", "ZDOTDIR",
    "SHELLOPTS", "fish_prompt", "PATH", "VIRTUAL_ENV",
)
PAYLOADS = (  # each shell's substitution syntax
    f"$(touch {SENTINEL})", f"`touch {SENTINEL}`", f"'; touch {SENTINEL}; '",
    f"(touch {SENTINEL})", f"@(open({SENTINEL!r}, 'w'))",
    f"__import__('os').system('touch {SENTINEL}')", f"\\n touch {SENTINEL}\n",
)


def honest(req):
    ctx = Context(Resolver(), TrustStore())
    res = ctx.resolver.resolve(req.pwd, ctx.scope_for(req))
    ops = decide(req, judge(res, ctx), ctx) + [("Y", str(rundir))]
    return protocol.encode_reply(req.seq, ops)


def faulty(mode, req):
    seq = req.seq.encode()
    bad_ops = [("W", "shellhook-test: FAKE-APPLIED"), ("A", decoy)]
    bad = protocol.encode_reply(req.seq, bad_ops)
    body = bad[len(b"R\0" + seq + b"\0"):]  # W ... A decoy E ''
    head = b"R\0" + seq + b"\0"
    if mode == "truncated":  # cut inside the venv's path, no E
        return bad[:-7]
    if mode == "huge-field":  # 10 MB in one field, then a complete frame's end
        return head + b"P\0" + b"x" * BIG + b"\0" + body
    if mode == "huge-fields":  # 10 MB of short unknown pairs, then the end
        return head + b"Z\0z\0" * (BIG // 4) + body
    if mode == "invalid-utf8-seq":  # not our seq once decoded
        return b"R\0" + seq + b"\xff\0" + body
    if mode == "invalid-utf8-ops":  # unknown op codes, not UTF-8: skipped, the rest applied
        frame = honest(req)
        return head + b"\xff\xfe\0\xc3\x28\0" + frame[len(head):]
    if mode == "extra-nul":  # pairs shifted: E lands in an argument
        return head + b"W\0shellhook-test: FAKE-APPLIED\0\0A\0" + os.fsencode(decoy) + b"\0E\0\0"
    if mode == "concatenated":  # ours, then another frame with our seq: the first counts
        return honest(req) + bad
    if mode == "stale":  # another request's seq
        return protocol.encode_reply(str(int(req.seq) - 1), bad_ops)
    if mode == "hostile-keys":  # case 4: env-like keys, each with every payload, then ours
        pairs = b"".join(
            os.fsencode(key) + b"\0" + os.fsencode(payload) + b"\0"
            for key in HOSTILE_KEYS for payload in PAYLOADS
        )
        return head + pairs + honest(req)[len(head):]
    if mode == "hostile-values":  # case 4: the data ops with every payload, then ours
        # (42 pairs: under fish's cap of 54, past which a frame is not the daemon's)
        ops = [(op, payload) for op in "PLMSWC" for payload in PAYLOADS]
        return head + protocol.encode_reply(req.seq, ops)[len(head):-len(b"E\0\0")] + (
            honest(req)[len(head):]
        )
    raise ValueError(mode)


sessions = {}
while True:
    for name in os.listdir(rundir):
        found = parse_session_file(name)
        if found is None or found[0] in sessions:
            continue
        sid, pid, kind = found
        if kind in (SessionFile.REQUESTS, SessionFile.DOORBELL):
            session = StreamSession.adopt(rundir, sid, pid)
        elif kind is SessionFile.REQUEST:
            session = FileSession(rundir, sid, pid)
        else:
            continue
        if session is not None:
            sessions[sid] = session
    for session in sessions.values():
        for req in session.receive():
            session.last = req
            mode, _, where = mode_file.read_text().partition("\n")
            if mode and req.pwd == where:
                mode_file.write_text("")
                frame = faulty(mode, req)
                with open(served, "a") as f:
                    f.write(f"{mode} {req.seq}\n")
            else:
                frame = honest(req)
            session.send(frame)
    time.sleep(0.005)
'''

MODES = (
    "truncated",
    "huge-field",
    "huge-fields",
    "invalid-utf8-seq",
    "invalid-utf8-ops",
    "extra-nul",
    "concatenated",
    "stale",
)


@contextlib.contextmanager
def fake_daemon(sandbox: Sandbox, decoy: Path):
    """The fake daemon in place of the sandbox's: yields (mode file, served file)."""
    sandbox.stop_daemon()
    script = sandbox.root / "fake_daemon.py"
    script.write_text(FAKE_DAEMON)
    mode_file, served = sandbox.root / "fault-mode", sandbox.root / "faults-served"
    mode_file.write_text("")
    fake = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(rundir(sandbox)),
            str(mode_file),
            str(decoy),
            str(served),
        ],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    try:
        assert fake.stdout is not None and fake.stdout.readline() == b"ready\n"
        yield mode_file, served
        assert fake.poll() is None, "the fake daemon died"
    finally:
        fake.kill()
        fake.wait()


def test_malformed_frames_from_a_live_daemon(sandbox, spawn, shell_name, figures):
    proj = sandbox.project("proj")
    decoy = sandbox.make_venv(sandbox.root / "decoy")
    sh = spawn(env={"SHELLHOOK_QUIET": "1"})  # only W lines print: the fake's, or errors
    sh.cd(sandbox.home)
    before = sh.getenv("PATH")
    with fake_daemon(sandbox, decoy) as (mode_file, served):
        sh.sync()
        problems = []  # every mode is tried: the failures of each are reported together
        for mode in MODES:
            mode_file.write_text(f"{mode}\n{proj}")
            seconds, out = timed(sh, cd_line(sh, proj))
            record(figures, f"malformed frame: {mode}", shell_name, seconds)
            try:
                assert mode in served.read_text(), "never sent"
                # Nothing printed but, once a session, the one warning of the honest answer.
                lines = [line for line in out.splitlines() if line.strip()]
                assert all(b"has no pip" in line for line in lines), out
                assert assert_coherent(sh) == str(proj / ".venv")
                assert seconds < BOUND, seconds
            except AssertionError as exc:
                problems.append(f"{mode}: {exc}")
            sh.cd(sandbox.home)
            try:
                assert assert_coherent(sh) is None
            except AssertionError as exc:
                problems.append(f"{mode}, cd out: {exc}")
        assert not problems, "\n".join(problems)
        assert sh.getenv("PATH") == before


# The variables a hostile key would set, were keys names (case 4); fish and xonsh have
# no PS1 or PROMPT_COMMAND of their own: unset before and after there.
WATCHED_VARS = (
    "PS1",
    "PROMPT_COMMAND",
    "BASH_ENV",
    "ENV",
    "LD_PRELOAD",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "ZDOTDIR",
    "VIRTUAL_ENV_PROMPT",
)


@pytest.mark.parametrize("mode", ["hostile-keys", "hostile-values"])
def test_hostile_replies_from_a_live_daemon_run_nothing(sandbox, spawn, shell_name, mode):
    """Case 4: a reply carries env-like keys (PS1, BASH_ENV, LD_PRELOAD, an empty one,
    ``FOO;touch``...) or the known ops with each shell's substitution syntax as values,
    before an honest answer. The reply is a closed set of ops, applied as data: no
    sentinel, no variable set by a key, and the honest answer applied coherently."""
    proj = sandbox.project("proj")
    decoy = sandbox.make_venv(sandbox.root / "decoy")
    sentinel = sandbox.root / "PWNED"
    sh = spawn(env={"SHELLHOOK_QUIET": "1"})
    sh.cd(sandbox.home)
    before = {var: sh.getenv(var) for var in WATCHED_VARS if var != "VIRTUAL_ENV_PROMPT"}
    with fake_daemon(sandbox, decoy) as (mode_file, served):
        sh.sync()
        mode_file.write_text(f"{mode}\n{proj}")
        seconds, out = timed(sh, cd_line(sh, proj))
        assert mode in served.read_text(), "never sent"
        assert seconds < BOUND, seconds
        assert not sentinel.exists(), out
        if mode == "hostile-values":  # applied, as data: each W line printed as it came
            assert os.fsencode(f"$(touch {sentinel})") in out, out
        assert assert_coherent(sh) == str(proj / ".venv")
        assert sh.getenv("VIRTUAL_ENV_PROMPT") == b"proj", "the honest name came last"
        sh.cd(sandbox.home)
        assert assert_coherent(sh) is None
        after = {var: sh.getenv(var) for var in before}
        assert after == before
        sh.cd(proj)  # the next answer is an honest one
        assert assert_coherent(sh) == str(proj / ".venv")
    assert not sentinel.exists()


# -- a daemon that never reads (issue 13: a full request FIFO) ----------------------------
NON_READER = r'''
"""A "daemon" for tests that holds the lock and daemon.pid but reads nothing."""
import fcntl, os, sys, time
rundir = sys.argv[1]
lock = os.open(os.path.join(rundir, "daemon.lock"), os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
with open(os.path.join(rundir, "daemon.pid"), "w") as f:
    f.write(f"{os.getpid()}\n")
print("ready", flush=True)
time.sleep(600)
'''


def fill(fifo: Path) -> int:
    """Write to ``fifo`` until it holds all it can (a pipe's 64 KiB); the bytes written."""
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    written = 0
    try:
        for size in (4096, 1):
            with contextlib.suppress(BlockingIOError):
                while True:
                    written += os.write(fd, b"x" * size)
    finally:
        os.close(fd)
    return written


def test_a_daemon_that_never_reads_cannot_block_a_prompt(sandbox, spawn, shell_name, figures):
    """Its pid is alive and it holds the lock, so the shells keep asking it and the one-off
    Python does not replace it. About 600 unanswered requests fill a shell's request FIFO;
    the FIFO is filled here at once. A write to it would block the prompt for good (bash
    and zsh wrote blocking): a shell sends no request while its last one is unread, and
    the one-off Python answers. (fish writes its request to a file it replaces: nothing
    fills; xonsh writes non-blocking.)"""
    proj = sandbox.project("proj")
    sh = spawn()
    sh.cd(sandbox.home)
    session = os.fsdecode(sh.getenv("SHELLHOOK_SESSION") or b"")
    assert session
    sandbox.stop_daemon()
    script = sandbox.root / "non_reader.py"
    script.write_text(NON_READER)
    fake = subprocess.Popen(
        [sys.executable, str(script), str(rundir(sandbox))], stdout=subprocess.PIPE
    )
    try:
        assert fake.stdout is not None and fake.stdout.readline() == b"ready\n"
        requests = rundir(sandbox) / f"{session}{sh.request_suffix}"
        if sh.request_suffix == ".req":
            assert fill(requests) >= 4096
        for _ in range(2):
            for where, venv in ((proj, str(proj / ".venv")), (sandbox.home, None)):
                seconds, _ = timed(sh, cd_line(sh, where))
                record(figures, "daemon that never reads, cd", shell_name, seconds)
                assert seconds < BOUND
                assert assert_coherent(sh) == venv  # answered by the one-off Python
        assert sandbox.daemon_pid() == fake.pid  # nothing replaced it
    finally:
        fake.kill()
        fake.wait()
