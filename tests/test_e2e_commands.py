"""End-to-end: workon, mkvenv, rmvenv, lsvenv typed in real interactive shells.

Shell-agnostic: everything goes through the driver (``run``, ``cd``, ``getenv``,
``quote``, ``status_expr``, ``complete_and_run``, ``answer_prompt``).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest


def printed(out: bytes, command: str = "") -> list[bytes]:
    """The non-empty lines commands printed, without line-editor paints of typed lines
    (``command`` itself, the driver's ``echo`` markers)."""
    typed = os.fsencode(command).strip()
    lines = (line.rstrip(b"\r") for line in out.splitlines())
    return [
        line
        for line in lines
        if line.strip() and line.strip() != typed and not line.startswith(b"echo ")
    ]


def status_of(sh, command: str) -> tuple[int, bytes]:
    """Run ``command``; its exit status and output. (Not ``cmd; echo $?``: xonsh stops a
    ``;`` list at a failing command.)"""
    sh.child.sendline(os.fsencode(command))
    out = sh.run(f"echo RC={sh.status_expr}")
    m = re.search(rb"RC=(\d+)", out)
    assert m, out
    return int(m.group(1)), b"\n".join(printed(out[: m.start()], command))


def leftovers(*dirs: Path) -> list[Path]:
    """Temporary build/remove directories that should never stay behind."""
    found = []
    for d in dirs:
        if d.is_dir():
            found += [p for p in d.iterdir() if p.name.startswith(".shellhook-")]
    return found


def make_project(sandbox, name: str, marker: str = "pyproject.toml") -> Path:
    proj = sandbox.home / name
    proj.mkdir(parents=True)
    if marker == ".git":
        (proj / ".git").mkdir()
    else:
        (proj / marker).write_text("")
    return proj


def test_mkvenv_in_project_is_the_projects_venv(sandbox, spawn):
    proj = make_project(sandbox, "proj")
    (proj / "src" / "pkg").mkdir(parents=True)
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj / "src" / "pkg")
    rc, out = status_of(sh, "mkvenv --without-pip")
    assert rc == 0, out
    venv = proj / ".venv"
    assert (venv / "pyvenv.cfg").is_file()
    assert sh.venv() == str(venv)
    assert sh.getenv("SHELLHOOK_VENV") == os.fsencode(venv)  # the project's, automatic
    assert sh.which_python() == str(venv)
    assert sh.getenv("PATH") == os.fsencode(venv / "bin") + b":" + path_before
    assert b"created" in out
    assert not leftovers(proj)
    assert "activates automatically" in sandbox.shellhook("which", str(proj)).stdout  # trusted
    sh.cd(sandbox.home)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert sh.venv() == str(venv)


def test_mkvenv_name_links_the_project(sandbox, spawn):
    proj = make_project(sandbox, "proj", ".git")
    sh = spawn(cwd=proj)
    path_before = sh.getenv("PATH")
    rc, out = status_of(sh, "mkvenv --without-pip foo")
    assert rc == 0, out
    venv = sandbox.workon_home / "foo"
    assert (venv / "pyvenv.cfg").is_file()
    pointer = proj / ".venv"
    assert pointer.read_bytes() == b"foo\n"
    assert stat.S_IMODE(pointer.stat().st_mode) == 0o644
    assert (venv / ".project").read_text() == f"{proj}\n"
    assert sh.venv() == os.path.realpath(venv)
    assert not leftovers(proj, sandbox.workon_home)
    sh.cd(sandbox.home)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert sh.venv() == os.path.realpath(venv)
    rc, out = status_of(sh, "mkvenv --without-pip foo")
    assert rc == 1 and b"already exists" in out


