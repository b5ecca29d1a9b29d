"""fish only: the hook script, its prompt wrapper, PATH as a list, the file transport."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shellhook import adapters
from tests.conftest import require_shell
from tests.drivers import PROMPT, PROMPT_RE
from tests.drivers.fish import FishDriver

HOOK = Path(__file__).resolve().parent.parent / "shells" / "shellhook.fish"

NASTY = [
    "",
    "plain",
    "sp ace",
    "it's",
    "it\\'s",
    'dq"uote',
    "back\\slash",
    "trailing\\",
    "$(touch pwned)",
    "(touch pwned)",
    "`id`",
    "semi;colon",
    "new\nline",
    "tab\there",
    "\r\x1b]0;title\x07",
    "ünïcödé",
    "日本",
    "emoji\U0001f600",
    "caf\udce9",
    "\udcff\udc80",
    "--dash",
    "-n",
    "*glob?[x]",
    "~tilde",
    "!bang",
    "%self",
    "{brace,s}",
    "a:b",
    "\x01\x7f",
    "\uf600\uf6ff",
    "#hash",
    "a\\x41\\u00e9",
    "$HOME",
    "'",
    "\\",
]


def _daemon_up(sandbox) -> bool:
    return (sandbox.root / "run" / "shellhook" / "daemon.pid").exists()


# -- the script -------------------------------------------------------------------------
def test_hook_and_generated_init_parse(sandbox):
    require_shell("fish")
    for path in (HOOK, sandbox.hook_file("fish")):
        out = subprocess.run(
            ["fish", "--no-execute", str(path)], capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, out.stderr


def test_every_name_is_prefixed(sandbox):
    require_shell("fish")
    script = (
        f"set -l before (functions -a) (set -n); source {HOOK}; "
        "for n in (functions -a) (set -n); contains -- $n $before; or echo $n; end"
    )
    out = subprocess.run(
        ["fish", "--no-config", "-i", "-c", script],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    new = set(out.stdout.split())
    assert new, out.stderr
    assert {n for n in new if not n.startswith("__shellhook_")} <= {"SHELLHOOK_SESSION", "before"}


def test_non_interactive_fish_is_untouched(sandbox):
    require_shell("fish")
    proj = sandbox.project("proj")
    hook = sandbox.hook_file("fish")
    script = f"source '{hook}'; cd '{proj}'; echo \"[$VIRTUAL_ENV]\"; set -q SHELLHOOK_SESSION"
    out = subprocess.run(
        ["fish", "--no-config", "-c", script],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout == "[]\n" and out.stderr == ""
    assert out.returncode == 1  # no session either: the hook returned at once


def test_command_substitution_is_untouched(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    out = sh.run(f'echo "["(cd {sh.quote(str(proj))}; echo $VIRTUAL_ENV)"]"')
    assert out.splitlines()[0] == b"[]"
    # fish's cd in a command substitution moves the shell itself: the prompt catches up.
    assert sh.venv() == str(proj / ".venv")


def test_fish_c_child_is_untouched(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    hook = sh.quote(str(sandbox.hook_file("fish")))
    out = sh.run(f"fish -c 'source {hook}; cd {proj}; echo \"[$VIRTUAL_ENV]\"'")
    assert out.strip() == b"[]"
    assert sh.venv() is None


def test_prevd_nextd_and_dirh(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    sh.cd(proj)
    sh.cd(sandbox.home)
    assert sh.venv() is None
    sh.run("prevd >/dev/null")
    assert sh.venv() == str(proj / ".venv")
    sh.run("nextd >/dev/null")
    assert sh.venv() is None


def test_activation_happens_inside_cd(sandbox, start_shell):
    """--on-variable PWD: a command after cd on the same line already sees the venv."""
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    assert sh.wait_for(lambda: _daemon_up(sandbox))  # (only then: the one-shot is slow)
    out = sh.run(f"cd {sh.quote(str(proj))}; and python -c 'import sys; print(sys.prefix)'")
    assert out.strip().splitlines()[-1] == os.fsencode(proj / ".venv")


def test_status_survives_the_hook(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    sh.child.sendline(f"cd {sh.quote(str(proj))}; false")
    assert sh.run("echo $status").strip().endswith(b"1")
    # The prompt hook asks (VIRTUAL_ENV changed by hand) right after a failure.
    sh.child.sendline("set -gx VIRTUAL_ENV /elsewhere; false")
    assert sh.run("echo $status").strip().endswith(b"1")
    sh.child.sendline(f"cd {sh.quote(str(sandbox.root / 'missing'))} 2>/dev/null")
    assert sh.run("echo $status").strip().endswith(b"1")


# -- the prompt -------------------------------------------------------------------------
def _user_prompt_argv(sandbox) -> list[str]:
    """fish whose own prompt is defined after the hook (config.fish after conf.d)."""
    driver = FishDriver(sandbox.root, sandbox.env, sandbox.hook_file("fish"))
    init = driver.init_command() + (
        "; set -g user_prompt_runs 0; set -g user_prompt_status x"
        "; function fish_prompt; set -g user_prompt_status $status"
        "; set -g user_prompt_runs (math $user_prompt_runs + 1)"
        f"; builtin printf '%s' '{PROMPT} '; end"
    )
    return ["fish", "--no-config", "-i", "-C", init]


def test_prompt_label_wraps_the_users_own_prompt(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish", argv=_user_prompt_argv(sandbox))
    original = sh.run("functions fish_prompt")
    sh.cd(proj)
    assert sh.prompt_prefix == b"(proj) "
    runs = int(sh.run("echo $user_prompt_runs"))
    sh.sync()
    assert int(sh.run("echo $user_prompt_runs")) > runs  # the user's prompt still runs
    sh.child.sendline("false")
    assert sh.run("echo $user_prompt_status").strip().endswith(b"1")  # and sees $status
    assert b"user_prompt_runs" in sh.run("functions __shellhook_user_prompt")
    sh.cd(sandbox.home)
    assert sh.prompt_prefix == b""
    assert sh.run("functions fish_prompt") == original
    assert sh.run("functions -q __shellhook_user_prompt; or echo gone").strip() == b"gone"


def test_prompt_redefined_while_active_gets_the_label_back(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish")
    sh.cd(proj)
    assert sh.prompt_prefix == b"(proj) "
    sh.run(f"function fish_prompt; builtin printf '%s' '{PROMPT} '; end")
    sh.sync()  # one prompt may go without the label: fish has no hook on redefinition
    sh.sync()
    assert sh.prompt_prefix == b"(proj) "
    sh.run("deactivate")
    assert sh.prompt_prefix == b""
    assert sh.venv() is None


def test_disable_prompt_leaves_fish_prompt_alone(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("fish", env={"VIRTUAL_ENV_DISABLE_PROMPT": "1"})
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert sh.prompt_prefix == b""
    assert sh.run("functions -q __shellhook_user_prompt; or echo none").strip() == b"none"


def test_venv_activate_fish_takes_over_and_gives_back(sandbox, start_shell):
    """activate.fish copies our wrapper as its _old_fish_prompt, and restores it later."""
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.root / "manual")
    sh = start_shell("fish")
    path_before = sh.getenv("PATH")
    original = sh.run("functions fish_prompt")
    sh.cd(proj)
    sh.run("source " + sh.quote(str(other / "bin" / "activate.fish")))
    assert sh.venv() == str(other)
    assert sh.getenv("SHELLHOOK_VENV") is None
    assert sh.prompt_prefix == b"(manual) "  # activate.fish's prompt; ours prints nothing
    assert sh.getenv("PATH") == os.fsencode(other / "bin") + b":" + path_before
    sh.run("deactivate")  # activate.fish's: auto-activation resumes
    assert sh.venv() == str(proj / ".venv")
    assert sh.prompt_prefix == b"(proj) "
    assert sh.getenv("PATH") == os.fsencode(proj / ".venv/bin") + b":" + path_before
    sh.cd(sandbox.home)
    assert sh.prompt_prefix == b""
    assert sh.getenv("PATH") == path_before
    assert sh.run("functions fish_prompt") == original


def _saved_state(sh) -> bytes:
    """Which of activate.fish's saved variables and functions exist in the shell."""
    return sh.run(
        "for v in _OLD_VIRTUAL_PATH _OLD_VIRTUAL_PYTHONHOME _OLD_FISH_PROMPT_OVERRIDE; "
        "set -q $v; and echo $v; end; functions -q _old_fish_prompt; and echo _old_fish_prompt"
    ).strip()


