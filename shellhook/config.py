"""The user's configuration file (TOML in the platformdirs config dir).

Only the user's own file is read: a project can never change these settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shellhook import locations
from shellhook.errors import ShellhookError
from shellhook.files import parse_toml, read_small_file

TRUST_MODES = ("explicit", "owned")


class ConfigError(ShellhookError):
    """The configuration file exists but cannot be used."""


@dataclass(frozen=True)
class Config:
    """Settings from config.toml, with their defaults."""

    trust: str = "explicit"  # or "owned": trust venvs you own that nobody else can write
    quiet: bool = False  # silence "activated"/"deactivated" lines (never warnings)
    home_is_project: bool = False  # $HOME may be a project (a ~/.venv for everything below)


MAX_CONFIG = 64 * 1024  # bytes: a few lines are expected


def load() -> Config:
    """Read config.toml; a missing file means defaults. Raises ConfigError when invalid,
    too large, not a regular file or not the user's own (root with a user's HOME)."""
    path = locations.config_file()
    try:
        # A symlink is followed (dotfiles repositories).
        raw = read_small_file(path, MAX_CONFIG, owner=os.geteuid(), follow=True)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = parse_toml(raw)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    trust = data.get("trust", "explicit")
    if trust not in TRUST_MODES:
        raise ConfigError(f"{path}: trust must be one of {', '.join(TRUST_MODES)}")
    flags = {}
    for name in ("quiet", "home_is_project"):
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {name} must be true or false")
        flags[name] = value
    return Config(trust=trust, **flags)
