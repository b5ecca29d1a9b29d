"""Choosing the Python a new venv is built from (``mkvenv -p``, ``.python-version``,
``requires-python``).

The pieces are small and mostly pure, so they can be tested without any Python
installed: a PEP 440 specifier parser for the forms ``requires-python`` uses, request
parsing, and ranking of candidates. Discovery looks at ``pythonX.Y`` files on PATH and
in pyenv's versions directory without running them; ``uv python find`` is asked only
when those have nothing that matches, and an interpreter is run (once, to learn its
version) only when a request cannot be judged from file names.

Precedence, as uv and pyenv do it: ``-p`` > ``.python-version`` > ``requires-python`` >
the default ``python3`` on PATH (skipping the active venv's ``bin``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Callable

from shellhook.display import path_for_terminal
from shellhook.errors import ShellhookError, UsageError
from shellhook.files import parse_toml, read_small_file

Version = tuple[int, ...]

_OPS = ("===", "~=", "==", "!=", "<=", ">=", "<", ">")
_CLAUSE = re.compile(r"^\s*(===|~=|==|!=|<=|>=|<|>)\s*(\S+?)\s*$")
# A PEP 440 version: epoch, release, then pre/post/dev/local parts that we ignore for
# interpreters (their versions are final releases: 3.12.1, never 3.12.1rc1 on purpose).
_VERSION = re.compile(
    r"^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?P<rest>(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview|post|rev|r|dev)[-_.]?\d*)*)"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$",
    re.IGNORECASE,
)
_VERSION_REQUEST = re.compile(r"^(?:(?:cpython|python)[-@]?)?(\d+(?:\.\d+){0,2})$", re.I)
_PYTHON_XY = re.compile(r"^python(\d+)\.(\d+)$")
_PYENV_CPYTHON = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
HUGE_PATCH = 10**6


class SpecifierError(UsageError, ValueError):
    """A version specifier we cannot read."""


class NoInterpreter(ShellhookError):
    """No interpreter matches a request; ``str()`` says what was looked for and where."""


# -- version specifiers ---------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One ``op version`` part of a specifier set such as ``>=3.9,<4``."""

    op: str
    release: Version
    wildcard: bool = False
    text: str = ""  # the version as written (``===`` compares it as a string)


def parse_version(text: str) -> Version:
    """The release numbers of a PEP 440 version (``3.12.0rc1`` -> ``(3, 12, 0)``)."""
    m = _VERSION.match(text.strip())
    if not m or int(m.group("epoch") or 0) != 0:
        raise SpecifierError(f"not a version: {text!r}")
    return tuple(int(part) for part in m.group("release").split("."))


def parse_specifiers(text: str) -> tuple[Clause, ...]:
    """Parse ``requires-python``-style text: comma-separated ``op version`` clauses.

    Supports every PEP 440 operator; pre-, post- and dev-release parts of the versions
    written in the specifier are ignored (interpreters are final releases).
    """
    clauses = []
    for part in text.split(","):
        if not part.strip():
            if text.strip():
                raise SpecifierError(f"empty clause in {text!r}")
            continue
        m = _CLAUSE.match(part)
        if not m:
            raise SpecifierError(f"not a version specifier: {part.strip()!r}")
        op, version = m.groups()
        if op == "===":
            clauses.append(Clause(op, (), text=version))
            continue
        wildcard = version.endswith(".*")
        if wildcard:
            if op not in ("==", "!="):
                raise SpecifierError(f"'.*' is only allowed with == and !=: {part.strip()!r}")
            version = version[:-2]
        release = parse_version(version)
        if op == "~=" and len(release) < 2:
            raise SpecifierError(f"~= needs at least two version parts: {part.strip()!r}")
        clauses.append(Clause(op, release, wildcard, version))
    return tuple(clauses)


def _padded(a: Version, b: Version) -> tuple[Version, Version]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def _compare(a: Version, b: Version) -> int:
    a, b = _padded(a, b)
    return (a > b) - (a < b)


def clause_allows(clause: Clause, version: Version) -> bool:
    """True when the final release ``version`` satisfies ``clause``."""
    op, rel = clause.op, clause.release
    if op == "===":
        return ".".join(map(str, version)) == clause.text
    if op in ("==", "!="):
        if clause.wildcard:
            padded = version + (0,) * max(0, len(rel) - len(version))
            equal = padded[: len(rel)] == rel
        else:
            equal = _compare(version, rel) == 0
        return equal if op == "==" else not equal
    if op == "~=":
        prefix = rel[:-1]
        padded = version + (0,) * max(0, len(prefix) - len(version))
        return _compare(version, rel) >= 0 and padded[: len(prefix)] == prefix
    cmp = _compare(version, rel)
    return {">=": cmp >= 0, "<=": cmp <= 0, ">": cmp > 0, "<": cmp < 0}[op]


