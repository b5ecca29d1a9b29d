"""What a tool module sees of one directory level, and what it answers.

Each tool module (uv, poetry, pipenv, pdm, hatch) has ``find(level) -> Finding | None``:
whether the directory is that tool's project and which venv the tool would use there,
computed from the files the tool itself reads (reference/tool-venvs.md), never by
running it. ``ToolLevel`` reads those files (small, no symlinks followed, parsed TOML
cached by stat) and records each path the answer depends on, for the daemon's watches.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from typing import Any

from shellhook import locations
from shellhook.files import is_venv_dir, parse_toml, read_small_file
from shellhook.toolenv import is_tool_variable

MAX_TOML_BYTES = 256 * 1024  # pyproject.toml files of large projects stay far below
MAX_CACHED_TOML = 512

DEP_FILE = "file"  # a file whose content the answer depends on
DEP_DIR = "dir"  # a directory whose entries the answer depends on (a venv store)

Table = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One tool's answer for a directory that is its project.

    ``venv`` is the venv the tool uses there (None: the tool's project, but no venv to
    activate). ``early`` findings are project-declared (DESIGN §2 rule 2) and come before
    ``.venv``/``venv``; the others (rule 4) after. ``declared_by``/``declared`` are the file
    and content that name the venv (trust binds to them, as to a pointer file); ``store``
    is the tool's own venv store holding it. ``skip`` are in-project names the tool does
    not use here (poetry's ``in-project = false``). ``defer`` is another directory whose
    answer this one takes (a uv workspace member defers to its workspace root).
    """

    tool: str
    how: str = ""
    venv: str | None = None
    early: bool = False
    declared_by: str | None = None
    declared: bytes | None = None
    store: str | None = None
    skip: tuple[str, ...] = ()
    defer: str | None = None
    reach: int | None = None  # levels below it that still find it (pipenv's max depth)


_toml_cache: dict[str, tuple[tuple[int, int, int], Table]] = {}


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_toml(path: str) -> Table | None:
    """The parsed TOML file at ``path`` (cached while its stat is unchanged); None when it
    does not exist or cannot be read; an empty table when it does not parse (the tool
    would refuse it too)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    cached = _toml_cache.get(path)
    if cached is not None and cached[0] == _stamp(st):
        return cached[1]
    try:
        data = parse_toml(read_small_file(path, MAX_TOML_BYTES))
    except OSError:
        return None
    except ValueError:
        data = {}
    if len(_toml_cache) >= MAX_CACHED_TOML:
        _toml_cache.clear()
    _toml_cache[path] = (_stamp(st), data)
    return data


def table(data: Any, *keys: str) -> Table:
    """``data[k1][k2]...`` when each is a table, else an empty one."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def text(data: Table, key: str) -> str | None:
    """``data[key]`` when it is a non-empty string."""
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def b64_digest(digest: bytes, length: int | None = 8) -> str:
    """The URL-safe base64 of ``digest``, cut to ``length`` characters (the tools' ids)."""
    encoded = base64.urlsafe_b64encode(digest).decode()
    return encoded if length is None else encoded[:length]


def sha256(data: str) -> bytes:
    """SHA-256 of ``data`` as the tools encode paths (UTF-8, undecodable bytes kept)."""
    return hashlib.sha256(os.fsencode(data)).digest()


class ToolLevel:
    """One directory level D as the tools see it, under the asking shell's scope."""

    def __init__(self, d: str, env: dict[str, str], home: str, workon_home: str | None):
        self.d = d
        self._env = env
        self.home = home
        self.workon_home = workon_home  # the shell's $WORKON_HOME when it set one
        self.depends: list[tuple[str, str]] = []
        self._real: str | None = None
        self._tomls: dict[str, Table | None] = {}

    @property
    def real(self) -> str:
        """D's physical path (the tools hash it: they start from ``getcwd()``)."""
        if self._real is None:
            self._real = os.path.realpath(self.d)
        return self._real

    def path(self, name: str) -> str:
        """``D/name``."""
        return os.path.join(self.d, name)

    def exists(self, name: str) -> bool:
        """Whether ``D/name`` exists (without following a final symlink)."""
        return os.path.lexists(self.path(name))

    def env(self, name: str) -> str | None:
        """The shell's value of tool variable ``name`` when set and not empty; ``name``
        must be one the hooks send (toolenv.VARIABLES)."""
        if not is_tool_variable(name):
            raise KeyError(f"{name} is not in toolenv.VARIABLES: no shell sends it")
        return self._env.get(name) or None

    def truthy(self, name: str) -> bool | None:
        """A boolean tool variable: True/False for the usual spellings, None if unset."""
        value = self.env(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on", "y"):
            return True
        if lowered in ("0", "false", "no", "off", "n"):
            return False
        return None

    def toml(self, path: str) -> Table | None:
        """The TOML file at ``path`` (D-relative names allowed); recorded as a dependency
        when it exists."""
        full = path if os.path.isabs(path) else self.path(path)
        if full in self._tomls:
            return self._tomls[full]
        data = self._tomls[full] = read_toml(full)
        if data is not None:
            self.depends.append((full, DEP_FILE))
        return data

    def read(self, name: str, limit: int = 4096) -> bytes | None:
        """The content of the small file ``D/name``, recorded as a dependency."""
        try:
            data = read_small_file(self.path(name), limit)
        except OSError:
            return None
        self.depends.append((self.path(name), DEP_FILE))
        return data

    def user_dir(self, kind: str, app: str) -> str:
        """The tool ``app``'s user ``kind`` dir as the shell sees it (locations.py)."""
        return locations.user_dir_of(kind, app, self._env, self.home)

    def expand(self, value: str) -> str:
        """``~`` and ``$VAR`` expanded with the shell's home and variables."""
        if value == "~" or value.startswith("~/"):
            value = self.home + value[1:]
        if "$" in value:
            env = {"HOME": self.home, **self._env}
            value = _expandvars(value, env)
        return value

    def store_entries(self, store: str, prefix: str) -> list[str]:
        """The venvs in ``store`` whose names start with ``prefix``, sorted. The store's
        entries are a dependency (or, while it does not exist, its nearest existing
        ancestor's: creating it is heard)."""
        probe = store
        while not os.path.isdir(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                return []
            probe = parent
        self.depends.append((probe, DEP_DIR))
        if probe != store:
            return []
        try:
            with os.scandir(store) as it:
                names = sorted(e.name for e in it if e.name.startswith(prefix))
        except OSError:
            return []
        return [os.path.join(store, n) for n in names if is_venv_dir(os.path.join(store, n))]


def _expandvars(value: str, env: dict[str, str]) -> str:
    """``os.path.expandvars`` against ``env`` rather than this process's environment."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return re.sub(r"\$(\w+)|\$\{([^}]*)\}", sub, value)


def canonical_name(name: str) -> str:
    """A project name normalized as PEP 503 (and poetry, hatch) do."""
    return re.sub(r"[-_.]+", "-", name).lower()
