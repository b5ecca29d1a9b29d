"""bash- and zsh-only behaviour: AUTO_CD, `exec` into a new shell, PROMPT_COMMAND forms."""

from __future__ import annotations

import os

import pytest

from tests import shelldriver
from tests.conftest import require_shell


@pytest.fixture
def start(sandbox):
    started = []

    def run(name, env=None):
        require_shell(name)
        driver = shelldriver.DRIVERS[name](
            sandbox.root, {**sandbox.env, **(env or {})}, sandbox.hook_file(name)
        )
        started.append(driver)
        return driver.start()

    yield run
    for driver in started:
        driver.close()


def test_zsh_auto_cd(sandbox, start):
    proj = sandbox.project("proj")
    sh = start("zsh")
    sh.run("setopt auto_cd")
    sh.run(sh.quote(str(proj)))  # a bare directory name is a cd
    assert sh.venv() == str(proj / ".venv")


@pytest.mark.parametrize("name", ["bash", "zsh"])
def test_exec_into_a_new_shell_adopts(sandbox, start, name):
    proj = sandbox.project("proj")
    sh = start(name)
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.child.sendline("exec " + " ".join(sh.quote(a) for a in sh.argv()))
    for line in sh.setup_lines():
        sh.child.sendline(line)
    sh.sync()
    assert sh.venv() == str(proj / ".venv")
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1
    sh.run("deactivate")
    assert sh.venv() is None and sh.getenv("PATH") == path_before


@pytest.mark.parametrize("form", ["string", "array"])
def test_bash_prompt_command_forms_are_kept(sandbox, start, form):
    proj = sandbox.project("proj")
    sh = start("bash")
    user = "echo user-hook-ran"
    setup = f"PROMPT_COMMAND='{user}'" if form == "string" else f"PROMPT_COMMAND=('{user}' 'true')"
    sh.run(setup)
    sh.run(sh.load_hook_command().replace("source", "unset __shellhook_loaded; source"))
    out = sh.cd(proj)
    assert out.count(b"user-hook-ran") == 1
    assert sh.venv() == str(proj / ".venv")
    assert out.count(b"shellhook: activated") == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_zsh_completion_with_compsys(sandbox, start, when):
    """compinit loaded before the hook (compdef at once) or after it (compctl fallback)."""
    alphabet = sandbox.make_venv(sandbox.workon_home / "alphabet")
    sandbox.make_venv(sandbox.workon_home / "beta")
    sh = start("zsh")
    sh.run("autoload -U compinit && compinit -u -D")
    if when == "before":
        sh.run("__shellhook_compdef")
        assert sh.run("print -r -- $_comps[workon]").strip() == b"_shellhook_venvs"
    sh.complete_and_run("workon alph")
    assert sh.venv() == str(alphabet)
