"""``shellhook workon|mkvenv|rmvenv|lsvenv`` as commands: the frames they leave for the
shell, their output for scripts, questions, errors, pip/uv installs and Ctrl-C."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from shellhook import protocol


def run(
    sandbox,
    *args: str,
    cwd: Path,
    env: dict | None = None,
    input: str | None = None,
    timeout: float = 120,
):
    """``python -m shellhook ARGS`` in ``cwd`` (never the repository) inside the sandbox."""
    full_env = {**sandbox.env, "PWD": str(cwd), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shellhook", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
    )


@pytest.fixture
def ops(sandbox):
    """The environment a shell's __shellhook_command gives a command, and its frame."""
    rundir = Path(sandbox.env["XDG_RUNTIME_DIR"]) / "shellhook"
    rundir.mkdir(mode=0o700, exist_ok=True)
    path = rundir / "123-abc.ops"

    class Ops:
        env = {"SHELLHOOK_OPS_FILE": str(path), "SHELLHOOK_OPS_SEQ": "7"}

        @staticmethod
        def frame() -> list[tuple[str, str]]:
            data = path.read_bytes()
            pairs = protocol.parse_reply(data)
            assert pairs[0] == ("R", "7") and pairs[-1] == ("E", "")
            assert oct(path.stat().st_mode & 0o777) == "0o600"
            return pairs[1:-1]

    return Ops


def project(sandbox, name: str = "proj") -> Path:
    proj = sandbox.home / name
    proj.mkdir(parents=True, exist_ok=True)
    (proj / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    return proj


# -- workon ---------------------------------------------------------------------------------


def test_workon_frame_from_a_clean_shell(sandbox, ops):
    linked = sandbox.home / "linked"
    linked.mkdir()
    alpha = sandbox.make_venv(sandbox.workon_home / "alpha", prompt="Alpha Env")
    (alpha / ".project").write_text(f"{linked}\n")
    out = run(sandbox, "workon", "alpha", cwd=sandbox.home, env=ops.env)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert ops.frame() == [
        ("P", str(linked)),
        ("L", "Alpha_Env"),
        ("M", "Alpha Env"),
        ("V", str(alpha)),
        ("C", str(linked)),
    ]
    run(sandbox, "workon", "--no-cd", "alpha", cwd=sandbox.home, env=ops.env)
    assert ("C", str(linked)) not in ops.frame()


@pytest.mark.parametrize("marker,first", [("same", "D"), ("", "U"), ("other", "U")])
def test_workon_ends_the_current_activation_first(sandbox, ops, marker, first):
    sandbox.make_venv(sandbox.workon_home / "beta")
    current = str(sandbox.home / "proj" / ".venv")
    env = {
        **ops.env,
        "VIRTUAL_ENV": current,
        "SHELLHOOK_VENV": {"same": current, "": "", "other": "/else"}[marker],
    }
    assert run(sandbox, "workon", "beta", cwd=sandbox.home, env=env).returncode == 0
    frame = ops.frame()
    assert frame[0] == (first, "") and frame[-1][0] == "V"


def test_workon_without_a_shell_prints_the_venv(sandbox):
    beta = sandbox.make_venv(sandbox.workon_home / "beta")
    out = run(sandbox, "workon", "beta", cwd=sandbox.home)
    assert out.returncode == 0 and out.stdout == f"{beta}\n"
    assert "no shell to change" in out.stderr and "bin/activate" in out.stderr


def test_workon_ignores_an_ops_file_outside_a_private_dir(sandbox, tmp_path):
    sandbox.make_venv(sandbox.workon_home / "beta")
    public = tmp_path / "public"
    public.mkdir(mode=0o755)
    public.chmod(0o755)
    env = {"SHELLHOOK_OPS_FILE": str(public / "x.ops"), "SHELLHOOK_OPS_SEQ": "1"}
    out = run(sandbox, "workon", "beta", cwd=sandbox.home, env=env)
    assert out.returncode == 0 and not (public / "x.ops").exists()


def test_workon_lists_names(sandbox):
    for name in ("zeta", "alpha"):
        sandbox.make_venv(sandbox.workon_home / name)
    out = run(sandbox, "workon", cwd=sandbox.home)
    assert out.stdout == "alpha\nzeta\n"
    sandbox.env["WORKON_HOME"] = str(sandbox.root / "empty")
    out = run(sandbox, "workon", cwd=sandbox.home)
    assert out.returncode == 0 and out.stdout == "" and "mkvenv NAME" in out.stderr


def test_workon_refuses_broken_and_unsafe_venvs(sandbox, ops):
    broken = sandbox.make_venv(sandbox.workon_home / "broken")
    (broken / "bin" / "python").unlink()
    out = run(sandbox, "workon", "broken", cwd=sandbox.home, env=ops.env)
    assert out.returncode == 1 and "mkvenv --force broken" in out.stderr
    shared = sandbox.make_venv(sandbox.workon_home / "shared")
    shared.chmod(0o777)
    out = run(sandbox, "workon", "shared", cwd=sandbox.home, env=ops.env)
    assert out.returncode == 1 and "writable by others" in out.stderr
    assert not Path(ops.env["SHELLHOOK_OPS_FILE"]).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["workon", "-p"],
        ["workon", "--", "-p"],
        ["workon", "../x"],
        ["mkvenv", "a b"],
        ["mkvenv", "--bogus"],
        ["rmvenv", "x/y"],
        ["lsvenv", "extra"],
        ["mkvenv", "-p", ">=3.x"],
    ],
)
def test_usage_errors_are_one_line_exit_2(sandbox, args):
    out = run(sandbox, *args, cwd=sandbox.home)
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not sandbox.workon_home.exists()


