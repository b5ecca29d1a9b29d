"""Which of a shell's variables the venv tools read (DESIGN §2): sent with each request.

poetry, pipenv, pdm, hatch and uv place a project's venv by their own variables and by the
XDG base directories; the asking shell's values decide, not the daemon's. Hook scripts
send exactly the exported variables this module names (docs/protocol.md): ``shellhook
init`` writes the list into each generated hook, and the tool modules read no other.
"""

from __future__ import annotations

from collections.abc import Mapping

# Each name is read by a module of shellhook/tools (poetry's settings by their key).
VARIABLES = (
    "HATCH_CONFIG",
    "HATCH_DATA_DIR",
    "HATCH_ENV_TYPE_VIRTUAL_PATH",
    "PDM_CONFIG_FILE",
    "PDM_IGNORE_SAVED_PYTHON",
    "PDM_PYTHON",
    "PIPENV_CUSTOM_VENV_NAME",
    "PIPENV_MAX_DEPTH",
    "PIPENV_NO_INHERIT",
    "PIPENV_NO_VENV_IN_PROJECT",
    "PIPENV_PIPFILE",
    "PIPENV_PYTHON",
    "PIPENV_VENV_IN_PROJECT",
    "POETRY_CACHE_DIR",
    "POETRY_CONFIG_DIR",
    "POETRY_VIRTUALENVS_IN_PROJECT",
    "POETRY_VIRTUALENVS_PATH",
    "UV_PROJECT_ENVIRONMENT",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
)
_VARIABLES = frozenset(VARIABLES)
MAX_VARIABLES = len(VARIABLES)  # a longer tail is a malformed request

ToolEnv = tuple[tuple[str, str], ...]  # sorted (name, value) pairs


def is_tool_variable(name: str) -> bool:
    """True for a variable the tools read (one of ``VARIABLES``)."""
    return name in _VARIABLES


def tool_variables(env: Mapping[str, str]) -> ToolEnv:
    """The tool variables of ``env``, sorted by name."""
    return tuple(sorted((k, v) for k, v in env.items() if is_tool_variable(k)))[:MAX_VARIABLES]
