"""bash: hook on PROMPT_COMMAND, FIFOs with ``read -t``."""

from __future__ import annotations

from pathlib import Path

from shellhook.adapters import ShellAdapter
from shellhook.adapters.posix import posix_quote


class Bash(ShellAdapter):
    """The bash adapter."""

    name = "bash"
    script = "shellhook.bash"

    def quote(self, value: str) -> str:
        """Single-quoted, ``'`` as ``'\\''``."""
        return posix_quote(value)

    def assign(self, variable: str, value: str) -> str:
        """``var='value'``."""
        return f"{variable}={self.quote(value)}"

    def rc_file(self, home: Path) -> Path:
        """~/.bashrc (interactive shells)."""
        return home / ".bashrc"