# -- mkvenv ---------------------------------------------------------------------------------


def test_mkvenv_frame_activates_as_the_projects_venv(sandbox, ops):
    proj = project(sandbox)
    (proj / "sub").mkdir()
    current = str(sandbox.home / "old" / ".venv")
    env = {**ops.env, "VIRTUAL_ENV": current, "SHELLHOOK_VENV": current}
    out = run(sandbox, "mkvenv", "--without-pip", cwd=proj / "sub", env=env)
    assert out.returncode == 0, out.stderr
    frame = ops.frame()
    venv = str(proj / ".venv")
    assert frame[:6] == [
        ("D", ""),
        ("S", ""),
        ("P", str(proj)),
        ("L", "proj"),
        ("M", "proj"),
        ("A", venv),
    ]
    assert frame[6][0] == "I" and "created" in frame[6][1]
    assert "activates automatically" in sandbox.shellhook("which", str(proj)).stdout


def test_mkvenv_name_outside_a_project_is_a_manual_activation(sandbox, ops):
    out = run(sandbox, "mkvenv", "--without-pip", "solo", cwd=sandbox.home, env=ops.env)
    assert out.returncode == 0, out.stderr
    venv = sandbox.workon_home / "solo"
    assert (venv / "pyvenv.cfg").exists() and not (venv / ".project").exists()
    assert not os.path.lexists(sandbox.home / ".venv")
    assert ("V", str(venv)) in ops.frame()


def test_mkvenv_refuses_home(sandbox):
    out = run(sandbox, "mkvenv", "--without-pip", cwd=sandbox.home)
    assert out.returncode == 1 and "not a project" in out.stderr
    assert not os.path.lexists(sandbox.home / ".venv")


def test_mkvenv_name_refuses_to_clobber_a_project_venv_or_pointer(sandbox):
    proj = project(sandbox)
    sandbox.make_venv(proj / ".venv")
    out = run(sandbox, "mkvenv", "--without-pip", "foo", cwd=proj)
    assert out.returncode == 1 and "is a directory" in out.stderr
    assert not (sandbox.workon_home / "foo").exists()
    other = project(sandbox, "other")
    (other / ".venv").write_text("bar\n")
    out = run(sandbox, "mkvenv", "--without-pip", "foo", cwd=other)
    assert out.returncode == 1 and "already points to 'bar'" in out.stderr
    out = run(sandbox, "mkvenv", "--without-pip", "--force", "foo", cwd=other)
    assert out.returncode == 0, out.stderr
    assert (other / ".venv").read_text() == "foo\n"


