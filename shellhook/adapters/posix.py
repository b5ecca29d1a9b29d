"""What the POSIX-family shells (bash, zsh) share: quoting and the rc-file source line."""

from __future__ import annotations

import os
import re

from shellhook.adapters.base import ShellAdapter

_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_PRINTABLE = re.compile(r"[ -~]*")


def posix_quote(value: str) -> str:
    """A bash/zsh word that expands to exactly ``value``'s bytes.

    Printable ASCII goes in single quotes (every byte literal there, whatever zsh's
    RC_QUOTES says); anything else, newlines, control and non-ASCII or non-UTF-8 bytes,
    becomes an ANSI-C ``$'...'`` string of ``\\xNN`` escapes, so the word is one line of
    ASCII that survives readline, terminals and copy-paste.
    """
    if _SAFE.fullmatch(value):
        return value
    if _PRINTABLE.fullmatch(value):
        return "'" + value.replace("'", "'\\''") + "'"
    out = []
    for byte in os.fsencode(value):
        ch = chr(byte)
        if ch in "\\'":
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


class PosixAdapter(ShellAdapter):
    """The base of the bash and zsh adapters."""

    def quote(self, value: str) -> str:
        """Single-quoted, ``'`` as ``'\\''``; ``$'\\xNN'`` for anything unprintable."""
        return posix_quote(value)
