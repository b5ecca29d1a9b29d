"""Which of a shell's variables the venv tools read (DESIGN §2): sent with each request.

poetry, pipenv, pdm, hatch and uv place a project's venv by their own variables and by the
XDG base directories; the asking shell's values decide, not the daemon's. Hook scripts
send exactly the exported variables this module names (docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIXES = ("POETRY_", "PIPENV_", "PDM_", "HATCH_")
NAMES = frozenset({"UV_PROJECT_ENVIRONMENT", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"})
MAX_VARIABLES = 64  # more than any user sets: a longer tail is a malformed request

ToolEnv = tuple[tuple[str, str], ...]  # sorted (name, value) pairs


def is_tool_variable(name: str) -> bool:
    """True for a variable the tools read: ``POETRY_*``, ``PIPENV_*``, ``PDM_*``,
    ``HATCH_*``, ``UV_PROJECT_ENVIRONMENT`` and ``XDG_{DATA,CACHE,CONFIG}_HOME``."""
    return name in NAMES or (name.startswith(PREFIXES) and name.isidentifier())


def tool_variables(env: Mapping[str, str]) -> ToolEnv:
    """The tool variables of ``env``, sorted by name."""
    return tuple(sorted((k, v) for k, v in env.items() if is_tool_variable(k)))[:MAX_VARIABLES]
