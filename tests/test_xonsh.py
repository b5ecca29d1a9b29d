"""xonsh only: the xontrib, a xonsh whose Python lacks shellhook, $PATH as a list,
{env_name}, quoting through the real xonsh, and the hook file as plain Python."""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
import sys
import venv as venv_mod
from pathlib import Path

import pytest

from shellhook import adapters
from shellhook.adapters.xonsh import python_literal
from tests.conftest import require_shell
from tests.drivers import DRIVERS
from tests.test_quoting import NASTY

OURS = (
    "[h.__qualname__ for e in (events.on_chdir, events.on_pre_prompt_format, "
    "events.on_exit, events.on_post_init) for h in e if 'shellhook' in h.__qualname__]"
)


def py(sh, expression: str) -> str:
    """Evaluate a Python expression in the shell; its repr()."""
    return sh.run(f"print(repr({expression}))").decode().splitlines()[0].strip()


# -- the hook file --------------------------------------------------------------------


PARSE_BOTH_WAYS = """
import ast, sys
from xonsh.built_ins import XSH
from xonsh.execer import Execer
XSH.load(execer=Execer(), ctx={})
for path in sys.argv[1:]:
    text = open(path).read()
    compile(text, path, "exec")
    plain = XSH.execer.parse(text, ctx={}, transform=False)
    xonsh = XSH.execer.parse(text, ctx={}, transform=True)
    print(path, "same" if ast.dump(plain) == ast.dump(xonsh) else "CHANGED")
"""


