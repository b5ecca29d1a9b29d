"""Unit tests: which venv belongs to a directory (DESIGN §2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shellhook import resolver as r


def mkvenv(path: Path) -> Path:
    """A minimal venv as the resolver sees it: a dir with pyvenv.cfg."""
    path.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return path


@pytest.fixture
def res(tmp_path: Path) -> r.Resolver:
    return r.Resolver(workon_home=tmp_path / "workon")


def test_nothing_found(tmp_path, res):
    found = res.resolve(str(tmp_path))
    assert not found.found and found.problem is None
    assert str(tmp_path) in found.watch and "/" in found.watch


def test_dot_venv_then_venv_then_fancy_alphabetically(tmp_path, res):
    mkvenv(tmp_path / "zeta")
    mkvenv(tmp_path / "alpha")
    assert res.resolve(str(tmp_path)).venv == str(tmp_path / "alpha")
    assert res.resolve(str(tmp_path)).rule == r.RULE_CHILD
    mkvenv(tmp_path / "venv")
    assert res.resolve(str(tmp_path)).venv == str(tmp_path / "venv")
    mkvenv(tmp_path / ".venv")
    found = res.resolve(str(tmp_path / "."))
    assert (found.venv, found.rule, found.project) == (
        str(tmp_path / ".venv"),
        r.RULE_DOT_VENV,
        str(tmp_path),
    )


def test_directory_without_pyvenv_cfg_is_not_a_venv(tmp_path, res):
    (tmp_path / ".venv").mkdir()
    (tmp_path / "dir").mkdir()
    assert not res.resolve(str(tmp_path)).found


def test_innermost_wins_and_subdirectories_inherit(tmp_path, res):
    mkvenv(tmp_path / ".venv")
    mkvenv(tmp_path / "inner" / ".venv")
    (tmp_path / "inner" / "a" / "b").mkdir(parents=True)
    assert res.resolve(str(tmp_path / "inner/a/b")).venv == str(tmp_path / "inner/.venv")
    (tmp_path / "other").mkdir()
    assert res.resolve(str(tmp_path / "other")).venv == str(tmp_path / ".venv")


def test_pointer_bare_name_is_in_workon_home(tmp_path, res):
    named = mkvenv(tmp_path / "workon" / "tools")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".venv").write_bytes(b"tools\n")
    found = res.resolve(str(tmp_path / "proj"))
    assert found.venv == str(named) and found.rule == r.RULE_POINTER
    assert found.pointer == b"tools\n"


def test_pointer_relative_path_is_relative_to_its_directory(tmp_path, res):
    target = mkvenv(tmp_path / "envs" / "p")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".venv").write_text("../envs/p")
    assert res.resolve(str(tmp_path / "proj")).venv == str(target)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (b"a\nb\n", "single line"),
        (b"\xff\xfe", "not UTF-8"),
        (b"missing", "not a venv"),
        (b"..", "not a venv"),
        (b"x" * 5000, "larger than"),
    ],
)
def test_bad_pointers_are_problems_not_crashes(tmp_path, res, content, problem):
    (tmp_path / ".venv").write_bytes(content)
    found = res.resolve(str(tmp_path))
    assert not found.found and problem in found.problem


def test_pointer_that_is_a_symlink_or_fifo_is_not_followed(tmp_path, res):
    mkvenv(tmp_path / "real")
    (tmp_path / "ptr").write_text("real")
    (tmp_path / "p1").mkdir()
    os.symlink(tmp_path / "ptr", tmp_path / "p1" / ".venv")
    assert (
        not res.resolve(str(tmp_path / "p1")).found
        or res.resolve(str(tmp_path / "p1")).rule != r.RULE_POINTER
    )
    (tmp_path / "p2").mkdir()
    os.mkfifo(tmp_path / "p2" / ".venv")
    found = res.resolve(str(tmp_path / "p2"))  # must not block on the FIFO
    assert found.rule != r.RULE_POINTER


def test_project_link_in_workon_home(tmp_path, res):
    named = mkvenv(tmp_path / "workon" / "linked")
    (tmp_path / "proj" / "src").mkdir(parents=True)
    (named / ".project").write_text(str(tmp_path / "proj") + "\n")
    found = res.resolve(str(tmp_path / "proj" / "src"))
    assert found.venv == str(named) and found.rule == r.RULE_PROJECT_LINK
    assert found.project == str(tmp_path / "proj")


def test_cache_is_used_only_for_watched_dirs(tmp_path):
    watched: set[str] = set()
    res = r.Resolver(workon_home=tmp_path / "w", cacheable=watched.__contains__)
    assert not res.resolve(str(tmp_path)).found
    mkvenv(tmp_path / ".venv")
    assert res.resolve(str(tmp_path)).found  # not cached: seen at once
    watched.add(str(tmp_path))
    res.resolve(str(tmp_path))
    (tmp_path / ".venv" / "pyvenv.cfg").unlink()
    assert res.resolve(str(tmp_path)).found  # cached until told
    res.invalidate(str(tmp_path / ".venv" / "pyvenv.cfg"))
    res.invalidate(str(tmp_path / ".venv"))
    assert not res.resolve(str(tmp_path)).found


def test_huge_directory_is_not_scanned_for_fancy_names(tmp_path, res, monkeypatch):
    monkeypatch.setattr(r, "MAX_SCAN_ENTRIES", 10)
    for i in range(20):
        (tmp_path / f"d{i:02}").mkdir()
    mkvenv(tmp_path / "zz")
    assert not res.resolve(str(tmp_path)).found
