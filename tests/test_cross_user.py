"""End-to-end: the cross-user cases of security.md §3 E (26, 27, 29) with a real second
user (made with useradd, as tests/test_e2e_adversarial.py's ``other_uid``), in every shell.

The tests run as root (this machine and CI do): root plays the shell's owner, the second
user plays the squatter (case 26, 27) or the user whose daemon runs (case 29). That user
cannot read the checkout's interpreter (it may live under /root), so what it runs is a
venv of a Python it can execute, owned by it, with copies of shellhook and its
dependencies: a user's own install, as install.sh makes one.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import pytest
import watchdog

import shellhook
from shellhook import adapters
from tests.conftest import home_env, require_shell
from tests.drivers import DRIVERS
from tests.drivers.base import ShellDriver

OTHER_USER = "shellhook-other"  # the same user as tests/test_e2e_adversarial.py's
PROMPT_BOUND = 2.0  # seconds a cd may take here (a one-off Python on 2 busy cores)


def local_user(name: str) -> pwd.struct_passwd:
    """Local user ``name``, made with useradd if need be: root only; outside CI a
    non-root run skips."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run the cross-user tests as root")
        pytest.skip("a second user needs root (useradd, runuser, chown)")
    for tool in ("useradd", "runuser"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", name], check=True)
        return pwd.getpwnam(name)


@pytest.fixture(scope="module")
def other() -> pwd.struct_passwd:
    """The second local user."""
    return local_user(OTHER_USER)


@pytest.fixture(scope="module")
def shared(other: pwd.struct_passwd) -> Iterator[Path]:
    """A directory both users can traverse (pytest's tmp_path is root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="shellhook-xuser-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def as_other(other: pwd.struct_passwd, env: dict[str, str], *argv: str, **kw):
    """Run ``argv`` as the other user with exactly ``env``."""
    cmd = ["runuser", "-u", other.pw_name, "--", "env", "-i"]
    cmd += [f"{k}={v}" for k, v in env.items()]
    return subprocess.run([*cmd, *argv], capture_output=True, text=True, timeout=60, **kw)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    os.lchown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def _python_for(other: pwd.struct_passwd) -> str:
    """A Python 3 the other user can run, with the venv module."""
    candidates = [os.path.realpath(sys.executable), "/usr/bin/python3", "/usr/local/bin/python3"]
    for candidate in dict.fromkeys(candidates):
        if os.path.exists(candidate):
            ok = as_other(other, {"PATH": "/usr/bin:/bin"}, candidate, "-c", "import venv")
            if ok.returncode == 0:
                return candidate
    pytest.fail("no Python the second user can run (with the venv module)")


@dataclass
class World:
    """The other user's files: their install, HOME, runtime dir and daemon."""

    other: pwd.struct_passwd
    base: Path  # everything of theirs is below: HOME, runtime dir, install
    python: Path  # their install's interpreter (a venv of theirs)
    env: dict[str, str]
    project: Path  # a project of theirs, venv allowed

    @property
    def rundir(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "shellhook"

    @property
    def state(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "shellhook"

    def shellhook(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = as_other(self.other, self.env, str(self.python), "-I", "-m", "shellhook", *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def hook(self, shell: str) -> Path:
        """Their ``shellhook init SHELL`` file, as their rc files load it."""
        path = self.base / f"hook.{adapters.get(shell).extension}"
        if not path.exists():
            path.write_text(self.shellhook("init", shell).stdout)
            os.chown(path, self.other.pw_uid, self.other.pw_gid)
        return path

    def daemon_pid(self) -> str:
        return (self.rundir / "daemon.pid").read_text().strip()

    def root_owned(self) -> list[str]:
        """Whatever of shellhook's in their tree belongs to root (a FIFO, a log, a state
        file...): their runtime dir, state dir, shellhook's other dirs, install, project
        (not the shells' own history or config files, which a root shell with their HOME
        writes whatever hook it loads)."""
        found = [str(self.base)] if os.lstat(self.base).st_uid == 0 else []
        home = Path(self.env["HOME"])
        tops = [Path(self.env["XDG_RUNTIME_DIR"]), Path(self.env["XDG_STATE_HOME"])]
        tops += [Path(self.env[f"XDG_{v}_HOME"]) / "shellhook" for v in ("DATA", "CONFIG", "CACHE")]
        tops += [self.python.parent.parent, self.project, home / ".virtualenvs"]
        for top in tops:
            if not os.path.lexists(top):
                continue
            for root, dirs, files in os.walk(top):
                for name in [".", *dirs, *files]:
                    path = os.path.join(root, name)
                    if os.lstat(path).st_uid == 0:
                        found.append(os.path.normpath(path))
        return sorted(set(found))


def processes_of(python: Path, uid: int) -> list[int]:
    """Pids of processes of ``uid`` running ``python`` (by its path, as spawned)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            owner = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        if owner == uid and argv and argv[0] == os.fsencode(python):
            pids.append(int(entry))
    return pids


@pytest.fixture(scope="module")
def world(other: pwd.struct_passwd, shared: Path) -> Iterator[World]:
    """The other user with their own shellhook install, a daemon running and a trusted
    project (made and allowed by them)."""
    base = shared / "user"
    base.mkdir()
    os.chown(base, other.pw_uid, other.pw_gid)
    python = _python_for(other)
    install = base / "install"
    made = as_other(other, {"PATH": "/usr/bin:/bin"}, python, "-m", "venv", "--without-pip",
                    str(install))  # fmt: skip
    assert made.returncode == 0, made.stderr
    (site,) = glob.glob(str(install / "lib" / "python*" / "site-packages"))
    ignore = shutil.ignore_patterns("__pycache__")
    for module in (shellhook, platformdirs, watchdog):
        source = Path(module.__file__ or "").parent
        shutil.copytree(source, Path(site) / source.name, ignore=ignore)  # links followed
    home = base / "home"
    run = base / "run"
    home.mkdir()
    (home / "proj").mkdir()
    run.mkdir(mode=0o700)
    chown_tree(base, other.pw_uid, other.pw_gid)
    env = {
        **home_env(home, run),
        "USER": other.pw_name,
        "LOGNAME": other.pw_name,
        "LANG": "C.UTF-8",
        "PATH": f"{install / 'bin'}:/usr/bin:/bin",
        "SHELLHOOK_IDLE_EXIT": "300",
    }
    w = World(other, base, install / "bin" / "python", env, home / "proj")
    made = as_other(
        other, env, str(w.python), "-m", "venv", "--without-pip", str(w.project / ".venv")
    )
    assert made.returncode == 0, made.stderr
    w.shellhook("allow", str(w.project))
    w.shellhook("daemon", "start")
    deadline = time.monotonic() + 5
    while not (w.rundir / "daemon.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "running" in w.shellhook("daemon", "status").stdout
    for shell in adapters.SHELLS:
        w.hook(shell)
    assert w.root_owned() == []
    yield w
    as_other(other, env, str(w.python), "-I", "-m", "shellhook", "daemon", "stop")


@pytest.fixture
def root_tmp(tmp_path: Path) -> Iterator[Path]:
    """A private TMPDIR for root's shells (where platformdirs' fallback runtime dir is
    made); any daemon root started from the other user's interpreter is killed after."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    yield tmp


@pytest.fixture
def no_root_daemon(world: World) -> Iterator[None]:
    """Fails the test if root runs the other user's interpreter afterwards (and ends it)."""
    yield
    strays = processes_of(world.python, 0)
    for pid in strays:
        os.kill(pid, signal.SIGKILL)
    assert strays == [], "root runs the other user's interpreter"


def fallback_unavailable() -> bool:
    """platformdirs falls back to /run/user/0 when it exists: root's real runtime dir."""
    return os.path.isdir("/run/user/0")


# -- case 29 ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sudo -E", "sudo -E, root's hook", "su"])
def test_a_root_shell_stays_out_of_a_users_daemon(
    sandbox, spawn, shell_name, world, root_tmp, no_root_daemon, how, figures
):
    """Case 29: the other user's daemon runs; a root shell keeps their XDG_RUNTIME_DIR
    (``su``, ``sudo -E``) and, with ``sudo -E``, their HOME, XDG dirs and rc files (so
    their hook, naming their interpreter: the hook says once that it is off), or root's
    own hook (a system-wide install). It cds into their trusted project, back and
    forth: nothing activates, no prompt waits, and root leaves nothing in their runtime
    dir (no FIFO, no request file, their daemon.pid as it was) nor in their state dir,
    and runs no daemon from their interpreter. Under ``su`` root's own project activates
    through a runtime dir of root's own."""
    if how == "su" and fallback_unavailable():
        pytest.skip("root's daemon would use the real /run/user/0")
    pid_before = world.daemon_pid()
    # What the CLI (allow) and the sandbox's teardown (daemon stop) see, too.
    sandbox.env.update({"XDG_RUNTIME_DIR": world.env["XDG_RUNTIME_DIR"], "TMPDIR": str(root_tmp)})
    mine = None
    if how.startswith("sudo -E"):
        env = {k: v for k, v in world.env.items() if k not in ("PATH", "USER", "LOGNAME")}
        theirs = world.hook(shell_name) if how == "sudo -E" else None
        sh = spawn(env={**env, "TMPDIR": str(root_tmp)}, hook=theirs)
    else:
        mine = sandbox.project("mine")
        sh = spawn()
    for _ in range(2):
        took = sh.timed_cd(world.project)
        figures.most("case 29: slowest cd of a root shell (s)", took)
        assert took < PROMPT_BOUND
        assert sh.venv() is None
        sh.cd(sandbox.home)
    if mine is not None:
        sh.cd(mine)
        assert sh.venv() == str(mine / ".venv")
        own = root_tmp / "runtime-0" / "shellhook"
        assert own.is_dir() and os.lstat(own).st_uid == 0
        assert any(p.suffix == sh.request_suffix for p in own.iterdir())
    assert world.root_owned() == []
    assert world.daemon_pid() == pid_before
    assert sh.transcript.count(b"is not root's") == (how == "sudo -E"), sh.transcript


def test_a_root_shell_with_a_fresh_users_home_creates_nothing_there(
    sandbox, spawn, shell_name, other, shared, root_tmp, figures
):
    """Case 29, root's own install: a root shell that kept the HOME and XDG dirs of a user
    who never ran shellhook (``sudo -E``; no ``~/.local/state`` yet). Root's daemon and
    one-off Python used to make ``~/.local/state/shellhook`` root-owned there, which the
    user can then neither use nor remove. Now nothing of shellhook's is made there, its
    prompts stay bounded, and ``shellhook allow`` says why in one line."""
    home = shared / f"fresh-{shell_name}"
    home.mkdir()
    runtime = shared / f"fresh-run-{shell_name}"
    runtime.mkdir(mode=0o700)
    for path in (home, runtime):
        os.chown(path, other.pw_uid, other.pw_gid)
    env = {**home_env(home, runtime), "TMPDIR": str(root_tmp)}
    sandbox.env.update({"TMPDIR": str(root_tmp)})  # root's daemon, stopped at teardown
    sh = spawn(env=env)
    project = sandbox.project("mine")
    for _ in range(2):
        took = sh.timed_cd(project)
        figures.most("case 29: slowest cd of a root shell (s)", took)
        assert took < PROMPT_BOUND
        sh.cd(sandbox.home)
    out = sh.transcript.decode(errors="replace")
    assert "Traceback" not in out
    allow = subprocess.run(
        [sys.executable, "-I", "-m", "shellhook", "allow", str(project)],
        env={**sandbox.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert allow.returncode != 0
    assert allow.stderr.count("\n") == 1 and "use sudo -H or sudo -i" in allow.stderr, allow.stderr
    # (the shells' own files, history and config, are root's: any root shell writes them)
    made = [
        str(p)
        for top in (home, runtime)
        for p in [top, *top.rglob("*")]
        if p.lstat().st_uid == 0 and ("shellhook" in p.name or p.name == "state")
    ]
    assert made == []


# -- cases 26 and 27 ----------------------------------------------------------------------

EVIL_VENV = "/nonexistent/evil-venv"

LISTENER = textwrap.dedent(
    """\
    # A squatter's fake daemon: answers every request it sees with an evil activation.
    import os, stat, sys, time
    rt, evil = sys.argv[1], sys.argv[2]
    log = open(os.path.join(rt, "listener.log"), "a", buffering=1)
    with open(os.path.join(rt, "daemon.pid"), "w") as f:
        f.write(f"{os.getpid()}\\n")
    ours = {"listener.log", "daemon.pid", "stop"}
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not os.path.exists(os.path.join(rt, "stop")):
        for name in sorted(set(os.listdir(rt)) - ours - seen):
            seen.add(name)
            log.write(name + "\\n")
            sid, _, kind = name.rpartition(".")
            path = os.path.join(rt, name)
            try:
                if kind == "req" and stat.S_ISFIFO(os.lstat(path).st_mode):
                    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                    time.sleep(0.01)
                    data = os.read(fd, 65536)
                elif kind == "q":
                    data = open(path, "rb").read()
                else:
                    continue
                seq = data.split(b"\\0")[1]
                ops = [b"R", seq, b"P", b"/", b"M", b"evil", b"L", b"evil",
                       b"A", evil.encode(), b"E", b""]
                with open(os.path.join(rt, sid + ".a"), "wb") as f:
                    f.write(b"\\0".join(ops) + b"\\0")
                if kind == "req":
                    bell = os.open(os.path.join(rt, sid + ".rep"), os.O_WRONLY | os.O_NONBLOCK)
                    os.write(bell, b"R")
            except (OSError, IndexError) as exc:
                log.write(f"{name}: {exc}\\n")
        time.sleep(0.01)
    """
)


@pytest.fixture
def squatter(other: pwd.struct_passwd, shared: Path, world: World) -> Iterator[object]:
    """Start the other user's fake listener in a directory of theirs (``start(rt)``)."""
    script = shared / "listener.py"
    if not script.exists():
        script.write_text(LISTENER)
        script.chmod(0o644)
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(rt: Path) -> None:
        cmd = ["runuser", "-u", other.pw_name, "--", world.python.parent.joinpath("python3")]
        proc = subprocess.Popen([*map(str, cmd), "-I", str(script), str(rt), EVIL_VENV])
        started.append((proc, rt))
        deadline = time.monotonic() + 10
        while not (rt / "daemon.pid").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "no listener"
            time.sleep(0.02)

    yield start
    for proc, rt in started:
        (rt / "stop").touch()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("where", ["tmp-0777", "xdg-0700", "tmp-symlink"])
def test_a_runtime_dir_squatted_by_another_user_is_refused(
    sandbox, spawn, shell_name, other, shared, squatter, where, figures
):
    """Cases 26 and 27 with a real other uid: before root's first shell, the other user
    made root's runtime dir, ``$TMPDIR/runtime-0/shellhook`` (the fallback when
    XDG_RUNTIME_DIR is unset and /run/user/0 missing; 0777 here) or
    ``$XDG_RUNTIME_DIR/shellhook`` (their own 0700 directory in a directory root lets
    them into) and runs a fake daemon there, answering every request with an evil
    activation; or made that fallback name a symlink (theirs) to a private directory of
    root's. Root's shell refuses it: no FIFO or request file of root's appears there,
    the listener never sees a request, no evil venv, and root's trusted project still
    activates (through the one-off Python, or a daemon in a runtime dir of root's own)
    without a slow prompt."""
    if fallback_unavailable():
        pytest.skip("platformdirs would fall back to the real /run/user/0")
    uid, gid = other.pw_uid, other.pw_gid
    tmp = Path(tempfile.mkdtemp(dir=shared, prefix="tmp-"))
    tmp.chmod(0o1777)  # a /tmp: anyone may make names in it
    mine = None
    if where.startswith("tmp-"):
        sandbox.env.pop("XDG_RUNTIME_DIR")
        squat = tmp / "runtime-0"
        squat.mkdir()
        os.chown(squat, uid, gid)
        squat.chmod(0o777)
        rt = squat / "shellhook"
        if where == "tmp-symlink":
            mine = sandbox.root / "private"
            mine.mkdir(mode=0o700)
            rt.symlink_to(mine)
            os.lchown(rt, uid, gid)
        else:
            rt.mkdir()
            os.chown(rt, uid, gid)
            rt.chmod(0o777)
    else:
        xdg = Path(tempfile.mkdtemp(dir=shared, prefix="xdg-"))
        xdg.chmod(0o711)  # root's, but the other user may pass
        sandbox.env["XDG_RUNTIME_DIR"] = str(xdg)
        rt = xdg / "shellhook"
        rt.mkdir(mode=0o700)
        os.chown(rt, uid, gid)
    sandbox.env["TMPDIR"] = str(tmp)
    if mine is None:
        squatter(rt)
    proj = sandbox.project("proj")
    sh = spawn()
    for _ in range(2):
        took = sh.timed_cd(proj)
        figures.most("case 26: slowest cd beside a squatted runtime dir (s)", took)
        assert took < PROMPT_BOUND
        assert sh.venv() == str(proj / ".venv")
        assert EVIL_VENV.encode() not in (sh.getenv("PATH") or b"")
        sh.cd(sandbox.home)
        assert sh.venv() is None
    entries = list((mine or rt).iterdir())
    assert [p.name for p in entries if os.lstat(p).st_uid == 0] == []
    if mine is None:
        assert (rt / "listener.log").read_text() == ""
    assert b"evil" not in sh.transcript
    if where == "xdg-0700":  # platformdirs' fallback, root's own, serves the shell
        own = tmp / "runtime-0" / "shellhook"
        assert os.lstat(own).st_uid == 0
        assert any(p.suffix == sh.request_suffix for p in own.iterdir())


# -- case 24 ------------------------------------------------------------------------------


def user_shell(world: World, shell_name: str) -> ShellDriver:
    """An interactive shell of ``shell_name`` run by the other user (``runuser``) with
    their environment and their own hook, not started yet. What it writes for the test
    to read goes to a directory of theirs; so do the shell's own data, config and cache
    files (root shells of case 29 leave root-owned ones in their HOME, which xonsh
    cannot start with)."""
    cls = DRIVERS[shell_name]
    require_shell(cls.executable)
    own = Path(tempfile.mkdtemp(dir=world.base, prefix=f"{shell_name}-"))
    xdg = {f"XDG_{kind}_HOME": str(own / kind.lower()) for kind in ("DATA", "CONFIG", "CACHE")}
    for path in (own, *map(Path, xdg.values())):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chown(path, world.other.pw_uid, world.other.pw_gid)
    pybin = str(Path(sys.executable).parent)  # where the tests' xonsh is found
    env = {**world.env, **xdg, "TERM": "dumb", "PATH": f"{world.env['PATH']}:{pybin}"}
    driver = cls(own, env, world.hook(shell_name))
    runuser = [shutil.which("runuser") or "runuser", "-u", world.other.pw_name, "--"]
    assigned = [f"{k}={v}" for k, v in driver.env.items()]
    driver.argv_override = [*runuser, "/usr/bin/env", "-i", *assigned, *driver.argv()]
    return driver


def test_a_users_shell_activates_a_root_owned_venv_once_allowed(
    sandbox, world, shared, shell_name, figures
):
    """Case 24: a real venv owned by root, mode 0755 (made by root in a directory of
    root's, as ``/opt/venv``), named by the pointer file of a project of the second
    user's. In an interactive shell of that user's, with their own install and daemon:
    before ``allow`` nothing activates and the one line names their own command
    (``shellhook allow ~/PROJECT``, their HOME); once they run it in that shell the
    venv activates (PATH, python) and again at each cd in. The hints fit them, not
    root: root's venv without pip, or made writable by others, is put right with
    ``sudo`` (the user cannot write it); a venv of a third account gets
    ``sudo chown -R $USER``, never root's "use a venv of root's own"."""
    top = Path(tempfile.mkdtemp(dir=shared, prefix=f"case24-{shell_name}-"))  # as /opt
    top.chmod(0o755)
    venv = sandbox.make_venv(top / "venv")
    venv.chmod(0o755)
    assert (os.stat(venv).st_uid, os.stat(venv / "bin").st_mode & 0o777) == (0, 0o755)
    home = Path(world.env["HOME"])
    proj = home / f"p24-{shell_name}"
    proj.mkdir()
    (proj / ".venv").write_text(f"{venv}\n")
    for path in (proj, proj / ".venv"):
        os.chown(path, world.other.pw_uid, world.other.pw_gid)
    python = f"{venv}/bin/python"
    sh = user_shell(world, shell_name)
    try:
        sh.start(home)
        out = sh.cd(proj)
        assert sh.venv() is None
        allow = f"shellhook: {venv} is not allowed; to use it: shellhook allow ~/{proj.name}"
        assert out.count(b"shellhook:") == 1 and allow.encode() in out, out
        out = sh.run("python -I -m shellhook allow")
        assert f"shellhook: allowed {venv} for ~/{proj.name}".encode() in out, out
        assert sh.wait_for(lambda: sh.venv() == str(venv))
        assert sh.which_python() == str(venv)
        assert (sh.getenv("PATH") or b"").startswith(f"{venv}/bin:".encode())
        said = sh.transcript.decode(errors="replace")
        assert (
            f"has no pip (a bare pip runs the system's); add it: sudo {python} -m ensurepip" in said
        )
        sh.cd(home)
        assert sh.venv() is None
        took = sh.timed_cd(proj)
        figures.most("case 24: slowest cd of a user's shell into a root venv (s)", took)
        assert took < PROMPT_BOUND and sh.venv() == str(venv)

        def refused(change, undo, fix: str) -> None:
            sh.cd(home)
            change()
            out = sh.cd(proj)
            assert sh.venv() is None and f"(fix: {fix})".encode() in out, out
            assert b"root's own" not in out
            undo()
            sh.cd(home)
            sh.cd(proj)
            assert sh.venv() == str(venv)

        refused(
            lambda: (venv / "bin").chmod(0o777),
            lambda: (venv / "bin").chmod(0o755),
            f"sudo chmod -R g-w,o-w {venv}",
        )
        refused(
            lambda: os.chown(venv, 4242, 4242),
            lambda: os.chown(venv, 0, 0),
            f"sudo chown -R $USER {venv}, or make your own",
        )
    finally:
        sh.close()
        shutil.rmtree(top, ignore_errors=True)
    assert world.root_owned() == []


# -- case 15 ------------------------------------------------------------------------------

FLIPPER = textwrap.dedent(
    """\
    # The other user's loop: makes a project's .venv name their venv or root's, as fast
    # as it can, three ways in turn, until a stop file appears (or a deadline).
    import contextlib, os, sys, time
    proj, good, evil, stop = sys.argv[1:5]
    pointer, tmp = os.path.join(proj, ".venv"), os.path.join(proj, ".venv.new")
    deadline = time.monotonic() + 60
    flips = 0
    while time.monotonic() < deadline and not os.path.exists(stop):
        target = (evil, good)[flips % 2]
        try:
            if flips // 2 % 3 == 0:  # a file of theirs renamed over it
                with open(tmp, "w") as f:
                    f.write(target + "\\n")
                os.replace(tmp, pointer)
            elif flips // 2 % 3 == 1:  # rewritten in place (a symlink there: refused)
                with open(pointer, "w") as f:
                    f.write(target + "\\n")
            else:  # the venv itself swapped: a symlink of theirs to it
                os.symlink(target, tmp)
                os.replace(tmp, pointer)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        flips += 1
        time.sleep(0.002)
    print(flips)
    """
)


def test_a_pointer_rewritten_by_another_user_during_allow_never_activates_theirs(
    sandbox, spawn, shell_name, other, shared, figures
):
    """Case 15 with a real second account: root's project is group-writable by the
    other user's group, its ``.venv`` names a venv of root's; the other user makes it
    name their own venv and back in a loop (a file renamed over it, rewritten in place,
    a symlink to either venv) while root runs ``shellhook allow`` and cds in and out.
    Every allow is refused in one line (the project, the pointer or a link is another
    user's to change; or, caught mid-flip, the pointer is half written or no venv is
    there), what each one recorded is what it named (the venv matches the pointer bytes
    it was read from), and the shell activates nothing. Once root takes the project back (its own
    pointer, no group write), the venv is root's or none, never theirs, and a new
    allow activates root's."""
    uid, gid = other.pw_uid, other.pw_gid
    top = Path(tempfile.mkdtemp(dir=shared, prefix=f"case15-{shell_name}-"))
    top.chmod(0o755)
    good = sandbox.make_venv(top / "good")
    evil = sandbox.make_venv(top / "evil")
    chown_tree(evil, uid, gid)
    proj = top / "proj"
    proj.mkdir()
    os.chown(proj, 0, gid)
    proj.chmod(0o775)
    pointer = proj / ".venv"
    pointer.write_text(f"{good}\n")
    os.chown(pointer, 0, gid)
    pointer.chmod(0o664)
    script, stop = top / "flipper.py", top / "stop"
    script.write_text(FLIPPER)
    script.chmod(0o644)
    named = {hashlib.sha256(f"{venv}\n".encode()).hexdigest(): str(venv) for venv in (good, evil)}
    record_file = (
        Path(sandbox.env["XDG_STATE_HOME"]) / "shellhook" / "trust" / "allow"
        / f"{hashlib.sha256(os.fsencode(proj)).hexdigest()}.json"
    )  # fmt: skip
    sh = spawn()
    path_before = sh.getenv("PATH")
    runuser = ["runuser", "-u", other.pw_name, "--", _python_for(other), "-I"]
    flipper = subprocess.Popen(
        [*runuser, str(script), str(proj), str(good), str(evil), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    allows = unsafe = 0
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline or allows < 3:
            allow = sandbox.shellhook("allow", str(proj), check=False)
            allows += 1
            assert allow.returncode == 1 and allow.stdout == "", allow
            assert allow.stderr.count("\n") == 1 and "Traceback" not in allow.stderr
            said = allow.stderr
            unsafe += "writable by others (group" in said or f"owned by {other.pw_name}" in said
            if said.startswith("shellhook: allowed "):
                shown = said.removeprefix("shellhook: allowed ").split(" for ")[0]
                record = json.loads(record_file.read_text())
                assert record["venv"] == shown
                if record["pointer_sha256"] is not None:  # (None: a symlink to the venv)
                    assert named[record["pointer_sha256"]] == shown
            sh.cd(proj)
            assert sh.venv() is None
            assert sh.getenv("PATH") == path_before
            sh.cd(sandbox.home)
    finally:
        stop.touch()
        out, _ = flipper.communicate(timeout=30)
    figures.add("case 15: pointer flips by another user", int(out))
    figures.add("case 15: allows refused while it flipped", allows)
    assert int(out) > 10 and flipper.returncode == 0
    assert unsafe > 0  # (the others caught it mid-flip: half written, or no venv at all)
    pointer.unlink()
    pointer.write_text(f"{good}\n")  # root's own again
    os.chown(proj, 0, 0)
    proj.chmod(0o755)
    out = sh.cd(proj)
    assert sh.venv() in (None, str(good)), out
    sh.cd(sandbox.home)
    sandbox.shellhook("allow", str(proj))
    sh.cd(proj)
    assert sh.venv() == str(good)
    assert os.fsencode(evil) not in (sh.getenv("PATH") or b"")
