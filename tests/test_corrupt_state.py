"""Case 52 (security.md §3 H), end to end: every state file shellhook reads, corrupted
every way, under a real interactive shell of each kind.

The files: an allow record, a deny record (trust.py), projects.json (known.py) and
config.toml (config.py). The corruptions: 0 bytes; random bytes (NUL, invalid UTF-8);
valid JSON or TOML of the wrong shape (a list, wrong types, missing keys, nested too
deeply to parse); a version of 0 and 999 (allow records: the one format with a version);
a directory, a FIFO, a 1 GiB sparse file, a symlink to /dev/zero in the file's place.

One shell session walks every corruption of one file, a project of its own each (the
hooks print each distinct warning once per session, and the warnings name the project):
each cd is timed, the daemon must survive, and the terminal must show no traceback and
at most one line per condition however often the project is entered.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shellhook import trust
from shellhook.known import KnownProjects
from shellhook.tools import poetry
from tests.conftest import Sandbox
from tests.drivers import ShellDriver

PROMPT_LIMIT = 2.0  # seconds for a cd and its prompt: room for a loaded 2-core machine
VISITS = 3  # times a project is entered (and left) per condition
GARBAGE = b"\x00\xff\xfe{\x00\xc3(\n\x00" + random.Random(52).randbytes(512)
NESTED = 30_000  # levels of brackets: valid, and below every size cap, but too deep to parse

Corrupt = Callable[[Path], None]


def clear(path: Path) -> None:
    """Remove whatever is at ``path``: a file, a link, a FIFO or a directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def put(data: bytes) -> Corrupt:
    """A corruption replacing the file with ``data``."""

    def corrupt(path: Path) -> None:
        clear(path)  # a new entry, as any rewrite makes: what the daemon hears
        path.write_bytes(data)

    return corrupt


def put_json(value: object) -> Corrupt:
    """A corruption replacing the file with ``value`` as JSON."""
    return put(json.dumps(value).encode())


def edited(**changes: object) -> Corrupt:
    """A corruption keeping the JSON record but for ``changes`` (a wrong type, a version)."""

    def corrupt(path: Path) -> None:
        record = json.loads(path.read_bytes())
        put_json({**record, **changes})(path)

    return corrupt


def directory(path: Path) -> None:
    """The file replaced by a directory (with an entry: not just an rmdir away)."""
    clear(path)
    path.mkdir()
    (path / "x").write_bytes(b"x")


def fifo(path: Path) -> None:
    """The file replaced by a FIFO nobody writes (an open for reading would block)."""
    clear(path)
    os.mkfifo(path)


def sparse_gib(path: Path) -> None:
    """The file replaced by 1 GiB of zeros that take no disk space."""
    clear(path)
    with open(path, "wb") as fh:
        fh.truncate(1 << 30)


def dev_zero(path: Path) -> None:
    """The file replaced by a symlink to /dev/zero (endless, never a regular file)."""
    clear(path)
    path.symlink_to("/dev/zero")


NOT_A_FILE: dict[str, Corrupt] = {
    "a directory": directory,
    "a FIFO": fifo,
    "1 GiB sparse": sparse_gib,
    "a symlink to /dev/zero": dev_zero,
}
BYTES: dict[str, Corrupt] = {"0 bytes": put(b""), "random bytes": put(GARBAGE)}
DEEP_JSON = put(b"[" * NESTED + b"]" * NESTED)

