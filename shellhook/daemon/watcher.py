"""File events for the daemon: a set of non-recursive watches behind one selectable fd.

The daemon says which paths to watch and, per path, which kinds of change it needs
(:data:`ENTRIES`, :data:`WRITES`, :data:`ATTRS`, :data:`FILE`); it reads the changes as
:class:`Change` tuples in its own single thread, from its own selector.

* Linux: one inotify instance of the daemon's own, driven through watchdog's ctypes
  bindings (``watchdog.observers.inotify_c``) and read in the daemon's selector. No
  thread at all, whatever the number of watches, and the kernel's event mask asks only
  for what was requested: entries created, deleted or moved, and, where asked, files
  closed after writing or attribute changes. A process appending to a file in a watched
  directory, or the shells' FIFO traffic and the daemon's own reply writes in the runtime
  dir, wake nobody.
* Elsewhere (macOS, BSD): watchdog's Observer, whose threads hand their events to the
  daemon's thread through a queue and a self-pipe. Those backends cannot narrow events
  in the kernel: every change is forwarded and the daemon filters by name.

``SHELLHOOK_WATCHDOG_OBSERVER=1`` makes Linux use the Observer too (for comparisons).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import struct
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

log = logging.getLogger("shellhook.daemon")

KEEP_SPARE = 64  # watches kept after no shell needs them any more
LIMITS = (errno.ENOSPC, errno.EMFILE)  # inotify's watch and instance limits
# What those errors mean from inotify, for the log ("No space left on device" is not it).
LIMIT_TEXT = {
    errno.ENOSPC: "inotify watch limit reached (fs.inotify.max_user_watches)",
    errno.EMFILE: "too many inotify instances (fs.inotify.max_user_instances) or open files",
}

# What a watch reports, as bits (a path may need several).
ENTRIES = 1  # entries created, deleted or moved in or out; the path itself deleted or moved
WRITES = 2  # files closed after writing (in the directory, or the watched file itself)
ATTRS = 4  # attribute changes (owner, mode) of entries or of the path itself
FILE = 8  # the path is a file, watched for its own content (with WRITES/ATTRS)

# Change kinds.
CREATED = "created"  # an entry appeared (created, or moved in)
DELETED = "deleted"  # an entry went away (deleted, or moved out)
WRITTEN = "written"  # a file was closed after writing
ATTRIB = "attrib"  # an attribute changed
GONE = "gone"  # the watched path itself was deleted or moved: its watch is dead
OVERFLOW = "overflow"  # events were lost: assume anything changed


class Change(NamedTuple):
    """One change reported by a watch."""

    watched: str  # the watched path ('' for OVERFLOW)
    name: str  # the entry's name, '' when the change is to the watched path itself
    kind: str
    is_dir: bool = False

    @property
    def path(self) -> str:
        """The path that changed."""
        return os.path.join(self.watched, self.name) if self.name else self.watched


class Watcher:
    """The interface and the bookkeeping both backends share: wanted paths, spares,
    failures.

    The daemon changes what it wants path by path (:meth:`update`), so a cd costs in
    proportion to what that shell's answer depends on, not to every shell's. Up to
    KEEP_SPARE watches no longer wanted are kept, least recently wanted dropped first:
    moving back and forth between projects then costs no new watch, and cached answers
    for those directories stay valid.
    """

    def __init__(self) -> None:
        self._flags: dict[str, int] = {}  # watched path -> the flags it was added with
        self._wanted: dict[str, int] = {}  # path -> flags, whether it is watched or not
        self._spare: OrderedDict[str, None] = OrderedDict()  # watched, not wanted: oldest first
        self._failed: set[str] = set()
        self._limits_logged: set[int] = set()

    def is_watched(self, path: str) -> bool:
        """True when changes to ``path`` are being reported."""
        return path in self._flags

    def watched(self) -> Iterable[str]:
        """Every watched path (wanted or spare)."""
        return self._flags.keys()

    def update(self, changes: Mapping[str, int]) -> set[str]:
        """Want each path with these flags (0: no longer wanted); return the paths whose
        watch was added (or changed: what happened in between may not have been
        reported). A wanted path that does not exist is tried again by :meth:`retry`.
        """
        added = set()
        for path, flags in changes.items():
            if not flags:
                if self._wanted.pop(path, None) is not None and path in self._flags:
                    self._spare[path] = None
                continue
            self._wanted[path] = flags
            self._spare.pop(path, None)
            if self._flags.get(path) != flags and self._try_add(path, flags):
                added.add(path)
        while len(self._spare) > KEEP_SPARE:
            self.drop(self._spare.popitem(last=False)[0])
        return added

    def retry(self) -> set[str]:
        """Try again to watch the wanted paths that are not watched (they did not exist,
        or their watch died with them); return those added."""
        return {
            path
            for path, flags in list(self._wanted.items())
            if path not in self._flags and self._try_add(path, flags)
        }

    def set_watched(self, wanted: Mapping[str, int]) -> set[str]:
        """Want exactly ``wanted`` (path -> flags); return the paths added."""
        changes = dict.fromkeys((p for p in self._wanted if p not in wanted), 0)
        changes.update(wanted)
        return self.update(changes) | self.retry()

    def _try_add(self, path: str, flags: int) -> bool:
        try:
            self._add(path, flags)
        except OSError as exc:
            self._flags.pop(path, None)
            if path not in self._failed:
                self._failed.add(path)
                if exc.errno in LIMITS:  # the same for every path: said once
                    if exc.errno not in self._limits_logged:
                        self._limits_logged.add(exc.errno)
                        log.warning("cannot watch %r (and maybe more): %s", path, exc)
                elif os.path.lexists(path):
                    log.warning("cannot watch %r: %s", path, exc)
            return False
        self._flags[path] = flags
        self._failed.discard(path)
        return True

    def drop(self, path: str) -> None:
        """Stop watching ``path`` (it stays wanted, if it was)."""
        self._spare.pop(path, None)
        if self._flags.pop(path, None) is not None:
            self._remove(path)

    def _forget(self, path: str) -> None:
        """The backend's watch on ``path`` is gone: forget it (it stays wanted)."""
        self._spare.pop(path, None)
        self._flags.pop(path, None)

    def fileno(self) -> int:
        """Readable when changes are waiting (for the daemon's selector)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start reporting (threads, where the backend has any)."""

    def stop(self) -> None:
        """Stop reporting and release what the backend holds."""

    def read(self) -> list[Change]:
        """Every change reported since the last call (never blocks)."""
        raise NotImplementedError

    def _add(self, path: str, flags: int) -> None:
        raise NotImplementedError

    def _remove(self, path: str) -> None:
        raise NotImplementedError