def satisfies(clauses: tuple[Clause, ...], version: Version) -> bool:
    """True when ``version`` satisfies every clause."""
    return all(clause_allows(c, version) for c in clauses)


def _patch_samples(clauses: tuple[Clause, ...], minor: Version) -> list[Version]:
    """One release X.Y.p in every range of p where the clauses' answer is constant."""
    patches = {0, HUGE_PATCH}
    for c in clauses:
        if len(c.release) >= 3 and c.release[:2] == minor[:2]:
            patches.update({c.release[2], c.release[2] + 1, max(c.release[2] - 1, 0)})
    return [minor[:2] + (p,) for p in sorted(patches)]


def may_satisfy(clauses: tuple[Clause, ...], version: Version) -> bool:
    """True when some release starting with ``version`` (e.g. some 3.12.x) satisfies.

    Used for interpreters known only as ``pythonX.Y``: clauses are unions of intervals,
    so checking one patch number in each interval between the boundaries the clauses
    mention is exact.
    """
    if len(version) >= 3:
        return satisfies(clauses, version)
    if len(version) < 2:
        return False
    return any(satisfies(clauses, s) for s in _patch_samples(clauses, version))


def must_satisfy(clauses: tuple[Clause, ...], version: Version) -> bool:
    """True when every release starting with ``version`` satisfies (see may_satisfy)."""
    if len(version) >= 3:
        return satisfies(clauses, version)
    if len(version) < 2:
        return False
    return all(satisfies(clauses, s) for s in _patch_samples(clauses, version))


# -- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What the user (or the project) asked for."""

    kind: str  # "default", "path", "version", "spec", "name"
    text: str = ""
    origin: str = ""  # "-p", ".python-version in DIR", "requires-python in FILE"
    prefix: Version = ()
    clauses: tuple[Clause, ...] = ()

    def describe(self) -> str:
        """For messages: ``Python 3.12 (from .python-version in ~/proj)``."""
        what = "the default python3" if self.kind == "default" else f"Python {self.text}"
        return f"{what} (from {self.origin})" if self.origin else what


DEFAULT = Request("default")


def parse_request(text: str, origin: str = "") -> Request:
    """Read ``-p`` / ``.python-version`` text: a path, version, specifier or name.

    ``3.12``, ``python3.12``, ``cpython@3.12.1`` are versions (prefix match);
    ``>=3.10,<3.13`` a specifier; anything with ``/`` a path; ``system`` the default;
    anything else a name (a command such as ``pypy3``, or a pyenv version name).
    """
    text = text.strip()
    if not text:
        raise SpecifierError("empty Python request")
    if "/" in text or text == "~":
        return Request("path", os.path.expanduser(text), origin)
    if text == "system":
        return Request("default", text, origin)
    m = _VERSION_REQUEST.match(text)
    if m:
        return Request(
            "version", m.group(1), origin, prefix=tuple(int(p) for p in m.group(1).split("."))
        )
    if text[0] in "<>=!~":
        return Request("spec", text, origin, clauses=parse_specifiers(text))
    if any(ch.isspace() for ch in text) or text.startswith("-"):
        raise SpecifierError(f"not a Python version, path or name: {text!r}")
    return Request("name", text, origin)


@dataclass(frozen=True)
class ProjectPython:
    """What a project says about its Python, and problems reading it."""

    request: Request | None = None  # from .python-version, else requires-python
    requires: Request | None = None  # requires-python, to check a choice against
    warnings: tuple[str, ...] = ()


def read_python_version_file(path: str) -> str | None:
    """The first version named in a pyenv/uv ``.python-version`` file, or None."""
    try:
        text = read_small_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            return line
    return None


