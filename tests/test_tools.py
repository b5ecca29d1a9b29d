"""Tool-managed venvs (issue 10): uv, poetry, pipenv, pdm and hatch projects resolve to
the venv the tool itself uses, from the tool's files alone.

First the golden vectors of reference/tool-venvs.md and the rules without the tools;
then each real tool (installed with the test extras), run offline in the sandbox's
throw-away HOME and XDG tree, is asked for its venv and must agree with the resolver;
then every shell activates such venvs, with the shell's own tool variables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shellhook import policy, trust
from shellhook.resolver import RULE_TOOL, Resolver, Scope
from shellhook.tools import hatch, pdm, pipenv, poetry

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# -- golden vectors (reference/tool-venvs.md) ------------------------------------------


def test_poetry_golden_vector():
    assert poetry.env_name("My_Proj.Name", "/home/u/src/My Proj") == "my-proj-name--e91A6Ie"


def test_pdm_golden_vector():
    assert pdm.env_prefix("/home/u/src/Pdm Proj") == "Pdm Proj-5ll45zRc-"


def test_hatch_golden_vector():
    assert hatch.project_id("/home/u/src/Hatch_Proj") == "_HMLdabS"


def test_pipenv_name_keeps_case_and_sanitizes():
    name = pipenv.env_name("/home/u/src/Pip (env) & co/Pipfile")
    assert name.startswith("Pip__env____co-") and len(name) == len("Pip__env____co-") + 8


# -- the rules without the tools ----------------------------------------------------------


def resolve(directory: Path | str, env: dict[str, str], **extra: str):
    """The resolution of ``directory`` for a shell with ``env`` (and ``extra``)."""
    scope = Scope.from_env({**env, **extra})
    return Resolver(scope=scope).resolve(str(directory))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_uv_member_defers_to_its_workspace_root(sandbox):
    ws = sandbox.home / "ws"
    write(ws / "pyproject.toml", '[project]\nname="ws"\n[tool.uv.workspace]\nmembers=["pk/*"]\n')
    member = ws / "pk" / "m1"
    write(member / "pyproject.toml", '[project]\nname="m1"\n')
    sandbox.make_venv(ws / ".venv")
    sandbox.make_venv(member / ".venv")  # a stale one of its own: uv does not use it
    res = resolve(member / "src", sandbox.env)
    assert res.venv == str(ws / ".venv") and res.project == str(ws)
    assert "uv workspace member" in res.detail
    sandbox.make_venv(ws / "envs" / "x")
    res = resolve(member, sandbox.env, UV_PROJECT_ENVIRONMENT="envs/x")
    assert res.venv == str(ws / "envs" / "x") and res.tool == "uv"


def test_uv_unmanaged_and_excluded_members_are_their_own(sandbox):
    ws = sandbox.home / "ws"
    write(
        ws / "pyproject.toml",
        '[project]\nname="ws"\n[tool.uv.workspace]\nmembers=["pk/*"]\nexclude=["pk/out"]\n',
    )
    sandbox.make_venv(ws / ".venv")
    for name, extra in (("out", ""), ("own", "[tool.uv]\nmanaged = false\n")):
        member = ws / "pk" / name
        write(member / "pyproject.toml", f'[project]\nname="{name}"\n{extra}')
        sandbox.make_venv(member / ".venv")
        if name == "out":
            assert resolve(member, sandbox.env).venv == str(member / ".venv")
    # managed = false: not uv's; still a member by the glob, but uv is not asked
    assert resolve(ws / "pk" / "own", sandbox.env).venv == str(ws / "pk" / "own" / ".venv")


def test_uv_centralized_environment_link_and_path_file(sandbox):
    central = sandbox.make_venv(sandbox.home / ".cache" / "uv" / "environments-v2" / "p-x")
    for kind in ("link", "file"):
        proj = sandbox.home / kind
        write(proj / "pyproject.toml", '[project]\nname="p"\n')
        write(proj / "uv.lock", "version = 1\n")
        if kind == "link":
            (proj / ".venv").symlink_to(central)
        else:
            (proj / ".venv").write_text(str(central))  # no newline, as uv writes it
        assert resolve(proj, sandbox.env).venv == str(central)


def test_poetry_picks_the_recorded_then_the_highest_version(sandbox):
    proj = write(sandbox.home / "p" / "pyproject.toml", '[tool.poetry]\nname = "p"\n').parent
    store = sandbox.home / ".cache" / "pypoetry" / "virtualenvs"
    base = poetry.env_name("p", str(proj))
    for minor in ("3.9", "3.12", "3.10"):
        sandbox.make_venv(store / f"{base}-py{minor}")
    assert resolve(proj, sandbox.env).venv == str(store / f"{base}-py3.12")
    write(store / "envs.toml", f'[{base}]\nminor = "3.10"\npatch = "3.10.4"\n')
    res = resolve(proj, sandbox.env)
    assert res.venv == str(store / f"{base}-py3.10")
    assert res.detail == "poetry cache venv (virtualenvs.path)" and res.rule == RULE_TOOL


def test_two_shells_with_different_tool_variables_get_their_own_answers(sandbox):
    proj = write(sandbox.home / "p" / "pyproject.toml", '[tool.poetry]\nname = "p"\n').parent
    base = poetry.env_name("p", str(proj))
    a = sandbox.make_venv(sandbox.home / "va" / f"{base}-py3.11")
    b = sandbox.make_venv(sandbox.home / "vb" / f"{base}-py3.11")
    resolver = Resolver(cacheable=lambda _path: True)
    for store, venv in (("va", a), ("vb", b), ("va", a)):
        env = {**sandbox.env, "POETRY_VIRTUALENVS_PATH": str(sandbox.home / store)}
        assert resolver.resolve(str(proj), Scope.from_env(env)).venv == str(venv)


def test_a_cached_answer_is_dropped_when_a_store_or_a_tool_file_changes(sandbox):
    proj = write(sandbox.home / "p" / "pyproject.toml", '[tool.poetry]\nname = "p"\n').parent
    store = sandbox.home / ".cache" / "pypoetry" / "virtualenvs"
    (sandbox.home / ".cache").mkdir()
    resolver = Resolver(cacheable=lambda _path: True, scope=Scope.from_env(sandbox.env))
    first = resolver.resolve(str(proj))
    assert first.venv is None
    # The store does not exist yet: its nearest existing ancestor is what is watched.
    assert (str(sandbox.home / ".cache"), "dir") in first.depends
    venv = sandbox.make_venv(store / f"{poetry.env_name('p', str(proj))}-py3.11")
    assert resolver.resolve(str(proj)).venv is None  # cached until the change is heard
    resolver.invalidate(str(sandbox.home / ".cache" / "pypoetry"))
    assert resolver.resolve(str(proj)).venv == str(venv)
    (proj / "pyproject.toml").write_text('[tool.poetry]\nname = "renamed"\n')
    resolver.invalidate(str(proj / "pyproject.toml"))
    assert resolver.resolve(str(proj)).venv is None


def test_tool_store_venvs_are_trusted_like_named_ones_when_safe(sandbox):
    proj = write(sandbox.home / "p" / "pyproject.toml", '[tool.poetry]\nname = "p"\n').parent
    store = sandbox.home / ".cache" / "pypoetry" / "virtualenvs"
    venv = sandbox.make_venv(store / f"{poetry.env_name('p', str(proj))}-py3.11")
    res = resolve(proj, sandbox.env)
    store_trust = trust.TrustStore(sandbox.root / "trust")
    verdict = store_trust.verdict(res, policy.config_mod.Config(), res.scope.workon_home)
    assert verdict.trusted and verdict.reason == "in poetry's venv store"
    store.chmod(0o777)
    try:
        verdict = store_trust.verdict(res, policy.config_mod.Config(), res.scope.workon_home)
        assert verdict.refused and "writable by others" in verdict.reason
    finally:
        store.chmod(0o755)
    assert res.venv == str(venv)


def test_a_project_declared_venv_needs_allow_bound_to_its_content(sandbox):
    proj = write(sandbox.home / "p" / "pyproject.toml", '[project]\nname = "p"\n').parent
    elsewhere = sandbox.make_venv(sandbox.home / "elsewhere")
    (proj / ".pdm-python").write_text(f"{elsewhere}/bin/python\n")
    res = resolve(proj, sandbox.env)
    assert res.venv == str(elsewhere) and res.pointer_path == str(proj / ".pdm-python")
    store_trust = trust.TrustStore(sandbox.root / "trust")
    config = policy.config_mod.Config()
    assert store_trust.verdict(res, config, res.scope.workon_home).reason == "not allowed"
    store_trust.allow(str(proj), str(elsewhere), res.pointer)
    assert store_trust.verdict(res, config, res.scope.workon_home).trusted
    (proj / ".pdm-python").write_text(f"{elsewhere}/bin/python3\n")
    res = resolve(proj, sandbox.env)
    verdict = store_trust.verdict(res, config, res.scope.workon_home)
    assert verdict.reason == "changed since allowed"


def test_conda_and_pixi_projects_are_named_not_activated(sandbox):
    proj = sandbox.home / "c"
    write(proj / "environment.yml", "name: c\n")
    res = Resolver(scope=Scope.from_env(sandbox.env), explain=True).resolve(str(proj))
    assert res.venv is None
    assert any("conda activate" in p.reason for p in res.passed)
    out = sandbox.shellhook("which", str(proj), check=False).stderr
    assert "~/c is a conda project (environment.yml): activate it with conda activate" in out


# -- against the real tools ----------------------------------------------------------------


def tool(sandbox, name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run tool ``name`` (from the test extras) offline in the sandbox; its stdout."""
    exe = shutil.which(name, path=os.path.dirname(sys.executable))
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, but CI must test it")
        pytest.skip(f"{name} is not installed")
    run_env = {
        **sandbox.env,
        "PIP_NO_INDEX": "1",
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "POETRY_VIRTUALENVS_OPTIONS_NO_PIP": "true",
        "PIPENV_YES": "1",
        "PIPENV_IGNORE_VIRTUALENVS": "1",
        "PDM_CHECK_UPDATE": "false",
        "HATCH_ENV_TYPE_VIRTUAL_UV_PATH": "",
        **(env or {}),
    }
    proc = subprocess.run(
        [exe, *args], cwd=cwd, env=run_env, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)}: {proc.stderr}{proc.stdout}")
    return proc.stdout.strip()