class InotifyWatcher(Watcher):
    """Linux: one inotify fd, read by the daemon's selector (no thread)."""

    def __init__(self) -> None:
        super().__init__()
        from watchdog.observers import inotify_c  # Linux only: loads libc's inotify_*

        self._c = inotify_c
        k = inotify_c.InotifyConstants
        self._entries = k.IN_CREATE | k.IN_DELETE | k.IN_MOVED_FROM | k.IN_MOVED_TO
        self._self_gone = k.IN_DELETE_SELF | k.IN_MOVE_SELF | k.IN_UNMOUNT
        self._k = k
        fd = inotify_c.inotify_init()
        if fd < 0:
            import ctypes

            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init: {LIMIT_TEXT.get(err) or os.strerror(err)}")
        os.set_blocking(fd, False)
        os.set_inheritable(fd, False)
        self.fd = fd
        # One watch per inode: a directory reached by two paths (a symlink above it, a
        # bind mount) has one watch descriptor, reported under each of its names.
        self._wd_paths: dict[int, list[str]] = {}
        self._path_wd: dict[str, int] = {}

    def fileno(self) -> int:
        """Readable when changes are waiting (for the daemon's selector)."""
        return self.fd

    def start(self) -> None:
        """Nothing to start: there is no thread."""

    def stop(self) -> None:
        """Close the inotify fd (every watch goes with it)."""
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def mask(self, flags: int) -> int:
        """The kernel event mask for a watch with these flags."""
        k = self._k
        mask = k.IN_DONT_FOLLOW | k.IN_DELETE_SELF | k.IN_MOVE_SELF
        if not flags & FILE:  # a file has no entries: only its own content and attributes
            mask |= k.IN_ONLYDIR | k.IN_EXCL_UNLINK
            if flags & ENTRIES:
                mask |= self._entries
        if flags & WRITES:
            mask |= k.IN_CLOSE_WRITE
        if flags & ATTRS:
            mask |= k.IN_ATTRIB
        return mask

    def _add_watch(self, path: str, flags: int) -> int:
        wd = self._c.inotify_add_watch(self.fd, os.fsencode(path), self.mask(flags))
        if wd < 0:
            import ctypes

            err = ctypes.get_errno()
            raise OSError(err, LIMIT_TEXT.get(err) or os.strerror(err), path)
        return wd

    def _add(self, path: str, flags: int) -> None:
        wd = self._add_watch(path, flags)
        stale = self._path_wd.get(path)
        if stale is not None and stale != wd:  # the path names another inode now
            self._unname(path)
        names = self._wd_paths.setdefault(wd, [])
        if path not in names:
            names.append(path)
        self._path_wd[path] = wd
        if len(names) > 1:  # the mask just set was this name's alone: all of them
            self._add_watch(path, self._union(names, path, flags))

    def _union(self, names: list[str], path: str | None = None, flags: int = 0) -> int:
        for name in names:
            if name != path:
                flags |= self._flags.get(name, 0)
        return flags

    def _unname(self, path: str) -> None:
        """``path`` no longer uses its watch; the watch goes when no name uses it."""
        wd = self._path_wd.pop(path, None)
        names = self._wd_paths.get(wd) if wd is not None else None
        if wd is None or names is None:
            return
        if path in names:
            names.remove(path)
        if not names:
            del self._wd_paths[wd]
            self._rm_watch(wd)
        else:
            with contextlib.suppress(OSError):
                self._add_watch(names[0], self._union(names))

    def _remove(self, path: str) -> None:
        self._unname(path)

    def _rm_watch(self, wd: int) -> None:
        # EINVAL when the kernel removed it already: nothing to do.
        self._c.inotify_rm_watch(self.fd, self._c.WatchDescriptor(wd))

    def _forget(self, path: str) -> None:
        """The kernel dropped (or will drop) this path's watch: forget it, quietly."""
        super()._forget(path)
        self._path_wd.pop(path, None)

    def read(self) -> list[Change]:
        """Every change waiting on the inotify fd (never blocks)."""
        chunks = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError as exc:
                log.warning("inotify read failed: %s", exc)
                break
            if not data:
                break
            chunks.append(data)
        return self.parse(b"".join(chunks))

    def parse(self, data: bytes) -> list[Change]:
        """The changes in a buffer of ``struct inotify_event`` records."""
        k = self._k
        out: list[Change] = []
        i, end = 0, len(data)
        while i + 16 <= end:
            wd, mask, _cookie, size = struct.unpack_from("iIII", data, i)
            name = os.fsdecode(data[i + 16 : i + 16 + size].rstrip(b"\0"))
            i += 16 + size
            if mask & k.IN_Q_OVERFLOW:
                out.append(Change("", "", OVERFLOW))
                continue
            names = self._wd_paths.get(wd)
            if not names:
                continue  # a watch removed since (its last events, IN_IGNORED)
            if mask & (k.IN_IGNORED | self._self_gone):
                # Deleted, moved (the watch would follow the inode elsewhere), unmounted,
                # or removed by the kernel: every name of it is gone.
                del self._wd_paths[wd]
                if not mask & k.IN_IGNORED:
                    self._rm_watch(wd)
                for path in names:
                    if path in self._flags:
                        self._forget(path)
                        out.append(Change(path, "", GONE, True))
                continue
            is_dir = bool(mask & k.IN_ISDIR)
            if mask & (k.IN_CREATE | k.IN_MOVED_TO):
                kind = CREATED
            elif mask & (k.IN_DELETE | k.IN_MOVED_FROM):
                kind = DELETED
            elif mask & k.IN_CLOSE_WRITE:
                kind = WRITTEN
            elif mask & k.IN_ATTRIB:
                kind = ATTRIB
            else:
                continue
            for path in list(names):
                out.append(Change(path, name, kind, is_dir))
                if kind in (CREATED, DELETED) and name:
                    # An entry replaced or removed: a watch on it follows the old inode.
                    entry = os.path.join(path, name)
                    if self._flags.get(entry, 0) & FILE:
                        self.drop(entry)
        return out


