"""hatch: the ``default`` environment's venv.

reference/tool-venvs.md §1.5: ``HATCH_ENV_TYPE_VIRTUAL_PATH`` or the env's ``path``
option, else ``{dirs.env.virtual or data/env/virtual}/{name}/{id}/{name}`` (flat when
that dir is ``~/.virtualenvs`` or inside the project); the id is a hash of D's physical
path. ``hatch.toml`` keys override ``[tool.hatch]``.
"""

from __future__ import annotations

import os
import sys

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

TOOL = "hatch"
ENV = "default"


def project_id(root: str) -> str:
    """hatch's id of the project at ``root`` (case-folded where file names are)."""
    key = root.casefold() if sys.platform in ("darwin", "win32") else root
    return b64_digest(sha256(key))


def _user_dirs(level: ToolLevel) -> Table:
    user_file = level.env("HATCH_CONFIG") or os.path.join(
        level.user_dir("config", "hatch"), "config.toml"
    )
    return table(level.toml(user_file) or {}, "dirs")


def _data_store(level: ToolLevel, dirs: Table) -> str:
    data = level.expand(level.env("HATCH_DATA_DIR") or text(dirs, "data") or "")
    return os.path.join(data or level.user_dir("data", "hatch"), "env", "virtual")


def stores(level: ToolLevel) -> list[str]:
    """hatch's venv store in its data dir (an absolute ``dirs.env.virtual`` too)."""
    dirs = _user_dirs(level)
    virtual = level.expand(text(table(dirs, "env"), "virtual") or "")
    return [_data_store(level, dirs), *([virtual] if os.path.isabs(virtual) else [])]


def find(level: ToolLevel) -> Finding | None:
    """hatch's default venv for the project at ``level`` (None: not a hatch project)."""
    pyproject = level.toml("pyproject.toml")
    own = level.toml("hatch.toml")
    config = dict(table(pyproject or {}, "tool", "hatch"))
    if own is None and "envs" not in config:
        return None  # hatchling as a build backend alone is not a hatch project
    config.update(own or {})
    env = table(config, "envs", ENV)
    if env.get("type", "virtual") != "virtual":
        return None
    variable = level.env("HATCH_ENV_TYPE_VIRTUAL_PATH")
    path = variable or text(env, "path")
    if path:
        venv = os.path.normpath(os.path.join(level.real, level.expand(path)))
        if variable:
            return Finding(TOOL, "hatch env path (HATCH_ENV_TYPE_VIRTUAL_PATH)", venv, True)
        declared_by = level.path(
            "hatch.toml" if text(table(own or {}, "envs", ENV), "path") else "pyproject.toml"
        )
        return Finding(
            TOOL,
            f"hatch env path ({os.path.basename(declared_by)})",
            venv,
            early=True,
            declared_by=declared_by,
            declared=f"envs.{ENV}.path={path}".encode(),
        )
    dirs = _user_dirs(level)
    virtual = text(table(dirs, "env"), "virtual")
    store = _data_store(level, dirs)
    if virtual:
        store = os.path.normpath(os.path.join(level.real, level.expand(virtual)))
    pid = project_id(level.real)
    name = text(table(pyproject or {}, "project"), "name")
    name = canonical_name(name) if name else f"{pid}-unmanaged"
    store_real = os.path.realpath(store)
    if store == os.path.join(level.home, ".virtualenvs") or store_real.startswith(
        level.real.rstrip("/") + "/"
    ):
        venvs = level.store_entries(store, name)
        venv = os.path.join(store, name)
        found = venv if venv in venvs else None
        return Finding(TOOL, "hatch env (dirs.env.virtual)", found)
    directory = os.path.join(store, name, pid)
    venvs = level.store_entries(directory, name)
    venv = os.path.join(directory, name)
    how = "hatch env (dirs.env.virtual)" if virtual else "hatch env (data dir)"
    return Finding(TOOL, how, venv if venv in venvs else None, store=store)
