"""Unit tests: which venv belongs to a directory (DESIGN §2)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from shellhook import resolver as r
from shellhook import venvinfo


def mkvenv(path: Path) -> Path:
    """A minimal venv as the resolver sees it: a dir with pyvenv.cfg."""
    path.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return path


def scope_in(tmp_path: Path, **kwargs) -> r.Scope:
    """A scope whose home, temp dir and $WORKON_HOME are inside ``tmp_path``."""
    for name in ("home", "tmp"):
        (tmp_path / name).mkdir(exist_ok=True)
    kwargs.setdefault("workon_home", str(tmp_path / "workon"))
    return r.Scope(
        home=str(tmp_path / "home"),
        temp_dirs=(*r.SYSTEM_TEMP_DIRS, str(tmp_path / "tmp")),
        **kwargs,
    )


@pytest.fixture
def res(tmp_path: Path) -> r.Resolver:
    return r.Resolver(scope=scope_in(tmp_path))


def test_nothing_found(tmp_path, res):
    found = res.resolve(str(tmp_path))
    assert not found.found and found.problem is None
    assert str(tmp_path) in found.watch
    assert "/" not in found.watch and "/tmp" not in found.watch  # never projects: unwatched


def test_dot_venv_then_venv_then_the_only_other_child(tmp_path, res):
    mkvenv(tmp_path / "alpha")
    assert res.resolve(str(tmp_path)).venv == str(tmp_path / "alpha")
    assert res.resolve(str(tmp_path)).rule == r.RULE_CHILD
    mkvenv(tmp_path / "zeta")  # two: a store, not a project
    assert not res.resolve(str(tmp_path)).found
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


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n"])
def test_pointer_line_endings_as_pep_832_strips_them(tmp_path, res, ending):
    named = mkvenv(tmp_path / "workon" / "tools")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".venv").write_bytes(b"tools" + ending)
    assert res.resolve(str(tmp_path / "proj")).venv == str(named)


def test_relative_pointer_is_the_same_through_a_symlinked_directory(tmp_path, res):
    """Physical: ``..`` is the real parent of the pointer's directory (case 17)."""
    target = mkvenv(tmp_path / "real" / "envs" / "p")
    (tmp_path / "real" / "proj").mkdir()
    (tmp_path / "real" / "proj" / ".venv").write_text("../envs/p\n")
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "proj").symlink_to(tmp_path / "real" / "proj")
    mkvenv(tmp_path / "links" / "envs" / "p")  # what a lexical ".." would find instead
    for way in ("real/proj", "links/proj"):
        assert res.resolve(str(tmp_path / way)).venv == str(target), way


def test_tilde_in_a_pointer_is_not_expanded(tmp_path, res, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    mkvenv(tmp_path / "home" / "envs" / "p")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".venv").write_text("~/envs/p\n")
    found = res.resolve(str(tmp_path / "proj"))
    assert not found.found and f"{tmp_path / 'proj'}/~/envs/p" in found.problem


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (b"a\nb\n", "single line"),
        (b"a\r\r\n", "single line"),
        (b"a\n\n", "single line"),
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


def test_project_link_to_a_deleted_directory_is_none(tmp_path, res):
    """A shell can sit in a directory deleted from elsewhere (case 44): the link, the
    one rule reading nothing in the directory, must not keep its venv active there."""
    named = mkvenv(tmp_path / "workon" / "linked")
    (named / ".project").write_text(str(tmp_path / "proj") + "\n")
    assert not res.resolve(str(tmp_path / "proj")).found


def test_cache_is_used_only_for_watched_dirs(tmp_path):
    watched: set[str] = set()
    res = r.Resolver(scope=scope_in(tmp_path), cacheable=watched.__contains__)
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


# -- directories that are never a project (DESIGN §2) ----------------------------------


