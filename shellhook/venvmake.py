"""Making and removing venvs on disk, all or nothing.

A venv is built in a hidden temporary directory next to its final place
(``.shellhook-mkvenv-<pid>-XXXX/<name>``, same file system), then moved there with one
``rename``: nobody, not even the daemon watching the project, ever sees a half-made
venv, and a failure, Ctrl-C, SIGTERM or SIGHUP removes the temporary directory.
``--force`` moves the old venv aside only once the new one is complete, and puts it
back if the swap fails. Temporary directories left by a SIGKILLed run are swept the
next time (their pid is dead).

Tools write the absolute build path into a few text files (``bin/activate*``, script
shebangs, ``pyvenv.cfg``); ``relocate`` rewrites them to the final path before the move.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Protocol

from shellhook.daemon.control import pid_alive
from shellhook.display import path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import write_atomic
from shellhook.resolver import MAX_POINTER_BYTES, is_venv_dir

if TYPE_CHECKING:
    from shellhook.interpreters import Interpreter

TEMP_PREFIX = ".shellhook-"
_TEMP_NAME = re.compile(r"^\.shellhook-(?:mkvenv|rm)-(\d+)-")
PROJECT_MARKERS = ("pyproject.toml", "setup.py", ".git")
MAX_RELOCATE_BYTES = 4 << 20
Note = Callable[[str], None]


class Runner(Protocol):
    """Runs a tool: ``run_tool``, or a stand-in in tests."""

    def __call__(
        self, command: list[str], cwd: str, env: dict[str, str], quiet: bool = False
    ) -> int: ...


class VenvExists(ShellhookError):
    """The target exists and ``--force`` was not given (or it is not ours to replace)."""


class BuildFailed(ShellhookError):
    """A tool (uv, venv, pip) failed; its own output has already reached the user."""


# -- where ------------------------------------------------------------------------------


def has_project_marker(directory: str) -> bool:
    """True when ``directory`` holds pyproject.toml, setup.py, requirements*.txt or .git."""
    if any(os.path.lexists(os.path.join(directory, m)) for m in PROJECT_MARKERS):
        return True
    try:
        with os.scandir(directory) as it:
            return any(e.name.startswith("requirements") and e.name.endswith(".txt") for e in it)
    except OSError:
        return False


def find_project_root(start: str, home: str) -> str | None:
    """The project ``start`` is in: the nearest directory with a project marker, or
    ``start`` itself when none has one. Home and ``/`` are never projects (a ``~/.venv``
    would be activated everywhere below it): None when ``start`` is one of them.
    """
    home = os.path.normpath(home)
    directory = os.path.normpath(start)
    while directory not in (home, "/"):
        if has_project_marker(directory):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    start = os.path.normpath(start)
    return None if start in (home, "/") else start


# -- what -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything needed to build one venv."""

    target: str
    interpreter: Interpreter
    uv: str | None = None  # build with uv when set, else ``python -m venv``
    with_pip: bool = True
    requirements: tuple[str, ...] = ()  # absolute paths
    install_project: str | None = None  # directory to ``pip install -e``
    project_link: str | None = None  # write ``.project`` naming this directory
    replace: bool = False
    workdir: str = field(default_factory=os.getcwd)
    in_process: bool = False  # create with this process's venv module (same interpreter)


@dataclass(frozen=True)
class Step:
    """One way to create the venv: a command, or (``command`` empty) the venv module of
    this process; ``quiet`` captures its output (a first try expected to fail at times)."""

    tool: str  # what the user is told: "uv" or "python -m venv"
    command: list[str]
    quiet: bool = False


UV = "uv"
VENV = "python -m venv"


