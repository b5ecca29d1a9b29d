"""Making untrusted names safe to show: on a terminal and inside a shell prompt."""

from __future__ import annotations

import os
import re
import shlex
import unicodedata

_LABEL_PUNCTUATION = set("._-+@=,:")


def _needs_escape(ch: str) -> bool:
    """True for a character that could drive the terminal (or is a stray byte)."""
    return 0xDC80 <= ord(ch) <= 0xDCFF or unicodedata.category(ch) in _UNSAFE_CATEGORIES


_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def for_terminal(text: str, *, keep_backslashes: bool = False) -> str:
    """Escape anything that could drive the terminal: control and format characters.

    ``\\e]52;...`` (clipboard), ``\\r``, BiDi overrides and friends come out as visible
    ``\\xNN`` / ``\\u{NNNN}`` sequences; surrogate-escaped bytes of non-UTF-8 names as
    ``\\xNN``. ``keep_backslashes`` leaves ``\\`` alone, which makes the result the same
    when applied twice: for a message that may hold text escaped already.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\" and not keep_backslashes:
            out.append("\\\\")
        elif unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{{{code:04x}}}")
        else:
            out.append(ch)
    return "".join(out)


def path_for_terminal(path: str | os.PathLike[str]) -> str:
    """A path, home-abbreviated and escaped for the terminal."""
    text = os.fspath(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home) :]
    return for_terminal(text)


_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def path_for_command(path: str | os.PathLike[str]) -> str:
    """A path as one word of a command to paste into bash, zsh, fish or xonsh, escaped
    for the terminal: ``~/src/proj`` when it is a plain word under home (the form
    ``path_for_terminal`` shows), else the absolute path, single-quoted where needed
    (xonsh expands no ``~`` next to quotes). A path with control characters is a bash
    and zsh ``$'...'`` word (fish and xonsh users: ``cd`` there and drop the path).
    Messages that name a path and a command acting on it use this form for both."""
    text = os.fspath(path)
    if any(_needs_escape(ch) for ch in text):
        return ansi_c_quote(text)
    home = os.path.expanduser("~")
    if _PLAIN_WORD.fullmatch(text) and home not in ("", "/"):
        if text == home:
            return "~"
        if text.startswith(home + os.sep):
            return "~" + text[len(home) :]
    return text if _PLAIN_WORD.fullmatch(text) else shlex.quote(text)  # no control chars


def ansi_c_quote(text: str) -> str:
    """``text`` as a bash and zsh ``$'...'`` word: runnable, and terminal-safe (every
    control or format character, and every byte that is not UTF-8, as an escape).

    Each escape has its full number of digits (``\\xNN``, ``\\uNNNN``,
    ``\\UNNNNNNNN``), so a hex digit after it is never read as part of it.
    """
    out = ["$'"]
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in "\\'":
            out.append("\\" + ch)
        elif not _needs_escape(ch):
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append("'")
    return "".join(out)


def prompt_label(name: str) -> str:
    """The venv name as shown in a prompt: letters, digits and ``._-+@=,:`` only.

    Anything else (``$``, backticks, ``%``, ``\\``, ``!``, spaces, control characters)
    becomes ``_``, so no shell's prompt expansion (bash promptvars, zsh PROMPT_SUBST
    and ``%`` escapes, fish) can ever act on it. VIRTUAL_ENV_PROMPT keeps the real name.
    """
    label = "".join(ch if ch.isalnum() or ch in _LABEL_PUNCTUATION else "_" for ch in name)
    return label[:40] or "venv"
