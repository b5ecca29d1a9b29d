"""Unit tests: ``policy.decide``, table-driven over DESIGN §4 (no daemon, no shell).

Each row is one situation a shell can be in when it asks (its Request), what the
resolver found for its directory (the judged Target) and the operations the shell must
apply. The rows are grouped by the bullet of DESIGN §4 they pin. ``judge`` (resolution,
trust and venv health into a Target) has a few cases of its own at the end.

Rows are written against a small world of real directories (``world``): projects ``a``,
``b`` and ``ab`` (a sibling whose name starts with ``a``) with a ``.venv`` each, a
project ``fancy`` whose venv's prompt needs a safe label, and a named venv ``tools`` in
$WORKON_HOME (what ``workon`` or ``source …/activate`` activates by hand). ``{a}`` in a
row is project a's directory, ``{A}`` its venv, ``{gone}`` a venv path that does not
exist (deleted, or some tool's env without pyvenv.cfg).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from shellhook import config as config_mod
from shellhook import locations
from shellhook import protocol as p
from shellhook.display import prompt_label
from shellhook.policy import Context, Target, decide, judge, within
from shellhook.protocol import Ops, Request
from shellhook.resolver import Resolution, Resolver
from shellhook.trust import TrustStore

# -- the world ------------------------------------------------------------------------

PROJECTS = {"a": "a", "b": "b", "ab": "ab", "fancy": "my $(x) venv"}  # project: venv name
DETAIL = ".venv/ directory"


def _make_venv(path: Path, prompt: str | None = None) -> None:
    (path / "bin").mkdir(parents=True)
    cfg = "home = /usr/bin\n" + (f"prompt = {prompt}\n" if prompt else "")
    (path / "pyvenv.cfg").write_text(cfg)
    (path / "bin" / "python").symlink_to("/usr/bin/python3")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths by key: a project (``a``), its venv (``A``), ``tools``, ``gone``, ``root``."""
    root = Path(os.path.realpath(tmp_path_factory.mktemp("policy")))
    paths = {"root": str(root)}
    for key, name in PROJECTS.items():
        proj = root / key
        _make_venv(proj / ".venv", prompt=None if name == key else name)
        paths[key] = str(proj)
        paths[key.upper()] = str(proj / ".venv")
    _make_venv(root / "workon" / "tools")
    paths["tools"] = str(root / "workon" / "tools")
    paths["gone"] = str(root / "deleted" / ".venv")
    return paths


# -- building rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """A Request, paths as ``{key}`` templates."""

    pwd: str
    venv: str = ""
    marker: str = ""
    owned: bool = False
    off: str = ""

    def build(self, w: dict[str, str]) -> Request:
        return Request(
            "7",
            self.pwd.format(**w),
            self.venv.format(**w),
            self.marker.format(**w),
            self.owned,
            self.off.format(**w),
        )


@dataclass(frozen=True)
class Found:
    """What the resolver and ``judge`` made of the directory: ``key``'s venv, usable or
    with ``warning``; ``problem``: a declared venv that cannot be used; ``key`` None:
    nothing found."""

    key: str | None = None
    usable: bool = True
    warning: str | None = None
    problem: str | None = None

    def build(self, w: dict[str, str]) -> Target:
        if self.key is None:
            return Target(Resolution(), False, None)
        project = w[self.key]
        warning = self.warning.format(**w) if self.warning else None
        if self.problem is not None:
            return Target(Resolution(project=project, problem=self.problem), False, warning)
        res = Resolution(venv=w[self.key.upper()], project=project, rule=".venv", detail=DETAIL)
        if not self.usable:
            return Target(res, False, warning)
        return Target(res, True, None, PROJECTS[self.key])


NOTHING = Found()


def untrusted(key: str) -> Found:
    return Found(key, usable=False, warning=f"shellhook: {{{key.upper()}}} is not allowed")


@dataclass(frozen=True)
class Case:
    id: str
    req: Req
    found: Found
    ops: Ops  # (op, arg template) pairs
    quiet: bool = False
    config_error: str | None = None
    design: str = ""  # the DESIGN §4 bullet the row pins


