"""Names of venvs in ``$WORKON_HOME``: which ones are acceptable, and listing them.

A name is one path component that can never reach outside ``$WORKON_HOME``, be taken
for an option or a path list, hide among temporary entries, or mean anything to a shell
or a prompt: letters, digits and ``._-+@=,``, not starting with ``-`` or ``.``, at most
255 bytes. ``workon``, ``mkvenv`` and ``rmvenv`` all use this one rule; venvs with other
names (made by other tools) are not listed and cannot be named.
"""

from __future__ import annotations

import os
import unicodedata

from shellhook.display import for_terminal
from shellhook.errors import UsageError
from shellhook.resolver import is_venv_dir

MAX_NAME_BYTES = 255  # NAME_MAX on Linux and macOS
_PUNCTUATION = set("._-+@=,")


class InvalidName(UsageError, ValueError):
    """A venv name that is refused; ``str()`` is one line, safe to print."""


def _refuse(name: str, why: str) -> InvalidName:
    return InvalidName(f"invalid venv name '{for_terminal(name)}': {why}")


def check_name(name: str) -> str:
    """Return ``name`` if it may name a venv in ``$WORKON_HOME``; raise InvalidName if not."""
    if not name:
        raise _refuse(name, "it is empty")
    if name in (".", ".."):
        raise _refuse(name, "it names a directory, not a venv")
    if "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise _refuse(name, "it must not contain '/'")
    if name.startswith("-"):
        raise _refuse(name, "it must not start with '-'")
    if name.startswith("."):
        raise _refuse(name, "it must not start with '.'")
    if ":" in name:
        raise _refuse(name, "it must not contain ':'")
    for ch in name:
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            raise _refuse(name, "it is not valid UTF-8")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            raise _refuse(name, "it must not contain control characters")
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in _PUNCTUATION)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise _refuse(name, f"use letters, digits and ._-+@=, only (not {shown})")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise _refuse(name, f"it is longer than {MAX_NAME_BYTES} bytes")
    return name


def list_names(workon_home: str) -> list[str]:
    """The names of the venvs in ``workon_home``, sorted; hidden entries are skipped."""
    try:
        entries = list(os.scandir(workon_home))
    except OSError:
        return []
    names = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            check_name(entry.name)
        except InvalidName:
            continue
        if is_venv_dir(entry.path):
            names.append(entry.name)
    return sorted(names)