def test_mkvenv_never_overwrites(sandbox, spawn):
    proj = make_project(sandbox, "proj")
    sh = spawn(cwd=proj)
    assert status_of(sh, "mkvenv --without-pip")[0] == 0
    inode = (proj / ".venv" / "pyvenv.cfg").stat().st_ino
    rc, out = status_of(sh, "mkvenv --without-pip")
    assert rc == 1 and b"already exists" in out
    assert (proj / ".venv" / "pyvenv.cfg").stat().st_ino == inode
    rc, out = status_of(sh, "mkvenv --without-pip --force")
    assert rc == 0, out
    assert (proj / ".venv" / "pyvenv.cfg").stat().st_ino != inode
    assert sh.venv() == str(proj / ".venv")
    assert not leftovers(proj)


def test_workon_lists_activates_by_hand_and_survives_cd(sandbox, spawn):
    linked = sandbox.home / "linked"
    linked.mkdir()
    alpha = sandbox.make_venv(sandbox.workon_home / "alpha")
    (alpha / ".project").write_text(f"{linked}\n")
    beta = sandbox.make_venv(sandbox.workon_home / "beta")
    other = sandbox.project("other")
    sh = spawn()
    path_before = sh.getenv("PATH")
    assert printed(sh.run("workon")) == [b"alpha", b"beta"]
    sh.run("workon alpha")
    assert sh.venv() == str(alpha)
    assert sh.getenv("PWD") == os.fsencode(linked)  # cd to the project in .project
    assert sh.getenv("SHELLHOOK_VENV") is None  # manual: not ours
    assert sh.which_python() == str(alpha)
    sh.cd(other)
    assert sh.venv() == str(alpha)  # cd never replaces a manual activation
    assert os.fsencode(other / ".venv/bin") not in sh.getenv("PATH")
    sh.run("workon beta")  # switching: alpha's deactivate runs first
    assert sh.venv() == str(beta)
    assert os.fsencode(alpha / "bin") not in sh.getenv("PATH")
    sh.run("deactivate")
    sh.cd(sandbox.home)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(other)
    assert sh.venv() == str(other / ".venv")  # auto-activation is back


def test_deactivate_after_workon_resumes_auto_at_once(sandbox, spawn):
    """DESIGN §4: after the user's deactivate of a manual venv, auto-activation resumes."""
    sandbox.make_venv(sandbox.workon_home / "beta")
    other = sandbox.project("other")
    sh = spawn(cwd=other)
    assert sh.venv() == str(other / ".venv")
    sh.run("workon beta")
    sh.run("deactivate")
    assert sh.wait_for(lambda: sh.venv() == str(other / ".venv"))


def test_workon_replaces_an_automatic_activation(sandbox, spawn):
    beta = sandbox.make_venv(sandbox.workon_home / "beta")
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    sh.run("workon beta")
    assert sh.venv() == str(beta)
    assert sh.getenv("SHELLHOOK_VENV") is None
    assert sh.getenv("PATH") == os.fsencode(beta / "bin") + b":" + path_before
    sh.cd(sandbox.home)
    assert sh.venv() == str(beta)


@pytest.mark.parametrize("command", ["workon", "rmvenv -y"])
def test_bad_names_are_refused_and_change_nothing(sandbox, spawn, command):
    sandbox.make_venv(sandbox.workon_home / "alpha")
    (sandbox.home / "x").mkdir()
    sh = spawn(cwd=sandbox.home)
    before = {v: sh.getenv(v) for v in ("VIRTUAL_ENV", "PWD", "PATH")}
    names = ["../x", "/abs", "a/b", "-p", "--", ".", "..", "a:b", "new\nline", "$(touch pwned)"]
    for name in names:
        rc, out = status_of(sh, f"{command} -- {sh.quote(name)}")
        lines = out.splitlines()
        assert rc == 2, (name, out)
        assert len(lines) == 1 and lines[0].startswith(b"shellhook: invalid venv name"), out
    rc, out = status_of(sh, f"{command} {sh.quote('')}")
    assert rc == 2 and b"empty" in out
    rc, out = status_of(sh, f"{command} nosuchvenv")
    assert rc == 1 and b"no venv named" in out
    rc, out = status_of(sh, f"{command} -p")
    assert rc == 2 and len(out.splitlines()) == 1
    assert {v: sh.getenv(v) for v in ("VIRTUAL_ENV", "PWD", "PATH")} == before
    assert (sandbox.workon_home / "alpha" / "pyvenv.cfg").exists()
    assert not list(sandbox.root.rglob("pwned"))