def test_a_venv_in_home_makes_nothing_below_a_project(tmp_path, res):
    home = tmp_path / "home"
    mkvenv(home / "venv")
    (home / "src" / "plain").mkdir(parents=True)
    for where in (home, home / "src" / "plain"):
        assert not res.resolve(str(where)).found
    (home / ".venv").write_text("./venv\n")  # nor does a pointer file in home
    assert not res.resolve(str(home / "src")).found
    assert res.resolve(str(home / "src")).problem is None


def test_home_is_project_makes_home_a_project(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    mkvenv(home / ".venv")
    (home / "src").mkdir()
    found = r.Resolver(scope=scope_in(tmp_path, home_is_project=True)).resolve(str(home / "src"))
    assert found.venv == str(home / ".venv") and found.project == str(home)


def test_temp_dirs_root_and_workon_home_are_never_projects(tmp_path, res):
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    mkvenv(tmp / "venv")
    (tmp / "sandbox").mkdir()
    assert not res.resolve(str(tmp / "sandbox")).found
    only = mkvenv(tmp_path / "workon" / "only")  # one named venv: still not a project
    assert not res.resolve(str(only / "bin")).found
    assert {"/", "/tmp", "/var/tmp"} <= set(res.scope.excluded)


def test_an_excluded_directory_reached_through_a_symlink_is_excluded(tmp_path, res):
    home = tmp_path / "home"
    mkvenv(home / "venv")
    (home / "sub").mkdir()
    (tmp_path / "alias").symlink_to(home)
    assert not res.resolve(str(tmp_path / "alias" / "sub")).found
    assert not res.resolve(str(tmp_path / "alias")).found


def test_scope_from_env_reads_the_given_environment_only(tmp_path):
    env = {"HOME": str(tmp_path / "h"), "WORKON_HOME": "~/envs", "TMPDIR": str(tmp_path / "t")}
    scope = r.Scope.from_env(env)
    assert scope.workon_home == str(tmp_path / "h" / "envs")
    assert scope.home == str(tmp_path / "h")
    assert str(tmp_path / "t") in scope.temp_dirs and "/tmp" in scope.temp_dirs
    assert r.Scope.from_env({"HOME": "/h"}).workon_home == "/h/.virtualenvs"
    assert r.Scope.from_env({"HOME": "/h", "WORKON_HOME": "  "}).workon_home == "/h/.virtualenvs"


# -- stores: several venvs in one directory ----------------------------------------------


def test_a_folder_of_venvs_is_a_store_and_is_passed_over(tmp_path, res):
    work = tmp_path / "work"
    for name in ("env1", "env2"):
        mkvenv(work / name)
    (work / "proj" / "src").mkdir(parents=True)
    found = res.resolve(str(work / "proj" / "src"))
    assert not found.found
    (store,) = found.passed
    assert store.kind == r.PASSED_STORE and store.directory == str(work)
    assert store.venvs == (str(work / "env1"), str(work / "env2"))
    assert "2 venvs (env1, env2)" in store.reason and "store" in store.reason
    # An outer project still applies below the store, and names what it passed over.
    mkvenv(tmp_path / ".venv")
    outer = res.resolve(str(work / "proj"))
    assert outer.venv == str(tmp_path / ".venv") and outer.passed == (store,)


def test_store_rule_order_dot_venv_and_pointer_still_win(tmp_path, res):
    for name in ("a", "b"):
        mkvenv(tmp_path / name)
    (tmp_path / ".venv").write_text("./a\n")  # how which says to pick one
    assert res.resolve(str(tmp_path)).venv == str(tmp_path / "a")
    (tmp_path / ".venv").unlink()
    mkvenv(tmp_path / ".venv")
    assert res.resolve(str(tmp_path)).venv == str(tmp_path / ".venv")


def test_explain_records_what_excluded_directories_held(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    mkvenv(home / "venv")
    (home / "x").mkdir()
    quiet = r.Resolver(scope=scope_in(tmp_path)).resolve(str(home / "x"))
    assert quiet.passed == ()  # the hot path does not even look
    found = r.Resolver(scope=scope_in(tmp_path), explain=True).resolve(str(home / "x"))
    assert not found.found
    (passed,) = [p for p in found.passed if p.directory == str(home)]
    assert passed.kind == r.PASSED_EXCLUDED and passed.venvs == (str(home / "venv"),)
    assert "home directory" in passed.reason and "home_is_project" in passed.hint


# -- the asking shell's $WORKON_HOME (issue 9 item 4: per request, not per daemon) -------


def test_each_scope_gets_its_own_answer_from_one_cached_resolver(tmp_path):
    a = mkvenv(tmp_path / "wa" / "tools")
    b = mkvenv(tmp_path / "wb" / "tools")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("tools\n")
    resolver = r.Resolver(scope=scope_in(tmp_path), cacheable=lambda _p: True)
    scope_a = scope_in(tmp_path, workon_home=str(tmp_path / "wa"))
    scope_b = scope_in(tmp_path, workon_home=str(tmp_path / "wb"))
    for _ in range(2):  # the second round comes from the cache
        assert resolver.resolve(str(proj), scope_a).venv == str(a)
        assert resolver.resolve(str(proj), scope_b).venv == str(b)
        assert resolver.resolve(str(proj), scope_b).scope == scope_b
    assert not resolver.resolve(str(proj)).found  # the default scope's $WORKON_HOME


# -- case 18: a pointer (or venv) that is not a regular file -----------------------------

SPECIAL_FILES = ["socket", "fifo", "/dev/zero", "/proc/self/mem", "/dev/tty", "/dev/null"]


def plant_special(path: Path, kind: str) -> None:
    """Put a UNIX socket, a FIFO or a symlink to device or ``/proc`` file ``kind`` at
    ``path``."""
    if kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))  # the socket file stays when it is closed
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(kind)


