"""The wire format between hook scripts and Python (see docs/protocol.md).

Every message is a sequence of NUL-terminated fields, so any path (spaces, newlines,
quotes, non-UTF-8 bytes) travels as is and nothing is ever parsed by a shell's evaluator.

Request  (shell -> daemon): ``Q seq pwd VIRTUAL_ENV SHELLHOOK_VENV owned off WORKON_HOME``,
                            then one ``NAME=VALUE`` per exported tool variable (toolenv.py),
                            then an empty field.
Reply    (daemon -> shell): ``R seq`` then operation pairs ``op arg``, then ``E ''``,
                            in the regular file ``<session>.a``.
Signals  (daemon -> shell): one byte on the shell's FIFO: ``R`` (reply ready) or ``N``
                            (something changed: ask again at the next prompt).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shellhook.toolenv import MAX_VARIABLES, ToolEnv, is_tool_variable

Ops = list[tuple[str, str]]  # (operation, argument) pairs of a reply

REQUEST_FIELDS = 8  # the fixed fields, Q included; the tool variables and '' follow
MAX_REQUEST_BYTES = 64 * 1024

# Operations: a closed set; each is applied by the hook script's own code.
OP_PROJECT = "P"  # remember project dir for the next A / O
OP_LABEL = "L"  # remember prompt label (safe characters only) for the next A / O
OP_NAME = "M"  # remember VIRTUAL_ENV_PROMPT for the next A
OP_ACTIVATE = "A"  # activate venv ARG
OP_MANUAL = "V"  # activate venv ARG as a manual activation (workon): cd never replaces it
OP_DEACTIVATE = "D"  # undo our activation
OP_FORGET = "F"  # a manual activation took over: drop our PATH entry and marker only
OP_ADOPT = "O"  # an inherited activation of ours still matches: own it here
OP_SUPPRESS = "S"  # set (or clear, with '') the project where the user deactivated
OP_CALL_DEACTIVATE = "U"  # call the shell's own deactivate (before workon switches)
OP_CD = "C"  # cd to directory ARG (workon going to a linked project)
OP_INFO = "I"  # informational line (silenced by SHELLHOOK_QUIET)
OP_WARN = "W"  # warning line (never silenced)
OP_DAEMON = "Y"  # the daemon is up, at runtime dir ARG: use it again
OP_END = "E"


@dataclass(frozen=True)
class Request:
    """What a shell tells us about itself when it asks."""

    seq: str
    pwd: str
    virtual_env: str
    marker: str  # exported SHELLHOOK_VENV: the venv shellhook activated (maybe in a parent)
    owned: bool  # this shell has a ``deactivate`` (ours or the venv's) for its activation
    suppressed: str  # project in which the user ran deactivate, or ''
    workon_home: str = ""  # the shell's $WORKON_HOME as set ('' when unset: the default)
    tool_env: ToolEnv = ()  # the shell's exported tool variables (toolenv.py), sorted


def _dec(field: bytes) -> str:
    return os.fsdecode(field)


def _enc(text: str) -> bytes:
    return os.fsencode(text)


def parse_request(fields: list[bytes], tool_env: ToolEnv = ()) -> Request:
    """Build a Request from its fixed fields (after the leading ``Q``). ValueError if
    malformed."""
    if len(fields) != REQUEST_FIELDS - 1:
        raise ValueError(f"expected {REQUEST_FIELDS - 1} fields, got {len(fields)}")
    seq, pwd, venv, marker, owned, suppressed, workon_home = (_dec(f) for f in fields)
    if not seq.isdigit() or not pwd.startswith("/"):
        raise ValueError("malformed request")
    return Request(seq, pwd, venv, marker, owned == "1", suppressed, workon_home, tool_env)


def parse_tool_env(fields: list[bytes]) -> ToolEnv:
    """The tool variables (toolenv.py) among a request's ``NAME=VALUE`` tail fields,
    sorted; other names are ignored. ValueError for a field without ``=`` or too many."""
    if len(fields) > MAX_VARIABLES:
        raise ValueError("too many tool variables")
    pairs = []
    for field in fields:
        name, sep, value = _dec(field).partition("=")
        if not sep:
            raise ValueError("a tool variable field without '='")
        if is_tool_variable(name):
            pairs.append((name, value))
    return tuple(sorted(pairs))


def encode_request(req: Request) -> bytes:
    """The bytes a hook script sends for ``req`` (used by the Python clients and tests)."""
    fields = [
        "Q",
        req.seq,
        req.pwd,
        req.virtual_env,
        req.marker,
        "1" if req.owned else "0",
        req.suppressed,
        req.workon_home,
        *(f"{name}={value}" for name, value in req.tool_env),
        "",
    ]
    return b"".join(_enc(f) + b"\0" for f in fields)


def encode_reply(seq: str, ops: list[tuple[str, str]]) -> bytes:
    """A reply frame: ``R seq``, the operations, ``E``."""
    parts = [("R", seq), *ops, (OP_END, "")]
    return b"".join(_enc(op) + b"\0" + _enc(arg) + b"\0" for op, arg in parts)


# Stream shells' FIFO carries single bytes only: "your reply is in <id>.a", "ask again".
DOORBELL_REPLY = b"R"
DOORBELL_NUDGE = b"N"


class RequestReader:
    """Incremental parser for a byte stream of requests (one per shell FIFO)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[Request]:
        """Add bytes; return every complete, well-formed request. Garbage is dropped."""
        self._buf += data
        if len(self._buf) > MAX_REQUEST_BYTES:
            self._buf = b""
            return []
        requests: list[Request] = []
        while True:
            start = self._buf.find(b"Q\0")
            if start < 0:
                self._buf = b""
                return requests
            if start > 0 and self._buf[start - 1 : start] != b"\0":
                self._buf = self._buf[start + 2 :]  # a Q inside some other field
                continue
            fields = self._buf[start:].split(b"\0", REQUEST_FIELDS)
            if len(fields) <= REQUEST_FIELDS:
                self._buf = self._buf[start:]
                return requests
            # The tail: NAME=VALUE fields up to an empty one.
            tail = fields[REQUEST_FIELDS]
            end = tail.find(b"\0\0")
            if tail.startswith(b"\0"):
                tail_fields, rest = [], tail[1:]
            elif end >= 0:
                tail_fields, rest = tail[:end].split(b"\0"), tail[end + 2 :]
            else:
                self._buf = self._buf[start:]
                return requests
            try:
                env = parse_tool_env(tail_fields)
                requests.append(parse_request(fields[1:REQUEST_FIELDS], env))
            except ValueError:
                self._buf = tail  # look for the next request after the fixed fields
                continue
            self._buf = rest


def parse_reply(data: bytes) -> list[tuple[str, str]]:
    """Decode a reply frame into (op, arg) pairs (for tests and Python clients)."""
    fields = [_dec(f) for f in data.split(b"\0")]
    return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