def test_mkvenv_missing_requirements_file_changes_nothing(sandbox):
    proj = project(sandbox)
    out = run(sandbox, "mkvenv", "-r", "nope.txt", cwd=proj)
    assert out.returncode == 1 and "no such requirements file" in out.stderr
    assert sorted(p.name for p in proj.iterdir()) == ["pyproject.toml"]


def test_mkvenv_warns_when_the_project_wants_another_python(sandbox):
    proj = project(sandbox)
    (proj / "pyproject.toml").write_text('[project]\nrequires-python = "<3.0"\n')
    out = run(sandbox, "mkvenv", "--without-pip", "-p", sys.executable, cwd=proj)
    assert out.returncode == 0, out.stderr
    assert "warning: the venv has Python" in out.stderr and "<3.0" in out.stderr


def pyenv_python(minor: str) -> str | None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{minor}.*/bin/python{minor}")) if root.is_dir() else []
    return str(found[-1]) if found else None


@pytest.mark.parametrize("how", ["-p", ".python-version", "requires-python"])
def test_mkvenv_picks_the_requested_python(sandbox, how):
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    wanted = next(
        (
            m
            for m in ("3.12", "3.10", "3.13", "3.9")
            if m != current and (pyenv_python(m) or shutil.which(f"python{m}"))
        ),
        None,
    )
    if wanted is None:
        pytest.skip("needs a second Python version (pyenv or pythonX.Y on PATH)")
    exe = pyenv_python(wanted) or shutil.which(f"python{wanted}")
    sandbox.env["PATH"] = os.pathsep.join([os.path.dirname(exe), sandbox.env["PATH"]])
    sandbox.env["PYENV_ROOT"] = str(Path(exe).parents[3]) if pyenv_python(wanted) else "/none"
    proj = project(sandbox)
    args = ["mkvenv", "--without-pip"]
    if how == "-p":
        args += ["-p", wanted]
    elif how == ".python-version":
        (proj / ".python-version").write_text(wanted + "\n")
    else:
        (proj / "pyproject.toml").write_text(f'[project]\nrequires-python = "=={wanted}.*"\n')
    out = run(sandbox, *args, cwd=proj)
    assert out.returncode == 0, out.stderr
    cfg = (proj / ".venv" / "pyvenv.cfg").read_text()
    assert f"version = {wanted}." in cfg or f"version_info = {wanted}." in cfg


