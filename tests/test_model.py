"""A stateful, model-based test of DESIGN §4 in every real shell.

Hypothesis drives one interactive shell through random sequences of what users do (cd
into, out of and between projects and their subdirectories, ``source activate`` of this
or another venv, ``deactivate``, ``workon``, a child shell and its exit, ``exec`` of the
shell, a venv deleted or made again from outside). After every step the invariant must
hold: ``VIRTUAL_ENV``, the venv bin dirs on ``PATH``, the prompt prefix and ``deactivate``
agree, at most one venv's bin is on PATH and it is ``$VIRTUAL_ENV/bin``, and ``python`` is
that venv's. A small model of DESIGN §4 also says which venv must be active. Runs are
seeded (derandomized); a failure is shrunk by hypothesis and printed as a short list of
steps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.conftest import Sandbox, require_shell
from tests.drivers import DRIVERS
from tests.test_habits import venv_bins

PROJECTS = ("alpha", "beta")
STEPS = int(os.environ.get("SHELLHOOK_MODEL_STEPS", "30"))  # per sequence
EXAMPLES = int(os.environ.get("SHELLHOOK_MODEL_EXAMPLES", "8"))  # sequences per shell


@dataclass(frozen=True)
class Model:
    """What DESIGN §4 says one shell's state is."""

    cwd: str = "home"  # "home", or "PROJECT" / "PROJECT/sub"
    manual: str | None = None  # venv path of a manual activation
    manual_project: str | None = None  # its project: ours, sourced again by the user
    off: str | None = None  # project where the user ran deactivate
    missing: frozenset[str] = frozenset()  # projects whose venv was deleted

    def project(self) -> str | None:
        """The project the shell is in."""
        return None if self.cwd == "home" else self.cwd.split("/")[0]


@dataclass
class World:
    """The sandbox and its venvs."""

    sandbox: Sandbox
    projects: dict[str, Path] = field(default_factory=dict)
    other: Path | None = None  # a venv outside any project
    tools: Path | None = None  # a venv in $WORKON_HOME

    def venv(self, project: str) -> Path:
        return self.projects[project] / ".venv"


def expected_venv(model: Model, world: World) -> str | None:
    """Which venv DESIGN §4 says is active."""
    if model.manual is not None:
        return model.manual
    project = model.project()
    if project is None or project in model.missing or model.off == project:
        return None
    return str(world.venv(project))


