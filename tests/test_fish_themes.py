"""fish only: real prompt themes that show the venv themselves get no second name (S8).

The themes are fish's own sample prompts (Debian: fish-common, which fish depends on),
loaded before the hook as a config.fish would, unchanged but for the end of the left
prompt, which becomes the drivers' fixed prompt text. Each one reads VIRTUAL_ENV (and
sets VIRTUAL_ENV_DISABLE_PROMPT, too late: on its first drawing, after we activated):
pythonista and nim in fish_prompt, disco in fish_right_prompt. TERM is a colour
terminal, as in real use: with TERM=dumb, set_color prints nothing and pythonista's
`(set_color blue)(basename $VIRTUAL_ENV)` is an empty list, so it shows no name at all.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_shell
from tests.drivers import PROMPT, ShellDriver

# (theme, its prompt's last output, that output ending in the driver's prompt, what the
# theme shows for a venv named .venv)
THEMES = [
    ("pythonista", "printf '↪ '", f"printf '{PROMPT} '", b"(.venv) " + PROMPT.encode()),
    ("nim", "echo -n '$ '", f"echo -n '{PROMPT} '", b"[V:.venv]"),
    (
        "disco",
        "echo -n -s $prompt_host $cwd $pwd $normal $prompt_status $delim\n",
        f"echo -n -s $prompt_host $cwd $pwd $normal $prompt_status $delim ' {PROMPT} '\n",
        b".venv ",  # the right prompt: the venv, the time
    ),
]

_ESCAPE_RE = re.compile(rb"\x1b(?:\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|\([0-9A-Za-z])")


def plain(raw: bytes) -> bytes:
    """What the terminal shows of ``raw``, near enough: without escape sequences."""
    return _ESCAPE_RE.sub(b"", raw)


def sample_prompt(theme: str) -> str:
    """The text of one of fish's sample prompts (fail in CI when it is missing)."""
    data = subprocess.run(
        ["fish", "--no-config", "-c", "echo $__fish_data_dir"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    path = Path(data) / "tools" / "web_config" / "sample_prompts" / f"{theme}.fish"
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, but CI must test it (Debian: fish-common)")
        pytest.skip(f"{path} is missing")
    return path.read_text()


def screen(sh: ShellDriver) -> bytes:
    """The last prompt as drawn: the left prompt (all its lines), then whatever fish drew
    after it before the next command ran (the right prompt)."""
    before, after = sh.child.before, sh.child.after
    assert isinstance(before, bytes) and isinstance(after, bytes)
    drawn = before + after
    mark = len(sh.transcript)
    sh.sync()
    return plain(drawn + sh.transcript[mark:])


@pytest.mark.parametrize(("theme", "old", "new", "shown"), THEMES, ids=[t[0] for t in THEMES])
def test_a_sample_prompt_that_shows_the_venv_gets_no_second_name(
    sandbox, start_shell, theme, old, new, shown
):
    require_shell("fish")
    text = sample_prompt(theme)
    assert "VIRTUAL_ENV" in text
    assert text.count(old) == 1, f"{theme}.fish changed: adapt the test"
    proj = sandbox.project("proj")
    hook = sandbox.root / f"hook-{theme}.fish"
    hook.write_text(text.replace(old, new) + "\n" + sandbox.hook_file("fish").read_text())
    # The first prompt of a new shell inside a project.
    sh = start_shell("fish", cwd=proj, env={"TERM": "xterm-256color"}, hook=hook)
    first = screen(sh)
    assert sh.venv() == str(proj / ".venv")
    assert shown in first, first  # the theme shows the venv...
    assert b"(proj) " not in first, first  # ...and we add no name of ours
    sh.cd(sandbox.home)
    assert b".venv" not in screen(sh)
    sh.cd(proj)
    again = screen(sh)
    assert shown in again and b"(proj) " not in again, again
    # deactivate stays ours, and the theme's name goes with the venv.
    sh.run("deactivate")
    assert sh.venv() is None
    assert b".venv" not in screen(sh)
