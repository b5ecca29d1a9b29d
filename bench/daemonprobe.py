"""What a running daemon costs, read from outside it (Linux): /proc and its inotify marks.

Nothing here asks the daemon anything, so it measures any version of it alike:

* :func:`proc_status`: threads and resident memory (``/proc/PID/status``);
* :func:`cpu_seconds`: CPU time used so far, all threads (``/proc/PID/stat``);
* :class:`Mirror`: reads the daemon's inotify marks (``/proc/PID/fdinfo``: inode, device
  and event mask of every watch), finds the watched paths among the candidates it is
  given, and adds the same marks to an inotify instance of its own. Every event the
  kernel then queues for the mirror is one it queues for the daemon: a count of the
  events the daemon is woken for, independent of timing and load.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import select
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable

IN_ALL_EVENTS = 0xFFF
IN_IGNORED = 0x8000
IN_Q_OVERFLOW = 0x4000
IN_EXCL_UNLINK = 0x04000000
IN_DONT_FOLLOW = 0x02000000

_MARK = re.compile(r"inotify wd:\w+ ino:([0-9a-f]+) sdev:([0-9a-f]+) mask:([0-9a-f]+)")


def available() -> bool:
    """True where /proc tells threads, memory and inotify marks (Linux)."""
    return os.path.isdir("/proc/self/fdinfo")


def proc_status(pid: int) -> dict[str, int]:
    """``{"threads": N, "rss_kb": N}`` of process ``pid``."""
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key == "Threads":
                out["threads"] = int(value)
            elif key == "VmRSS":
                out["rss_kb"] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time process ``pid`` used so far (every thread)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def inotify_marks(pid: int) -> list[tuple[int, int, int]]:
    """``(st_dev, st_ino, mask)`` of every inotify watch process ``pid`` holds."""
    marks = []
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        with contextlib.suppress(OSError), open(os.path.join(fdinfo, fd)) as fh:
            for m in _MARK.finditer(fh.read()):
                sdev = int(m.group(2), 16)  # the kernel's dev_t: major << 20 | minor
                dev = os.makedev(sdev >> 20, sdev & 0xFFFFF)
                marks.append((dev, int(m.group(1), 16), int(m.group(3), 16)))
    return marks


def candidate_paths(roots: Iterable[str], depth: int = 6) -> list[str]:
    """``roots``, their ancestors and what lies below them (``depth`` levels, no
    symlinks followed): where to look for the daemon's watched paths."""
    seen: dict[str, None] = {}
    for root in roots:
        path = os.path.abspath(root)
        while True:
            seen[path] = None
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        base = os.path.abspath(root).rstrip("/").count("/")
        for top, dirs, files in os.walk(root):
            if top.count("/") - base >= depth:
                dirs[:] = []
            for name in dirs + files:
                seen[os.path.join(top, name)] = None
    return list(seen)


class Mirror:
    """An inotify instance with the same watches (paths and masks) as a process's."""

    def __init__(self, pid: int, candidates: Iterable[str]) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        by_inode: dict[tuple[int, int], str] = {}
        for path in candidates:
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                by_inode.setdefault((st.st_dev, st.st_ino), path)
        self.paths: dict[int, str] = {}  # our wd -> path
        self.masks: dict[str, int] = {}  # path -> the daemon's mask
        self.unmatched = 0  # marks on paths not among the candidates
        for dev, ino, mask in inotify_marks(pid):
            found = by_inode.get((dev, ino))
            if found is None:
                self.unmatched += 1
                continue
            wanted = (mask & (IN_ALL_EVENTS | IN_EXCL_UNLINK)) | IN_DONT_FOLLOW
            wd = self._add(self.fd, os.fsencode(found), wanted)
            if wd >= 0:
                self.paths[wd] = found
                self.masks[found] = mask
        self.events: Counter[str] = Counter()  # path -> events since the last take()
        self._lock = threading.Lock()
        # Read as events come, as the daemon does: the kernel merges identical events
        # queued back to back only while they are unread.
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        while True:
            ready = select.select([self.fd, self._stop_r], [], [])[0]
            if self._stop_r in ready:
                return
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            i = 0
            with self._lock:
                while i + 16 <= len(data):
                    wd, mask, _cookie, size = struct.unpack_from("iIII", data, i)
                    i += 16 + size
                    if mask & IN_IGNORED:
                        continue
                    self.events[self.paths.get(wd, "?")] += 1

    def take(self, settle: float = 0.05) -> Counter[str]:
        """Events per watched path since the last call (after ``settle`` s for the last
        ones to arrive)."""
        time.sleep(settle)
        with self._lock:
            taken, self.events = self.events, Counter()
        return taken

    def close(self) -> None:
        """Stop reading; release the instance."""
        os.write(self._stop_w, b"x")
        self._thread.join()
        for fd in (self.fd, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
