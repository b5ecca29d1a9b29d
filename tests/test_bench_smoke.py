"""bench/ stays runnable: its ``--quick`` smoke run (every measure once, no time judged)
passes its correctness checks: each variant has the venv it should, no process is spawned
per prompt or cd, the daemon gets no inotify event per cd or per write to a watched
directory, and stays within its thread budget. Times are benchmarks, never tested here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_checks_pass():
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report[-4000:]
    checks = [line for line in report.splitlines() if line.strip().startswith("check ")]
    assert len(checks) > 40, report[-4000:]  # every shell and the daemon's scenarios ran
    assert all(line.strip().startswith("check ok") for line in checks), report[-4000:]
