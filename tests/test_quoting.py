"""Unit tests: values placed in shell code round-trip through the real shells."""

from __future__ import annotations

import os
import subprocess

import pytest

from shellhook import adapters
from tests.conftest import require_shell

NASTY = [
    "",
    "plain",
    "sp ace",
    "it's",
    'dq"uote',
    "back\\slash",
    "$(touch pwned)",
    "`id`",
    "semi;colon",
    "new\nline",
    "tab\there",
    "\r\x1b]0;title\x07",
    "ünïcödé",
    "caf\udce9",
    "--dash",
    "*glob?[x]",
    "~tilde",
    "!bang",
    "%percent",
    "{brace,s}",
    "a:b",
    "\x01\x7f",
]

# How each shell runs a script and prints a variable set by the adapter, byte for byte.
PRINT = {
    "bash": (["bash", "-c"], 'printf %s "$__shellhook_python"'),
    "zsh": (["zsh", "-c"], 'printf %s "$__shellhook_python"'),
    "fish": (["fish", "--no-config", "-c"], 'builtin printf %s "$__shellhook_python"'),
    "xonsh": (
        ["xonsh", "--no-rc", "-c"],
        "import os, sys; _ = sys.stdout.buffer.write(os.fsencode(__shellhook_python))",
    ),
}


@pytest.mark.parametrize("shell", sorted(PRINT))
@pytest.mark.parametrize("value", NASTY)
def test_assign_round_trips(shell, value, tmp_path):
    require_shell(shell)
    adapter = adapters.get(shell)
    argv, print_var = PRINT[shell]
    script = adapter.assign("__shellhook_python", value) + "\n" + print_var + "\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(tmp_path)  # nothing a shell writes at start-up goes to the real HOME
    out = subprocess.run([*argv, script], capture_output=True, cwd=tmp_path, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == os.fsencode(value)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("shell", adapters.SHELLS)
@pytest.mark.parametrize("value", NASTY)
def test_quote_is_one_line_of_ascii_when_needed(shell, value):
    quoted = adapters.get(shell).quote(value)
    assert "\n" not in quoted and quoted.isascii()