def linked(sandbox, proj: Path) -> Path:
    """``proj`` reached through a symlink (a second name for its parent)."""
    link = sandbox.home / "link"
    if not link.exists():
        link.symlink_to(proj.parent)
    return link / proj.name


POETRY_PYPROJECT = '[project]\nname = "My_Proj.Name"\nversion = "0.1"\n[tool.poetry]\n'
POETRY_PYPROJECT += "package-mode = false\n"


def test_poetry_cache_venv_matches_poetry(sandbox):
    proj = write(sandbox.home / "src" / "My Proj" / "pyproject.toml", POETRY_PYPROJECT).parent
    (proj / "sub").mkdir()
    via = linked(sandbox, proj)
    tool(sandbox, "poetry", "env", "use", PY, cwd=via)
    expected = tool(sandbox, "poetry", "env", "info", "-p", cwd=via / "sub")
    res = resolve(via / "sub", sandbox.env)
    assert res.venv == expected and "/pypoetry/virtualenvs/my-proj-name-" in expected
    assert res.detail == "poetry cache venv (virtualenvs.path)"


@pytest.mark.parametrize("where", ["variable", "poetry.toml", "config.toml"])
def test_poetry_virtualenvs_path_matches_poetry(sandbox, where):
    proj = write(sandbox.home / "src" / "p2" / "pyproject.toml", POETRY_PYPROJECT).parent
    custom = sandbox.home / "custom venvs"
    extra = {}
    if where == "variable":
        extra["POETRY_VIRTUALENVS_PATH"] = str(custom)
    elif where == "poetry.toml":
        write(proj / "poetry.toml", f'[virtualenvs]\npath = "{custom}"\n')
    else:
        write(sandbox.home / ".config/pypoetry/config.toml", f'[virtualenvs]\npath = "{custom}"\n')
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj, env=extra)
    expected = tool(sandbox, "poetry", "env", "info", "-p", cwd=proj, env=extra)
    res = resolve(proj, sandbox.env, **extra)
    assert expected.startswith(str(custom)) and res.venv == expected
    declared = where == "poetry.toml"
    assert (res.pointer_path == str(proj / "poetry.toml")) == declared
    assert (res.store is None) == declared


