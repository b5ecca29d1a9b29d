"""The venv tools shellhook knows (DESIGN §2 rules 2 and 4): one module per tool.

``TOOLS`` is the one list, in the order their answers are asked at a level. Each
module's ``find(level)`` says whether D is its project and which venv it uses there.
conda, mamba and pixi projects are recognized (``FOREIGN``) but never activated: their
activation runs scripts from the environment.
"""

from __future__ import annotations

from shellhook.tools import hatch, pdm, pipenv, poetry, uv
from shellhook.tools.base import DEP_DIR, DEP_FILE, Finding, ToolLevel

TOOLS = (uv, poetry, pdm, pipenv, hatch)

# Files at a level whose appearance or content can change a tool's answer there.
PROJECT_FILES = (
    "pyproject.toml",
    "poetry.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "pdm.lock",
    "pdm.toml",
    ".pdm-python",
    "hatch.toml",
)

# A project of a tool whose environments shellhook does not activate: file -> what.
FOREIGN = {
    "environment.yml": "a conda project (environment.yml): activate it with conda activate",
    "environment.yaml": "a conda project (environment.yaml): activate it with conda activate",
    "pixi.toml": "a pixi project (pixi.toml): activate it with pixi shell",
    "conda-meta": "a conda environment: activate it with conda activate",
}


def stores(level: ToolLevel) -> list[tuple[str, str]]:
    """Every tool's venv store as the shell of ``level`` sees it, with what it is: never
    a project (DESIGN §2)."""
    return [(path, f"{tool.TOOL}'s venv store") for tool in TOOLS for path in tool.stores(level)]


def pointer_home(level: ToolLevel) -> str | None:
    """Where a bare name in D's ``.venv`` pointer file lives when a tool says otherwise
    than ``$WORKON_HOME``: pipenv's store, in a pipenv project."""
    return pipenv.store(level) if level.exists("Pipfile") else None


def findings(level: ToolLevel) -> list[Finding]:
    """Every known tool's answer for D, in ``TOOLS`` order (only the tools whose project
    D is)."""
    found = []
    for tool in TOOLS:
        finding = tool.find(level)
        if finding is not None:
            found.append(finding)
    return found


__all__ = [
    "DEP_DIR",
    "DEP_FILE",
    "FOREIGN",
    "PROJECT_FILES",
    "TOOLS",
    "Finding",
    "ToolLevel",
    "findings",
    "pointer_home",
    "stores",
]
