"""The interface every shell driver implements (the drivers are ``tests.drivers.DRIVERS``).

A driver starts a real interactive shell in a pseudo-terminal with shellhook's hook
loaded, runs a command and waits for the next prompt, and reads a variable's exact
bytes. Values are quoted with shellhook's own adapters, so hostile names also test
quoting.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pexpect

from shellhook import adapters

PROMPT = "SHPROMPT>"
# Every "(name) " prefix in front of the fixed prompt is captured: a doubled one shows.
PROMPT_RE = re.compile(rb"((?:\([^)\n]*\) )*)SHPROMPT> ")


class ShellDriver:
    """Base class: subclasses say how to start the shell and spell a few commands.

    ``argv`` replaces the command line that starts the shell, ``load`` the command that
    loads the hook (tests of other ways in: the xontrib, a user's own prompt...).
    """

    name: str = ""  # the adapter's name (shellhook.adapters.SHELLS)
    executable: str = ""  # what must be installed (a missing one is a skip outside CI)

    def __init__(
        self,
        sandbox: Path,
        env: dict[str, str],
        hook_file: Path,
        *,
        argv: list[str] | None = None,
        load: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.env = env
        self.hook_file = hook_file
        self.adapter = adapters.get(self.name)
        self.argv_override = argv
        self.load_override = load
        self._child: pexpect.spawn[bytes] | None = None
        self.transcript = b""
        self.prompt_prefix = b""  # what stood before the fixed prompt text last time
        self.last_prompt_line = b""  # the whole line of the last prompt, as painted

    # -- per shell ----------------------------------------------------------------
    def argv(self) -> list[str]:
        """Command line starting an interactive shell that loads nothing by itself."""
        raise NotImplementedError

    def setup_lines(self) -> list[str]:
        """Lines that set a fixed prompt and load the hook."""
        raise NotImplementedError

    def dump_command(self, var: str, path: str) -> str:
        """Write ``var``'s value (or nothing and no file if unset) to ``path``."""
        raise NotImplementedError

    def quote(self, value: str) -> str:
        """Quote with the shell's own adapter."""
        return self.adapter.quote(value)

    status_expr = "$?"  # how the shell spells the last exit status
    # A cd function with a visible effect, as users and tools define one ('' if not usual).
    user_cd_function = 'cd() { builtin cd "$@" && echo user-cd-ran; }'
    # A prompt theme that shows the venv itself, from $VIRTUAL_ENV, as "[.venv] ".
    venv_theme = "PS1='${VIRTUAL_ENV:+[${VIRTUAL_ENV##*/}] }SHPROMPT> '"
    request_suffix = ".req"  # the file this shell's requests go to (docs/protocol.md)
    strict_options = ""  # the most hostile option settings a user might have

    def hook_load_line(self) -> str:
        """How this shell loads the hook file by default."""
        return "source " + self.quote(str(self.hook_file))

    def load_hook_command(self) -> str:
        """The command that loads the hook file (again)."""
        return self.hook_load_line() if self.load_override is None else self.load_override

    def path_edit(self, prepend: str, append: str) -> str:
        """A command adding ``prepend`` in front of PATH and ``append`` at its end."""
        return f'export PATH={self.quote(prepend)}:"$PATH":{self.quote(append)}'

    def set_env(self, var: str, value: str) -> str:
        """A command exporting ``var``."""
        return f"export {var}={self.quote(value)}"

    def source_activate(self, venv: str) -> str:
        """Activate ``venv`` by hand with the script the venv itself ships."""
        return ". " + self.quote(os.path.join(venv, "bin", "activate"))

    def has_function(self, name: str) -> bool:
        """True when ``name`` is a function (an alias in xonsh) in the shell."""
        return b"HAS-FUNCTION" in self.run(f"type {name} >/dev/null 2>&1 && echo HAS-FUNCTION")

    def exec_self(self) -> None:
        """Replace the shell with a new one of its kind (``exec $SHELL``), hook loaded."""
        self.child.sendline("exec " + " ".join(self.quote(a) for a in self.argv()))
        for line in self.setup_lines():
            self.child.sendline(line)
        self.sync()

    def nested(self) -> None:
        """Start a child interactive shell of the same kind inside this one."""
        self.child.sendline(" ".join(self.quote(a) for a in self.argv()))
        for line in self.setup_lines():
            self.child.sendline(line)
        self.sync()

    def exit_nested(self) -> None:
        """Leave a child shell started with ``nested``."""
        self.child.sendline("exit")
        self.sync()

    # -- common -------------------------------------------------------------------
    @property
    def child(self) -> pexpect.spawn[bytes]:
        """The pexpect process of the shell (once started)."""
        if self._child is None:
            raise RuntimeError(f"the {self.name} driver has not been started")
        return self._child

    def start(self, cwd: Path | str | None = None) -> ShellDriver:
        """Spawn the shell (optionally in ``cwd``) and wait for the first prompt."""
        argv = self.argv_override or self.argv()
        self._child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=self.env,
            cwd=os.fsencode(cwd) if cwd else str(self.sandbox),
            timeout=15,
            dimensions=(40, 200),
            echo=False,
        )
        for line in self.setup_lines():
            self.child.sendline(line)
        self.sync()
        return self

    def expect(self, pattern: bytes | re.Pattern[bytes]) -> tuple[bytes, re.Match[bytes]]:
        """Wait for ``pattern``; what came before it, and the match."""
        self.child.expect(pattern)
        before, match = self.child.before, self.child.match
        assert isinstance(before, bytes) and isinstance(match, re.Match), (before, match)
        return before, match

    def sync(self) -> bytes:
        """Wait until the shell has run everything sent so far and shows a prompt."""
        token = uuid.uuid4().hex[:12]
        self.child.sendline(f"echo SYNC{token}")
        out, _ = self.expect(f"SYNC{token}\r?\n".encode())
        self._expect_prompt()
        self.transcript += out
        return out

    def _expect_prompt(self) -> None:
        before, match = self.expect(PROMPT_RE)
        self.prompt_prefix = match.group(1) or b""
        self.last_prompt_line = before.rsplit(b"\n", 1)[-1] + match.group(0)

    def run(self, command: str) -> bytes:
        """Run ``command``; return its output (and anything printed before its prompt)."""
        token = uuid.uuid4().hex[:12]
        self.child.sendline(os.fsencode(command))  # bytes: non-UTF-8 names go through as is
        self.child.sendline(f"echo DONE{token}")
        out, _ = self.expect(f"DONE{token}\r?\n".encode())
        self._expect_prompt()
        self.transcript += out
        return PROMPT_RE.sub(b"", out.replace(b"\r\n", b"\n"))

    def cd(self, path: Path | str | bytes) -> bytes:
        """``cd`` into ``path`` (any bytes), quoted by the shell's adapter."""
        return self.run("cd " + self.quote(os.fsdecode(path)))

    def timed_cd(self, path: Path | str | bytes) -> float:
        """``cd`` and return the seconds until the next prompt."""
        start = time.monotonic()
        self.cd(path)
        return time.monotonic() - start

    def getenv(self, var: str) -> bytes | None:
        """The exact bytes of ``$var`` in the shell, or None when unset."""
        out = self.sandbox / f"dump-{uuid.uuid4().hex[:8]}"
        self.run(self.dump_command(var, os.fsdecode(out)))
        try:
            return out.read_bytes()
        except FileNotFoundError:
            return None
        finally:
            out.unlink(missing_ok=True)

    def venv(self) -> str | None:
        """``$VIRTUAL_ENV`` decoded like a path."""
        value = self.getenv("VIRTUAL_ENV")
        return os.fsdecode(value) if value else None

    def which_python(self) -> str:
        """What ``python`` resolves to in the shell (through PATH)."""
        return (
            self.run("python -c 'import sys; print(sys.prefix)'").decode(errors="replace").strip()
        )

    def complete_and_run(self, text: str) -> None:
        """Type ``text``, press TAB so the shell completes the last word, then Enter."""
        self.child.send(os.fsencode(text) + b"\t")
        time.sleep(0.5)  # the line editor redraws asynchronously; nothing to wait on
        self.child.send(b"\r")
        self.sync()

    def answer_prompt(self, command: str, question: bytes, answer: str) -> bytes:
        """Run ``command``, wait for ``question`` and type ``answer``; return the output."""
        self.child.sendline(os.fsencode(command))
        before, match = self.expect(re.escape(question))
        self.child.sendline(answer)
        return before + match.group(0) + self.sync()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Press enter (a new prompt) until ``condition()`` holds, up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self.sync()
        return True

    def close(self) -> None:
        """End the shell."""
        if self._child is not None and self._child.isalive():
            self._child.sendline("exit")
            time.sleep(0.05)
            self._child.close(force=True)


class PosixDriver(ShellDriver):
    """What the bash and zsh drivers share."""

    def dump_command(self, var: str, path: str) -> str:
        return f'[ -n "${{{var}+set}}" ] && printf \'%s\' "${var}" > {self.quote(path)}'
