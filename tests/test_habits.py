"""End-to-end: the habits of venv users meet automatic activation (DESIGN §3, §4).

Each test types what Python users type every day, in every shell, and then checks the
DESIGN §4 invariant: ``VIRTUAL_ENV``, the venv bin dirs on ``PATH``, the prompt prefix and
``deactivate`` agree; at most one venv's bin dir is on PATH and it is ``$VIRTUAL_ENV/bin``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest


def venv_bins(path: bytes, base: str) -> list[bytes]:
    """The entries of a PATH value that are the bin dir of some venv, apart from those of
    the shell's starting PATH ``base`` (the test run's own venv is one)."""
    start = set(os.fsencode(base).split(b":"))
    return [
        entry
        for entry in path.split(b":")
        if entry not in start
        and entry.endswith(b"/bin")
        and os.path.isfile(os.path.join(entry[:-4], b"pyvenv.cfg"))
    ]


def assert_state(sh, venv: Path | None, label: bytes | None = None) -> None:
    """The invariant, and which venv is active (``label``: the prefix it must show)."""
    assert sh.venv() == (str(venv) if venv else None)
    bins = venv_bins(sh.getenv("PATH") or b"", sh.env["PATH"])
    assert bins == ([os.fsencode(venv) + b"/bin"] if venv else []), bins
    assert sh.has_function("deactivate") == (venv is not None)
    if venv is None:
        assert sh.prompt_prefix == b""
    elif label is not None:
        assert sh.prompt_prefix == b"(" + label + b") "


# -- 1. the venv applies inside cd ------------------------------------------------------


def test_cd_and_a_command_on_one_line_run_in_the_new_venv(sandbox, spawn):
    a = sandbox.project("a")
    b = sandbox.project("b")
    sh = spawn()
    sh.cd(a)
    out = sh.run(f"cd {sh.quote(str(b))} && python -c 'import sys; print(sys.prefix)'")
    assert out.strip().endswith(os.fsencode(b / ".venv"))
    # The "activated" line comes before the command's output.
    assert out.index(b"shellhook: activated b") < out.index(os.fsencode(b / ".venv") + b"\n")
    out = sh.run(f"cd {sh.quote(str(sandbox.home))} && python -c 'import sys; print(sys.prefix)'")
    assert os.fsencode(b / ".venv") not in out.splitlines()[-1]
    assert_state(sh, None)


def test_a_venv_made_right_after_cd_is_built_by_the_base_python(sandbox, spawn):
    proj = sandbox.project("proj")
    fresh = sandbox.home / "fresh"
    sh = spawn()
    sh.cd(proj)
    sh.run(
        f"mkdir {sh.quote(str(fresh))} && cd {sh.quote(str(fresh))} && "
        "python -m venv --without-pip .venv"
    )
    cfg = (fresh / ".venv" / "pyvenv.cfg").read_text()
    assert str(proj / ".venv") not in cfg


@pytest.mark.parametrize("command", ["pushd", "popd"])
def test_pushd_and_popd_apply_at_once(sandbox, spawn, command):
    proj = sandbox.project("proj")
    sh = spawn()
    prefix = "import sys; print(sys.prefix)"
    if command == "popd":
        sh.run(f"pushd {sh.quote(str(proj))}")
        assert sh.venv() == str(proj / ".venv")
        out = sh.run(f"popd >/dev/null && python -c '{prefix}'")
        assert not out.strip().endswith(os.fsencode(proj / ".venv"))
        return
    out = sh.run(f"{command} {sh.quote(str(proj))} >/dev/null && python -c '{prefix}'")
    assert out.strip().endswith(os.fsencode(proj / ".venv"))


@pytest.mark.parametrize("order", ["before", "after"])
def test_a_user_cd_function_is_chained(sandbox, spawn, order):
    """A cd function defined before the hook loads (earlier in the rc file) or after it
    (later in the rc file, or typed): theirs runs, and the venv applies at once."""
    proj = sandbox.project("proj")
    sh = spawn(**{f"{'pre' if order == 'before' else 'post'}_hook": "user_cd_function"})
    out = sh.run(f"cd {sh.quote(str(proj))} && python -c 'import sys; print(sys.prefix)'")
    assert b"user-cd-ran" in out  # theirs still runs
    assert out.strip().endswith(os.fsencode(proj / ".venv"))  # and ours, at once
    assert_state(sh, proj / ".venv", b"proj")


# -- 2. source activate inside an auto-activated project -------------------------------


def test_sourcing_the_active_venv_changes_nothing_visible(sandbox, spawn):
    proj = sandbox.project("proj")
    (proj / "sub").mkdir()
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run(sh.source_activate(str(proj / ".venv")))
    assert_state(sh, proj / ".venv", b"proj")
    # The user activated it now: a cd does not take it away...
    sh.cd(sandbox.home)
    assert_state(sh, proj / ".venv", b"proj")
    sh.cd(proj)
    # ...and its deactivate is the user's deactivate: off until leaving the project.
    sh.run("deactivate")
    assert_state(sh, None)
    assert sh.getenv("PATH") == path_before
    sh.cd(proj / "sub")
    assert_state(sh, None)
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert_state(sh, proj / ".venv", b"proj")
    # Deactivated outside its project, it does not turn the project off: coming back, even
    # on the same command line, activates it.
    sh.run(sh.source_activate(str(proj / ".venv")))
    sh.cd(sandbox.home)
    sh.run(f"deactivate; cd {sh.quote(str(proj))}")
    assert_state(sh, proj / ".venv", b"proj")


# -- 3. another venv sourced over ours ---------------------------------------------------


def test_another_venv_over_ours_leaves_no_trace_after_its_deactivate(sandbox, spawn):
    a = sandbox.project("a")
    c = sandbox.project("c")
    other = sandbox.make_venv(sandbox.home / "other")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(a)
    sh.run(sh.source_activate(str(other)))
    assert_state(sh, other)
    sh.cd(c)  # a manual venv is never replaced by a cd
    assert_state(sh, other)
    sh.run("deactivate")
    # Nothing of a's activation came back; c's auto-activation resumes.
    assert sh.wait_for(lambda: sh.venv() == str(c / ".venv"))
    assert_state(sh, c / ".venv", b"c")
    assert sh.getenv("PATH") == os.fsencode(c / ".venv/bin") + b":" + path_before
    sh.cd(sandbox.home)
    assert_state(sh, None)
    assert sh.getenv("PATH") == path_before


# -- 4. child shells and exec of a shell with a manual venv ------------------------------


@pytest.mark.parametrize("how", ["workon", "source"])
def test_child_shell_adopts_a_manual_venv(sandbox, spawn, how):
    proj = sandbox.project("proj")
    named = sandbox.make_venv(sandbox.workon_home / "tools")
    sh = spawn()
    path_before = sh.getenv("PATH")
    if how == "workon":
        sh.run("workon tools")
    else:
        sh.run(sh.source_activate(str(named)))
    sh.nested()
    assert_state(sh, named, b"tools")
    sh.run("deactivate")
    assert_state(sh, None)
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)  # trusted projects activate again
    assert_state(sh, proj / ".venv", b"proj")
    sh.exit_nested()
    assert sh.venv() == str(named)


def test_exec_of_the_shell_keeps_a_manual_venv_and_a_deactivated_project(sandbox, spawn):
    proj = sandbox.project("proj")
    named = sandbox.make_venv(sandbox.workon_home / "tools")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.run("workon tools")
    sh.exec_self()
    assert_state(sh, named, b"tools")
    sh.run("deactivate")
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert_state(sh, proj / ".venv", b"proj")
    sh.run("deactivate")
    sh.exec_self()  # the user's deactivate in this project survives exec
    assert_state(sh, None)
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert_state(sh, proj / ".venv", b"proj")


# -- 5. rmvenv of the active workon venv ------------------------------------------------


def test_rmvenv_of_the_active_named_venv_resumes_the_project(sandbox, spawn):
    proj = sandbox.project("proj")
    sandbox.make_venv(sandbox.workon_home / "scratch")
    sh = spawn()
    sh.cd(proj)
    sh.run("workon scratch")
    assert sh.venv() == str(sandbox.workon_home / "scratch")
    sh.run("rmvenv -y scratch")
    assert_state(sh, proj / ".venv", b"proj")


# -- 6. prompt themes that show VIRTUAL_ENV themselves -----------------------------------


def test_a_theme_that_shows_the_venv_gets_no_second_name(sandbox, spawn):
    proj = sandbox.project("proj")
    # The theme is set up before the hook, and the first prompt is inside the project.
    sh = spawn(cwd=proj, pre_hook="venv_theme")
    assert sh.venv() == str(proj / ".venv")
    assert b"(proj)" not in sh.last_prompt_line  # no name of ours...
    assert b"[.venv] " in sh.last_prompt_line  # ...beside the theme's own
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert b"(proj)" not in sh.last_prompt_line
    assert b"[.venv] " in sh.last_prompt_line


# -- 7. bash: a hashed venv program after the venv was deleted ----------------------------


def test_a_hashed_program_of_a_deleted_venv_falls_back_to_path(sandbox, spawn):
    proj = sandbox.project("proj")
    tool = proj / ".venv" / "bin" / "mytool"
    tool.write_text("#!/bin/sh\necho venv-tool\n")
    tool.chmod(0o755)
    fallback = sandbox.home / "bin"
    fallback.mkdir()
    (fallback / "mytool").write_text("#!/bin/sh\necho system-tool\n")
    (fallback / "mytool").chmod(0o755)
    sh = spawn(env={"PATH": f"{fallback}:{sandbox.env['PATH']}"})
    sh.cd(proj)
    assert sh.run("mytool").strip() == b"venv-tool"
    shutil.rmtree(proj / ".venv")
    # Typed before the shell's next prompt has heard of the deletion:
    out = sh.run("mytool")
    assert b"system-tool" in out and b"No such file" not in out


@pytest.mark.parametrize("shell_name", ["bash", "zsh", "fish"])
def test_a_jump_with_builtin_cd_forks_no_process(sandbox, spawn, tmp_path):
    """zoxide and autojump change directory with ``builtin cd``, past our ``cd``: the
    next prompt follows, and checks that our ``cd`` is still in place without a fork
    (bash read its text through ``$(...)``, a process at each jump)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed (test.sh installs it)")
    a, b = sandbox.project("a"), sandbox.project("b")
    sh = spawn()
    sh.run("builtin cd " + sh.quote(str(a)))
    assert sh.venv() == str(a / ".venv")
    trace = tmp_path / "strace.log"
    tracer = subprocess.Popen(
        [strace, "-f", "-e", "trace=clone,clone3,fork,vfork", "-o", str(trace)]
        + ["-p", str(sh.child.pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert tracer.stderr is not None
    assert b"attached" in tracer.stderr.readline()
    try:
        for _ in range(3):
            sh.run("builtin cd " + sh.quote(str(b)))
            sh.run("builtin cd " + sh.quote(str(a)))
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
    spawned = [  # processes: threads (fish's I/O pool) are not
        line
        for line in trace.read_text().splitlines()
        if "fork(" in line or ("clone" in line and "CLONE_THREAD" not in line)
    ]
    assert [line for line in spawned if "resumed>" not in line and "= -1" not in line] == []
    assert sh.venv() == str(a / ".venv")
    sh.run("builtin cd " + sh.quote(str(b)))
    assert sh.venv() == str(b / ".venv")