def test_tab_completes_venv_names(sandbox, spawn):
    alphabet = sandbox.make_venv(sandbox.workon_home / "alphabet")
    sandbox.make_venv(sandbox.workon_home / "beta")
    sh = spawn()
    sh.complete_and_run("workon alph")
    assert sh.venv() == str(alphabet)


def test_rmvenv_named_deactivates_and_removes_its_pointer(sandbox, spawn):
    proj = make_project(sandbox, "proj")
    sh = spawn(cwd=proj)
    path_before = sh.getenv("PATH")
    assert status_of(sh, "mkvenv --without-pip foo")[0] == 0
    assert sh.venv() == str(sandbox.workon_home / "foo")
    rc, out = status_of(sh, "rmvenv -y foo")
    assert rc == 0, out
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert not (sandbox.workon_home / "foo").exists()
    assert not os.path.lexists(proj / ".venv")  # the pointer would dangle
    assert not leftovers(proj, sandbox.workon_home)
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() is None


def test_rmvenv_project_venv_asks_first(sandbox, spawn):
    proj = make_project(sandbox, "proj")
    sh = spawn(cwd=proj)
    assert status_of(sh, "mkvenv --without-pip")[0] == 0
    out = sh.answer_prompt("rmvenv", b"[y/N]", "n")
    assert b"not removed" in out
    assert (proj / ".venv" / "pyvenv.cfg").exists()
    assert sh.venv() == str(proj / ".venv")
    out = sh.answer_prompt("rmvenv", b"[y/N]", "y")
    assert not (proj / ".venv").exists()
    assert sh.venv() is None


def test_lsvenv_marks_the_active_venv(sandbox, spawn):
    sandbox.make_venv(sandbox.workon_home / "alpha")
    proj = make_project(sandbox, "proj")
    sh = spawn(cwd=proj)
    assert status_of(sh, "mkvenv --without-pip")[0] == 0
    lines = [line.split() for line in printed(sh.run("lsvenv"))]
    assert lines[0] == [b"NAME", b"PYTHON", b"PROJECT"]
    assert [line[0] for line in lines[1:] if line[0] != b"*"] == [b"alpha"]
    assert [line[:2] for line in lines if line[0] == b"*"][0] == [b"*", b"~/proj"]


@pytest.mark.parametrize("uv_works", [True, False], ids=["uv", "failing-uv"])
def test_mkvenv_venv_has_a_pip_that_installs_into_it(sandbox, spawn, uv_works):
    """Issue 12.1, as a new user would do it: mkvenv (uv on PATH), then pip install. The
    uv case seeds pip from local wheels, the failing uv (no network route, no CA bundle)
    falls back to python -m venv: no network either way."""
    from tests.test_venvcli import failing_uv, require_uv, seed_wheels

    wheels = sandbox.root / "wheels"
    env = seed_wheels(wheels)
    if uv_works:
        require_uv(sandbox)
    else:
        bindir = failing_uv(sandbox.root / "uvbin")
        env["PATH"] = os.pathsep.join([str(bindir), sandbox.env["PATH"]])
    proj = make_project(sandbox, "proj")
    sh = spawn(cwd=proj, env=env)
    rc, out = status_of(sh, "mkvenv")
    assert rc == 0, out
    assert b"(with pip " in out
    assert (b"making it with python -m venv" in out) != uv_works
    venv = proj / ".venv"
    assert sh.venv() == str(venv)
    rc, out = status_of(
        sh, "python -m pip install --no-index --find-links " + sh.quote(str(wheels)) + " demo-pkg"
    )
    assert rc == 0, out
    rc, out = status_of(sh, "demo")  # the package's script, from the venv's bin
    assert rc == 0 and b"demo 42" in out, out
    rc, out = status_of(sh, "pip --version")  # a bare pip is the venv's own
    assert rc == 0 and os.fsencode(venv / "lib") in out, out
    assert not leftovers(proj)
