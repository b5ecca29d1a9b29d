"""Work that may block in the file system, run on a thread under a deadline.

The daemon answers from its caches in its own thread. What needs the file system (a
cache miss) runs here, on a thread of its own that the daemon waits for at most
``deadline`` seconds and joins once it has its result: at rest the daemon has one thread
(DESIGN §8). A thread that does not answer in time is *lost*: a `stat` on a hung file
system (a stopped FUSE server, a dead NFS mount) cannot be cancelled, so it is left to
finish on its own and its result is dropped. The caller must treat whatever the job could
mutate as lost too (docs/threats.md, case 40). While ``max_stuck`` lost threads are still
running, no job runs at all: the thread count stays bounded. A lost thread that ends
calls ``on_lost_done`` (from that thread): the caller may now get an answer where it had
none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class Unavailable(Exception):
    """The job was not run: ``max_stuck`` lost threads are still running."""


class Lost(Unavailable):
    """The job did not finish in time: its thread (and what the job may mutate) is lost."""


class _Job:
    """One call of a job on a thread of its own."""

    def __init__(
        self, fn: Callable[[], object], tag: str, on_lost_done: Callable[[], None]
    ) -> None:
        self.fn = fn
        self.tag = tag  # what it is about (the caller's name for it)
        self.result: object = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lost = False  # given up on: on_lost_done once it ends
        self._lock = threading.Lock()  # done and lost change together
        self._on_lost_done = on_lost_done
        self.thread = threading.Thread(target=self._run, name="shellhook-fs", daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting thread, raised there
            self.error = exc
        with self._lock:
            self.done.set()
            lost = self.lost
        if lost:
            self._on_lost_done()

    def give_up(self) -> bool:
        """Mark the job lost, unless it ended meanwhile (then False: take its result)."""
        with self._lock:
            self.lost = not self.done.is_set()
            return self.lost


class Offload(Generic[T]):
    """Runs jobs on threads, waiting at most ``deadline`` seconds for each."""

    def __init__(
        self, deadline: float, max_stuck: int, on_lost_done: Callable[[], None] = lambda: None
    ) -> None:
        self.deadline = deadline
        self.max_stuck = max_stuck
        self.on_lost_done = on_lost_done
        self._stuck: list[_Job] = []

    def stuck(self) -> int:
        """How many lost threads are still running (blocked in the kernel, say)."""
        self._stuck = [job for job in self._stuck if not job.done.is_set()]  # (ending)
        return len(self._stuck)

    def stuck_on(self) -> list[str]:
        """The tags of the jobs lost threads are still running."""
        self.stuck()
        return [job.tag for job in self._stuck]

    def run(self, fn: Callable[[], T], tag: str = "") -> T:
        """``fn()``'s result, or its exception, when it ends within the deadline; else
        ``Lost``; ``Unavailable`` when ``max_stuck`` lost threads are still running.
        ``tag`` names the job for ``stuck_on``."""
        if self.stuck() >= self.max_stuck:
            raise Unavailable(f"{len(self._stuck)} threads are stuck")
        job = _Job(fn, tag, self.on_lost_done)
        job.thread.start()
        if not job.done.wait(self.deadline) and job.give_up():
            self._stuck.append(job)
            raise Lost(f"no result within {self.deadline * 1000:g} ms")
        job.thread.join()
        if job.error is not None:
            raise job.error
        return cast(T, job.result)
