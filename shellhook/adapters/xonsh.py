"""xonsh: a hook in plain Python (shells/shellhook.xsh) that edits ``${...}`` directly.

The same file runs whether xonsh loads it from the rc line below (any Python: it never
imports shellhook) or as ``xontrib load shellhook`` (xontrib/shellhook.py).
"""

from __future__ import annotations

import os

from shellhook.adapters.base import ALNUM, ShellAdapter, made_of

TYPE_CHECKING = False  # neither typing nor pathlib in `shellhook init` (at shell start)
if TYPE_CHECKING:
    from pathlib import Path

# Words xonsh's subprocess mode takes literally: no $VAR, ~, glob, @ or quote in them.
_BARE = ALNUM | frozenset("_./-")  # not first: "-"

# The namespace the hook file runs in when loaded by source_line (a private module).
HOOK_MODULE = "shellhook_hook"


def python_literal(value: str) -> str:
    """``value`` as a Python string literal in one line of printable ASCII, whatever it
    holds (surrogate-escaped bytes of non-UTF-8 names come back as the same bytes)."""
    return ascii(value)


class Xonsh(ShellAdapter):
    """The xonsh adapter."""

    name = "xonsh"
    extension = "xsh"

    def quote(self, value: str) -> str:
        """A subprocess-mode word for ``value``: bare when harmless, else ``@('...')``.

        xonsh expands ``$VAR`` even inside quoted strings in subprocess mode, so anything
        but a plain word is passed as a Python expression, which is never expanded.
        """
        if made_of(value, _BARE) and not value.startswith("-"):
            return value
        return "@(" + python_literal(value) + ")"

    def assign(self, variable: str, value: str) -> str:
        """``var = 'value'`` (Python mode: no expansion)."""
        return f"{variable} = {python_literal(value)}"

    def tool_names(self, names: tuple[str, ...]) -> str:
        """The names, separated by spaces."""
        return self.assign("__shellhook_tool_names", " ".join(names))

    def source_line(self, path: Path) -> str:
        """Run the generated hook file as a private module, in interactive sessions.

        Python's loader caches the bytecode next to the file, so a shell starts without
        compiling it again; xonsh's ``source`` would parse it with xonsh's own parser every
        time, which takes hundreds of milliseconds for a file this size. One line, and no
        ``and``/``or`` in the test (xonsh's parser could read operands as commands).
        """
        p = python_literal(os.fspath(path))
        m = python_literal(HOOK_MODULE)
        return (
            "if all((__xonsh__.env.get('XONSH_INTERACTIVE'), "
            f"__import__('os').access({p}, 4))): "
            f"__import__('importlib.machinery').machinery.SourceFileLoader({m}, {p})"
            f".exec_module(__import__('types').ModuleType({m}))"
        )

    def rc_file(self, home: Path) -> Path:
        """~/.config/xonsh/rc.d/shellhook.xsh (install.sh owns the whole file)."""
        config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        from pathlib import Path

        return Path(config) / "xonsh" / "rc.d" / "shellhook.xsh"