def create_steps(plan: Plan, build: str) -> list[Step]:
    """The ways to create ``plan`` at ``build``, tried in order until one works.

    With uv and pip: ``uv venv --seed --offline`` (pip from uv's cache: no network; quiet,
    as it fails while the cache has no pip), then ``uv venv --seed`` (pip from the
    index), then ``python -m venv`` (pip from ensurepip, bundled with Python: no network
    either). With uv and no pip: ``uv venv``, then ``python -m venv --without-pip``.
    Without uv: ``python -m venv``, in this process when ``plan.in_process``.
    """
    venv = [plan.interpreter.path, "-m", "venv"] + ([] if plan.with_pip else ["--without-pip"])
    fallback = Step(VENV, [] if plan.in_process else venv + ["--", build])
    if not plan.uv:
        return [fallback]
    uv = [plan.uv, "venv", "--quiet", "--python", plan.interpreter.path]
    if not plan.with_pip:
        return [Step(UV, uv + ["--", build]), fallback]
    return [
        Step(UV, uv + ["--seed", "--offline", "--", build], quiet=True),
        Step(UV, uv + ["--seed", "--", build]),
        fallback,
    ]


def install_command(plan: Plan, build: str, tool: str) -> list[str] | None:
    """What installs ``-r`` files and the project into the venv ``tool`` made (None:
    nothing to install): ``uv pip install`` into a venv uv made, else pip."""
    installs: list[str] = []
    for req in plan.requirements:
        installs += ["-r", req]
    if plan.install_project:
        installs += ["-e", plan.install_project]
    if not installs:
        return None
    python = os.path.join(build, "bin", "python")
    if tool == UV and plan.uv:
        return [plan.uv, "pip", "install", "--python", python, *installs]
    return [python, "-m", "pip", "install", *installs]


def pip_version(venv: str) -> str | None:
    """The version of the pip installed in ``venv`` ('' when unknown), None without pip.

    Read from the ``site-packages`` directory names, not by running anything."""
    for site in glob.glob(os.path.join(glob.escape(venv), "lib", "*", "site-packages")):
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            if name.startswith("pip-") and name.endswith(".dist-info"):
                return name[len("pip-") : -len(".dist-info")]
        if "pip" in names:
            return ""
    return None


def same_interpreter(path: str) -> bool:
    """True when ``path`` is the interpreter running shellhook (its base, if we are in a
    venv): then the venv module here builds exactly what ``path -m venv`` would, without
    starting another Python (~50 ms)."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    try:
        return bool(base) and os.path.realpath(path) == os.path.realpath(base)
    except OSError:
        return False


def create_in_process(build: str, with_pip: bool) -> None:
    """What ``python -m venv [--without-pip] BUILD`` does, in this process."""
    import venv

    symlinks = os.name != "nt"
    if sys.version_info >= (3, 13):  # scm_ignore_files: the command line's default
        builder = venv.EnvBuilder(symlinks=symlinks, with_pip=with_pip, scm_ignore_files={"git"})
    else:
        builder = venv.EnvBuilder(symlinks=symlinks, with_pip=with_pip)
    try:
        builder.create(build)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildFailed(f"venv failed ({exc}); nothing was created") from None


def tool_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for uv/venv/pip: no active venv, no pip version nagging."""
    out = dict(os.environ if env is None else env)
    out.pop("VIRTUAL_ENV", None)
    out.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return out


def run_tool(command: list[str], cwd: str, env: dict[str, str], quiet: bool = False) -> int:
    """Run a tool in the foreground: its progress goes straight to the terminal (unless
    ``quiet``: then nothing it prints is shown)."""
    out = subprocess.DEVNULL if quiet else None
    try:
        return subprocess.run(
            command, cwd=cwd, env=env, check=False, stdout=out, stderr=out
        ).returncode
    except FileNotFoundError:
        return 127


