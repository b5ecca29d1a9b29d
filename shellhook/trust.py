"""Trust (DESIGN §5): which found venvs may be activated automatically.

One file per record under the user state dir: ``allow/<key>.json`` binds the canonical
project path to the venv's canonical path (and a pointer file's content);
``deny/<key>`` blocks a project by path alone, so it survives edits and beats allow.
A change of kind writes the new record before it removes the other, one writer at a
time: a save killed between the two leaves both (denied: the old state of an allow, the
new one of a deny), never neither (case 53).
"""

from __future__ import annotations

import functools
import glob
import grp
import hashlib
import json
import os
import pwd
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from shellhook import locations, venvinfo
from shellhook.config import Config
from shellhook.display import for_terminal, path_for_command, path_for_terminal
from shellhook.errors import ShellhookError
from shellhook.files import (
    parse_json,
    read_small_file,
    remove_stale_temps,
    sole_writer,
    write_atomic,
)
from shellhook.resolver import Resolution

RECORD_VERSION = 1
MAX_RECORD_BYTES = 65536  # two paths of at most 4 KiB, hashes: a larger record is corrupt
PYTHONS = ("python", "python3")  # what a shell runs from the venv's bin by those names
KINDS = ("allow", "deny")  # one directory of records each


class TrustStoreError(ShellhookError):
    """The trust store cannot be used; nothing is trusted until it is repaired."""


@dataclass(frozen=True)
class Verdict:
    """Whether a resolution may be activated, and a one-line reason when not."""

    trusted: bool
    reason: str  # "allowed", "in $WORKON_HOME", "denied", "not allowed", "refused: ..."
    refused: bool = False  # unsafe ownership or permissions (a fix is named in reason)
    denied: bool = False  # the user said never (and wants silence)


def _key(project: str) -> str:
    return hashlib.sha256(os.fsencode(os.path.realpath(project))).hexdigest()


def _directory_in_place(path: Path) -> bool:
    """True when a directory (not a symlink to one) stands where record ``path`` goes:
    a corrupt store, which rename and unlink cannot replace or remove."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _write_record(path: Path, data: bytes) -> None:
    """``write_atomic``, over a directory standing in the record's place too."""
    if _directory_in_place(path):
        shutil.rmtree(path)
    write_atomic(path, data)


def _remove_record(path: Path) -> bool:
    """Remove the record at ``path`` (a directory in its place too); False when none."""
    if _directory_in_place(path):
        shutil.rmtree(path)
        return True
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _pointer_hash(pointer: bytes | None) -> str | None:
    return hashlib.sha256(pointer).hexdigest() if pointer is not None else None


def _user_name(uid: int) -> str:
    try:
        return for_terminal(pwd.getpwuid(uid).pw_name)
    except KeyError:
        return f"uid {uid}"


def _accounts_stamp() -> tuple:
    stamps: list[tuple[int, int, int] | None] = []
    for path in ("/etc/group", "/etc/passwd"):
        try:
            st = os.stat(path)
            stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


@functools.lru_cache(maxsize=32)
def _group(gid: int, uid: int, _stamp: tuple) -> tuple[bool, str]:
    """Whether group ``gid`` is user ``uid``'s private group, and how to name it.

    Private (as Debian's OpenSSH accepts for ``~/.ssh``): every account whose primary
    group it is is the user, its listed members are at most the user, and it has one
    member at all (groups nobody is in belong to setgid programs). ``_stamp`` makes a
    change to /etc/group or /etc/passwd seen.
    """
    try:
        group = grp.getgrgid(gid)
    except KeyError:
        return False, f"group {gid} (unknown)"
    name = f"group {for_terminal(group.gr_name)}"
    try:
        me = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False, name
    members = set(group.gr_mem)
    members.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == gid)
    others = sorted(members - {me})
    if others:
        shown = ", ".join(for_terminal(o) for o in others[:3])
        return False, f"{name}, also {shown}{', ...' if len(others) > 3 else ''}"
    if not members:
        return False, f"{name}, which has no members"
    return True, name


