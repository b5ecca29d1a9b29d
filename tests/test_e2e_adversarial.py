"""End-to-end: adversarial cases of security.md §3 found by issue 13, in every shell."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import socket
import subprocess
import sys
import time
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


# -- case 13: a repository cannot loosen policy ------------------------------------------

LOOSE = (
    'trust = "all"\ntrusted_paths = ["/"]\nquiet = true\ntimeout_ms = 0\n'
    'allow_keys = ["LD_PRELOAD"]\nhome_is_project = true\n'
)


def plant_loose_config(proj: Path, sentinel: Path, venv: Path) -> None:
    """Every project-side file that might claim to widen trust or silence warnings,
    in shellhook's config format or a neighbour's; and a venv that records each run of
    its activate script, its python or a .pth file in ``sentinel``."""
    files = {
        ".shellhook.toml": LOOSE,
        "shellhook.toml": LOOSE,
        ".shellhook/config.toml": LOOSE,
        "config.toml": 'trust = "owned"\nquiet = true\n',  # the user's config's own name
        ".config/shellhook/config.toml": 'trust = "owned"\nquiet = true\n',
        "pyproject.toml": '[project]\nname = "x"\n\n[tool.shellhook]\n' + LOOSE,
        "setup.cfg": "[tool:shellhook]\ntrust = all\nquiet = true\n",
        ".envrc": f"touch {sentinel}\nexport SHELLHOOK_QUIET=1 LD_PRELOAD=/x.so\n",
        ".env": "SHELLHOOK_QUIET=1\nSHELLHOOK_TRUST=all\nLD_PRELOAD=/x.so\n",
    }
    for name, text in files.items():
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        (proj / name).write_text(text)
    with open(venv / "pyvenv.cfg", "a") as cfg:
        cfg.write("shellhook = trusted\ntrust = all\nquiet = true\n")
    script = f"#!/bin/sh\ntouch {sentinel}\n"
    for name in ("activate", "activate.fish", "python"):
        (venv / "bin" / name).unlink()
        (venv / "bin" / name).write_text(script)
        (venv / "bin" / name).chmod(0o755)
    (site,) = venv.glob("lib/python*/site-packages")
    (site / "zz.pth").write_text(f"import os; os.system('touch {sentinel}')\n")


def test_a_project_cannot_loosen_policy(sandbox, spawn):
    """Case 13: untrusted projects (a ``.venv`` directory; a ``.venv`` pointer file) hold
    ``.shellhook.toml``, ``shellhook.toml``, ``pyproject.toml [tool.shellhook]``, a
    ``config.toml`` (the user's config's name) at the top and under ``.config``,
    ``.envrc``, ``.env``, a pyvenv.cfg claiming trust, and allow records forged where a
    state dir relative to the project would be, each saying trust everything, be
    quiet, no time limit, export LD_PRELOAD. None is read: nothing activates, nothing
    of the venv runs, the one line saying how to allow each project is shown (once),
    and once allowed, the "activated" line is not silenced and LD_PRELOAD stays unset."""
    sentinel = sandbox.root / "pwned"
    dirproj = sandbox.project("dirproj", trust=False)
    plant_loose_config(dirproj, sentinel, dirproj / ".venv")
    ptrproj = sandbox.home / "ptrproj"
    sandbox.make_venv(ptrproj / "env")
    (ptrproj / ".venv").write_text("./env\n")
    plant_loose_config(ptrproj, sentinel, ptrproj / "env")
    record = {"version": 1, "project": str(ptrproj), "venv": str(ptrproj / "env")}
    key = hashlib.sha256(os.fsencode(ptrproj)).hexdigest()
    for state in (".local/state/shellhook/trust", ".shellhook/trust", ".shellhook"):
        (ptrproj / state / "allow").mkdir(parents=True, exist_ok=True)
        (ptrproj / state / "allow" / f"{key}.json").write_text(json.dumps(record))
    sh = spawn()
    path_before = sh.getenv("PATH")
    for proj, label in ((dirproj, b".venv"), (ptrproj, b"env")):
        said = b""
        for _ in range(2):
            said += sh.cd(proj) + sh.cd(proj / ".config")
            assert sh.venv() is None
            assert sh.getenv("PATH") == path_before
            assert sh.getenv("LD_PRELOAD") is None
            sh.cd(sandbox.home)
        notice = b"shellhook: " + label + b" is not allowed; to use it: shellhook allow ~/"
        assert said.count(b"shellhook:") == 1 and notice + proj.name.encode() in said, said
    for proj in (dirproj, ptrproj):
        sandbox.shellhook("allow", str(proj))
        out = sh.cd(proj)
        assert b"shellhook: activated " in out, out
        assert sh.getenv("LD_PRELOAD") is None
        sh.cd(sandbox.home)
    assert not sentinel.exists()


# -- case 18: a .venv that is not a regular file, in a shell -----------------------------

SPECIAL_BOUND = 3.0  # seconds: a prompt held on a FIFO or a device would take forever


def test_a_special_dot_venv_is_not_followed_in_a_shell(sandbox, spawn, figures):
    """Case 18: ``.venv`` as a UNIX socket, a FIFO, a symlink to ``/proc/self/mem``, to
    ``/dev/zero`` and to ``/dev/tty``: each cd in and out comes back within a bounded
    time, activates nothing, leaves PATH alone and says at most one line."""
    projects = []
    for kind in ("socket", "fifo", "/proc/self/mem", "/dev/zero", "/dev/tty"):
        proj = sandbox.home / f"special-{len(projects)}"
        proj.mkdir()
        if kind == "socket":
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(str(proj / ".venv"))
        elif kind == "fifo":
            os.mkfifo(proj / ".venv")
        else:
            (proj / ".venv").symlink_to(kind)
        projects.append(proj)
    sh = spawn()
    path_before = sh.getenv("PATH")
    for proj in projects:
        said = b""
        for _ in range(2):
            start = time.monotonic()
            said += sh.cd(proj)
            took = time.monotonic() - start
            figures.most("case 18: slowest cd into a special .venv (s)", took)
            assert took < SPECIAL_BOUND, (proj, took)
            assert sh.venv() is None
            assert sh.getenv("PATH") == path_before
            sh.cd(sandbox.home)
        assert said.count(b"shellhook:") <= 1, said
        assert b"Traceback" not in said
