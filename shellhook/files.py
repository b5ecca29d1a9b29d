"""Small, careful file operations: atomic private writes, bounded no-follow reads, the
logical current directory."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_SMALL_FILE = 4096
NESTED_TOO_DEEPLY = "nested too deeply"  # valid, small, beyond the parsers' recursion limit


@contextlib.contextmanager
def sole_writer(directory: Path) -> Iterator[None]:
    """Be the one writer of what ``directory`` holds (an flock on it, which the kernel
    drops when the holder dies), so two read-modify-write changes never interleave;
    without the lock when the file system refuses it."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_atomic(path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new content, never half.

    ``durable``: fsync before the rename (state that must survive a crash; not needed for
    throw-away messages).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


STALE_TEMP_AGE = 600  # seconds: older than any save in progress


def remove_stale_temps(directory: Path, age: float = STALE_TEMP_AGE) -> int:
    """Remove what killed ``write_atomic`` calls left in ``directory`` (their
    ``.NAME.*.tmp`` files older than ``age`` seconds); how many were removed."""
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > age:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def read_small_file(
    path: str | os.PathLike[str],
    limit: int = MAX_SMALL_FILE,
    *,
    owner: int | None = None,
    follow: bool = False,
) -> bytes:
    """Read a regular file without following a symlink (unless ``follow``), refusing more
    than ``limit`` bytes.

    With ``owner``, a file owned by another uid is refused too. Never blocks on a FIFO.
    Raises OSError (ELOOP for a symlink, EINVAL for a non-regular file, EPERM for another
    owner, EFBIG for an oversized file).
    """
    nofollow = 0 if follow else os.O_NOFOLLOW
    fd = os.open(path, os.O_RDONLY | nofollow | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        if owner is not None and st.st_uid != owner:
            raise OSError(errno.EPERM, f"owned by uid {st.st_uid}", os.fspath(path))
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes", os.fspath(path))
    return data


def parse_toml(raw: bytes) -> dict[str, Any]:
    """``raw`` (UTF-8) as TOML; ValueError when it is not, or nests too deeply to parse
    (a RecursionError otherwise: ``a = [[[...`` under any size cap). The parser is
    imported on first use: the one-off Python answering a project without TOML files
    never needs it."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on old Pythons only
        import tomli as tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))  # (both errors are ValueErrors)
    except RecursionError:
        raise ValueError(NESTED_TOO_DEEPLY) from None


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON; ValueError when it is not, or nests too deeply to parse (which
    ``json.loads`` says with a RecursionError: a file of ``[`` under any size cap)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError(NESTED_TOO_DEEPLY) from None


def logical_cwd() -> str:
    """The current directory as the shell names it (``$PWD``, symlinks kept) when that
    still is the current directory, else the physical one."""
    pwd = os.environ.get("PWD", "")
    with contextlib.suppress(OSError):
        if os.path.isabs(pwd) and os.path.samefile(pwd, "."):
            return os.path.normpath(pwd)
    return os.getcwd()


def is_venv_dir(path: str) -> bool:
    """True when ``path`` is a directory holding a regular ``pyvenv.cfg``."""
    try:
        return stat.S_ISREG(os.stat(os.path.join(path, "pyvenv.cfg")).st_mode)
    except (OSError, ValueError):
        return False
