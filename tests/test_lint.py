"""The hook scripts lint clean in their own shells; the Python code is ruff clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shellhook import adapters
from tests.conftest import require_shell

SHELLS_DIR = Path(__file__).resolve().parent.parent / "shells"

# How each shell (by adapter name) checks a script of its own without running it.
CHECKS = {
    "bash": ["shellcheck", "-S", "warning"],
    "zsh": ["zsh", "-n"],
    "fish": ["fish", "--no-execute"],
    # The xonsh hook and commands are plain Python on purpose (shells/shellhook.xsh).
    "xonsh": [
        sys.executable,
        "-c",
        "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
    ],
}

# Every file an adapter ships: its hook script and its commands file.
SCRIPTS = [
    (shell, SHELLS_DIR / name)
    for shell in adapters.SHELLS
    for name in (adapters.get(shell).script, f"commands.{adapters.get(shell).extension}")
]


@pytest.mark.parametrize(("shell", "path"), SCRIPTS, ids=[p.name for _, p in SCRIPTS])
def test_hook_script_lints(shell, path):
    command = CHECKS[shell]
    require_shell(command[0])
    out = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_clean():
    require_shell("ruff")  # (any tool: skipped outside CI only)
    ruff = shutil.which("ruff")
    root = SHELLS_DIR.parent
    out = subprocess.run([ruff, "check", str(root)], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stdout
