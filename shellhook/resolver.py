"""Which venv belongs to a directory (DESIGN §2), without running anything.

The resolver only lstat()s, lists directories and reads at most a few KiB of small
files. Results per directory level are cached; the daemon drops cache entries when
watchdog reports a change, the one-shot client uses a fresh resolver each time.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from shellhook import locations
from shellhook.files import read_small_file

MAX_POINTER_BYTES = 4096
MAX_SCAN_ENTRIES = 2000  # a level with more entries is not scanned for fancy-named venvs

RULE_POINTER = "pointer"
RULE_DOT_VENV = ".venv"
RULE_VENV = "venv"
RULE_CHILD = "child"
RULE_PROJECT_LINK = "project-link"


@dataclass(frozen=True)
class Resolution:
    """The answer for one directory: a venv (or a problem), and how it was found."""

    venv: str | None = None  # canonical absolute path of the venv directory
    project: str | None = None  # the directory D that yielded it, as walked
    rule: str | None = None
    detail: str = ""  # human description of the rule, e.g. ".venv pointer file -> name"
    pointer: bytes | None = None  # raw content of a pointer file, for trust binding
    pointer_path: str | None = None
    problem: str | None = None  # set when D declares a venv that cannot be used
    watch: tuple[str, ...] = field(default=(), compare=False)

    @property
    def found(self) -> bool:
        """True when a usable venv directory was found."""
        return self.venv is not None


def is_venv_dir(path: str) -> bool:
    """True when ``path`` is a directory holding a regular ``pyvenv.cfg``."""
    try:
        return stat.S_ISREG(os.stat(os.path.join(path, "pyvenv.cfg")).st_mode)
    except (OSError, ValueError):
        return False


def parse_pointer(data: bytes) -> str:
    """The target named by a pointer file's content; ValueError says what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8") from None
    if text.endswith("\n"):
        text = text[:-1]
    if not text.strip():
        raise ValueError("is empty")
    if "\n" in text or "\r" in text or "\0" in text:
        raise ValueError("must hold a single line")
    return text


def pointer_target(project: str, target: str, workon_home: str) -> tuple[str, bool]:
    """The venv path a pointer in ``project`` names (normalized, not resolved), and whether
    it is a bare name in ``workon_home``. ValueError for ``.`` and ``..``, which name
    directories, not venvs.

    The one rule for pointer files (DESIGN §2 rule 1): a bare name (no ``/``) is a venv
    in ``$WORKON_HOME``; anything else is a path relative to the project directory.
    """
    if target in (".", ".."):
        raise ValueError(f"names {target!r}, not a venv")
    if "/" in target:
        return os.path.normpath(os.path.join(project, os.path.expanduser(target))), False
    return os.path.join(workon_home, target), True


def read_pointer(path: str) -> tuple[bytes, str]:
    """The raw content of pointer file ``path`` and the target it names.

    OSError when it cannot be read (a symlink, not a regular file, too large);
    ValueError when its content is not one line of UTF-8.
    """
    data = read_small_file(path, MAX_POINTER_BYTES)
    return data, parse_pointer(data)


