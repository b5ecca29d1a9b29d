"""The fish driver: ``fish --no-config``, the hook sourced with ``-C``.

fish's line editor repaints what is typed, even with the pty's echo off; the driver
erases every key binding but self-insert, execute, complete and cancel, so each typed
line is painted once, and removes those paints, and fish's "missing newline" marker,
from what a command printed.
"""

from __future__ import annotations

import os
import re
import uuid

from tests.drivers.base import PROMPT, ShellDriver

# fish's PROMPT_SP: an end-of-output mark, spaces to the last column, carriage returns.
_ABANDON_LINE_RE = re.compile(rb"\xe2\x8f\x8e *\r(?:\xe2\x8f\x8e *\r)?")
_PROMPT = rb"\r*(?:\([^)\r\n]*\) )*" + re.escape(PROMPT.encode()) + b" "


def clean(raw: bytes, typed: list[bytes]) -> bytes:
    """What commands printed in ``raw``: without fish's paints of the prompt and of the
    ``typed`` lines, nor its missing-newline marks (``\\r\\n`` become ``\\n``)."""
    text = _ABANDON_LINE_RE.sub(b"", raw)
    for line in typed:
        text = re.sub(_PROMPT + re.escape(line) + rb"(?:\r\n)?", b"", text)
    text = re.sub(_PROMPT + rb"(?=\r|$)", b"", text)  # a prompt painted before the typing
    text = re.sub(_PROMPT, b"", text)  # output printed on the prompt line keeps its text
    return text.replace(b"\r\n", b"\n")


class FishDriver(ShellDriver):
    """fish --no-config -i; prompt, key bindings and the hook set with -C (as conf.d would)."""

    name = "fish"
    executable = "fish"
    status_expr = "$status"
    request_suffix = ".q"  # the session file the daemon reads (file transport; FIFOs: .req)
    # fish has no set -u or nounset; what a user can do is shadow the builtins that are
    # not reserved words, empty IFS (command substitutions stop splitting) and trap INT.
    strict_options = (
        "trap 'echo user-trap' INT; set -g IFS ''; "
        "for f in contains math random true printf; "
        "function $f; return 99; end; end"
    )

    def init_command(self) -> str:
        """What runs before the first prompt: a fixed prompt, plain key bindings, the hook."""
        return "; ".join(
            [
                f"function fish_prompt; builtin printf '%s' '{PROMPT} '; end",
                "set -g fish_greeting ''",
                "bind --erase --all --preset",
                "bind --erase --all",
                "bind '' self-insert",
                r"bind \r execute",
                r"bind \n execute",
                r"bind \t complete",
                r"bind \cc cancel-commandline",
                r"bind \cd delete-or-exit",
                f"source {self.quote(str(self.hook_file))}",
            ]
        )

    def argv(self) -> list[str]:
        return ["fish", "--no-config", "-i", "-C", self.init_command()]

    def setup_lines(self) -> list[str]:
        return []

    def dump_command(self, var: str, path: str) -> str:
        # Quoted, a path variable (PATH...) is joined with colons, as it is exported.
        return f"set -q {var}; and builtin printf '%s' \"${var}\" > {self.quote(path)}"

    # -- shell-specific spellings used by the shared tests ---------------------------
    def path_edit(self, prepend: str, append: str) -> str:
        return f"set -gx PATH {self.quote(prepend)} $PATH {self.quote(append)}"

    def set_env(self, var: str, value: str) -> str:
        return f"set -gx {var} {self.quote(value)}"

    user_cd_function = "function cd; builtin cd $argv; and echo user-cd-ran; end"
    venv_theme = (
        "function fish_prompt; set -q VIRTUAL_ENV; and builtin printf '[%s] ' "
        "(string split -r -m1 / $VIRTUAL_ENV)[2]; builtin printf 'SHPROMPT> '; end"
    )

    def has_function(self, name: str) -> bool:
        return b"HAS-FUNCTION" in self.run(f"functions -q {name}; and echo HAS-FUNCTION")

    def source_activate(self, venv: str) -> str:
        return "source " + self.quote(os.path.join(venv, "bin", "activate.fish"))

    # -- reading output ----------------------------------------------------------------
    def sync(self) -> bytes:
        token = uuid.uuid4().hex[:12]
        # The quotes keep the typed line from matching what echo prints.
        line = f"echo SYNC''{token}"
        self.child.sendline(line)
        out, _ = self.expect(f"SYNC{token}\r?\n".encode())
        self._expect_prompt()
        self.transcript += out
        return clean(out, [line.encode()])

    def run(self, command: str) -> bytes:
        token = uuid.uuid4().hex[:12]
        done = f"echo DONE''{token}"
        # One write: fish turns the tty's echo on for external commands, so a line that
        # arrived while one ran would be echoed by the tty (and left in the output).
        self.child.send(os.fsencode(command) + b"\n" + done.encode() + b"\n")
        out, _ = self.expect(f"DONE{token}\r?\n".encode())
        self._expect_prompt()
        self.transcript += out
        return clean(out, [os.fsencode(command), done.encode()])


DRIVER = FishDriver