def activation(op: str, key: str) -> Ops:
    """P, L, M, then ``op`` for project ``key``'s venv (A: ours, O: adopted)."""
    name = PROJECTS[key]
    return [(p.OP_PROJECT, f"{{{key}}}"), (p.OP_LABEL, prompt_label(name)), (p.OP_NAME, name)] + [
        (op, f"{{{key.upper()}}}")
    ]


def activate(key: str) -> Ops:
    """Our activation of ``key``'s venv and its "activated" line."""
    return [
        *activation(p.OP_ACTIVATE, key),
        (p.OP_INFO, f"shellhook: activated {PROJECTS[key]} ({DETAIL})"),
    ]


def adopt_manual(key: str = "tools") -> Ops:
    """An inherited activation by hand taken over as one (no project: cd never ends it)."""
    return [(p.OP_PROJECT, ""), (p.OP_LABEL, key), (p.OP_NAME, key), (p.OP_MANUAL, f"{{{key}}}")]


def deactivated(key: str) -> tuple[str, str]:
    return (p.OP_INFO, f"shellhook: deactivated {PROJECTS[key]}")


D = (p.OP_DEACTIVATE, "")
F = (p.OP_FORGET, "")
S_CLEAR = (p.OP_SUPPRESS, "")

AUTO = "Auto: entered a project → activated; left it or entered another → deactivated or switched"
MANUAL = "By hand: never replaced or deactivated by cd; after deactivate auto resumes"
HABITS = "Habits meet automation: source activate of ours / another venv's over ours"
OFF = "deactivate inside an auto project keeps it off until the user leaves it"
CHILD = "Child shells adopt an activation (auto or manual) or drop it cleanly"
LIVE = "A venv deleted while active is deactivated; one created (and trusted) is activated"
MARKER = "Marker without VIRTUAL_ENV (unset by hand): our part is dropped"
WARN = "Warnings: untrusted, broken, problems, config errors (never silenced)"
QUIET = "quiet = true silences the activated/deactivated lines, never warnings"

