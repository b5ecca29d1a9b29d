"""End-to-end: who owns an activation (DESIGN §4), prompts, PATH edits, the environment."""

from __future__ import annotations

import os


def test_manual_activation_is_never_replaced(sandbox, spawn):
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.home / "other")
    sh = spawn()
    sh.cd(proj)
    sh.run(sh.source_activate(str(other)))
    assert sh.venv() == str(other)
    sh.cd(sandbox.home)
    assert sh.venv() == str(other)
    sh.cd(proj)
    assert sh.venv() == str(other)
    path = sh.getenv("PATH")
    assert os.fsencode(proj / ".venv/bin") not in path  # our entry left with our activation
    sh.run("deactivate")
    assert sh.wait_for(lambda: sh.venv() == str(proj / ".venv"))  # auto-activation resumes
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1


def test_inherited_foreign_venv_is_left_alone(sandbox, spawn):
    other = sandbox.make_venv(sandbox.home / "other")
    proj = sandbox.project("proj")
    env = {"VIRTUAL_ENV": str(other), "PATH": f"{other}/bin:" + sandbox.env["PATH"]}
    sh = spawn(env=env)
    sh.cd(proj)
    assert sh.venv() == str(other)


def test_deactivate_sticks_until_leaving_the_project(sandbox, spawn):
    proj = sandbox.project("proj")
    (proj / "sub").mkdir()
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(proj / "sub")
    assert sh.venv() is None
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")


def test_prompt_shows_label_and_disable_prompt_is_respected(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.cd(proj)
    assert sh.prompt_prefix == b"(proj) "
    sh.cd(sandbox.home)
    assert sh.prompt_prefix == b""
    sh.run(sh.set_env("VIRTUAL_ENV_DISABLE_PROMPT", "1"))
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert sh.prompt_prefix == b""


def test_prompt_label_is_never_expanded(sandbox, spawn):
    proj = sandbox.home / "proj"
    sandbox.make_venv(proj / ".venv", prompt="$(touch pwned)`touch pwned2`%~")
    sandbox.shellhook("allow", str(proj))
    sh = spawn()
    sh.cd(proj)
    assert sh.getenv("VIRTUAL_ENV_PROMPT") == b"$(touch pwned)`touch pwned2`%~"
    sh.run("true")
    assert not list(sandbox.root.rglob("pwned*"))
    assert b"$" not in sh.prompt_prefix and b"`" not in sh.prompt_prefix


def test_user_path_edits_survive_deactivation(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run(sh.path_edit("/opt/y", "/opt/x"))
    sh.cd(sandbox.home)
    assert sh.getenv("PATH") == b"/opt/y:" + path_before + b":/opt/x"


def test_pythonhome_is_hidden_and_restored(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn(env={"PYTHONHOME": "/some/where"})
    sh.cd(proj)
    assert sh.getenv("PYTHONHOME") is None
    sh.cd(sandbox.home)
    assert sh.getenv("PYTHONHOME") == b"/some/where"


def test_child_shell_adopts_a_matching_activation(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.nested()
    assert sh.venv() == str(proj / ".venv")
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1
    sh.cd(sandbox.home)  # the child owns it now: leaving deactivates cleanly
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.exit_nested()
    assert sh.venv() == str(proj / ".venv")


def test_child_shell_elsewhere_drops_the_inherited_activation(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run("cd /")  # the parent's next prompt switches back to none; set up a stale child:
    sh.cd(proj)
    sh.nested()
    sh.cd("/")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.exit_nested()


def test_venv_deleted_while_active_is_deactivated(sandbox, spawn):
    import shutil

    proj = sandbox.project("proj")
    sh = spawn()
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    shutil.rmtree(proj / ".venv")
    assert sh.wait_for(lambda: sh.venv() is None)
    assert sh.getenv("PATH") == path_before


def test_venv_created_and_allowed_while_inside_is_activated(sandbox, spawn):
    proj = sandbox.home / "proj"
    proj.mkdir()
    sh = spawn()
    sh.cd(proj)
    assert sh.venv() is None
    sandbox.make_venv(proj / "fancy_name")
    sandbox.shellhook("allow", str(proj))
    assert sh.wait_for(lambda: sh.venv() == str(proj / "fancy_name"))


def test_a_shell_whose_first_prompt_had_no_daemon_is_nudged_later(sandbox, spawn):
    # The first prompt is answered by the one-off Python (no runtime dir, no daemon yet):
    # the daemon it starts must still learn this shell and its directory.
    proj = sandbox.home / "proj"
    proj.mkdir()
    assert sandbox.daemon_pid() is None
    sh = spawn(cwd=proj)
    assert sh.venv() is None
    named = sandbox.make_venv(sandbox.workon_home / "later")
    (proj / ".venv").write_text("later\n")
    assert sh.wait_for(lambda: sh.venv() == str(named))


def test_pointer_file_to_a_named_venv(sandbox, spawn):
    named = sandbox.make_venv(sandbox.workon_home / "tools")
    proj = sandbox.home / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("tools\n")
    sh = spawn()
    sh.cd(proj)  # in $WORKON_HOME: trusted without allow
    assert sh.venv() == str(named)
    (proj / ".venv").write_text("../elsewhere\n")
    sh.cd(sandbox.home)
    assert sh.venv() is None


def test_deny_deactivates_and_blocks(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.cd(proj)
    out = sh.run("shellhook deny")
    assert b"denied" in out
    assert sh.wait_for(lambda: sh.venv() is None)
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() is None


def test_exit_status_is_preserved(sandbox, spawn):
    proj = sandbox.project("proj")
    sh = spawn()
    sh.child.sendline(f"cd {sh.quote(str(proj))}; false")
    out = sh.run(f"echo rc={sh.status_expr}")
    assert b"rc=1" in out
    assert sh.venv() == str(proj / ".venv")


def test_broken_venv_is_not_activated_and_says_how_to_fix(sandbox, spawn):
    proj = sandbox.project("proj")
    (proj / ".venv/bin/python").unlink()
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() is None
    assert b"python is missing" in out and b"python3 -m venv --clear" in out


def test_venv_writable_by_others_is_refused_with_the_fix(sandbox, spawn):
    proj = sandbox.project("proj")
    os.chmod(proj / ".venv", 0o777)
    sh = spawn()
    out = sh.cd(proj)
    assert sh.venv() is None
    assert b"writable by others" in out and b"chmod -R g-w,o-w" in out