def test_poetry_in_project_settings_match_poetry(sandbox):
    proj = write(sandbox.home / "src" / "p3" / "pyproject.toml", POETRY_PYPROJECT).parent
    on = {"POETRY_VIRTUALENVS_IN_PROJECT": "true"}
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj, env=on)
    assert tool(sandbox, "poetry", "env", "info", "-p", cwd=proj, env=on) == str(proj / ".venv")
    assert resolve(proj, sandbox.env, **on).venv == str(proj / ".venv")
    off = {"POETRY_VIRTUALENVS_IN_PROJECT": "false"}
    # poetry ignores the .venv then and has no env: neither has shellhook
    with pytest.raises(AssertionError):
        tool(sandbox, "poetry", "env", "info", "-p", cwd=proj, env=off)
    assert resolve(proj, sandbox.env, **off).venv is None


PIPENV_DIR = "Pip (env) & co"


def test_pipenv_store_venv_matches_pipenv(sandbox):
    proj = sandbox.home / "src" / PIPENV_DIR
    write(proj / "Pipfile", "")
    (proj / "sub").mkdir()
    via = linked(sandbox, proj)
    env = {"WORKON_HOME": ""}
    tool(sandbox, "pipenv", "--python", PY, cwd=via, env=env)
    expected = tool(sandbox, "pipenv", "--venv", cwd=via / "sub", env=env)
    assert "/.local/share/virtualenvs/Pip__env____co-" in expected
    res = resolve(via / "sub", sandbox.env, **env)
    assert res.venv == expected and res.store is not None
    # deeper than PIPENV_MAX_DEPTH below the Pipfile: pipenv does not look up there
    deep = proj / "a" / "b"
    deep.mkdir(parents=True)
    assert resolve(deep, sandbox.env, PIPENV_MAX_DEPTH="2", **env).venv is None
    assert resolve(deep, sandbox.env, PIPENV_MAX_DEPTH="3", **env).venv == expected