# -- signals ----------------------------------------------------------------------------


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP act like Ctrl-C (so clean-up runs) inside the block."""
    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            saved[sig] = signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP inside the block (clean-up must finish)."""
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            saved[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# -- building ---------------------------------------------------------------------------


def _rewrite(path: str, old: bytes, new: bytes) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_RELOCATE_BYTES:
        return
    with open(path, "rb") as fh:
        data = fh.read()
    if old not in data or b"\0" in data[:8192]:  # binaries keep their bytes
        return
    # No fsync: the venv is not in place yet, and nothing else of it is synced either.
    write_atomic(Path(path), data.replace(old, new), stat.S_IMODE(st.st_mode), durable=False)


def relocate(build: str, target: str) -> None:
    """Rewrite ``build`` to ``target`` in pyvenv.cfg and the text files of ``bin/``."""
    old, new = os.fsencode(build), os.fsencode(target)
    _rewrite(os.path.join(build, "pyvenv.cfg"), old, new)
    try:
        with os.scandir(os.path.join(build, "bin")) as it:
            paths = [e.path for e in it if e.is_file(follow_symlinks=False)]
    except OSError:
        paths = []
    for path in paths:
        _rewrite(path, old, new)


def replaceable(path: str) -> bool:
    """What ``--force`` may replace: a venv, a pointer file, a symlink or an empty dir."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    if stat.S_ISLNK(st.st_mode):
        return True
    if stat.S_ISREG(st.st_mode):
        return st.st_size <= MAX_POINTER_BYTES
    if stat.S_ISDIR(st.st_mode):
        return is_venv_dir(path) or not os.listdir(path)
    return False


def sweep_stale(parent: str) -> None:
    """Remove our temporary directories in ``parent`` whose process is gone (SIGKILL)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
                shutil.rmtree(entry.path, ignore_errors=True)


class VenvBuild:
    """A venv being built next to ``target``; ``commit`` moves it into place.

    Leaving the ``with`` block by an exception (including KeyboardInterrupt) undoes a
    commit and removes everything built; leaving it normally deletes the old venv that
    ``replace`` moved aside.
    """

    def __init__(self, target: str, replace: bool = False) -> None:
        self.target = target
        self.replace = replace
        self.tmp = ""
        self.path = ""
        self._aside: str | None = None
        self._committed = False
        self._signals: contextlib.ExitStack | None = None

    def __enter__(self) -> VenvBuild:
        parent = os.path.dirname(self.target)
        os.makedirs(parent, exist_ok=True)
        sweep_stale(parent)
        if os.path.lexists(self.target) and not self.replace:
            raise VenvExists(
                f"{path_for_terminal(self.target)} already exists (use --force to recreate it)"
            )
        self._signals = contextlib.ExitStack()
        self._signals.enter_context(signals_interrupt())
        try:
            self.tmp = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}mkvenv-{os.getpid()}-", dir=parent)
        except BaseException:
            self._signals.close()
            raise
        self.path = os.path.join(self.tmp, os.path.basename(self.target))
        return self

    def commit(self) -> None:
        """Relocate the build to ``target`` and move it there (swapping out the old one)."""
        relocate(self.path, self.target)
        if os.path.lexists(self.target):
            if not self.replace:
                raise VenvExists(f"{path_for_terminal(self.target)} already exists")
            if not replaceable(self.target):
                raise VenvExists(
                    f"{path_for_terminal(self.target)} is not a venv; "
                    "not replacing it (remove it yourself)"
                )
            self._aside = os.path.join(self.tmp, TEMP_PREFIX + "old")
            os.rename(self.target, self._aside)
        try:
            os.rename(self.path, self.target)
        except OSError as exc:
            if self._aside is not None:
                os.rename(self._aside, self.target)
                self._aside = None
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise VenvExists(
                    f"{path_for_terminal(self.target)} already exists "
                    "(made by another mkvenv meanwhile?)"
                ) from None
            raise
        self._committed = True

    def _rollback(self) -> None:
        if self._committed:
            os.rename(self.target, os.path.join(self.tmp, TEMP_PREFIX + "new"))
            self._committed = False
        if self._aside is not None:
            os.rename(self._aside, self.target)
            self._aside = None

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        keep_tmp = False
        with signals_deferred():
            if exc_type is not None:
                try:
                    self._rollback()
                except OSError:
                    keep_tmp = True  # the old venv is still in there: never delete it
            if not keep_tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if self._signals is not None:
            self._signals.close()
        if keep_tmp:
            raise OSError(
                f"could not restore {path_for_terminal(self.target)}; "
                f"the old venv is in {path_for_terminal(self.tmp)}"
            )
        return False


@dataclass(frozen=True)
class Built:
    """What ``build`` made: the tool that created the venv, and its pip's version
    (None: no pip in it)."""

    tool: str
    pip: str | None