def make_wheel(directory: Path) -> Path:
    """A tiny pure-Python wheel with a console script (installs offline)."""
    files = {
        "demo_pkg/__init__.py": b"VALUE = 42\ndef main():\n    print('demo', VALUE)\n",
        "demo_pkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n",
        "demo_pkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        "demo_pkg-1.0.dist-info/entry_points.txt": b"[console_scripts]\ndemo = demo_pkg:main\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("demo_pkg-1.0.dist-info/RECORD,,")
    wheel = directory / "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("demo_pkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def check_installed(venv: Path) -> None:
    out = subprocess.run([str(venv / "bin" / "demo")], capture_output=True, text=True, timeout=60)
    assert out.stdout == "demo 42\n", out.stderr  # the script's shebang names the final path
    assert ".shellhook-" not in (venv / "bin" / "demo").read_text()


def test_mkvenv_installs_requirements_with_pip(sandbox):
    proj = project(sandbox)
    wheel = make_wheel(sandbox.root)
    (proj / "requirements.txt").write_text(f"{wheel}\n")
    out = run(
        sandbox,
        "mkvenv",
        "--no-uv",
        "-r",
        "requirements.txt",
        cwd=proj,
        env={"PIP_NO_INDEX": "1"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    check_installed(proj / ".venv")
    assert (proj / ".venv" / "bin" / "pip").exists()


def _wheel(directory: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A pure-Python wheel holding ``files`` (with a valid RECORD)."""
    info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: shellhook-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def bundled_wheels() -> list[Path]:
    """The pip (and setuptools) wheels this Python's ensurepip installs from: its
    ``_bundled`` directory, or the distribution's (Debian: /usr/share/python-wheels)."""
    import ensurepip
    import sysconfig

    dirs = [Path(ensurepip.__file__).parent / "_bundled"]
    if sysconfig.get_config_var("WHEEL_PKG_DIR"):
        dirs.append(Path(sysconfig.get_config_var("WHEEL_PKG_DIR")))
    return [w for d in dirs if d.is_dir() for w in d.glob("*.whl")]


def seed_wheels(directory: Path) -> dict[str, str]:
    """An environment in which ``uv venv --seed`` needs no network: uv looks only in
    ``directory`` (UV_NO_INDEX, UV_FIND_LINKS), which holds the pip wheel this Python
    bundles — the real pip, the one a user gets — and, for Pythons before 3.12 (where
    uv seeds setuptools and wheel too), the bundled setuptools and an empty stand-in for
    ``wheel`` (only pip matters here), plus demo_pkg for pip to install."""
    directory.mkdir(parents=True, exist_ok=True)
    for wheel in bundled_wheels():
        shutil.copy(wheel, directory)
    names = {w.name.split("-")[0] for w in directory.glob("*.whl")}
    if "pip" not in names:
        pytest.skip("this Python bundles no pip wheel (ensurepip)")
    if sys.version_info < (3, 12):
        for name in {"setuptools", "wheel"} - names:
            _wheel(directory, name, "0.0.0", {})
    make_wheel(directory)
    return {"UV_NO_INDEX": "1", "UV_FIND_LINKS": str(directory), "PIP_NO_INDEX": "1"}


def failing_uv(directory: Path) -> Path:
    """A ``uv`` that fails as uv does without a network route or CA bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    uv = directory / "uv"
    uv.write_text(
        "#!/bin/sh\n"
        "echo 'error: Request failed after 3 retries' >&2\n"
        "echo '  Caused by: invalid peer certificate: UnknownIssuer' >&2\n"
        "exit 2\n"
    )
    uv.chmod(0o755)
    return directory


def pip_works(venv: Path) -> str:
    """``python -m pip --version`` in ``venv``: it is the venv's own pip."""
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"{venv}/lib/" in out.stdout, out.stdout
    return out.stdout


def require_uv(sandbox) -> str:
    """uv on the sandbox's PATH, next to this Python (a test dependency: pip install -e
    '.[test]'); missing is a skip outside CI only."""
    found = shutil.which("uv", path=sandbox.env["PATH"])
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("uv is not installed, but CI must test it")
        pytest.skip("uv is not installed (pip install uv)")
    return found


@pytest.fixture
def uv(sandbox):
    """uv on the sandbox's PATH."""
    return require_uv(sandbox)


def test_mkvenv_with_uv_has_pip(sandbox, uv):
    """Issue 12.1: with uv on PATH the venv has pip by default (uv venv --seed), so
    ``python -m pip install`` and a bare ``pip`` stay inside the venv."""
    env = seed_wheels(sandbox.root / "wheels")
    proj = project(sandbox)
    wheel = make_wheel(sandbox.root)
    (proj / "req.txt").write_text(f"{wheel}\n")
    out = run(sandbox, "mkvenv", "-r", "req.txt", cwd=proj, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "with uv, with pip" in out.stderr
    pip = next(w.name.split("-")[1] for w in (sandbox.root / "wheels").glob("pip-*.whl"))
    assert f"created ~/proj/.venv (with pip {pip})" in out.stderr
    assert "could not" not in out.stderr  # uv did it, from its find-links
    venv = proj / ".venv"
    check_installed(venv)  # -r went in with uv pip
    assert (venv / "bin" / "pip").exists()
    pip_works(venv)
    assert ".shellhook-" not in (venv / "bin" / "pip").read_text()  # relocated shebang


def test_mkvenv_name_and_force_have_pip_too(sandbox, uv):
    env = seed_wheels(sandbox.root / "wheels")
    proj = project(sandbox)
    out = run(sandbox, "mkvenv", "foo", cwd=proj, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "(with pip " in out.stderr
    pip_works(sandbox.workon_home / "foo")
    inode = (sandbox.workon_home / "foo" / "pyvenv.cfg").stat().st_ino
    out = run(sandbox, "mkvenv", "--force", "foo", cwd=proj, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (sandbox.workon_home / "foo" / "pyvenv.cfg").stat().st_ino != inode
    assert "(with pip " in out.stderr
    pip_works(sandbox.workon_home / "foo")


def test_mkvenv_with_uv_without_pip_says_so(sandbox, uv):
    proj = project(sandbox)
    out = run(sandbox, "mkvenv", "--without-pip", cwd=proj, env={"UV_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert "with uv, without pip" in out.stderr
    assert "created ~/proj/.venv (without pip: install with uv pip" in out.stderr
    assert not (proj / ".venv" / "bin" / "pip").exists()


@pytest.mark.parametrize("how", ["failing uv", "uv offline"])
def test_mkvenv_falls_back_to_python_venv_when_uv_cannot_seed_pip(sandbox, how):
    """No network route or CA bundle (a uv that fails), or uv offline with nothing in
    its cache: python -m venv makes the venv, with pip from ensurepip (no network)."""
    env = {"PIP_NO_INDEX": "1"}
    if how == "failing uv":
        bindir = failing_uv(sandbox.root / "uvbin")
        env["PATH"] = os.pathsep.join([str(bindir), sandbox.env["PATH"]])
    else:
        require_uv(sandbox)
        env["UV_OFFLINE"] = "1"
    proj = project(sandbox)
    wheel = make_wheel(sandbox.root)
    (proj / "req.txt").write_text(f"{wheel}\n")
    out = run(sandbox, "mkvenv", "-r", "req.txt", cwd=proj, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "uv could not make the venv (exit status 2); making it with python -m venv" in (
        out.stderr
    )
    assert "(with pip " in out.stderr
    venv = proj / ".venv"
    pip_works(venv)
    check_installed(venv)  # -r went in with pip: uv is not to be relied on
    assert sorted(p.name for p in proj.iterdir()) == [".venv", "pyproject.toml", "req.txt"]


def test_ctrl_c_during_mkvenv_leaves_nothing(sandbox):
    """A real Ctrl-C (SIGINT to the foreground process group) while pip is installing."""
    proj = project(sandbox)
    # ensurepip, interrupted, leaves its unpacked wheels in TMPDIR: keep them in the sandbox
    env = {**sandbox.env, "PWD": str(proj), "TMPDIR": str(sandbox.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shellhook", "mkvenv", "--no-uv"],
        cwd=proj,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(proj.glob(".shellhook-mkvenv-*/.venv/pyvenv.cfg")):
        assert proc.poll() is None and time.monotonic() < deadline, "no build seen"
        time.sleep(0.02)
    time.sleep(0.3)  # ensurepip is running now
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().endswith("shellhook: interrupted; nothing was created\n")
    assert sorted(p.name for p in proj.iterdir()) == ["pyproject.toml"]
    assert "shellhook/" not in err.decode()  # no traceback of ours (pip may print its own)


# -- rmvenv ----------------------------------------------------------------------------------


def test_rmvenv_asks_and_takes_no_for_an_answer(sandbox):
    sandbox.make_venv(sandbox.workon_home / "beta")
    for answer in ("n\n", "", "yes please\n"):
        out = run(sandbox, "rmvenv", "beta", cwd=sandbox.home, input=answer)
        assert out.returncode == 1 and "[y/N]" in out.stderr and "not removed" in out.stderr
        assert (sandbox.workon_home / "beta" / "pyvenv.cfg").exists()
    out = run(sandbox, "rmvenv", "beta", cwd=sandbox.home, input="y\n")
    assert out.returncode == 0 and not (sandbox.workon_home / "beta").exists()


def test_rmvenv_project_venv_frame_and_trust(sandbox, ops):
    proj = project(sandbox)
    assert run(sandbox, "mkvenv", "--without-pip", cwd=proj).returncode == 0
    venv = str(proj / ".venv")
    env = {**ops.env, "VIRTUAL_ENV": venv, "SHELLHOOK_VENV": venv}
    out = run(sandbox, "rmvenv", "-y", cwd=proj, env=env)
    assert out.returncode == 0, out.stderr
    assert ops.frame() == [("D", "")]
    assert not os.path.lexists(venv)
    allow = sandbox.home / ".local/state/shellhook/trust/allow"
    assert list(allow.iterdir()) == []  # the allow record for the removed venv is gone


def test_rmvenv_keeps_a_deny(sandbox):
    proj = project(sandbox)
    sandbox.make_venv(proj / ".venv")
    sandbox.shellhook("deny", str(proj))
    assert run(sandbox, "rmvenv", "-y", cwd=proj).returncode == 0
    assert "denied" in sandbox.shellhook("which", str(proj), check=False).stdout or list(
        (sandbox.home / ".local/state/shellhook/trust/deny").iterdir()
    )


def test_rmvenv_removes_only_pointers_to_the_removed_venv(sandbox):
    proj = project(sandbox)
    assert run(sandbox, "mkvenv", "--without-pip", "foo", cwd=proj).returncode == 0
    (proj / ".venv").write_text("bar\n")  # relinked by hand meanwhile
    assert run(sandbox, "rmvenv", "-y", "foo", cwd=sandbox.home).returncode == 0
    assert (proj / ".venv").read_text() == "bar\n"


def test_rmvenv_offers_to_remove_a_dangling_pointer(sandbox):
    proj = project(sandbox)
    (proj / ".venv").write_text("gone\n")
    out = run(sandbox, "rmvenv", cwd=proj, input="y\n")
    assert out.returncode == 0 and "not a venv" in out.stderr
    assert not os.path.lexists(proj / ".venv")


def test_rmvenv_with_nothing_here(sandbox):
    out = run(sandbox, "rmvenv", "-y", cwd=sandbox.home)
    assert out.returncode == 1 and "no venv for" in out.stderr


# -- lsvenv ----------------------------------------------------------------------------------


def test_lsvenv_json(sandbox):
    proj = project(sandbox)
    assert run(sandbox, "mkvenv", "--without-pip", cwd=proj).returncode == 0
    alpha = sandbox.make_venv(sandbox.workon_home / "alpha")
    (alpha / ".project").write_text(f"{proj}\n")
    out = run(
        sandbox, "lsvenv", "--json", cwd=sandbox.home, env={"VIRTUAL_ENV": str(proj / ".venv")}
    )
    rows = json.loads(out.stdout)
    version = ".".join(map(str, sys.version_info[:3]))
    assert rows == [
        {
            "name": "alpha",
            "path": str(alpha),
            "kind": "named",
            "python": version,
            "project": str(proj),
            "tool": None,
            "active": False,
            "broken": None,
        },
        {
            "name": "proj",
            "path": str(proj / ".venv"),
            "kind": "project",
            "python": version,
            "project": str(proj),
            "tool": None,
            "active": True,
            "broken": None,
        },
    ]
    table = run(sandbox, "lsvenv", cwd=sandbox.home, env={"VIRTUAL_ENV": str(alpha)}).stdout
    assert [line.split() for line in table.splitlines()] == [
        ["NAME", "PYTHON", "PROJECT"],
        ["*", "alpha", version, "~/proj"],
        ["~/proj", version, "~/proj"],  # a project venv: named by its project
    ]


def test_lsvenv_marks_broken_venvs_with_the_reason(sandbox):
    broken = sandbox.make_venv(sandbox.workon_home / "old")
    (broken / "bin" / "python").unlink()
    proj = project(sandbox)
    assert run(sandbox, "mkvenv", "--without-pip", cwd=proj).returncode == 0
    (proj / ".venv" / "bin" / "python").unlink()
    out = run(sandbox, "lsvenv", cwd=sandbox.home)
    lines = out.stdout.splitlines()
    assert lines[1].split()[:3] == ["old", ".".join(map(str, sys.version_info[:3])), "-"]
    assert lines[1].endswith(
        "broken: its python is missing (bin/python); recreate it with: mkvenv --force old"
    )
    assert lines[2].endswith("recreate it with: cd ~/proj && mkvenv --force")
    rows = json.loads(run(sandbox, "lsvenv", "--json", cwd=sandbox.home).stdout)
    assert [r["broken"] for r in rows] == ["its python is missing (bin/python)"] * 2


def test_status_config_and_this_shells_workon_home(sandbox):
    out = run(sandbox, "status", cwd=sandbox.home)
    assert out.returncode == 0, out.stderr
    assert "config:      none (defaults)" in out.stdout
    assert "WORKON_HOME: ~/.virtualenvs\n" in out.stdout
    config = Path(sandbox.env["XDG_CONFIG_HOME"]) / "shellhook" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("quiet = true\n")
    sandbox.shellhook("daemon", "start")  # with the sandbox's WORKON_HOME
    out = run(sandbox, "status", cwd=sandbox.home, env={"WORKON_HOME": str(sandbox.home / "w")})
    assert "config:      ~/.config/shellhook/config.toml" in out.stdout
    assert "WORKON_HOME: ~/w\n" in out.stdout  # this shell's: the daemon answers with it


@pytest.mark.parametrize("dirname", ["--system-site-packages", "-rf", "$(id)", "a b", "`id`"])
def test_mkvenv_in_hostile_directory_names(sandbox, ops, dirname):
    proj = project(sandbox, dirname)
    out = run(sandbox, "mkvenv", "--without-pip", cwd=proj, env=ops.env)
    assert out.returncode == 0, out.stderr
    assert (proj / ".venv" / "pyvenv.cfg").is_file()
    assert ("A", str(proj / ".venv")) in ops.frame()
    assert not list(sandbox.root.rglob("uid=*"))


def test_mkvenv_refuses_a_colon_in_the_path(sandbox):
    proj = project(sandbox, "a:b")
    out = run(sandbox, "mkvenv", "--without-pip", cwd=proj)
    assert out.returncode == 1 and "':'" in out.stderr
    assert not os.path.lexists(proj / ".venv")


def test_concurrent_mkvenv_makes_exactly_one(sandbox):
    proj = project(sandbox)
    env = {**sandbox.env, "PWD": str(proj)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shellhook", "mkvenv", "--without-pip", "--no-uv"],
            cwd=proj,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = sorted((p.wait(timeout=120), p.stderr.read()) for p in procs)
    assert [rc for rc, _ in results] == [0, 1], results
    assert "already exists" in results[1][1]
    assert sorted(p.name for p in proj.iterdir()) == [".venv", "pyproject.toml"]


def test_rmvenv_removes_a_symlink_not_its_target(sandbox):
    real = sandbox.make_venv(sandbox.root / "elsewhere" / "shared")
    sandbox.workon_home.mkdir(parents=True, exist_ok=True)
    (sandbox.workon_home / "shared").symlink_to(real)
    out = run(sandbox, "rmvenv", "-y", "shared", cwd=sandbox.home)
    assert out.returncode == 0 and "the link" in out.stderr
    assert not os.path.lexists(sandbox.workon_home / "shared")
    assert (real / "pyvenv.cfg").is_file()
    proj = project(sandbox)
    (proj / ".venv").symlink_to(real)
    out = run(sandbox, "rmvenv", "-y", cwd=proj)
    assert out.returncode == 0, out.stderr
    assert not os.path.lexists(proj / ".venv") and (real / "pyvenv.cfg").is_file()


def test_rmvenv_fancy_named_project_venv(sandbox):
    proj = project(sandbox)
    sandbox.make_venv(proj / "fancy_env")
    assert run(sandbox, "rmvenv", "-y", cwd=proj).returncode == 0
    assert sorted(p.name for p in proj.iterdir()) == ["pyproject.toml"]


def test_mkvenv_refuses_inside_a_venv_or_workon_home(sandbox):
    venv = sandbox.make_venv(sandbox.workon_home / "alpha")
    for where in (venv, venv / "bin"):
        out = run(sandbox, "mkvenv", "--without-pip", cwd=where)
        assert out.returncode == 1 and "not a project" in out.stderr
    assert not os.path.lexists(venv / ".venv") and not os.path.lexists(venv / "bin" / ".venv")