ALLOW_RECORD: dict[str, Corrupt] = {
    **BYTES,
    "a list": put_json([1, "version", None]),
    "wrong types (venv a number)": edited(venv=7, pointer_sha256=[]),
    "wrong types (runs a string)": edited(runs="python"),
    "missing keys": put_json({"version": trust.RECORD_VERSION}),
    "nested too deeply": DEEP_JSON,
    "version 0": edited(version=0),
    "version 999": edited(version=999),
    **NOT_A_FILE,
}
DENY_RECORD: dict[str, Corrupt] = {  # a path and a newline; only its existence counts
    **BYTES,
    "JSON": put_json({"version": 999}),
    **NOT_A_FILE,
}
PROJECTS_JSON: dict[str, Corrupt] = {  # no version field
    **BYTES,
    "a list": put_json(["/p"]),
    "wrong types": put_json({"projects": {"/p": "yesterday", "/q": [1]}}),
    "missing keys": put_json({"version": 1}),
    "nested too deeply": DEEP_JSON,
    **NOT_A_FILE,
}
# config.toml, with what its warning says (None: none; every key is optional, no version).
CONFIG_TOML: dict[str, tuple[Corrupt, str | None]] = {
    "0 bytes": (put(b""), None),
    "random bytes": (put(GARBAGE), "is not valid TOML"),
    "wrong types (trust a number)": (put(b"trust = 5\n"), "trust must be one of"),
    "wrong types (quiet a string)": (put(b'quiet = "yes"\n'), "quiet must be true or false"),
    "a list": (put(b'trust = ["owned"]\n'), "trust must be one of"),
    "a table": (put(b"[quiet]\nreally = true\n"), "quiet must be true or false"),
    "an unknown key": (put(b"version = 999\n"), None),
    "nested too deeply": (put(b"a = " + b"[" * NESTED + b"]" * NESTED), "is not valid TOML"),
    "a directory": (directory, "not a regular file"),
    "a FIFO": (fifo, "not a regular file"),
    "1 GiB sparse": (sparse_gib, "larger than 65536 bytes"),
    "a symlink to /dev/zero": (dev_zero, "not a regular file"),
}

REPAIR_RE = re.compile(r"(?:run|to use it): (shellhook .+)$")
CHATTER = ("shellhook: activated ", "shellhook: deactivated ", "shellhook: allowed ")


def store_of(sandbox: Sandbox) -> trust.TrustStore:
    """The trust store the sandbox's shells and commands use."""
    return trust.TrustStore(Path(sandbox.env["XDG_STATE_HOME"]) / "shellhook" / "trust")


def record(store: trust.TrustStore, kind: str, project: Path) -> Path:
    """Where ``project``'s allow or deny record lives."""
    name = trust._key(str(project)) + (".json" if kind == "allow" else "")
    return store.root / kind / name


def project(sandbox: Sandbox, name: str, kind: str | None = "allow") -> Path:
    """A project with its own venv, allowed or denied (``kind``) in-process (fast)."""
    proj = sandbox.home / name
    sandbox.make_venv(proj / ".venv")
    if kind == "allow":
        store_of(sandbox).allow(str(proj), str(proj / ".venv"), None)
    elif kind == "deny":
        store_of(sandbox).deny(str(proj))
    return proj


def tool_project(sandbox: Sandbox, name: str) -> Path:
    """A poetry project whose venv is in poetry's store (trusted there, no allow needed):
    the kind of project projects.json records."""
    proj = sandbox.home / name
    proj.mkdir()
    (proj / "pyproject.toml").write_text(f'[tool.poetry]\nname = "{name}"\n')
    store = sandbox.home / ".cache" / "pypoetry" / "virtualenvs"
    sandbox.make_venv(store / f"{poetry.env_name(name, str(proj))}-py3.11")
    return proj


