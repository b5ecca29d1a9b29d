"""Unit tests: the command words messages suggest are runnable (security.md case 59)."""

from __future__ import annotations

import os
import subprocess

import pytest

from shellhook.display import for_terminal, path_for_command
from tests.conftest import require_shell

NAMES = [
    "/p/\x1b]52;c;cHduZWQ=\x07",
    "/p/\x1b]0;owned\x07x",
    "/p/\x1b[2J",
    "/p/a\rb",
    "/p/a\nb",
    "/p/\u202eevil",
    "/p/it's\\here",
    "/p/\x85nel\x7fdel",
    "/p/bad\udcff\udcfebytes",  # not UTF-8, as os.fsdecode gives it
    "/p/\x1bb1",  # a hex digit right after an escape
]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_suggested_paths_with_control_characters_run_as_the_same_path(shell):
    require_shell(shell)
    for name in NAMES:
        word = path_for_command(name)
        assert for_terminal(word, keep_backslashes=True) == word  # nothing drives the terminal
        out = subprocess.run(
            [shell, "-c", f"printf %s {word}"],
            capture_output=True,
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
            check=True,
        ).stdout
        assert out == os.fsencode(name), (name, word)
