"""The daemon's spawn, end to end in every shell (docs/threats.md cases 38 and 39).

Case 38: the one-off Python that starts the daemon at a shell's first prompt leaves it
in a session of its own, its fds 0-2 on /dev/null: the prompt is not held, and closing
that shell's terminal (SIGHUP) does not take down the daemon the other shells use.

Case 39: a shell whose environment a malicious venv set up (its ``bin`` first on PATH
with ``python``, ``python3`` and ``shellhook`` in it; PYTHONPATH, PYTHONSTARTUP,
PYTHONHOME and LD_PRELOAD pointing at attacker files) starts the daemon and asks the
one-off Python: none of the attacker's code runs in a Python of ours, and the daemon's
environment holds nothing of it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shellhook import adapters
from shellhook.daemon import control
from tests.conftest import Figures, Sandbox, StartShell, require_shell
from tests.drivers import ShellDriver
from tests.test_faults import daemon_log, wait_until

PRELOAD_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Appends "NAME PID: COMMAND LINE" of every program that loads it to LOG. */
__attribute__((constructor)) static void evil(void) {
    char exe[4096], args[1024] = "", line[5200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) return;
    exe[n] = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, args, sizeof args - 1);
        close(fd);
        for (ssize_t i = 0; i < got; i++) args[i] = args[i] ? args[i] : ' ';
        args[got > 0 ? got : 0] = 0;
    }
    const char *base = strrchr(exe, '/');
    snprintf(line, sizeof line, "%s %d: %s\n", base ? base + 1 : exe, (int)getpid(), args);
    fd = open(LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    ssize_t written = write(fd, line, strlen(line));
    (void)written;
    close(fd);
}
"""


# -- case 39: a hostile environment --------------------------------------------------
class Evil:
    """The attacker's files under ``root``; each writes a sentinel file in ``traces``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.site = root / "site"
        self.home = root / "pythonhome"
        self.startup = root / "startup.py"
        self.preload = root / "preload.so"
        self.traces = root / "traces"
        self.preload_log = self.traces / "preload.log"
        # A Python that took PYTHONHOME would import its codecs from there first.
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        encodings = self.home / "lib" / version / "encodings"
        for d in (self.bin, self.site, encodings, self.traces):
            d.mkdir(parents=True)
        for name in ("python", "python3", "shellhook"):
            script = self.bin / name
            script.write_text(
                f'#!/bin/sh\necho "$0 $*" >> {shlex.quote(str(self.traces / name))}\nexit 1\n'
            )
            script.chmod(0o755)
        for module in ("sitecustomize", "usercustomize"):
            (self.site / f"{module}.py").write_text(self._python_trace(module))
        self.startup.write_text(self._python_trace("startup"))
        # (open() does not exist yet when the codecs load: the posix module's does.)
        trace = str(self.traces / "pythonhome")
        (encodings / "__init__.py").write_text(
            "import posix\n"
            f"fd = posix.open({trace!r}, posix.O_WRONLY | posix.O_CREAT | posix.O_APPEND, 0o600)\n"
            "posix.write(fd, b'encodings\\n')\n"
            "posix.close(fd)\n"
        )
        self._compile_preload()

    def _python_trace(self, name: str) -> str:
        """Python code writing the sentinel ``name`` (under $EVIL_TRACES when set)."""
        default = str(self.traces)
        return (
            "import os, sys\n"
            f"d = os.environ.get('EVIL_TRACES', {default!r})\n"
            f"with open(os.path.join(d, {name!r}), 'a') as f:\n"
            "    f.write(sys.executable + '\\n')\n"
        )

    def _compile_preload(self) -> None:
        source = self.root / "preload.c"
        # A JSON string of an ASCII path is a C string literal too.
        source.write_text(f"#define LOG {json.dumps(str(self.preload_log))}\n{PRELOAD_C}")
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O1", "-o", str(self.preload), str(source)],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def variables(self) -> dict[str, str]:
        """What the malicious venv exports (PATH aside)."""
        return {
            "PYTHONPATH": str(self.site),
            "PYTHONSTARTUP": str(self.startup),
            "PYTHONHOME": str(self.home),
            "LD_PRELOAD": str(self.preload),
        }

    def setup_lines(self, shell: str) -> str:
        """Lines exporting the hostile environment, in the language of ``shell``'s hook
        file: the shell itself never loads the library, its children do."""
        adapter = adapters.get(shell)
        evil_bin = str(self.bin)
        if shell == "xonsh":  # the hook file is plain Python run by xonsh
            lines = [f"__xonsh__.env['PATH'].insert(0, {evil_bin!r})"]
            lines += [f"__xonsh__.env[{k!r}] = {v!r}" for k, v in self.variables().items()]
        elif shell == "fish":
            lines = [f"set -gx PATH {adapter.quote(evil_bin)} $PATH"]
            lines += [f"set -gx {k} {adapter.quote(v)}" for k, v in self.variables().items()]
        else:
            lines = [f'export PATH={adapter.quote(evil_bin)}:"$PATH"']
            lines += [f"export {k}={adapter.quote(v)}" for k, v in self.variables().items()]
        return "\n".join(lines) + "\n"

    def traces_left(self) -> dict[str, str]:
        """Sentinels that attacker code running in a Python wrote (or a ``python`` or
        ``shellhook`` from its bin). Programs of the shell's own (mkfifo, the test's
        commands) load the library too: their lines are not the attacker's win here."""
        found = {
            p.name: p.read_text(errors="replace")
            for p in self.traces.iterdir()
            if p != self.preload_log
        }
        if self.preload_log.exists():
            pythons = [
                line
                for line in self.preload_log.read_text(errors="replace").splitlines()
                if any(name in line.split(":")[0] for name in ("python", "shellhook"))
            ]
            if pythons:
                found["preload"] = "\n".join(pythons)
        return found

    def check_sentinels_work(self, sandbox: Sandbox) -> None:
        """A Python that honours the variables (no ``-I``) does write the sentinels: the
        test would see an attack that got through."""
        control_dir = self.root / "control"
        control_dir.mkdir()
        env = {**sandbox.env, "PYTHONPATH": str(self.site), "EVIL_TRACES": str(control_dir)}
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True, timeout=30)
        assert (control_dir / "sitecustomize").exists()
        env = {**sandbox.env, "PYTHONHOME": str(self.home)}
        subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True, timeout=30)
        assert (self.traces / "pythonhome").exists()
        (self.traces / "pythonhome").unlink()
        env = {**sandbox.env, "LD_PRELOAD": str(self.preload)}
        subprocess.run(["/bin/true"], env=env, check=True, timeout=30)
        assert "true" in self.preload_log.read_text()
        self.preload_log.unlink()