CASES = [
    # -- auto ------------------------------------------------------------------------------
    Case("enter a project", Req("{a}"), Found("a"), activate("a"), design=AUTO),
    Case("enter a subdirectory", Req("{a}/src/deep"), Found("a"), activate("a"), design=AUTO),
    Case("nothing here, nothing active", Req("{root}"), NOTHING, [], design=AUTO),
    Case(
        "move inside the project",
        Req("{a}/src", venv="{A}", marker="{A}", owned=True),
        Found("a"),
        [],
        design=AUTO,
    ),
    Case(
        "leave the project",
        Req("{root}", venv="{A}", marker="{A}", owned=True),
        NOTHING,
        [D, deactivated("a")],
        design=AUTO,
    ),
    Case(
        "switch to another project",
        Req("{b}", venv="{A}", marker="{A}", owned=True),
        Found("b"),
        [D, *activate("b")],
        design=AUTO,
    ),
    Case(
        "switch to a sibling whose name starts alike",
        Req("{ab}", venv="{A}", marker="{A}", owned=True),
        Found("ab"),
        [D, *activate("ab")],
        design=AUTO,
    ),
    Case(
        "a prompt label of safe characters only",
        Req("{fancy}"),
        Found("fancy"),
        activate("fancy"),
        design=AUTO,
    ),
    # -- by hand ---------------------------------------------------------------------------
    Case(
        "manual venv, cd into a project: not replaced",
        Req("{a}", venv="{tools}", owned=True),
        Found("a"),
        [],
        design=MANUAL,
    ),
    Case(
        "manual venv, cd out of a project: not deactivated",
        Req("{root}", venv="{tools}", owned=True),
        NOTHING,
        [],
        design=MANUAL,
    ),
    Case(
        "manual venv, cd into an untrusted project: nothing to say",
        Req("{b}", venv="{tools}", owned=True),
        untrusted("b"),
        [],
        design=MANUAL,
    ),
    Case(
        "after the manual venv's deactivate: auto resumes",
        Req("{a}"),
        Found("a"),
        activate("a"),
        design=MANUAL,
    ),
    Case(
        "foreign activation that is no venv of ours to adopt: left alone",
        Req("{a}", venv="{gone}"),
        Found("a"),
        [],
        design=MANUAL,
    ),
    # -- habits ----------------------------------------------------------------------------
    Case(
        "source activate of the venv we activated: nothing changes",
        Req("{a}", venv="{A}", marker="{A}", owned=True),
        Found("a"),
        [],
        design=HABITS,
    ),
    Case(
        "source another venv's activate over ours: ours is forgotten",
        Req("{a}", venv="{tools}", marker="{A}", owned=True),
        Found("a"),
        [F],
        design=HABITS,
    ),
    Case(
        "that venv, then cd to another project: still not replaced",
        Req("{b}", venv="{tools}", owned=True),
        Found("b"),
        [],
        design=HABITS,
    ),
    Case(
        "that venv's deactivate in the other project: auto resumes there",
        Req("{b}"),
        Found("b"),
        activate("b"),
        design=HABITS,
    ),
    # -- deactivate-off --------------------------------------------------------------------
    Case("off: stays off inside", Req("{a}/src", off="{a}"), Found("a"), [], design=OFF),
    Case(
        "off: no warning inside either",
        Req("{a}", off="{a}"),
        untrusted("a"),
        [],
        design=OFF,
    ),
    Case("off: leaving ends it", Req("{root}", off="{a}"), NOTHING, [S_CLEAR], design=OFF),
    Case(
        "off: entering another project ends it and activates that one",
        Req("{b}", off="{a}"),
        Found("b"),
        [S_CLEAR, *activate("b")],
        design=OFF,
    ),
    Case(
        "off: a sibling whose name starts alike is not inside",
        Req("{ab}", off="{a}"),
        Found("ab"),
        [S_CLEAR, *activate("ab")],
        design=OFF,
    ),
    Case(
        "off: coming back after leaving activates again",
        Req("{a}"),
        Found("a"),
        activate("a"),
        design=OFF,
    ),
    Case(
        "off: carried over exec $SHELL (a new, unowned shell) it still holds",
        Req("{a}", off="{a}"),
        Found("a"),
        [],
        design=OFF,
    ),
    Case(
        "off: a manual venv inside keeps it off",
        Req("{a}", venv="{tools}", owned=True, off="{a}"),
        Found("a"),
        [],
        design=OFF,
    ),
    Case(
        # DESIGN: off "until the user leaves that project"; leaving with a manual venv
        # active is leaving too, or coming back after its deactivate stays off.
        "off: leaving with a manual venv active ends it",
        Req("{root}", venv="{tools}", owned=True, off="{a}"),
        NOTHING,
        [S_CLEAR],
        design=OFF,
    ),
    # -- child shells ----------------------------------------------------------------------
    Case(
        "child shell in the project adopts our activation",
        Req("{a}/src", venv="{A}", marker="{A}"),
        Found("a"),
        activation(p.OP_ADOPT, "a"),
        design=CHILD,
    ),
    Case(
        "child shell elsewhere drops it (no line: it did not activate it)",
        Req("{root}", venv="{A}", marker="{A}"),
        NOTHING,
        [D],
        design=CHILD,
    ),
    Case(
        "child shell in another project switches",
        Req("{b}", venv="{A}", marker="{A}"),
        Found("b"),
        [D, *activate("b")],
        design=CHILD,
    ),
    Case(
        "child shell of a workon shell adopts the manual venv",
        Req("{root}", venv="{tools}"),
        NOTHING,
        adopt_manual(),
        design=CHILD,
    ),
    Case(
        "child shell of a workon shell, in a project: adopted, not replaced",
        Req("{a}", venv="{tools}"),
        Found("a"),
        adopt_manual(),
        design=CHILD,
    ),
    Case(
        "child shell with a stale marker under a manual venv",
        Req("{a}", venv="{tools}", marker="{A}"),
        Found("a"),
        [F, *adopt_manual()],
        design=CHILD,
    ),
    # -- live changes ----------------------------------------------------------------------
    Case(
        "venv deleted while active",
        Req("{a}", venv="{A}", marker="{A}", owned=True),
        NOTHING,
        [D, deactivated("a")],
        design=LIVE,
    ),
    Case(
        "venv broken while active",
        Req("{a}", venv="{A}", marker="{A}", owned=True),
        Found("a", usable=False, warning="shellhook: not activating {A}: its python is missing"),
        [D, deactivated("a"), (p.OP_WARN, "shellhook: not activating {A}: its python is missing")],
        design=LIVE,
    ),
    Case("venv created and trusted inside", Req("{a}"), Found("a"), activate("a"), design=LIVE),
    Case(
        "venv created inside, not trusted: said",
        Req("{a}"),
        untrusted("a"),
        [(p.OP_WARN, "shellhook: {A} is not allowed")],
        design=LIVE,
    ),
    # -- marker without VIRTUAL_ENV --------------------------------------------------------
    Case(
        "VIRTUAL_ENV unset by hand, outside",
        Req("{root}", marker="{A}", owned=True),
        NOTHING,
        [F],
        design=MARKER,
    ),
    Case(
        "VIRTUAL_ENV unset by hand, inside: forgotten, then activated again",
        Req("{a}", marker="{A}", owned=True),
        Found("a"),
        [F, *activate("a")],
        design=MARKER,
    ),
    # -- warnings --------------------------------------------------------------------------
    Case(
        "untrusted venv: warned (every time: hooks print it once)",
        Req("{b}"),
        untrusted("b"),
        [(p.OP_WARN, "shellhook: {B} is not allowed")],
        design=WARN,
    ),
    Case(
        "leaving ours for an untrusted project: deactivated, then warned",
        Req("{b}", venv="{A}", marker="{A}", owned=True),
        untrusted("b"),
        [D, deactivated("a"), (p.OP_WARN, "shellhook: {B} is not allowed")],
        design=WARN,
    ),
    Case(
        "a declared venv that cannot be used",
        Req("{a}"),
        Found("a", problem="bad pointer", warning="shellhook: bad pointer"),
        [(p.OP_WARN, "shellhook: bad pointer")],
        design=WARN,
    ),
    Case(
        "config error: warned first, the rest as usual",
        Req("{a}"),
        Found("a"),
        [(p.OP_WARN, "shellhook: config.toml is not valid TOML"), *activate("a")],
        config_error="config.toml is not valid TOML",
        design=WARN,
    ),
    Case(
        "config error with a manual venv: still warned",
        Req("{a}", venv="{tools}", owned=True),
        Found("a"),
        [(p.OP_WARN, "shellhook: config.toml is not valid TOML")],
        config_error="config.toml is not valid TOML",
        design=WARN,
    ),
    # -- quiet -----------------------------------------------------------------------------
    Case(
        "quiet: activated silently",
        Req("{a}"),
        Found("a"),
        activation(p.OP_ACTIVATE, "a"),
        quiet=True,
        design=QUIET,
    ),
    Case(
        "quiet: deactivated silently",
        Req("{root}", venv="{A}", marker="{A}", owned=True),
        NOTHING,
        [D],
        quiet=True,
        design=QUIET,
    ),
    Case(
        "quiet: warnings still said",
        Req("{b}"),
        untrusted("b"),
        [(p.OP_WARN, "shellhook: {B} is not allowed")],
        quiet=True,
        design=QUIET,
    ),
]


