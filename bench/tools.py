"""Tool projects for the benchmark: one per tool, its venv made by the real tool, offline.

Each project lives directly in the sandbox's HOME, so the benchmark can ``cd`` into it and
back out as it does for ``proj_a``. The venv is the tool's own doing (``poetry env use``,
``pipenv --python``, ``pdm venv create``, ``hatch env create``, ``uv sync``), made
without the network, and the expected venv is the tool's own answer, asked afterwards:
the benchmark checks that every hook activates exactly that.

The tools are the ones next to the measured Python (the test extras install them there);
a missing tool or a tool that fails leaves its project out, with a note saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# What the tests use too (tests/test_tools.py): no index, no downloads, no pip in venvs.
OFFLINE = {
    "PIP_NO_INDEX": "1",
    "UV_OFFLINE": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "POETRY_VIRTUALENVS_OPTIONS_NO_PIP": "true",
    "PIPENV_YES": "1",
    "PIPENV_IGNORE_VIRTUALENVS": "1",
    "PDM_CHECK_UPDATE": "false",
    "HATCH_ENV_TYPE_VIRTUAL_UV_PATH": "",
}

# The base interpreter the tools make venvs from.
BASE_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else None


@dataclass
class ToolProject:
    """One tool's project in HOME: how to ``cd`` into it and out, and its venv."""

    tool: str
    into: str  # typed after cd, from HOME
    out: str  # typed after cd, back to HOME
    root: Path  # the project's root (where its .envrc goes)
    venv: str  # the venv the tool itself says the project uses


class ToolRunner:
    """Runs the tools next to the measured Python, offline, in the sandbox's environment."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.bindir = str(Path(python).parent)
        self.python = BASE_PYTHON or python
        self.env = {**env, **OFFLINE}

    def has(self, name: str) -> bool:
        """Whether tool ``name`` is installed next to the measured Python."""
        return shutil.which(name, path=self.bindir) is not None

    def __call__(self, name: str, *args: str, cwd: Path) -> str:
        """Run tool ``name``; its stdout, stripped (RuntimeError when it fails)."""
        exe = shutil.which(name, path=self.bindir) or name
        proc = subprocess.run(
            [exe, *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{name} {' '.join(args)}: {tail[0]}")
        return proc.stdout.strip()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _pyproject(name: str, tail: str = "") -> str:
    return f'[project]\nname = "{name}"\nversion = "0.1"\nrequires-python = ">=3.8"\n{tail}'


def make_uv(home: Path, run: ToolRunner) -> ToolProject:
    """A uv workspace; the benchmark goes into its member, whose venv is the root's."""
    root = home / "tool_uv"
    _write(root / "pyproject.toml", _pyproject("ws", '[tool.uv.workspace]\nmembers = ["m1"]\n'))
    member = _write(root / "m1" / "pyproject.toml", _pyproject("m1")).parent
    run("uv", "sync", "--offline", "--python", run.python, cwd=member)
    prefix = run(
        "uv", "run", "--offline", "python", "-c", "import sys; print(sys.prefix)", cwd=member
    )
    return ToolProject("uv", "tool_uv/m1", "../..", root, prefix.splitlines()[-1])


def make_poetry(home: Path, run: ToolRunner) -> ToolProject:
    """A poetry project with its venv in poetry's cache, and a poetry.lock."""
    root = home / "tool_poetry"
    _write(
        root / "pyproject.toml", _pyproject("tool-poetry", "[tool.poetry]\npackage-mode = false\n")
    )
    run("poetry", "env", "use", run.python, cwd=root)
    run("poetry", "lock", cwd=root)  # zsh-autoswitch-virtualenv knows poetry by its lock file
    return ToolProject(
        "poetry", "tool_poetry", "..", root, run("poetry", "env", "info", "-p", cwd=root)
    )


def make_pipenv(home: Path, run: ToolRunner) -> ToolProject:
    """A pipenv project with its venv in $WORKON_HOME."""
    root = home / "tool_pipenv"
    _write(root / "Pipfile", "")
    run("pipenv", "--python", run.python, cwd=root)
    return ToolProject("pipenv", "tool_pipenv", "..", root, run("pipenv", "--venv", cwd=root))


def make_pdm(home: Path, run: ToolRunner) -> ToolProject:
    """A pdm project, its venv in pdm's central store (user config: ``venv.in_project = false``)."""
    root = home / "tool_pdm"
    _write(root / "pyproject.toml", _pyproject("tool-pdm", "[tool.pdm]\ndistribution = false\n"))
    _write(home / ".config/pdm/config.toml", "[venv]\nin_project = false\n")
    run("pdm", "venv", "create", run.python, cwd=root)
    python = run("pdm", "info", "--python", cwd=root)
    return ToolProject("pdm", "tool_pdm", "..", root, os.path.dirname(os.path.dirname(python)))


def make_hatch(home: Path, run: ToolRunner) -> ToolProject:
    """A hatch project whose ``default`` env lives in hatch's data dir."""
    root = home / "tool_hatch"
    _write(
        root / "pyproject.toml",
        _pyproject("tool-hatch", "[tool.hatch.envs.default]\nskip-install = true\n"),
    )
    run("hatch", "env", "create", cwd=root)
    found = run("hatch", "env", "find", "default", cwd=root)
    return ToolProject("hatch", "tool_hatch", "..", root, os.path.realpath(found))


MAKERS: dict[str, Callable[[Path, ToolRunner], ToolProject]] = {
    "uv": make_uv,
    "poetry": make_poetry,
    "pipenv": make_pipenv,
    "pdm": make_pdm,
    "hatch": make_hatch,
}


def build(home: Path, python: str, env: dict[str, str]) -> tuple[list[ToolProject], list[str]]:
    """Every tool's project that could be made here, and a note for each one that could not."""
    run = ToolRunner(python, env)
    projects: list[ToolProject] = []
    notes: list[str] = []
    for name, make in MAKERS.items():
        if not run.has(name):
            notes.append(f"{name}: not installed next to {python}; no {name} project")
            continue
        try:
            projects.append(make(home, run))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            notes.append(f"{name}: could not make its project offline: {exc}")
    return projects, notes
