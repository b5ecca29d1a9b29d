"""Facts about a venv read from its files, never by running it."""

from __future__ import annotations

import os

from shellhook.files import read_small_file


def read_cfg(venv: str) -> dict[str, str]:
    """The key = value pairs of ``pyvenv.cfg`` (OSError when unreadable)."""
    text = read_small_file(os.path.join(venv, "pyvenv.cfg"), 16384).decode("utf-8", "replace")
    cfg = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            cfg[key.strip().lower()] = value.strip()
    return cfg


def display_name(venv: str, cfg: dict[str, str] | None = None) -> str:
    """The venv's name in prompts and messages (``VIRTUAL_ENV_PROMPT``).

    ``prompt`` from pyvenv.cfg (``cfg``, else read now), else for a ``.venv`` or ``venv``
    directory its project's name, else the venv directory's own name. ``venv`` is the
    canonical path, so a venv has one name however it was reached.
    """
    if cfg is None:
        try:
            cfg = read_cfg(venv)
        except OSError:
            cfg = {}
    prompt = cfg.get("prompt", "")
    if len(prompt) >= 2 and prompt[0] == prompt[-1] and prompt[0] in "'\"":
        prompt = prompt[1:-1]
    if prompt:
        return prompt
    venv = venv.rstrip("/") or venv
    base = os.path.basename(venv)
    if base in (".venv", "venv"):
        return os.path.basename(os.path.dirname(venv)) or base
    return base or venv


def python_version(cfg: dict[str, str]) -> str:
    """The Python version recorded in pyvenv.cfg, or ''."""
    return cfg.get("version_info") or cfg.get("version", "")


def broken_reason(venv: str) -> str | None:
    """Why a venv cannot be activated (python missing, pyvenv.cfg unreadable), or None."""
    try:
        read_cfg(venv)
    except OSError as exc:
        return f"its pyvenv.cfg is unreadable ({exc.strerror})"
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        return "its python is missing (bin/python)"
    return None
