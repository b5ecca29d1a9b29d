"""A reference-counted set of non-recursive watchdog watches feeding one wake-up pipe.

watchdog runs its own threads; this module hands their events to the daemon's single
thread through a queue and a self-pipe, so the daemon needs no locks and no polling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue

from watchdog import events as watchdog_events
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

log = logging.getLogger("shellhook.daemon")

KEEP_SPARE = 64  # watches kept after no shell needs them any more

# Opens and reads are never interesting (and the daemon's own reads would loop).
# Attribute changes are: a chmod or chown decides whether a venv is refused (a watchdog
# without the Attrib events reports them as modifications, which are in the list).
ATTRIB_EVENTS = [
    getattr(watchdog_events, name)
    for name in ("DirAttribEvent", "FileAttribEvent")
    if hasattr(watchdog_events, name)
]
EVENT_FILTER = [
    *ATTRIB_EVENTS,
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
]


class _Forward(FileSystemEventHandler):
    def __init__(self, events: queue.SimpleQueue, wake_fd: int) -> None:
        self.events = events
        self.wake_fd = wake_fd

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.events.put(event)
        # A full pipe means the daemon is already due to wake up.
        with contextlib.suppress(BlockingIOError):
            os.write(self.wake_fd, b"w")


class Watcher:
    """Keeps watchdog watches equal to a desired set of directories."""

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[FileSystemEvent] = queue.SimpleQueue()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self._handler = _Forward(self.events, self.wake_w)
        self._observer = Observer()
        self._watches: dict[str, ObservedWatch] = {}
        self._failed: set[str] = set()
        self._wanted_at: dict[str, int] = {}
        self._generation = 0

    def start(self) -> None:
        """Start watchdog's threads."""
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        """Stop watchdog's threads."""
        self._observer.stop()

    def is_watched(self, path: str) -> bool:
        """True when changes in directory ``path`` are being reported."""
        return path in self._watches

    def wake(self) -> None:
        """Make the daemon's selector return (from a signal handler, say)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self.wake_w, b"w")

    def set_watched(self, wanted: set[str]) -> set[str]:
        """Watch ``wanted`` (those that exist and can be watched); return the new ones.

        Up to KEEP_SPARE watches no longer wanted are kept, least recently wanted dropped
        first: moving back and forth between projects then costs no watchdog thread
        start-up, and cached answers for those directories stay valid.
        """
        added = set()
        self._generation += 1
        for path in wanted:
            self._wanted_at[path] = self._generation
        spare = sorted(set(self._watches) - wanted, key=lambda p: self._wanted_at.get(p, 0))
        for path in spare[: max(0, len(spare) - KEEP_SPARE)]:
            self._wanted_at.pop(path, None)
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._observer.unschedule(self._watches.pop(path))
        for path in wanted - set(self._watches):
            if not os.path.isdir(path):
                continue
            try:
                self._watches[path] = self._observer.schedule(
                    self._handler, path, recursive=False, event_filter=EVENT_FILTER
                )
                self._failed.discard(path)
                added.add(path)
            except OSError as exc:
                if path not in self._failed:  # e.g. inotify watch limit: say it once
                    log.warning("cannot watch %r: %s", path, exc)
                    self._failed.add(path)
        return added

    def drop(self, path: str) -> None:
        """Stop watching ``path`` (it was deleted or moved: its watch is dead)."""
        watch = self._watches.pop(path, None)
        self._wanted_at.pop(path, None)
        if watch is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._observer.unschedule(watch)

    def drain(self) -> list[FileSystemEvent]:
        """Every event that arrived since the last call."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 4096):
                pass
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out
