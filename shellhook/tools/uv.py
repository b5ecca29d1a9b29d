"""uv: the workspace root's ``.venv``, or ``UV_PROJECT_ENVIRONMENT``.

reference/tool-venvs.md §1.1: a project is the nearest directory with a
``pyproject.toml``; a member of a workspace (the nearest ancestor pyproject whose
``[tool.uv.workspace]`` members match it) uses the workspace root's environment;
``[tool.uv] managed = false`` is not uv's. A ``.venv`` symlink or path file into uv's
cache (centralized environments) is found by the ``.venv`` and pointer rules.
"""

from __future__ import annotations

import fnmatch
import os

from shellhook.tools.base import Finding, Table, ToolLevel, table

TOOL = "uv"


def _matches(root: str, patterns: object, directory: str) -> bool:
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if isinstance(pattern, str):
            full = os.path.normpath(os.path.join(root, pattern))
            if fnmatch.fnmatchcase(directory, full):
                return True
    return False


def workspace_root(level: ToolLevel, pyproject: Table) -> str:
    """The root of the workspace the project at D belongs to (D itself when none)."""
    if "workspace" in table(pyproject, "tool", "uv") or "project" not in pyproject:
        return level.d
    current = level.d
    while True:
        parent = os.path.dirname(current)
        if parent == current:
            return level.d
        current = parent
        candidate = os.path.join(current, "pyproject.toml")
        if not os.path.isfile(candidate):
            continue
        workspace = table(level.toml(candidate) or {}, "tool", "uv", "workspace")
        if _matches(current, workspace.get("members"), level.d) and not _matches(
            current, workspace.get("exclude"), level.d
        ):
            return current
        return level.d  # only the nearest pyproject above is asked


def stores(level: ToolLevel) -> list[str]:
    """uv keeps no venv store of its own (its centralized environments are reached
    through the project's ``.venv`` link)."""
    return []


def find(level: ToolLevel) -> Finding | None:
    """uv's environment for the project at ``level`` (None: not a uv project, or the
    ``.venv`` rule finds it)."""
    pyproject = level.toml("pyproject.toml")
    if pyproject is None:
        return None
    settings = table(pyproject, "tool", "uv")
    if settings.get("managed") is False:
        return None
    root = workspace_root(level, pyproject)
    if root != level.d:
        return Finding(TOOL, "uv workspace member: the workspace root's environment", defer=root)
    if not settings and not level.exists("uv.lock"):
        return None
    variable = level.env("UV_PROJECT_ENVIRONMENT")
    if variable:
        venv = os.path.normpath(os.path.join(root, level.expand(variable)))
        return Finding(TOOL, "uv project environment (UV_PROJECT_ENVIRONMENT)", venv, True)
    return Finding(TOOL, "uv project environment")