def process_environ(pid: int) -> dict[str, str]:
    """The environment process ``pid`` started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {os.fsdecode(k): os.fsdecode(v) for k, v in pairs}


def assert_clean_daemon(pid: int, evil: Evil) -> None:
    """The daemon runs our absolute interpreter isolated (-I), with a scrubbed
    environment, and has not mapped the attacker's library."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert os.path.isabs(argv[0]) and argv[1] == b"-I", argv
    env = process_environ(pid)
    unexpected = {k for k in env if k not in control.KEPT_ENV and not k.startswith("XDG_")}
    assert not unexpected, env
    assert str(evil.root) not in "".join(env.values()), env
    assert str(evil.preload) not in Path(f"/proc/{pid}/maps").read_text()


def assert_hostile_env_kept(sh: ShellDriver, evil: Evil) -> None:
    """The shell (outside any venv) still has the attacker's settings, as the user left
    them: shellhook neither ran them nor silently dropped them."""
    first = os.fsdecode(sh.getenv("PATH") or b"").split(":")[0]
    assert first == str(evil.bin)
    for var, value in evil.variables().items():
        assert sh.getenv(var) == os.fsencode(value), var


def test_hostile_environment_runs_no_attacker_code(
    sandbox: Sandbox, spawn: Callable[..., ShellDriver], shell_name: str, figures: Figures
) -> None:
    """Case 39: the first prompt (no daemon yet) asks the one-off Python, which starts the
    daemon; later a one-off answers again (the daemon stopped) and starts another."""
    require_shell("gcc")
    proj = sandbox.project("proj")
    sandbox.stop_daemon()
    assert sandbox.daemon_pid() is None
    evil = Evil(sandbox.root / "evil")
    evil.check_sentinels_work(sandbox)
    adapter = adapters.get(shell_name)
    hook = sandbox.root / f"hook-hostile.{adapter.extension}"
    hook.write_text(evil.setup_lines(shell_name) + sandbox.hook_file(shell_name).read_text())

    started = time.monotonic()
    sh = spawn(hook=hook)
    figures.most("first prompt, hostile env (ms)", round((time.monotonic() - started) * 1000))
    which = "command -v python"
    if shell_name == "xonsh":
        which = "print(__import__('shutil').which('python', path=__xonsh__.env.detype()['PATH']))"
    assert sh.run(which).strip() == os.fsencode(evil.bin / "python")
    assert sh.wait_for(lambda: sandbox.daemon_pid() is not None, timeout=10), evil.traces_left()
    first_daemon = sandbox.daemon_pid()
    assert first_daemon
    assert_clean_daemon(first_daemon, evil)

    for step in ("through the daemon", "through a one-off Python again"):
        sh.cd(proj)
        assert sh.venv() == str(proj / ".venv"), step
        path = os.fsdecode(sh.getenv("PATH") or b"").split(":")
        assert path[:2] == [str(proj / ".venv/bin"), str(evil.bin)], (step, path)
        sh.cd(sandbox.home)
        assert sh.venv() is None, step
        assert_hostile_env_kept(sh, evil)
        if sandbox.daemon_pid() == first_daemon:
            sandbox.stop_daemon()
    assert sh.wait_for(lambda: sandbox.daemon_pid() not in (None, first_daemon), timeout=10), (
        evil.traces_left()
    )
    second_daemon = sandbox.daemon_pid()
    assert second_daemon
    assert_clean_daemon(second_daemon, evil)
    sh.cd(proj)  # the new daemon serves
    assert sh.venv() == str(proj / ".venv")

    assert evil.traces_left() == {}
    # The library did load into the shell's own children (mkfifo, /bin/true): it was live.
    sh.run("/bin/true")
    assert "true" in evil.preload_log.read_text()


