"""fish: hook on ``--on-variable PWD`` and ``fish_prompt``; file transport (no read timeout)."""

from __future__ import annotations

import os

from shellhook.adapters.base import ALNUM, ShellAdapter, made_of, printable_ascii

TYPE_CHECKING = False  # neither typing nor pathlib in `shellhook init` (at shell start)
if TYPE_CHECKING:
    from pathlib import Path

_SAFE = ALNUM | frozenset("_@+=:,./-")  # a word fish takes as it is


class Fish(ShellAdapter):
    """The fish adapter."""

    name = "fish"
    extension = "fish"

    def quote(self, value: str) -> str:
        """A fish word that expands to exactly ``value``'s bytes (``value`` as os.fsdecode gives).

        Printable ASCII goes in single quotes (fish treats only ``\\\\`` and ``\\'``
        specially there). Everything else is an escape outside the quotes, so the word is
        one line of ASCII: control characters and undecodable bytes (``\\udcXX`` from
        os.fsdecode) as ``\\xHH``, which fish turns into that raw byte; other characters as
        ``\\uXXXX`` / ``\\UXXXXXXXX``, which fish stores as it stores typed text, except
        fish's own private range U+F600-U+F6FF (it encodes raw bytes there), which goes
        as its UTF-8 bytes. NUL cannot be in a fish string: ValueError.
        """
        if made_of(value, _SAFE):
            return value
        if printable_ascii(value):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        out: list[str] = []
        run: list[str] = []  # printable ASCII waiting to be single-quoted

        def flush() -> None:
            if run:
                text = "".join(run)
                out.append("'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")
                run.clear()

        for ch in value:
            code = ord(ch)
            if 0x20 <= code < 0x7F:
                run.append(ch)
                continue
            flush()
            if code == 0:
                raise ValueError("fish strings cannot hold NUL")
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif 0xDC80 <= code <= 0xDCFF:
                out.append(f"\\x{code - 0xDC00:02x}")
            elif 0xF600 <= code <= 0xF6FF or 0xD800 <= code <= 0xDFFF:
                out.extend(f"\\x{b:02x}" for b in os.fsencode(ch))
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        flush()
        return "".join(out)

    def assign(self, variable: str, value: str) -> str:
        """``set -g var 'value'``."""
        return f"set -g {variable} {self.quote(value)}"

    def tool_names(self, names: tuple[str, ...]) -> str:
        """The names as a list, for one ``set -qx`` of them all."""
        return "set -g __shellhook_tool_names " + " ".join(self.quote(n) for n in names)

    def source_line(self, path: Path) -> str:
        """fish's ``test -r`` / ``source`` form."""
        quoted = self.quote(os.fspath(path))
        return f"test -r {quoted}; and source {quoted}"

    def rc_file(self, home: Path) -> Path:
        """A conf.d snippet of its own (install.sh owns the whole file)."""
        config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        from pathlib import Path

        return Path(config) / "fish" / "conf.d" / "shellhook.fish"