def read_requires_python(pyproject: str) -> str | None:
    """``[project] requires-python`` from a pyproject.toml, or None."""
    try:
        data = parse_toml(read_small_file(pyproject, 1 << 20))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SpecifierError(f"cannot read {path_for_terminal(pyproject)}: {exc}") from None
    project = data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def project_python(start: str, root: str) -> ProjectPython:
    """The project's wish: ``.python-version`` (``start`` up to ``root``), ``requires-python``."""
    warnings = []
    requires = None
    pyproject = os.path.join(root, "pyproject.toml")
    try:
        spec = read_requires_python(pyproject)
        if spec is not None:
            requires = Request(
                "spec",
                spec.strip(),
                f"requires-python in {path_for_terminal(pyproject)}",
                clauses=parse_specifiers(spec),
            )
    except SpecifierError as exc:
        warnings.append(f"ignoring requires-python: {exc}")
    request = None
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, ".python-version")
        text = read_python_version_file(candidate)
        if text is not None:
            try:
                request = parse_request(text, f".python-version in {path_for_terminal(directory)}")
            except SpecifierError as exc:
                warnings.append(f"ignoring {path_for_terminal(candidate)}: {exc}")
            break
        parent = os.path.dirname(directory)
        if directory == root or parent == directory or not directory.startswith(root):
            break
        directory = parent
    return ProjectPython(request or requires, requires, tuple(warnings))


# -- candidates and ranking -------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    """An interpreter we could build a venv from."""

    path: str
    version: Version = ()  # as precise as known: (3, 12) from a name, (3, 12, 1) from pyenv
    source: str = "PATH"  # "PATH", "pyenv", "uv", "default", "path"

    def describe(self) -> str:
        """``Python 3.12 (/usr/bin/python3.12)``."""
        version = ".".join(map(str, self.version))
        name = f"Python {version}" if version else "Python"
        return f"{name} ({path_for_terminal(self.path)})"


def _matches(request: Request, version: Version) -> tuple[bool, bool]:
    """(may match, certainly matches) for an interpreter of (maybe partial) ``version``."""
    if request.kind == "version":
        prefix = request.prefix
        if len(version) >= len(prefix):
            ok = version[: len(prefix)] == prefix
            return ok, ok
        ok = len(version) >= 2 and prefix[: len(version)] == version
        return ok, False
    if request.kind == "spec":
        return (may_satisfy(request.clauses, version), must_satisfy(request.clauses, version))
    return False, False


def rank(
    request: Request, candidates: list[Interpreter], default: Interpreter | None = None
) -> list[Interpreter]:
    """Candidates that match a version or specifier request, best first.

    The default interpreter wins when it matches (least surprise: it is what ``python3``
    runs); then exact matches before ones known only by ``X.Y``, newer before older,
    PATH before pyenv for the same version (the input order).
    """
    scored = []
    for index, cand in enumerate(candidates):
        may, certain = _matches(request, cand.version)
        if may:
            scored.append((certain, cand.version + (0,) * (3 - len(cand.version)), -index, cand))
    scored.sort(key=lambda item: item[:3], reverse=True)
    ranked = [item[3] for item in scored]
    if default is not None and default.version and _matches(request, default.version)[1]:
        ranked = [default] + [
            c for c in ranked if os.path.realpath(c.path) != os.path.realpath(default.path)
        ]
    return ranked


def is_shim_dir(directory: str) -> bool:
    """pyenv/asdf/mise shims pick a version from their own config: not a fixed version."""
    return os.path.basename(directory.rstrip("/")) == "shims"


