"""install.sh into a throw-away HOME: install, install again (idempotent), use, uninstall."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pexpect
import pytest

from tests.conftest import require_shell

ROOT = Path(__file__).resolve().parent.parent


def run_install(env, *args):
    proc = subprocess.run(
        ["bash", str(ROOT / "install.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def snapshot(home: Path) -> dict[str, bytes]:
    """Every file under HOME except runtime/state noise (logs), with contents."""
    files = {}
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        if (
            path.is_file()
            and not path.is_symlink()
            and "/log/" not in f"/{rel}"
            and "__pycache__" not in rel
            and not rel.endswith(".pyc")
        ):
            files[rel] = path.read_bytes()
        elif path.is_symlink():
            files[rel] = os.readlink(path).encode()
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    home = root / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# the user's own bashrc\nalias ll='ls -l'\n")
    run = root / "run"
    run.mkdir(mode=0o700)
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "XDG_RUNTIME_DIR": str(run),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "SHELLHOOK_IDLE_EXIT": "60",
    }
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "UV_INDEX_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    first = run_install(env)
    yield home, env, first
    run_install(env, "--uninstall")


def test_install_sets_up_everything(installed):
    home, env, first = installed
    venv = home / ".local/share/shellhook/venv"
    assert (venv / "bin/python").exists()
    assert os.readlink(home / ".local/bin/shellhook") == str(venv / "bin/shellhook")
    bashrc = (home / ".bashrc").read_text()
    assert bashrc.startswith("# the user's own bashrc\nalias ll='ls -l'\n")
    assert bashrc.count("# >>> shellhook >>>") == 1
    assert (home / ".local/share/shellhook/hooks/shellhook.bash").exists()
    if shutil.which("zsh"):
        assert "# >>> shellhook >>>" in (home / ".zshrc").read_text()
    status = subprocess.run(
        [str(home / ".local/bin/shellhook"), "daemon", "status"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert status.stdout.startswith("running"), status


def test_install_twice_changes_nothing(installed):
    home, env, _ = installed
    before = snapshot(home)
    run_install(env)
    after = snapshot(home)
    changed = {
        k
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k) and "/venv/" not in f"/{k}"
    }
    assert changed == set()
    assert after[".bashrc"] == before[".bashrc"]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_new_interactive_shell_has_the_hook(installed, shell):
    require_shell(shell)
    home, env, _ = installed
    proj = home / f"proj-{shell}"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(proj / ".venv")], check=True)
    subprocess.run(
        [str(home / ".local/bin/shellhook"), "allow", str(proj)],
        env=env,
        check=True,
        capture_output=True,
    )
    child = pexpect.spawn(shell, ["-i"], env=env, cwd=str(proj), timeout=20, echo=False)
    try:
        child.sendline("echo VENV=[$VIRTUAL_ENV]")
        child.expect(rb"VENV=\[(/[^\]]*)\]")  # not the echoed command line
        assert child.match.group(1) == os.fsencode(proj / ".venv")
    finally:
        child.close(force=True)


def test_uninstall_removes_what_it_added(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    original = "# mine\n"
    (home / ".bashrc").write_text(original)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "XDG_RUNTIME_DIR": str(run),
        "LANG": "C.UTF-8",
    }
    run_install(env)
    run_install(env, "--uninstall")
    assert (home / ".bashrc").read_text() == original
    assert not (home / ".local/share/shellhook").exists()
    assert not (home / ".local/bin/shellhook").exists()
    assert not (home / ".zshrc").exists()  # it did not exist before: nothing left behind