class Walk:
    """One shell session walking the corruptions of one file: every cd timed, every
    warning line kept, the daemon's pid watched."""

    def __init__(self, sandbox: Sandbox, sh: ShellDriver) -> None:
        self.sandbox, self.sh = sandbox, sh
        # pexpect waits 50 ms before each send: most of a cd's time here. Typed-ahead lines
        # are fine in every driver (fish: one write per command).
        sh.child.delaybeforesend = None
        self.said: list[str] = []  # every warning line of the session, in order
        assert sh.wait_for(lambda: sandbox.daemon_pid() is not None, timeout=15)
        self.daemon = sandbox.daemon_pid()

    def lines(self, out: bytes) -> list[str]:
        """The warning lines in ``out`` (not the activated/deactivated chatter, nor a
        new venv's note that it has no pip), kept in ``said`` too."""
        found = [
            line.strip()
            for line in out.decode(errors="replace").splitlines()
            if line.strip().startswith("shellhook:")
            and not line.strip().startswith(CHATTER)
            and " has no pip " not in line
        ]
        self.said += found
        return found

    def visit(self, proj: Path, times: int = VISITS) -> tuple[list[str], list[bool]]:
        """Leave for HOME and enter ``proj`` ``times`` times: the warning lines printed
        meanwhile, and whether a venv was active at each prompt in ``proj``."""
        said: list[str] = []
        active = []
        for _ in range(times):
            for where in (self.sandbox.home, proj):
                start = time.monotonic()
                said += self.lines(self.sh.cd(where))
                took = time.monotonic() - start
                assert took < PROMPT_LIMIT, f"cd {where} took {took:.2f} s"
            active.append(self.sh.prompt_prefix != b"")
        return said, active

    def run(self, command: str) -> bytes:
        """Run ``command`` in the shell, timed as a prompt too (from HOME: a repair
        command must name what it repairs); its warning lines are kept."""
        self.sh.cd(self.sandbox.home)
        start = time.monotonic()
        out = self.sh.run(command)
        assert time.monotonic() - start < PROMPT_LIMIT + 3  # (a Python starts)
        self.lines(out)
        return out

    def finish(self) -> None:
        """The shell still works, showed no traceback, and the daemon is the same one."""
        assert b"alive" in self.sh.run("echo alive")
        self.sh.sync()
        assert b"Traceback" not in self.sh.transcript, self.sh.transcript.decode(errors="replace")
        assert self.sandbox.daemon_pid() == self.daemon, "the daemon died"


def test_a_corrupt_allow_record_fails_closed_with_one_line_naming_a_repair_that_works(
    sandbox: Sandbox, spawn: Callable[..., ShellDriver]
) -> None:
    store = store_of(sandbox)
    walk = Walk(sandbox, spawn(cwd=sandbox.home))
    for n, (name, corrupt) in enumerate(ALLOW_RECORD.items()):
        proj = project(sandbox, f"allowed-{n}")
        assert walk.visit(proj, times=1)[1] == [True], name  # (and judged, cached)
        corrupt(record(store, "allow", proj))
        said, active = walk.visit(proj)
        assert not any(active), f"{name}: activated from a corrupt record"
        assert len(said) == 1, f"{name}: {said}"
        repair = REPAIR_RE.search(said[0])
        assert repair and proj.name in repair.group(1), f"{name}: no repair in {said[0]!r}"
        walk.run(repair.group(1))
        said, active = walk.visit(proj)
        assert all(active) and said == [], f"{name}: {repair.group(1)!r} did not repair it"
    walk.finish()


def test_a_corrupt_deny_record_still_denies_silently_and_allow_lifts_it(
    sandbox: Sandbox, spawn: Callable[..., ShellDriver]
) -> None:
    store = store_of(sandbox)
    walk = Walk(sandbox, spawn(cwd=sandbox.home))
    for n, (name, corrupt) in enumerate(DENY_RECORD.items()):
        proj = project(sandbox, f"denied-{n}", kind="deny")
        corrupt(record(store, "deny", proj))
        said, active = walk.visit(proj)
        assert not any(active) and said == [], f"{name}: {said} {active}"
        walk.run(f"shellhook allow {walk.sh.quote(str(proj))}")  # what lifts a deny
        said, active = walk.visit(proj)
        assert all(active) and said == [], f"{name}: allow did not lift it: {said}"
    walk.finish()


def test_a_corrupt_projects_json_is_ignored_or_rebuilt_and_trust_is_kept(
    sandbox: Sandbox, spawn: Callable[..., ShellDriver]
) -> None:
    allowed = project(sandbox, "allowed")
    path = Path(sandbox.env["XDG_STATE_HOME"]) / "shellhook" / "projects.json"
    walk = Walk(sandbox, spawn(cwd=sandbox.home))
    seen = []
    for n, (name, corrupt) in enumerate(PROJECTS_JSON.items()):
        corrupt(path)
        tool = tool_project(sandbox, f"tool-{n}")  # new: the daemon must record it
        seen.append(str(tool))
        for proj in (tool, allowed):
            said, active = walk.visit(proj)
            assert all(active) and said == [], f"{name}: {proj.name}: {said} {active}"
        if name == "a directory":
            continue  # cannot be replaced: ignored (the daemon logs it once)

        def rebuilt(tool: Path = tool) -> bool:
            return str(tool) in KnownProjects(path).projects()

        assert walk.sh.wait_for(rebuilt), f"{name}: not rebuilt: {path.read_bytes()[:200]!r}"
    # The daemon kept in memory what it had recorded before each corruption.
    assert sorted(KnownProjects(path).projects()) == sorted(seen)
    walk.finish()