@pytest.mark.parametrize(
    "case", ["workon_home", "in_project_variable", "in_project_pipfile", "custom_name"]
)
def test_pipenv_settings_match_pipenv(sandbox, case):
    proj = sandbox.home / "src" / "q2"
    pipfile = "[pipenv]\nvenv_in_project = true\n" if case == "in_project_pipfile" else ""
    write(proj / "Pipfile", pipfile)
    env = {"WORKON_HOME": str(sandbox.workon_home) if case == "workon_home" else ""}
    if case == "in_project_variable":
        env["PIPENV_VENV_IN_PROJECT"] = "1"
    if case == "custom_name":
        env["PIPENV_CUSTOM_VENV_NAME"] = "my custom"
    tool(sandbox, "pipenv", "--python", PY, cwd=proj, env=env)
    expected = tool(sandbox, "pipenv", "--venv", cwd=proj, env=env)
    assert resolve(proj, sandbox.env, **env).venv == expected
    if case.startswith("in_project"):
        assert expected == str(proj / ".venv")
    elif case == "workon_home":
        assert os.path.dirname(expected) == str(sandbox.workon_home)


def test_pipenv_pipfile_variable_and_venv_file_match_pipenv(sandbox):
    proj = sandbox.home / "src" / "q3"
    write(proj / "reqs" / "Pipfile", "")
    env = {"WORKON_HOME": "", "PIPENV_PIPFILE": str(proj / "reqs" / "Pipfile")}
    tool(sandbox, "pipenv", "--python", PY, cwd=proj, env=env)
    expected = tool(sandbox, "pipenv", "--venv", cwd=proj, env=env)
    assert resolve(proj / "reqs", sandbox.env, **env).venv == expected
    # a .venv file naming a venv by name: pipenv's store, not $WORKON_HOME
    other = sandbox.home / "src" / "q4"
    write(other / "Pipfile", "")
    (other / ".venv").write_text("named-one\n")
    made = sandbox.make_venv(sandbox.home / ".local/share/virtualenvs/named-one")
    env = {"WORKON_HOME": ""}
    assert tool(sandbox, "pipenv", "--venv", cwd=other, env=env) == str(made)
    assert resolve(other, sandbox.env, **env).venv == str(made)


