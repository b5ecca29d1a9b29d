"""pdm: ``.pdm-python`` (or ``PDM_PYTHON``) names the interpreter; else ``.venv``,
``venv``, ``env``; else ``{venv.location}/{dir}-{hash}-*``.

reference/tool-venvs.md §1.4: the hash is MD5 of D's physical path; ``venv.location``
comes from the user's config only (``PDM_CONFIG_FILE`` or ``~/.config/pdm/config.toml``).
"""

from __future__ import annotations

import hashlib
import os

from shellhook.files import is_venv_dir
from shellhook.tools.base import Finding, ToolLevel, b64_digest, table, text

TOOL = "pdm"


def env_prefix(root: str) -> str:
    """The prefix of pdm's central venv names for the project at ``root``."""
    digest = b64_digest(hashlib.md5(os.fsencode(root)).digest())  # noqa: S324 (pdm's id)
    return f"{os.path.basename(root)}-{digest}-"


def _is_pdm(level: ToolLevel) -> bool:
    pyproject = level.toml("pyproject.toml")
    if pyproject is None:
        return False
    backend = text(table(pyproject, "build-system"), "build-backend") or ""
    return (
        bool(table(pyproject, "tool", "pdm"))
        or backend.startswith("pdm.")
        or any(level.exists(n) for n in ("pdm.lock", ".pdm-python", "pdm.toml"))
    )


def _venv_of(interpreter: str) -> str | None:
    """The venv holding ``interpreter`` (``VENV/bin/python``), or None."""
    venv = os.path.dirname(os.path.dirname(interpreter))
    return venv if os.path.exists(interpreter) and is_venv_dir(venv) else None


def stores(level: ToolLevel) -> list[str]:
    """pdm's central venv store (``venv.location``, from the user's config only)."""
    config_file = level.env("PDM_CONFIG_FILE") or os.path.join(
        level.user_dir("config", "pdm"), "config.toml"
    )
    location = text(table(level.toml(config_file) or {}, "venv"), "location")
    if location:
        return [level.expand(location)]
    return [os.path.join(level.user_dir("data", "pdm"), "venvs")]


def find(level: ToolLevel) -> Finding | None:
    """pdm's venv for the project at ``level`` (None: not a pdm project)."""
    if not _is_pdm(level):
        return None
    if level.truthy("PDM_IGNORE_SAVED_PYTHON") is not True:
        named = level.env("PDM_PYTHON")
        if named:
            venv = _venv_of(level.expand(named))
            return Finding(TOOL, "pdm interpreter (PDM_PYTHON)", venv, early=True)
        saved = level.read(".pdm-python")
        if saved is not None:
            path = saved.decode("utf-8", "replace").strip()
            venv = _venv_of(path) if os.path.isabs(path) else None
            return Finding(
                TOOL,
                "pdm interpreter (.pdm-python)",
                venv,
                early=True,
                declared_by=level.path(".pdm-python"),
                declared=saved,
            )
    if is_venv_dir(level.path("env")):
        return Finding(TOOL, "pdm in-project venv (env)", level.path("env"))
    store = stores(level)[0]
    venvs = level.store_entries(store, env_prefix(level.real))
    if not venvs:
        return Finding(TOOL)
    # Several: pdm asks (and then records the choice in .pdm-python); take the newest.
    chosen = max(venvs, key=_mtime)
    return Finding(TOOL, "pdm central venv (venv.location)", chosen, store=store)


def _mtime(path: str) -> float:
    try:
        return os.stat(os.path.join(path, "pyvenv.cfg")).st_mtime
    except OSError:
        return 0.0
