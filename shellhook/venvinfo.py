"""Facts about a venv read from its files, never by running it."""

from __future__ import annotations

import contextlib
import os

from shellhook.display import path_for_terminal
from shellhook.files import read_small_file

MAX_SCRIPTS = 16  # bin/ scripts whose shebang is read to tell a moved venv
MAX_BIN_ENTRIES = 500


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
    """The Python version recorded in pyvenv.cfg (``3.11.2``), or ''.

    virtualenv (poetry, pipenv, hatch) writes ``version_info = 3.11.2.final.0``: the
    release level is dropped unless it is a pre-release (``3.14.0.beta.1`` reads 3.14.0b1).
    """
    raw = cfg.get("version_info") or cfg.get("version", "")
    parts = raw.split(".")
    if len(parts) == 5 and all(p.isdigit() for p in parts[:3] + parts[4:]):
        level = {"final": "", "alpha": "a", "beta": "b", "candidate": "rc"}.get(parts[3])
        if level is not None:
            return ".".join(parts[:3]) + (level + parts[4] if level else "")
    return raw


def broken_reason(venv: str) -> str | None:
    """Why a venv cannot be activated, or None: its python is missing, pyvenv.cfg is
    unreadable, or it was moved or copied (its files name another location, so its
    scripts would run another venv's python). Terminal-safe text."""
    try:
        cfg = read_cfg(venv)
    except OSError as exc:
        return f"its pyvenv.cfg is unreadable ({exc.strerror})"
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        return "its python is missing (bin/python)"
    origin = made_elsewhere(venv, cfg)
    if origin is not None:
        return (
            f"it was made as {path_for_terminal(origin)} and moved or copied here "
            "(its scripts would run that venv's python)"
        )
    return None


def path_separator_problem(venv: str) -> str | None:
    """Why ``venv``'s bin cannot go on PATH, or None: its path holds a ``:``, which
    splits PATH (every shell exports PATH ':'-separated), so a part of the name would
    become a PATH entry of its own. Terminal-safe text."""
    if ":" in venv:
        return "its path has a ':', which would split PATH (rename it without ':')"
    return None


def has_pip(venv: str) -> bool:
    """True when ``bin/pip`` exists (without it a bare ``pip`` is someone else's)."""
    return any(os.path.lexists(os.path.join(venv, "bin", n)) for n in ("pip", "pip3"))


def made_elsewhere(venv: str, cfg: dict[str, str] | None = None) -> str | None:
    """The location a moved or copied venv's files still name, or None.

    Two witnesses, both read, never run: the ``command`` line CPython (3.11 and later)
    writes into pyvenv.cfg, and the shebangs of the scripts in ``bin/`` (pip's among
    them), which name the python of the venv they were installed into. Neither can
    hold a path with a line break, so such a venv is given the benefit of the doubt.
    """
    if "\n" in venv or "\r" in venv:
        return None
    if cfg is None:
        try:
            cfg = read_cfg(venv)
        except OSError:
            return None
    if "command" in cfg:
        made = _made_by_command(venv)
        if made is not None:
            return made
    bindir = os.path.join(venv, "bin")
    for script in _scripts(bindir):
        interpreter = _interpreter(script)
        if interpreter is None or not os.path.isabs(interpreter):
            continue
        if not os.path.basename(interpreter).startswith("python"):
            continue
        its_bin = os.path.dirname(interpreter)
        if _same_file(its_bin, bindir):
            continue
        prefix = os.path.dirname(its_bin)
        if os.path.exists(interpreter) and not os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
            continue  # a system python (a script of the user's own): not a venv's
        return prefix
    return None


def _made_by_command(venv: str) -> str | None:
    """Where pyvenv.cfg's ``command`` line says the venv was made, when not here.

    The line is ``PYTHON -m venv [OPTIONS] DIR``, unquoted (a ``--prompt="..."`` option
    may hold anything), so each ``/`` that starts a word is tried as the start of DIR.
    Read as bytes: a path that is not UTF-8 must compare as the same path.
    """
    try:
        data = read_small_file(os.path.join(venv, "pyvenv.cfg"), 16384)
    except OSError:
        return None
    for raw in data.splitlines():
        key, sep, value = raw.partition(b"=")
        if sep and key.strip().lower() == b"command":
            command = os.fsdecode(value.lstrip())  # a path may end in a space
            break
    else:
        return None
    marker = " -m venv "
    at = command.find(marker)
    if at < 0:
        return None
    rest = " " + command[at + len(marker) :]
    starts = [i + 1 for i in range(len(rest) - 1) if rest[i : i + 2] == " /"]
    if not starts or any(
        _same_file(p, venv) for i in starts for p in (rest[i:], rest[i:].rstrip())
    ):
        return None
    prompt_end = rest.find('" ', rest.find('--prompt="'))
    after = [i for i in starts if i > prompt_end] if '--prompt="' in rest else starts
    return rest[(after or starts)[0] :]


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _scripts(bindir: str) -> list[str]:
    """Up to MAX_SCRIPTS regular files of ``bindir`` that may be scripts, pip's first."""
    names = []
    try:
        with os.scandir(bindir) as it:
            for count, entry in enumerate(it):
                if count >= MAX_BIN_ENTRIES:
                    break
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        names.append(entry.name)
    except OSError:
        return []
    names = [n for n in names if not n.startswith(("python", "activate", "Activate"))]
    names.sort(key=lambda n: (not n.startswith("pip"), n))
    return [os.path.join(bindir, n) for n in names[:MAX_SCRIPTS]]


# pip's first lines for an interpreter path with spaces: /bin/sh runs the quoted python.
_TRAMPOLINE = b"'''exec' \""


def _interpreter(script: str) -> str | None:
    """The interpreter a script's first line names (pip's ``/bin/sh`` trampoline for
    paths with spaces included), or None."""
    try:
        data = read_small_file(script, 4096)
    except OSError:
        return None
    if not data.startswith(b"#!"):
        return None
    first, _, rest = data.partition(b"\n")
    line = first[2:].strip()
    if line == b"/bin/sh" and rest.startswith(_TRAMPOLINE):
        quoted = rest[len(_TRAMPOLINE) :]
        end = quoted.find(b'"')
        return os.fsdecode(quoted[:end]) if end > 0 else None
    return os.fsdecode(line.split()[0]) if line else None
