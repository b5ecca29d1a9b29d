"""End-to-end: a dead or stopped daemon, non-interactive shells, hostile user settings."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

import pytest

from shellhook import adapters
from tests.conftest import require_shell


def test_killed_daemon_never_hangs_and_is_replaced(sandbox, spawn):
    a = sandbox.project("a")
    b = sandbox.project("b")
    sh = spawn()
    sh.cd(a)
    # The first prompt started the daemon; it writes its pid file once it is up.
    assert sh.wait_for(lambda: sandbox.daemon_pid() is not None)
    pid = sandbox.daemon_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    assert sh.timed_cd(b) < 2.0
    assert sh.venv() == str(b / ".venv")
    assert sh.wait_for(lambda: sandbox.daemon_pid() not in (None, pid))
    sh.cd(a)  # through the new daemon, which adopted this shell's FIFOs
    assert sh.venv() == str(a / ".venv")


def test_stopped_daemon_never_hangs_and_is_replaced(sandbox, spawn, shell_name, figures):
    a = sandbox.project("a")
    b = sandbox.project("b")
    sh = spawn()
    sh.cd(a)
    # The first prompt started the daemon; it writes its pid file once it is up.
    assert sh.wait_for(lambda: sandbox.daemon_pid() is not None)
    pid = sandbox.daemon_pid()
    assert pid
    os.kill(pid, signal.SIGSTOP)
    try:
        # Found stopped after one 50 ms wait (fish: before asking), then the one-off
        # Python answers and replaces it: DESIGN §6's 200 ms on a quiet machine.
        for project in (b, a):
            seconds = sh.timed_cd(project)
            figures.most("longest prompt, daemon stopped (ms)", round(seconds * 1000))
            print(f"longest prompt: {shell_name} daemon stopped: {seconds * 1000:.0f} ms")
            assert seconds < 2.0  # room for a loaded CI machine
            assert sh.venv() == str(project / ".venv")
        assert sh.wait_for(lambda: sandbox.daemon_pid() not in (None, pid))
    finally:
        os.kill(pid, signal.SIGCONT)
    sh.cd(b)
    assert sh.venv() == str(b / ".venv")


def test_uninstalled_interpreter_keeps_prompts_silent(sandbox, spawn, shell_name, tmp_path):
    proj = sandbox.project("proj")
    sandbox.stop_daemon()
    adapter = adapters.get(shell_name)
    hook = sandbox.hook_file(shell_name).read_text()
    installed = adapter.assign("__shellhook_python", os.path.abspath(sys.executable))
    assert installed in hook
    broken = tmp_path / f"hook-without-python.{shell_name}"
    broken.write_text(hook.replace(installed, adapter.assign("__shellhook_python", "/gone/py")))
    sh = spawn(hook=broken)
    out = sh.cd(proj)
    assert out.strip() == b""
    assert sh.venv() is None
    sh.cd(sandbox.home)


def test_strict_user_options(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.run(sh.strict_options)
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    sh.cd(sandbox.home)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert sh.child.isalive()
    sh.child.sendintr()  # Ctrl-C at the prompt: the user's INT trap is still theirs
    assert b"user-trap" in sh.sync()


def test_loading_the_hook_twice_is_harmless(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.run(sh.load_hook_command())
    out = sh.cd(proj)
    assert out.count(b"shellhook: activated") == 1
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1


@pytest.mark.parametrize("posix_shell", ["bash", "zsh"])
def test_non_interactive_shells_are_untouched(sandbox, posix_shell):
    require_shell(posix_shell)
    proj = sandbox.project("proj")
    hook = sandbox.hook_file(posix_shell)
    script = f". '{hook}'; cd '{proj}'; echo \"[$VIRTUAL_ENV]\""
    out = subprocess.run(
        [posix_shell, "-c", script], env=sandbox.env, capture_output=True, text=True, timeout=10
    )
    assert out.stdout == "[]\n" and out.stderr == ""


def test_unsafe_xdg_runtime_dir_falls_back_like_platformdirs(sandbox, spawn):
    if os.path.isdir(f"/run/user/{os.geteuid()}"):
        pytest.skip("platformdirs would fall back to the real /run/user dir")
    bad = sandbox.root / "shared-run"
    bad.mkdir(mode=0o755)
    bad.chmod(0o755)
    tmp = sandbox.root / "tmp"
    tmp.mkdir()
    env = {"XDG_RUNTIME_DIR": str(bad), "TMPDIR": str(tmp)}
    sandbox.env.update(env)  # the CLI and the daemon see the same
    proj = sandbox.project("proj")
    sh = spawn(env=env)
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    sh.cd(sandbox.home)
    sh.cd(proj)  # now through the daemon in the fallback dir
    assert sh.venv() == str(proj / ".venv")
    fallback = tmp / f"runtime-{os.geteuid()}" / "shellhook"
    assert (fallback / "daemon.pid").exists()
    assert any(p.suffix == sh.request_suffix for p in fallback.iterdir())
    assert not (bad / "shellhook").exists()


def test_a_shell_left_open_after_uninstall_stops_and_says_so_once(sandbox, spawn, shell_name):
    """After ./install.sh --uninstall the hook's Python is gone: the shell drops our
    activation, says so once and stops asking, instead of keeping a venv active."""
    proj = sandbox.project("proj")
    # The hook's Python, as install.sh's private venv provides it (a wrapper: a symlink
    # would make Python look for its venv next to the link, not next to the real one).
    link = sandbox.root / "python-link"
    link.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    link.chmod(0o755)
    adapter = adapters.get(shell_name)
    hook = sandbox.root / f"hook-uninstall.{adapter.extension}"
    hook.write_text(adapter.init_text(str(link)))
    sh = spawn(hook=hook)
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    sandbox.stop_daemon()
    link.unlink()  # what uninstall does to the private venv
    out = sh.cd(sandbox.home) + sh.cd(proj) + sh.cd(sandbox.home)
    assert out.count(b"shellhook: uninstalled") == 1, out
    assert b"deactivated proj" in out
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert not sh.has_function("deactivate")
