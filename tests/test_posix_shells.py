"""bash- and zsh-only behaviour: AUTO_CD, `exec` into a new shell, PROMPT_COMMAND forms."""

from __future__ import annotations

import os

import pytest


def test_zsh_auto_cd(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("zsh")
    sh.run("setopt auto_cd")
    sh.run(sh.quote(str(proj)))  # a bare directory name is a cd
    assert sh.venv() == str(proj / ".venv")


@pytest.mark.parametrize("name", ["bash", "zsh"])
def test_exec_into_a_new_shell_adopts(sandbox, start_shell, name):
    proj = sandbox.project("proj")
    sh = start_shell(name)
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
def test_bash_prompt_command_forms_are_kept(sandbox, start_shell, form):
    proj = sandbox.project("proj")
    sh = start_shell("bash")
    user = "echo user-hook-ran"
    setup = f"PROMPT_COMMAND='{user}'" if form == "string" else f"PROMPT_COMMAND=('{user}' 'true')"
    sh.run(setup)
    sh.run(sh.load_hook_command().replace("source", "unset __shellhook_loaded; source"))
    out = sh.cd(proj)
    assert out.count(b"user-hook-ran") == 1
    assert sh.venv() == str(proj / ".venv")
    assert out.count(b"shellhook: activated") == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_zsh_completion_with_compsys(sandbox, start_shell, when):
    """compinit loaded before the hook (compdef at once) or after it (compctl fallback)."""
    alphabet = sandbox.make_venv(sandbox.workon_home / "alphabet")
    sandbox.make_venv(sandbox.workon_home / "beta")
    sh = start_shell("zsh")
    sh.run("autoload -U compinit && compinit -u -D")
    if when == "before":
        sh.run("__shellhook_compdef")
        assert sh.run("print -r -- $_comps[workon]").strip() == b"_shellhook_venvs"
    sh.complete_and_run("workon alph")
    assert sh.venv() == str(alphabet)


# -- zsh: the venv inside cd (chpwd), and venv activate scripts over ours ---------------


@pytest.mark.parametrize("name", ["bash", "zsh"])
def test_cd_in_a_subshell_or_command_substitution_asks_nothing(sandbox, start_shell, name):
    proj = sandbox.project("proj")
    sh = start_shell(name)
    q = sh.quote(str(proj))
    out = sh.run(f'(cd {q} && echo "[$VIRTUAL_ENV]"); echo rc=$?; d=$(cd {q} && pwd); echo "$d"')
    assert b"shellhook:" not in out and b"rc=0" in out
    assert b"[]" in out  # quiet, and nothing applied in the subshell
    assert sh.venv() is None


def test_bash_cd_wrapper_opt_out(sandbox, start_shell):
    """SHELLHOOK_WRAP_CD=0: cd is the builtin; the venv changes at the next prompt."""
    proj = sandbox.project("proj")
    sh = start_shell("bash", env={"SHELLHOOK_WRAP_CD": "0"})
    assert b"HAS" not in sh.run("declare -F cd >/dev/null && echo HAS")
    out = sh.run(f'cd {sh.quote(str(proj))} && echo "[$VIRTUAL_ENV]"')
    assert b"[]" in out
    assert sh.venv() == str(proj / ".venv")  # at the next prompt


def test_zsh_cd_keeps_its_status_and_user_chpwd_hooks_see_the_venv(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("zsh")
    sh.run(
        "show_venv() { print -r -- user-chpwd:${VIRTUAL_ENV:-none} }; chpwd_functions+=(show_venv)"
    )
    out = sh.run(f"cd {sh.quote(str(proj))}; echo rc=$?; cd /nonexistent; echo rc=$?")
    assert b"user-chpwd:" + os.fsencode(proj / ".venv") + b"\nrc=0" in out
    assert out.rstrip().endswith(b"rc=1")


def test_zsh_sourcing_ours_and_leaving_on_one_line(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("zsh")
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run(sh.source_activate(str(proj / ".venv")) + " && cd " + sh.quote(str(sandbox.home)))
    # Sourced by the user, it is the user's: the cd on the same line keeps it, once.
    assert sh.venv() == str(proj / ".venv")
    assert sh.getenv("PATH") == os.fsencode(proj / ".venv/bin") + b":" + path_before
    assert sh.prompt_prefix == b"(proj) "
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert b"HAS" not in sh.run("(( $+functions[deactivate] )) && echo HAS")


@pytest.mark.parametrize("which", ["same", "other"])
def test_zsh_a_venv_sourced_over_a_workon_venv_leaves_no_trace(sandbox, start_shell, which):
    tools = sandbox.make_venv(sandbox.workon_home / "tools")
    other = sandbox.make_venv(sandbox.home / "other")
    sh = start_shell("zsh")
    path_before = sh.getenv("PATH")
    sh.run("workon tools")
    venv = tools if which == "same" else other
    sh.run(sh.source_activate(str(venv)))
    assert sh.venv() == str(venv)
    assert sh.getenv("PATH") == os.fsencode(venv) + b"/bin:" + path_before
    assert sh.prompt_prefix.count(b"(") == 1
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert sh.prompt_prefix == b""
