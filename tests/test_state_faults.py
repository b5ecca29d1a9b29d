"""Adversarial cases 53-55 (security.md §3 H): trust saves killed at a random point,
concurrent writers, a full disk. Each records its figures (issue 13) for the summary.

``SHELLHOOK_SOAK=1`` runs case 53's full 1000 SIGKILLs; the default run does 100.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shellhook import config, trust
from shellhook.files import STALE_TEMP_AGE
from shellhook.resolver import Resolver, Scope
from tests.conftest import Figures, Sandbox, StartShell

SOAK = os.environ.get("SHELLHOOK_SOAK") == "1"
KILLS = 1000 if SOAK else 100  # case 53: SIGKILLs in all, a tenth of them of the real CLI

# A fork server: imports shellhook once, then for each line read (an index into SAVES)
# forks a child saving the same project's record over and over, from that save on, until
# the test kills it. It prints the child's pid, then its wait status once it is dead.
SAVER = """
import os, sys
from pathlib import Path
from shellhook.trust import TrustStore

store, project, venv = TrustStore(Path(sys.argv[1])), sys.argv[2], sys.argv[3]
SAVES = (
    lambda: store.allow(project, venv, b"old"),
    lambda: store.allow(project, venv, b"new"),
    lambda: store.deny(project),
)
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            n = int(line)
            while True:
                SAVES[n % len(SAVES)]()
                n += 1
        finally:
            os._exit(70)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def store_of(sandbox: Sandbox) -> trust.TrustStore:
    """The trust store the sandbox's shellhook commands use."""
    return trust.TrustStore(Path(sandbox.env["XDG_STATE_HOME"]) / "shellhook" / "trust")


def temp_files(directory: Path) -> list[Path]:
    """What interrupted ``write_atomic`` calls left below ``directory``."""
    return sorted(p for p in directory.rglob(".*.tmp"))


def record_versions(store: trust.TrustStore, project: str, venv: str) -> dict[str, bytes]:
    """Every complete allow record a save of ``project`` in case 53 can leave, by name,
    as the save function itself writes them (pointer b"old", b"new", none: the CLI's)."""
    path = store.root / "allow" / f"{trust._key(project)}.json"
    versions = {}
    for name, pointer in (("old", b"old"), ("new", b"new"), ("cli", None)):
        store.allow(project, venv, pointer)
        versions[name] = path.read_bytes()
    return versions


def project_state(store: trust.TrustStore, project: str, versions: dict[str, bytes]) -> str:
    """``allowed (NAME)`` or ``denied`` when the project's records are a complete old or
    new version, else what is wrong (``lost``: neither record is there)."""
    key = trust._key(project)
    allow, deny = store.root / "allow" / f"{key}.json", store.root / "deny" / key
    try:
        allowed = allow.read_bytes()
    except FileNotFoundError:
        allowed = None
    try:
        denied = deny.read_bytes()
    except FileNotFoundError:
        denied = None
    names = [name for name, data in versions.items() if data == allowed]
    if allowed is not None and not names:
        return f"partial allow record {allowed[:60]!r}"
    if denied is not None and denied != os.fsencode(os.path.realpath(project)) + b"\n":
        return f"partial deny record {denied[:60]!r}"
    if denied is not None:
        return "denied"  # deny beats allow: an allow record beside it is inert
    if names:
        return f"allowed ({names[0]})"
    return "lost"


def save_time(store: trust.TrustStore, project: str, venv: str) -> float:
    """Seconds one save of an allow record takes here (the median of 11)."""
    times = []
    for _ in range(11):
        start = time.perf_counter()
        store.allow(project, venv, b"old")
        times.append(time.perf_counter() - start)
    return sorted(times)[5]


def kill_forked_saves(
    store: trust.TrustStore,
    project: str,
    venv: str,
    versions: dict[str, bytes],
    kills: int,
    rng: random.Random,
) -> list[str]:
    """SIGKILL ``kills`` forked savers at a random point; the state after each kill."""
    window = 3 * save_time(store, project, venv)  # the kill lands within about 3 saves
    saver = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(store.root), project, venv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert saver.stdin is not None and saver.stdout is not None
    states = []
    try:
        assert saver.stdout.readline() == "ready\n"
        for _ in range(kills):
            saver.stdin.write(f"{rng.randrange(3)}\n")
            saver.stdin.flush()
            pid = int(saver.stdout.readline())
            time.sleep(rng.uniform(0, window))
            os.kill(pid, signal.SIGKILL)
            status = int(saver.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
            states.append(project_state(store, project, versions))
    finally:
        saver.stdin.close()
        saver.wait(timeout=10)
    return states


def kill_cli_saves(
    sandbox: Sandbox,
    project: str,
    versions: dict[str, bytes],
    kills: int,
    rng: random.Random,
) -> list[str]:
    """SIGKILL ``kills`` real ``shellhook allow`` / ``deny`` processes at a random point
    of their run (start-up included); the state after each kill."""
    store = store_of(sandbox)
    start = time.perf_counter()
    sandbox.shellhook("allow", project)
    window = 1.2 * (time.perf_counter() - start)
    states = []
    for _ in range(kills):
        command = rng.choice(("allow", "deny"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "shellhook", command, project],
            env=sandbox.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0, window))
        proc.kill()
        proc.wait(timeout=30)
        states.append(project_state(store, project, versions))
    return states


