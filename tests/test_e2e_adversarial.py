"""End-to-end: adversarial cases of security.md §3 found by issue 13, in every shell."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest


def fake_venv(path: Path) -> Path:
    """A venv made by hand (``venv`` refuses some of the paths these tests need)."""
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (path / "bin" / "python").symlink_to(sys.executable)
    return path


def test_colon_in_venv_path_is_refused(sandbox, spawn):
    """Case 19: a pointer to ``<root>/a:<root>/evil`` would put ``<root>/evil/bin`` on
    PATH, whose ``ls`` is someone else's code."""
    evil = sandbox.root / "evil" / "bin"
    evil.mkdir(parents=True)
    sentinel = sandbox.root / "pwned"
    (evil / "ls").write_text(f"#!/bin/sh\ntouch {sentinel}\n")
    (evil / "ls").chmod(0o755)
    venv = fake_venv(Path(f"{sandbox.root}/a:{sandbox.root}/evil"))
    proj = sandbox.home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text(f"{venv}\n")
    allowed = sandbox.shellhook("allow", str(proj), check=False)
    sh = spawn()
    path_before = sh.getenv("PATH")
    out = sh.cd(proj)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert out.count(b"would split PATH") == 1
    sh.run("ls >/dev/null 2>&1")
    assert not sentinel.exists()
    assert allowed.returncode == 1 and "would split PATH" in allowed.stderr


OTHER_USER = "shellhook-other"


@pytest.fixture(scope="session")
def other_uid() -> int:
    """The uid of a second local user (made with useradd): root only, outside CI."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run the cross-user tests as root")
        pytest.skip("a second user needs root (useradd, chown)")
    try:
        return pwd.getpwnam(OTHER_USER).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", OTHER_USER], check=True)
        return pwd.getpwnam(OTHER_USER).pw_uid


def test_other_users_symlink_to_my_named_venv_is_refused(sandbox, spawn, other_uid):
    """Case 21/16: another user's ``.venv`` symlink in a shared directory, naming one of
    my $WORKON_HOME venvs (trusted without allow), must not activate it."""
    mine = sandbox.make_venv(sandbox.workon_home / "tools")
    shared = sandbox.root / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    proj = shared / "proj"
    proj.mkdir()
    (proj / ".venv").symlink_to(mine)
    for path in (proj / ".venv", proj):
        os.lchown(path, other_uid, other_uid)
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() is None
    assert b"is a symlink owned by " + OTHER_USER.encode() in out


def test_allow_is_bound_to_what_runs(sandbox, spawn, other_uid):
    """Cases 10c, 23: after allow, an edited pyvenv.cfg home, a replaced bin/python, a
    site-packages writable by a group with another member, a world-writable project:
    none activates (also when the daemon judged the venv before the change)."""
    proj = sandbox.project("proj")
    venv = proj / ".venv"
    (site,) = venv.glob("lib/python*/site-packages")
    cfg = (venv / "pyvenv.cfg").read_text()
    sh = spawn()

    def refused(change, undo, said: bytes) -> None:
        sh.cd(proj)
        assert sh.venv() == str(venv)
        sh.cd(sandbox.home)
        change()
        out = sh.cd(proj)
        assert sh.venv() is None and said in out, out
        undo()
        sh.cd(sandbox.home)

    group = pwd.getpwuid(other_uid).pw_gid
    refused(
        lambda: (os.chown(site, -1, group), site.chmod(0o775)),
        lambda: (os.chown(site, -1, os.getegid()), site.chmod(0o755)),
        b"site-packages is writable by others (group",
    )
    refused(lambda: proj.chmod(0o777), lambda: proj.chmod(0o755), b"chmod g-w,o-w")
    refused(
        lambda: (venv / "pyvenv.cfg").write_text(cfg.replace("home =", "home = /x\nold =")),
        lambda: (venv / "pyvenv.cfg").write_text(cfg),
        b"its pyvenv.cfg home changed",
    )
    python = venv / "bin" / "python"
    target = os.readlink(python)
    refused(
        lambda: (python.unlink(), python.write_text("#!/bin/sh\n"), python.chmod(0o755)),
        lambda: (python.unlink(), python.symlink_to(target)),
        b"its bin/python changed",
    )
    sh.cd(proj)
    assert sh.venv() == str(venv)  # each undone: the allow holds again


def test_a_chmod_in_place_is_heard_at_the_next_prompt(sandbox, spawn):
    """Case 23 without a cd: a chmod of site-packages or of the project (directories
    trust checks, below the venv's own watch) changes the answer at the next prompt,
    both ways. A ``chmod -R`` that is still running when the daemon's debounce ends
    would otherwise leave a stale refusal."""
    proj = sandbox.project("proj")
    venv = proj / ".venv"
    (site,) = venv.glob("lib/python*/site-packages")
    sh = spawn()
    sh.cd(proj)
    assert sh.venv() == str(venv)
    for path, mode in ((site, 0o755), (proj, 0o755)):
        path.chmod(0o777)
        assert sh.wait_for(lambda: sh.venv() is None), path
        path.chmod(mode)
        assert sh.wait_for(lambda: sh.venv() == str(venv)), path


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_suggested_allow_runs_for_a_name_with_control_characters(sandbox, start_shell, shell):
    """Case 59: the notice's command, pasted, allows exactly that project."""
    proj = sandbox.project("a\x1b]0;owned\x07b\u202ec", trust=False)
    sh = start_shell(shell)
    out = sh.cd(proj)
    assert b"\x1b" not in out and b"\x07" not in out
    command = out[out.index(b"shellhook allow ") :].split(b"\n")[0].strip()
    assert command.startswith(b"shellhook allow $'")
    sh.run(command.decode())
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
