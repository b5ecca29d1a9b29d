"""The user's configuration file (TOML in the platformdirs config dir).

Only the user's own file is read: a project can never change these settings.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from shellhook import locations
from shellhook.errors import ShellhookError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

TRUST_MODES = ("explicit", "owned")


class ConfigError(ShellhookError):
    """The configuration file exists but cannot be used."""


@dataclass(frozen=True)
class Config:
    """Settings from config.toml, with their defaults."""

    trust: str = "explicit"  # or "owned": trust venvs you own that nobody else can write
    quiet: bool = False  # silence "activated"/"deactivated" lines (never warnings)
    home_is_project: bool = False  # $HOME may be a project (a ~/.venv for everything below)


def load() -> Config:
    """Read config.toml; a missing file means defaults. Raises ConfigError when invalid."""
    path = locations.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
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
