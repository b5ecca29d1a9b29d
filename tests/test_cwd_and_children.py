"""End-to-end: the current directory deleted under a shell (security.md case 44), and
child shells of an activated shell in tmux and under ``su -p`` (case 48), in every shell.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Sandbox, require_shell
from tests.drivers import PROMPT, ShellDriver
from tests.drivers.fish import _ABANDON_LINE_RE

SETTLE = 10.0  # seconds a nudge may take on two busy cores


ANSI_RE = re.compile(
    rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[=>]|[()][0-9A-Za-z])"
)
TOKEN_RE = re.compile(rb"^(?:SYNC|DONE)[0-9a-f]{12}$")
# xonsh's own line after every command run in a deleted directory (BaseShell._fix_cwd),
# printed with or without shellhook: not the hook's.
XONSH_CWD_GONE = b"xonsh: working directory does not exist: "


class Screen:
    """Everything a driven shell prints, as lines: without its prompts (nor fish's
    repaints of typed lines, which stand on the prompt's line), the drivers' SYNC/DONE
    tokens, escape sequences and blank lines."""

    def __init__(self, sh: ShellDriver) -> None:
        self.raw = bytearray()
        self.xonsh = sh.name == "xonsh"
        expect = sh.expect

        def recording(pattern: bytes | re.Pattern[bytes]) -> tuple[bytes, re.Match[bytes]]:
            before, match = expect(pattern)
            self.raw += before + match.group(0)
            return before, match

        sh.expect = recording  # type: ignore[method-assign]

    def take(self) -> list[bytes]:
        """The lines printed since the last ``take``."""
        text = ANSI_RE.sub(b"", _ABANDON_LINE_RE.sub(b"", bytes(self.raw)))
        self.raw.clear()
        lines = []
        for segment in re.split(rb"[\r\n]+", text):
            segment = segment.strip()
            if not segment or PROMPT.encode() in segment or TOKEN_RE.match(segment):
                continue
            if self.xonsh and segment.isdigit():
                continue  # the size of a file the driver's env dump wrote, which xonsh shows
            lines.append(segment)
        return lines


def venv_bins(path: bytes, *venvs: Path) -> list[bytes]:
    """The entries of ``path`` that are the bin dir of one of ``venvs``."""
    bins = {os.fsencode(v / "bin") for v in venvs}
    return [entry for entry in path.split(b":") if entry in bins]


def press_enter_until(
    sh: ShellDriver, condition: Callable[[], bool], timeout: float = SETTLE
) -> None:
    """Press Enter (a new prompt each time) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout} s of prompts"
        sh.child.sendline("")
        sh.sync()
        time.sleep(0.2)


# -- case 44: the current directory deleted -----------------------------------------------


def own_lines(sh: ShellDriver, lines: list[bytes]) -> list[bytes]:
    """``lines`` without those the shell itself prints in a deleted directory."""
    if sh.name == "xonsh":
        return [line for line in lines if not line.startswith(XONSH_CWD_GONE)]
    return lines


def test_cwd_deleted_with_the_venv_inside_deactivates(sandbox: Sandbox, spawn):
    """Case 44: ``cd proj/sub`` (proj/.venv active), then proj is removed from outside.
    The next prompts print no traceback and at most one line in all, the venv inside the
    deleted project is deactivated with PATH as before it, the shell keeps working, and
    ``cd ~`` then a cd into another project activate as usual."""
    proj = sandbox.project("proj")
    other = sandbox.project("other")
    (proj / "sub").mkdir()
    sh = spawn()
    screen = Screen(sh)
    path_before = sh.getenv("PATH")
    sh.cd(proj / "sub")
    assert sh.venv() == str(proj / ".venv")
    screen.take()
    shutil.rmtree(proj)
    press_enter_until(sh, lambda: sh.venv() is None)
    for _ in range(3):
        sh.child.sendline("")
        sh.sync()
    lines = screen.take()
    assert not any(b"Traceback" in line for line in lines), lines
    assert len(own_lines(sh, lines)) <= 1, lines
    assert all(line.startswith(b"shellhook: ") for line in own_lines(sh, lines)), lines
    sh.run("echo still-alive")
    assert own_lines(sh, screen.take()) == [b"still-alive"]
    assert sh.getenv("PATH") == path_before
    assert not sh.has_function("deactivate")
    screen.take()
    sh.cd(sandbox.home)
    assert screen.take() == []
    assert sh.venv() is None and sh.getenv("PATH") == path_before
    sh.cd(other)
    assert sh.venv() == str(other / ".venv")
    assert venv_bins(sh.getenv("PATH"), other / ".venv", proj / ".venv") == [
        os.fsencode(other / ".venv/bin")
    ]


