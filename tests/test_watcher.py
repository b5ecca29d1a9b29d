"""The daemon's file events: kernel masks that leave writes out, names that matter."""

from __future__ import annotations

import os
import sys
import time

import pytest

from shellhook import protocol
from shellhook.daemon import control
from shellhook.daemon import watcher as w
from tests.test_daemon import FakeShell, env  # noqa: F401  (env is a fixture)

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


@pytest.fixture
def inotify():
    watcher = w.InotifyWatcher()
    yield watcher
    watcher.stop()


@linux
def test_entries_only_writes_wake_nobody(inotify, tmp_path):
    assert inotify.set_watched({str(tmp_path): w.ENTRIES}) == {str(tmp_path)}
    log = tmp_path / "build.log"
    log.write_text("")
    assert [(c.name, c.kind) for c in inotify.read()] == [("build.log", w.CREATED)]
    for i in range(200):  # appended and closed, like a shell history or a build log
        with open(log, "a") as fh:
            fh.write(f"line {i}\n")
    os.utime(log)
    assert inotify.read() == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub").rmdir()
    assert [(c.name, c.kind, c.is_dir) for c in inotify.read()] == [
        ("sub", w.CREATED, True),
        ("sub", w.DELETED, True),
    ]


@linux
def test_runtime_dir_traffic_is_silent(inotify, tmp_path):
    inotify.set_watched({str(tmp_path): w.ENTRIES | w.WRITES})
    fifo = tmp_path / "1-x.req"
    os.mkfifo(fifo, 0o600)
    reply = tmp_path / "1-x.a"
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    rfd = os.open(reply, os.O_RDWR | os.O_CREAT, 0o600)
    inotify.read()
    for _ in range(50):  # a request, the daemon's reply rewritten in place
        os.write(fd, b"Q\0")
        os.read(fd, 100)
        os.pwrite(rfd, b"R\x001\x00E\x00\x00", 0)
        os.ftruncate(rfd, 8)
    assert inotify.read() == []
    (tmp_path / "1-x.q").write_bytes(b"Q\0")  # fish's request file: created and written
    assert [(c.name, c.kind) for c in inotify.read()] == [
        ("1-x.q", w.CREATED),
        ("1-x.q", w.WRITTEN),
    ]
    os.close(fd)
    os.close(rfd)


@linux
def test_pointer_file_content_and_replacement(inotify, tmp_path):
    pointer = tmp_path / ".venv"
    pointer.write_text("one\n")
    inotify.set_watched({str(tmp_path): w.ENTRIES, str(pointer): w.FILE | w.WRITES | w.ATTRS})
    pointer.write_text("two\n")  # in place
    assert [(c.watched, c.name, c.kind) for c in inotify.read()] == [(str(pointer), "", w.WRITTEN)]
    new = tmp_path / "new"
    new.write_text("three\n")
    inotify.read()
    os.replace(new, pointer)  # an editor's or write_atomic's rename
    changes = inotify.read()
    assert (str(tmp_path), ".venv", w.CREATED) in [(c.watched, c.name, c.kind) for c in changes]
    assert not inotify.is_watched(str(pointer))  # it watched the old inode: dropped
    assert str(pointer) in inotify.set_watched(
        {str(tmp_path): w.ENTRIES, str(pointer): w.FILE | w.WRITES | w.ATTRS}
    )


@linux
def test_a_deleted_directory_is_gone_and_unwatched(inotify, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    inotify.set_watched({str(sub): w.ENTRIES})
    sub.rmdir()
    assert [(c.watched, c.kind) for c in inotify.read()] == [(str(sub), w.GONE)]
    assert not inotify.is_watched(str(sub))
    assert inotify.set_watched({str(sub): w.ENTRIES}) == set()  # missing: not watched


@linux
def test_daemon_runs_without_threads(env):  # noqa: F811
    st = control.ensure(wait=5)
    shell = FakeShell(st.rundir)
    proj = env.project("proj")
    assert ("A", str(proj / ".venv")) in shell.ask(proj)
    # At rest: a cache miss ran on a thread of its own (daemon/offload.py), joined before
    # the answer; the kernel lets it go a moment after the join.
    deadline = time.monotonic() + 2
    while True:
        with open(f"/proc/{st.pid}/status") as fh:
            threads = next(int(line.split()[1]) for line in fh if line.startswith("Threads:"))
        if threads == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert threads == 1


def test_pointer_rewritten_in_place_nudges(env):  # noqa: F811
    one = env.make_venv(env.workon_home / "one")
    two = env.make_venv(env.workon_home / "two")
    proj = env.home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("one\n")
    st = control.ensure(wait=5)
    shell = FakeShell(st.rundir)
    assert ("A", str(one)) in shell.ask(proj)
    for i in range(100):  # noise in the same directory changes nothing
        with open(proj / "build.log", "a") as fh:
            fh.write(f"{i}\n")
    with open(proj / ".venv", "w") as fh:  # in place, as `echo two > .venv` does
        fh.write("two\n")
    shell.wait_signal(protocol.DOORBELL_NUDGE)
    ops = shell.ask(proj, venv=str(one), marker=str(one), owned=True)
    assert ("A", str(two)) in ops


@linux
def test_one_directory_under_two_names_is_reported_under_both(inotify, tmp_path):
    (tmp_path / "real" / "proj").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    real, linked = str(tmp_path / "real" / "proj"), str(tmp_path / "link" / "proj")
    assert inotify.set_watched({real: w.ENTRIES, linked: w.ENTRIES}) == {real, linked}
    assert inotify.set_watched({real: w.ENTRIES, linked: w.ENTRIES}) == set()  # settled
    (tmp_path / "real" / "proj" / ".venv").mkdir()
    assert sorted(c.watched for c in inotify.read()) == sorted([real, linked])
    inotify.set_watched({linked: w.ENTRIES})  # the other name is a spare now
    inotify.drop(real)
    (tmp_path / "real" / "proj" / ".venv").rmdir()
    assert [c.watched for c in inotify.read()] == [linked]