# -- case 38: the spawning terminal goes away ------------------------------------------
def recording_python(sandbox: Sandbox) -> Path:
    """A wrapper around our Python that logs each run (``$RUN_TAG`` and its arguments)
    to ``runs.log``: which shell asked a one-off Python, and when."""
    wrapper = sandbox.root / "python-recording"
    log = sandbox.root / "runs.log"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "$RUN_TAG $*" >> {shlex.quote(str(log))}\n'
        f'exec {shlex.quote(sys.executable)} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def one_off_runs(sandbox: Sandbox, tag: str) -> list[str]:
    """The one-off Pythons (``shellhook hook``) shell ``tag`` ran so far."""
    log = sandbox.root / "runs.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.startswith(f"{tag} ") and " hook " in line]


def requests_served(sandbox: Sandbox, pid: int) -> int:
    """How many requests daemon ``pid`` answered so far (its stats, logged on SIGUSR1)."""
    before = daemon_log(sandbox).count(b" stats: ")
    os.kill(pid, signal.SIGUSR1)
    wait_until(lambda: daemon_log(sandbox).count(b" stats: ") > before, what="the stats")
    last = [line for line in daemon_log(sandbox).splitlines() if b" stats: " in line][-1]
    match = re.search(rb"\brequests=(\d+)", last)
    assert match, last
    return int(match.group(1))


def assert_detached(pid: int) -> None:
    """Nothing ties the daemon to a terminal or to the pipe its spawner read: its own
    session, fds 0-2 on /dev/null, no terminal open, and a pipe only with both its ends
    its own (the loop's wake-up pipe)."""
    assert os.getsid(pid) == pid
    fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert [fds.get(fd) for fd in (0, 1, 2)] == ["/dev/null"] * 3, fds
    assert not [t for t in fds.values() if t.startswith(("/dev/pts", "/dev/tty"))], fds
    pipes = [t for t in fds.values() if t.startswith("pipe:")]
    assert all(pipes.count(p) == 2 for p in pipes), fds


def test_daemon_outlives_the_terminal_that_spawned_it(
    sandbox: Sandbox, start_shell: StartShell, shell_name: str, figures: Figures
) -> None:
    """Case 38: the first shell's first prompt starts the daemon and returns at once; its
    terminal is then closed (a hangup); the daemon lives on and serves a second shell."""
    proj = sandbox.project("proj")
    sandbox.stop_daemon()
    adapter = adapters.get(shell_name)
    hook = sandbox.root / f"hook-recording.{adapter.extension}"
    hook.write_text(adapter.init_text(str(recording_python(sandbox))))

    started = time.monotonic()
    first = start_shell(shell_name, env={"RUN_TAG": "first"}, hook=hook)
    first_prompt = time.monotonic() - started
    figures.most("first prompt, daemon spawned (ms)", round(first_prompt * 1000))
    print(f"first prompt: {shell_name}: {first_prompt * 1000:.0f} ms")
    assert one_off_runs(sandbox, "first"), "the first prompt did not ask a one-off Python"
    # A daemon holding the one-off's stdout would hold fish's prompt for ever and xonsh's
    # for 3 s (its limit) plus its start-up; bash and zsh stop reading at the frame's end.
    assert first_prompt < 3.0
    wait_until(lambda: sandbox.daemon_pid() is not None, what="the daemon's pid")
    pid = sandbox.daemon_pid()
    assert pid
    wait_until(lambda: f"daemon {pid} serving".encode() in daemon_log(sandbox), what="serving")
    assert_detached(pid)

    second = start_shell(shell_name, env={"RUN_TAG": "second"}, hook=hook)
    first_shell = first.child.pid
    assert first_shell
    first.child.close(force=True)  # the terminal goes away: the kernel hangs up its session
    wait_until(lambda: not control.pid_alive(first_shell), what="the first shell's exit")
    time.sleep(0.3)  # a SIGHUP that reached the daemon has taken effect by now
    # (its lock and pid file: a zombie left unreaped in a container passes `kill -0`)
    assert sandbox.daemon_pid() == pid

    requests = requests_served(sandbox, pid)
    served_by_daemon = False
    for _ in range(3):  # a loaded machine can miss the 200 ms wait, and use a one-off
        runs = len(one_off_runs(sandbox, "second"))
        second.cd(sandbox.home)
        second.cd(proj)
        assert second.venv() == str(proj / ".venv")
        if len(one_off_runs(sandbox, "second")) == runs:
            served_by_daemon = True
            break
    assert served_by_daemon, one_off_runs(sandbox, "second")
    assert requests_served(sandbox, pid) >= requests + 2
    assert sandbox.daemon_pid() == pid
