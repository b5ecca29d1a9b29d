"""docs/threats.md maps every case of security.md §3 to its tests, which exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = 59  # security.md §3, numbered 1..59


def rows() -> dict[int, list[str]]:
    """Case number -> the cells of its row."""
    found = {}
    for line in (ROOT / "docs" / "threats.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].isdigit():
            found[int(cells[0])] = cells
    return found


def test_every_case_has_a_row_with_a_coverage_and_tests_or_a_reason():
    table = rows()
    assert sorted(table) == list(range(1, CASES + 1))
    for case, cells in table.items():
        _case, _what, coverage, tests, why = cells
        assert coverage in ("full", "partial", "none"), case
        assert tests or why, f"case {case}: no test and no reason"
        assert coverage != "none" or why, f"case {case}: not covered, say why"


def test_every_named_test_exists():
    named = re.findall(r"(tests/\w+\.py)::(\w+)", (ROOT / "docs" / "threats.md").read_text())
    assert named
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text())
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in functions, f"{path}::{name} named in docs/threats.md does not exist"
