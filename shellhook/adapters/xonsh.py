"""xonsh: a xontrib talking to the daemon in-process (no eval of generated text)."""

from __future__ import annotations

import os
from pathlib import Path

from shellhook.adapters import ShellAdapter


class Xonsh(ShellAdapter):
    """The xonsh adapter."""

    name = "xonsh"
    script = "shellhook.xsh"

    def quote(self, value: str) -> str:
        """A Python string literal (surrogate-escaped bytes survive as ``\\udcXX``)."""
        return repr(value)

    def assign(self, variable: str, value: str) -> str:
        """``var = 'value'``."""
        return f"{variable} = {self.quote(value)}"

    def source_line(self, path: Path) -> str:
        """Load the generated file with xonsh's ``source``."""
        quoted = self.quote(os.fspath(path))
        return f"if __import__('os').access({quoted}, 4):\n    source @({quoted})"

    def rc_file(self, home: Path) -> Path:
        """~/.config/xonsh/rc.d/shellhook.xsh (install.sh owns the whole file)."""
        config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        return Path(config) / "xonsh" / "rc.d" / "shellhook.xsh"
