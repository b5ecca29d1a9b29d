"""Building and removing venvs all or nothing: clean-up on failure, Ctrl-C and signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shellhook import venvmake
from shellhook.interpreters import Interpreter
from shellhook.venvmake import BuildFailed, Plan, Step, VenvBuild, VenvExists

PY = Interpreter(sys.executable, tuple(sys.version_info[:3]))


def leftovers(*dirs: Path) -> list[str]:
    return [
        p.name for d in dirs if d.is_dir() for p in d.iterdir() if p.name.startswith(".shellhook-")
    ]


class FakeTools:
    """Stands in for uv/venv/pip: makes a venv-like tree that embeds its build path."""

    def __init__(
        self,
        fail_at: int | tuple[int, ...] | None = None,
        interrupt_at: int | None = None,
        signal_at: int | None = None,
        half_made: bool = False,
    ) -> None:
        self.calls: list[list[str]] = []
        self.quiet: list[bool] = []
        self.fail_at = (fail_at,) if isinstance(fail_at, int) else fail_at or ()
        self.interrupt_at, self.signal_at = interrupt_at, signal_at
        self.half_made = half_made  # a failing creation leaves a partial tree behind

    def __call__(
        self, command: list[str], cwd: str, env: dict[str, str], quiet: bool = False
    ) -> int:
        self.calls.append(command)
        self.quiet.append(quiet)
        step = len(self.calls)
        failing = step in self.fail_at
        if failing and self.half_made and "venv" in command:
            (Path(command[-1]) / "bin").mkdir(parents=True)
            (Path(command[-1]) / "bin" / "half").write_text("")
        elif not failing and "venv" in command and "install" not in command:
            build = Path(command[-1])
            (build / "bin").mkdir(parents=True)
            (build / "pyvenv.cfg").write_text(
                f"home = /usr/bin\ncommand = python -m venv {build}\n"
            )
            (build / "bin" / "activate").write_text(f'VIRTUAL_ENV="{build}"\nexport VIRTUAL_ENV\n')
            (build / "bin" / "pip").write_text(f"#!{build}/bin/python\nimport pip\n")
            (build / "bin" / "pip").chmod(0o755)
            (build / "bin" / "tool").write_bytes(b"\x7fELF\0\0" + os.fsencode(build) + b"\0")
            (build / "bin" / "python").symlink_to(sys.executable)
        if step == self.interrupt_at:
            raise KeyboardInterrupt
        if step == self.signal_at:
            os.kill(os.getpid(), signal.SIGTERM)
        return 1 if failing else 0


def plan(target: Path, **kw) -> Plan:
    return Plan(target=str(target), interpreter=PY, workdir=str(target.parent), **kw)


# -- where -------------------------------------------------------------------------------


def test_project_root(tmp_path):
    home = tmp_path / "home"
    proj = home / "proj"
    (proj / "src" / "pkg").mkdir(parents=True)
    plain = home / "plain" / "sub"
    plain.mkdir(parents=True)
    (home / ".git").mkdir()  # a dotfiles repo: home is still not a project
    assert venvmake.find_project_root(str(proj / "src" / "pkg"), str(home)) == str(
        proj / "src" / "pkg"
    )
    (proj / "requirements-dev.txt").write_text("")
    assert venvmake.find_project_root(str(proj / "src" / "pkg"), str(home)) == str(proj)
    (proj / "src" / "setup.py").write_text("")
    assert venvmake.find_project_root(str(proj / "src" / "pkg"), str(home)) == str(proj / "src")
    assert venvmake.find_project_root(str(plain), str(home)) == str(plain)
    assert venvmake.find_project_root(str(home), str(home)) is None
    assert venvmake.find_project_root("/", str(home)) is None
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: elsewhere\n")  # a worktree
    (tmp_path / "wt" / "a").mkdir()
    assert venvmake.find_project_root(str(tmp_path / "wt" / "a"), str(home)) == str(tmp_path / "wt")


# -- what --------------------------------------------------------------------------------


def test_steps_without_uv():
    p = Plan(
        target="/p/.venv",
        interpreter=Interpreter("/usr/bin/python3.12"),
        requirements=("/p/r1.txt", "/p/r2.txt"),
        install_project="/p",
    )
    assert venvmake.create_steps(p, "/p/.b/.venv") == [
        Step("python -m venv", ["/usr/bin/python3.12", "-m", "venv", "--", "/p/.b/.venv"])
    ]
    assert venvmake.install_command(p, "/p/.b/.venv", "python -m venv") == [
        "/p/.b/.venv/bin/python",
        "-m",
        "pip",
        "install",
        "-r",
        "/p/r1.txt",
        "-r",
        "/p/r2.txt",
        "-e",
        "/p",
    ]
    p = Plan(target="/p/.venv", interpreter=Interpreter("/usr/bin/python3"), with_pip=False)
    assert venvmake.create_steps(p, "/b") == [
        Step("python -m venv", ["/usr/bin/python3", "-m", "venv", "--without-pip", "--", "/b"])
    ]
    assert venvmake.install_command(p, "/b", "python -m venv") is None
    p = Plan(target="/p/.venv", interpreter=PY, in_process=True)
    assert venvmake.create_steps(p, "/b") == [Step("python -m venv", [])]


def test_steps_with_uv_have_pip_by_default_and_fall_back_offline():
    """uv's cache first (no network), then the index, then python -m venv (ensurepip:
    no network either): a venv with pip whatever uv can reach."""
    p = Plan(target="/p/.venv", interpreter=Interpreter("/x/python"), uv="/bin/uv")
    uv = ["/bin/uv", "venv", "--quiet", "--python", "/x/python", "--seed"]
    assert venvmake.create_steps(p, "/b") == [
        Step("uv", [*uv, "--offline", "--", "/b"], quiet=True),
        Step("uv", [*uv, "--", "/b"]),
        Step("python -m venv", ["/x/python", "-m", "venv", "--", "/b"]),
    ]
    p = Plan(
        target="/p/.venv",
        interpreter=Interpreter("/usr/bin/python3.12"),
        uv="/bin/uv",
        with_pip=False,
        requirements=("/p/r.txt",),
        install_project="/p",
    )
    assert venvmake.create_steps(p, "/b") == [
        Step("uv", ["/bin/uv", "venv", "--quiet", "--python", "/usr/bin/python3.12", "--", "/b"]),
        Step("python -m venv", ["/usr/bin/python3.12", "-m", "venv", "--without-pip", "--", "/b"]),
    ]
    assert venvmake.install_command(p, "/b", "uv") == [
        "/bin/uv",
        "pip",
        "install",
        "--python",
        "/b/bin/python",
        "-r",
        "/p/r.txt",
        "-e",
        "/p",
    ]
    # uv failed and python -m venv made the venv: pip installs too
    assert venvmake.install_command(p, "/b", "python -m venv") == [
        "/b/bin/python",
        "-m",
        "pip",
        "install",
        "-r",
        "/p/r.txt",
        "-e",
        "/p",
    ]


@pytest.mark.parametrize(
    ("fail_at", "tool", "notes"),
    [
        ((), "uv", 0),  # uv's cache had pip
        ((1,), "uv", 0),  # not in the cache: from the index, without a word
        ((1, 2), "python -m venv", 1),  # no index either (no network, no CA bundle)
    ],
)
def test_uv_falls_back_until_a_venv_with_pip_exists(tmp_path, fail_at, tool, notes):
    target = tmp_path / ".venv"
    tools = FakeTools(fail_at=fail_at, half_made=True)
    said: list[str] = []
    p = plan(target, uv="/bin/uv", requirements=(str(tmp_path / "r.txt"),))
    built = venvmake.build(p, run=tools, note=said.append)
    assert built.tool == tool
    assert tools.quiet[0] is True and not any(tools.quiet[1:])  # only the cache try is quiet
    assert len(said) == notes
    if notes:
        assert said[0].startswith("uv could not make the venv (exit status 1); making it with")
        assert "no network needed" in said[0]
    install = tools.calls[-1]
    assert install[:2] == (["/bin/uv", "pip"] if tool == "uv" else [str(install[0]), "-m"])
    assert not (target / "bin" / "half").exists()  # a failed try's leftovers are gone
    assert (target / "pyvenv.cfg").exists() and leftovers(tmp_path) == []


def test_uv_failing_everywhere_fails_once_with_the_last_status(tmp_path):
    target = tmp_path / ".venv"
    with pytest.raises(BuildFailed, match=r"^python -m venv failed \(exit status 1\); nothing"):
        venvmake.build(plan(target, uv="/bin/uv"), run=FakeTools(fail_at=(1, 2, 3)))
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


def test_without_pip_and_without_uv_nothing_installs(tmp_path):
    target = tmp_path / ".venv"
    p = plan(target, uv="/bin/uv", with_pip=False, requirements=(str(tmp_path / "r.txt"),))
    with pytest.raises(BuildFailed, match="uv failed, and the venv has no pip"):
        venvmake.build(p, run=FakeTools(fail_at=1))
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


def test_pip_version(tmp_path):
    venv = tmp_path / "v"
    site = venv / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    assert venvmake.pip_version(str(venv)) is None
    (site / "pip").mkdir()
    assert venvmake.pip_version(str(venv)) == ""
    (site / "pip-24.0.dist-info").mkdir()
    assert venvmake.pip_version(str(venv)) == "24.0"
    assert venvmake.pip_version(str(tmp_path / "missing")) is None


def test_tool_environment_drops_the_active_venv():
    env = venvmake.tool_environment({"VIRTUAL_ENV": "/v", "PATH": "/bin"})
    assert "VIRTUAL_ENV" not in env and env["PATH"] == "/bin"
    assert env["PIP_DISABLE_PIP_VERSION_CHECK"] == "1"


# -- building ----------------------------------------------------------------------------


def test_build_relocates_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "proj" / ".venv"
    tools = FakeTools()
    venvmake.build(plan(target), run=tools)
    build = tools.calls[0][-1]
    assert os.path.dirname(os.path.dirname(build)) == str(target.parent)  # next to it
    assert os.path.basename(build) == ".venv"  # same name: tools derive prompts from it
    activate = (target / "bin" / "activate").read_text()
    assert activate == f'VIRTUAL_ENV="{target}"\nexport VIRTUAL_ENV\n'
    assert (target / "bin" / "pip").read_text().startswith(f"#!{target}/bin/python\n")
    assert stat.S_IMODE((target / "bin" / "pip").stat().st_mode) == 0o755
    assert f"-m venv {target}\n" in (target / "pyvenv.cfg").read_text()
    assert os.fsencode(build) in (target / "bin" / "tool").read_bytes()  # binaries untouched
    assert (target / "bin" / "python").is_symlink()
    assert leftovers(target.parent) == []


@pytest.mark.parametrize("fail_at", [1, 2])
def test_failure_leaves_nothing(tmp_path, fail_at):
    target = tmp_path / ".venv"
    with pytest.raises(BuildFailed, match="nothing was created"):
        venvmake.build(
            plan(target, requirements=(str(tmp_path / "r.txt"),)), run=FakeTools(fail_at=fail_at)
        )
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


@pytest.mark.parametrize("at", [1, 2])
def test_ctrl_c_leaves_nothing(tmp_path, at):
    target = tmp_path / ".venv"
    with pytest.raises(KeyboardInterrupt):
        venvmake.build(plan(target, install_project=str(tmp_path)), run=FakeTools(interrupt_at=at))
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


def test_sigterm_acts_like_ctrl_c(tmp_path):
    target = tmp_path / ".venv"
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        venvmake.build(plan(target), run=FakeTools(signal_at=1))
    assert not os.path.lexists(target) and leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_failure_after_commit_removes_the_new_venv(tmp_path):
    target = tmp_path / ".venv"

    def after():
        assert (target / "pyvenv.cfg").exists()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        venvmake.build(plan(target), run=FakeTools(), after_commit=after)
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


def test_no_tool_no_venv(tmp_path):
    target = tmp_path / ".venv"
    with pytest.raises(BuildFailed, match="did not create"):
        venvmake.build(plan(target), run=lambda c, w, e, quiet=False: 0)
    assert not os.path.lexists(target) and leftovers(tmp_path) == []


def test_existing_target_is_never_touched_without_replace(tmp_path):
    target = tmp_path / ".venv"
    target.mkdir()
    (target / "pyvenv.cfg").write_text("old\n")
    tools = FakeTools()
    with pytest.raises(VenvExists, match="--force"):
        venvmake.build(plan(target), run=tools)
    assert tools.calls == [] and (target / "pyvenv.cfg").read_text() == "old\n"
    assert leftovers(tmp_path) == []


def old_venv(target: Path) -> int:
    target.mkdir()
    (target / "pyvenv.cfg").write_text("old\n")
    return (target / "pyvenv.cfg").stat().st_ino


def test_replace_keeps_the_old_venv_until_the_new_one_is_built(tmp_path):
    target = tmp_path / ".venv"
    inode = old_venv(target)
    with pytest.raises(BuildFailed):
        venvmake.build(plan(target, replace=True), run=FakeTools(fail_at=1))
    assert (target / "pyvenv.cfg").stat().st_ino == inode
    with pytest.raises(KeyboardInterrupt):
        venvmake.build(
            plan(target, replace=True),
            run=FakeTools(),
            after_commit=lambda: (_ for _ in ()).throw(KeyboardInterrupt),
        )
    assert (target / "pyvenv.cfg").read_text() == "old\n"  # put back
    venvmake.build(plan(target, replace=True), run=FakeTools())
    assert (target / "pyvenv.cfg").read_text().startswith("home = ")
    assert leftovers(tmp_path) == []


def test_replace_refuses_what_is_not_a_venv(tmp_path):
    target = tmp_path / ".venv"
    target.mkdir()
    (target / "precious.txt").write_text("data")
    with pytest.raises(VenvExists, match="not a venv"):
        venvmake.build(plan(target, replace=True), run=FakeTools())
    assert (target / "precious.txt").read_text() == "data" and leftovers(tmp_path) == []


def test_replaceable(tmp_path):
    assert venvmake.replaceable(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    assert venvmake.replaceable(str(tmp_path / "empty"))
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("")
    assert venvmake.replaceable(str(tmp_path / "venv"))
    (tmp_path / "pointer").write_text("name\n")
    assert venvmake.replaceable(str(tmp_path / "pointer"))
    (tmp_path / "big").write_bytes(b"x" * 10000)
    assert not venvmake.replaceable(str(tmp_path / "big"))
    (tmp_path / "link").symlink_to(tmp_path / "big")
    assert venvmake.replaceable(str(tmp_path / "link"))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_text("")
    assert not venvmake.replaceable(str(tmp_path / "dir"))


def test_concurrent_builds_one_wins(tmp_path):
    target = tmp_path / ".venv"
    with VenvBuild(str(target)) as first, VenvBuild(str(target)) as second:
        for b in (first, second):
            FakeTools()(["venv", b.path], str(tmp_path), {})
        first.commit()
        with pytest.raises(VenvExists, match="already exists"):
            second.commit()
    assert (target / "pyvenv.cfg").exists()
    assert (target / "bin" / "activate").read_text().startswith(f'VIRTUAL_ENV="{target}"')
    assert leftovers(tmp_path) == []


def test_group_writable_umask_is_tightened(tmp_path):
    target = tmp_path / ".venv"
    old = os.umask(0o002)
    try:
        venvmake.build(plan(target), run=FakeTools())
        assert os.umask(0o002) == 0o002  # restored
    finally:
        os.umask(old)
    assert not target.stat().st_mode & 0o022
    assert not (target / "bin").stat().st_mode & 0o022


def test_stale_temporary_directories_are_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".shellhook-mkvenv-{dead.pid}-abc"
    (stale / ".venv" / "bin").mkdir(parents=True)
    mine = tmp_path / f".shellhook-mkvenv-{os.getpid()}-abc"
    mine.mkdir()
    other = tmp_path / ".shellhook-unrelated"
    other.mkdir()
    venvmake.sweep_stale(str(tmp_path))
    assert not stale.exists() and mine.exists() and other.exists()


def test_real_venv_works_at_its_final_place(tmp_path):
    target = tmp_path / "a b" / ".venv"
    built = venvmake.build(plan(target, with_pip=False))
    assert built == venvmake.Built("python -m venv", None)
    out = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(target)
    assert (
        f'VIRTUAL_ENV="{target}"' in (target / "bin" / "activate").read_text()
        or f"VIRTUAL_ENV='{target}'" in (target / "bin" / "activate").read_text()
    )
    assert ".shellhook-" not in (target / "pyvenv.cfg").read_text()
    assert leftovers(target.parent) == []


# -- pointers and removal -------------------------------------------------------------------


def test_write_pointer(tmp_path):
    old = os.umask(0o077)
    try:
        data = venvmake.write_pointer(str(tmp_path), "foo", replace=False)
    finally:
        os.umask(old)
    pointer = tmp_path / ".venv"
    assert data == b"foo\n" and pointer.read_bytes() == b"foo\n"
    assert stat.S_IMODE(pointer.stat().st_mode) == 0o644
    with pytest.raises(VenvExists):
        venvmake.write_pointer(str(tmp_path), "bar", replace=False)
    assert pointer.read_bytes() == b"foo\n"
    venvmake.write_pointer(str(tmp_path), "bar", replace=True)
    assert pointer.read_bytes() == b"bar\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv"]


def test_remove_tree(tmp_path):
    venv = tmp_path / "v"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    (venv / "bin" / "python").symlink_to("/nonexistent")
    venvmake.remove_tree(str(venv))
    assert list(tmp_path.iterdir()) == []


def test_in_process_creation_for_the_same_interpreter(tmp_path):
    assert venvmake.same_interpreter(sys.executable)
    assert not venvmake.same_interpreter("/nonexistent/python")
    target = tmp_path / ".venv"
    tools = FakeTools()
    with pytest.raises(BuildFailed, match="no pip to install with"):
        venvmake.build(
            plan(target, with_pip=False, in_process=True, requirements=("/r.txt",)), run=tools
        )
    assert tools.calls == [] and not target.exists()
    assert venvmake.build(plan(target, with_pip=False, in_process=True), run=tools).pip is None
    assert tools.calls == []  # no tool: this process's venv module
    out = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(target) and leftovers(tmp_path) == []
