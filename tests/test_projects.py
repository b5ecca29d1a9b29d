"""Projects and trust as users see them (issue 9): stray venvs above a project, umask 002
with a private and with a shared group, deny and forget, moved or copied venvs, venvs
without pip, and how often the untrusted notice is said.

The first part tests the domain functions alone; the rest drives every shell through
the ``spawn`` fixture, with a throw-away HOME.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import time
import venv as venv_mod
from pathlib import Path

import pytest

from shellhook import policy, trust, venvinfo
from shellhook.resolver import Resolver, Scope

# -- venvinfo: moved or copied venvs, pip ------------------------------------------------


def real_venv(path: Path, script: bool = True) -> Path:
    """A real venv without pip; with ``script``, a ``bin/tool`` whose shebang names its
    python, as every script pip installs has."""
    venv_mod.EnvBuilder(with_pip=False, symlinks=True).create(path)
    if script:
        tool = path / "bin" / "tool"
        tool.write_text(f"#!{path / 'bin' / 'python'}\nprint('tool')\n")
        tool.chmod(0o755)
    return path


def test_a_venv_where_it_was_made_is_not_moved(tmp_path):
    v = real_venv(tmp_path / "proj" / ".venv")
    assert venvinfo.made_elsewhere(str(v)) is None
    assert venvinfo.broken_reason(str(v)) is None
    (tmp_path / "link").symlink_to(tmp_path / "proj")  # reached by another path: the same
    assert venvinfo.made_elsewhere(str(tmp_path / "link" / ".venv")) is None


def test_a_copied_venv_names_its_original(tmp_path):
    v = real_venv(tmp_path / "proj" / ".venv")
    copy = tmp_path / "copy" / ".venv"
    shutil.copytree(v, copy, symlinks=True)
    assert venvinfo.made_elsewhere(str(copy)) == str(v)
    assert "moved or copied" in (venvinfo.broken_reason(str(copy)) or "")


def test_a_moved_venv_is_told_by_its_scripts_alone(tmp_path):
    v = real_venv(tmp_path / "old" / ".venv")
    cfg = v / "pyvenv.cfg"
    cfg.write_text("".join(ln for ln in cfg.read_text().splitlines(True) if "command" not in ln))
    (tmp_path / "new").mkdir()
    moved = v.rename(tmp_path / "new" / ".venv")
    assert venvinfo.made_elsewhere(str(moved)) == str(v)  # the original is gone


def test_a_moved_venv_is_told_by_pyvenv_cfg_alone(tmp_path):
    v = real_venv(tmp_path / "old" / ".venv", script=False)
    if "command" not in venvinfo.read_cfg(str(v)):
        pytest.skip("this Python writes no command line into pyvenv.cfg (before 3.11)")
    (tmp_path / "new").mkdir()
    moved = v.rename(tmp_path / "new" / ".venv")
    assert venvinfo.made_elsewhere(str(moved)) == str(v)


def test_shebang_forms(tmp_path):
    v = real_venv(tmp_path / "v", script=False)
    tool = v / "bin" / "tool"
    tool.write_text("#!/bin/sh\n'''exec' \"/gone/with space/bin/python3\" \"$0\" \"$@\"\n' '''\n")
    assert venvinfo.made_elsewhere(str(v)) == "/gone/with space"  # pip's trampoline
    tool.write_text("#!/usr/bin/env python3\n")
    assert venvinfo.made_elsewhere(str(v)) is None
    system = os.path.realpath(sys.executable)  # the base python, outside any venv
    tool.write_text(f"#!{system}\n")  # a script of the user's own, for the system python
    assert venvinfo.made_elsewhere(str(v)) is None
    tool.unlink()
    tool.symlink_to("/gone/bin/python")  # links are not scripts
    assert venvinfo.made_elsewhere(str(v)) is None


def test_has_pip(tmp_path):
    v = real_venv(tmp_path / "v", script=False)
    assert not venvinfo.has_pip(str(v))
    (v / "bin" / "pip").write_text("#!/bin/sh\n")
    assert venvinfo.has_pip(str(v))


# -- policy: what the user reads ---------------------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A throw-away HOME for messages shown in ~ form, with an empty config."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(h / ".local" / "state"))
    return h


def context(home: Path) -> policy.Context:
    scope = Scope(workon_home=str(home / ".virtualenvs"), home=str(home))
    return policy.Context(Resolver(scope=scope), trust.TrustStore(home / "state" / "trust"))


def test_untrusted_notice_fits_80_columns_and_names_one_path_form(home):
    proj = home / "src" / "myproject"
    real_venv(proj / ".venv")
    ctx = context(home)
    target = policy.judge(ctx.resolver.resolve(str(proj)), ctx)
    text = target.warning or ""
    assert text == "shellhook: .venv is not allowed; to use it: shellhook allow ~/src/myproject"
    assert len(text) < 80


def test_untrusted_notice_is_the_same_however_the_project_is_entered(home):
    proj = home / "real"
    real_venv(proj / ".venv")
    (proj / "sub").mkdir()
    (home / "alias").symlink_to(proj)
    ctx = context(home)
    texts = {
        policy.judge(ctx.resolver.resolve(str(where)), ctx).warning
        for where in (proj, proj / "sub", home / "alias", home / "alias" / "sub")
    }
    assert texts == {"shellhook: .venv is not allowed; to use it: shellhook allow ~/real"}


def test_a_path_needing_quotes_has_the_same_form_in_text_and_command(home):
    proj = home / "my proj"
    real_venv(proj / ".venv")
    ctx = context(home)
    os.chmod(proj / ".venv", 0o777)
    text = policy.judge(ctx.resolver.resolve(str(proj)), ctx).warning or ""
    quoted = f"'{proj / '.venv'}'"
    assert text.count(quoted) == 3  # not activating X: X is writable ... chmod -R ... X


def test_denied_is_silent_and_no_pip_is_a_note(home):
    proj = home / "proj"
    real_venv(proj / ".venv")
    ctx = context(home)
    ctx.trust.allow(str(proj), str(proj / ".venv"), None)
    target = policy.judge(ctx.resolver.resolve(str(proj)), ctx)
    assert target.usable and target.note is not None
    assert "has no pip" in target.note and "python -m ensurepip" in target.note
    (proj / ".venv" / "bin" / "pip").write_text("#!/bin/sh\n")
    assert policy.judge(ctx.resolver.resolve(str(proj)), ctx).note is None
    ctx.trust.deny(str(proj))
    target = policy.judge(ctx.resolver.resolve(str(proj)), ctx)
    assert not target.usable and target.warning is None
    (proj / ".venv").rename(proj / "gone")
    (proj / ".venv").write_text("missing\n")  # a broken pointer of a denied project: silent
    assert policy.judge(ctx.resolver.resolve(str(proj)), ctx).warning is None


def test_changed_since_allowed_names_the_venv_and_the_project(home):
    shared = real_venv(home / "envs" / "a")
    proj = home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("../envs/a\n")
    ctx = context(home)
    res = ctx.resolver.resolve(str(proj))
    ctx.trust.allow(str(proj), str(shared), res.pointer)
    assert policy.judge(ctx.resolver.resolve(str(proj)), ctx).usable
    (proj / ".venv").write_text(f"{shared}\n")  # the same venv, another pointer
    assert policy.judge(ctx.resolver.resolve(str(proj)), ctx).warning == (
        "shellhook: ~/envs/a: changed since allowed; to use it: shellhook allow ~/proj"
    )


def test_a_refusal_is_current_until_a_chmod(home):
    proj = home / "proj"
    real_venv(proj / ".venv")
    os.chmod(proj / ".venv" / "bin", 0o777)
    ctx = context(home)
    target = policy.judge(ctx.resolver.resolve(str(proj)), ctx)
    assert target.stamp is not None and policy.still_current(target)
    os.chmod(proj / ".venv" / "bin", 0o755)
    assert not policy.still_current(target)


# -- the command line --------------------------------------------------------------------


def stray_venvs(sandbox) -> Path:
    """A ~/venv, a folder of two venvs, and a project below both with no venv of its own."""
    sandbox.make_venv(sandbox.home / "venv")
    work = sandbox.home / "work"
    for name in ("env1", "env2"):
        sandbox.make_venv(work / name)
    proj = work / "proj"
    (proj / ".git").mkdir(parents=True)
    return proj


def test_which_and_allow_explain_what_was_passed_over(sandbox):
    proj = stray_venvs(sandbox)
    out = sandbox.shellhook("which", str(proj), check=False)
    assert out.returncode == 1 and out.stdout == ""
    assert "passed over ~/work: it holds 2 venvs (env1, env2): a store, not a project" in out.stderr
    assert "to use one here: echo ../env1 > ~/work/proj/.venv" in out.stderr
    assert "passed over ~/venv: ~ is your home directory, never a project" in out.stderr
    allow = sandbox.shellhook("allow", str(proj), check=False)
    assert allow.returncode == 1 and "nothing to allow" in allow.stderr
    assert "a store" in allow.stderr and not list((sandbox.home / ".local").rglob("*.json"))
    # The command which suggests works, and then the venv is the project's.
    (proj / ".venv").write_text("../env1\n")
    sandbox.shellhook("allow", str(proj))
    out = sandbox.shellhook("which", str(proj))
    assert out.stdout.splitlines()[0] == str(sandbox.home / "work" / "env1")
    assert "activates automatically" in out.stdout


def test_allow_refuses_an_ancestors_venv_for_a_project_of_its_own(sandbox):
    outer = sandbox.project("outer", trust=False)
    inner = outer / "inner"
    (inner / "src").mkdir(parents=True)
    (inner / "pyproject.toml").write_text("")
    out = sandbox.shellhook("allow", str(inner / "src"), check=False)
    assert out.returncode == 1
    assert "~/outer/inner has no venv of its own (~/outer/.venv belongs to ~/outer)" in out.stderr
    assert "shellhook allow ~/outer" in out.stderr
    assert "not allowed" in sandbox.shellhook("which", str(outer)).stdout
    (outer / "plain").mkdir()  # no project marker: the same project
    sandbox.shellhook("allow", str(outer / "plain"))
    assert "activates automatically" in sandbox.shellhook("which", str(outer)).stdout


def test_home_is_project_in_the_config(sandbox):
    sandbox.make_venv(sandbox.home / ".venv")
    (sandbox.home / "x").mkdir()
    assert sandbox.shellhook("which", str(sandbox.home / "x"), check=False).returncode == 1
    cfg = sandbox.home / ".config" / "shellhook" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("home_is_project = true\n")
    out = sandbox.shellhook("which", str(sandbox.home / "x"))
    assert out.stdout.splitlines()[0] == str(sandbox.home / ".venv")
    cfg.write_text('home_is_project = "yes"\n')
    status = sandbox.shellhook("status", check=False)  # a bad config is a problem: exit 1
    assert status.returncode == 1 and "must be true or false" in status.stdout


def test_deny_forget_round_trip(sandbox):
    proj = sandbox.project("proj")
    out = sandbox.shellhook("deny", str(proj))
    assert out.stdout == "shellhook: denied ~/proj: its venv stays off and silent " + (
        "(undo: shellhook forget ~/proj)\n"
    )
    assert "denied: never activated" in sandbox.shellhook("which", str(proj)).stdout
    assert sandbox.shellhook("forget", str(proj / "sub-that-is-gone")).stdout == (
        "shellhook: forgot the deny of ~/proj\n"
    )
    assert "not allowed" in sandbox.shellhook("which", str(proj)).stdout
    again = sandbox.shellhook("forget", str(proj), check=False)
    assert again.returncode == 1 and "nothing to forget" in again.stderr


# -- end to end, in every shell ----------------------------------------------------------


def notices(text: bytes) -> list[bytes]:
    return [line for line in text.splitlines() if line.startswith(b"shellhook:")]


def test_stray_venvs_above_a_project_say_nothing(sandbox, spawn):
    proj = stray_venvs(sandbox)
    sh = spawn(cwd=proj)  # a new shell, a new tmux pane: no warning
    for where in (proj, sandbox.home / "work", sandbox.home, proj):
        assert notices(sh.cd(where)) == []
        assert sh.venv() is None
    assert b"shellhook:" not in sh.transcript
    out = sh.run("shellhook allow")
    assert b"nothing to allow" in out and sh.venv() is None


def test_a_stray_venv_in_the_temp_dir_makes_no_project(sandbox, spawn):
    tmp = sandbox.root / "tmpdir"
    sandbox.make_venv(tmp / "venv")
    (tmp / "scratch").mkdir()
    sandbox.env["TMPDIR"] = str(tmp)
    sh = spawn(cwd=tmp / "scratch")
    assert notices(sh.cd(tmp)) == [] and sh.venv() is None
    out = sh.cd(tmp / "scratch")
    assert notices(out) == [] and sh.venv() is None
    out = sh.run("shellhook allow")  # trusts nobody's venv in the temp dir
    assert b"nothing to allow" in out and b"a temporary directory" in out


def test_umask_002_with_a_private_group_activates(sandbox, spawn):
    gid = os.getegid()
    private, group = trust._group(gid, os.geteuid(), trust._accounts_stamp())
    if not private:
        pytest.skip(f"the user's own {group} is not a private group: nothing to show here")
    old = os.umask(0o002)
    try:
        proj = sandbox.project("proj", trust=False)
    finally:
        os.umask(old)
    assert os.stat(proj / ".venv" / "bin").st_mode & 0o020  # group-writable, as on desktops
    out = sandbox.shellhook("allow", str(proj))
    assert out.stdout == "shellhook: allowed ~/proj/.venv for ~/proj\n"
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert b"writable" not in out


def _retry(argv: list[str]) -> None:
    """Run an account tool; /etc/passwd may be locked by another for a moment."""
    for _attempt in range(20):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
        time.sleep(0.25)
    raise AssertionError(f"{argv} failed: {done.stderr}")


@pytest.fixture(scope="module")
def shared_group():
    """A group with another member (a second user), made for the test and removed after."""
    # CI runs as root on a throw-away machine: there it must run, never skip.
    why = None
    if os.geteuid() != 0:
        why = "making a second user and group needs root"
    elif not all(shutil.which(t) for t in ("groupadd", "useradd", "userdel", "groupdel")):
        why = "groupadd/useradd/userdel/groupdel are not installed"
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}, but CI must test a shared group")
        pytest.skip(why)
    tag = secrets.token_hex(3)
    group, user = f"shhk-g{tag}", f"shhk-u{tag}"
    _retry(["groupadd", group])
    try:
        _retry(["useradd", "--no-create-home", "--gid", group, "--shell", "/bin/false", user])
        try:
            yield group, user
        finally:
            _retry(["userdel", user])
    finally:
        with contextlib.suppress(AssertionError):
            _retry(["groupdel", group])


def test_umask_002_with_a_shared_group_names_it_and_one_fix(sandbox, spawn, shared_group):
    import grp

    group, user = shared_group
    old = os.umask(0o002)
    try:
        proj = sandbox.project("proj", trust=False)
    finally:
        os.umask(old)
    gid = grp.getgrnam(group).gr_gid
    for root, dirs, files in os.walk(proj / ".venv"):
        for name in ("", *dirs, *files):
            os.chown(os.path.join(root, name), -1, gid, follow_symlinks=False)
    venv = proj / ".venv"
    problem = f"writable by others (group {group}, also {user})".encode()
    fix = b"chmod -R g-w,o-w ~/proj/.venv"
    out = sandbox.shellhook("allow", str(proj), check=False)
    assert out.returncode == 1
    assert "allowed ~/proj/.venv for ~/proj, but not activating it:" in out.stderr
    assert problem.decode() in out.stderr and fix.decode() in out.stderr
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() is None
    assert problem in out and fix in out and out.count(b"\n") == 1
    before = len(sh.transcript)
    sh.run(fix.decode().replace("~", sh.quote(str(sandbox.home)), 1))
    assert sh.wait_for(lambda: sh.venv() == str(venv))  # at the next prompt, no cd
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() == str(venv)
    assert b"not activating" not in sh.transcript[before:]  # no stale refusal


def test_deny_silences_and_forget_undoes(sandbox, spawn):
    proj = sandbox.project("proj", trust=False)
    sh = spawn()
    assert b"shellhook allow ~/proj" in sh.cd(proj)
    assert b"denied ~/proj" in sh.run("shellhook deny")
    sh.cd(sandbox.home)
    assert notices(sh.cd(proj)) == []
    sh.nested()  # a new shell in the denied project says nothing at all
    assert notices(sh.run("true")) == [] and sh.venv() is None
    sh.exit_nested()
    assert b"forgot the deny of ~/proj" in sh.run("shellhook forget")
    sh.run("shellhook allow")
    assert sh.wait_for(lambda: sh.venv() == str(proj / ".venv"))
    assert b"forgot the allow of ~/proj" in sh.run("shellhook forget")
    assert sh.wait_for(lambda: sh.venv() is None)  # forgetting an allow takes it back


def test_a_copied_venv_is_broken_with_the_command_to_recreate_it(sandbox, spawn):
    proj = sandbox.project("proj")
    tool = proj / ".venv" / "bin" / "tool"
    tool.write_text(f"#!{proj / '.venv' / 'bin' / 'python'}\n")
    tool.chmod(0o755)
    copy = sandbox.home / "copy"
    shutil.copytree(proj, copy, symlinks=True)  # cp -r of a project
    out = sandbox.shellhook("allow", str(copy), check=False)
    assert out.returncode == 1 and "it was made as ~/proj/.venv and moved or copied" in out.stderr
    sh = spawn()
    out = sh.cd(copy)
    assert sh.venv() is None
    assert b"recreate it with: python3 -m venv --clear ~/copy/.venv" in out
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")  # the original is fine


def test_untrusted_notice_once_in_20_cds_and_one_name_through_a_symlink(sandbox, spawn):
    proj = sandbox.project("src/myproject", trust=False)
    (proj / "sub").mkdir()
    alias = sandbox.home / "alias"
    alias.symlink_to(proj)
    sh = spawn()
    out = b""
    places = [proj, proj / "sub", sandbox.home, alias, alias / "sub"]
    for i in range(20):
        out += sh.cd(places[i % len(places)])
    said = [line for line in notices(out) if b"allow" in line]
    assert said == [b"shellhook: .venv is not allowed; to use it: shellhook allow ~/src/myproject"]
    assert len(said[0]) < 80
    sh.cd(sandbox.home)
    sh.run("shellhook allow ~/src/myproject")
    on, off = sh.cd(alias / "sub"), sh.cd(sandbox.home)
    assert b"shellhook: activated myproject" in on
    assert b"shellhook: deactivated myproject" in off
    note = [line for line in notices(on) if b"has no pip" in line]
    assert note == [
        b"shellhook: ~/src/myproject/.venv has no pip (a bare pip runs the system's); "
        b"add it: python -m ensurepip, or use uv pip"
    ]
    assert b"has no pip" not in sh.cd(proj)  # once per session


def test_two_shells_with_their_own_workon_home_share_one_daemon(sandbox, spawn):
    """$WORKON_HOME is the asking shell's (DESIGN §2): a pointer naming a bare venv name
    finds that name in each shell's own $WORKON_HOME, from the same daemon."""
    proj = sandbox.home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("tools\n")
    mine, theirs = sandbox.home / "wa", sandbox.home / "wb"
    for home in (mine, theirs):
        sandbox.make_venv(home / "tools")
    first = spawn(env={"WORKON_HOME": str(mine)})
    second = spawn(env={"WORKON_HOME": str(theirs)})
    first.cd(proj)
    second.cd(proj)
    assert first.venv() == str(mine / "tools")
    assert second.venv() == str(theirs / "tools")
    assert sandbox.daemon_pid() is not None  # both answered by the one daemon
