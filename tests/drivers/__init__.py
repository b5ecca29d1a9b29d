"""Drive real interactive shells in a pseudo-terminal, for the end-to-end tests.

One driver per shell behind one interface (``base.ShellDriver``), one module per shell
named as its adapter (``tests/drivers/<name>.py``, which sets ``DRIVER``). ``DRIVERS`` is
built from the adapter registry, so a shell added to ``shellhook.adapters`` without a
driver stops the test run here, saying what is missing.
"""

from __future__ import annotations

import importlib

from shellhook import adapters
from tests.drivers.base import PROMPT, PROMPT_RE, ShellDriver

__all__ = ["DRIVERS", "PROMPT", "PROMPT_RE", "ShellDriver"]


def _load(name: str) -> type[ShellDriver]:
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise ImportError(
            f"shell {name!r} is in shellhook.adapters.SHELLS but has no test driver: "
            f"add tests/drivers/{name}.py (a ShellDriver subclass as DRIVER)"
        ) from None
    driver: type[ShellDriver] = module.DRIVER
    if driver.name != name:
        raise ImportError(f"tests/drivers/{name}.py drives {driver.name!r}, not {name!r}")
    return driver


DRIVERS: dict[str, type[ShellDriver]] = {name: _load(name) for name in adapters.SHELLS}
