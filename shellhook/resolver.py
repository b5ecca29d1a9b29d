"""Which venv belongs to a directory (DESIGN §2), without running anything.

The resolver only lstat()s, lists directories and reads at most a few KiB of small
files. Results per directory level are cached; the daemon drops cache entries when
watchdog reports a change, the one-shot client uses a fresh resolver each time.

What an answer depends on besides the file system is a ``Scope``: ``$WORKON_HOME``,
``$HOME``, the temp dirs and the user's ``home_is_project``. They are the asking shell's
(DESIGN §2), so they are passed with each resolution rather than read from the
environment of whichever process resolves; cached levels are kept per scope.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

from shellhook import tools
from shellhook.files import is_venv_dir, read_small_file
from shellhook.toolenv import ToolEnv, tool_variables

MAX_POINTER_BYTES = 4096
MAX_ANSWERS = 4096  # whole answers memoized (see Resolver.resolve)
MAX_SCAN_ENTRIES = 2000  # a level with more entries is not scanned for fancy-named venvs

RULE_POINTER = "pointer"
RULE_DOT_VENV = ".venv"
RULE_VENV = "venv"
RULE_CHILD = "child"
RULE_PROJECT_LINK = "project-link"
RULE_TOOL = "tool"  # a venv tool's own rule (Resolution.tool names the tool)

# Why a candidate was passed over (PassedOver.kind).
PASSED_EXCLUDED = "excluded"  # found in a directory that is never a project
PASSED_STORE = "store"  # one of several venvs in one directory: a store, not a project
PASSED_FOREIGN = "foreign"  # a conda or pixi project: its tool activates it

SYSTEM_TEMP_DIRS = ("/tmp", "/var/tmp")


@dataclass(frozen=True)
class Scope:
    """The asking shell's side of a resolution: its variables and the user's config.

    ``stores`` are further venv stores that are never a project, as (path, what) pairs
    (besides the tools' stores, which ``tool_env`` places). ``tool_env`` holds the shell's
    variables the venv tools read (toolenv.py); ``workon_home_set`` whether the shell set
    ``$WORKON_HOME`` (pipenv then keeps its venvs there).
    """

    workon_home: str
    home: str = ""
    temp_dirs: tuple[str, ...] = SYSTEM_TEMP_DIRS
    home_is_project: bool = False
    stores: tuple[tuple[str, str], ...] = ()
    tool_env: ToolEnv = ()
    workon_home_set: bool = False

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        home_is_project: bool = False,
        stores: tuple[tuple[str, str], ...] = (),
    ) -> Scope:
        """The scope of a process with environment ``env`` (default: this one's).

        ``$WORKON_HOME`` (default ``$HOME/.virtualenvs``), ``$HOME`` and ``$TMPDIR`` are
        read from ``env`` only, and so are the tools' variables: a request carrying a
        shell's variables gets that shell's answer.
        """
        env = os.environ if env is None else env
        home = env.get("HOME") or os.path.expanduser("~")
        value = env.get("WORKON_HOME", "").strip()
        if not value:
            workon = os.path.join(home, ".virtualenvs")
        elif value == "~" or value.startswith("~/"):
            workon = home + value[1:]
        else:
            workon = os.path.expanduser(value)
        temps = list(SYSTEM_TEMP_DIRS)
        tmpdir = env.get("TMPDIR", "")
        if os.path.isabs(tmpdir):
            temps.append(tmpdir)
        return cls(
            workon_home=os.path.abspath(workon),
            home=os.path.abspath(home),
            temp_dirs=tuple(temps),
            home_is_project=home_is_project,
            stores=stores,
            tool_env=tool_variables(env),
            workon_home_set=bool(value),
        )

    def tool_level(self, d: str) -> tools.ToolLevel:
        """Directory ``d`` as the venv tools see it under this scope."""
        home = self.workon_home if self.workon_home_set else None
        return tools.ToolLevel(d, dict(self.tool_env), self.home, home)

    @functools.cached_property
    def excluded(self) -> dict[str, tuple[str, str]]:
        """Directories that are never a project, by their normalized and real paths: what
        each is (a phrase to follow "is") and how to make use of it anyway ('' if no way)."""
        why: dict[str, tuple[str, str]] = {}

        def add(path: str, what: str, hint: str = "") -> None:
            if path:
                for form in (os.path.normpath(path), os.path.realpath(path)):
                    why.setdefault(form, (what, hint))

        add("/", "the root directory")
        for store, what in (*self.stores, *tools.stores(self.tool_level("/"))):
            add(store, what)
        add(self.workon_home, "$WORKON_HOME, the store of named venvs", "use one: workon NAME")
        if not self.home_is_project:
            add(
                self.home,
                "your home directory",
                "home_is_project = true in the config makes it a project",
            )
        for temp in self.temp_dirs:
            add(temp, "a temporary directory")
        return why

    @functools.cached_property
    def excluded_ids(self) -> dict[tuple[int, int], tuple[str, str]]:
        """The excluded directories that exist, by (device, inode): a directory reached
        by a path of its own (a symlink to home) is excluded too."""
        ids: dict[tuple[int, int], tuple[str, str]] = {}
        for path, why in self.excluded.items():
            try:
                st = os.stat(path)
            except OSError:
                continue
            ids.setdefault((st.st_dev, st.st_ino), why)
        return ids


@dataclass(frozen=True)
class PassedOver:
    """A candidate the walk did not take, and why (for ``shellhook which``)."""

    kind: str  # PASSED_EXCLUDED or PASSED_STORE
    directory: str  # the level D, as walked
    venvs: tuple[str, ...]  # the venvs (or the pointer file) found there
    reason: str  # why D is not a project, a phrase after D ("is your home directory...")
    hint: str = ""  # how to use it anyway (stores: ``shellhook which`` says it per directory)


@dataclass(frozen=True)
class Resolution:
    """The answer for one directory: a venv (or a problem), and how it was found."""

    venv: str | None = None  # canonical absolute path of the venv directory
    found_as: str | None = None  # the venv's path as found, symlinks kept (None: ``venv``)
    project: str | None = None  # the directory D that yielded it, as walked
    rule: str | None = None
    detail: str = ""  # human description of the rule, e.g. ".venv pointer file -> name"
    pointer: bytes | None = None  # raw content of a pointer file, for trust binding
    pointer_path: str | None = None
    problem: str | None = None  # set when D declares a venv that cannot be used
    scope: Scope | None = None  # what it was resolved under (trust needs the same)
    tool: str | None = None  # the venv tool whose rule found it (RULE_TOOL, or its .venv)
    store: str | None = None  # that tool's own venv store holding it (trusted as named)
    watch: tuple[str, ...] = field(default=(), compare=False)
    passed: tuple[PassedOver, ...] = field(default=(), compare=False)
    # Files (DEP_FILE) and directories (DEP_DIR) the tools' answers read, for watches.
    depends: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    reach: int | None = field(default=None, compare=False)  # levels below D that find it

    @property
    def found(self) -> bool:
        """True when a usable venv directory was found."""
        return self.venv is not None


def parse_pointer(data: bytes) -> str:
    """The target named by a pointer file's content; ValueError says what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8") from None
    text = text.removesuffix("\r\n") if text.endswith("\r\n") else text.removesuffix("\n")
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
    in ``$WORKON_HOME``; anything else is a path relative to the project directory,
    taken physically, as the kernel would (``..`` is the real parent: the same venv
    however the project was reached, through a symlinked directory or not), and
    literally (no ``~`` expansion: PEP 832 has none, and whose home would it be?). A
    bare name starting with ``.`` can name no venv there (venvnames.py), so it is a path
    too: hatch writes ``.venv`` files holding ``.hatch`` or the like (PEP 832's form).
    """
    if target in (".", ".."):
        raise ValueError(f"names {target!r}, not a venv")
    if "/" in target or target.startswith("."):
        path = os.path.join(os.path.realpath(project), target)
        # normpath() would take a ".." lexically, before a symlink before it is followed.
        return (path if ".." in path.split("/") else os.path.normpath(path)), False
    return os.path.join(workon_home, target), True


def read_pointer(path: str) -> tuple[bytes, str]:
    """The raw content of pointer file ``path`` and the target it names.

    OSError when it cannot be read (a symlink, not a regular file, too large);
    ValueError when its content is not one line of UTF-8.
    """
    data = read_small_file(path, MAX_POINTER_BYTES)
    return data, parse_pointer(data)


# What one directory level yields: a resolution (or None), what it passed over, and the
# tool files and stores that answer depends on.
_Level = tuple[Optional[Resolution], tuple[PassedOver, ...], tuple[tuple[str, str], ...]]
_NOTHING: _Level = (None, (), ())


class Resolver:
    """Resolves directories to venvs, caching what it read per directory level.

    ``scope`` is the default for ``resolve`` (this process's environment when not
    given; ``workon_home`` overrides its ``$WORKON_HOME``). ``explain`` also looks into
    the directories that are never a project, to say what was passed over there
    (``shellhook which``); without it they are not read at all.
    """

    def __init__(
        self,
        workon_home: Path | str | None = None,
        cacheable: Callable[[str], bool] | None = None,
        *,
        scope: Scope | None = None,
        explain: bool = False,
    ) -> None:
        if scope is None:
            scope = Scope.from_env(home_is_project=_configured_home_is_project())
        if workon_home is not None:
            scope = replace(scope, workon_home=os.path.abspath(workon_home))
        self.scope = scope
        self.explain = explain
        # Only directories whose changes we hear about may be cached (the daemon's watches).
        self._cacheable = cacheable or (lambda _path: False)
        self._levels: dict[str, dict[Scope, _Level]] = {}
        self._links: dict[str, dict[str, str]] = {}
        self._homes: set[str] = set()  # every $WORKON_HOME resolved under
        self._dependents: dict[str, set[str]] = {}  # tool file or store -> cached levels
        # Whole answers whose every level is cached: a repeated cd costs one lookup.
        # Any invalidation drops them all (invalidations are rare: relevant changes only).
        self._answers: dict[tuple[str, Scope], Resolution] = {}

    @property
    def workon_home(self) -> str:
        """The default scope's ``$WORKON_HOME``."""
        return self.scope.workon_home

    def invalidate(self, path: str | None = None) -> None:
        """Forget cached knowledge about ``path`` (a changed directory), or everything."""
        self._answers.clear()
        if path is None:
            self._levels.clear()
            self._links.clear()
            self._dependents.clear()
            return
        for changed in (path, os.path.dirname(path)):
            self._levels.pop(changed, None)
            # Levels whose tool answers read this file or listed this store.
            for level in self._dependents.pop(changed, ()):
                self._levels.pop(level, None)
        for home in self._homes:
            if path == home or os.path.dirname(path) in (home, os.path.dirname(home)):
                # A named venv or its .project changed: any level may name it.
                self._links.pop(home, None)
                self._levels.clear()

    def successor(self) -> Resolver:
        """A resolver to use instead of this one, which a thread stuck in the file system
        may still change: the same settings and the whole answers memoized now (each is
        dropped by the next invalidation, as here; the levels are read again)."""
        new = Resolver(cacheable=self._cacheable, scope=self.scope, explain=self.explain)
        new._homes = set(self._homes)
        new._answers = dict(self._answers)
        return new

    def found_by_child(self, directory: str) -> bool:
        """Whether a cached reading of ``directory`` (in any scope) found its venv in a
        child directory (rule 2). No file system access: a level not read holds nothing
        any cached answer rests on."""
        return any(
            found is not None and found.rule == RULE_CHILD and found.project == directory
            for found, _passed, _depends in self._levels.get(directory, {}).values()
        )

    def cached(self, directory: str, scope: Scope | None = None) -> Resolution | None:
        """``resolve``'s answer when its memo of whole answers holds it, else None: no
        file system access at all (the daemon answers from it in its own thread)."""
        return self._answers.get((directory, scope or self.scope))

    def resolve(self, directory: str, scope: Scope | None = None) -> Resolution:
        """Walk up from ``directory``; the innermost level that yields a venv wins.

        Directories that are never a project (``scope.excluded``) yield nothing and are
        not watched: what they hold cannot change the answer. (One reached by another
        path, a symlink to home say, is known by its inode, which costs a stat when the
        level is first read.)
        """
        scope = scope or self.scope
        key = (directory, scope)
        answer = self._answers.get(key)
        if answer is not None:
            return answer
        answer = self._walk(directory, scope)
        levels = answer.watch[: len(answer.watch) - 2] if answer.found else answer.watch
        if all(scope in self._levels.get(d, ()) for d in levels):
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            self._answers[key] = answer
        return answer

    def _walk(self, directory: str, scope: Scope) -> Resolution:
        """``resolve`` without the memo of whole answers."""
        self._homes.add(scope.workon_home)
        excluded = scope.excluded
        current = os.path.abspath(directory)
        visited: list[str] = []
        passed: list[PassedOver] = []
        depends: list[tuple[str, str]] = []
        depth = 0
        while True:
            why = excluded.get(current)
            if why is None:
                visited.append(current)
                level = self._level(current, scope)
            elif self.explain:
                level = self._excluded_level(current, scope, why)
            else:
                level = _NOTHING
            found, passed_here, depends_here = level
            passed += passed_here
            depends += depends_here
            if found is not None and (found.reach is None or depth <= found.reach):
                extra = (found.venv, os.path.join(found.venv, "bin")) if found.venv else ()
                return replace(
                    found,
                    watch=tuple(visited) + extra,
                    passed=tuple(passed),
                    depends=tuple(dict.fromkeys(depends)),
                )
            parent = os.path.dirname(current)
            if parent == current:
                return Resolution(
                    scope=scope,
                    watch=tuple(visited),
                    passed=tuple(passed),
                    depends=tuple(dict.fromkeys(depends)),
                )
            current = parent
            depth += 1

    def _level(self, d: str, scope: Scope) -> _Level:
        cached = self._levels.get(d)
        if cached is not None and scope in cached:
            return cached[scope]
        try:
            st = os.stat(d)
            why = scope.excluded_ids.get((st.st_dev, st.st_ino))
        except OSError:
            why = None
        if why is None:
            level = self._resolve_level(d, scope)
        elif self.explain:
            level = self._excluded_level(d, scope, why)
        else:
            level = _NOTHING
        if self._cacheable(d):
            self._levels.setdefault(d, {})[scope] = level
            for path, _kind in level[2]:
                self._dependents.setdefault(path, set()).add(d)
        return level

    def _excluded_level(self, d: str, scope: Scope, why: tuple[str, str]) -> _Level:
        """What an excluded directory would have yielded, as passed over."""
        found, passed, _depends = self._resolve_level(d, scope)
        venvs = tuple(v for p in passed for v in p.venvs)
        if found is not None:
            venvs = (found.venv or found.pointer_path or d, *venvs)
        if not venvs:
            return _NOTHING
        what, hint = why
        reason = f"is {what}, never a project"
        return None, (PassedOver(PASSED_EXCLUDED, d, venvs, reason, hint),), ()

    def _resolve_level(self, d: str, scope: Scope) -> _Level:
        """The rules of DESIGN §2 at one directory, in their order."""
        level = scope.tool_level(d)
        found, passed = self._rules(d, scope, level)
        if self.explain and found is None:
            passed += _foreign(d)
        return found, passed, tuple(dict.fromkeys(level.depends))

    def _rules(
        self, d: str, scope: Scope, level: tools.ToolLevel
    ) -> tuple[Resolution | None, tuple[PassedOver, ...]]:
        # 1. a pointer file
        pointer = os.path.join(d, ".venv")
        try:
            st = os.lstat(pointer)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            home = tools.pointer_home(level) or scope.workon_home
            return self._from_pointer(d, pointer, scope, home), ()
        # 2. a project-declared tool venv (.pdm-python, hatch's path...); a uv workspace
        # member takes its workspace root's answer
        findings = tools.findings(level)
        for finding in findings:
            if finding.defer is not None:
                deferred, passed_there, depends = self._level(finding.defer, scope)
                level.depends += depends
                if deferred is not None:
                    deferred = replace(deferred, detail=f"{deferred.detail}; {finding.how}")
                return deferred, passed_there
        for finding in findings:
            if finding.early and finding.venv and is_venv_dir(finding.venv):
                return self._from_tool(d, finding, scope), ()
        # 3. .venv, then venv (unless the project's tool does not use them)
        skip = {name for finding in findings for name in finding.skip}
        note = next((f for f in findings if f.venv is None and f.how and not f.early), None)
        for name, rule in ((".venv", RULE_DOT_VENV), ("venv", RULE_VENV)):
            candidate = os.path.join(d, name)
            if name not in skip and is_venv_dir(candidate):
                detail = f"{name}/ directory"
                return Resolution(
                    venv=os.path.realpath(candidate),
                    found_as=candidate,
                    project=d,
                    rule=rule,
                    detail=f"{detail} ({note.how})" if note else detail,
                    scope=scope,
                    tool=note.tool if note else None,
                ), ()
        # 4. a tool's central venv for the project at d (poetry's cache, pipenv's store...)
        for finding in findings:
            if not finding.early and finding.venv and is_venv_dir(finding.venv):
                return self._from_tool(d, finding, scope), ()
        # 5. the only other child directory holding pyvenv.cfg
        children = self._venv_children(d)
        passed: tuple[PassedOver, ...] = ()
        if len(children) == 1:
            return Resolution(
                venv=os.path.realpath(children[0]),
                found_as=children[0],
                project=d,
                rule=RULE_CHILD,
                detail=f"{os.path.basename(children[0])}/ directory",
                scope=scope,
            ), ()
        if children:
            names = ", ".join(os.path.basename(c) for c in children[:4])
            more = ", ..." if len(children) > 4 else ""
            passed = (
                PassedOver(
                    PASSED_STORE,
                    d,
                    tuple(children),
                    f"holds {len(children)} venvs ({names}{more}): a store, not a project",
                ),
            )
        # 6. a venv in $WORKON_HOME whose .project names d
        links = self._project_links(scope.workon_home)
        linked = links.get(d) or links.get(os.path.realpath(d))
        # (the only rule that reads nothing in d: a link to a deleted directory is none)
        if linked is not None and os.path.isdir(d):
            return Resolution(
                venv=os.path.realpath(linked),
                found_as=linked,
                project=d,
                rule=RULE_PROJECT_LINK,
                detail=f"{os.path.basename(linked)} in $WORKON_HOME links here (.project)",
                scope=scope,
            ), passed
        return None, passed

    def _from_tool(self, d: str, finding: tools.Finding, scope: Scope) -> Resolution:
        assert finding.venv is not None
        return Resolution(
            venv=os.path.realpath(finding.venv),
            found_as=finding.venv,
            project=d,
            rule=RULE_TOOL,
            detail=finding.how,
            pointer=finding.declared,
            pointer_path=finding.declared_by,
            scope=scope,
            tool=finding.tool,
            store=finding.store,
            reach=finding.reach,
        )

    def _from_pointer(self, d: str, pointer: str, scope: Scope, home: str) -> Resolution:
        def problem(text: str, data: bytes | None = None) -> Resolution:
            return Resolution(
                project=d,
                rule=RULE_POINTER,
                pointer_path=pointer,
                pointer=data,
                problem=text,
                scope=scope,
            )

        try:
            data, target = read_pointer(pointer)
        except OSError as exc:
            return problem(f"cannot read pointer file {pointer}: {exc.strerror}")
        except ValueError as exc:
            return problem(f"pointer file {pointer} {exc}")
        try:
            venv, named = pointer_target(d, target, home)
        except ValueError as exc:
            return problem(f"pointer file {pointer} {exc}", data)
        if named:
            where = "$WORKON_HOME" if home == scope.workon_home else "pipenv's venv store"
            detail = f".venv pointer file -> {target} in {where}"
        else:
            detail = f".venv pointer file -> {target}"
        if not is_venv_dir(venv):
            return problem(f"pointer file {pointer} names {venv}, which is not a venv", data)
        return Resolution(
            venv=os.path.realpath(venv),
            found_as=venv,
            project=d,
            rule=RULE_POINTER,
            detail=detail,
            pointer=data,
            pointer_path=pointer,
            scope=scope,
        )

    def _venv_children(self, d: str) -> list[str]:
        """Every child directory of ``d`` holding pyvenv.cfg but ``.venv`` and ``venv``,
        sorted; none for a directory too large to scan."""
        try:
            with os.scandir(d) as it:
                names = []
                for count, entry in enumerate(it):
                    if count >= MAX_SCAN_ENTRIES:
                        return []
                    if entry.name in (".venv", "venv"):
                        continue
                    try:
                        if entry.is_dir():
                            names.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            return []
        paths = (os.path.join(d, name) for name in sorted(names))
        return [path for path in paths if is_venv_dir(path)]

    def _project_links(self, workon_home: str) -> dict[str, str]:
        links = self._links.get(workon_home)
        if links is not None:
            return links
        links = read_project_links(workon_home)
        if self._cacheable(workon_home):
            self._links[workon_home] = links
        return links


def _foreign(d: str) -> tuple[PassedOver, ...]:
    """A conda or pixi project at ``d``: never activated (its activation runs scripts from
    the environment), and ``which`` says so."""
    for name, what in tools.FOREIGN.items():
        path = os.path.join(d, name)
        if os.path.lexists(path):
            return (PassedOver(PASSED_FOREIGN, d, (path,), f"is {what}"),)
    return ()


def _configured_home_is_project() -> bool:
    """``home_is_project`` from the user's config (False when it cannot be read)."""
    from shellhook import config  # config -> locations only; imported late for start-up

    try:
        return config.load().home_is_project
    except config.ConfigError:
        return False


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
