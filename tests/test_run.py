"""``shellhook run [-C DIR] -- CMD``: the command runs in DIR's venv, as activation sets
it up, under the activation's trust rules; its exit status is the command's (issue 12.2)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shellhook.commands.run import environment
from tests.test_e2e_commands import status_of

SHOW_ENV = (
    "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'cwd': os.getcwd(), "
    "'env': {k: os.environ.get(k) for k in ('VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT', 'PATH', "
    "'PYTHONHOME', 'SHELLHOOK_PYTHONHOME', 'SHELLHOOK_VENV')}}))"
)


def shellhook_run(sandbox, *args: str, cwd: Path, env: dict | None = None, **kw):
    """``python -m shellhook run ARGS`` in ``cwd``, no terminal (as from a script);
    ``-I`` (as the hooks and install.sh's link run it) when ``env`` sets PYTHONHOME."""
    isolated = ["-I"] if "PYTHONHOME" in (env or {}) else []
    return subprocess.run(
        [sys.executable, *isolated, "-m", "shellhook", "run", *args],
        cwd=cwd,
        env={**sandbox.env, "PWD": str(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=kw.pop("stdin", subprocess.DEVNULL),
        **kw,
    )


def shown(out) -> dict:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# -- the environment ----------------------------------------------------------------------


def test_environment_is_what_activation_sets():
    env = environment(
        "/p/.venv",
        "p",
        {"PATH": "/usr/bin:/p/.venv/bin:/bin", "PYTHONHOME": "/opt/py", "HOME": "/h"},
    )
    assert env == {
        "PATH": "/p/.venv/bin:/usr/bin:/bin",  # first, exactly once
        "VIRTUAL_ENV": "/p/.venv",
        "VIRTUAL_ENV_PROMPT": "p",
        "SHELLHOOK_PYTHONHOME": "/opt/py",  # unset, kept for a shell's deactivate
        "HOME": "/h",
    }


def test_environment_takes_off_another_active_venv():
    env = environment(
        "/p/.venv",
        "p",
        {
            "PATH": "/old/bin:/usr/bin:/auto/bin:/bin",
            "VIRTUAL_ENV": "/old",
            "SHELLHOOK_VENV": "/auto",
        },
    )
    assert env["PATH"] == "/p/.venv/bin:/usr/bin:/bin"
    assert env["VIRTUAL_ENV"] == "/p/.venv" and "SHELLHOOK_VENV" not in env
    assert environment("/v", "v", {"PATH": ""})["PATH"] == "/v/bin"


def test_runs_in_the_projects_venv(sandbox):
    proj = sandbox.project("proj")
    (proj / "src").mkdir()
    out = shown(shellhook_run(sandbox, "--", "python", "-c", SHOW_ENV, cwd=proj / "src"))
    venv = str(proj / ".venv")
    assert out["prefix"] == venv  # `python` is the venv's
    assert out["env"]["VIRTUAL_ENV"] == venv and out["env"]["VIRTUAL_ENV_PROMPT"] == "proj"
    path = out["env"]["PATH"].split(":")
    assert path[0] == f"{venv}/bin" and path.count(f"{venv}/bin") == 1
    assert path[1:] == sandbox.env["PATH"].split(":")
    assert out["cwd"] == str(proj / "src")  # without -C: here


def test_replaces_an_active_venv_and_hides_pythonhome(sandbox):
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.home / "other" / ".venv")
    env = {
        "VIRTUAL_ENV": str(other),
        "PATH": f"{other}/bin:{sandbox.env['PATH']}",
        "PYTHONHOME": "/nonexistent/home",
    }
    out = shown(shellhook_run(sandbox, "python", "-c", SHOW_ENV, cwd=proj, env=env))
    assert out["env"]["PATH"] == f"{proj}/.venv/bin:{sandbox.env['PATH']}"
    assert out["env"]["PYTHONHOME"] is None  # else the venv's python would not start
    assert out["env"]["SHELLHOOK_PYTHONHOME"] == "/nonexistent/home"


def test_dash_c_picks_the_venv_and_the_directory(sandbox):
    proj = sandbox.project("proj")
    out = shown(
        shellhook_run(sandbox, "-C", str(proj), "--", "python", "-c", SHOW_ENV, cwd=sandbox.home)
    )
    assert out["prefix"] == str(proj / ".venv") and out["cwd"] == str(proj)
    rel = shown(shellhook_run(sandbox, "-C", "proj", "python", "-c", SHOW_ENV, cwd=sandbox.home))
    assert rel == out


def test_named_venv_through_a_pointer_is_trusted(sandbox):
    sandbox.make_venv(sandbox.workon_home / "tools")
    proj = sandbox.home / "linked"
    proj.mkdir()
    (proj / ".venv").write_text("tools\n")
    out = shown(shellhook_run(sandbox, "python", "-c", SHOW_ENV, cwd=proj))
    assert out["prefix"] == str(sandbox.workon_home / "tools")


# -- exit status, signals, streams -------------------------------------------------------


@pytest.mark.parametrize("status", [0, 1, 7, 255])
def test_exit_status_is_the_commands(sandbox, status):
    proj = sandbox.project("proj")
    out = shellhook_run(sandbox, "--", "python", "-c", f"raise SystemExit({status})", cwd=proj)
    assert out.returncode == status and out.stderr == ""


def test_a_signal_ends_the_command_itself(sandbox):
    """shellhook is replaced by the command (exec): no Python in between to catch it."""
    proj = sandbox.project("proj")
    out = shellhook_run(
        sandbox, "--", "python", "-c", "import os, signal; os.kill(os.getpid(), 15)", cwd=proj
    )
    assert out.returncode == -signal.SIGTERM
    piped = subprocess.run(
        f"{sys.executable} -m shellhook run -- yes | head -n 2; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=proj,
        env={**sandbox.env, "PWD": str(proj)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout == "y\ny\n141\n" and piped.stderr == ""  # SIGPIPE as without us


def test_stdin_and_stdout_are_the_commands(sandbox):
    proj = sandbox.project("proj")
    out = subprocess.run(
        [sys.executable, "-m", "shellhook", "run", "--", "python", "-c", "print(input()[::-1])"],
        cwd=proj,
        env={**sandbox.env, "PWD": str(proj)},
        input="olleh\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout == "hello\n" and out.stderr == ""


def test_works_from_cron(sandbox):
    """cron's environment: no terminal, HOME, a short PATH, no shellhook variables."""
    proj = sandbox.project("proj")
    env = {k: sandbox.env[k] for k in sandbox.env if k.startswith("XDG_") or k in ("HOME", "USER")}
    env["PATH"] = "/usr/bin:/bin"
    out = subprocess.run(
        [sys.executable, "-m", "shellhook", "run", "-C", str(proj), "--", "python", "-c", SHOW_ENV],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal
    )
    assert shown(out)["prefix"] == str(proj / ".venv")


# -- refusals ---------------------------------------------------------------------------------


def ran(marker: Path) -> bool:
    return marker.exists()


def touch(marker: Path) -> list[str]:
    return ["--", "python", "-c", f"open({str(marker)!r}, 'w')"]


def test_untrusted_venv_is_refused_with_the_allow_line(sandbox):
    proj = sandbox.project("proj", trust=False)
    marker = sandbox.root / "ran"
    out = shellhook_run(sandbox, *touch(marker), cwd=proj)
    assert out.returncode == 125 and not ran(marker)
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1
    assert "to use it: shellhook allow ~/proj" in out.stderr  # the path form of the notice
    assert out.stderr.endswith("nothing was run\n")
    sandbox.shellhook("allow", str(proj))
    assert shellhook_run(sandbox, *touch(marker), cwd=proj).returncode == 0 and ran(marker)


def test_denied_venv_is_refused(sandbox):
    proj = sandbox.project("proj")
    sandbox.shellhook("deny", str(proj))
    marker = sandbox.root / "ran"
    out = shellhook_run(sandbox, *touch(marker), cwd=proj)
    assert out.returncode == 125 and not ran(marker)
    assert "is denied (undo with: shellhook forget ~/proj); nothing was run" in out.stderr


def test_unsafe_and_broken_venvs_are_refused(sandbox):
    proj = sandbox.project("proj")
    marker = sandbox.root / "ran"
    (proj / ".venv").chmod(0o777)
    out = shellhook_run(sandbox, *touch(marker), cwd=proj)
    assert out.returncode == 125 and "writable by others" in out.stderr and not ran(marker)
    (proj / ".venv").chmod(0o755)
    (proj / ".venv" / "bin" / "python").unlink()
    out = shellhook_run(sandbox, *touch(marker), cwd=proj)
    assert out.returncode == 125 and "python is missing" in out.stderr


def test_no_venv_and_missing_directory(sandbox):
    plain = sandbox.home / "plain"
    plain.mkdir()
    out = shellhook_run(sandbox, "true", cwd=plain)
    assert out.returncode == 125 and "no venv for ~/plain (make one with: mkvenv)" in out.stderr
    out = shellhook_run(sandbox, "-C", str(sandbox.home / "gone"), "true", cwd=plain)
    assert out.returncode == 125 and "not a directory" in out.stderr


def test_command_not_found_or_not_executable(sandbox):
    proj = sandbox.project("proj")
    out = shellhook_run(sandbox, "--", "no-such-command-xyz", cwd=proj)
    assert out.returncode == 127 and "no-such-command-xyz: command not found" in out.stderr
    script = proj / "script.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    out = shellhook_run(sandbox, "--", str(script), cwd=proj)
    assert out.returncode == 126 and "cannot execute" in out.stderr


def test_usage(sandbox):
    proj = sandbox.project("proj")
    for args in ([], ["--"], ["-C", str(proj)]):
        out = shellhook_run(sandbox, *args, cwd=proj)
        assert out.returncode == 2 and "no command to run" in out.stderr, args
    # options after the command are the command's own, with or without --
    out = shellhook_run(
        sandbox, "python", "-c", "import sys; print(sys.argv[1:])", "-C", "x", cwd=proj
    )
    assert out.stdout == "['-C', 'x']\n"


# -- from a real shell: the calling shell is not touched ----------------------------------


def test_run_from_an_interactive_shell(sandbox, spawn):
    proj = sandbox.project("proj")
    untrusted = sandbox.project("untrusted", trust=False)
    sh = spawn(cwd=sandbox.home)
    path_before = sh.getenv("PATH")
    rc, out = status_of(
        sh,
        f"shellhook run -C {sh.quote(str(proj))} -- python -c "
        + sh.quote("import sys; print('PREFIX=' + sys.prefix); sys.exit(3)"),
    )
    assert rc == 3 and f"PREFIX={proj}/.venv".encode() in out, out
    assert sh.venv() is None and sh.getenv("PATH") == path_before  # the shell is as it was
    rc, out = status_of(sh, f"shellhook run -C {sh.quote(str(untrusted))} -- python -V")
    assert rc == 125 and b"shellhook allow ~/untrusted" in out, out
    sh.cd(proj)  # auto-activated: run elsewhere leaves the shell's venv alone
    assert sh.venv() == str(proj / ".venv")
    path_in = sh.getenv("PATH")
    rc, out = status_of(sh, f"shellhook run -C {sh.quote(str(sandbox.home))} -- true")
    assert rc == 125 and b"no venv for" in out
    rc, out = status_of(sh, "shellhook run -- python -c " + sh.quote("print(1 + 1)"))
    assert rc == 0 and b"2" in out.splitlines()
    assert sh.venv() == str(proj / ".venv") and sh.getenv("PATH") == path_in