PDM_PYPROJECT = '[project]\nname = "pdmproj"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
PDM_PYPROJECT += "[tool.pdm]\ndistribution = false\n"


def pdm_venv(sandbox, cwd: Path, env: dict[str, str] | None = None) -> str:
    """The venv pdm uses in ``cwd``, by its interpreter."""
    python = tool(sandbox, "pdm", "info", "--python", cwd=cwd, env=env)
    return os.path.dirname(os.path.dirname(python))


def test_pdm_central_venv_matches_pdm(sandbox):
    proj = write(sandbox.home / "src" / "Pdm Proj" / "pyproject.toml", PDM_PYPROJECT).parent
    (proj / "sub").mkdir()
    write(sandbox.home / ".config/pdm/config.toml", "[venv]\nin_project = false\n")
    tool(sandbox, "pdm", "venv", "create", PY, cwd=proj)
    res = resolve(proj / "sub", sandbox.env)  # before pdm writes .pdm-python
    assert res.store is not None and "/pdm/venvs/Pdm Proj-" in (res.venv or "")
    assert pdm_venv(sandbox, proj / "sub") == res.venv


def test_pdm_saved_interpreter_matches_pdm(sandbox):
    proj = write(sandbox.home / "src" / "pdm2" / "pyproject.toml", PDM_PYPROJECT).parent
    tool(sandbox, "pdm", "venv", "create", "--name", "foo", PY, cwd=proj)
    named = tool(sandbox, "pdm", "venv", "--path", "foo", cwd=proj)
    tool(sandbox, "pdm", "use", "-f", f"{named}/bin/python", cwd=proj)
    assert (proj / ".pdm-python").exists()
    res = resolve(proj, sandbox.env)
    assert res.venv == named == pdm_venv(sandbox, proj)
    assert res.pointer_path == str(proj / ".pdm-python")  # declared: needs allow
    other = sandbox.make_venv(sandbox.home / "other")
    env = {"PDM_PYTHON": f"{other}/bin/python"}
    assert resolve(proj, sandbox.env, **env).venv == str(other) == pdm_venv(sandbox, proj, env)


HATCH_PYPROJECT = '[project]\nname = "Hatch_Proj.x"\nversion = "0.1"\n'
HATCH_PYPROJECT += "[tool.hatch.envs.default]\nskip-install = true\n"


@pytest.mark.parametrize("case", ["data dir", "path", "dirs.env.virtual", "variable", "HATCH_DATA"])
def test_hatch_default_env_matches_hatch(sandbox, case):
    proj = write(sandbox.home / "src" / "Hatch_Proj" / "pyproject.toml", HATCH_PYPROJECT).parent
    (proj / "sub").mkdir()
    via = linked(sandbox, proj)
    env: dict[str, str] = {}
    if case == "path":
        write(proj / "hatch.toml", '[envs.default]\npath = ".henv"\nskip-install = true\n')
    elif case == "dirs.env.virtual":
        write(sandbox.home / ".config/hatch/config.toml", '[dirs.env]\nvirtual = ".hatch"\n')
    elif case == "variable":
        env["HATCH_ENV_TYPE_VIRTUAL_PATH"] = str(sandbox.home / "hvenv")
    elif case == "HATCH_DATA":
        env["HATCH_DATA_DIR"] = str(sandbox.home / "hatch data")
    expected = tool(sandbox, "hatch", "env", "find", "default", cwd=via / "sub", env=env)
    tool(sandbox, "hatch", "env", "create", cwd=via, env=env)
    res = resolve(via / "sub", sandbox.env, **env)
    assert res.venv == os.path.realpath(expected)
    if case == "data dir":
        assert "/hatch/env/virtual/hatch-proj-x/" in expected and res.store is not None
    if case == "path":
        # hatch also writes a .venv file naming it (".henv", PEP 832's form): a pointer
        assert res.rule == "pointer" and (proj / ".venv").read_text().strip() == ".henv"
        (proj / ".venv").unlink()
        res = resolve(via / "sub", sandbox.env, **env)
        assert res.venv == os.path.realpath(expected)
        assert res.pointer_path == str(via / "hatch.toml")  # declared: allow binds to it
    assert res.tool == "hatch"


