"""Every file-system location shellhook uses, in one place.

Built on platformdirs, so the XDG variables (and their platform equivalents) move
everything; tests point them at a throw-away tree.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from shellhook.errors import ShellhookError

APP = "shellhook"


class UnsafeDirectory(ShellhookError):
    """A private directory exists but is not safe to use (owner, mode or symlink)."""


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP, appauthor=False)


def data_dir() -> Path:
    """User data dir: the private install venv and generated hook files live here."""
    return Path(_dirs().user_data_dir)


def state_dir() -> Path:
    """User state dir: the trust store and the known tool projects."""
    return Path(_dirs().user_state_dir)


def trust_dir() -> Path:
    """Directory holding one allow or deny record per file."""
    return state_dir() / "trust"


def known_projects_file() -> Path:
    """The projects whose venv a venv tool made (poetry, pdm...), as lsvenv lists them."""
    return state_dir() / "projects.json"


def config_file() -> Path:
    """The user's TOML configuration file."""
    return Path(_dirs().user_config_dir) / "config.toml"


def log_dir() -> Path:
    """Where the daemon writes its log."""
    return Path(_dirs().user_log_dir)


def runtime_dir() -> Path:
    """Private runtime dir for the daemon's lock, pid file and the shells' FIFOs.

    platformdirs only accepts a ``$XDG_RUNTIME_DIR`` that is safe and otherwise falls
    back to ``/run/user/<uid>`` or ``$TMPDIR/runtime-<uid>``; the hook scripts compute
    the same candidate and shells learn the daemon's answer from it when they differ.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir(APP))


_XDG = {
    "cache": ("XDG_CACHE_HOME", ".cache"),
    "data": ("XDG_DATA_HOME", ".local/share"),
    "config": ("XDG_CONFIG_HOME", ".config"),
}
_MACOS = {
    "cache": "Library/Caches",
    "data": "Library/Application Support",
    "config": "Library/Application Support",
}


def user_dir_of(kind: str, app: str, env: Mapping[str, str], home: str) -> str:
    """Another program's user ``kind`` dir ("cache", "data" or "config") as a process
    with environment ``env`` and home ``home`` sees it: where poetry, pdm and hatch keep
    their venvs and config (``platformdirs.user_<kind>_dir(app, appauthor=False)``).

    platformdirs reads this process's environment only, and the asking shell's
    ``XDG_*`` decide (DESIGN §2), so the same rule is applied to ``env`` here: on macOS
    an ``XDG_*`` value wins as in platformdirs >= 4.4, else ``~/Library/...``.
    """
    variable, default = _XDG[kind]
    value = env.get(variable, "").strip()
    if value:
        base = home + value[1:] if value == "~" or value.startswith("~/") else value
    elif sys.platform == "darwin":
        base = os.path.join(home, _MACOS[kind])
    else:
        base = os.path.join(home, default)
    return os.path.join(base, app)


def workon_home() -> Path:
    """``$WORKON_HOME``, the named-venv store shared with virtualenvwrapper and friends."""
    value = os.environ.get("WORKON_HOME", "").strip()
    if value:
        return Path(os.path.expanduser(value))
    return Path.home() / ".virtualenvs"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if missing and check it is ours and private.

    Raises UnsafeDirectory when it is a symlink, not a directory, owned by another
    user, or readable/writable by group or others.
    """
    missing = []
    parent = path
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    if missing:
        _check_may_create_in(parent, path)
    for directory in reversed(missing):
        # 0700 each, as XDG asks (mkdir(parents=True) makes the parents 0777 & ~umask:
        # 0777 under umask 000).
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
    check_private_dir(path)
    return path


def _check_may_create_in(parent: Path, path: Path) -> None:
    """Raise UnsafeDirectory unless this user may make ``path``'s missing directories
    in ``parent``: a directory of its own, or a shared sticky one such as /tmp; and,
    for root, not below a HOME that is another user's (``sudo -E``), where root-owned
    directories (``~/.local/state``...) would be left that the user cannot use or remove."""
    uid = os.geteuid()
    try:
        st = os.stat(parent)
    except OSError as exc:
        raise UnsafeDirectory(f"{parent}: {exc.strerror}") from None
    owner, mode = st.st_uid, st.st_mode
    home, home_owner = os.path.expanduser("~"), 0
    if uid == 0 and home not in ("", "/"):
        with contextlib.suppress(OSError):  # (no HOME dir: nobody's)
            home_owner = os.stat(home).st_uid
    if home_owner != 0 and (path == Path(home) or Path(home) in path.parents):
        raise UnsafeDirectory(
            f"not creating {path}: root in the HOME of uid {home_owner} (use sudo -H or sudo -i)"
        )
    if owner != uid and not (owner == 0 and mode & stat.S_ISVTX):
        raise UnsafeDirectory(f"not creating {path}: {parent} is owned by uid {owner}, not you")


def check_private_dir(path: Path) -> None:
    """Raise UnsafeDirectory unless ``path`` is a private directory of this user."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise UnsafeDirectory(f"{path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeDirectory(f"{path} is a symlink; remove it")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory(f"{path} is not a directory; remove it")
    if st.st_uid != os.geteuid():
        raise UnsafeDirectory(f"{path} is owned by uid {st.st_uid}, not you; remove it")
    if st.st_mode & 0o077:
        raise UnsafeDirectory(f"{path} is accessible by others; run: chmod 700 {path}")