def test_saves_killed_at_a_random_point_leave_the_old_or_the_new_record(
    sandbox: Sandbox, figures: Figures
) -> None:
    """Case 53: 100 SIGKILLs (1000 with ``SHELLHOOK_SOAK=1``) of trust saves, each at a
    random point: nine in ten of a forked child of one process that imported shellhook,
    saving one project's records in turn (allow with pointer "old", "new", deny: every
    transition between an allow and a deny), the rest of real ``shellhook allow`` and
    ``deny`` processes. After each kill the project is allowed by one complete record
    or denied by one, never neither, never a partial file. The temp files the killed
    saves left (made old enough to be stale) are gone after the next ``shellhook allow``
    (its directory) and the daemon's next start (all of them).
    """
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    proj = sandbox.project("proj", trust=False)
    project, venv = os.path.realpath(proj), os.path.realpath(proj / ".venv")
    store = store_of(sandbox)
    versions = record_versions(store, project, venv)
    cli_kills = KILLS // 10
    states = kill_forked_saves(store, project, venv, versions, KILLS - cli_kills, rng)
    states += kill_cli_saves(sandbox, project, versions, cli_kills, rng)
    bad = [s for s in states if s != "denied" and not s.startswith("allowed")]
    left = temp_files(store.root)
    figures.add("SIGKILLs during trust saves", len(states))
    figures.add("SIGKILLs during trust saves that left a temp file", len(left))
    figures.add("trust records lost (SIGKILL during save)", len(bad))
    assert not bad, f"seed {seed}: {len(bad)} of {len(states)} kills: {sorted(set(bad))}"

    stale = time.time() - STALE_TEMP_AGE - 60
    for path in left:
        os.utime(path, (stale, stale))
    sandbox.shellhook("allow", project)
    assert temp_files(store.root / "allow") == []
    sandbox.shellhook("daemon", "start")  # returns once it runs, maybe before it swept
    deadline = time.monotonic() + 10
    while temp_files(store.root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert temp_files(store.root) == []
    assert project_state(store, project, versions) == "allowed (cli)"


ALLOWS = 50  # case 54
MKVENVS = 4
CONTESTED = 6  # allows and denies of one more project, half each


def verdict_of(sandbox: Sandbox, store: trust.TrustStore, proj: Path) -> trust.Verdict:
    """The trust verdict on ``proj``'s venv, as the daemon would decide it."""
    scope = Scope(workon_home=str(sandbox.workon_home))
    res = Resolver(scope=scope).resolve(str(proj))
    return store.verdict(res, config.Config(), str(sandbox.workon_home))


def test_concurrent_allows_lose_no_record(sandbox: Sandbox, figures: Figures) -> None:
    """Case 54: 50 ``shellhook allow`` of distinct projects at once, with 4 ``mkvenv``
    (each trusts the venv it makes) and 6 ``allow``/``deny`` of one more project, while
    the daemon watches the store. Every command succeeds; each of the 54 records is
    there, complete and binds its own project and venv, whose venv is then allowed; the
    contested project ends allowed by a complete record or denied, nothing in between.
    """
    projects = [sandbox.project(f"p{i:02}", trust=False) for i in range(ALLOWS)]
    made = []
    for i in range(MKVENVS):
        proj = sandbox.home / f"m{i}"
        proj.mkdir()
        (proj / "pyproject.toml").write_text("[project]\nname = 'm'\n")
        made.append(proj)
    contested = sandbox.project("contested", trust=False)
    store = store_of(sandbox)
    versions = record_versions(store, str(contested), str(contested / ".venv"))
    store.forget(str(contested))
    sandbox.shellhook("daemon", "start")
    commands = [(["allow", str(p)], p) for p in projects]
    commands += [(["mkvenv", "--without-pip", "--no-uv"], p) for p in made]
    commands += [([("allow", "deny")[i % 2], str(contested)], contested) for i in range(CONTESTED)]
    random.shuffle(commands)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shellhook", *argv],
            cwd=cwd,
            env={**sandbox.env, "PWD": str(cwd)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv, cwd in commands
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    failed = [(argv, err) for (argv, _), p, err in zip(commands, procs, errors) if p.returncode]
    assert not failed

    lost = []
    for proj in projects + made:
        record = store.allowed_record(str(proj))
        if (
            record is None
            or record["project"] != os.path.realpath(proj)
            or record["venv"] != os.path.realpath(proj / ".venv")
            or not verdict_of(sandbox, store, proj).trusted
        ):
            lost.append((proj.name, record))
    figures.add("trust records lost (50 concurrent allows)", len(lost))
    assert not lost
    state = project_state(store, str(contested), versions)
    assert state in ("denied", "allowed (cli)"), state
    assert temp_files(store.root) == []


def test_a_trust_change_waits_for_the_one_in_progress(sandbox: Sandbox) -> None:
    """Case 54: while another writer holds the store (its flock), ``allow`` waits, so an
    allow and a deny of one project never interleave their two steps; it goes on once
    the lock is released (as when its holder dies)."""
    proj = sandbox.project("proj", trust=False)
    store = store_of(sandbox)
    store.ensure()
    fd = os.open(store.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        saver = threading.Thread(target=store.allow, args=(str(proj), str(proj / ".venv"), None))
        saver.start()
        saver.join(0.3)
        assert saver.is_alive() and store.allowed_record(str(proj)) is None
    finally:
        os.close(fd)
    saver.join(10)
    assert not saver.is_alive() and store.allowed_record(str(proj)) is not None


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str = "64k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``directory`` (made), unmounted afterwards: root
    only, a failure under CI (which runs as root), else a skip."""
    directory.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)]
    done = subprocess.run(mount, capture_output=True, text=True) if os.geteuid() == 0 else None
    if done is None or done.returncode != 0:
        why = done.stderr.strip() if done else "mounting a tmpfs needs root"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the ENOSPC test as root: {why}")
        pytest.skip(why)
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(directory)], check=True)


def fill(directory: Path) -> int:
    """Fill the file system of ``directory`` up with one file; the bytes written."""
    written = 0
    with open(directory / "filler", "wb", buffering=0) as fh:
        chunk = b"x" * 4096
        while True:
            try:
                written += fh.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                return written


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed (asserted: non-zero, no traceback)."""
    lines = proc.stderr.splitlines()
    assert proc.returncode != 0 and len(lines) == 1, (proc.returncode, proc.stderr)
    assert lines[0].startswith("shellhook: ") and "Traceback" not in proc.stderr
    return lines[0]


def test_a_full_disk_fails_allow_in_one_line_and_keeps_the_store(
    sandbox: Sandbox, start_shell: StartShell, figures: Figures
) -> None:
    """Case 55: the state dir on a 64 KiB tmpfs, filled up. ``allow`` of a new project,
    of an allowed one and of a denied one each exit non-zero with one line on stderr
    (no traceback); every record is as it was, byte for byte (the allowed project's venv
    still activates, the denied one stays denied); no temp file is left. ``deny`` of the
    allowed project fails the same way but still removes its allow record (a deny
    that cannot be written still revokes).
    """
    state = Path(sandbox.env["XDG_STATE_HOME"])
    kept, denied = sandbox.project("kept", trust=False), sandbox.project("denied", trust=False)
    new = sandbox.project("new", trust=False)
    with small_tmpfs(state):
        sandbox.shellhook("allow", str(kept))
        sandbox.shellhook("deny", str(denied))
        store = store_of(sandbox)
        before = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
        assert fill(state) > 0
        errors = [
            one_error_line(sandbox.shellhook("allow", str(p), check=False))
            for p in (new, kept, denied)
        ]
        after = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
        lost = sum(after.get(p) != data for p, data in before.items())
        figures.add("trust records lost (ENOSPC allow)", lost)
        figures.add("temp files left (ENOSPC allow)", len(temp_files(state)))
        assert all("No space left on device" in e for e in errors), errors
        assert after == before
        assert temp_files(state) == []
        assert verdict_of(sandbox, store, kept).reason == "allowed"
        assert verdict_of(sandbox, store, denied).denied
        which = sandbox.shellhook("which", str(kept))
        assert "activates automatically" in which.stdout
        sh = start_shell("bash", cwd=kept)  # its daemon's log is on the full disk too
        assert sh.venv() == str(kept / ".venv")
        sh.cd(denied)
        assert sh.venv() is None

        one_error_line(sandbox.shellhook("deny", str(kept), check=False))
        assert not verdict_of(sandbox, store, kept).trusted
        assert temp_files(state) == []
        sandbox.stop_daemon()


REMEMBER = """\
import sys, time
from pathlib import Path
from shellhook.known import KnownProjects
path, name, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
KnownProjects(path).remember(name)
"""


def test_concurrent_tool_projects_are_all_remembered(tmp_path: Path, figures: Figures) -> None:
    """Case 54, lsvenv's projects.json: the daemon and one-off Pythons each add the tool
    project they found, at once. Each reads the file again under a lock before writing:
    none drops what another added (20 writers, started at the same instant)."""
    path = tmp_path / "state" / "projects.json"
    names = [f"/projects/p{i:02}" for i in range(20)]
    start = time.time() + 1.0
    procs = [
        subprocess.Popen([sys.executable, "-c", REMEMBER, str(path), name, str(start)])
        for name in names
    ]
    assert all(proc.wait(timeout=60) == 0 for proc in procs)
    from shellhook.known import KnownProjects

    kept = KnownProjects(path).projects()
    figures.add("tool projects lost (20 concurrent writers)", len(set(names) - set(kept)))
    assert sorted(kept) == names