def acceptable_owner(uid: int) -> bool:
    """True for files this user may run code from: its own, or root's (a system venv
    in /opt; root can change anything anyway), as tmux and ssh-agent accept."""
    return uid in (os.geteuid(), 0)


def _not_yours_fix(fix: str) -> str:
    """How to fix a file owned by someone else, fit for who asks: root is never told to
    take over a user's files (that user could then plant code in root's shells)."""
    if os.geteuid() == 0:
        return "use a venv of root's own, or run this as its owner"
    return f"sudo chown -R $USER {fix}, or make your own"


def ownership_problem(path: str, whole: str | None = None, *, recursive: bool = True) -> str | None:
    """Why ``path`` is unsafe to use (owned by another user but root, writable by
    others), or None.

    Group-writable is fine when the group is the user's private group (umask 002 on
    Debian, Ubuntu and Fedora desktops). The fix names ``whole`` (default: ``path``),
    the directory that one ``chmod -R`` puts right (``chmod`` of ``path`` alone when not
    ``recursive``: a project directory), in the same form as the problem.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot inspect {path_for_command(path)}: {exc.strerror}"
    shown = path_for_command(path)
    fix = path_for_command(whole or path)
    uid = os.geteuid()
    if not acceptable_owner(st.st_uid):
        return f"{shown} is owned by {_user_name(st.st_uid)}, not you (fix: {_not_yours_fix(fix)})"
    chmod = "chmod -R g-w,o-w" if recursive else "chmod g-w,o-w"
    if st.st_uid != uid:
        chmod = "sudo " + chmod  # root's (a system venv): not the user's to change
    if st.st_mode & stat.S_IWOTH:
        return f"{shown} is writable by others (anyone) (fix: {chmod} {fix})"
    if st.st_mode & stat.S_IWGRP:
        private, group = _group(st.st_gid, uid, _accounts_stamp())
        if not private:
            return f"{shown} is writable by others ({group}) (fix: {chmod} {fix})"
    return None


MAX_LINKS = 40  # as the kernel's limit on symlinks followed in one lookup


def symlinks_followed(path: str) -> list[tuple[str, int]]:
    """Every symlink that resolving absolute ``path`` goes through, in order, with its
    owner's uid: links among the path's components and among those of each target.

    realpath() alone hides them: another user's symlink ``.venv`` in a shared directory,
    pointing at one of your own venvs, has a canonical path that is all yours.
    """
    links: list[tuple[str, int]] = []
    resolved = "/"
    pending = path.split("/")[::-1]  # a stack: the next component last
    while pending and len(links) < MAX_LINKS:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        try:
            st = os.lstat(candidate)
            target = os.readlink(candidate) if stat.S_ISLNK(st.st_mode) else None
        except OSError:
            break  # the rest does not exist: no link further on
        if target is None:
            resolved = candidate
            continue
        links.append((candidate, st.st_uid))
        if target.startswith("/"):
            resolved = "/"
        pending += target.split("/")[::-1]
    return links


def link_problem(res: Resolution) -> str | None:
    """Why a symlink on the way to ``res``'s venv makes it unsafe (another user's, who
    can point it elsewhere at any time, and picked what it names), or None."""
    assert res.venv is not None
    for link, uid in symlinks_followed(res.found_as or res.venv):
        if not acceptable_owner(uid):
            return (
                f"{path_for_command(link)} is a symlink owned by {_user_name(uid)}, not you "
                "(fix: remove it, or make your own)"
            )
    return None


def checked_paths(res: Resolution) -> list[tuple[str, str]]:
    """What must be safe before ``res`` is used, each with the directory fixing it:
    the pointer file, the venv, its bin, pyvenv.cfg and site-packages (whose .pth
    files run at every start of its python)."""
    assert res.venv is not None
    paths = [(res.pointer_path, res.pointer_path)] if res.pointer_path else []
    inside = [res.venv, *(os.path.join(res.venv, p) for p in ("bin", "pyvenv.cfg"))]
    paths += [(path, res.venv) for path in (*inside, *site_packages(res.venv))]
    return paths


def site_packages(venv: str) -> list[str]:
    """The venv's site-packages directories (at most 4: one per Python, in practice)."""
    pattern = os.path.join(glob.escape(venv), "lib", "python*", "site-packages")
    return sorted(glob.glob(pattern))[:4]


