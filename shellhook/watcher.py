"""A reference-counted set of non-recursive watchdog watches feeding one wake-up pipe.

watchdog runs its own threads; this module hands their events to the daemon's single
thread through a queue and a self-pipe, so the daemon needs no locks and no polling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue

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

log = logging.getLogger("shellhook.daemon")

# Opens and reads are never interesting (and the daemon's own reads would loop).
EVENT_FILTER = [
    DirCreatedEvent, DirDeletedEvent, DirModifiedEvent, DirMovedEvent,
    FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent,
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
        self._watches: dict[str, object] = {}
        self._failed: set[str] = set()

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
        """Watch exactly ``wanted`` (those that exist and can be watched); return new ones."""
        added = set()
        for path in set(self._watches) - wanted:
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
