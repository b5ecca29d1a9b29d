"""pipenv: the in-project ``.venv``, else ``{dir}-{hash}`` in its store.

reference/tool-venvs.md §1.3: the store is ``$WORKON_HOME`` or ``$XDG_DATA_HOME/
virtualenvs``; the name is the Pipfile's directory name, sanitized and cut to 42
characters, and a hash of the Pipfile's path (directories resolved, as pipenv walks up).
"""

from __future__ import annotations

import hashlib
import os
import re

from shellhook.tools.base import Finding, ToolLevel, b64_digest, table

TOOL = "pipenv"
DEFAULT_MAX_DEPTH = 10


def env_name(pipfile: str, python: str | None = None) -> str:
    """pipenv's venv name for ``pipfile`` (``VirtualenvLocator.name``)."""
    directory = os.path.basename(os.path.dirname(pipfile))
    name = re.sub(r'[ &$`!*@"()\[\]\\\r\n\t]', "_", directory)[:42]
    digest = b64_digest(hashlib.sha256(os.fsencode(pipfile)).digest()[:6], None)
    suffix = f"-{os.path.basename(python) if os.path.isabs(python) else python}" if python else ""
    return f"{name}-{digest}{suffix}"


def stores(level: ToolLevel) -> list[str]:
    """pipenv's venv store, when it is not $WORKON_HOME (never a project either)."""
    return [] if level.workon_home else [store(level)]


def store(level: ToolLevel) -> str:
    """pipenv's venv store as the shell sees it."""
    if level.workon_home:
        return level.workon_home
    return level.user_dir("data", "virtualenvs")


def _pipfile(level: ToolLevel) -> tuple[str, int | None] | None:
    """The Pipfile pipenv uses for the project at D, and how many levels below D still
    find it; None when D is not a pipenv project."""
    named = level.env("PIPENV_PIPFILE")
    if named is not None:
        path = os.path.normpath(os.path.join(level.home, level.expand(named)))
        if not os.path.isabs(level.expand(named)) or os.path.dirname(path) != level.d:
            return None
        return (path, None) if os.path.isfile(path) else None
    if not os.path.isfile(level.path("Pipfile")):
        return None
    if level.truthy("PIPENV_NO_INHERIT"):
        return os.path.join(level.real, "Pipfile"), 0
    try:
        depth = int(level.env("PIPENV_MAX_DEPTH") or DEFAULT_MAX_DEPTH)
    except ValueError:
        depth = DEFAULT_MAX_DEPTH
    return os.path.join(level.real, "Pipfile"), max(depth - 1, 0)


def find(level: ToolLevel) -> Finding | None:
    """pipenv's venv for the project at ``level`` (None: not a pipenv project)."""
    found = _pipfile(level)
    if found is None:
        return None
    pipfile, reach = found
    in_env = level.truthy("PIPENV_VENV_IN_PROJECT")
    if in_env is None and level.truthy("PIPENV_NO_VENV_IN_PROJECT"):
        in_env = False
    data = level.toml(pipfile) or {}
    declared = table(data, "pipenv").get("venv_in_project")
    in_file = declared if isinstance(declared, bool) else None
    dot = level.path(".venv")
    if in_env is not None:
        in_project = in_env
    elif in_file is not None:
        in_project = in_file
    else:
        in_project = os.path.isdir(dot)
    home = store(level)
    name = level.env("PIPENV_CUSTOM_VENV_NAME") or env_name(pipfile, level.env("PIPENV_PYTHON"))
    venvs = level.store_entries(home, name)
    path = os.path.join(home, name)
    central = path if path in venvs else None
    how = f"pipenv store venv ({'$WORKON_HOME' if level.workon_home else 'virtualenvs'})"
    if in_project:
        if in_env is None and in_file is None and central:
            # .venv was only found, not asked for: pipenv prefers its store's venv
            return Finding(TOOL, how, central, early=True, store=home, reach=reach)
        return Finding(TOOL, "pipenv in-project venv", reach=reach)
    skip = (".venv",) if in_env is False or in_file is False else ()
    return Finding(TOOL, how, central, store=home, skip=skip, reach=reach)
