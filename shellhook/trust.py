"""Trust (DESIGN §5): which found venvs may be activated automatically.

One file per record under the user state dir: ``allow/<key>.json`` binds the canonical
project path to the venv's canonical path (and a pointer file's content);
``deny/<key>`` blocks a project by path alone, so it survives edits and beats allow.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from shellhook import locations
from shellhook.config import Config
from shellhook.display import path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import write_atomic
from shellhook.resolver import Resolution

RECORD_VERSION = 1
KINDS = ("allow", "deny")  # one directory of records each


class TrustStoreError(ShellhookError):
    """The trust store cannot be used; nothing is trusted until it is repaired."""


@dataclass(frozen=True)
class Verdict:
    """Whether a resolution may be activated, and a one-line reason when not."""

    trusted: bool
    reason: str  # "allowed", "in $WORKON_HOME", "denied", "not allowed", "refused: ..."
    refused: bool = False  # unsafe ownership or permissions (a fix is named in reason)


def _key(project: str) -> str:
    return hashlib.sha256(os.fsencode(os.path.realpath(project))).hexdigest()


def _pointer_hash(pointer: bytes | None) -> str | None:
    return hashlib.sha256(pointer).hexdigest() if pointer is not None else None


def ownership_problem(path: str) -> str | None:
    """Why ``path`` is unsafe to use (owned by another user, writable by others), or None."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot inspect {path_for_terminal(path)}: {exc.strerror}"
    shown = path_for_terminal(path)
    if st.st_uid != os.geteuid():
        return f"{shown} is owned by uid {st.st_uid}, not you (fix: chown -R $USER {shown})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{shown} is writable by others (fix: chmod go-w {shown})"
    return None


class TrustStore:
    """Allow and deny records in the user's state dir."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or locations.trust_dir()
        self._kind_paths = tuple(str(self.root / kind) for kind in KINDS)

    def _dir(self, kind: str, create: bool) -> Path:
        try:
            if create:
                locations.ensure_private_dir(self.root.parent)
                locations.ensure_private_dir(self.root)
                return locations.ensure_private_dir(self.root / kind)
            for path in (self.root, self.root / kind):
                if os.path.lexists(path):
                    locations.check_private_dir(path)
        except locations.UnsafeDirectory as exc:
            raise TrustStoreError(f"trust store unusable, nothing is trusted: {exc}") from None
        except OSError as exc:
            raise TrustStoreError(f"trust store unusable: {exc}") from None
        return self.root / kind

    def generation(self) -> tuple:
        """Changes whenever a record is added or removed (the directories' mtimes)."""
        stamps: list[tuple[int, int] | None] = []
        for path in self._kind_paths:
            try:
                st = os.stat(path)
                stamps.append((st.st_mtime_ns, st.st_ino))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def watched_dirs(self) -> tuple[str, ...]:
        """The directories whose entries change when a record does (for a file watch)."""
        return (str(self.root), *self._kind_paths)

    def ensure(self) -> None:
        """Create the store's directories (so they can be watched from the start)."""
        for kind in KINDS:
            self._dir(kind, create=True)

    def allow(self, project: str, venv: str, pointer: bytes | None) -> None:
        """Trust ``venv`` for ``project`` (and this pointer content); lifts a deny."""
        record = {
            "version": RECORD_VERSION,
            "project": os.path.realpath(project),
            "venv": os.path.realpath(venv),
            "pointer_sha256": _pointer_hash(pointer),
        }
        key = _key(project)
        try:
            (self._dir("deny", create=True) / key).unlink(missing_ok=True)
            write_atomic(
                self._dir("allow", create=True) / f"{key}.json",
                json.dumps(record, indent=1).encode(),
            )
        except OSError as exc:
            raise TrustStoreError(f"cannot write trust record: {exc}") from None

    def deny(self, project: str) -> None:
        """Block ``project`` by path; removes its allow record."""
        key = _key(project)
        try:
            (self._dir("allow", create=True) / f"{key}.json").unlink(missing_ok=True)
            write_atomic(
                self._dir("deny", create=True) / key,
                (os.path.realpath(project) + "\n").encode("utf-8", "surrogateescape"),
            )
        except OSError as exc:
            raise TrustStoreError(f"cannot write deny record: {exc}") from None

    def forget(self, project: str) -> None:
        """Remove both records for ``project``."""
        key = _key(project)
        for kind, name in (("allow", f"{key}.json"), ("deny", key)):
            with contextlib.suppress(OSError):
                (self._dir(kind, create=False) / name).unlink(missing_ok=True)

    def is_denied(self, project: str) -> bool:
        """True when a deny record exists (checked even if records cannot be parsed)."""
        return (self._dir("deny", create=False) / _key(project)).exists()

    def allowed_record(self, project: str) -> dict | None:
        """The allow record for ``project``, or None; TrustStoreError when corrupt."""
        path = self._dir("allow", create=False) / f"{_key(project)}.json"
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise TrustStoreError(
                f"trust record {path} is corrupt ({exc}); run: shellhook allow"
            ) from None
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            raise TrustStoreError(
                f"trust record {path} has an unknown format; run: shellhook allow"
            )
        return data

    def records(self) -> list[dict]:
        """Every readable allow record (corrupt ones are skipped; verdicts report them)."""
        try:
            paths = sorted(self._dir("allow", create=False).glob("*.json"))
        except (TrustStoreError, OSError):
            return []
        found = []
        for path in paths:
            try:
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("version") == RECORD_VERSION:
                found.append(record)
        return found

    def verdict(self, res: Resolution, config: Config, workon_home: str) -> Verdict:
        """Decide whether ``res`` (a found venv) may be activated automatically."""
        assert res.venv is not None and res.project is not None
        for path in (res.pointer_path, res.venv, os.path.join(res.venv, "bin")):
            if path is not None:
                problem = ownership_problem(path)
                if problem:
                    return Verdict(False, f"refused: {problem}", refused=True)
        if self.is_denied(res.project):
            return Verdict(False, "denied")
        home = os.path.realpath(workon_home)
        if os.path.dirname(res.venv) == home:
            return Verdict(True, "in $WORKON_HOME")
        record = self.allowed_record(res.project)
        if record is not None:
            if record.get("venv") == res.venv and record.get("pointer_sha256") == _pointer_hash(
                res.pointer
            ):
                return Verdict(True, "allowed")
            return Verdict(False, "changed since allowed")
        if config.trust == "owned":
            return Verdict(True, 'owned by you (trust = "owned")')
        return Verdict(False, "not allowed")