class ShellMachine(RuleBasedStateMachine):
    """One interactive shell (and its children) driven through random user actions."""

    shell = ""  # set by the subclass made per shell

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="shellhook-model-"))
        box = Sandbox(self.tmp)
        self.world = World(box)
        for name in PROJECTS:
            proj = box.project(name)
            (proj / "sub").mkdir()
            self.world.projects[name] = proj
        self.world.other = box.make_venv(box.home / "scratch" / "other")
        self.world.tools = box.make_venv(box.workon_home / "tools")
        driver = DRIVERS[self.shell](box.root, box.env, box.hook_file(self.shell))
        self.sh = driver.start(box.home)
        self.base_path = box.env["PATH"]
        self.stack: list[Model] = []  # the parents' models while in a child shell
        self.model = Model()

    def teardown(self) -> None:
        self.sh.close()
        self.world.sandbox.stop_daemon()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- where a step goes --------------------------------------------------------------
    def _path(self, where: str) -> Path:
        if where == "home":
            return self.world.sandbox.home
        name, _, sub = where.partition("/")
        return self.world.projects[name] / sub if sub else self.world.projects[name]

    def _moved(self, where: str) -> None:
        model = replace(self.model, cwd=where)
        if model.off is not None and model.project() != model.off:
            model = replace(model, off=None)  # leaving the project ends "off"
        self.model = model

    # -- the user's actions ---------------------------------------------------------------
    @rule(where=st.sampled_from(["home", *PROJECTS, *(f"{p}/sub" for p in PROJECTS)]))
    def cd(self, where: str) -> None:
        self.sh.cd(self._path(where))
        self._moved(where)

    @rule(where=st.sampled_from(PROJECTS))
    def cd_project(self, where: str) -> None:
        self.cd(where)  # projects are where the interesting things happen: twice as likely

    @precondition(
        lambda self: (
            self.model.project() is not None and self.model.project() not in self.model.missing
        )
    )
    @rule()
    def source_activate_here(self) -> None:
        project = self.model.project()
        assert project is not None
        self._source(str(self.world.venv(project)))

    @rule()
    def source_activate_other(self) -> None:
        self._source(str(self.world.other))

    def _source(self, venv: str) -> None:
        # The venv we activated ourselves becomes the user's, with nothing visible changed
        # (one prefix, one PATH entry), and its deactivate still turns the project off.
        ours = expected_venv(self.model, self.world) == venv and self.model.manual is None
        self.sh.run(self.sh.source_activate(venv))
        project = self.model.project() if ours else None
        self.model = replace(self.model, manual=venv, manual_project=project)

    @precondition(lambda self: expected_venv(self.model, self.world) is not None)
    @rule()
    def deactivate(self) -> None:
        self.sh.run("deactivate")
        if self.model.manual is not None:
            inside = self.model.manual_project == self.model.project()
            off = self.model.manual_project if inside else self.model.off
            self.model = replace(self.model, manual=None, manual_project=None, off=off)
        else:
            self.model = replace(self.model, off=self.model.project())

    @rule()
    def workon(self) -> None:
        self.sh.run("workon tools")
        self.model = replace(self.model, manual=str(self.world.tools), manual_project=None)

    @precondition(lambda self: len(self.stack) < 2)
    @rule()
    def child_shell(self) -> None:
        self.sh.nested()
        self.stack.append(self.model)
        self.model = replace(self.model, manual_project=None)  # a child adopts it as manual

    @precondition(lambda self: bool(self.stack))
    @rule()
    def exit_child(self) -> None:
        self.sh.exit_nested()
        parent = self.stack.pop()
        # The parent's own state stands; only venvs deleted meanwhile changed.
        self.model = replace(parent, missing=self.model.missing)

    @rule()
    def exec_shell(self) -> None:
        self.sh.exec_self()
        self.model = replace(self.model, manual_project=None)  # adopted as manual

    def _deletable(self) -> list[str]:
        """Projects whose venv is there and is nobody's manual venv."""
        manual = {self.model.manual, *(m.manual for m in self.stack)}
        return [
            p
            for p in PROJECTS
            if p not in self.model.missing and str(self.world.venv(p)) not in manual
        ]

    @precondition(lambda self: bool(self._deletable()))
    @rule(data=st.data())
    def delete_venv(self, data: st.DataObject) -> None:
        project = data.draw(st.sampled_from(self._deletable()))
        shutil.rmtree(self.world.venv(project))
        self.model = replace(self.model, missing=self.model.missing | {project})
        self._settle()

    @precondition(lambda self: bool(self.model.missing))
    @rule(data=st.data())
    def recreate_venv(self, data: st.DataObject) -> None:
        project = data.draw(st.sampled_from(sorted(self.model.missing)))
        self.world.sandbox.make_venv(self.world.venv(project))
        self.model = replace(self.model, missing=self.model.missing - {project})
        self._settle()

    def _settle(self) -> None:
        """Wait (pressing enter) until the daemon's nudge for an outside change applied."""
        want = expected_venv(self.model, self.world)
        self.sh.wait_for(lambda: self.sh.venv() == want, timeout=5.0)

    # -- what must hold after every step --------------------------------------------------
    @invariant()
    def consistent(self) -> None:
        sh = self.sh
        venv = sh.venv()
        assert venv == expected_venv(self.model, self.world), self.model
        bins = venv_bins(sh.getenv("PATH") or b"", self.base_path)
        assert bins == ([os.fsencode(venv) + b"/bin"] if venv else []), bins
        assert sh.has_function("deactivate") == (venv is not None)
        assert sh.prompt_prefix.count(b"(") == (1 if venv else 0), sh.prompt_prefix
        if venv:
            assert sh.which_python() == venv


@pytest.mark.parametrize("shell", DRIVERS)
def test_habits_keep_the_invariant(shell):
    require_shell(DRIVERS[shell].executable)
    machine = type(f"{shell.capitalize()}Machine", (ShellMachine,), {"shell": shell})
    machine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        derandomize=True,  # seeded: the same sequences in every run
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    machine.TestCase().runTest()