def test_sourcing_our_own_venv_is_taken_back_whole(sandbox, start_shell):
    """activate.fish of the venv we activated: at the next prompt nothing of its own is
    left, our wrapper is fish_prompt again and deactivate is ours (the user's)."""
    proj = sandbox.project("proj")
    (proj / "sub").mkdir()
    sh = start_shell("fish")
    sh.cd(proj)
    wrapper = sh.run("functions fish_prompt")
    ours = sh.getenv("VIRTUAL_ENV_PROMPT")
    path = sh.getenv("PATH")
    sh.run("source " + sh.quote(str(proj / ".venv/bin/activate.fish")))
    assert sh.prompt_prefix == b"(proj) "
    assert _saved_state(sh) == b""
    assert sh.run("functions fish_prompt") == wrapper
    assert sh.getenv("VIRTUAL_ENV_PROMPT") == ours
    assert sh.getenv("PATH") == path
    assert b"shellhook" in sh.run("functions deactivate")
    # Also when a cd comes on the same line, before any prompt.
    sh.run("source " + sh.quote(str(proj / ".venv/bin/activate.fish")) + "; cd sub")
    assert _saved_state(sh) == b""
    assert sh.getenv("PATH") == path
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("SHELLHOOK_OFF") == os.fsencode(proj)