def test_a_config_file_that_cannot_be_used_warns_once_and_the_defaults_apply(
    sandbox: Sandbox, spawn: Callable[..., ShellDriver]
) -> None:
    proj = project(sandbox, "allowed")
    path = Path(sandbox.env["XDG_CONFIG_HOME"]) / "shellhook" / "config.toml"
    path.parent.mkdir(parents=True)
    walk = Walk(sandbox, spawn(cwd=sandbox.home))
    for name, (corrupt, says) in CONFIG_TOML.items():
        corrupt(path)
        said, active = walk.visit(proj)
        assert all(active), f"{name}: a bad config blocked the project"
        assert len(said) <= 1, f"{name}: {said}"
        if says is None:
            assert said == [], f"{name}: {said}"
        else:  # (said once per session: maybe by an earlier condition of the same text)
            assert [line for line in walk.said if says in line], f"{name}: never said {says!r}"
        clear(path)
    said, active = walk.visit(proj)
    assert all(active) and said == []
    walk.finish()


# -- the same files through the commands that read them (no shell: quick) ---------------


@pytest.mark.parametrize("kind", ["allow", "deny"])
def test_forget_and_allow_replace_whatever_took_a_records_place(tmp_path: Path, kind: str) -> None:
    """The repairs the messages name work on every corruption: ``forget`` removes it,
    ``allow`` writes over it (a directory too, which rename and unlink refuse)."""
    store = trust.TrustStore(tmp_path / "trust")
    for n, (name, corrupt) in enumerate({**BYTES, **NOT_A_FILE}.items()):
        proj = tmp_path / f"p{n}"
        venv = proj / ".venv"
        venv.mkdir(parents=True)
        for repair in ("forget", "allow"):
            if kind == "allow":
                store.allow(str(proj), str(venv), None)
            else:
                store.deny(str(proj))
            corrupt(record(store, kind, proj))
            if repair == "forget":
                assert store.forget(str(proj)) == [kind], name
                assert not os.path.lexists(record(store, kind, proj)), name
            else:
                store.allow(str(proj), str(venv), None)
                assert not store.is_denied(str(proj)), name
                assert (store.allowed_record(str(proj)) or {}).get("venv") == str(venv), name


def test_which_and_lsvenv_under_every_corruption_are_one_line_or_a_listing(
    sandbox: Sandbox,
) -> None:
    """The commands reading the trust store and projects.json: never a traceback;
    ``which`` fails closed on a corrupt record, ``lsvenv`` lists what it can read."""
    store = store_of(sandbox)
    path = Path(sandbox.env["XDG_STATE_HOME"]) / "shellhook" / "projects.json"
    kept = project(sandbox, "kept")
    for n, (name, corrupt) in enumerate(ALLOW_RECORD.items()):
        proj = project(sandbox, f"allowed-{n}")
        corrupt(record(store, "allow", proj))
        out = sandbox.shellhook("which", str(proj), check=False)
        assert "Traceback" not in out.stderr, (name, out.stderr)
        assert "activates automatically" not in out.stdout, (name, out.stdout)
        assert out.stdout.count(f"shellhook allow ~/{proj.name}\n") == 1, (name, out.stdout)
        if name in ("nested too deeply", "a list", "random bytes"):
            rows = json.loads(sandbox.shellhook("lsvenv", "--json").stdout)
            assert str(kept) in [r["project"] for r in rows], name
    for name, corrupt in PROJECTS_JSON.items():
        corrupt(path)
        out = sandbox.shellhook("lsvenv", "--json", check=False)
        assert out.returncode == 0 and "Traceback" not in out.stderr, (name, out.stderr)
        assert str(kept) in [r["project"] for r in json.loads(out.stdout)], name
