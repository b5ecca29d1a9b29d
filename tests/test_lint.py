"""The hook scripts lint clean in their own shells; the Python code is ruff clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_shell

SHELLS_DIR = Path(__file__).resolve().parent.parent / "shells"

CHECKS = {
    "bash": ["shellcheck", "-S", "warning"],
    "zsh": ["zsh", "-n"],
    "fish": ["fish", "--no-execute"],
}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in SHELLS_DIR.iterdir() if p.suffix.lstrip(".") in CHECKS),
    ids=lambda p: p.name,
)
def test_hook_script_lints(path):
    command = CHECKS[path.suffix.lstrip(".")]
    require_shell(command[0])
    out = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_clean():
    require_shell("ruff")  # (any tool: skipped outside CI only)
    ruff = shutil.which("ruff")
    root = SHELLS_DIR.parent
    out = subprocess.run([ruff, "check", str(root)], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stdout