def test_another_venv_over_ours_saves_nothing_of_ours(sandbox, start_shell):
    """F cleans another venv's saved PATH and prompt, and hands it the PYTHONHOME we put
    aside, so its deactivate restores what the user had before either activation."""
    a = sandbox.project("a")
    other = sandbox.make_venv(sandbox.root / "other")
    sh = start_shell("fish", env={"PYTHONHOME": "/the/users/pythonhome"})
    sh.cd(a)
    assert sh.getenv("PYTHONHOME") is None
    sh.run("source " + sh.quote(str(other / "bin" / "activate.fish")))
    assert sh.prompt_prefix == b"(other) "
    saved = sh.getenv("_OLD_VIRTUAL_PATH")
    assert os.fsencode(a / ".venv/bin") not in saved.split(b":")
    assert b"__shellhook" not in sh.run("functions _old_fish_prompt")
    assert sh.run("functions -q __shellhook_user_prompt; or echo gone").strip() == b"gone"
    assert sh.getenv("_OLD_VIRTUAL_PYTHONHOME") == b"/the/users/pythonhome"
    sh.cd(sandbox.home)
    sh.run("deactivate")  # other's own
    assert sh.venv() is None
    assert sh.prompt_prefix == b""
    assert sh.getenv("PYTHONHOME") == b"/the/users/pythonhome"
    assert _saved_state(sh) == b""


def test_child_fish_takes_over_a_sourced_venvs_saved_state(sandbox, start_shell):
    """A child inherits activate.fish's exported _OLD_* variables but not its deactivate:
    it adopts the venv, and our deactivate restores PYTHONHOME and removes one entry."""
    named = sandbox.make_venv(sandbox.workon_home / "tools")
    sh = start_shell("fish", env={"PYTHONHOME": "/the/users/pythonhome"})
    path_before = sh.getenv("PATH")
    sh.run("source " + sh.quote(str(named / "bin" / "activate.fish")))
    sh.nested()
    assert sh.prompt_prefix == b"(tools) "
    assert _saved_state(sh) == b""
    assert b"shellhook" in sh.run("functions deactivate")
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert sh.getenv("PYTHONHOME") == b"/the/users/pythonhome"
    sh.exit_nested()
    assert sh.venv() == str(named)
    assert sh.prompt_prefix == b"(tools) "


