"""Changing the calling shell from a command (``workon``, ``mkvenv``, ``rmvenv``).

A command cannot touch its parent shell's environment; the hook's ``__shellhook_command``
runs it with ``SHELLHOOK_OPS_FILE`` and ``SHELLHOOK_OPS_SEQ`` set and afterwards applies
the reply frame the command left in that file (docs/protocol.md, "Commands that change
the shell"). Run from a plain script there is no such shell: ``link()`` is None.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shellhook import locations, protocol
from shellhook.daemon.sessions import SessionFile
from shellhook.files import write_atomic
from shellhook.protocol import Ops


@dataclass(frozen=True)
class ShellLink:
    """Where to leave the reply frame for the shell that ran us."""

    ops_file: Path
    seq: str


def link(env: Mapping[str, str] | None = None) -> ShellLink | None:
    """The calling shell's ops file, or None (no hook; or a file outside our private dir)."""
    env = os.environ if env is None else env
    path, seq = env.get("SHELLHOOK_OPS_FILE", ""), env.get("SHELLHOOK_OPS_SEQ", "")
    if (
        not path
        or not seq.isdigit()
        or not os.path.isabs(path)
        or not path.endswith(SessionFile.OPS.suffix)
    ):
        return None
    ops_file = Path(path)
    try:
        locations.check_private_dir(ops_file.parent)
    except locations.UnsafeDirectory:
        return None
    return ShellLink(ops_file, seq)


def leave_current(env: Mapping[str, str] | None = None) -> Ops:
    """Operations that end the shell's current activation before another one starts.

    Ours (``$SHELLHOOK_VENV`` is ``$VIRTUAL_ENV``): ``D`` undoes it without marking the
    project as deactivated by the user. Anyone else's: ``U`` calls its ``deactivate``.
    """
    env = os.environ if env is None else env
    venv = env.get("VIRTUAL_ENV", "")
    if not venv:
        return []
    if venv == env.get("SHELLHOOK_VENV", ""):
        return [(protocol.OP_DEACTIVATE, "")]
    return [(protocol.OP_CALL_DEACTIVATE, "")]


def send(shell: ShellLink, ops: Ops) -> None:
    """Leave ``ops`` for the shell as one reply frame (atomic, private; a message, so no
    fsync)."""
    write_atomic(shell.ops_file, protocol.encode_reply(shell.seq, ops), 0o600, durable=False)
