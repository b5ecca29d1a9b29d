#!/usr/bin/env python3
"""The daemon's side of DESIGN.md section 8: what a request, a noisy watched directory and
50 attached shells cost the daemon, and what they do to one shell's cd.

Run ``python3 bench/daemon.py`` (``--help`` for options); ``run.py`` runs it too, after
its table. Every scenario drives real interactive shells (bash by default) in
pseudo-terminals, in a throw-away HOME with the daemon up, and reads the daemon from
outside (``daemonprobe.py``: /proc and a mirror of its inotify watches), so
``--against PYTHON`` can put another shellhook (another checkout's venv) beside this one,
scenario by scenario, in alternating order. Method and how to read the figures:
bench/README.md. Linux only (it reads /proc); elsewhere it says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
import venv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# bench/ is a namespace package of the checkout; appended, so that the shellhook measured
# is still the one this Python has installed.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from bench import daemonprobe  # noqa: E402
from bench.run import Sandbox, Session, clamp_even, fmt_time, log  # noqa: E402
from bench.shellspec import PROJECT_A, PROMPT, SPECS, ShellSpec, find_executable  # noqa: E402
from bench.term import Term, TermError  # noqa: E402
from shellhook import adapters  # noqa: E402

PROMPT_B = PROMPT.encode()

# DESIGN.md section 8 (the daemon's rows).
NOISE_WRITES_PER_S = 500
NOISE_CPU_BUDGET_PCT = 1.0
NOISE_CD_TOLERANCE = 0.10  # the cd while noisy: within 10 % of the quiet figure
THREADS_BUDGET = 8
RSS_BUDGET_MB = 30.0
MANY_SHELLS = 50


def events_per_request(shell: str) -> float:
    """inotify events a request may cost the daemon: none on the stream transport; fish's
    file transport is one (its request file, closed after writing, is the request)."""
    return 1.0 if shell == "fish" else 0.0


# A writer like a build log or a shell's history: open, append a line, close; at a
# fixed rate for a fixed time. Prints how many lines it wrote.
NOISE_WRITER = r"""
import sys, time
path, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
start = time.monotonic(); n = 0
while True:
    now = time.monotonic()
    if now - start >= seconds:
        break
    due = start + n / rate
    if due > now:
        time.sleep(due - now)
    with open(path, "a") as fh:
        fh.write("noise %d\n" % n)
    n += 1
print(n)
"""


@dataclass
class Settings:
    """How much to measure (``quick``: a smoke run that checks, and judges no time)."""

    quick: bool
    iterations: int
    cds: int  # cds per in-shell loop (calibrated down when a cd is slow)
    noise_seconds: float  # the idle window in which the daemon's CPU is measured
    shells: int

    @classmethod
    def make(cls, quick: bool, iterations: int | None, shells: int | None) -> Settings:
        if quick:
            return cls(True, iterations or 1, 20, 1.0, shells or 8)
        return cls(False, iterations or 7, 200, 4.0, shells or MANY_SHELLS)


@dataclass
class Result:
    """Every figure of one shellhook (one Python), by name; samples for the times."""

    name: str
    python: str
    figures: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, ok, detail)

    def add(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)

    def median(self, key: str) -> float | None:
        values = self.samples.get(key)
        if values:
            return statistics.median(values)
        return self.figures.get(key)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append((what, ok, detail))


class Subject:
    """One shellhook under test: its sandbox, its daemon, one shell timed in-shell."""

    def __init__(self, name: str, python: str, spec: ShellSpec, keep: bool) -> None:
        self.name = name
        self.spec = spec
        self.box = Sandbox(keep=keep, python=python)
        self.result = Result(name, python)
        self.extra: list[Term] = []
        self.shell: Session | None = None
        self.noise_file = self.box.home / "noise.log"
        self.n = 20  # cds per in-shell loop (calibrated by the first scenario)
        self.noise_events: Counter[str] = Counter()  # path -> events during the noise

    def start(self) -> None:
        """Projects, daemon, the timed shell (in HOME), its in-shell timing function."""
        self.box.setup()
        hook_line = adapters.get(self.spec.name).source_line(self.box.hook_file(self.spec.name))
        rcdir = self.box.root / "rc"
        rcdir.mkdir()
        self.spec.rc_path(rcdir).write_text(self.spec.rc_text("shellhook", hook_line))
        self.rcdir = rcdir
        self.shell = Session(self.spec, "shellhook", rcdir, self.box.env, self.box.home)
        script = self.box.root / f"inshell.{self.spec.ext}"
        script.write_text(self.spec.inshell_script())
        self.shell.run(self.spec.source(script))
        self.noise_file.write_text("")

    @property
    def pid(self) -> int:
        """The daemon's pid."""
        return int((self.box.runtime / "shellhook" / "daemon.pid").read_text())

    def mirror(self) -> daemonprobe.Mirror:
        """The daemon's watches, mirrored now."""
        return daemonprobe.Mirror(
            self.pid, daemonprobe.candidate_paths([str(self.box.root), str(self.box.runtime)])
        )

    def own(self, events: Counter[str]) -> int:
        """Events on watches inside the sandbox: those above it (/tmp, /) see other users'
        files come and go."""
        roots = (str(self.box.root), str(self.box.runtime))
        return sum(n for path, n in events.items() if path.startswith(roots))

    def venv_of(self, session: Session) -> str:
        out = session.run(self.spec.show_venv())
        start = out.find("VENV<")
        return out[start + 5 : out.find(">", start)] if start >= 0 else "?"

    def cd_loop(self, n: int) -> float | None:
        """µs per cd (between two projects, hooks included), timed by the shell."""
        assert self.shell is not None
        out = self.shell.run(self.spec.inshell_call("between", n, str(self.box.home)))
        found = self.spec.parse_inshell(out).get("between")
        return found[0] / found[1] if found else None

    def close(self) -> None:
        for term in self.extra:
            term.close(b"exit\n")
        if self.shell is not None:
            self.shell.close()
        self.box.close()