class ObserverWatcher(Watcher):
    """watchdog's Observer (macOS, BSD): its threads feed a queue and a self-pipe."""

    def __init__(self) -> None:
        super().__init__()
        from watchdog import events as ev
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        # Opens and reads are never interesting (and the daemon's own reads would loop).
        self._filter = [
            ev.DirCreatedEvent,
            ev.DirDeletedEvent,
            ev.DirMovedEvent,
            ev.DirAttribEvent,
            ev.FileCreatedEvent,
            ev.FileDeletedEvent,
            ev.FileModifiedEvent,
            ev.FileMovedEvent,
            ev.FileClosedEvent,
            ev.FileAttribEvent,
        ]

        self.events: queue.SimpleQueue[FileSystemEvent] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        events, wake_w = self.events, self._wake_w

        class Forward(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                events.put(event)
                # A full pipe means the daemon is already due to wake up.
                with contextlib.suppress(BlockingIOError):
                    os.write(wake_w, b"w")

        self._handler = Forward()
        self._observer = Observer()
        self._scheduled: dict[str, object] = {}

    def fileno(self) -> int:
        """Readable when events are waiting."""
        return self._wake_r

    def start(self) -> None:
        """Start watchdog's threads."""
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        """Stop watchdog's threads."""
        self._observer.stop()

    def _add(self, path: str, flags: int) -> None:
        # watchdog watches a file through its directory, which the daemon watches anyway
        # (a pointer file's directory is a level of the same answer): nothing to add.
        if flags & FILE or path in self._scheduled:
            return
        if not os.path.isdir(path):
            raise FileNotFoundError(2, "not a directory", path)
        self._scheduled[path] = self._observer.schedule(
            self._handler, path, recursive=False, event_filter=self._filter
        )

    def _remove(self, path: str) -> None:
        watch = self._scheduled.pop(path, None)
        if watch is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._observer.unschedule(watch)  # type: ignore[arg-type]

    def read(self) -> list[Change]:
        """Every event since the last call, as changes (watchdog's synthesized
        directory-modified events dropped)."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass
        out: list[Change] = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return out
            src = os.fsdecode(event.src_path)
            kind = {
                "created": CREATED,
                "deleted": DELETED,
                "moved": DELETED,
                "modified": WRITTEN,
                "closed": WRITTEN,
                "attrib": ATTRIB,
            }.get(event.event_type)
            if kind is None or (event.event_type == "modified" and event.is_directory):
                continue
            if src in self._scheduled and kind == DELETED:
                self._forget(src)
                self._remove(src)
                out.append(Change(src, "", GONE, True))
            else:
                out.append(Change(*os.path.split(src), kind, event.is_directory))
            dest = os.fsdecode(getattr(event, "dest_path", "") or "")
            if event.event_type == "moved" and dest:
                out.append(Change(*os.path.split(dest), CREATED, event.is_directory))


class NullWatcher(Watcher):
    """No file events at all (no inotify instance left): nothing is ever watched, so the
    daemon caches nothing and computes each answer on request (and rescans the runtime
    dir on a timer, for new shells)."""

    def __init__(self) -> None:
        super().__init__()
        self._never_r, self._never_w = os.pipe()  # a selectable fd that never fires

    def fileno(self) -> int:
        """Never readable."""
        return self._never_r

    def read(self) -> list[Change]:
        """Nothing ever changes."""
        return []

    def _try_add(self, path: str, flags: int) -> bool:
        return False  # said once, when this backend was chosen

    def _add(self, path: str, flags: int) -> None:
        raise OSError(errno.ENOSYS, "no file watching")

    def _remove(self, path: str) -> None:
        """Nothing is watched."""


def make_watcher() -> Watcher:
    """The backend for this platform (see the module's docstring); a NullWatcher when
    none can start (the inotify instance limit reached: the daemon still serves)."""
    try:
        if (
            sys.platform.startswith("linux")
            and os.environ.get("SHELLHOOK_WATCHDOG_OBSERVER") != "1"
        ):
            # watchdog's observer is inotify here too: when ours cannot start (the
            # instance limit), neither can it, and it would fail only at the first watch.
            return InotifyWatcher()
        return ObserverWatcher()
    except (ImportError, OSError, AttributeError) as exc:
        log.warning("no file watching (%s): answers computed on each request", exc)
        return NullWatcher()