def test_hook_is_plain_python_that_xonsh_parses_the_same(sandbox, tmp_path):
    """The loaders compile the hook as Python; xonsh's `source` would read it with xonsh's
    parser, whose context-aware pass turns some expression statements into commands:
    it leaves this file (and the rc line) exactly as Python reads it."""
    pytest.importorskip("xonsh")
    rc_line = tmp_path / "rc.xsh"
    rc_line.write_text(adapters.get("xonsh").source_line(Path("/some where/it's/hook.xsh")) + "\n")
    files = [sandbox.hook_file("xonsh"), rc_line]
    out = subprocess.run(
        [sys.executable, "-c", PARSE_BOTH_WAYS, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.split() == [str(files[0]), "same", str(rc_line), "same"], out


@pytest.mark.parametrize("value", NASTY)
def test_quote_and_assign_round_trip_through_xonsh(value, tmp_path):
    require_shell("xonsh")
    adapter = adapters.get("xonsh")
    writer = "import os,sys; open(sys.argv[1], 'wb').write(os.fsencode(sys.argv[2]))"
    script = (
        # a subprocess-mode word (what `cd`, `pushd`, `source` get)
        f"{adapter.quote(sys.executable)} -c {python_literal(writer)} word {adapter.quote(value)}\n"
        # a Python-mode assignment (the hook file's header)
        + adapter.assign("__shellhook_python", value)
        + "\n"
        + "__import__('pathlib').Path('assigned').write_bytes("
        "__import__('os').fsencode(__shellhook_python))\n"
    )
    (tmp_path / "script.xsh").write_text(script, encoding="ascii")
    out = subprocess.run(
        ["xonsh", "--no-rc", "script.xsh"],
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "word").read_bytes() == os.fsencode(value)
    assert (tmp_path / "assigned").read_bytes() == os.fsencode(value)
    assert not (tmp_path / "pwned").exists()


def test_rc_line_loads_the_hook_from_a_hostile_path(sandbox, start_shell):
    proj = sandbox.project("proj")
    hook = sandbox.root / "we'ird $HOME dir" / "hook.xsh"
    hook.parent.mkdir()
    shutil.copy(sandbox.hook_file("xonsh"), hook)
    sh = start_shell("xonsh", hook=hook)
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")


def test_non_interactive_xonsh_is_untouched(sandbox):
    require_shell("xonsh")
    proj = sandbox.project("proj")
    rc_line = adapters.get("xonsh").source_line(sandbox.hook_file("xonsh"))
    for load in (rc_line, "xontrib load shellhook"):
        script = (
            f"{load}\ncd {adapters.get('xonsh').quote(str(proj))}\n"
            "print([${...}.get('VIRTUAL_ENV'), '__shellhook_xonsh__' in "
            "__import__('sys').modules])\n"
        )
        out = subprocess.run(
            ["xonsh", "--no-rc", "-c", script],
            env=sandbox.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (out.stdout, out.stderr) == ("[None, False]\n", "")


# -- the xontrib --------------------------------------------------------------------------


def test_xontrib_load_and_unload(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("xonsh", load="xontrib load shellhook")
    path_before = sh.getenv("PATH")
    out = sh.cd(proj)
    assert b"shellhook: activated proj" in out
    assert sh.venv() == str(proj / ".venv")
    assert sh.prompt_prefix == b"(proj) "
    assert py(sh, OURS) != "[]"
    assert py(sh, "'workon' in aliases") == "True"

    sh.run("xontrib unload shellhook")
    assert py(sh, OURS) == "[]"  # no handler left: on_chdir, prompt, exit, post_init
    assert sh.venv() is None and sh.getenv("SHELLHOOK_VENV") is None  # ours is undone
    assert sh.getenv("PATH") == path_before
    assert sh.prompt_prefix == b""
    assert py(sh, "[n for n in ('workon', 'mkvenv', 'deactivate') if n in aliases]") == "[]"
    assert py(sh, "'shellhook_venvs' in __xonsh__.completers") == "False"
    assert py(sh, "'cd' in aliases and 'python' in __xonsh__.completers") == "True"
    assert py(sh, "$PROMPT_FIELDS['env_name'].__module__") == "'xonsh.prompt.env'"
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert sh.venv() is None

    out = sh.run("xontrib load shellhook")  # inside the project: active at once
    assert b"shellhook: activated proj" in out
    assert sh.venv() == str(proj / ".venv")
    assert (
        py(sh, "__import__('sys').modules['__shellhook_xonsh__'].command.__qualname__")
        == "'__shellhook_setup.<locals>.command'"
    )


def test_rc_file_and_autoloaded_xontrib_make_one_hook(sandbox, start_shell):
    """install.sh's rc.d line and the xontrib xonsh autoloads (shellhook installed beside
    it): whichever comes first wins, the other does nothing."""
    from importlib.metadata import entry_points

    if not any(e.name == "shellhook" for e in entry_points(group="xonsh.xontribs")):
        pytest.skip("shellhook is not installed in this Python (no xontrib entry point)")
    proj = sandbox.project("proj")
    hook = sandbox.hook_file("xonsh")
    rc = Path(sandbox.env["XDG_CONFIG_HOME"]) / "xonsh" / "rc.d" / "shellhook.xsh"
    rc.parent.mkdir(parents=True)
    rc.write_text(adapters.get("xonsh").source_line(hook) + "\n")
    driver = DRIVERS["xonsh"]
    argv = [*driver(sandbox.root, sandbox.env, hook).argv()]
    argv.remove("--no-rc")
    sh = start_shell(
        "xonsh",
        argv=argv,
        load="print('autoloaded:', 'shellhook' in __xonsh__.builtins.autoloaded_xontribs)",
    )
    assert b"autoloaded: True" in sh.transcript
    assert py(sh, f"len({OURS})") == "4"
    loaded_from = "__import__('sys').modules['__shellhook_xonsh__'].command.__code__.co_filename"
    assert py(sh, loaded_from) == repr(str(hook))  # the rc line came first
    out = sh.cd(proj)
    assert out.count(b"shellhook: activated") == 1
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1


# -- a xonsh that cannot import shellhook --------------------------------------------------


@pytest.fixture
def foreign_xonsh(tmp_path_factory) -> Path:
    """A venv with xonsh in it and no shellhook (as with pipx or a distribution's xonsh).

    xonsh is pure Python without dependencies, so its package directory is copied from
    the test's Python instead of installed from an index: offline, fast, same version.
    """
    xonsh = pytest.importorskip("xonsh")
    root = tmp_path_factory.mktemp("foreign-xonsh")
    venv_mod.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shutil.copytree(Path(xonsh.__file__).parent, Path(site) / "xonsh")
    probe = subprocess.run(
        [python, "-I", "-c", "import xonsh, importlib.util as u; print(u.find_spec('shellhook'))"],
        capture_output=True,
        text=True,
    )
    assert probe.stdout == "None\n", probe
    return python


def test_hook_works_in_a_xonsh_without_shellhook(sandbox, start_shell, foreign_xonsh):
    proj = sandbox.project("proj")
    sandbox.make_venv(sandbox.workon_home / "alpha")
    sh = start_shell(
        "xonsh",
        argv=[str(foreign_xonsh), "-m", "xonsh", "--no-rc", "-i", "--shell-type", "readline"],
    )
    assert py(sh, "__import__('sys').prefix") == repr(str(foreign_xonsh.parent.parent))
    path_before = sh.getenv("PATH")
    sh.cd(proj)  # through the daemon
    assert sh.venv() == str(proj / ".venv")
    assert sh.which_python() == str(proj / ".venv")
    sandbox.stop_daemon()
    sh.cd(sandbox.home)  # no daemon: the hook runs shellhook's own Python once
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert b"alpha" in sh.run("workon")  # __shellhook_command: shellhook's Python, too
    assert py(sh, "'shellhook' in __import__('sys').modules") == "False"


# -- $PATH, {env_name}, PYTHONHOME -----------------------------------------------------


def test_path_stays_a_list_and_keeps_its_entries_as_typed(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("xonsh")
    sh.run("$PATH = ['$HOME/bin'] + list($PATH) + ['~/tools']")  # stored as typed
    before = ast.literal_eval(py(sh, "$PATH"))  # an EnvPath's repr: entries as stored
    assert before[0] == "$HOME/bin" and before[-1] == "~/tools"
    sh.cd(proj)
    assert py(sh, "type($PATH).__name__") == "'EnvPath'"
    assert py(sh, "$PATH[0]") == repr(str(proj / ".venv/bin"))
    assert ast.literal_eval(py(sh, "$PATH")) == [str(proj / ".venv/bin"), *before]
    sh.run("$PATH.insert(1, '/opt/mine')")
    sh.cd(sandbox.home)
    assert ast.literal_eval(py(sh, "$PATH")) == ["/opt/mine", *before]


def test_venv_path_that_xonsh_would_expand_is_reported(sandbox, start_shell):
    proj = sandbox.project("dollar$HOME")
    sh = start_shell("xonsh")
    path = sh.getenv("PATH")
    out = sh.cd(proj)
    # Refused: xonsh would put "<home>/dollar<home>/.venv/bin" on PATH, which nobody allowed.
    assert sh.venv() is None and sh.getenv("PATH") == path
    assert out.count(b"$EXPAND_ENV_VARS") == 1 and b"activated" not in out
    assert b"$EXPAND_ENV_VARS" not in sh.cd(proj / ".venv")  # once per session
    sh.cd(sandbox.home)
    assert sh.venv() is None


def test_env_name_shows_the_label(sandbox, start_shell):
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.home / "other")
    sh = start_shell("xonsh")
    field = "$PROMPT_FIELDS['env_name']()"
    xonsh_own = "__import__('xonsh.prompt.env').prompt.env.env_name()"
    sh.cd(proj)
    assert py(sh, field) == "'(proj) '"
    assert py(sh, xonsh_own) == "'proj'"  # what xonsh alone would show for a .venv
    sh.run("$PROMPT_FIELDS['env_prefix'] = '['; $PROMPT_FIELDS['env_postfix'] = '] '")
    assert py(sh, field) == "'[proj] '"
    sh.run("$VIRTUAL_ENV_DISABLE_PROMPT = '1'")
    assert py(sh, field) == "''"
    sh.run("del $VIRTUAL_ENV_DISABLE_PROMPT")
    sh.run(sh.source_activate(str(other)))  # by hand: xonsh's own field takes over
    assert py(sh, field) == py(sh, xonsh_own) == "'[other] '"


def test_deactivate_alias_and_pythonhome(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("xonsh")
    sh.run("$PYTHONHOME = '/some/where'")
    sh.cd(proj)
    assert sh.getenv("PYTHONHOME") is None
    assert sh.getenv("SHELLHOOK_PYTHONHOME") == b"/some/where"
    assert py(sh, "aliases['deactivate'].__xonsh_threadable__") == "False"
    sh.run("deactivate")
    assert sh.venv() is None
    assert sh.getenv("PYTHONHOME") == b"/some/where"
    assert sh.getenv("SHELLHOOK_PYTHONHOME") is None
    assert py(sh, "'deactivate' in aliases") == "False"


VOX = """\
# What vox (xontrib-vox's voxapi) does to the environment, without vox.
_vox = {}


def vox_activate(path):
    if "VIRTUAL_ENV" in ${...}:
        vox_deactivate()
    _vox["PATH"] = list($PATH)  # with whatever else is on it: ours, too
    $PATH.insert(0, path + "/bin")
    $VIRTUAL_ENV = path


def vox_deactivate():
    if "PATH" in _vox:
        $PATH = _vox.pop("PATH")
    del $VIRTUAL_ENV


aliases["deactivate"] = lambda: vox_deactivate()  # as vox users often define it
"""


def test_vox_style_activation_takes_over_and_leaves_nothing_behind(sandbox, start_shell):
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.home / "other")
    (sandbox.root / "vox.xsh").write_text(VOX)
    sh = start_shell("xonsh")
    sh.run(f"source {sh.quote(str(sandbox.root / 'vox.xsh'))}")
    path_before = sh.getenv("PATH")
    bin_ = os.fsencode(proj / ".venv/bin")
    sh.cd(proj)
    deactivate = "getattr(aliases['deactivate'], 'func', aliases['deactivate']).__name__"
    assert py(sh, deactivate) == "'deactivate_alias'"

    sh.run(f"vox_activate({python_literal(str(other))})")
    assert sh.venv() == str(other)
    assert bin_ not in sh.getenv("PATH")
    assert sh.getenv("VIRTUAL_ENV_PROMPT") is None  # ours is not left for vox's venv
    assert py(sh, "$PROMPT_FIELDS['env_name']()") == "'(other) '"
    assert py(sh, deactivate) == "'<lambda>'"  # the user's alias is back
    sh.cd(sandbox.home)
    assert sh.venv() == str(other)

    sh.run("deactivate")  # vox puts back the PATH it saved, our entry in it
    assert sh.venv() is None
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert sh.venv() == str(proj / ".venv")
    assert sh.getenv("PATH") == bin_ + b":" + path_before


# -- vox (xontrib-vox) and virtualenv's activate.xsh over our activation ---------------

VOX_SAVED_PATH = "vars(__import__('xontrib.voxapi').voxapi.Vox).get('oldvars', {}).get('PATH')"


def venv_bins(sh) -> list[bytes]:
    """The venv bin dirs on the shell's PATH (the tests' own Python's venv left out)."""
    own = os.fsencode(Path(sys.executable).parent)
    return [
        e
        for e in (sh.getenv("PATH") or b"").split(b":")
        if e != own and e.endswith(b"/bin") and os.path.isfile(e[:-4] + b"/pyvenv.cfg")
    ]


def assert_active(sh, venv: Path | None, label: bytes = b"") -> None:
    """One venv (or none) by every account: VIRTUAL_ENV, PATH, prefix, deactivate."""
    assert sh.venv() == (str(venv) if venv else None)
    assert venv_bins(sh) == ([os.fsencode(venv / "bin")] if venv else [])
    assert py(sh, "'deactivate' in aliases") == repr(venv is not None)
    assert sh.prompt_prefix == (b"(" + label + b") " if venv else b"")


@pytest.fixture
def vox():
    pytest.importorskip("xontrib.vox", reason="xontrib-vox is not installed")
    return lambda sh, *args: sh.run("xontrib load vox; vox " + " ".join(map(sh.quote, args)))


def test_vox_activate_of_our_venv_is_the_users_and_a_cd_keeps_it(sandbox, start_shell, vox):
    """Issue 8 point 5: `vox activate` of the venv we activated changes nothing visible,
    makes it the user's (no cd undoes it), and its deactivate is the user's."""
    proj = sandbox.project("proj")
    (proj / "sub").mkdir()
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    vox(sh, "activate", str(proj / ".venv"))
    assert_active(sh, proj / ".venv", b"proj")
    assert sh.getenv("SHELLHOOK_VENV") is None  # the user's now
    assert os.fsencode(proj / ".venv/bin") not in os.fsencode(py(sh, VOX_SAVED_PATH))
    sh.run("cd")  # a plain cd: home
    assert_active(sh, proj / ".venv", b"proj")
    sh.cd(proj / "sub")
    vox(sh, "deactivate")  # inside the project: off until we leave it
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert_active(sh, None)
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert_active(sh, proj / ".venv", b"proj")
    # Our deactivate of vox's venv is vox's own: it puts back what vox saved.
    vox(sh, "activate", str(proj / ".venv"))
    sh.run("deactivate")
    assert_active(sh, None)
    assert py(sh, VOX_SAVED_PATH) == "None"
    assert sh.getenv("PATH") == path_before


def test_vox_activate_over_ours_then_cd_then_vox_deactivate(sandbox, start_shell, vox):
    a = sandbox.project("a")
    c = sandbox.project("c")
    other = sandbox.make_venv(sandbox.home / "other")
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.cd(a)
    vox(sh, "activate", str(other))
    assert_active(sh, other, b"other")
    assert os.fsencode(a / ".venv/bin") not in os.fsencode(py(sh, VOX_SAVED_PATH))
    sh.cd(c)  # vox's venv is the user's: a cd never replaces it
    assert_active(sh, other, b"other")
    vox(sh, "deactivate")
    assert sh.wait_for(lambda: sh.venv() == str(c / ".venv"))  # c's resumes at once
    assert_active(sh, c / ".venv", b"c")
    assert sh.getenv("PATH") == os.fsencode(c / ".venv/bin") + b":" + path_before
    sh.cd(sandbox.home)
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before


def test_vox_deactivate_of_our_activation_is_the_users_deactivate(sandbox, start_shell, vox):
    proj = sandbox.project("proj")
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.run("$PYTHONHOME = '/some/where'")
    sh.cd(proj)
    vox(sh, "deactivate")
    sh.sync()
    assert_active(sh, None)  # and not activated again at the next prompt
    assert sh.getenv("PATH") == path_before
    assert sh.getenv("PYTHONHOME") == b"/some/where"
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert_active(sh, proj / ".venv", b"proj")


def test_vox_activate_of_the_active_workon_venv(sandbox, start_shell, vox):
    proj = sandbox.project("proj")
    tools = sandbox.make_venv(sandbox.workon_home / "tools")
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.run("workon tools")
    vox(sh, "activate", str(tools))
    assert_active(sh, tools, b"tools")
    sh.cd(proj)
    assert_active(sh, tools, b"tools")
    vox(sh, "deactivate")
    assert sh.wait_for(lambda: sh.venv() == str(proj / ".venv"))
    sh.cd(sandbox.home)
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before


def test_child_xonsh_of_a_vox_venv(sandbox, start_shell, vox):
    proj = sandbox.project("proj")
    tools = sandbox.make_venv(sandbox.workon_home / "tools")
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    vox(sh, "activate", "tools")  # by name, in $VIRTUALENV_HOME
    sh.nested()
    assert_active(sh, tools, b"tools")
    sh.run("deactivate")
    assert sh.getenv("PATH") == path_before
    sh.cd(proj)
    assert_active(sh, proj / ".venv", b"proj")
    sh.exit_nested()
    assert_active(sh, tools, b"tools")
    vox(sh, "deactivate")
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before


@pytest.fixture
def virtualenv(sandbox):
    """Make a venv with virtualenv, which ships bin/activate.xsh."""
    pytest.importorskip("virtualenv", reason="virtualenv is not installed")

    def make(path: Path) -> Path:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "virtualenv",
                "-q",
                "--no-seed",
                "--activators",
                "xonsh",
                str(path),
            ],
            env={**sandbox.env, "VIRTUALENV_OVERRIDE_APP_DATA": str(sandbox.root / "ve-data")},
            check=True,
            timeout=120,
        )
        assert (path / "bin" / "activate.xsh").is_file()
        return path

    return make


def test_activate_xsh_of_our_venv_changes_nothing_visible(sandbox, start_shell, virtualenv):
    proj = sandbox.home / "proj"
    virtualenv(proj / ".venv")
    sandbox.shellhook("allow", str(proj))
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.cd(proj)
    sh.run(f"source {sh.quote(str(proj / '.venv/bin/activate.xsh'))}")
    assert_active(sh, proj / ".venv", b"proj")
    assert sh.getenv("SHELLHOOK_VENV") == os.fsencode(proj / ".venv")  # ours again
    assert sh.getenv("VIRTUAL_ENV_PROMPT") == b"proj"
    assert sh.getenv("_OLD_VIRTUAL_PATH") is None
    assert py(sh, "'pydoc' in aliases") == "False"
    assert py(sh, "hasattr(__xonsh__.xontrib, 'virtualenv')") == "False"  # its activator
    sh.run(f"source {sh.quote(str(proj / '.venv/bin/activate.xsh'))}")  # again
    assert_active(sh, proj / ".venv", b"proj")
    sh.run("deactivate")  # ours: off until we leave the project
    sh.sync()
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before
    sh.cd(sandbox.home)
    sh.cd(proj)
    assert_active(sh, proj / ".venv", b"proj")


def test_activate_xsh_over_ours_leaves_no_trace_after_its_deactivate(
    sandbox, start_shell, virtualenv
):
    a = sandbox.project("a")
    c = sandbox.project("c")
    other = virtualenv(sandbox.home / "other")
    sh = start_shell("xonsh")
    path_before = sh.getenv("PATH")
    sh.run("$PYTHONHOME = '/some/where'")
    sh.cd(a)
    sh.run(f"source {sh.quote(str(other / 'bin/activate.xsh'))}")
    assert_active(sh, other, b"other")
    assert os.fsencode(a / ".venv/bin") not in sh.getenv("_OLD_VIRTUAL_PATH")
    sh.cd(c)
    assert_active(sh, other, b"other")
    out = sh.run("deactivate; print('PYTHONHOME', ${...}.get('PYTHONHOME'))")  # its own
    assert b"PYTHONHOME /some/where" in out  # it puts back what our activation hid
    assert sh.wait_for(lambda: sh.venv() == str(c / ".venv"))
    assert_active(sh, c / ".venv", b"c")
    assert sh.getenv("SHELLHOOK_PYTHONHOME") == b"/some/where"  # it came back, c hid it
    assert sh.getenv("PATH") == os.fsencode(c / ".venv/bin") + b":" + path_before
    sh.cd(sandbox.home)
    assert_active(sh, None)
    assert sh.getenv("PATH") == path_before
    assert sh.getenv("PYTHONHOME") == b"/some/where"


# -- a real prompt theme -------------------------------------------------------------------


def test_prompt_bar_theme_shows_the_venv_name_once(sandbox, start_shell, vox):
    """xontrib-prompt-bar, set up before the hook, shows the venv through {env_name}
    (ours, with its brackets stripped): one name, in the first prompt inside a project
    too; our prefix never stands beside it."""
    pytest.importorskip("xontrib.prompt_bar", reason="xontrib-prompt-bar is not installed")
    proj = sandbox.project("proj")
    other = sandbox.make_venv(sandbox.home / "other")
    theme = "xontrib load prompt_bar; $PROMPT_FIELDS['prompt_end_xonsh'] = 'SHPROMPT> '"
    load = theme + "\n" + adapters.get("xonsh").source_line(sandbox.hook_file("xonsh"))
    sh = start_shell("xonsh", cwd=proj, load=load)

    def bar_words() -> list[bytes]:
        # The theme's bar: the line above the prompt (user, host, cwd | venv, time).
        lines = re.sub(rb"\x1b\[[0-9;]*m", b"", sh.child.before).split(b"\n")
        return [line for line in lines if line.strip()][-1].split()

    assert sh.venv() == str(proj / ".venv")
    assert bar_words().count(b"proj") == 1  # the theme's section, from our {env_name}
    assert b"(proj)" not in sh.last_prompt_line and sh.prompt_prefix == b""
    vox(sh, "activate", str(other))
    sh.sync()
    assert b"other" in bar_words() and b"proj" not in bar_words()
    vox(sh, "deactivate")
    sh.cd(sandbox.home)
    assert b"proj" not in bar_words() and b"other" not in bar_words()
    sh.cd(proj)
    assert bar_words().count(b"proj") == 1


# -- transport ---------------------------------------------------------------------------


def test_fifo_pair_session_and_quiet(sandbox, start_shell):
    proj = sandbox.project("proj")
    sh = start_shell("xonsh", env={"SHELLHOOK_QUIET": "1"})
    out = sh.cd(proj)
    assert b"activated" not in out  # I lines are silenced
    assert sh.venv() == str(proj / ".venv")
    sid = os.fsdecode(sh.getenv("SHELLHOOK_SESSION"))
    pid, _, rand = sid.partition("-")
    assert pid == str(sh.child.pid) and rand.isalnum()
    rundir = Path(sandbox.env["XDG_RUNTIME_DIR"]) / "shellhook"
    for ext in ("req", "rep"):
        st = os.lstat(rundir / f"{sid}.{ext}")
        assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    sh.close()
    assert not (rundir / f"{sid}.req").exists()  # removed at exit


def test_runtime_dir_that_is_a_symlink_is_not_used(sandbox, start_shell, tmp_path):
    proj = sandbox.project("proj")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (Path(sandbox.env["XDG_RUNTIME_DIR"]) / "shellhook").symlink_to(elsewhere)
    sh = start_shell("xonsh")
    assert b"is a symlink" in sh.transcript  # the one-shot could not start the daemon
    out = sh.cd(proj)  # decided without a daemon, which refuses the directory too
    assert sh.venv() == str(proj / ".venv")
    assert b"symlink" not in out + sh.cd(sandbox.home) + sh.cd(proj)  # said once
    assert list(elsewhere.iterdir()) == []
    assert sh.getenv("SHELLHOOK_SESSION") is None


def test_plain_source_works_too(sandbox, start_shell):
    """`source FILE` (slow: xonsh's own parser) runs the same hook in the session's
    namespace; the rc line and the xontrib then find it there and do nothing."""
    proj = sandbox.project("proj")
    hook = sandbox.hook_file("xonsh")  # named *.xsh, as `source` wants
    sh = start_shell("xonsh", load=f"source {adapters.get('xonsh').quote(str(hook))}")
    assert py(sh, "callable(__shellhook_command)") == "True"
    sh.run(adapters.get("xonsh").source_line(hook))
    sh.run("xontrib load shellhook")
    out = sh.cd(proj)
    assert out.count(b"shellhook: activated") == 1
    assert sh.getenv("PATH").count(os.fsencode(proj / ".venv/bin")) == 1


# -- after install.sh --uninstall ------------------------------------------------------


@pytest.mark.parametrize("how", ["auto", "workon", "foreign"])
def test_uninstalled_turns_the_hook_off_once(sandbox, start_shell, how):
    from tests.test_fish import _doomed_hook, _uninstall

    proj = sandbox.project("proj")
    sandbox.make_venv(sandbox.workon_home / "tools")
    hook, python = _doomed_hook(sandbox, "xonsh")
    sh = start_shell("xonsh", cwd=sandbox.home, hook=hook)
    path = sh.getenv("PATH")
    if how == "auto":
        sh.cd(proj)
        want = proj / ".venv"
    elif how == "workon":
        sh.run("workon tools")
        want = sandbox.workon_home / "tools"
    else:  # not ours: left alone
        want = sandbox.make_venv(sandbox.root / "theirs")
        sh.run(sh.source_activate(str(want)))
    assert sh.venv() == str(want)
    name = os.fsdecode(sh.getenv("VIRTUAL_ENV_PROMPT") or b"")
    _uninstall(sandbox, python)
    out = sh.cd(sandbox.root) + sh.cd(proj) + sh.cd(sandbox.home) + sh.sync()
    message = f"shellhook: uninstalled ({python} is gone): the hook is off in this shell"
    assert out.decode().count(message) == 1, out
    if how == "foreign":
        assert f"{message}\n".encode() in out.replace(b"\r\n", b"\n")
        assert sh.venv() == str(want) and sh.has_function("deactivate")
        assert sh.getenv("PATH") == os.fsencode(want / "bin") + b":" + path
        sh.run("deactivate")  # theirs: puts back what it saved
        assert sh.venv() is None and sh.getenv("PATH") == path
        return
    assert f"{message}; deactivated {name}\n".encode() in out.replace(b"\r\n", b"\n")
    assert sh.venv() is None
    assert sh.getenv("PATH") == path
    for var in ("VIRTUAL_ENV_PROMPT", "SHELLHOOK_VENV", "SHELLHOOK_OFF", "SHELLHOOK_SESSION"):
        assert sh.getenv(var) is None, var
    assert not sh.has_function("deactivate")
    assert py(sh, OURS) == "[]"  # no handler left
    fifo = re.compile(r"\.re[qp]( \(deleted\))?$")
    fds = Path(f"/proc/{sh.child.pid}/fd").iterdir()
    assert not [fd for fd in fds if fifo.search(os.readlink(fd))]  # FIFOs closed
    assert sh.prompt_prefix == b""
    assert b"not installed" in sh.run("workon tools")
    assert sh.venv() is None and not (sandbox.root / "run" / "shellhook").exists()