def elsewhere(sandbox: Sandbox, proj: Path, how: str) -> Path:
    """Make ``proj`` (again) a project whose venv lives outside it, found the ``how`` way:
    a pointer naming a $WORKON_HOME venv, a pointer holding a path (allowed), or a
    $WORKON_HOME venv whose ``.project`` names ``proj`` (virtualenvwrapper's link).
    Returns that venv, made once."""
    proj.mkdir()
    if how == "workon-name":
        venv = sandbox.workon_home / "tools"
        (proj / ".venv").write_text("tools\n")
    elif how == "path":
        venv = sandbox.home / "envs" / "tools"
        (proj / ".venv").write_text(f"{venv}\n")
    else:
        venv = sandbox.workon_home / "linked"
    if not venv.exists():
        sandbox.make_venv(venv)
        if how == "project-link":
            (venv / ".project").write_text(f"{proj}\n")
    if how == "path":
        sandbox.shellhook("allow", str(proj))
    return venv


@pytest.mark.parametrize("how", ["workon-name", "path", "project-link"])
def test_cwd_deleted_with_the_venv_elsewhere_deactivates(sandbox: Sandbox, spawn, how):
    """Case 44, the venv outside the deleted project (and still there): the directory
    belongs to no project any more (``shellhook which`` says it is not a directory), so
    the venv is deactivated at the next prompts too, saying so in one line at most. The
    venv itself is untouched; ``cd ~`` is clean and the project, made again, activates
    it again."""
    proj = sandbox.home / "proj"
    venv = elsewhere(sandbox, proj, how)
    (proj / "sub").mkdir()
    sh = spawn()
    screen = Screen(sh)
    path_before = sh.getenv("PATH")
    sh.cd(proj / "sub")
    assert sh.venv() == str(venv)
    screen.take()
    shutil.rmtree(proj)
    press_enter_until(sh, lambda: sh.venv() is None)
    for _ in range(3):
        sh.child.sendline("")
        sh.sync()
    lines = own_lines(sh, screen.take())
    assert len(lines) <= 1 and all(line.startswith(b"shellhook: ") for line in lines), lines
    assert sh.getenv("PATH") == path_before
    assert (venv / "pyvenv.cfg").is_file()
    screen.take()
    sh.cd(sandbox.home)
    assert screen.take() == []
    assert sh.venv() is None and sh.getenv("PATH") == path_before
    elsewhere(sandbox, proj, how)
    sh.cd(proj)
    assert sh.venv() == str(venv)
    assert venv_bins(sh.getenv("PATH"), venv) == [os.fsencode(venv / "bin")]


# -- case 48: child shells in tmux and under su -p -----------------------------------------


class Tmux:
    """A private tmux server (its own socket), driven from the test process."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.pid: int | None = None

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a tmux client command against this server."""
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert done.returncode == 0 or not check, (args, done.stderr)
        return done

    def started(self) -> None:
        """Note the server's pid (a shell started it), to end it whatever happens."""
        self.pid = int(self("display-message", "-p", "#{pid}").stdout)

    def kill(self) -> None:
        """End the server and every pane's shell with it."""
        self("kill-server", check=False)
        if self.pid is None:
            return
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


@pytest.fixture
def tmux(sandbox: Sandbox) -> Iterator[Tmux]:
    """A private tmux server's handle (its socket in a short private dir: a socket's path
    is limited to 107 bytes); the server is killed afterwards."""
    require_shell("tmux")
    where = Path(tempfile.mkdtemp(prefix="shellhook-tmux-"))
    server = Tmux(where / "sock", {k: v for k, v in sandbox.env.items() if k != "TMUX"})
    yield server
    server.kill()
    shutil.rmtree(where, ignore_errors=True)