def test_uv_workspace_member_matches_uv(sandbox):
    ws = sandbox.home / "src" / "uv ws"
    write(
        ws / "pyproject.toml",
        '[project]\nname="ws"\nversion="0.1"\nrequires-python=">=3.8"\n'
        '[tool.uv]\npackage=false\n[tool.uv.workspace]\nmembers=["packages/*"]\n',
    )
    member = write(
        ws / "packages" / "m1" / "pyproject.toml",
        '[project]\nname="m1"\nversion="0.1"\nrequires-python=">=3.8"\n[tool.uv]\npackage=false\n',
    ).parent
    via = linked(sandbox, ws) / "packages" / "m1"
    for env in ({}, {"UV_PROJECT_ENVIRONMENT": "venvs/x"}):
        tool(sandbox, "uv", "sync", "--offline", "--python", PY, cwd=via, env=env)
        expected = ws / env.get("UV_PROJECT_ENVIRONMENT", ".venv")
        assert (expected / "pyvenv.cfg").exists()  # where uv made it
        res = resolve(member, sandbox.env, **env)
        assert res.venv == str(expected) and res.project == str(ws)


# -- in the shells ---------------------------------------------------------------------------


def test_every_shell_activates_tool_venvs_with_its_own_variables(sandbox, spawn):
    proj = write(sandbox.home / "src" / "My Proj" / "pyproject.toml", POETRY_PYPROJECT).parent
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj)
    cache = tool(sandbox, "poetry", "env", "info", "-p", cwd=proj)
    custom = {"POETRY_VIRTUALENVS_PATH": str(sandbox.home / "custom")}
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj, env=custom)
    mine = tool(sandbox, "poetry", "env", "info", "-p", cwd=proj, env=custom)
    sh = spawn(cwd=sandbox.home)
    sh.cd(proj)
    assert sh.venv() == cache  # trusted: poetry's own store, made by the user's poetry
    sh.cd(sandbox.home)
    assert sh.venv() is None
    sh.run(sh.set_env("POETRY_VIRTUALENVS_PATH", custom["POETRY_VIRTUALENVS_PATH"]))
    sh.cd(proj)
    assert sh.venv() == mine  # this shell's variable, not the daemon's
    assert sh.which_python().splitlines()[-1] == mine  # its python runs


def test_a_pdm_python_file_needs_allow_in_every_shell(sandbox, spawn):
    proj = write(sandbox.home / "src" / "pdm3" / "pyproject.toml", PDM_PYPROJECT).parent
    elsewhere = sandbox.make_venv(sandbox.home / "venvs" / "pdm3")
    (proj / ".pdm-python").write_text(f"{elsewhere}/bin/python\n")
    sh = spawn(cwd=sandbox.home)
    out = sh.cd(proj)
    assert sh.venv() is None and b"shellhook allow" in out
    sh.run("shellhook allow")
    assert sh.wait_for(lambda: sh.venv() == str(elsewhere))
    out = sh.run("shellhook which")
    assert b"pdm interpreter (.pdm-python)" in out


