"""zsh: real prompt themes that show the venv themselves get no second name (issue 8, §3).

pure (npm package ``pure-prompt``: ``npm pack``, no install scripts run) and powerlevel9k
(Debian package ``zsh-theme-powerlevel9k``), each loaded before the hook (earlier in the
rc file) and after it, plus a hand-written theme that reads VIRTUAL_ENV in a precmd
function, as pure does. The first prompt of a new shell inside a project is the one that
used to show both names.

Where the themes come from: ``$SHELLHOOK_TEST_PURE`` (a directory holding pure's
``prompt_pure_setup`` and ``async``), else ``npm pack pure-prompt`` into a temp dir once
per run; powerlevel9k from ``$SHELLHOOK_TEST_P9K`` or the Debian package's path. Missing
outside CI: skipped; in CI: a failure, like a missing shell.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import require_shell
from tests.drivers import ShellDriver

P9K_DEBIAN = "/usr/share/powerlevel9k/powerlevel9k.zsh-theme"
# Colours and the like, and the window title (pure sets it).
ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def missing(what: str) -> NoReturn:
    """Skip outside CI; in CI every theme must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed, but CI must test it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def pure_dir(tmp_path_factory) -> Path:
    given = os.environ.get("SHELLHOOK_TEST_PURE")
    if given:
        return Path(given)
    npm = shutil.which("npm")
    if npm is None:
        missing("npm (to fetch pure-prompt)")
    dest = tmp_path_factory.mktemp("pure")
    try:
        proc = subprocess.run(
            [npm, "pack", "--silent", "pure-prompt"],
            cwd=dest,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        proc = None
    tarballs = sorted(dest.glob("pure-prompt-*.tgz"))
    if proc is None or proc.returncode != 0 or not tarballs:
        missing(f"pure-prompt (npm pack failed: {proc.stderr[-500:] if proc else 'timeout'})")
    # Only the two files zsh autoloads, by name: nothing else of the archive is written.
    with tarfile.open(tarballs[-1]) as tar:
        for name in ("prompt_pure_setup", "async"):
            member = tar.extractfile(f"package/{name}")
            assert member is not None, name
            (dest / name).write_bytes(member.read())
    return dest


@pytest.fixture
def shell_name() -> str:
    require_shell("zsh")
    return "zsh"


def theme_spawn(sandbox, spawn, theme: str, order: str, cwd: Path):
    """Start zsh in ``cwd`` with ``theme`` loaded before or after the hook."""
    hook = sandbox.hook_file("zsh").read_text()
    parts = [theme, hook] if order == "before" else [hook, theme]
    combined = sandbox.root / f"hook-theme-{order}.zsh"
    combined.write_text("\n".join(parts) + "\n")
    return spawn(cwd=cwd, hook=combined)


def whole_prompt(sh: ShellDriver) -> bytes:
    """The prompt shown last, all its lines, without colours; themes print a line above
    the one that ends in SHPROMPT> (the sync token's line ends just before it)."""
    sh.sync()
    before, after = sh.child.before, sh.child.after
    assert isinstance(before, bytes) and isinstance(after, bytes)
    text = ANSI_RE.sub(b"", before + after)
    return text.replace(b"\r", b"")


def check_one_name(sh, proj: Path, theme_name: bytes) -> None:
    prompt = whole_prompt(sh)
    assert b"(proj)" not in prompt, prompt  # no name of ours...
    assert prompt.count(theme_name) == 1, prompt  # ...beside the theme's own, once
    assert sh.venv() == str(proj / ".venv")
    assert sh.has_function("deactivate")


def check_theme(sandbox, spawn, theme: str, order: str, theme_name: bytes) -> None:
    proj = sandbox.project("proj")
    sh = theme_spawn(sandbox, spawn, theme, order, cwd=proj)
    check_one_name(sh, proj, theme_name)
    sh.cd(sandbox.home)
    prompt = whole_prompt(sh)
    assert sh.venv() is None
    assert b"(proj)" not in prompt and theme_name not in prompt, prompt
    sh.cd(proj)
    check_one_name(sh, proj, theme_name)
    sh.run("deactivate")
    prompt = whole_prompt(sh)
    assert sh.venv() is None
    assert b"(proj)" not in prompt and theme_name not in prompt, prompt


@pytest.mark.parametrize("order", ["before", "after"])
def test_pure_shows_the_venv_once(sandbox, spawn, pure_dir, order):
    theme = (
        f"fpath+=({shlex_zsh(str(pure_dir))})\n"
        "PURE_PROMPT_SYMBOL='SHPROMPT> '\n"  # its colour ends after the space
        "autoload -U promptinit && promptinit && prompt pure\n"
    )
    # pure shows VIRTUAL_ENV_PROMPT (ours: the project's name for a .venv) before its symbol.
    check_theme(sandbox, spawn, theme, order, b"proj SHPROMPT> ")


@pytest.mark.parametrize("order", ["before", "after"])
def test_powerlevel9k_shows_the_venv_once(sandbox, spawn, order):
    theme_file = os.environ.get("SHELLHOOK_TEST_P9K", P9K_DEBIAN)
    if not os.path.isfile(theme_file):
        missing("zsh-theme-powerlevel9k")
    theme = (
        "POWERLEVEL9K_LEFT_PROMPT_ELEMENTS=(virtualenv)\n"
        "POWERLEVEL9K_DISABLE_RPROMPT=true\n"
        "POWERLEVEL9K_IGNORE_TERM_COLORS=true\n"
        "POWERLEVEL9K_PROMPT_ON_NEWLINE=true\n"
        "POWERLEVEL9K_MULTILINE_FIRST_PROMPT_PREFIX=''\n"
        "POWERLEVEL9K_MULTILINE_LAST_PROMPT_PREFIX='SHPROMPT> '\n"
        f"source {shlex_zsh(theme_file)}\n"
    )
    # powerlevel9k's virtualenv segment shows the venv directory's name. It rebuilds
    # PROMPT in its precmd, after ours, so a prefix of ours could not show there anyway:
    # this guards that order and that the theme still sees the venv at the first prompt.
    check_theme(sandbox, spawn, theme, order, b".venv")


@pytest.mark.parametrize("order", ["before", "after"])
def test_a_precmd_theme_reading_virtual_env_shows_it_once(sandbox, spawn, order):
    """Hand-written, as pure does it: a precmd function puts the venv into psvar, the
    prompt text only says %1v (nothing in PS1 names VIRTUAL_ENV)."""
    theme = (
        "my_theme_precmd() { psvar[1]=${VIRTUAL_ENV:+${VIRTUAL_ENV:h:t}} }\n"
        "autoload -Uz add-zsh-hook && add-zsh-hook precmd my_theme_precmd\n"
        "PS1='%(1V.<%1v> .)SHPROMPT> '\n"
    )
    check_theme(sandbox, spawn, theme, order, b"<proj> SHPROMPT> ")


def shlex_zsh(value: str) -> str:
    """Single-quote ``value`` for zsh."""
    return "'" + value.replace("'", "'\\''") + "'"
