"""install.sh into a throw-away HOME: install, install again (idempotent), use, uninstall."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
        # pip's and uv's caches are theirs, not ours: outside HOME, so that HOME shows
        # only what install.sh does
        "PIP_CACHE_DIR": str(root / "cache" / "pip"),
        "UV_CACHE_DIR": str(root / "cache" / "uv"),
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


def tree(root: Path) -> dict[str, bytes | str]:
    """Everything under ``root``, directories too: files with their bytes, links with
    their targets, FIFOs and sockets by kind."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link -> " + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        elif path.is_file():
            out[rel] = path.read_bytes()
        else:
            out[rel] = "special"
    return out


def failing_uv(directory: Path) -> Path:
    """A ``uv`` that fails as uv does without a network route or a CA bundle."""
    directory.mkdir()
    uv = directory / "uv"
    uv.write_text(
        "#!/bin/sh\n"
        "echo 'error: Failed to fetch: https://pypi.org/simple/watchdog/' >&2\n"
        "echo '  Caused by: invalid peer certificate: UnknownIssuer' >&2\n"
        "exit 2\n"
    )
    uv.chmod(0o755)
    return directory


def daemon_pid(run: Path) -> int:
    return int((run / "shellhook" / "daemon.pid").read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes (the daemon is not our child: it is reaped by init)
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_failing_uv_reinstall_and_uninstall_leave_home_as_it_was(tmp_path):
    """Issue 12.3: uv on PATH but failing (no network route, no CA bundle) falls back to
    pip; installing again restarts the daemon, so the new code serves; uninstalling
    leaves HOME and the runtime dir exactly as they were (the package managers' caches
    live outside HOME here: they are theirs, not ours)."""
    home = tmp_path / "home"
    (home / ".config" / "mine").mkdir(parents=True)  # a config dir of the user's: stays
    (home / ".config" / "mine" / "settings").write_text("x = 1\n")
    (home / ".bashrc").write_text("# mine\nexport FOO=1\n")
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    (run / "other-app.pid").write_text("1\n")  # someone else's runtime file: stays
    # Tools installed in the real HOME (rustup's proxies write ~/.rustup when run) are
    # left out: only this sandbox's HOME is watched. PYTHON names the interpreter.
    real_home = os.path.expanduser("~").rstrip("/") + "/"
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not d.startswith(real_home)]
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(failing_uv(tmp_path / "uvbin")), *path]),
        "PYTHON": sys.executable,
        "XDG_RUNTIME_DIR": str(run),
        "LANG": "C.UTF-8",
        "PIP_CACHE_DIR": str(tmp_path / "cache" / "pip"),
        "UV_CACHE_DIR": str(tmp_path / "cache" / "uv"),
        "SHELLHOOK_IDLE_EXIT": "60",
    }
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_FIND_LINKS"):
        if key in os.environ:
            env[key] = os.environ[key]
    home_before, run_before = tree(home), tree(run)

    first = run_install(env)
    assert "uv could not install shellhook (above); installing with pip instead" in first.stdout
    assert "invalid peer certificate" in first.stderr  # uv's own words reach the user
    assert (home / ".local/share/shellhook/venv/bin/shellhook").exists()
    old = daemon_pid(run)
    assert alive(old)
    # Installing again (new code, say): the old daemon must not go on serving.
    run_install(env)
    new = daemon_pid(run)
    assert new != old and alive(new)
    assert not alive(old)

    run_install(env, "--uninstall")
    assert not alive(new)
    assert tree(home) == home_before
    assert tree(run) == run_before