def path_dirs(path_env: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Absolute PATH entries, minus ``skip`` (the active venv's bin); never ``.`` or ''."""
    skipped = {os.path.normpath(s) for s in skip if s}
    out = []
    for d in path_env.split(os.pathsep):
        if d and os.path.isabs(d) and os.path.normpath(d) not in skipped and d not in out:
            out.append(d)
    return out


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_on_path(dirs: list[str]) -> list[Interpreter]:
    """Every ``pythonX.Y`` in ``dirs`` (shim directories skipped), in PATH order."""
    found, seen = [], set()
    for d in dirs:
        if is_shim_dir(d):
            continue
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            m = _PYTHON_XY.match(name)
            path = os.path.join(d, name)
            if m and _executable(path):
                real = os.path.realpath(path)
                if real not in seen:
                    seen.add(real)
                    found.append(Interpreter(path, (int(m.group(1)), int(m.group(2))), "PATH"))
    return found


def pyenv_root(env: dict[str, str]) -> str | None:
    """``$PYENV_ROOT`` or ``~/.pyenv`` when it has a versions directory."""
    root = env.get("PYENV_ROOT") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".pyenv"
    )
    return root if os.path.isdir(os.path.join(root, "versions")) else None


def find_in_pyenv(root: str | None) -> list[Interpreter]:
    """CPython versions installed by pyenv (``versions/3.12.1/bin/python3.12``)."""
    if root is None:
        return []
    versions = os.path.join(root, "versions")
    try:
        names = os.listdir(versions)
    except OSError:
        return []
    found = []
    for name in names:
        m = _PYENV_CPYTHON.match(name)
        if not m:
            continue
        path = os.path.join(versions, name, "bin", f"python{m.group(1)}.{m.group(2)}")
        if _executable(path):
            found.append(Interpreter(path, tuple(int(g) for g in m.groups()), "pyenv"))
    found.sort(key=lambda i: i.version, reverse=True)
    return found


def probe(path: str) -> Interpreter | None:
    """Run ``path`` once to learn its real executable and version (None if it fails)."""
    code = "import sys; print(sys.executable); print(*sys.version_info[:3], sep='.')"
    try:
        proc = subprocess.run(
            [path, "-I", "-c", code],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < 2:
        return None
    try:
        version = tuple(int(p) for p in lines[1].split("."))
    except ValueError:
        return None
    executable = lines[0] if os.path.isabs(lines[0]) else path
    return Interpreter(executable, version, "default")


def uv_python_find(uv: str, request: str) -> str | None:
    """``uv python find REQUEST`` (no download): an interpreter path, or None."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    try:
        proc = subprocess.run(
            [uv, "python", "find", "--", request],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return path if proc.returncode == 0 and os.path.isabs(path) else None


def _version_from_name(path: str) -> Version:
    for candidate in (path, os.path.realpath(path)):
        m = _PYTHON_XY.match(os.path.basename(candidate))
        if m:
            return (int(m.group(1)), int(m.group(2)))
    return ()


@dataclass
class Finder:
    """Finds interpreters for requests; every outside effect is injectable for tests."""

    path_env: str = ""
    skip_dirs: tuple[str, ...] = ()
    pyenv: str | None = None
    uv: str | None = None
    run_probe: Callable[[str], Interpreter | None] = probe
    run_uv_find: Callable[[str, str], str | None] = uv_python_find
    _candidates: list[Interpreter] | None = field(default=None, repr=False)
    _default: Interpreter | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None, uv: str | None = None) -> Finder:
        """A finder for this process's PATH, skipping the active venv's bin."""
        env = dict(os.environ if env is None else env)
        venv = env.get("VIRTUAL_ENV", "")
        return cls(
            path_env=env.get("PATH", os.defpath),
            skip_dirs=(os.path.join(venv, "bin"),) if venv else (),
            pyenv=pyenv_root(env),
            uv=uv,
        )

    def candidates(self) -> list[Interpreter]:
        """``pythonX.Y`` on PATH, then pyenv's CPython versions."""
        if self._candidates is None:
            dirs = path_dirs(self.path_env, self.skip_dirs)
            self._candidates = find_on_path(dirs) + find_in_pyenv(self.pyenv)
        return self._candidates

    def default(self, need_version: bool = False) -> Interpreter | None:
        """``python3`` (else ``python``) on PATH; probed when its version is needed."""
        if self._default is None:
            path = None
            for name in ("python3", "python"):
                path = shutil.which(
                    name, path=os.pathsep.join(path_dirs(self.path_env, self.skip_dirs))
                )
                if path:
                    break
            if path is None:
                return None
            self._default = Interpreter(path, _version_from_name(path), "default")
        if need_version and not self._default.version:
            probed = self.run_probe(self._default.path)
            if probed is not None:
                self._default = probed
        return self._default

    def find(self, request: Request) -> Interpreter:
        """The interpreter for ``request``; NoInterpreter says what was looked for."""
        if request.kind == "default":
            found = self.default()
            if found is None:
                raise NoInterpreter("no python3 on PATH; use -p to name one")
            return found
        if request.kind == "path":
            if _executable(request.text):
                return Interpreter(request.text, _version_from_name(request.text), "path")
            raise NoInterpreter(f"{path_for_terminal(request.text)} is not an executable file")
        if request.kind == "name":
            dirs = path_dirs(self.path_env, self.skip_dirs)
            path = shutil.which(request.text, path=os.pathsep.join(dirs))
            if path:
                return Interpreter(path, _version_from_name(path), "PATH")
            if self.pyenv:
                path = os.path.join(self.pyenv, "versions", request.text, "bin", "python")
                if _executable(path):
                    return Interpreter(path, (), "pyenv")
        else:
            ranked = rank(request, self.candidates(), self.default(need_version=True))
            if ranked:
                return ranked[0]
        if self.uv:
            path = self.run_uv_find(self.uv, request.text)
            if path:
                return Interpreter(path, (), "uv")
        where = "PATH" + (", pyenv" if self.pyenv else "") + (", uv" if self.uv else "")
        raise NoInterpreter(f"no interpreter for {request.describe()} found on {where}")
