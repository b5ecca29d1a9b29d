"""poetry: the in-project ``.venv``, else ``{virtualenvs.path}/{name}-{hash}-py{X.Y}``.

reference/tool-venvs.md §1.2: settings come from ``POETRY_*`` variables, then the
project's ``poetry.toml``, then the user's ``config.toml``; the name is the canonical
project name, sanitized and cut to 42 characters; the hash is of D's physical path.
"""

from __future__ import annotations

import os
import re
from typing import Any

from shellhook.toolenv import is_tool_variable
from shellhook.tools.base import (
    Finding,
    Table,
    ToolLevel,
    b64_digest,
    canonical_name,
    sha256,
    table,
    text,
)

TOOL = "poetry"
NON_PACKAGE = "non-package-mode"
DEFAULT_STORE = "{cache-dir}/virtualenvs"


def env_name(project_name: str, root: str) -> str:
    """The prefix of poetry's venv names for project ``project_name`` at physical path
    ``root``: ``{sanitized name}-{hash}`` (poetry's ``EnvManager.generate_env_name``)."""
    name = re.sub(r'[ $`!*@"\\\r\n\t]', "_", canonical_name(project_name))[:42]
    return f"{name}-{b64_digest(sha256(os.path.normcase(root)))}"


def _is_poetry(pyproject: Table, level: ToolLevel) -> bool:
    backend = text(table(pyproject, "build-system"), "build-backend") or ""
    return (
        bool(table(pyproject, "tool", "poetry"))
        or level.exists("poetry.lock")
        or backend.startswith("poetry.")
    )


def is_project(d: str) -> bool:
    """Whether ``d`` is a poetry project (poetry deletes a ``.venv`` file it finds there)."""
    level = ToolLevel(d, dict(os.environ), os.path.expanduser("~"), None)
    pyproject = level.toml("pyproject.toml")
    return pyproject is not None and _is_poetry(pyproject, level)


class _Settings:
    """poetry's settings for one project: variable, then poetry.toml, then config.toml."""

    def __init__(self, level: ToolLevel, *, local: bool = True) -> None:
        self.level = level
        self.local = (level.toml("poetry.toml") or {}) if local else {}
        config_dir = level.env("POETRY_CONFIG_DIR") or level.user_dir("config", "pypoetry")
        self.user = level.toml(os.path.join(config_dir, "config.toml")) or {}

    def get(self, key: str) -> tuple[Any, str]:
        """The value of ``key`` (dotted) and where it came from ('' when unset)."""
        variable = "POETRY_" + "_".join(p.upper().replace("-", "_") for p in key.split("."))
        # (a setting whose variable the hooks do not send: a reference in a path, say)
        value = self.level.env(variable) if is_tool_variable(variable) else None
        if value is not None:
            return value, variable
        for source, data in (("poetry.toml", self.local), ("config.toml", self.user)):
            found: Any = data
            for part in key.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            if found is not None:
                return found, f"{source} {key}"
        return None, ""

    def flag(self, key: str) -> bool | None:
        value, _ = self.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return value if isinstance(value, bool) else None

    def path(self, key: str, default: str) -> tuple[str, str]:
        value, source = self.get(key)
        raw = value if isinstance(value, str) and value else default
        # poetry's "{cache-dir}" style references to other settings
        expanded = re.sub(r"{(.+?)}", lambda m: self._reference(m.group(1)), raw)
        return self.level.expand(expanded), source or key

    def _reference(self, key: str) -> str:
        if key == "cache-dir":
            return self.path("cache-dir", self.level.user_dir("cache", "pypoetry"))[0]
        value, _ = self.get(key)
        return str(value) if value is not None else ""


def stores(level: ToolLevel) -> list[str]:
    """poetry's venv store as the shell sees it (without a project's poetry.toml)."""
    return [_Settings(level, local=False).path("virtualenvs.path", DEFAULT_STORE)[0]]


def find(level: ToolLevel) -> Finding | None:
    """poetry's venv for the project at ``level`` (None: not a poetry project)."""
    pyproject = level.toml("pyproject.toml")
    if pyproject is None or not _is_poetry(pyproject, level):
        return None
    settings = _Settings(level)
    in_project = settings.flag("virtualenvs.in-project")
    if in_project is not False and os.path.isdir(level.path(".venv")):
        return Finding(TOOL, "poetry in-project venv")  # the .venv rule finds it
    skip = (".venv",) if in_project is False else ()
    if in_project is True:
        return Finding(TOOL, skip=skip)  # poetry would make .venv: nothing to use yet
    store, source = settings.path("virtualenvs.path", DEFAULT_STORE)
    if not os.path.isabs(store):
        store = os.path.normpath(os.path.join(level.d, store))
    name = (
        text(table(pyproject, "project"), "name")
        or text(table(pyproject, "tool", "poetry"), "name")
        or NON_PACKAGE
    )
    base = env_name(name, level.real)
    venvs = level.store_entries(store, base + "-py")
    chosen = _choose(level, store, base, venvs)
    if chosen is None:
        return Finding(TOOL, skip=skip)
    how = f"poetry cache venv ({source})"
    if source.startswith("poetry.toml"):
        # The project itself names where its venv is: a pointer in all but name.
        value = str(settings.get("virtualenvs.path")[0])
        return Finding(
            TOOL,
            how,
            chosen,
            early=False,
            declared_by=level.path("poetry.toml"),
            declared=f"virtualenvs.path={value}".encode(),
            skip=skip,
        )
    return Finding(TOOL, how, chosen, store=store, skip=skip)


def _choose(level: ToolLevel, store: str, base: str, venvs: list[str]) -> str | None:
    """The venv poetry uses among ``{base}-py*``: the one ``poetry env use`` recorded in
    envs.toml, else the only one, else the highest Python version."""
    if not venvs:
        return None
    envs = level.toml(os.path.join(store, "envs.toml")) or {}
    minor = text(table(envs, base), "minor")
    if minor:
        recorded = os.path.join(store, f"{base}-py{minor}")
        if recorded in venvs:
            return recorded
    return max(venvs, key=lambda v: _version_key(v[len(os.path.join(store, base)) + 3 :]))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))