class Resolver:
    """Resolves directories to venvs, caching what it read per directory level."""

    def __init__(
        self, workon_home: Path | None = None, cacheable: Callable[[str], bool] | None = None
    ) -> None:
        self.workon_home = str(workon_home or locations.workon_home())
        # Only directories whose changes we hear about may be cached (the daemon's watches).
        self._cacheable = cacheable or (lambda _path: False)
        self._levels: dict[str, Resolution | None] = {}
        self._links: dict[str, str] | None = None

    def invalidate(self, path: str | None = None) -> None:
        """Forget cached knowledge about ``path`` (a changed directory), or everything."""
        if path is None:
            self._levels.clear()
            self._links = None
            return
        self._levels.pop(path, None)
        self._levels.pop(os.path.dirname(path), None)
        if path == self.workon_home or os.path.dirname(path) in (
            self.workon_home,
            os.path.dirname(self.workon_home),
        ):
            self._links = None
            self._levels.clear()

    def resolve(self, directory: str) -> Resolution:
        """Walk up from ``directory``; the innermost level that yields a venv wins."""
        current = os.path.abspath(directory)
        visited: list[str] = []
        while True:
            visited.append(current)
            if current in self._levels:
                level = self._levels[current]
            else:
                level = self._resolve_level(current)
                if self._cacheable(current):
                    self._levels[current] = level
            if level is not None:
                extra = (level.venv, os.path.join(level.venv, "bin")) if level.venv else ()
                return replace(level, watch=tuple(visited) + extra)
            parent = os.path.dirname(current)
            if parent == current:
                return Resolution(watch=tuple(visited))
            current = parent

    def _resolve_level(self, d: str) -> Resolution | None:
        pointer = os.path.join(d, ".venv")
        try:
            st = os.lstat(pointer)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            return self._from_pointer(d, pointer)
        for name, rule in ((".venv", RULE_DOT_VENV), ("venv", RULE_VENV)):
            candidate = os.path.join(d, name)
            if is_venv_dir(candidate):
                return Resolution(
                    venv=os.path.realpath(candidate),
                    project=d,
                    rule=rule,
                    detail=f"{name}/ directory",
                )
        child = self._fancy_child(d)
        if child is not None:
            return Resolution(
                venv=os.path.realpath(child),
                project=d,
                rule=RULE_CHILD,
                detail=f"{os.path.basename(child)}/ directory",
            )
        linked = self._project_links().get(d) or self._project_links().get(os.path.realpath(d))
        if linked is not None:
            return Resolution(
                venv=os.path.realpath(linked),
                project=d,
                rule=RULE_PROJECT_LINK,
                detail=f"{os.path.basename(linked)} in $WORKON_HOME links here (.project)",
            )
        return None

    def _from_pointer(self, d: str, pointer: str) -> Resolution:
        try:
            data, target = read_pointer(pointer)
        except OSError as exc:
            return Resolution(
                project=d,
                rule=RULE_POINTER,
                pointer_path=pointer,
                problem=f"cannot read pointer file {pointer}: {exc.strerror}",
            )
        except ValueError as exc:
            return Resolution(
                project=d,
                rule=RULE_POINTER,
                pointer_path=pointer,
                problem=f"pointer file {pointer} {exc}",
            )
        try:
            venv, named = pointer_target(d, target, self.workon_home)
        except ValueError as exc:
            return Resolution(
                project=d,
                rule=RULE_POINTER,
                pointer_path=pointer,
                pointer=data,
                problem=f"pointer file {pointer} {exc}",
            )
        if named:
            detail = f".venv pointer file -> {target} in $WORKON_HOME"
        else:
            detail = f".venv pointer file -> {target}"
        if not is_venv_dir(venv):
            return Resolution(
                project=d,
                rule=RULE_POINTER,
                pointer_path=pointer,
                pointer=data,
                problem=f"pointer file {pointer} names {venv}, which is not a venv",
            )
        return Resolution(
            venv=os.path.realpath(venv),
            project=d,
            rule=RULE_POINTER,
            detail=detail,
            pointer=data,
            pointer_path=pointer,
        )

    def _fancy_child(self, d: str) -> str | None:
        try:
            with os.scandir(d) as it:
                names = []
                for count, entry in enumerate(it):
                    if count >= MAX_SCAN_ENTRIES:
                        return None
                    if entry.name in (".venv", "venv"):
                        continue
                    try:
                        if entry.is_dir():
                            names.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            return None
        for name in sorted(names):
            path = os.path.join(d, name)
            if is_venv_dir(path):
                return path
        return None

    def _project_links(self) -> dict[str, str]:
        if self._links is not None:
            return self._links
        links = read_project_links(self.workon_home)
        if self._cacheable(self.workon_home):
            self._links = links
        return links


def read_project_links(workon_home: str) -> dict[str, str]:
    """Map project directory -> venv for every ``$WORKON_HOME/*/.project`` file."""
    links: dict[str, str] = {}
    try:
        entries = sorted(os.scandir(workon_home), key=lambda e: e.name)
    except OSError:
        return links
    for entry in entries[:MAX_SCAN_ENTRIES]:
        try:
            data = read_small_file(os.path.join(entry.path, ".project"))
            target = parse_pointer(data)
        except (OSError, ValueError):
            continue
        if not os.path.isabs(target) or not is_venv_dir(entry.path):
            continue
        for key in (os.path.normpath(target), os.path.realpath(target)):
            links.setdefault(key, entry.path)
    return links
