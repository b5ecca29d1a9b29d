"""End-to-end: cd in, out and between projects in real interactive shells."""

from __future__ import annotations

import os

import pytest


def test_cd_in_and_out_restores_path_exactly(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    out = sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert sh.which_python() == str(proj / ".venv")
    assert b"shellhook: activated proj" in out
    assert sh.getenv("PATH") == os.fsencode(proj / ".venv/bin") + b":" + path_before
    sh.cd(proj.parent)
    assert sh.venv() is None
    assert sh.getenv("VIRTUAL_ENV_PROMPT") is None
    assert sh.getenv("PATH") == path_before


def test_subdirectories_and_switching(sandbox, spawn):
    a = sandbox.project("a")
    b = sandbox.project("b")
    (a / "src" / "deep").mkdir(parents=True)
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(a / "src" / "deep")
    assert sh.venv() == str(a / ".venv")
    sh.cd(b)
    assert sh.venv() == str(b / ".venv")
    path = sh.getenv("PATH")
    assert os.fsencode(a / ".venv/bin") not in path
    assert path == os.fsencode(b / ".venv/bin") + b":" + path_before


def test_innermost_project_wins(sandbox, spawn):
    outer = sandbox.project("outer")
    inner = sandbox.project("outer/inner", venv_name="venv")
    sh = spawn()
    sh.cd(inner)
    assert sh.venv() == str(inner / "venv")
    sh.cd(outer)
    assert sh.venv() == str(outer / ".venv")


def test_shell_started_inside_project_is_active_at_first_prompt(sandbox, spawn):
    proj = sandbox.project("proj")
    (proj / "sub").mkdir()
    sh = spawn(cwd=proj / "sub")
    assert sh.venv() == str(proj / ".venv")


def test_untrusted_venv_is_not_activated_and_warned_once(sandbox, spawn):
    proj = sandbox.project("evil", trust=False)
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() is None
    assert b"shellhook: .venv is not allowed; to use it: shellhook allow ~/evil\n" in out
    sh.cd(proj.parent)
    again = sh.cd(proj)
    assert b"shellhook allow" not in again
    sandbox.shellhook("allow", str(proj))  # from outside: the daemon's watch nudges the shell
    assert sh.wait_for(lambda: sh.venv() == str(proj / ".venv"))


def test_pushd_popd_and_cd_dash(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.run("pushd " + sh.quote(str(proj)) + " >/dev/null")
    assert sh.venv() == str(proj / ".venv")
    sh.run("popd >/dev/null")
    assert sh.venv() is None
    sh.cd(proj)
    sh.cd("/")
    sh.run("cd - >/dev/null")
    assert sh.venv() == str(proj / ".venv")


@pytest.mark.parametrize(
    "name",
    [
        "$(touch pwned)",
        "back`touch pwned`tick",
        "quo'te\"s",
        "semi;colon",
        "sp ace",
        "new\nline",
        "caf\udce9-latin1",
        "--dash",
        "dollar$NO_SUCH_VARIABLE",
    ],
)
def test_hostile_directory_names(sandbox, spawn, name):
    """A few names, quickly; the whole corpus, with what each shell refuses (a set
    ``$NAME`` in xonsh), is tests/test_hostile_corpus.py's."""
    proj = sandbox.project(os.fsencode(name).decode("utf-8", "surrogateescape"))
    sh = spawn()
    sh.cd(proj)
    assert sh.getenv("VIRTUAL_ENV") == os.fsencode(proj / ".venv")
    assert not list(sandbox.root.rglob("pwned"))
    sh.cd(sandbox.home)
    assert sh.venv() is None


@pytest.mark.parametrize("name", ["a[$(touch pwned)]", "x`touch pwned`$((1))%n"])
def test_hostile_names_in_warnings_are_never_executed(sandbox, spawn, name):
    proj = sandbox.project(name, trust=False)
    sh = spawn()
    out = sh.cd(proj)
    assert b"shellhook allow" in out
    sh.cd(sandbox.home)
    assert b"shellhook allow" not in sh.cd(proj)  # said once
    assert not list(sandbox.root.rglob("pwned"))