def resolve_within(res: r.Resolver, directory: Path, seconds: float = 5.0) -> r.Resolution:
    """``res.resolve(directory)`` in a thread: a test that would hang fails instead."""
    answer: list[r.Resolution] = []
    worker = threading.Thread(target=lambda: answer.append(res.resolve(str(directory))))
    worker.daemon = True
    worker.start()
    worker.join(seconds)
    assert answer, f"resolving {directory} hung for {seconds} s"
    return answer[0]


@pytest.mark.parametrize("kind", SPECIAL_FILES)
@pytest.mark.parametrize("where", [".venv", "venv", "env", ".venv/pyvenv.cfg", "pointer"])
def test_a_special_file_is_never_followed_nor_waited_on(tmp_path, res, kind, where):
    """Case 18: a UNIX socket, a FIFO, or a symlink to ``/dev/zero``, ``/proc/self/mem``,
    ``/dev/tty`` or ``/dev/null`` planted as the pointer file, as a ``venv`` or other
    child, as a venv's ``pyvenv.cfg``, or named by a regular pointer file: nothing is
    found, nothing blocks, and what is said (a pointer naming it) is one line."""
    proj = tmp_path / "proj"
    proj.mkdir()
    if where == "pointer":
        special = tmp_path / "special"
        plant_special(special, kind)
        (proj / ".venv").write_text(f"{special}\n")
    elif where == ".venv/pyvenv.cfg":
        (proj / ".venv" / "bin").mkdir(parents=True)
        plant_special(proj / where, kind)
    else:
        plant_special(proj / where, kind)
    found = resolve_within(res, proj)
    if found.found:
        # stat() calls /proc/self/mem a regular file: a candidate, whose pyvenv.cfg is
        # then never read through the link, so it stays unusable even when allowed.
        assert (where, kind) == (".venv/pyvenv.cfg", "/proc/self/mem"), found
        assert "pyvenv.cfg is unreadable" in (venvinfo.broken_reason(found.venv) or "")
    if where == "pointer":
        assert found.problem is not None and "which is not a venv" in found.problem
        assert "\n" not in found.problem
    else:
        assert found.problem is None
    assert resolve_within(res, proj / ".").found == found.found  # again, not from a memo
