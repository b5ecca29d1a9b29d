"""bash: hook on PROMPT_COMMAND, FIFOs with ``read -t``."""

from __future__ import annotations

from pathlib import Path

from shellhook.adapters.posix import PosixAdapter


class Bash(PosixAdapter):
    """The bash adapter."""

    name = "bash"
    extension = "bash"

    def assign(self, variable: str, value: str) -> str:
        """``var='value'``."""
        return f"{variable}={self.quote(value)}"

    def rc_file(self, home: Path) -> Path:
        """~/.bashrc (interactive shells)."""
        return home / ".bashrc"