def test_a_venv_made_by_the_tool_in_another_terminal_activates_at_the_next_prompt(sandbox, spawn):
    proj = write(sandbox.home / "src" / "later" / "pyproject.toml", POETRY_PYPROJECT).parent
    sh = spawn(cwd=proj)
    assert sh.venv() is None  # poetry's store does not exist yet
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj)  # "another terminal"
    made = tool(sandbox, "poetry", "env", "info", "-p", cwd=proj)
    assert sh.wait_for(lambda: sh.venv() == made)


def test_lsvenv_lists_the_tool_venvs_of_projects_seen_with_their_tool(sandbox, start_shell):
    proj = write(sandbox.home / "src" / "listed" / "pyproject.toml", POETRY_PYPROJECT).parent
    tool(sandbox, "poetry", "env", "use", PY, cwd=proj)
    made = tool(sandbox, "poetry", "env", "info", "-p", cwd=proj)
    unseen = write(sandbox.home / "src" / "unseen" / "pyproject.toml", POETRY_PYPROJECT).parent
    tool(sandbox, "poetry", "env", "use", PY, cwd=unseen)  # never visited: not listed
    sh = start_shell("bash", cwd=sandbox.home)
    sh.cd(proj)
    assert sh.venv() == made
    out = sh.run("lsvenv").decode()
    shown = made.replace(str(sandbox.home), "~")
    assert "* ~/src/listed" in out and f"(poetry: {shown})" in out
    assert "unseen" not in out
    rows = json.loads(sandbox.shellhook("lsvenv", "--json").stdout)
    assert [(r["project"], r["path"], r["tool"]) for r in rows] == [(str(proj), made, "poetry")]
    # The venv tool's own venv is found as a cd would find it now: removed, it is gone.
    tool(sandbox, "poetry", "env", "remove", "--all", cwd=proj)
    assert json.loads(sandbox.shellhook("lsvenv", "--json").stdout) == []


def test_known_projects_survive_bad_files_and_stay_bounded(tmp_path, monkeypatch):
    from shellhook import known

    path = tmp_path / "projects.json"
    for bad in (b"{", b"[]", b'{"projects": 3}', b"\xff" * 10, b"{}" + b" " * known.MAX_FILE):
        path.write_bytes(bad)
        assert known.KnownProjects(path).projects() == {}
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    assert known.KnownProjects(path).projects() == {}  # never followed
    path.unlink()
    store = known.KnownProjects(path)
    monkeypatch.setattr(known, "MAX_PROJECTS", 3)
    for n in range(5):
        assert store.remember(f"/p{n}")
    assert not store.remember("/p4")
    other = known.KnownProjects(path)
    assert list(other.projects()) == ["/p2", "/p3", "/p4"]  # the oldest went
    known.KnownProjects(path).remember("/q")  # another process adds one meanwhile
    store.remember("/p5")
    assert "/q" in known.KnownProjects(path).projects()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_mkvenv_name_in_a_poetry_project_links_it_without_a_venv_file(sandbox, spawn):
    proj = write(sandbox.home / "src" / "po" / "pyproject.toml", POETRY_PYPROJECT).parent
    sh = spawn(cwd=proj)
    out = sh.run("mkvenv --without-pip --no-uv po-named")
    named = sandbox.workon_home / "po-named"
    assert b"by its .project file (a poetry project" in out
    assert not os.path.lexists(proj / ".venv")  # poetry would delete it
    assert (named / ".project").read_text().strip() == str(proj)
    sh.cd(sandbox.home)
    assert sh.venv() is None
    sh.cd(proj)
    assert sh.venv() == str(named)  # found through the .project link


def test_virtualenv_style_version_info_reads_as_a_version():
    from shellhook.venvinfo import python_version

    assert python_version({"version_info": "3.11.2.final.0"}) == "3.11.2"  # poetry, pipenv
    assert python_version({"version_info": "3.14.0.beta.1"}) == "3.14.0b1"
    assert python_version({"version_info": "3.13.0.candidate.2"}) == "3.13.0rc2"
    assert python_version({"version": "3.12.1"}) == "3.12.1"  # python -m venv
