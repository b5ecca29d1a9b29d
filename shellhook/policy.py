"""Who owns an activation and what a shell should do next (DESIGN §3-§5).

All policy lives here, once: the daemon and the one-shot client both call ``decide``;
hook scripts only apply the operations it returns.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

from shellhook import config as config_mod
from shellhook import locations, venvinfo
from shellhook import protocol as p
from shellhook.display import path_for_terminal, prompt_label
from shellhook.protocol import Ops, Request
from shellhook.resolver import Resolution, Resolver, is_venv_dir
from shellhook.trust import TrustStore, TrustStoreError


@dataclass
class Context:
    """The long-lived pieces a decision needs."""

    resolver: Resolver
    trust: TrustStore
    config: config_mod.Config | None = None
    config_error: str | None = None
    _config_stamp: tuple | None = None
    _config_path: str = field(default_factory=lambda: str(locations.config_file()))

    def reload_config(self) -> bool:
        """Re-read the user's config file if it changed since the last read (True then)."""
        try:
            st = os.stat(self._config_path)
            stamp: tuple | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if self.config is not None and stamp == self._config_stamp:
            return False
        self._config_stamp = stamp
        try:
            self.config, self.config_error = config_mod.load(), None
        except config_mod.ConfigError as exc:
            self.config, self.config_error = config_mod.Config(), str(exc)
        return True


@dataclass(frozen=True)
class Target:
    """The resolver's answer for a directory, judged: usable or the reason it is not."""

    res: Resolution
    usable: bool
    warning: str | None  # said once per session and project when not usable
    name: str = ""


def within(path: str, project: str) -> bool:
    """True when ``path`` is ``project`` or below it."""
    return path == project or path.startswith(project.rstrip("/") + "/")


def activation_ops(op: str, venv: str, project: str, name: str) -> Ops:
    """The operations that make a shell activate ``venv``: ``op`` is ``A`` (automatic),
    ``V`` (manual, as by ``workon``) or ``O`` (adopt an inherited activation). ``project``
    may be '' (a named venv linked to no directory)."""
    return [
        (p.OP_PROJECT, project),
        (p.OP_LABEL, prompt_label(name)),
        (p.OP_NAME, name),
        (op, venv),
    ]


def judge(res: Resolution, ctx: Context) -> Target:
    """Combine resolution, trust and venv health into a Target."""
    ctx.reload_config()
    if res.problem:
        return Target(res, False, f"shellhook: {path_for_terminal(res.problem)}")
    if not res.found:
        return Target(res, False, None)
    assert res.venv is not None and res.project is not None and ctx.config is not None
    shown = path_for_terminal(res.venv)
    try:
        verdict = ctx.trust.verdict(res, ctx.config, ctx.resolver.workon_home)
    except TrustStoreError as exc:
        return Target(res, False, f"shellhook: {path_for_terminal(str(exc))}")
    if not verdict.trusted:
        if verdict.refused:
            return Target(res, False, f"shellhook: not activating {shown}: {verdict.reason}")
        allow = "shellhook allow " + shlex.quote(res.project)
        return Target(
            res,
            False,
            f"shellhook: {shown} is {verdict.reason}; "
            f"to activate it, run: {path_for_terminal(allow)}",
        )
    broken = venvinfo.broken_reason(res.venv)
    if broken:
        fix = "python3 -m venv --clear " + shlex.quote(res.venv)
        return Target(
            res,
            False,
            f"shellhook: not activating {shown}: {broken}; "
            f"recreate it with: {path_for_terminal(fix)}",
        )
    return Target(res, True, None, venvinfo.display_name(res.venv))


def decide(req: Request, target: Target, ctx: Context) -> Ops:
    """The operations that bring the shell in line with DESIGN §4 for ``req``.

    Warnings are sent every time they apply; hook scripts print each distinct warning
    once per session (they know what they printed, also across daemon restarts).
    """
    ops: Ops = []
    quiet = ctx.config is not None and ctx.config.quiet
    venv, marker = req.virtual_env, req.marker

    def info(text: str) -> None:
        if not quiet:
            ops.append((p.OP_INFO, text))

    if ctx.config_error:
        ops.append((p.OP_WARN, f"shellhook: {path_for_terminal(ctx.config_error)}"))
    suppressed = req.suppressed
    if suppressed and not within(req.pwd, suppressed):
        ops.append((p.OP_SUPPRESS, ""))  # left the project: off ends, whatever is active
        suppressed = ""
    if venv and venv != marker:
        # A manual (or foreign, inherited) activation: never replaced by a cd.
        if marker:
            ops.append((p.OP_FORGET, ""))
        if not req.owned and is_venv_dir(venv):
            # Inherited without its deactivate (a child shell, exec): adopt it as manual,
            # with the prompt prefix and a deactivate of ours.
            ops += activation_ops(p.OP_MANUAL, venv, "", venvinfo.display_name(venv))
        return ops
    if marker and not venv:
        ops.append((p.OP_FORGET, ""))  # VIRTUAL_ENV was unset by hand
        marker = ""

    res = target.res
    wanted = res.venv if target.usable and not suppressed else None
    if marker:
        if wanted == marker:
            if not req.owned:
                ops += activation_ops(p.OP_ADOPT, marker, res.project or "", target.name)
            return ops
        ops.append((p.OP_DEACTIVATE, ""))
        if req.owned and wanted is None:
            info(f"shellhook: deactivated {path_for_terminal(venvinfo.display_name(marker))}")
    if wanted is not None:
        assert res.project is not None
        ops += activation_ops(p.OP_ACTIVATE, wanted, res.project, target.name)
        info(
            f"shellhook: activated {path_for_terminal(target.name)} "
            f"({path_for_terminal(res.detail)})"
        )
    elif target.warning and not suppressed:
        ops.append((p.OP_WARN, target.warning))
    return ops