def test_activate_fish_over_a_workon_venv(sandbox, start_shell):
    """Our manual activation (workon) meets activate.fish: of the same venv, taken back
    (one entry, one prefix, our deactivate); of another venv, ours is dropped from what it
    saved, so its deactivate leaves no venv behind."""
    tools = sandbox.make_venv(sandbox.workon_home / "tools")
    other = sandbox.make_venv(sandbox.root / "other")
    sh = start_shell("fish")
    path_before = sh.getenv("PATH")
    sh.run("workon tools")
    sh.run("source " + sh.quote(str(tools / "bin" / "activate.fish")))
    assert sh.prompt_prefix == b"(tools) "
    assert _saved_state(sh) == b""
    assert sh.getenv("PATH") == os.fsencode(tools / "bin") + b":" + path_before
    assert b"shellhook" in sh.run("functions deactivate")
    sh.run("source " + sh.quote(str(other / "bin" / "activate.fish")))
    assert sh.venv() == str(other)
    assert sh.prompt_prefix == b"(other) "
    assert sh.getenv("PATH") == os.fsencode(other / "bin") + b":" + path_before
    assert sh.getenv("_OLD_VIRTUAL_PATH") == path_before
    sh.run("deactivate")  # other's own
    assert sh.venv() is None
    assert sh.prompt_prefix == b""
    assert sh.getenv("PATH") == path_before
    assert sh.run("functions -q deactivate; or echo none").strip() == b"none"


def test_virtual_env_unset_by_hand_after_workon(sandbox, start_shell):
    sandbox.make_venv(sandbox.workon_home / "tools")
    sh = start_shell("fish")
    path_before = sh.getenv("PATH")
    sh.run("workon tools")
    sh.run("set -e VIRTUAL_ENV")
    assert sh.getenv("PATH") == path_before
    assert sh.prompt_prefix == b""
    assert sh.run("functions -q deactivate; or echo none").strip() == b"none"


# -- PATH -------------------------------------------------------------------------------
def test_path_list_edits_keep_user_entries(sandbox, start_shell):
    proj = sandbox.project("proj")
    front = sandbox.root / "front"
    back = sandbox.root / "back"
    added = sandbox.root / "added"
    for d in (front, back, added):
        d.mkdir()
    sh = start_shell("fish")
    before = sh.getenv("PATH")
    sh.cd(proj)
    bindir = os.fsencode(proj / ".venv/bin")
    assert sh.getenv("PATH") == bindir + b":" + before
    sh.run(f"set -gx PATH {front} $PATH {back}")
    sh.run(f"fish_add_path --path --prepend {added}")
    sh.cd(sandbox.home)
    expected = b":".join([os.fsencode(added), os.fsencode(front), before, os.fsencode(back)])
    assert sh.getenv("PATH") == expected
    sh.cd(proj)
    assert sh.getenv("PATH").count(bindir) == 1
    assert sh.getenv("PATH").startswith(bindir + b":")


# -- the daemon going away --------------------------------------------------------------
def test_stopped_then_killed_daemon_keeps_the_prompt_responsive(sandbox, start_shell):
    a = sandbox.project("a")
    b = sandbox.project("b")
    sh = start_shell("fish")
    sh.cd(a)
    pid = sandbox.daemon_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        assert sh.timed_cd(b) < 1.5
        assert sh.venv() == str(b / ".venv")
    finally:
        with contextlib.suppress(ProcessLookupError):  # the fallback may have replaced it
            os.kill(pid, signal.SIGKILL)
    assert sh.timed_cd(a) < 1.5
    assert sh.venv() == str(a / ".venv")
    assert sh.wait_for(lambda: sandbox.daemon_pid() not in (None, pid), timeout=3)
    # Back on the daemon: the answer comes through <id>.a, nothing is marked stuck.
    assert sh.wait_for(lambda: sh.run('echo "[$__shellhook_stuck]"').strip() == b"[]", timeout=3)
    sh.cd(b)
    assert sh.venv() == str(b / ".venv")
    seq = sh.run("echo $__shellhook_seq").strip()
    reply = (
        sandbox.root
        / "run"
        / "shellhook"
        / (sh.run("echo $SHELLHOOK_SESSION").strip().decode() + ".a")
    ).read_bytes()
    assert reply.startswith(b"R\0" + seq + b"\0")