def _context(tmp_path: Path, quiet: bool = False, config_error: str | None = None) -> Context:
    ctx = Context(
        Resolver(workon_home=tmp_path / "workon"),
        TrustStore(tmp_path / "trust"),
        config=config_mod.Config(quiet=quiet),
        config_error=config_error,
        _config_path=str(tmp_path / "config.toml"),
    )
    return ctx


def _run(case: Case, w: dict[str, str], tmp_path: Path, quiet: bool | None = None) -> Ops:
    ctx = _context(tmp_path, case.quiet if quiet is None else quiet, case.config_error)
    return decide(case.req.build(w), case.found.build(w), ctx)


def _expected(case: Case, w: dict[str, str]) -> Ops:
    return [(op, arg.format(**w)) for op, arg in case.ops]


@pytest.fixture(autouse=True)
def _no_real_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages abbreviate $HOME: one that holds none of the world's paths.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case, world: dict[str, str], tmp_path: Path) -> None:
    assert _run(case, world, tmp_path) == _expected(case, world)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_quiet_drops_only_the_info_lines(case: Case, world: dict[str, str], tmp_path: Path) -> None:
    expected = [op for op in _expected(case, world) if op[0] != p.OP_INFO]
    assert _run(case, world, tmp_path, quiet=True) == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reply_shape(case: Case, world: dict[str, str], tmp_path: Path) -> None:
    """What every reply respects, whatever the case: the hooks rely on it."""
    ops = _run(case, world, tmp_path)
    names = [op for op, _ in ops]
    activations = [
        i for i, op in enumerate(names) if op in (p.OP_ACTIVATE, p.OP_ADOPT, p.OP_MANUAL)
    ]
    assert len(activations) <= 1  # at most one venv becomes active
    for i in activations:  # P, L, M come right before the op that uses them
        assert names[i - 3 : i] == [p.OP_PROJECT, p.OP_LABEL, p.OP_NAME]
        label, name = ops[i - 2][1], ops[i - 1][1]
        assert label == prompt_label(name)
    if p.OP_DEACTIVATE in names and activations:
        assert names.index(p.OP_DEACTIVATE) < activations[0]  # the old one goes first
    assert names.count(p.OP_FORGET) <= 1 and names.count(p.OP_DEACTIVATE) <= 1
    if case.config_error:
        assert names[0] == p.OP_WARN
    known = {v for k, v in vars(p).items() if k.startswith("OP_")} - {p.OP_END}
    assert set(names) <= known


