"""Quoting shared by the POSIX-family shells (bash, zsh)."""

from __future__ import annotations

import shlex


def posix_quote(value: str) -> str:
    """Single-quote ``value``; inside single quotes bash and zsh take every byte literally."""
    return shlex.quote(value) if value else "''"
