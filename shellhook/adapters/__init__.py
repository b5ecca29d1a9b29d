"""The adapter registry: the one list of supported shells.

An adapter knows how to quote a value for its shell, which hook script it ships, and
where a user's start-up file for it lives. Nothing outside this package branches on the
shell's name; every per-shell table elsewhere (test drivers, lint checks, bench specs) is
checked against ``SHELLS`` by tests/test_registry.py.
"""

from __future__ import annotations

from shellhook.adapters.base import ShellAdapter
from shellhook.adapters.bash import Bash
from shellhook.adapters.fish import Fish
from shellhook.adapters.xonsh import Xonsh
from shellhook.adapters.zsh import Zsh

REGISTRY: dict[str, ShellAdapter] = {a.name: a for a in (Bash(), Zsh(), Fish(), Xonsh())}
SHELLS = tuple(REGISTRY)


def get(name: str) -> ShellAdapter:
    """The adapter for shell ``name``; KeyError if unsupported."""
    return REGISTRY[name]