def test_every_design_bullet_has_rows() -> None:
    bullets = {AUTO, MANUAL, HABITS, OFF, CHILD, LIVE, MARKER, WARN, QUIET}
    assert {c.design for c in CASES if c.design} == bullets
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("path", "project", "inside"),
    [
        ("/p/a", "/p/a", True),
        ("/p/a/src", "/p/a", True),
        ("/p/ab", "/p/a", False),
        ("/p", "/p/a", False),
        ("/p/a/src", "/p/a/", True),
        ("/anything", "/", True),
    ],
)
def test_within(path: str, project: str, inside: bool) -> None:
    assert within(path, project) is inside


# -- judge ----------------------------------------------------------------------------


class Judge:
    """judge() for directories of a fresh tree, with its own trust store and config."""

    def __init__(self, root: Path) -> None:
        (root / "workon").mkdir()
        self.root = root
        self.config = locations.config_file()  # in the test's XDG_CONFIG_HOME
        self.config.parent.mkdir(parents=True)
        self.ctx = Context(Resolver(workon_home=root / "workon"), TrustStore(root / "trust"))

    def project(self, name: str = "proj", allow: bool = False) -> Path:
        proj = self.root / name
        _make_venv(proj / ".venv")
        if allow:
            self.ctx.trust.allow(str(proj), str(proj / ".venv"), None)
        return proj

    def __call__(self, directory: Path) -> Target:
        return judge(self.ctx.resolver.resolve(str(directory)), self.ctx)

    def decide(self, directory: Path) -> Ops:
        """What a fresh shell arriving in ``directory`` is told."""
        request = Request("1", str(directory), "", "", False, "")
        return decide(request, self(directory), self.ctx)


@pytest.fixture
def judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Judge:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return Judge(tmp_path)


def test_judge_nothing_found(judged: Judge) -> None:
    assert judge(Resolution(), judged.ctx) == Target(Resolution(), False, None)


def test_judge_untrusted_says_how_to_allow(judged: Judge) -> None:
    proj = judged.project()
    target = judged(proj)
    assert not target.usable and target.warning is not None
    assert "is not allowed" in target.warning
    assert target.warning.endswith(f"to use it: shellhook allow {proj}")


def test_judge_allowed_is_usable_with_its_name(judged: Judge) -> None:
    target = judged(judged.project(allow=True))
    assert (target.usable, target.warning, target.name) == (True, None, "proj")


def test_judge_denied_is_refused_in_silence(judged: Judge) -> None:
    proj = judged.project(allow=True)
    judged.ctx.trust.deny(str(proj))
    target = judged(proj)
    assert not target.usable and target.warning is None  # deny is for silence (DESIGN §5)


def test_judge_broken_venv_says_how_to_fix(judged: Judge) -> None:
    proj = judged.project(allow=True)
    (proj / ".venv" / "bin" / "python").unlink()
    target = judged(proj)
    assert not target.usable and target.warning is not None
    assert "python is missing" in target.warning
    assert "python3 -m venv --clear" in target.warning


