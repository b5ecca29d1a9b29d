"""Shared fixtures: a throw-away HOME and XDG tree, venv factories, shell drivers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv as venv_mod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from shellhook import adapters
from shellhook.daemon import control
from tests.drivers import DRIVERS, ShellDriver

SHELLS = adapters.SHELLS


def home_env(home: Path, runtime: Path) -> dict[str, str]:
    """HOME, the XDG dirs and $WORKON_HOME of a throw-away home (and its runtime dir)."""
    return {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "WORKON_HOME": str(home / ".virtualenvs"),
    }


def _sandbox_env(root: Path) -> dict[str, str]:
    home = root / "home"
    runtime = root / "run"
    for d in (home, runtime):
        d.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    pybin = str(Path(sys.executable).parent)
    return {
        **home_env(home, runtime),
        "USER": os.environ.get("USER", "tester"),
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "PATH": os.pathsep.join([pybin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "SHELLHOOK_IDLE_EXIT": "120",
    }


class Sandbox:
    """A throw-away HOME with helpers to make projects and venvs inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = _sandbox_env(root)
        self.home = Path(self.env["HOME"])
        self.workon_home = Path(self.env["WORKON_HOME"])

    def shellhook(self, *args: str, check: bool = True, input: str | None = None):
        """Run the shellhook CLI inside the sandbox (``check``: fail with its stderr)."""
        proc = subprocess.run(
            [sys.executable, "-m", "shellhook", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"shellhook {' '.join(args)} exited {proc.returncode}: {proc.stderr}"
            )
        return proc

    def make_venv(self, path: Path | str, prompt: str | None = None) -> Path:
        """Create a real venv (no pip: fast) at ``path``, whatever bytes its name holds.

        The venv module cannot write a non-UTF-8 path into pyvenv.cfg, so it is built
        under a plain name and moved: a venv's python and our activation do not care.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            venv_mod.EnvBuilder(with_pip=False, symlinks=True, prompt=prompt).create(path)
            return path
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix="venv-")) / "v"
        venv_mod.EnvBuilder(with_pip=False, symlinks=True, prompt=prompt).create(staging)
        staging.rename(path)
        staging.parent.rmdir()
        # pyvenv.cfg's command line names where it was made: the final path, as bytes
        # (else the venv is one moved from the staging dir, which shellhook refuses).
        cfg = path / "pyvenv.cfg"
        cfg.write_bytes(cfg.read_bytes().replace(os.fsencode(staging), os.fsencode(path)))
        return path

    def project(self, name: str | bytes, venv_name: str = ".venv", trust: bool = True) -> Path:
        """A project directory holding a venv, allowed unless ``trust`` is False."""
        proj = Path(os.fsdecode(self.home)) / os.fsdecode(name)
        proj.mkdir(parents=True, exist_ok=True)
        self.make_venv(proj / venv_name)
        if trust:
            self.shellhook("allow", str(proj))
        return proj

    def hook_file(self, shell: str) -> Path:
        """``shellhook init SHELL`` written to a file, as install.sh does."""
        path = self.root / f"hook.{adapters.get(shell).extension}"
        if not path.exists():
            path.write_text(self.shellhook("init", shell).stdout)
        return path

    def daemon_pid(self) -> int | None:
        """The sandbox daemon's pid, or None while none runs (or one is starting)."""
        old = dict(os.environ)
        os.environ.update(self.env)
        try:
            return control.status().pid
        finally:
            os.environ.clear()
            os.environ.update(old)

    def stop_daemon(self) -> None:
        """Stop this sandbox's daemon."""
        self.shellhook("daemon", "stop", check=False)


@pytest.fixture
def sandbox(tmp_path: Path):
    """A throw-away HOME/XDG tree; its daemon is stopped afterwards."""
    box = Sandbox(tmp_path)
    yield box
    box.stop_daemon()


def require_shell(name: str) -> None:
    """Skip (outside CI only: CI must test everything) when tool ``name`` is not installed."""
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, but CI must test it")
        pytest.skip(f"{name} is not installed")


class StartShell(Protocol):
    """The ``start_shell`` fixture: ``start_shell(name, cwd=..., env=..., hook=...)``."""

    def __call__(
        self,
        name: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        hook: Path | None = None,
        argv: list[str] | None = None,
        load: str | None = None,
    ) -> ShellDriver: ...


@pytest.fixture
def start_shell(sandbox: Sandbox) -> Iterator[StartShell]:
    """Start interactive shells of any kind in the sandbox; all closed afterwards.

    ``name`` is the adapter's (skipped when not installed, outside CI), ``env`` is added
    to the sandbox's, ``hook`` replaces ``shellhook init NAME``'s file, ``argv`` the
    command line starting the shell and ``load`` the command loading the hook.
    """
    started: list[ShellDriver] = []

    def start(
        name: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        hook: Path | None = None,
        argv: list[str] | None = None,
        load: str | None = None,
    ) -> ShellDriver:
        driver_class = DRIVERS[name]
        require_shell(driver_class.executable)
        driver = driver_class(
            sandbox.root,
            {**sandbox.env, **(env or {})},
            hook or sandbox.hook_file(name),
            argv=argv,
            load=load,
        )
        started.append(driver)
        return driver.start(cwd)

    yield start
    for driver in started:
        driver.close()


@pytest.fixture(params=SHELLS)
def shell_name(request: pytest.FixtureRequest) -> str:
    """Each supported shell in turn."""
    name: str = request.param
    require_shell(DRIVERS[name].executable)
    return name


@pytest.fixture
def spawn(sandbox: Sandbox, start_shell: StartShell, shell_name: str) -> Callable[..., ShellDriver]:
    """Start shells of the parametrized kind (``start_shell`` for ``shell_name``)."""

    def start(
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        hook: Path | None = None,
        pre_hook: str | None = None,
        post_hook: str | None = None,
    ) -> ShellDriver:
        """``pre_hook``, ``post_hook``: the name of a driver attribute holding lines that
        run before (after) the hook loads, as lines earlier (later) in an rc file would."""
        cls = DRIVERS[shell_name]
        hook = hook or sandbox.hook_file(shell_name)
        wanted = pre_hook or post_hook
        if wanted:
            if not getattr(cls, wanted):
                pytest.skip(f"{shell_name}: no {wanted}")
            texts = [getattr(cls, pre_hook) if pre_hook else "", hook.read_text()]
            texts.append(getattr(cls, post_hook) if post_hook else "")
            combined = sandbox.root / f"hook-{pre_hook or post_hook}{hook.suffix}"
            combined.write_text("\n".join(texts))
            hook = combined
        return start_shell(shell_name, cwd=cwd, env=env, hook=hook)

    return start


def pytest_report_header(config):
    """Which shells this run can drive."""
    return "shells: " + ", ".join(
        f"{n}={'yes' if shutil.which(DRIVERS[n].executable) else 'MISSING'}" for n in SHELLS
    )


# Figures the adversarial tests measure (issue 13): printed in the run's summary, so a
# CI log carries them. Keys name what was counted; a test adds to a key or keeps a maximum.
FIGURES: dict[str, float] = {}


class Figures:
    """What a test reports for the summary: counts add up, maxima keep the largest."""

    def add(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` to the count ``name`` (made 0 first)."""
        FIGURES[name] = FIGURES.get(name, 0) + amount

    def most(self, name: str, value: float) -> None:
        """Keep ``value`` as ``name`` when it is the largest seen."""
        FIGURES[name] = max(FIGURES.get(name, value), value)


@pytest.fixture
def figures() -> Figures:
    """Record a figure for the run's summary (see ``Figures``)."""
    return Figures()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The figures the tests recorded, one per line, sorted by name."""
    if FIGURES:
        terminalreporter.section("shellhook figures")
        for name in sorted(FIGURES):
            value = FIGURES[name]
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            terminalreporter.write_line(f"{name}: {shown}")
