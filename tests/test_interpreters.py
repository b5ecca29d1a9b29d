"""Interpreter selection for mkvenv: specifiers, requests, ranking, discovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shellhook import interpreters as it
from shellhook.interpreters import (
    Finder,
    Interpreter,
    NoInterpreter,
    SpecifierError,
    may_satisfy,
    parse_request,
    parse_specifiers,
    project_python,
    rank,
    satisfies,
)


def v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


# -- specifiers -------------------------------------------------------------------------

CASES = [
    (">=3.9", {"3.9.0": True, "3.8.18": False, "3.13.0": True, "3.9": True}),
    (">=3.9,<4", {"3.9.0": True, "3.12.1": True, "4.0.0": False, "3.8.0": False}),
    (" >= 3.9 , < 4 ", {"3.9.0": True, "4.0": False}),
    ("~=3.10", {"3.10.0": True, "3.11.5": True, "3.9.9": False, "4.0.0": False}),
    ("~=3.10.2", {"3.10.1": False, "3.10.2": True, "3.10.9": True, "3.11.0": False}),
    ("==3.11.*", {"3.11.7": True, "3.11.0": True, "3.12.0": False, "3.1.1": False}),
    ("!=3.9.*", {"3.9.1": False, "3.10.0": True}),
    ("==3.11", {"3.11.0": True, "3.11.1": False}),
    ("!=3.11.0", {"3.11.0": False, "3.11.1": True}),
    (">3.8", {"3.8.0": False, "3.8.1": True, "3.9.0": True}),
    ("<3.12", {"3.11.9": True, "3.12.0": False}),
    ("<=3.12", {"3.12.0": True, "3.12.1": False}),
    ("===3.11.4", {"3.11.4": True, "3.11.5": False}),
    (">=3.10.0rc1", {"3.10.0": True, "3.9.9": False}),
    (">=3.8, !=3.9.0, !=3.9.1", {"3.9.0": False, "3.9.2": True, "3.8.0": True}),
    ("", {"2.7.18": True, "3.13.0": True}),
]


@pytest.mark.parametrize("spec,expected", CASES)
def test_specifier_semantics(spec, expected):
    clauses = parse_specifiers(spec)
    for version, ok in expected.items():
        assert satisfies(clauses, v(version)) is ok, (spec, version)


@pytest.mark.parametrize("spec,expected", CASES)
def test_agrees_with_packaging(spec, expected):
    specifiers = pytest.importorskip("packaging.specifiers")
    reference = specifiers.SpecifierSet(spec)
    clauses = parse_specifiers(spec)
    for version in list(expected) + ["3.6.15", "3.10.13", "3.12.1", "3.13.0", "4.1.0"]:
        assert satisfies(clauses, v(version)) == reference.contains(version), (spec, version)


@pytest.mark.parametrize(
    "bad", [">=", "3.9", ">=3.9,", "~=3", ">=3.*", "=>3.9", "==3.x", ">=3.9 <4", "1!2.0"]
)
def test_bad_specifiers(bad):
    with pytest.raises(SpecifierError):
        parse_specifiers(bad)


@pytest.mark.parametrize(
    "spec,minor,ok",
    [
        (">=3.10.4", "3.10", True),
        (">=3.10.4,<3.10.5", "3.10", True),
        ("==3.10.4", "3.10", True),
        ("==3.10.4", "3.11", False),
        (">=3.11", "3.10", False),
        ("!=3.10.*", "3.10", False),
        ("~=3.10.2", "3.11", False),
        (">3.10.999999", "3.10", True),
        ("<3.10.0", "3.10", False),
    ],
)
def test_may_satisfy_a_minor_version(spec, minor, ok):
    assert may_satisfy(parse_specifiers(spec), v(minor)) is ok


# -- requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,kind,detail",
    [
        ("3.12", "version", (3, 12)),
        ("3", "version", (3,)),
        ("python3.12", "version", (3, 12)),
        ("cpython@3.12.1", "version", (3, 12, 1)),
        ("cpython-3.11", "version", (3, 11)),
        (">=3.10,<3.13", "spec", None),
        ("~=3.11", "spec", None),
        ("==3.12.*", "spec", None),
        ("/usr/bin/python3", "path", None),
        ("./venv/bin/python", "path", None),
        ("system", "default", None),
        ("pypy3", "name", None),
        ("pypy3.10-7.3.12", "name", None),
    ],
)
def test_parse_request(text, kind, detail):
    req = parse_request(text, "-p")
    assert req.kind == kind and req.origin == "-p"
    if kind == "version":
        assert req.prefix == detail


def test_parse_request_expands_home():
    assert parse_request("~/py/bin/python").text == os.path.expanduser("~/py/bin/python")


@pytest.mark.parametrize("bad", ["", "  ", "a b", "-x", ">=3.x"])
def test_parse_request_refuses(bad):
    with pytest.raises(SpecifierError):
        parse_request(bad)


# -- ranking --------------------------------------------------------------------------

PY313 = Interpreter("/p/python3.13", (3, 13), "PATH")
PY311 = Interpreter("/usr/bin/python3.11", (3, 11), "PATH")
PY3121 = Interpreter("/pyenv/versions/3.12.1/bin/python3.12", (3, 12, 1), "pyenv")
PY31013 = Interpreter("/pyenv/versions/3.10.13/bin/python3.10", (3, 10, 13), "pyenv")
CANDIDATES = [PY313, PY311, PY3121, PY31013]
DEFAULT = Interpreter("/usr/bin/python3", (3, 11, 7), "default")


@pytest.mark.parametrize(
    "request_text,best",
    [
        (">=3.9", DEFAULT),  # the default python3 wins when it fits
        (">=3.12", PY313),  # else the newest that fits
        ("<3.12,>=3.10", DEFAULT),
        ("<3.11", PY31013),
        ("3.12", PY3121),
        ("3.10", PY31013),
        ("3", DEFAULT),
        ("~=3.12.0", PY3121),
    ],
)
def test_rank(request_text, best):
    ranked = rank(parse_request(request_text), CANDIDATES, DEFAULT)
    assert ranked[0] == best


def test_rank_nothing_matches():
    assert rank(parse_request("3.9"), CANDIDATES, DEFAULT) == []
    assert rank(parse_request(">=3.14"), CANDIDATES, DEFAULT) == []


def test_rank_prefers_exact_patch_over_minor_only():
    minor_only = Interpreter("/p/python3.12", (3, 12), "PATH")
    ranked = rank(parse_request("3.12.1"), [minor_only, PY3121])
    assert ranked == [PY3121, minor_only]


def test_rank_default_not_duplicated():
    same = Interpreter("/usr/bin/python3", (3, 11), "PATH")
    ranked = rank(parse_request("3.11"), [same], DEFAULT)
    assert ranked == [DEFAULT]


# -- discovery (fake executables; nothing is ever run) ----------------------------------


def fake_exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_pythons(tmp_path):
    d1, shims, d3, venv_bin = (
        tmp_path / "d1",
        tmp_path / "pyenv" / "shims",
        tmp_path / "d3",
        tmp_path / "venv" / "bin",
    )
    fake_exe(d1 / "python3.11")
    (d1 / "python3").symlink_to("python3.11")
    fake_exe(shims / "python3.12")  # a shim: not a fixed version
    fake_exe(d3 / "python3.13")
    fake_exe(d3 / "python3.13-config")
    (d3 / "python3.9").write_text("")  # not executable
    fake_exe(venv_bin / "python3.14")
    fake_exe(venv_bin / "python3")
    root = tmp_path / "pyenv"
    fake_exe(root / "versions" / "3.12.1" / "bin" / "python3.12")
    fake_exe(root / "versions" / "3.10.13" / "bin" / "python3.10")
    fake_exe(root / "versions" / "pypy3.10-7.3.12" / "bin" / "python")
    path_env = os.pathsep.join(["relative", str(venv_bin), str(d1), str(shims), str(d3)])

    def no_probe(path):
        raise AssertionError(f"must not run {path}")

    return Finder(
        path_env=path_env,
        skip_dirs=(str(venv_bin),),
        pyenv=str(root),
        run_probe=no_probe,
        run_uv_find=lambda uv, req: None,
    ), tmp_path


def test_candidates_skip_shims_venv_and_non_executables(fake_pythons):
    finder, tmp = fake_pythons
    found = [(os.path.relpath(c.path, tmp), c.version, c.source) for c in finder.candidates()]
    assert found == [
        ("d1/python3.11", (3, 11), "PATH"),
        ("d3/python3.13", (3, 13), "PATH"),
        ("pyenv/versions/3.12.1/bin/python3.12", (3, 12, 1), "pyenv"),
        ("pyenv/versions/3.10.13/bin/python3.10", (3, 10, 13), "pyenv"),
    ]


def test_default_is_python3_outside_the_active_venv(fake_pythons):
    finder, tmp = fake_pythons
    default = finder.find(it.DEFAULT)
    assert default.path == str(tmp / "d1" / "python3")
    assert default.version == (3, 11)  # from the symlink's target name, without running it


@pytest.mark.parametrize(
    "request_text,expected",
    [
        ("3.12", "pyenv/versions/3.12.1/bin/python3.12"),
        (">=3.12", "d3/python3.13"),
        (">=3.9", "d1/python3"),
        ("3.10", "pyenv/versions/3.10.13/bin/python3.10"),
        ("pypy3.10-7.3.12", "pyenv/versions/pypy3.10-7.3.12/bin/python"),
        ("python3.13", "d3/python3.13"),
    ],
)
def test_find(fake_pythons, request_text, expected):
    finder, tmp = fake_pythons
    assert finder.find(parse_request(request_text)).path == str(tmp / expected)


def test_find_path_request(fake_pythons):
    finder, tmp = fake_pythons
    exe = tmp / "d3" / "python3.13"
    assert finder.find(parse_request(str(exe))).path == str(exe)
    with pytest.raises(NoInterpreter, match="not an executable"):
        finder.find(parse_request(str(tmp / "d3" / "python3.9")))


def test_find_nothing_says_where_it_looked(fake_pythons):
    finder, _ = fake_pythons
    with pytest.raises(NoInterpreter, match=r"Python 3\.9 \(from -p\).*PATH, pyenv"):
        finder.find(parse_request("3.9", "-p"))


def test_find_asks_uv_last(fake_pythons):
    finder, _ = fake_pythons
    asked = []
    finder.uv = "/bin/uv"
    finder.run_uv_find = lambda uv, req: asked.append((uv, req)) or "/uv/python3.9"
    assert finder.find(parse_request("3.12")).source == "pyenv"  # found before uv
    found = finder.find(parse_request("3.9"))
    assert (found.path, found.source) == ("/uv/python3.9", "uv")
    assert asked == [("/bin/uv", "3.9")]


def test_default_is_probed_only_when_its_version_matters(tmp_path):
    fake_exe(tmp_path / "bin" / "python3")  # a script: its name tells no version
    fake_exe(tmp_path / "bin" / "python3.12")
    probed = []

    def probe(path):
        probed.append(path)
        return Interpreter("/real/python3.12", (3, 12, 4), "default")

    finder = Finder(path_env=str(tmp_path / "bin"), run_probe=probe)
    assert finder.find(it.DEFAULT).path == str(tmp_path / "bin" / "python3")
    assert probed == []
    assert finder.find(parse_request(">=3.10")).path == "/real/python3.12"
    assert probed == [str(tmp_path / "bin" / "python3")]


def test_probe_a_real_interpreter():
    import sys

    found = it.probe(sys.executable)
    assert found is not None and found.version == tuple(sys.version_info[:3])
    assert it.probe("/nonexistent/python") is None


# -- what the project asks for ------------------------------------------------------------


def test_project_requires_python(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    found = project_python(str(tmp_path), str(tmp_path))
    assert found.request is not None and found.request.kind == "spec"
    assert found.request.text == ">=3.10" and found.requires == found.request
    assert "requires-python in" in found.request.origin


def test_python_version_file_wins_and_is_searched_up_to_the_root(tmp_path):
    (tmp_path / ".python-version").write_text("3.9\n")  # above the project: ignored
    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    assert project_python(str(root / "src" / "pkg"), str(root)).request.kind == "spec"
    (root / "src" / ".python-version").write_text("# pinned\n\n3.12.1  # comment\n3.11\n")
    found = project_python(str(root / "src" / "pkg"), str(root))
    assert found.request.kind == "version" and found.request.prefix == (3, 12, 1)
    assert found.requires is not None and found.requires.text == ">=3.10"


def test_project_problems_are_warnings(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.x"\n')
    (tmp_path / ".python-version").write_text("a b\n")
    found = project_python(str(tmp_path), str(tmp_path))
    assert found.request is None and len(found.warnings) == 2
    (tmp_path / "pyproject.toml").write_text("not toml [")
    assert "cannot read" in project_python(str(tmp_path), str(tmp_path)).warnings[0]


def test_no_project_wish(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert project_python(str(tmp_path), str(tmp_path)).request is None