def test_unanswered_request_is_bounded(sandbox, start_shell):
    """daemon.pid names a live process that never answers: the wait loop gives up."""
    a = sandbox.project("a")
    b = sandbox.project("b")
    sh = start_shell("fish")
    sh.cd(a)
    pid = sandbox.daemon_pid()
    pidfile = sandbox.root / "run" / "shellhook" / "daemon.pid"
    real = pidfile.read_bytes()
    mute = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(pid, signal.SIGSTOP)  # the real daemon cannot answer either
    try:
        pidfile.write_bytes(f"{mute.pid}\n".encode())
        for target in (b, a):
            assert sh.timed_cd(target) < 1.5
            assert sh.venv() == str(target / ".venv")
            # It did wait for <id>.a, gave up, and answered through the one-shot.
            assert sh.run('echo "[$__shellhook_stuck]"').strip() in (
                f"[{mute.pid}]".encode(),
                b"[]",
            )
    finally:
        pidfile.write_bytes(real)
        os.kill(pid, signal.SIGCONT)
        mute.kill()
        mute.wait()


@pytest.mark.parametrize("handler", [False, True], ids=["plain", "user-on-signal-INT"])
def test_ctrl_c_while_waiting_returns_the_prompt(sandbox, start_shell, handler):
    """Ctrl-C in the wait loop: the prompt comes back, the environment all old or all new;
    a user's ``--on-signal INT`` function (case 37) still runs at the next Ctrl-C."""
    a = sandbox.project("a")
    sh = start_shell("fish")
    if handler:
        sh.run("function mine --on-signal INT; echo mine; end")
    before = sh.getenv("PATH")
    # The first prompt's one-off Python starts the daemon; under load it takes a while.
    assert sh.wait_for(lambda: sandbox.daemon_pid() is not None, timeout=10)
    pid = sandbox.daemon_pid()
    pidfile = sandbox.root / "run" / "shellhook" / "daemon.pid"
    real = pidfile.read_bytes()
    mute = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(pid, signal.SIGSTOP)
    try:
        pidfile.write_bytes(f"{mute.pid}\n".encode())
        sh.child.sendline("cd " + sh.quote(str(a)))
        time.sleep(0.05)
        sh.child.sendintr()
        sh.child.expect(PROMPT_RE, timeout=5)
        # fish drops input typed ahead of its handling of Ctrl-C, and the prompt matched
        # above may be the repaint of the typed `cd` line: give fish the moment it takes
        # (it checks for signals between commands), then the shell must answer.
        time.sleep(0.5)
        sh.sync()
    finally:
        pidfile.write_bytes(real)
        os.kill(pid, signal.SIGCONT)
        mute.kill()
        mute.wait()
    venv, path = sh.venv(), sh.getenv("PATH")
    assert (venv, path) in (
        (None, before),
        (str(a / ".venv"), os.fsencode(a / ".venv/bin") + b":" + before),
    )
    sh.cd(sandbox.home)
    sh.cd(a)
    assert sh.venv() == str(a / ".venv")
    if handler:
        sh.child.sendintr()  # at the prompt: the user's function is still theirs
        assert b"mine" in sh.sync()


