"""The adapter registry (``shellhook.adapters.SHELLS``) is the one list of shells.

Every per-shell table elsewhere is derived from it or checked against it here, so adding
a fifth shell fails loudly wherever something was forgotten: a test driver, a lint check,
a quoting printer, a bench spec, the hook and commands files and their package data, what
CI installs; and install.sh names no shell of its own.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.resources
import re
import sys
from pathlib import Path

import pytest

from bench.shellspec import SPECS
from shellhook import adapters
from shellhook.adapters.xonsh import HOOK_MODULE
from shellhook.files import parse_toml
from tests import test_contract, test_lint, test_quoting
from tests.drivers import DRIVERS

REPO = Path(__file__).resolve().parent.parent
SHELLS = set(adapters.SHELLS)


def commands_file(shell: str) -> str:
    return f"commands.{adapters.get(shell).extension}"


def test_registry_is_consistent() -> None:
    assert tuple(adapters.REGISTRY) == adapters.SHELLS
    for name in adapters.SHELLS:
        adapter = adapters.get(name)
        assert adapter.name == name
        assert adapter.script == f"shellhook.{adapter.extension}"
    extensions = [adapters.get(name).extension for name in adapters.SHELLS]
    assert len(set(extensions)) == len(extensions)  # one file per shell in shells/


@pytest.mark.parametrize(
    ("table", "keys"),
    [
        ("tests.drivers.DRIVERS", set(DRIVERS)),
        ("tests.test_lint.CHECKS", set(test_lint.CHECKS)),
        ("tests.test_quoting.PRINT", set(test_quoting.PRINT)),
        ("bench.shellspec.SPECS", set(SPECS)),
        ("tests.test_contract.APPLIED_OPS", set(test_contract.APPLIED_OPS)),
        ("tests.test_contract.DEFINED", set(test_contract.DEFINED)),
        ("tests.test_contract.ON_PURPOSE", set(test_contract.ON_PURPOSE)),
        ("tests.test_contract.OFFERED", set(test_contract.OFFERED)),
    ],
)
def test_every_per_shell_table_covers_the_registry(table: str, keys: set[str]) -> None:
    assert keys == SHELLS, f"{table}: missing {SHELLS - keys}, unknown {keys - SHELLS}"


def test_drivers_and_bench_specs_name_their_shell() -> None:
    for name in adapters.SHELLS:
        assert DRIVERS[name].name == name and DRIVERS[name].executable
        spec = SPECS[name](name)
        assert spec.name == name
        assert spec.ext == adapters.get(name).extension


def test_lint_covers_every_shipped_script() -> None:
    linted = {path.name for _, path in test_lint.SCRIPTS}
    shipped = {p.name for p in (REPO / "shells").iterdir() if p.is_file()} - {"__init__.py"}
    assert linted == shipped


@pytest.mark.parametrize("shell", adapters.SHELLS)
def test_hook_and_commands_files_exist(shell: str) -> None:
    adapter = adapters.get(shell)
    for name in (adapter.script, commands_file(shell)):
        assert (REPO / "shells" / name).is_file(), f"shells/{name}"


def test_no_file_in_shells_belongs_to_no_shell() -> None:
    owned = {"__init__.py"}
    for shell in adapters.SHELLS:
        owned |= {adapters.get(shell).script, commands_file(shell)}
    stray = {p.name for p in (REPO / "shells").iterdir() if p.is_file()} - owned
    assert stray == set()


@pytest.mark.parametrize("shell", adapters.SHELLS)
def test_package_data_ships_the_scripts(shell: str) -> None:
    pyproject = parse_toml((REPO / "pyproject.toml").read_bytes())
    globs = pyproject["tool"]["setuptools"]["package-data"]["shellhook.shells"]
    assert (REPO / "shellhook" / "shells").resolve() == (REPO / "shells").resolve()
    scripts = importlib.resources.files("shellhook.shells")
    for name in (adapters.get(shell).script, commands_file(shell)):
        assert any(fnmatch.fnmatch(name, g) for g in globs), f"{name} not in package-data"
        assert scripts.joinpath(name).is_file(), name  # what `shellhook init` reads


def test_xontrib_runs_the_xonsh_adapters_files() -> None:
    xontrib = importlib.import_module("xontrib.shellhook")
    xonsh = adapters.get("xonsh")
    assert (xonsh.script, commands_file("xonsh")) == xontrib.SCRIPTS
    assert xontrib.NAMESPACE == HOOK_MODULE


def _code(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]


def test_install_sh_names_no_shell() -> None:
    """install.sh leaves the shells to `shellhook rc` (which takes them from the registry)."""
    code = _code(REPO / "install.sh")
    words = SHELLS | {f".{adapters.get(s).extension}" for s in adapters.SHELLS}
    words |= {"bashrc", "zshrc", "conf.d", "rc.d"}
    for line in code:
        named = {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", line)}
        assert not named, f"install.sh names {named}: {line.strip()}"
    text = "\n".join(code)
    assert re.search(r"-m shellhook rc install\s*$", text, re.M)  # every shell on PATH
    assert re.search(r"-m shellhook rc uninstall\s*$", text, re.M)  # every shell


def test_ci_installs_every_tool_the_shell_tests_need() -> None:
    """What the drivers, lint checks and quoting printers run: installed by test.sh (Debian
    packages), by the test extras (PyPI), or always there (bash, this Python)."""
    test_sh = (REPO / "test.sh").read_text()
    m = re.search(r"for tool in ([^;]+); do", test_sh)
    assert m, "test.sh's list of Debian packages moved: update this test"
    apt = set(m.group(1).split())
    pyproject = parse_toml((REPO / "pyproject.toml").read_bytes())
    extras = {
        re.split(r"[<>=!~; \[]", req, maxsplit=1)[0]
        for req in pyproject["project"]["optional-dependencies"]["test"]
    }
    needed = {DRIVERS[s].executable for s in adapters.SHELLS}
    needed |= {test_lint.CHECKS[s][0] for s in adapters.SHELLS}
    needed |= {test_quoting.PRINT[s][0][0] for s in adapters.SHELLS}
    missing = needed - apt - extras - {"bash", sys.executable}
    assert missing == set(), f"nothing installs {missing} for CI"