def runs(venv: str) -> dict[str, str | None]:
    """What running the venv's python runs, for an allow record to bind: pyvenv.cfg's
    ``home`` (the base interpreter) and each of ``bin/python``, ``bin/python3`` (a
    symlink's target; a file's identity: a copy, or a script put in its place).

    Upgrading the base Python in place (a symlink to /usr/bin/python3) changes none of
    them; replacing what the venv runs does.
    """
    try:
        home = venvinfo.read_cfg(venv).get("home")
    except OSError:
        home = None
    found: dict[str, str | None] = {"home": home}
    for name in PYTHONS:
        path = os.path.join(venv, "bin", name)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[name] = "-> " + os.readlink(path)
            else:
                found[name] = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            found[name] = None
    return found


def _changed(record: dict, now: dict[str, str | None]) -> str | None:
    """What changed in what the venv runs since ``record`` was made, or None."""
    if not isinstance(record.get("runs"), dict):
        return "allowed by an older shellhook, before it bound what the venv runs"
    for key, what in (("home", "pyvenv.cfg home"), *((n, f"bin/{n}") for n in PYTHONS)):
        if record["runs"].get(key) != now.get(key):
            return f"its {what} changed"
    return None


def permissions_stamp(res: Resolution) -> tuple:
    """Owner, group and mode of every checked path: a judgement stays valid while it is
    the same (a chmod in an unwatched directory changes no answer by itself)."""
    stamps: list[tuple[int, int, int] | None] = []
    assert res.project is not None
    for path in (os.path.realpath(res.project), *(p for p, _whole in checked_paths(res))):
        try:
            st = os.stat(path)
            stamps.append((st.st_uid, st.st_gid, st.st_mode))
        except OSError:
            stamps.append(None)
    assert res.venv is not None
    return (*stamps, *symlinks_followed(res.found_as or res.venv))


