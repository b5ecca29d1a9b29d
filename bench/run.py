#!/usr/bin/env python3
"""shellhook's benchmark: what the hook costs per prompt, per cd and at start-up.

Run ``python3 bench/run.py`` (``--help`` for options). For each shell it drives the real
interactive shell in a pseudo-terminal three times over: without any hook, with
shellhook's hook and with direnv's hook (when direnv is installed and has a hook for that
shell), all in one throw-away HOME with shellhook's daemon already up. It prints one
table with absolute figures, the cost added over no hook, the budgets of DESIGN.md
section 8 with PASS/OVER marks, and ratios to no hook and to direnv. It always exits 0
when it could measure: it is a report, not a test. Method: bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The checkout, for the bench package (after what is installed: the shellhook measured
# is the one this Python imports).
sys.path.append(str(Path(__file__).resolve().parent.parent))

from bench.shellspec import (  # noqa: E402
    PROJECT_A,
    PROJECT_B,
    PROMPT,
    SPECS,
    VARIANTS,
    ShellSpec,
    find_executable,
)
from bench.term import Term, TermError  # noqa: E402
from bench.tools import MAKERS as TOOL_MAKERS  # noqa: E402
from bench.tools import ToolProject  # noqa: E402
from bench.tools import build as build_tool_projects  # noqa: E402
from shellhook import adapters  # noqa: E402  (hook file names, install.sh's rc lines)

REPO = Path(__file__).resolve().parent.parent
PROMPT_B = PROMPT.encode()

# DESIGN.md section 8, as cost added over the same shell without a hook (the per-prompt
# and per-cd budgets are per shell: shellspec.py).
STARTUP_BUDGET_US = 5_000.0  # the hook file sourced, as install.sh does
EVAL_STARTUP_BUDGET_US = 40_000.0  # the README's one line, `shellhook init` at each start

ROW_ORDER = [
    "prompt, dir unchanged",
    "cd into/out of project",
    "cd between projects",
    "processes per prompt",
    "processes per cd (in/out/between)",
    "start-up in $HOME",
    "start-up in a project",
    "start-up in $HOME, one-line recipe",
]
METHOD_ORDER = ["pty batch", "pty single", "in-shell", "strace", "pty"]

VARIANT_TITLES = {
    "none": "no hook",
    "shellhook": "shellhook",
    "direnv": "direnv",
    "autoswitch": "autoswitch",  # zsh-autoswitch-virtualenv, on the poetry project (--autoswitch)
}


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(message, file=sys.stderr, flush=True)


# -- settings -----------------------------------------------------------------------------
@dataclass
class Settings:
    """How much to measure."""

    iterations: int  # repetitions of every batch / start-up (medians are taken over them)
    batch_seconds: float  # aim for batches this long (sizes are calibrated per variant)
    max_prompts: int  # largest batch of empty lines
    max_cds: int  # largest batch of cd lines
    strace_ops: int  # prompts (and cds) run under strace
    startups: int  # shell start-ups per variant and place (xonsh: fewer, see below)
    single_pairs: int = 2  # single cds (into and out of, or there and back) per iteration
    single_gap: float = 0.02  # seconds of idle before each single cd
    quick: bool = False  # a smoke run: every measure once, small; checks, no time judged
    tools: bool = True  # also cd into each tool's project (uv, poetry, pipenv, pdm, hatch)
    autoswitch: str | None = None  # zsh-autoswitch-virtualenv's plugin file, to compare

    @classmethod
    def make(
        cls, iterations: int | None, quick: bool, tools: bool = True, autoswitch: str | None = None
    ) -> Settings:
        """Defaults sized for about three minutes per shell on a shared two-core machine."""
        if quick:
            once = iterations or 1
            return cls(
                once, 0.01, 100, 40, 6, once, 1, quick=True, tools=tools, autoswitch=autoswitch
            )
        it = iterations or 7
        return cls(it, 0.10, 2000, 300, 24, 2 * it, tools=tools, autoswitch=autoswitch)


# -- the sandbox ----------------------------------------------------------------------------
def tmpfs_dir() -> str | None:
    """A writable tmpfs directory (``/dev/shm``, ``/run/shm``), or None."""
    try:
        with open("/proc/mounts") as mounts:
            tmpfs = {line.split()[1] for line in mounts if line.split()[2:3] == ["tmpfs"]}
    except OSError:
        return None
    for candidate in ("/dev/shm", "/run/shm"):
        if candidate in tmpfs and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return None


class Sandbox:
    """A throw-away HOME/XDG tree with two trusted projects (venv + .envrc) and a daemon."""

    def __init__(self, keep: bool = False, python: str | None = None) -> None:
        self.keep = keep
        # The interpreter whose shellhook is measured (its CLI, hook files and daemon).
        self.python = python or sys.executable
        self.root = Path(tempfile.mkdtemp(prefix="shellhook-bench-"))
        self.home = self.root / "home"
        self.home.mkdir()
        # Like a real $XDG_RUNTIME_DIR (/run/user/UID), the FIFOs and the reply files
        # live on a tmpfs when there is one, so the figures are those of a normal session.
        shm = tmpfs_dir()
        self.runtime = Path(
            tempfile.mkdtemp(prefix="shellhook-bench-run-", dir=shm) if shm else self.root / "run"
        )
        self.runtime.mkdir(exist_ok=True)
        self.runtime.chmod(0o700)
        runtime = self.runtime
        pybin = str(Path(self.python).parent)
        self.env = {
            "HOME": str(self.home),
            "USER": os.environ.get("USER", "bench"),
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "PATH": os.pathsep.join([pybin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "XDG_STATE_HOME": str(self.home / ".local/state"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "WORKON_HOME": str(self.home / ".virtualenvs"),
            "SHELLHOOK_IDLE_EXIT": "900",
            "DIRENV_LOG_FORMAT": "",  # no "direnv: loading ..." lines
        }
        self.direnv = shutil.which("direnv", path=self.env["PATH"])
        # The `shellhook` command the one-line recipe runs: as a package install has it.
        self.env["PATH"] = os.pathsep.join([str(self._installed_command()), self.env["PATH"]])
        self.tools: list[ToolProject] = []  # setup_tools() makes them

    def _installed_command(self) -> Path:
        """A directory holding the ``shellhook`` command of an install of the measured
        shellhook: a venv whose ``.pth`` names where this Python imports shellhook and its
        dependencies from, and the launcher its installer wrote, copied. A checkout's
        editable install runs a finder at every start (it imports pathlib and re: ~10 ms
        no user's install pays); this measures what one does."""
        found = subprocess.run(
            [
                self.python,
                "-I",
                "-c",
                "import os, site, shellhook; "
                "print(os.path.dirname(os.path.dirname(shellhook.__file__)));"
                "print(*site.getsitepackages(), sep='\\n')",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        install = self.root / "install"
        venv.EnvBuilder(with_pip=False, symlinks=True).create(install)
        site_dir = next(install.glob("lib/python*/site-packages"))
        (site_dir / "measured.pth").write_text("\n".join(found) + "\n")
        launcher = (Path(self.python).parent / "shellhook").read_text().splitlines(keepends=True)
        command = install / "bin" / "shellhook"
        command.write_text(f"#!{install / 'bin' / 'python'}\n" + "".join(launcher[1:]))
        command.chmod(0o755)
        return command.parent

    def shellhook(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the shellhook CLI in the sandbox."""
        return subprocess.run(
            [self.python, "-m", "shellhook", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.home,
        )

    def setup(self) -> None:
        """Projects A and B (a venv each, allowed), an .envrc each, the daemon started."""
        for name in (PROJECT_A, PROJECT_B):
            project = self.home / name
            project.mkdir()
            venv.EnvBuilder(with_pip=False, symlinks=True).create(project / ".venv")
            proc = self.shellhook("allow", str(project))
            if proc.returncode != 0:
                raise RuntimeError(f"shellhook allow failed: {proc.stderr.strip()}")
            # What `layout python` amounts to for an existing .venv, without running python
            # at each load (which would make direnv look slower than it needs to be).
            self.direnv_allow(project, str(project / ".venv"))
        proc = self.shellhook("daemon", "start")
        if proc.returncode != 0:
            raise RuntimeError(f"shellhook daemon start failed: {proc.stderr.strip()}")

    def direnv_allow(self, project: Path, venv_dir: str) -> None:
        """An .envrc activating ``venv_dir`` in ``project``, allowed (when direnv is here)."""
        (project / ".envrc").write_text(
            f"export VIRTUAL_ENV={shlex.quote(venv_dir)}\nPATH_add {shlex.quote(venv_dir)}/bin\n"
        )
        if self.direnv:
            subprocess.run(
                [self.direnv, "allow", str(project)],
                env=self.env,
                capture_output=True,
                timeout=60,
                check=True,
            )

    def setup_tools(self) -> list[str]:
        """Each tool's project, made by the tool; notes on those that could not be made.

        Like a user, the sandbox runs ``shellhook allow`` where ``shellhook which`` asks for
        it (a venv the project declares itself, such as uv's ``.venv`` or pdm's
        ``.pdm-python``); venvs in a tool's own store need nothing.
        """
        self.tools, notes = build_tool_projects(self.home, self.python, self.env)
        for project in self.tools:
            self.direnv_allow(project.root, project.venv)
            if "shellhook allow" in self.shellhook("which", str(self.home / project.into)).stdout:
                proc = self.shellhook("allow", str(project.root))
                if proc.returncode != 0:
                    raise RuntimeError(f"shellhook allow failed: {proc.stderr.strip()}")
        return notes

    def tool_project(self, phase: str) -> ToolProject:
        """The project of a tool phase (``tool poetry``)."""
        return next(p for p in self.tools if phase == f"tool {p.tool}")

    def hook_file(self, shell: str) -> Path:
        """``shellhook init SHELL`` written to a file, as install.sh does."""
        path = self.root / f"hook.{adapters.get(shell).extension}"
        proc = self.shellhook("init", shell)
        if proc.returncode != 0:
            raise RuntimeError(f"shellhook init {shell} failed: {proc.stderr.strip()}")
        path.write_text(proc.stdout)
        return path

    def close(self) -> None:
        """Stop the daemon; remove the tree unless asked to keep it."""
        with contextlib.suppress(Exception):
            self.shellhook("daemon", "stop")
        if self.keep:
            log(f"sandbox kept: {self.root} (runtime dir {self.runtime})")
        else:
            shutil.rmtree(self.runtime, ignore_errors=True)
            shutil.rmtree(self.root, ignore_errors=True)


# -- one interactive shell ----------------------------------------------------------------
class Session:
    """One interactive shell of one variant, kept open across batches."""

    def __init__(
        self, spec: ShellSpec, variant: str, rcdir: Path, env: dict[str, str], cwd: Path
    ) -> None:
        self.spec = spec
        self.variant = variant
        self.term = Term(spec.argv(rcdir), spec.env(env, rcdir), str(cwd))
        self.term.expect(PROMPT_B, timeout=60)
        self.serial = 0
        self.sync()

    def _token(self) -> tuple[str, bytes]:
        """A command printing a fresh token, and that token (never the typed text)."""
        self.serial += 1
        tail = f"{self.serial:06d}Z"
        return self.spec.echo_joined("BENCH", tail) + "\n", f"BENCH{tail}".encode()

    def sync(self, timeout: float = 60.0) -> None:
        """Wait until everything sent so far has run and the shell shows a prompt."""
        line, token = self._token()
        self.term.expect(token, line.encode(), timeout)
        self.term.expect(PROMPT_B, timeout=timeout)

    def run(self, command: str, timeout: float = 120.0) -> str:
        """Run ``command``; return what it printed (and anything before its end mark)."""
        line, token = self._token()
        out = self.term.read_until(token, (command + "\n" + line).encode(), timeout)
        self.term.expect(PROMPT_B, timeout=timeout)
        return out.decode(errors="replace").replace("\r", "")

    def timed(self, payload: str, timeout: float = 300.0) -> float:
        """Seconds from writing ``payload`` (plus an end mark) until the mark's output."""
        line, token = self._token()
        start = time.perf_counter()
        seen = self.term.expect(token, (payload + line).encode(), timeout)
        self.term.expect(PROMPT_B, timeout=timeout)
        return seen - start

    def close(self) -> None:
        """End the shell."""
        self.term.close(b"exit\n")


# -- results --------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the table: one measure of one shell, samples per variant."""

    shell: str
    label: str
    method: str  # see METHOD_ORDER
    kind: str  # "time" (µs per operation) or "count" (per operation)
    budget: float | None  # on the cost added over no hook
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, variant: str) -> float | None:
        """Median of a variant's samples."""
        values = self.samples.get(variant)
        return statistics.median(values) if values else None

    def added(self) -> float | None:
        """Median over repetitions of (shellhook - no hook), paired rep by rep."""
        hook, base = self.samples.get("shellhook"), self.samples.get("none")
        if not hook or not base:
            return None
        return statistics.median(h - b for h, b in zip(hook, base))

    def mark(self, quick: bool = False) -> str:
        """PASS / OVER against the budget ('' without one, and for times in a smoke run)."""
        added = self.added()
        if self.budget is None or added is None or (quick and self.kind == "time"):
            return ""
        return "PASS" if added <= self.budget + 1e-9 else "OVER"


@dataclass
class ShellResult:
    """Everything measured for one shell."""

    shell: str
    version: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    batch_sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, held, detail)

    def check(self, what: str, held: bool, detail: str = "") -> None:
        """Record a correctness check (a smoke run fails when one does not hold)."""
        self.checks.append((what, held, detail))


# -- measuring ------------------------------------------------------------------------------
def rotations(variants: list[str], count: int) -> Iterator[tuple[int, list[str]]]:
    """``count`` orders of ``variants``, rotated each time (no variant always goes first)."""
    for k in range(count):
        shift = k % len(variants)
        yield k, variants[shift:] + variants[:shift]


def cd_pair(box: Sandbox, spec: ShellSpec, phase: str) -> tuple[str, str]:
    """The two cd lines a cd phase alternates: into and out of, or there and back."""
    if phase == "inout":
        return spec.cd(PROJECT_A), spec.cd("..")
    if phase == "between":
        return spec.cd(f"../{PROJECT_B}"), spec.cd(f"../{PROJECT_A}")
    project = box.tool_project(phase)
    return spec.cd(spec.quote(project.into)), spec.cd(project.out)


def cd_payload(box: Sandbox, spec: ShellSpec, phase: str, n: int) -> str:
    """``n`` cd lines: the phase's pair, repeated."""
    return "".join(line + "\n" for line in cd_pair(box, spec, phase)) * (n // 2)


def payload(box: Sandbox, spec: ShellSpec, phase: str, n: int) -> str:
    """The typed-ahead lines of one batch."""
    return "\n" * n if phase == "prompt" else cd_payload(box, spec, phase, n)


def phase_start(box: Sandbox, phase: str) -> Path:
    """Where a phase starts: prompts and cds between projects in A, the others from HOME."""
    return box.home / PROJECT_A if phase in ("prompt", "between") else box.home


def clamp_even(value: float, low: int, high: int) -> int:
    """``value`` rounded to an even integer within [low, high]."""
    return max(low, min(high, int(value) // 2 * 2))


PHASE_LABELS = {
    "prompt": "prompt, dir unchanged",
    "inout": "cd into/out of project",
    "between": "cd between projects",
}


def phase_label(phase: str) -> str:
    """A phase's row label (tool phases: ``cd into/out of poetry project``)."""
    return PHASE_LABELS.get(phase) or f"cd into/out of {phase.split()[-1]} project"


def row_rank(label: str) -> int:
    """Where a row goes in a shell's table: tool projects right after the cds."""
    if label in ROW_ORDER:
        return ROW_ORDER.index(label) * 100
    tool = label.removeprefix("cd into/out of ").removesuffix(" project")
    tools = list(TOOL_MAKERS)
    if tool in tools:
        return ROW_ORDER.index("cd between projects") * 100 + 1 + tools.index(tool)
    return ROW_ORDER.index("processes per cd (in/out/between)") * 100 + 1


def measure_pty(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    settings: Settings,
    result: ShellResult,
    phases: tuple[str, ...] = ("prompt", "inout", "between"),
) -> None:
    """Batches of typed-ahead lines; per-operation time = batch time / lines."""
    variants = list(sessions)
    for phase in phases:
        log(f"  {spec.name}: pty, {phase_label(phase)}")
        budget = spec.prompt_budget_us if phase == "prompt" else spec.cd_budget_us
        row = Row(spec.name, phase_label(phase), "pty batch", "time", budget)
        limit = settings.max_prompts if phase == "prompt" else settings.max_cds
        sizes: dict[str, int] = {}
        for variant in variants:
            session = sessions[variant]
            session.run(spec.cd(spec.quote(str(phase_start(box, phase)))))
            session.timed(payload(box, spec, phase, 10))  # warm-up
            probe = 20
            per_op = session.timed(payload(box, spec, phase, probe)) / probe
            sizes[variant] = clamp_even(settings.batch_seconds / max(per_op, 1e-7), 10, limit)
            row.samples[variant] = []
        for _k, order in rotations(variants, settings.iterations):
            for variant in order:
                n = sizes[variant]
                seconds = sessions[variant].timed(payload(box, spec, phase, n))
                row.samples[variant].append(seconds / n * 1e6)
        result.batch_sizes[f"pty {phase}"] = sizes
        result.rows.append(row)


def measure_single(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    settings: Settings,
    result: ShellResult,
    phases: tuple[str, ...] = ("inout", "between"),
) -> None:
    """One cd at a time, a pause before each: the latency a user sees (daemon idle)."""
    variants = list(sessions)
    for phase in phases:
        log(f"  {spec.name}: pty single, {phase_label(phase)}")
        row = Row(
            spec.name,
            phase_label(phase),
            "pty single",
            "time",
            spec.cd_budget_us,
            {v: [] for v in variants},
        )
        lines = [line + "\n" for line in cd_pair(box, spec, phase)]
        for variant in variants:
            sessions[variant].run(spec.cd(spec.quote(str(phase_start(box, phase)))))
            sessions[variant].timed("".join(lines))  # warm-up
        for _k, order in rotations(variants, settings.iterations):
            for variant in order:
                for line in lines * settings.single_pairs:
                    time.sleep(settings.single_gap)
                    row.samples[variant].append(sessions[variant].timed(line) * 1e6)
        result.rows.append(row)


def measure_inshell(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    settings: Settings,
    result: ShellResult,
) -> None:
    """Loops inside the shell calling its own pre-prompt hooks, timed by its own clock."""
    script = box.root / f"inshell.{spec.ext}"
    script.write_text(spec.inshell_script())
    variants = list(sessions)
    home = str(box.home)
    for session in sessions.values():
        session.run(spec.source(script))

    def once(session: Session, phase: str, n: int) -> float | None:
        out = session.run(spec.inshell_call(phase, n, home))
        found = spec.parse_inshell(out).get(phase)
        return found[0] / found[1] if found else None

    for phase in ("prompt", "inout", "between"):
        log(f"  {spec.name}: in-shell, {PHASE_LABELS[phase]}")
        budget = spec.prompt_budget_us if phase == "prompt" else spec.cd_budget_us
        row = Row(spec.name, PHASE_LABELS[phase], "in-shell", "time", budget)
        sizes: dict[str, int] = {}
        for variant in variants:
            session = sessions[variant]
            if phase == "prompt":
                session.run(spec.cd(spec.quote(str(box.home / PROJECT_A))))
            probe = once(session, phase, 20)
            if probe is None:
                result.notes.append(f"in-shell timing gave no result for {variant} ({phase})")
                result.check(f"in-shell timing of {phase} works", False, variant)
                sizes = {}
                break
            sizes[variant] = clamp_even(settings.batch_seconds * 1e6 / max(probe, 0.1), 20, 20000)
            row.samples[variant] = []
        if not sizes:
            continue
        for _k, order in rotations(variants, settings.iterations):
            for variant in order:
                value = once(sessions[variant], phase, sizes[variant])
                if value is not None:
                    row.samples[variant].append(value)
        result.batch_sizes[f"in-shell {phase}"] = sizes
        result.rows.append(row)


def strace_count(
    session: Session, payload_text: str, trace_file: Path
) -> tuple[int, int, int] | str:
    """(processes, execs, threads) started while ``payload_text`` runs, or a reason."""
    strace = shutil.which("strace")
    if not strace:
        return "strace is not installed (apt-get install strace)"
    trace_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            strace,
            "-f",
            "-e",
            "trace=execve,clone,clone3,fork,vfork",
            "-o",
            str(trace_file),
            "-p",
            str(session.term.pid),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline().decode(errors="replace")
    if "attached" not in first:
        proc.kill()
        proc.wait()
        return f"strace could not attach: {first.strip()}"
    try:
        session.timed(payload_text)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    spawns = execs = threads = 0
    for line in trace_file.read_text(errors="replace").splitlines():
        if "resumed>" in line:
            continue
        if re.search(r"\b(clone3?|v?fork)\(", line):
            if "CLONE_THREAD" in line:
                threads += 1
            else:
                spawns += 1
        elif re.search(r"\bexecve\(", line):
            execs += 1
    return spawns, execs, threads


def measure_processes(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    settings: Settings,
    result: ShellResult,
) -> None:
    """Processes the shell spawns per unchanged prompt and per cd (strace -f, attached).

    Each traced batch ends with the end-mark line, itself one more unchanged prompt: the
    prompt batch counts it as an operation, the cd batch subtracts the per-prompt rate.
    """
    log(f"  {spec.name}: processes (strace)")
    n = max(3, settings.strace_ops // 3 * 3)
    cds = (spec.cd(f"../{PROJECT_B}") + "\n" + spec.cd("..") + "\n" + spec.cd(PROJECT_A) + "\n") * (
        n // 3
    )  # between, out of, into
    prompt_row = Row(spec.name, "processes per prompt", "strace", "count", 0.0)
    cd_row = Row(spec.name, "processes per cd (in/out/between)", "strace", "count", 0.0)
    threads: dict[str, float] = {}
    for variant, session in sessions.items():
        session.run(spec.cd(spec.quote(str(box.home / PROJECT_A))))
        counts = []
        for text in ("\n" * n, cds):
            session.timed(text)  # warm-up: the same lines once untraced
            counted = strace_count(session, text, box.root / f"strace.{spec.name}")
            if isinstance(counted, str):
                result.notes.append(counted)
                return
            counts.append(counted)
        (p_spawns, p_execs, p_threads), (c_spawns, c_execs, c_threads) = counts
        per_prompt = p_spawns / (n + 1)
        prompt_row.samples[variant] = [per_prompt]
        cd_row.samples[variant] = [max(0.0, (c_spawns - per_prompt) / n)]
        threads[variant] = (p_threads + c_threads) / (2 * n + 1)
        if variant != "direnv" and (p_execs or c_execs):
            result.notes.append(
                f"{VARIANT_TITLES[variant]}: {p_execs + c_execs} execve "
                f"while traced ({2 * n} operations)"
            )
    extra = threads.get("shellhook", 0.0) - threads.get("none", 0.0)
    if extra > 0.5:
        result.notes.append(f"shellhook: {extra:.2f} more threads per operation than no hook")
    result.rows += [prompt_row, cd_row]
    for row in (prompt_row, cd_row):
        added = row.added()
        result.check(
            f"no process spawned ({row.label})",
            added is not None and added <= 0,
            f"{fmt_count(added, signed=True)} per operation",
        )


def measure_startup(
    box: Sandbox,
    spec: ShellSpec,
    rcdirs: dict[str, Path],
    settings: Settings,
    result: ShellResult,
    places: tuple[str, ...] = ("$HOME", "a project"),
    suffix: str = "",
    budget: float = STARTUP_BUDGET_US,
) -> None:
    """Time from fork to the first prompt, in HOME and in a project (daemon up)."""
    count = settings.startups if spec.name != "xonsh" else max(3, settings.startups // 3)
    if settings.quick:
        count = 1
    variants = list(rcdirs)
    where = {"$HOME": box.home, "a project": box.home / PROJECT_A}
    for place in places:
        cwd = where[place]
        log(f"  {spec.name}: start-up in {place}{suffix}")
        row = Row(
            spec.name,
            f"start-up in {place}{suffix}",
            "pty",
            "time",
            budget,
            {v: [] for v in variants},
        )
        for _k, order in rotations(variants, count + 1):
            for variant in order:
                term = Term(
                    spec.argv(rcdirs[variant]), spec.env(box.env, rcdirs[variant]), str(cwd)
                )
                try:
                    seen = term.expect(PROMPT_B, timeout=60)
                finally:
                    term.close(b"exit\n")
                if _k:  # the first round warms caches up
                    row.samples[variant].append((seen - term.started) * 1e6)
        result.rows.append(row)


def check_startup(
    box: Sandbox, spec: ShellSpec, rcdir: Path, result: ShellResult, how: str
) -> None:
    """A shell started in project A with this start-up file has A's venv at its prompt."""
    session = Session(spec, "shellhook", rcdir, box.env, box.home / PROJECT_A)
    try:
        out = session.run(spec.show_venv())
    finally:
        session.close()
    m = re.search(r"VENV<([^%>'\"\r\n]*)>", out)
    got = m.group(1) if m else "?"
    want = str(box.home / PROJECT_A / ".venv")
    result.check(f"started in a project, {how}: its venv is active", got == want, f"got {got!r}")


def check_activation(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    result: ShellResult,
    into: str = PROJECT_A,
    want: str | None = None,
) -> None:
    """Each hook must really activate the venv of ``into`` (from HOME), or its figures mean
    nothing (default: project A and its .venv)."""
    want = want or str(box.home / PROJECT_A / ".venv")
    for variant, session in sessions.items():
        session.run(spec.cd(spec.quote(str(box.home / into))))
        out = session.run(spec.show_venv())
        m = re.search(r"VENV<([^%>'\"\r\n]*)>", out)
        got = m.group(1) if m else "?"
        expected = "" if variant == "none" else want
        result.check(
            f"{VARIANT_TITLES[variant]}: cd into {into} gives VIRTUAL_ENV={expected!r}",
            got == expected,
            f"got {got!r}",
        )
        session.run(spec.cd(spec.quote(str(box.home))))


def measure_tools(
    box: Sandbox,
    spec: ShellSpec,
    sessions: dict[str, Session],
    settings: Settings,
    result: ShellResult,
    autoswitch: Session | None,
) -> None:
    """cd into and out of each tool's project: the right venv, its time, its processes.

    zsh-autoswitch-virtualenv (``autoswitch``) joins on the poetry project, the one it
    knows by asking poetry.
    """
    for project in box.tools:
        phase = f"tool {project.tool}"
        chosen = dict(sessions)
        if autoswitch is not None and project.tool == "poetry":
            chosen["autoswitch"] = autoswitch
        check_activation(box, spec, chosen, result, project.into, project.venv)
        measure_pty(box, spec, chosen, settings, result, (phase,))
        measure_single(box, spec, chosen, settings, result, (phase,))
    if not box.tools:
        return
    log(f"  {spec.name}: processes per cd into/out of tool projects (strace)")
    row = Row(spec.name, "processes per cd into/out of tool projects", "strace", "count", 0.0)
    every = "".join(cd_payload(box, spec, f"tool {p.tool}", 2) for p in box.tools)
    n = 2 * len(box.tools)
    chosen = dict(sessions, **({"autoswitch": autoswitch} if autoswitch else {}))
    for variant, session in chosen.items():
        session.run(spec.cd(spec.quote(str(box.home))))
        text = every if variant != "autoswitch" else cd_payload(box, spec, "tool poetry", 2)
        session.timed(text)  # warm-up
        counted = strace_count(session, text, box.root / f"strace.{spec.name}")
        if isinstance(counted, str):
            result.notes.append(counted)
            return
        ops = n if variant != "autoswitch" else 2
        row.samples[variant] = [counted[0] / ops]  # the end mark is a builtin: no process
    result.rows.append(row)
    added = row.added()
    result.check(
        "no process spawned (cd into/out of tool projects)",
        added is not None and added <= 0,
        f"{fmt_count(added, signed=True)} per operation",
    )


def autoswitch_session(
    box: Sandbox, spec: ShellSpec, settings: Settings, result: ShellResult
) -> Session | None:
    """zsh with zsh-autoswitch-virtualenv's plugin (``--autoswitch``), when it applies."""
    if not settings.autoswitch or spec.name != "zsh":
        return None
    if not any(p.tool == "poetry" for p in box.tools):
        result.notes.append("autoswitch: no poetry project to compare it on")
        return None
    rcdir = box.root / "rc" / f"{spec.name}-autoswitch"
    rcdir.mkdir(parents=True)
    plugin = spec.quote(str(Path(settings.autoswitch).resolve()))
    # Its own start-up file line, quiet (no "Switching to ..." line at each cd).
    spec.rc_path(rcdir).write_text(
        spec.rc_text("shellhook", f"AUTOSWITCH_SILENT=1; source {plugin}")
    )
    result.notes.append(f"autoswitch: zsh-autoswitch-virtualenv from {settings.autoswitch}")
    return Session(spec, "autoswitch", rcdir, box.env, box.home)


def skip_reason(name: str, box: Sandbox) -> str | None:
    """Why shell ``name`` cannot be benchmarked here, or None."""
    if name not in SPECS:
        return f"unknown shell (known: {', '.join(SPECS)})"
    exe = find_executable(name)
    if not exe:
        return f"{name} is not installed"
    script = REPO / "shells" / adapters.get(name).script
    if not script.is_file():
        return f"no hook script yet ({script.relative_to(REPO)} is missing)"
    return None


def bench_shell(box: Sandbox, name: str, settings: Settings) -> ShellResult:
    """Every measure for one shell."""
    spec = SPECS[name](find_executable(name) or name)
    result = ShellResult(name, spec.version())
    hook_line = adapters.get(name).source_line(box.hook_file(name))
    variants = [v for v in VARIANTS if v != "direnv" or (box.direnv and spec.has_direnv_hook)]
    if "direnv" not in variants:
        result.notes.append(
            "direnv: "
            + ("not installed" if not box.direnv else f"has no {name} hook")
            + "; no comparison"
        )
    rcdirs: dict[str, Path] = {}
    for variant in variants:
        rcdir = box.root / "rc" / f"{name}-{variant}"
        rcdir.mkdir(parents=True)
        spec.rc_path(rcdir).write_text(spec.rc_text(variant, hook_line))
        rcdirs[variant] = rcdir
    log(f"{name}: {result.version}")
    sessions: dict[str, Session] = {}
    autoswitch: Session | None = None
    try:
        for variant in variants:
            sessions[variant] = Session(spec, variant, rcdirs[variant], box.env, box.home)
        check_activation(box, spec, sessions, result)
        measure_pty(box, spec, sessions, settings, result)
        measure_single(box, spec, sessions, settings, result)
        measure_inshell(box, spec, sessions, settings, result)
        measure_processes(box, spec, sessions, settings, result)
        if settings.tools:
            autoswitch = autoswitch_session(box, spec, settings, result)
            measure_tools(box, spec, sessions, settings, result, autoswitch)
    finally:
        for session in [*sessions.values(), *([autoswitch] if autoswitch else [])]:
            session.close()
    measure_startup(box, spec, rcdirs, settings, result)
    # The README's one-line recipe (`eval "$(shellhook init bash)"`): Python at each start.
    eval_rc = box.root / "rc" / f"{name}-eval"
    eval_rc.mkdir(parents=True)
    spec.rc_path(eval_rc).write_text(spec.rc_text("shellhook", spec.eval_line()))
    check_startup(box, spec, rcdirs["shellhook"], result, "hook file sourced")
    check_startup(box, spec, eval_rc, result, spec.eval_line())
    measure_startup(
        box,
        spec,
        {"none": rcdirs["none"], "shellhook": eval_rc},
        settings,
        result,
        places=("$HOME",),
        suffix=", one-line recipe",
        budget=EVAL_STARTUP_BUDGET_US,
    )
    result.rows.sort(key=lambda r: (row_rank(r.label), METHOD_ORDER.index(r.method)))
    return result


# -- the report ------------------------------------------------------------------------------
def fmt_time(us: float | None, signed: bool = False) -> str:
    """Microseconds for humans: µs below 1 ms, else ms."""
    if us is None:
        return "-"
    sign = "+" if signed and us >= 0 else ""
    if abs(us) >= 1000:
        return f"{sign}{us / 1000:.2f} ms"
    if abs(us) >= 100:
        return f"{sign}{us:.0f} µs"
    return f"{sign}{us:.1f} µs"


def fmt_count(value: float | None, signed: bool = False) -> str:
    """Processes per operation."""
    if value is None:
        return "-"
    sign = "+" if signed and value >= 0 else ""
    return f"{sign}{value:.2f}" if value != int(value) else f"{sign}{int(value)}"


def fmt_ratio(num: float | None, den: float | None) -> str:
    """num / den as a factor."""
    if num is None or den is None or den <= 0 or num < 0:
        return "-"
    ratio = num / den
    return f"{ratio:.3f}×" if ratio < 0.1 else f"{ratio:.2f}×"


def render(
    results: list[ShellResult],
    skipped: dict[str, str],
    settings: Settings,
    elapsed: float,
    load: tuple[float, ...],
    notes: list[str] | None = None,
) -> str:
    """The table and its notes."""
    # zsh-autoswitch-virtualenv gets columns only when it was measured (--autoswitch).
    others = (
        ["autoswitch"] if any("autoswitch" in r.samples for x in results for r in x.rows) else []
    )
    header = [
        "shell",
        "measure",
        "method",
        "no hook",
        "shellhook",
        "direnv",
        *others,
        "added",
        "budget",
        "mark",
        "×no hook",
        "×direnv",
        *[f"×{o}" for o in others],
    ]
    lines: list[list[str]] = []
    for res in results:
        for row in res.rows:
            fmt = fmt_time if row.kind == "time" else fmt_count
            med = {v: row.median(v) for v in [*VARIANTS, *others]}
            budget = (
                "-"
                if row.budget is None
                else (
                    f"≤ {fmt_time(row.budget)}"
                    if row.kind == "time"
                    else f"{fmt_count(row.budget)}"
                )
            )
            # In-shell "no hook" is an empty loop: a ratio to it would mean nothing.
            ratio_none = (
                fmt_ratio(med["shellhook"], med["none"])
                if row.kind == "time" and row.method != "in-shell"
                else "-"
            )
            ratio_direnv = fmt_ratio(med["shellhook"], med["direnv"]) if row.kind == "time" else "-"
            lines.append(
                [
                    res.shell,
                    row.label,
                    row.method,
                    fmt(med["none"]),
                    fmt(med["shellhook"]),
                    fmt(med["direnv"]) if "direnv" in row.samples else "n/a",
                    *[fmt(med[o]) if o in row.samples else "n/a" for o in others],
                    fmt(row.added(), signed=True),
                    budget,
                    row.mark(settings.quick),
                    ratio_none,
                    ratio_direnv,
                    *[
                        fmt_ratio(med["shellhook"], med[o]) if row.kind == "time" else "-"
                        for o in others
                    ],
                ]
            )
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    right = set(range(3, len(header))) - {header.index("budget"), header.index("mark")}

    def fmt_line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    how = (
        "SMOKE RUN (--quick): every measure once and small, checks only, no time judged"
        if settings.quick
        else f"medians of {settings.iterations} runs (start-ups: {settings.startups}, xonsh fewer)"
    )
    out = [
        f"shellhook benchmark: {how}; {os.cpu_count()} CPUs, load {load[0]:.2f} at "
        f"start; took {elapsed:.0f} s",
        "figures are per operation; added = shellhook - no hook (median of paired runs); "
        "budgets (DESIGN.md section 8) apply to added",
        "pty batch: N lines typed ahead, time to the end / N | pty single: one line after "
        "an idle pause, time to its prompt",
        "in-shell: the shell's own pre-prompt hooks called in a loop, shell's clock | "
        "strace: processes forked (strace -f)",
        "",
        fmt_line(header),
        fmt_line(["-" * w for w in widths]),
    ]
    previous = None
    for res, line in ((r, line) for r in results for line in lines if line[0] == r.shell):
        if previous is not None and previous != res.shell:
            out.append("")
        previous = res.shell
        out.append(fmt_line(line))
    out.append("")
    for res in results:
        out.append(f"{res.shell}: {res.version}")
        for note in dict.fromkeys(res.notes):
            out.append(f"  note: {note}")
        for what, held, detail in res.checks:
            out.append(
                f"  check {'ok  ' if held else 'FAIL'} {what}" + (f" ({detail})" if detail else "")
            )
    for name, reason in skipped.items():
        out.append(f"{name}: skipped: {reason}")
    for note in notes or []:
        out.append(f"note: {note}")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark shellhook's hooks against no hook and direnv (a report: "
        "always exits 0 once it could measure)."
    )
    parser.add_argument(
        "--shells",
        default="bash,zsh,fish,xonsh",
        help="comma-separated shells (default: %(default)s)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="repetitions per figure (default 7; --quick: 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run for CI: every measure once and small; exits 1 when a correctness "
        "check fails; no time is judged",
    )
    parser.add_argument(
        "--no-daemon",
        action="store_true",
        help="skip the daemon's scenarios (bench/daemon.py: noisy directory, 50 shells)",
    )
    parser.add_argument(
        "--no-tools",
        action="store_true",
        help="skip the tool projects (uv, poetry, pipenv, pdm, hatch venvs made by the tools)",
    )
    parser.add_argument(
        "--autoswitch",
        metavar="PLUGIN",
        help="zsh-autoswitch-virtualenv's autoswitch_virtualenv.plugin.zsh: compare it on "
        "the poetry project in zsh",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    settings = Settings.make(args.iterations, args.quick, not args.no_tools, args.autoswitch)
    shells = [s.strip() for s in args.shells.split(",") if s.strip()]
    load = os.getloadavg()
    started = time.monotonic()
    box = Sandbox(keep=args.keep)
    results: list[ShellResult] = []
    skipped: dict[str, str] = {}
    notes: list[str] = []
    try:
        log(f"sandbox {box.root}: making projects, starting the daemon")
        try:
            box.setup()
            if settings.tools:
                log("making the tools' projects (offline)")
                notes = box.setup_tools()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            log(f"cannot set up the sandbox: {exc}")
            return 1
        for name in shells:
            reason = skip_reason(name, box)
            if reason:
                log(f"{name}: skipped: {reason}")
                skipped[name] = reason
                continue
            try:
                results.append(bench_shell(box, name, settings))
            except (TermError, RuntimeError, OSError) as exc:
                log(f"{name}: failed: {exc}")
                skipped[name] = f"failed: {exc}"
    finally:
        box.close()
    daemon_report, daemon_ok = "", True
    streams = [r.shell for r in results if r.shell in ("bash", "zsh")]
    if not args.no_daemon and streams:
        from bench import daemon as daemon_bench

        log(f"daemon scenarios ({streams[0]})")
        daemon_report, daemon_ok = daemon_bench.run(
            streams[0],
            [("shellhook", sys.executable)],
            daemon_bench.Settings.make(settings.quick, args.iterations, None),
            args.keep,
        )
    elapsed = time.monotonic() - started
    print(render(results, skipped, settings, elapsed, load, notes))
    if daemon_report:
        print("\n" + daemon_report)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "settings": asdict(settings),
                    "elapsed_s": elapsed,
                    "load_at_start": load,
                    "machine": platform.platform(),
                    "cpus": os.cpu_count(),
                    "results": [asdict(r) for r in results],
                    "skipped": skipped,
                },
                indent=1,
            )
        )
    if settings.quick:
        failed = [name for name, why in skipped.items() if why.startswith("failed")]
        held = all(ok for r in results for _what, ok, _detail in r.checks)
        return 0 if held and daemon_ok and not failed else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
