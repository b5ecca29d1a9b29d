"""bash: hook on PROMPT_COMMAND, FIFOs with ``read -t``."""

from __future__ import annotations

from shellhook.adapters.posix import PosixAdapter

TYPE_CHECKING = False  # neither typing nor pathlib in `shellhook init` (at shell start)
if TYPE_CHECKING:
    from pathlib import Path


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
