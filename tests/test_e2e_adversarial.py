"""End-to-end: adversarial cases of security.md §3 found by issue 13, in every shell."""

from __future__ import annotations

import sys
from pathlib import Path


def fake_venv(path: Path) -> Path:
    """A venv made by hand (``venv`` refuses some of the paths these tests need)."""
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (path / "bin" / "python").symlink_to(sys.executable)
    return path


def test_colon_in_venv_path_is_refused(sandbox, spawn):
    """Case 19: a pointer to ``<root>/a:<root>/evil`` would put ``<root>/evil/bin`` on
    PATH, whose ``ls`` is someone else's code."""
    evil = sandbox.root / "evil" / "bin"
    evil.mkdir(parents=True)
    sentinel = sandbox.root / "pwned"
    (evil / "ls").write_text(f"#!/bin/sh\ntouch {sentinel}\n")
    (evil / "ls").chmod(0o755)
    venv = fake_venv(Path(f"{sandbox.root}/a:{sandbox.root}/evil"))
    proj = sandbox.home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text(f"{venv}\n")
    allowed = sandbox.shellhook("allow", str(proj), check=False)
    sh = spawn()
    path_before = sh.getenv("PATH")
    out = sh.cd(proj)
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    assert out.count(b"would split PATH") == 1
    sh.run("ls >/dev/null 2>&1")
    assert not sentinel.exists()
    assert allowed.returncode == 1 and "would split PATH" in allowed.stderr
