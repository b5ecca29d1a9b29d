"""fish: hook on ``--on-variable PWD`` and ``fish_prompt``; file transport (no read timeout)."""

from __future__ import annotations

import os
from pathlib import Path

from shellhook.adapters import ShellAdapter


class Fish(ShellAdapter):
    """The fish adapter."""

    name = "fish"
    script = "shellhook.fish"

    def quote(self, value: str) -> str:
        """Single-quoted; inside, fish only treats ``\\\\`` and ``\\'`` specially."""
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def assign(self, variable: str, value: str) -> str:
        """``set -g var 'value'``."""
        return f"set -g {variable} {self.quote(value)}"

    def source_line(self, path: Path) -> str:
        """fish's ``test -r`` / ``source`` form."""
        quoted = self.quote(os.fspath(path))
        return f"test -r {quoted}; and source {quoted}"

    def rc_file(self, home: Path) -> Path:
        """A conf.d snippet of its own (install.sh owns the whole file)."""
        config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        return Path(config) / "fish" / "conf.d" / "shellhook.fish"
