"""``shellhook rc install|uninstall [SHELL...]``: shellhook's marked block in shell start-up
files (what install.sh runs)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from shellhook import adapters, locations
from shellhook.display import path_for_terminal
from shellhook.files import write_atomic

HELP = "add or remove the hook in shell start-up files (install.sh)"
BEGIN = "# >>> shellhook >>>"
END = "# <<< shellhook <<<"


def hook_file(shell: str) -> Path:
    """Where install.sh keeps the generated hook for ``shell``."""
    return locations.data_dir() / "hooks" / adapters.get(shell).script


def _without_block(text: str) -> str:
    lines = text.splitlines(keepends=True)
    out, inside = [], False
    for line in lines:
        if line.rstrip("\n") == BEGIN:
            inside = True
        elif line.rstrip("\n") == END and inside:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def install(shell: str, python: str, home: Path) -> Path:
    """Write the hook file for ``shell`` and a marked block loading it; return the rc file.

    Idempotent: an existing block is replaced in place, nothing else is touched.
    """
    adapter = adapters.get(shell)
    hook = hook_file(shell)
    hook.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(hook, adapter.init_text(python).encode(), mode=0o644)
    rc = adapter.rc_file(home)
    rc.parent.mkdir(parents=True, exist_ok=True)
    old = rc.read_text() if rc.exists() else ""
    block = f"{BEGIN}\n{adapter.source_line(hook)}\n{END}\n"
    if BEGIN in old:
        before, _, rest = old.partition(BEGIN + "\n")
        _, _, after = rest.partition(END + "\n")
        new = before + block + after
    else:
        new = old + ("\n" if old and not old.endswith("\n") else "") + block
    if new != old:
        mode = rc.stat().st_mode & 0o777 if rc.exists() else 0o644
        write_atomic(rc, new.encode(), mode=mode)
    return rc


def uninstall(shell: str, home: Path) -> None:
    """Remove the block (and a start-up file that held nothing else) and the hook file."""
    rc = adapters.get(shell).rc_file(home)
    if rc.exists():
        old = rc.read_text()
        new = _without_block(old)
        if not new.strip():
            rc.unlink()  # it held nothing but our block (we created it)
        elif new != old:
            write_atomic(rc, new.encode(), mode=rc.stat().st_mode & 0o777)
    hook_file(shell).unlink(missing_ok=True)
    hooks = hook_file(shell).parent
    if hooks.is_dir() and not any(hooks.iterdir()):
        shutil.rmtree(hooks)


def installed_shells() -> list[str]:
    """The supported shells found on PATH."""
    return [s for s in adapters.SHELLS if shutil.which(s)]


def home() -> Path:
    """The user's home directory."""
    return Path(os.path.expanduser("~"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ACTION [SHELL...]``."""
    parser.add_argument("action", choices=("install", "uninstall"))
    parser.add_argument(
        "shell",
        nargs="*",
        choices=[[], *adapters.SHELLS],
        metavar="SHELL",
        help="default: install for every supported shell on PATH, uninstall from all",
    )


def run(args: argparse.Namespace) -> int:
    """Install or uninstall the block for each shell."""
    if args.action == "install":
        for shell in args.shell or installed_shells():
            rc = install(shell, os.path.abspath(sys.executable), home())
            print(f"shellhook: {shell}: hook loaded from {path_for_terminal(rc)}")
    else:
        for shell in args.shell or adapters.SHELLS:
            uninstall(shell, home())
            print(f"shellhook: {shell}: hook removed")
    return 0