def _store_verdict(venv: str, store: str, tool: str) -> Verdict | None:
    """A venv in a venv tool's own store is trusted as a named venv is (only the user's
    own tool run can make it there) when the store and every directory down to the venv
    are safe; None when ``venv`` is not inside ``store``."""
    store = os.path.realpath(store)
    if not venv.startswith(store.rstrip("/") + "/"):
        return None
    directory = os.path.dirname(venv)
    while True:
        problem = ownership_problem(directory)
        if problem:
            return Verdict(False, f"refused: {problem}", refused=True)
        if directory == store:
            return Verdict(True, f"in {tool}'s venv store")
        directory = os.path.dirname(directory)


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

    def check(self) -> None:
        """Raise TrustStoreError when the store exists but cannot be trusted."""
        for kind in KINDS:
            self._dir(kind, create=False)

    def ensure(self) -> None:
        """Create the store's directories (so they can be watched from the start)."""
        for kind in KINDS:
            remove_stale_temps(self._dir(kind, create=True))

    def allow(self, project: str, venv: str, pointer: bytes | None) -> None:
        """Trust ``venv`` for ``project`` (and this pointer content); lifts a deny."""
        record = {
            "version": RECORD_VERSION,
            "project": os.path.realpath(project),
            "venv": os.path.realpath(venv),
            "pointer_sha256": _pointer_hash(pointer),
            "runs": runs(os.path.realpath(venv)),
        }
        key = _key(project)
        try:
            allow, deny = self._dir("allow", create=True), self._dir("deny", create=True)
            with sole_writer(self.root):
                remove_stale_temps(allow)
                _write_record(allow / f"{key}.json", json.dumps(record, indent=1).encode())
                _remove_record(deny / key)  # only now: until here, still denied
        except OSError as exc:
            raise TrustStoreError(f"cannot write trust record: {exc}") from None

    def deny(self, project: str) -> None:
        """Block ``project`` by path; removes its allow record, even when the deny
        record cannot be written (a full disk): a failed deny still revokes."""
        key = _key(project)
        try:
            allow, deny = self._dir("allow", create=True), self._dir("deny", create=True)
            with sole_writer(self.root):
                try:
                    _write_record(
                        deny / key,
                        (os.path.realpath(project) + "\n").encode("utf-8", "surrogateescape"),
                    )
                finally:
                    _remove_record(allow / f"{key}.json")
        except OSError as exc:
            raise TrustStoreError(f"cannot write deny record: {exc}") from None

    def forget(self, project: str) -> list[str]:
        """Remove both records for ``project``; the kinds that existed ("allow", "deny")."""
        key = _key(project)
        removed = []
        for kind, name in (("allow", f"{key}.json"), ("deny", key)):
            path = self._dir(kind, create=False) / name
            try:
                if not _remove_record(path):
                    continue
            except OSError as exc:
                raise TrustStoreError(f"cannot remove trust record {path}: {exc}") from None
            removed.append(kind)
        return removed

    def is_denied(self, project: str) -> bool:
        """True when a deny record exists (checked even if records cannot be parsed)."""
        return (self._dir("deny", create=False) / _key(project)).exists()

    def allowed_record(self, project: str) -> dict | None:
        """The allow record for ``project``, or None; TrustStoreError when corrupt."""
        path = self._dir("allow", create=False) / f"{_key(project)}.json"
        # The record's name is a hash: the fix names the project.
        fix = f"run: shellhook allow {path_for_command(os.path.realpath(project))}"
        try:
            data = parse_json(read_small_file(path, MAX_RECORD_BYTES))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise TrustStoreError(
                f"trust record {path_for_terminal(path)} is corrupt ({why}); {fix}"
            ) from None
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            raise TrustStoreError(
                f"trust record {path_for_terminal(path)} has an unknown format; {fix}"
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
                record = parse_json(read_small_file(path, MAX_RECORD_BYTES))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("version") == RECORD_VERSION:
                found.append(record)
        return found

    def verdict(self, res: Resolution, config: Config, workon_home: str) -> Verdict:
        """Decide whether ``res`` (a found venv) may be activated automatically.

        ``workon_home`` is the asking shell's ``$WORKON_HOME`` (the one ``res`` was
        resolved under), whose venvs are trusted as named venvs.
        """
        assert res.venv is not None and res.project is not None
        if self.is_denied(res.project):
            return Verdict(False, "denied", denied=True)
        project = os.path.realpath(res.project)
        problem = link_problem(res) or ownership_problem(project, recursive=False)
        for path, whole in checked_paths(res):
            problem = problem or ownership_problem(path, whole)
        if problem:
            return Verdict(False, f"refused: {problem}", refused=True)
        home = os.path.realpath(workon_home)
        if os.path.dirname(res.venv) == home:
            return Verdict(True, "in $WORKON_HOME")
        if res.store is not None:
            store_verdict = _store_verdict(res.venv, res.store, res.tool or "its tool")
            if store_verdict is not None:
                return store_verdict
        record = self.allowed_record(res.project)
        if record is not None:
            pointer = _pointer_hash(res.pointer)
            if record.get("venv") == res.venv and record.get("pointer_sha256") == pointer:
                changed = _changed(record, runs(res.venv))
                if changed is None:
                    return Verdict(True, "allowed")
                return Verdict(False, f"changed since allowed ({changed})")
            if record.get("venv") == res.venv or (pointer and record.get("pointer_sha256")):
                # What was allowed (this venv, or the pointer file) has changed.
                return Verdict(False, "changed since allowed")
        if config.trust == "owned":
            return Verdict(True, 'owned by you (trust = "owned")')
        return Verdict(False, "not allowed")
