"""What the POSIX-family shells (bash, zsh) share: quoting and the rc-file source line."""

from __future__ import annotations

import os

from shellhook.adapters.base import ALNUM, ShellAdapter, made_of, printable_ascii

_SAFE = ALNUM | frozenset("_@%+=:,./-")  # a word bash and zsh take as it is


def posix_quote(value: str) -> str:
    """A bash/zsh word that expands to exactly ``value``'s bytes.

    Printable ASCII goes in single quotes (every byte literal there, whatever zsh's
    RC_QUOTES says); anything else, newlines, control and non-ASCII or non-UTF-8 bytes,
    becomes an ANSI-C ``$'...'`` string of ``\\xNN`` escapes, so the word is one line of
    ASCII that survives readline, terminals and copy-paste.
    """
    if made_of(value, _SAFE):
        return value
    if printable_ascii(value):
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

    def tool_names(self, names: tuple[str, ...]) -> str:
        """A function setting the array ``__shellhook_tool`` to the names that are set
        (status 1, quicker, when none is), one expansion each: a loop over the names
        would cost bash and zsh ~4 µs a name at every request."""
        assert all(name.isidentifier() for name in names)
        any_set = "".join(f"${{{name}+x}}" for name in names)
        words = " ".join(f'${{{name}+"{name}"}}' for name in names)  # (whatever IFS is)
        return f'__shellhook_tool_set() {{ [[ -n "{any_set}" ]] && __shellhook_tool=({words}); }}'
