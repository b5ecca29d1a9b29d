"""zsh: hook on precmd, FIFOs with ``read -t`` and ``zselect``."""

from __future__ import annotations

import os

from shellhook.adapters.posix import PosixAdapter

TYPE_CHECKING = False  # neither typing nor pathlib in `shellhook init` (at shell start)
if TYPE_CHECKING:
    from pathlib import Path


class Zsh(PosixAdapter):
    """The zsh adapter."""

    name = "zsh"
    extension = "zsh"

    def assign(self, variable: str, value: str) -> str:
        """``typeset -g var='value'``."""
        return f"typeset -g {variable}={self.quote(value)}"

    def rc_file(self, home: Path) -> Path:
        """$ZDOTDIR/.zshrc, else ~/.zshrc."""
        from pathlib import Path

        zdotdir = os.environ.get("ZDOTDIR")
        return Path(zdotdir) / ".zshrc" if zdotdir else home / ".zshrc"