def noise(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Start appending to ``path`` NOISE_WRITES_PER_S times a second for ``seconds``."""
    return subprocess.Popen(
        [sys.executable, "-c", NOISE_WRITER, str(path), str(NOISE_WRITES_PER_S), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(writer: subprocess.Popen[str]) -> int:
    """Wait for a writer; the lines it wrote."""
    out, _ = writer.communicate(timeout=120)
    return int(out.strip() or 0)


def rotations(subjects: list[Subject], count: int) -> list[list[Subject]]:
    """``count`` orders of ``subjects``, rotated each time (none always goes first)."""
    return [subjects[k % len(subjects) :] + subjects[: k % len(subjects)] for k in range(count)]


# -- scenarios ------------------------------------------------------------------------------
def scenario_requests(subjects: list[Subject], settings: Settings) -> None:
    """cds between two projects: inotify events per request, and the cd itself."""
    log("daemon: requests (events per cd, cd latency)")
    for s in subjects:
        s.cd_loop(10)  # warm-up
        probe = s.cd_loop(20) or 1000.0
        s.n = clamp_even(0.25e6 / max(probe, 1.0), 10, settings.cds)
    for order in rotations(subjects, settings.iterations):
        for s in order:
            mirror = s.mirror()
            try:
                n = s.n
                value = s.cd_loop(n)
                events = s.own(mirror.take())
            finally:
                mirror.close()
            if value is not None:
                s.result.add("cd quiet", value)
            s.result.add("events per cd", events / n)
            s.result.figures["watches"] = len(mirror.masks) + mirror.unmatched
    for s in subjects:
        r = s.result
        assert s.shell is not None
        r.check(
            "cd activates the project's venv",
            s.venv_of(s.shell) == str(s.box.home / PROJECT_A / ".venv"),
        )
        per_cd = r.median("events per cd") or 0.0
        allowed = events_per_request(s.spec.name)
        r.check(
            f"a cd costs the daemon {allowed:.0f} inotify event(s) at most",
            per_cd <= allowed,
            f"{per_cd:.2f} events per cd",
        )


def scenario_noise(subjects: list[Subject], settings: Settings) -> None:
    """$HOME (watched: an ancestor of every project) appended to 500 times a second."""
    log(f"daemon: $HOME written {NOISE_WRITES_PER_S}×/s")
    for order in rotations(subjects, settings.iterations):
        for s in order:
            # The daemon idle but for the noise: its CPU, and the events it is sent.
            mirror = s.mirror()
            try:
                mirror.take()
                before = daemonprobe.cpu_seconds(s.pid)
                start = time.monotonic()
                writes = finish(noise(s.noise_file, settings.noise_seconds))
                elapsed = time.monotonic() - start
                cpu = daemonprobe.cpu_seconds(s.pid) - before
                taken = mirror.take()
            finally:
                mirror.close()
            # Only $HOME's watch: other directories (/tmp...) see other users' files.
            events = taken[str(s.box.home)]
            s.result.add("noise: daemon CPU %", 100.0 * cpu / elapsed)
            s.result.add("noise: events per write", events / max(writes, 1))
            s.noise_events.update(taken)
            # The cd loop while the noise goes on (started first, ended after).
            writer = noise(s.noise_file, 60.0)
            try:
                time.sleep(0.2)
                noisy = s.cd_loop(s.n)
            finally:
                writer.terminate()
                writer.wait()
            quiet = s.cd_loop(s.n)  # paired: right after, without the noise
            if noisy is not None and quiet:
                s.result.add("cd noisy", noisy)
                s.result.add("noise: cd ratio", noisy / quiet)
    for s in subjects:
        r = s.result
        assert s.shell is not None
        r.check(
            "cd activates the project's venv while $HOME is written",
            s.venv_of(s.shell) == str(s.box.home / PROJECT_A / ".venv"),
        )
        per_write = r.median("noise: events per write") or 0.0
        r.check(
            "writes to a file in a watched directory send the daemon no event",
            per_write == 0,
            f"{per_write:.3f} events per write"
            + "".join(f"; {n} in {p}" for p, n in s.noise_events.most_common(3)),
        )


def scenario_many(subjects: list[Subject], settings: Settings) -> None:
    """``settings.shells`` shells attached, each in a project of its own."""
    count = settings.shells
    log(f"daemon: {count} shells attached")
    for s in subjects:
        # Distinct trees, so that every shell adds watches of its own (levels and venv);
        # trusted by ownership (trust = "owned"), as allowing each would take a process.
        config = s.box.home / ".config" / "shellhook" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('trust = "owned"\n')
        for i in range(1, count):
            project = s.box.home / "many" / f"p{i:02d}"
            (project / "src" / "pkg").mkdir(parents=True)
            venv.EnvBuilder(with_pip=False, symlinks=True).create(project / ".venv")
    for s in subjects:
        assert s.shell is not None
        for i in range(1, count):
            where = s.box.home / "many" / f"p{i:02d}" / "src" / "pkg"
            term = Term(
                s.spec.argv(s.rcdir), s.spec.env(s.box.env, s.rcdir), str(s.box.home / "many")
            )
            s.extra.append(term)
            term.expect(PROMPT_B, timeout=60)
            term.expect(PROMPT_B, (s.spec.cd(str(where)) + "\n").encode(), timeout=60)
        time.sleep(0.5)  # the daemon's debounce and watch changes settle
        wrong = 0
        for i, term in enumerate(s.extra, start=1):
            want = str(s.box.home / "many" / f"p{i:02d}" / ".venv")
            term.drain()
            out = term.read_until(b">END", (s.spec.show_venv() + "; echo '>'END\n").encode(), 60)
            if f"VENV<{want}>" not in out.decode(errors="replace"):
                wrong += 1
        s.result.check(f"{count} shells each have their project's venv", wrong == 0, f"{wrong} not")
        status = daemonprobe.proc_status(s.pid)
        s.result.figures["many: threads"] = status["threads"]
        s.result.figures["many: RSS MB"] = status["rss_kb"] / 1024
        s.result.figures["many: watches"] = len(daemonprobe.inotify_marks(s.pid))
        s.result.check(
            f"≤ {THREADS_BUDGET} daemon threads with {count} shells",
            status["threads"] <= THREADS_BUDGET,
            f"{status['threads']} threads",
        )
    for order in rotations(subjects, settings.iterations):
        for s in order:
            value = s.cd_loop(s.n)
            if value is not None:
                s.result.add("many: cd", value)


# -- report ---------------------------------------------------------------------------------
ROWS = [
    # key, label, kind, budget (None: none), budget kind
    ("events per cd", "inotify events per cd (one request)", "count", 0.0),
    ("watches", "inotify watches, 1 shell", "count", None),
    ("cd quiet", "cd between projects, in-shell", "time", None),
    ("noise: daemon CPU %", f"daemon CPU, $HOME written {NOISE_WRITES_PER_S}×/s", "pct", 1.0),
    ("noise: events per write", "inotify events per write to $HOME/noise.log", "count", 0.0),
    ("cd noisy", f"cd between projects, $HOME written {NOISE_WRITES_PER_S}×/s", "time", None),
    ("many: threads", "daemon threads, N shells", "count", float(THREADS_BUDGET)),
    ("many: RSS MB", "daemon RSS, N shells", "mb", RSS_BUDGET_MB),
    ("many: watches", "inotify watches, N shells", "count", None),
    ("many: cd", "cd between projects, one of N shells", "time", None),
]


def fmt(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    if kind == "time":
        return fmt_time(value)
    if kind == "pct":
        return f"{value:.2f} %"
    if kind == "mb":
        return f"{value:.1f} MB"
    return f"{value:.2f}" if value != int(value) else str(int(value))


def render(
    results: list[Result], settings: Settings, load: tuple[float, ...], shell: str = "bash"
) -> str:
    names = [r.name for r in results]
    head = ["measure", *names, "budget", "mark"]
    lines = []
    for key, label, kind, budget in ROWS:
        if key == "events per cd":
            budget = events_per_request(shell)
        label = label.replace("N shells", f"{settings.shells} shells")
        values = [r.median(key) for r in results]
        mark = ""
        shown_budget = "-" if budget is None else f"≤ {fmt(kind, budget)}"
        if (
            budget is not None
            and values[0] is not None
            and not (settings.quick and kind != "count")
        ):
            mark = "PASS" if values[0] <= budget + 1e-9 else "OVER"
        lines.append([label, *(fmt(kind, v) for v in values), shown_budget, mark])
    ratio = results[0].median("noise: cd ratio")
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    how = (
        "smoke run: checks only, no time judged"
        if settings.quick
        else f"medians of {settings.iterations} runs"
    )
    out = [
        f"shellhook daemon benchmark ({how}); {os.cpu_count()} CPUs, load {load[0]:.2f} at start",
        "",
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(head, widths))
        ),
    ]
    out.append("  ".join("-" * w for w in widths))
    for row in lines:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            )
        )
    if ratio is not None and not settings.quick:
        verdict = "PASS" if ratio <= 1 + NOISE_CD_TOLERANCE else "OVER"
        out.append(
            f"{names[0]}: cd while $HOME is written / the quiet cd right after it = {ratio:.2f} "
            f"(budget ≤ {1 + NOISE_CD_TOLERANCE:.2f}) {verdict}"
        )
    for r in results:
        out.append(f"{r.name}: {r.python}")
        for what, ok, detail in r.checks:
            out.append(
                f"  check {'ok  ' if ok else 'FAIL'} {what}" + (f" ({detail})" if detail else "")
            )
    return "\n".join(out)


def run(
    shell: str,
    pythons: list[tuple[str, str]],
    settings: Settings,
    keep: bool = False,
) -> tuple[str, bool]:
    """Every scenario for each (name, python); the report and whether every check held."""
    if not daemonprobe.available():
        return "daemon benchmark: needs Linux's /proc; skipped", True
    exe = find_executable(shell)
    if not exe:
        return f"daemon benchmark: {shell} is not installed; skipped", True
    spec = SPECS[shell](exe)
    load = os.getloadavg()
    subjects = [Subject(name, python, spec, keep) for name, python in pythons]
    try:
        for s in subjects:
            s.start()
        scenario_requests(subjects, settings)
        scenario_noise(subjects, settings)
        scenario_many(subjects, settings)
    except (TermError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        for s in subjects:
            s.result.check("the scenarios ran", False, str(exc))
    finally:
        for s in subjects:
            with contextlib.suppress(Exception):
                s.close()
    results = [s.result for s in subjects]
    ok = all(passed for r in results[:1] for _w, passed, _d in r.checks)
    return render(results, settings, load, shell), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shell", default="bash", help="the shell to drive (default: bash)")
    parser.add_argument(
        "--against",
        metavar="PYTHON",
        help="also measure the shellhook this interpreter imports (e.g. another checkout's "
        ".venv/bin/python), in alternating order",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: checks, no time judged")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--shells", type=int, default=None, help=f"default {MANY_SHELLS}")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes")
    args = parser.parse_args(argv)
    settings = Settings.make(args.quick, args.iterations, args.shells)
    pythons = [("this", sys.executable)]
    if args.against:
        pythons.append(("against", args.against))
    report, ok = run(args.shell, pythons, settings, args.keep)
    print(report)
    return 0 if ok or not settings.quick else 1


if __name__ == "__main__":
    sys.exit(main())
