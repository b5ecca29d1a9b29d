"""The tool projects shellhook has seen: where lsvenv finds venvs that poetry, pipenv,
pdm, hatch or uv keep outside the project (their stores name no project).

A small JSON map in the state dir, project path -> when first seen, written by whoever
answered a shell (the daemon, or the one-off Python) the first time a tool's venv is
found for that project. Losing it loses nothing but lsvenv rows: a corrupt, oversized or
unwritable file reads as empty, and a failed save is reported once by the caller.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from shellhook import locations
from shellhook.files import parse_json, read_small_file, sole_writer, write_atomic
from shellhook.resolver import Resolution

MAX_PROJECTS = 512  # the oldest are dropped beyond this
MAX_FILE = 256 * 1024


class KnownProjects:
    """The known tool projects, loaded once and saved when one is added."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or locations.known_projects_file()
        self._seen: dict[str, float] | None = None
        self.failed = False  # a save failed (reported once)

    def projects(self) -> dict[str, float]:
        """Project path -> when it was first seen (epoch seconds), oldest first."""
        if self._seen is None:
            self._seen = self._load()
        return self._seen

    def _load(self) -> dict[str, float]:
        try:
            data = parse_json(read_small_file(self.path, MAX_FILE, owner=os.getuid()))
            found = data["projects"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        if not isinstance(found, dict):
            return {}
        seen = [(p, t) for p, t in found.items() if isinstance(t, (int, float))]
        return dict(sorted(seen, key=lambda item: item[1]))

    def remember(self, project: str) -> bool:
        """Add ``project``; True when it was new (and saved). Raises OSError when the
        file cannot be written (the project stays known to this process)."""
        if project in self.projects():
            return False
        try:
            locations.ensure_private_dir(self.path.parent)
        except locations.UnsafeDirectory as exc:
            raise OSError(str(exc)) from None
        # The daemon and a one-off Python may both add one: read again under the lock,
        # so that neither drops what the other added.
        with sole_writer(self.path.parent):
            seen = self._seen = {**self._load(), **self.projects()}
            seen[project] = time.time()
            while len(seen) > MAX_PROJECTS:
                del seen[next(iter(seen))]
            data = json.dumps({"projects": seen}, indent=0).encode()
            write_atomic(self.path, data, durable=False)
        return True


def remember_tool_project(known: KnownProjects, res: Resolution) -> None:
    """Record ``res``'s project when a venv tool's rule found its venv; a failed save is
    logged once (lsvenv then misses it, nothing else does)."""
    if not (res.tool and res.found and res.project):
        return
    try:
        known.remember(res.project)
    except OSError as exc:
        if not known.failed:
            known.failed = True
            import logging  # (only here: the one-off Python does without it)

            logging.getLogger("shellhook").warning(
                "cannot record the project %s for lsvenv: %s", res.project, exc
            )