# -- quoting ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", NASTY)
def test_quote_round_trips_through_fish_script(value, tmp_path):
    require_shell("fish")
    quoted = adapters.get("fish").quote(value)
    assert "\n" not in quoted and quoted.isascii()
    script = f"builtin printf '%s' {quoted}"
    out = subprocess.run(
        ["fish", "--no-config", "-c", script], capture_output=True, cwd=tmp_path, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == os.fsencode(value)
    assert not (tmp_path / "pwned").exists()


def test_quote_round_trips_typed_at_the_prompt(sandbox, start_shell):
    sh = start_shell("fish")
    for i, value in enumerate(NASTY):
        path = sandbox.root / f"typed-{i}"
        sh.run(f"builtin printf '%s' {sh.quote(value)} > {sh.quote(str(path))}")
        assert path.read_bytes() == os.fsencode(value), value
    assert not list(sandbox.root.rglob("pwned"))


def test_assign_and_source_line(sandbox, tmp_path):
    require_shell("fish")
    adapter = adapters.get("fish")
    target = tmp_path / 'it\'s a "file"\n'
    target.write_text("set -g loaded yes\n")
    script = "\n".join(
        [
            adapter.assign("__shellhook_python", "caf\udce9 'x'\n"),
            adapter.source_line(target),
            "builtin printf '%s|%s' $__shellhook_python $loaded",
        ]
    )
    out = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, timeout=30)
    assert out.stdout == b"caf\xe9 'x'\n|yes", out.stderr


def test_quote_refuses_nul():
    with pytest.raises(ValueError):
        adapters.get("fish").quote("a\0b")


# -- after install.sh --uninstall ------------------------------------------------------
def _doomed_hook(sandbox, shell: str) -> tuple[Path, Path]:
    """A hook file whose __shellhook_python is a wrapper around ours, to delete later."""
    python = sandbox.root / "doomed" / "python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    adapter = adapters.get(shell)
    text = sandbox.hook_file(shell).read_text()
    line = adapter.assign("__shellhook_python", sys.executable)
    assert line in text
    hook = sandbox.root / f"hook-doomed.{adapter.extension}"
    hook.write_text(text.replace(line, adapter.assign("__shellhook_python", str(python)), 1))
    return hook, python


def _uninstall(sandbox, python: Path) -> None:
    """What install.sh --uninstall leaves behind: no daemon, runtime dir, or Python."""
    sandbox.stop_daemon()
    shutil.rmtree(sandbox.root / "run" / "shellhook")
    python.unlink()


@pytest.mark.parametrize("how", ["auto", "workon", "foreign"])
def test_uninstalled_turns_the_hook_off_once(sandbox, start_shell, how):
    proj = sandbox.project("proj")
    sandbox.make_venv(sandbox.workon_home / "tools")
    hook, python = _doomed_hook(sandbox, "fish")
    sh = start_shell("fish", cwd=sandbox.home, hook=hook)
    path = sh.getenv("PATH")
    if how == "auto":
        sh.cd(proj)
        want = proj / ".venv"
    elif how == "workon":
        sh.run("workon tools")
        want = sandbox.workon_home / "tools"
    else:  # not ours: left alone
        want = sandbox.make_venv(sandbox.root / "theirs")
        sh.run(sh.source_activate(str(want)))
    assert sh.venv() == str(want)
    name = os.fsdecode(sh.getenv("VIRTUAL_ENV_PROMPT") or b"")
    _uninstall(sandbox, python)
    out = sh.cd(sandbox.root) + sh.cd(proj) + sh.cd(sandbox.home) + sh.sync()
    message = f"shellhook: uninstalled ({python} is gone): the hook is off in this shell"
    assert out.decode().count(message) == 1, out
    if how == "foreign":
        assert f"{message}\n".encode() in out.replace(b"\r\n", b"\n")
        assert sh.venv() == str(want) and sh.has_function("deactivate")
        assert sh.getenv("PATH") == os.fsencode(want / "bin") + b":" + path
        sh.run("deactivate")  # theirs: puts back what it saved
        assert sh.venv() is None and sh.getenv("PATH") == path
        return
    assert f"{message}; deactivated {name}\n".encode() in out.replace(b"\r\n", b"\n")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path
    for var in ("VIRTUAL_ENV_PROMPT", "SHELLHOOK_VENV", "SHELLHOOK_OFF", "SHELLHOOK_SESSION"):
        assert sh.getenv(var) is None, var
    assert not sh.has_function("deactivate")
    assert not sh.has_function("__shellhook_user_prompt")  # the user's prompt is back
    assert sh.prompt_prefix == b""
    assert b"not installed" in sh.run("workon tools")
    assert sh.venv() is None and not (sandbox.root / "run" / "shellhook").exists()