def test_judge_problem_is_a_warning(judged: Judge, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("no-such-venv\n")  # a pointer to a name that is not there
    target = judged(proj)
    assert target.res.problem and not target.usable
    assert target.warning is not None and target.warning.startswith("shellhook: ")
    assert judged.decide(proj) == [(p.OP_WARN, target.warning)]


def test_judge_reads_quiet_from_the_config_file(judged: Judge) -> None:
    judged.config.write_text("quiet = true\n")
    ops = [op for op, _ in judged.decide(judged.project(allow=True))]
    assert p.OP_ACTIVATE in ops and p.OP_INFO not in ops


def test_judge_bad_config_is_a_warning_in_every_reply(judged: Judge, tmp_path: Path) -> None:
    judged.config.write_text("quiet = 'loud'\n")
    ops = judged.decide(judged.project(allow=True))
    assert ops[0][0] == p.OP_WARN and "quiet must be true or false" in ops[0][1]
    assert p.OP_ACTIVATE in [op for op, _ in ops]  # defaults apply meanwhile


@pytest.mark.parametrize("kind", ["huge", "fifo", "other-owner"])
def test_a_config_file_that_cannot_be_used_is_a_warning_and_never_blocks(
    judged: Judge, kind: str
) -> None:
    """Every read is capped (issue 13): a huge config.toml, a FIFO in its place (an open
    would block) or another user's (root with a user's HOME) give one warning line, and
    the defaults apply."""
    if kind == "huge":
        judged.config.write_bytes(b"# " + b"x" * (1 << 20) + b"\n")
        said = "larger than"
    elif kind == "fifo":
        os.mkfifo(judged.config)
        said = "not a regular file"
    else:
        judged.config.write_text("quiet = true\n")
        os.chown(judged.config, 4242, 4242)
        said = "owned by uid 4242"
    ops = judged.decide(judged.project(allow=True))
    assert ops[0][0] == p.OP_WARN and said in ops[0][1] and "\n" not in ops[0][1], ops
    assert p.OP_ACTIVATE in [op for op, _ in ops]


def test_a_symlinked_config_file_is_read(judged: Judge, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "shellhook.toml"
    target.parent.mkdir()
    target.write_text("quiet = true\n")
    judged.config.symlink_to(target)
    ops = [op for op, _ in judged.decide(judged.project(allow=True))]
    assert p.OP_ACTIVATE in ops and p.OP_INFO not in ops


def test_judge_refuses_a_colon_in_the_venv_path(judged: Judge, tmp_path: Path) -> None:
    venv = tmp_path / "a:b"
    _make_venv(venv)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text(f"{venv}\n")
    judged.ctx.trust.allow(str(proj), str(venv), (proj / ".venv").read_bytes())
    judged.config.write_text('trust = "owned"\n')
    target = judged(proj)
    assert not target.usable and target.warning is not None
    assert "would split PATH" in target.warning and "\n" not in target.warning


def test_project_files_claiming_trust_or_quiet_are_not_read(judged: Judge) -> None:
    """Case 13: a project's ``.shellhook.toml``, ``shellhook.toml``, ``config.toml``,
    ``pyproject.toml [tool.shellhook]`` and ``.envrc`` saying trust everything and be
    quiet change nothing: its venv is not allowed (the warning says how to allow it),
    and once allowed, the "activated" line is still there. Only the user's own config
    file counts (``trust = "owned"`` there does trust it)."""
    loose = 'trust = "owned"\nquiet = true\n'
    proj = judged.project()
    for name in (
        ".shellhook.toml",
        "shellhook.toml",
        "config.toml",
        ".config/shellhook/config.toml",
    ):
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        (proj / name).write_text(loose)
    (proj / "pyproject.toml").write_text("[tool.shellhook]\n" + loose)
    (proj / ".envrc").write_text("export SHELLHOOK_QUIET=1\n")
    target = judged(proj)
    assert not target.usable and target.warning is not None
    assert target.warning.endswith(f"is not allowed; to use it: shellhook allow {proj}")
    assert judged.decide(proj) == [(p.OP_WARN, target.warning)]
    judged.ctx.trust.allow(str(proj), str(proj / ".venv"), None)
    ops = [op for op, _ in judged.decide(proj)]
    assert p.OP_ACTIVATE in ops and p.OP_INFO in ops
    judged.ctx.trust.forget(str(proj))
    judged.config.write_text(loose)  # the user's own file: read
    ops = [op for op, _ in judged.decide(proj)]
    assert p.OP_ACTIVATE in ops and p.OP_INFO not in ops