def child_script(sandbox: Sandbox, sh: ShellDriver, rc: bool = False) -> Path:
    """An executable that becomes a new interactive shell of ``sh``'s kind, for tmux and
    su to start. ``rc``: it loads the hook (and sets the prompt) from its rc file, as a
    user's shell does; else ``sh.setup_lines()`` are still to be typed (fish's command
    line does that in both cases)."""
    argv, env = sh.argv(), ""
    if rc and sh.setup_lines():
        rcfile = sandbox.root / f"rc-{uuid.uuid4().hex[:8]}"
        rcfile.mkdir()
        if sh.name == "zsh":
            (rcfile / ".zshrc").write_text("\n".join(sh.setup_lines()) + "\n")
            argv, env = ["zsh", "-d", "-i"], f"ZDOTDIR={shlex.quote(str(rcfile))} "
        else:
            rcfile = rcfile / "rc"
            rcfile.write_text("\n".join(sh.setup_lines()) + "\n")
            if sh.name == "bash":
                argv = ["bash", "--noprofile", "--rcfile", str(rcfile), "-i"]
            else:
                assert sh.name == "xonsh", f"no rc file for {sh.name}"
                argv = [str(rcfile) if a == "--no-rc" else a for a in argv]
                argv.insert(argv.index(str(rcfile)), "--rc")
    script = sandbox.root / f"child-{uuid.uuid4().hex[:8]}"
    script.write_text(f"#!/bin/sh\n{env}exec {shlex.join(argv)}\n")
    script.chmod(0o755)
    return script


class Pane:
    """A shell in a tmux pane: typed into with send-keys, read through env dumps written
    to files and the pane's screen (capture-pane)."""

    def __init__(self, tmux: Tmux, target: str, sh: ShellDriver) -> None:
        self.tmux = tmux
        self.target = target
        self.sh = sh  # the parent shell's driver: the same kind spells the commands

    def screen(self) -> str:
        """What the pane shows, and the lines scrolled off before."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", self.target).stdout

    def wait_screen(self, condition: Callable[[str], bool], timeout: float = 15.0) -> str:
        """The pane's screen once ``condition(screen)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if condition(screen):
                return screen
            assert time.monotonic() < deadline, screen
            time.sleep(0.1)

    def start(self) -> None:
        """Wait for the shell's first prompt (ours: the hook loaded)."""
        self.wait_screen(lambda s: PROMPT in s)

    def run(self, line: str) -> None:
        """Type ``line`` and Enter, and wait for the next prompt. (One line at a time:
        xonsh's readline loses lines typed ahead while it starts.)"""
        prompts = self.screen().count(PROMPT)
        self.tmux("send-keys", "-t", self.target, "-l", line)
        self.tmux("send-keys", "-t", self.target, "Enter")
        self.wait_screen(lambda s: s.count(PROMPT) > prompts)

    def getenv(self, var: str) -> bytes | None:
        """``$var``'s bytes in the pane's shell, None when unset."""
        out = self.sh.sandbox / f"pane-{uuid.uuid4().hex[:8]}"
        self.run(self.sh.dump_command(var, os.fsdecode(out)))
        try:
            return out.read_bytes()
        except FileNotFoundError:
            return None
        finally:
            out.unlink(missing_ok=True)

    def assert_prompt_prefix(self, expected: str, timeout: float = 5.0) -> None:
        """What stands before the pane's last prompt becomes ``expected``."""

        def prefix(screen: str) -> str:
            lines = [line for line in screen.splitlines() if PROMPT in line]
            return lines[-1].split(PROMPT)[0] if lines else "?"

        self.wait_screen(lambda s: prefix(s) == expected, timeout=timeout)


def assert_consistent(get: Callable[[str], bytes | None], venv: Path | None, base: bytes) -> None:
    """The §4 invariant through ``get`` (a shell's getenv): VIRTUAL_ENV is ``venv``, whose
    bin dir is on PATH once, in front of ``base`` (PATH as it was before any activation);
    no venv at all: PATH is ``base``."""
    path = get("PATH")
    if venv is None:
        assert get("VIRTUAL_ENV") is None
        assert path == base
    else:
        assert get("VIRTUAL_ENV") == os.fsencode(venv)
        assert path == os.fsencode(venv / "bin") + b":" + base


