#!/usr/bin/env python3
"""mkvenv against the tools it drives, as ratios (DESIGN.md section 8: mkvenv, with pip,
≤ 1.2 × ``uv venv --seed`` when uv is on PATH, else ≤ 1.1 × ``python -m venv``), and the
wall time of each venv command (issue 12: ≤ 150 ms).

Run ``python3 bench/bench_mkvenv.py`` (``--help`` for options). Everything happens in a
throw-away HOME: each run creates a venv in a fresh project directory, the way a user
would, and is timed from process start to exit; mkvenv runs as the shell hook runs it
(``python -I -m shellhook mkvenv``, with a reply file for the shell). Runs of shellhook
and of the reference alternate, after one untimed warm-up of each; medians are compared.
The interpreter running this script is the one on PATH as ``python3`` and the one
shellhook runs on, as after a normal install. It is a report, not a test: exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
NETWORK_ENV = ("SSL_CERT_", "UV_", "PIP_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
BUDGET_MS = 150  # workon, mkvenv, rmvenv, lsvenv: wall time of one run (issue 12)


@dataclass
class Scenario:
    """One comparison: what shellhook runs against what a user would type instead."""

    title: str
    mkvenv_args: list[str]
    reference: list[str]  # ``{target}`` is replaced by the venv path
    budget: float | None
    iterations: int
    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)

    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.theirs)

    def mark(self) -> str:
        if self.budget is None:
            return "info"
        return "PASS" if self.ratio() <= self.budget else "OVER"


class Bench:
    """A throw-away HOME with projects to make venvs in."""

    def __init__(self, root: Path, uv: str | None) -> None:
        self.root = root
        self.home = root / "home"
        run = root / "run"
        for d in (self.home, run / "shellhook"):
            d.mkdir(parents=True)
        run.chmod(0o700)
        (run / "shellhook").chmod(0o700)
        path = [os.path.dirname(PY)] + ([os.path.dirname(uv)] if uv else [])
        self.env = {
            "HOME": str(self.home),
            "USER": os.environ.get("USER", "bench"),
            "PATH": os.pathsep.join(path + ["/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(run),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "XDG_STATE_HOME": str(self.home / ".local/state"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "WORKON_HOME": str(self.home / ".virtualenvs"),
            "SHELLHOOK_OPS_FILE": str(run / "shellhook" / "bench.ops"),
            "SHELLHOOK_OPS_SEQ": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        # The user's network settings (a proxy, its CA bundle, uv's and pip's indexes):
        # `uv venv --seed` needs them to reach the index, as in the user's shell.
        for key, value in os.environ.items():
            if key.startswith(NETWORK_ENV) or key.lower().endswith("_proxy"):
                self.env.setdefault(key, value)
        isolated = (
            subprocess.run(
                [PY, "-I", "-c", "import shellhook"],
                env=self.env,
                cwd=self.home,
                capture_output=True,
            ).returncode
            == 0
        )
        self.shellhook = [PY, "-I", "-m", "shellhook"] if isolated else [PY, "-m", "shellhook"]
        if not isolated:  # not installed: run from the checkout
            self.env["PYTHONPATH"] = str(REPO)
        self.count = 0

    def project(self) -> Path:
        self.count += 1
        proj = self.home / f"proj{self.count}"
        proj.mkdir()
        (proj / "pyproject.toml").write_text(f'[project]\nname = "p{self.count}"\n')
        return proj

    def time(self, argv: list[str], cwd: Path) -> float:
        """Seconds from start to exit of ``argv`` in ``cwd``; output discarded."""
        start = time.perf_counter()
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env={**self.env, "PWD": str(cwd)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
        return elapsed

    def one(self, scenario: Scenario, ours: bool) -> float:
        proj = self.project()
        if ours:
            seconds = self.time(self.shellhook + ["mkvenv", *scenario.mkvenv_args], proj)
        else:
            target = str(proj / ".venv")
            seconds = self.time([a.replace("{target}", target) for a in scenario.reference], proj)
        if not (proj / ".venv" / "pyvenv.cfg").is_file():
            raise RuntimeError(f"no venv made by {'mkvenv' if ours else scenario.reference}")
        shutil.rmtree(proj)
        return seconds

    def measure(self, scenario: Scenario) -> None:
        self.one(scenario, True)  # warm-up: caches, .pyc files
        self.one(scenario, False)
        for i in range(scenario.iterations):
            for ours in (True, False) if i % 2 else (False, True):
                (scenario.ours if ours else scenario.theirs).append(self.one(scenario, ours))

    def startup(self, n: int) -> float:
        return statistics.median(
            self.time(self.shellhook + ["--version"], self.home) for _ in range(n)
        )

    def timed(
        self, args: list[str], cwd: Path, argv: list[str] | None = None
    ) -> tuple[float, float]:
        """(wall, CPU) seconds of one ``shellhook ARGS`` run as the hook runs it (or of
        ``argv``)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = self.time(argv or self.shellhook + args, cwd)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu

    def commands(self, n: int, uv: str | None) -> list[tuple[str, float, float]]:
        """Median wall and CPU time of the venv commands (DESIGN §8 / issue: ≤ 150 ms).

        mkvenv here is ``--without-pip`` (with uv when it is on PATH): the command's own
        cost, not pip's; rmvenv removes that venv again. Every run is a fresh process.
        """
        name = "benchnamed"
        subprocess.run(
            [*self.shellhook, "mkvenv", "--without-pip", name],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            check=True,
        )
        runs: dict[str, list[tuple[float, float]]] = {}
        mk = ["mkvenv", "--without-pip"] + ([] if uv else ["--no-uv"])
        for _ in range(n):
            for label, argv in (
                ("(python -I -c pass)", [PY, "-I", "-c", "pass"]),
                ("(python -I -S -c pass)", [PY, "-I", "-S", "-c", "pass"]),
            ):
                runs.setdefault(label, []).append(self.timed([], self.home, argv))
            for label, args, cwd in (
                ("--version", ["--version"], self.home),
                ("workon", ["workon"], self.home),
                ("workon NAME", ["workon", "--no-cd", name], self.home),
                ("lsvenv", ["lsvenv"], self.home),
                ("status", ["status"], self.home),
            ):
                runs.setdefault(label, []).append(self.timed(args, cwd))
            proj = self.project()
            runs.setdefault(" ".join(mk), []).append(self.timed(mk, proj))
            runs.setdefault("rmvenv -y", []).append(self.timed(["rmvenv", "-y"], proj))
            shutil.rmtree(proj)
        return [
            (label, statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
            for label, r in runs.items()
        ]


def other_python() -> str | None:
    """Another CPython than this one (pyenv or pythonX.Y on PATH), for the subprocess path."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.12", "3.13", "3.11", "3.10", "3.9"):
        if minor == mine:
            continue
        found = sorted(root.glob(f"{minor}.*/bin/python{minor}")) if root.is_dir() else []
        exe = str(found[-1]) if found else shutil.which(f"python{minor}")
        if exe:
            return exe
    return None


def scenarios(uv: str | None, fast: int, slow: int) -> list[Scenario]:
    # mkvenv's default: a venv with pip, made by uv when it is on PATH (pip from uv's
    # cache, else the index), else by python -m venv. The budget applies to the default
    # of the machine, against what a user would type for the same venv.
    out = [
        Scenario(
            "python -m venv (with pip)",
            ["--no-uv"],
            [PY, "-m", "venv", "{target}"],
            None if uv else 1.1,
            slow,
        ),
        Scenario(
            "python -m venv --without-pip",
            ["--no-uv", "--without-pip"],
            [PY, "-m", "venv", "--without-pip", "{target}"],
            None,
            fast,
        ),
    ]
    other = other_python()
    if other:
        out.append(
            Scenario(
                f"{os.path.basename(other)} -m venv --without-pip (-p)",
                ["--no-uv", "--without-pip", "-p", other],
                [other, "-m", "venv", "--without-pip", "{target}"],
                None,
                fast,
            )
        )
    if uv:
        out += [
            Scenario(
                "uv venv --seed (with pip)",
                [],
                [uv, "venv", "--quiet", "--seed", "{target}"],
                1.2,
                fast,
            ),
            Scenario(
                "uv venv --seed --offline (pip from uv's cache)",
                [],
                [uv, "venv", "--quiet", "--seed", "--offline", "{target}"],
                None,
                fast,
            ),
            Scenario(
                "uv venv (mkvenv --without-pip)",
                ["--without-pip"],
                [uv, "venv", "--quiet", "{target}"],
                None,
                fast,
            ),
        ]
    return out


def report(
    results: list[Scenario],
    startup: float,
    uv: str | None,
    commands: list[tuple[str, float, float]],
) -> str:
    lines = [
        f"mkvenv benchmark: Python {sys.version.split()[0]} ({PY}); uv: {uv or 'not on PATH'}",
        f"shellhook start-up (python -I -m shellhook --version): {startup * 1000:.0f} ms",
        "",
    ]
    if commands:
        lines.append(
            f"venv commands (python -I -m shellhook ..., medians; budget {BUDGET_MS} ms wall):"
        )
        for label, wall, cpu in commands:
            mark = "" if label.startswith("(") else "PASS" if wall * 1000 <= BUDGET_MS else "OVER"
            row = f"  {label:<28} {wall * 1000:5.0f} ms wall  {cpu * 1000:5.0f} ms CPU  {mark}"
            lines.append(row.rstrip())
        lines.append("")
    if not results:
        return "\n".join(lines)
    head = ("reference", "runs", "mkvenv", "reference", "ratio", "budget", "mark")
    rows = [head]
    for s in results:
        rows.append(
            (
                s.title,
                str(len(s.ours)),
                f"{statistics.median(s.ours) * 1000:.0f} ms",
                f"{statistics.median(s.theirs) * 1000:.0f} ms",
                f"{s.ratio():.2f}×",
                f"≤ {s.budget}×" if s.budget else "-",
                s.mark(),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    lines += [
        "",
        "medians of alternating runs, each in a fresh project directory; "
        "mkvenv includes Python start-up, interpreter choice, trust record and reply",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations",
        type=int,
        default=15,
        help="runs of each side for the fast scenarios (default 15)",
    )
    parser.add_argument(
        "--pip-iterations",
        type=int,
        default=5,
        help="runs of each side when pip is installed (default 5)",
    )
    parser.add_argument(
        "--command-runs",
        type=int,
        default=11,
        help="runs of each venv command for the start-up table (default 11; 0: none)",
    )
    parser.add_argument(
        "--commands-only", action="store_true", help="only the venv commands' start-up table"
    )
    parser.add_argument(
        "--scenarios", metavar="TEXT", help="only the scenarios whose title contains TEXT"
    )
    parser.add_argument("--quick", action="store_true", help="3 and 1 runs: a smoke test")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    fast, slow = (3, 1) if args.quick else (args.iterations, args.pip_iterations)
    uv = shutil.which("uv")
    results = []
    with tempfile.TemporaryDirectory(prefix="shellhook-bench-mkvenv-") as tmp:
        bench = Bench(Path(tmp), uv)
        startup = bench.startup(5)
        runs = 3 if args.quick else args.command_runs
        print(f"measuring: the venv commands ({runs} runs each)", file=sys.stderr, flush=True)
        commands = bench.commands(runs, uv) if runs > 0 else []
        chosen = [] if args.commands_only else scenarios(uv, fast, slow)
        for scenario in [s for s in chosen if (args.scenarios or "") in s.title]:
            print(
                f"measuring: {scenario.title} ({scenario.iterations} × 2 runs)",
                file=sys.stderr,
                flush=True,
            )
            try:
                bench.measure(scenario)
            except RuntimeError as exc:
                print(f"  skipped: {exc}", file=sys.stderr)
                continue
            results.append(scenario)
    if args.json:
        print(
            json.dumps(
                {
                    "startup_s": startup,
                    "commands": [
                        {"command": c, "wall_s": w, "cpu_s": cpu} for c, w, cpu in commands
                    ],
                    "uv": uv,
                    "python": PY,
                    "results": [
                        {**asdict(s), "ratio": s.ratio(), "mark": s.mark()} for s in results
                    ],
                },
                indent=1,
            )
        )
    else:
        print(report(results, startup, uv, commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