def _create(plan: Plan, build: str, run: Runner, env: dict[str, str], note: Note) -> str:
    """Create the venv at ``build``, trying ``create_steps`` in turn; the tool that did."""
    rc, failed = 0, ""
    for step in create_steps(plan, build):
        if os.path.lexists(build):  # a try that failed half-way
            shutil.rmtree(build)
        if failed and step.tool != failed:
            note(
                f"{failed} could not make the venv (exit status {rc}); "
                f"making it with {step.tool} instead"
                + (" (pip from ensurepip: no network needed)" if plan.with_pip else "")
            )
        if not step.command:
            create_in_process(build, plan.with_pip)
            rc = 0
        else:
            rc = run(step.command, plan.workdir, env, quiet=step.quiet)
        if rc == 0 and is_venv_dir(build):
            return step.tool
        failed = step.tool
    if rc == 0:
        raise BuildFailed("the tool did not create a venv; nothing was created")
    raise BuildFailed(f"{failed} failed (exit status {rc}); nothing was created")


def build(
    plan: Plan,
    run: Runner = run_tool,
    env: dict[str, str] | None = None,
    after_commit: Callable[[], None] | None = None,
    note: Note | None = None,
) -> Built:
    """Build ``plan`` all or nothing. ``after_commit`` (e.g. writing the project's
    pointer) runs with the venv in place; if it fails the venv is removed again.
    ``note`` is told, in one line, when a tool failed and another one takes over.
    """
    tool_env = tool_environment(env)
    old_umask = os.umask(0o022)
    os.umask(old_umask | 0o022)  # shellhook refuses group/other-writable venvs
    try:
        with VenvBuild(plan.target, plan.replace) as b:
            tool = _create(plan, b.path, run, tool_env, note or (lambda _text: None))
            command = install_command(plan, b.path, tool)
            if command is not None and tool != UV and not plan.with_pip:
                raise BuildFailed(
                    ("uv failed, and " if plan.uv else "")
                    + "the venv has no pip to install with (drop --without-pip); "
                    "nothing was created"
                )
            if command is not None:
                rc = run(command, plan.workdir, tool_env)
                if rc != 0:
                    name = os.path.basename(command[0])
                    what = " ".join(command[1:3])
                    raise BuildFailed(
                        f"{name} {what} failed (exit status {rc}); nothing was created"
                    )
            if plan.project_link is not None:
                write_atomic(
                    Path(b.path) / ".project",
                    os.fsencode(plan.project_link) + b"\n",
                    0o644,
                    durable=False,
                )
            b.commit()
            if after_commit is not None:
                after_commit()
        return Built(tool, pip_version(plan.target))
    finally:
        os.umask(old_umask)


# -- pointers and removal ---------------------------------------------------------------


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` atomically with ``data``; FileExistsError if it exists."""
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}new-", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_pointer(project: str, name: str, replace: bool) -> bytes:
    """Write ``project/.venv`` naming ``name`` in ``$WORKON_HOME`` (atomic, 0644)."""
    data = name.encode("utf-8") + b"\n"
    path = Path(project) / ".venv"
    if replace:
        write_atomic(path, data, 0o644)
        return data
    try:
        _write_new(path, data, 0o644)
    except FileExistsError:
        raise VenvExists(f"{path_for_terminal(path)} already exists") from None
    return data


def remove_tree(path: str) -> None:
    """Make the venv ``path`` disappear at once (a rename), then delete it.

    Signals wait until it is done; what cannot be deleted stays hidden in a
    ``.shellhook-rm-*`` directory and is named in the error.
    """
    parent = os.path.dirname(path)
    with signals_deferred():
        sweep_stale(parent)
        aside = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}rm-{os.getpid()}-", dir=parent)
        try:
            os.rename(path, os.path.join(aside, "venv"))
        except BaseException:
            os.rmdir(aside)
            raise
        failed: list[str] = []
        if sys.version_info >= (3, 12):
            shutil.rmtree(aside, onexc=lambda _f, p, _e: failed.append(p))
        else:
            shutil.rmtree(aside, onerror=lambda _f, p, _e: failed.append(p))
        if failed:
            raise OSError(
                f"could not delete everything; what is left is in {path_for_terminal(aside)}"
            )