def test_tmux_windows_are_consistent_children(sandbox: Sandbox, spawn, tmux: Tmux):
    """Case 48, tmux: from a shell with proj's venv active, the user's first tmux starts
    (its server keeps that shell's environment: VIRTUAL_ENV, PATH, the marker), then
    ``new-window``. The shell in each window adopts the activation: VIRTUAL_ENV matches
    PATH, one venv bin entry, the "(proj) " prefix. ``cd ~`` in one deactivates, with
    nothing stale; ``deactivate`` in the other does too, and leaving and coming back
    activates it again, once."""
    proj = sandbox.project("proj")
    venv = proj / ".venv"
    sh = spawn()
    base = sh.getenv("PATH")
    assert base is not None
    sh.cd(proj)
    child = sh.quote(str(child_script(sandbox, sh, rc=True)))
    sock = sh.quote(str(tmux.socket))
    out = sh.run(f"tmux -S {sock} -f /dev/null new-session -d -s t -x 160 -y 40 {child}")
    tmux.started()
    # (t: is the session: a bare t may name its current window, whose index is taken)
    out += sh.run(f"tmux -S {sock} new-window -t t: {child}")
    assert b"failed" not in out and b"can't" not in out, out
    first, second = Pane(tmux, "t:0", sh), Pane(tmux, "t:1", sh)
    for pane in (first, second):
        pane.start()
        assert_consistent(pane.getenv, venv, base)
        pane.assert_prompt_prefix("(proj) ")
    first.run("cd ~")
    assert_consistent(first.getenv, None, base)
    first.assert_prompt_prefix("")
    second.run("deactivate")
    assert_consistent(second.getenv, None, base)
    second.assert_prompt_prefix("")
    second.run("cd ~")
    second.run("cd " + sh.quote(str(proj)))
    assert_consistent(second.getenv, venv, base)
    second.assert_prompt_prefix("(proj) ")
    for pane in (first, second):
        assert "Traceback" not in pane.screen()
    assert_consistent(sh.getenv, venv, base)  # the parent's own activation stands


def test_su_p_child_is_consistent(sandbox: Sandbox, spawn):
    """Case 48, ``su -p root`` (the tests run as root) into a shell of the same kind,
    from a shell with proj's venv active. ``su -p`` keeps the whole environment: HOME
    stays the sandbox's, PATH is passed as it is (util-linux su rewrites it only without
    -p), and PAM adds MAIL, which tells the child from its parent here. The child adopts
    the activation consistently; ``cd ~`` deactivates it cleanly, coming back activates
    it once, ``deactivate`` works; the parent's activation is as it was after ``exit``."""
    require_shell("su")
    if os.geteuid() != 0:
        pytest.skip("su -p root without a password needs root")
    proj = sandbox.project("proj")
    venv = proj / ".venv"
    sh = spawn()
    base = sh.getenv("PATH")
    assert base is not None and sh.getenv("MAIL") is None
    sh.cd(proj)
    child = sh.quote(str(child_script(sandbox, sh)))
    sh.child.sendline(f"su -p root -s /bin/sh -c {child}")
    for line in sh.setup_lines():
        sh.child.sendline(line)
    sh.sync()
    assert sh.getenv("MAIL") is not None  # in su's child
    assert sh.getenv("HOME") == os.fsencode(sandbox.home)
    assert_consistent(sh.getenv, venv, base)
    assert sh.prompt_prefix == b"(proj) "
    sh.cd(sandbox.home)
    assert_consistent(sh.getenv, None, base)
    assert sh.prompt_prefix == b""
    sh.cd(proj)
    assert_consistent(sh.getenv, venv, base)
    sh.run("deactivate")
    assert_consistent(sh.getenv, None, base)
    assert sh.prompt_prefix == b""
    assert b"Traceback" not in sh.transcript
    sh.exit_nested()
    assert sh.getenv("MAIL") is None  # the parent again
    assert_consistent(sh.getenv, venv, base)
