"""Who owns an activation and what a shell should do next (DESIGN §3-§5).

All policy lives here, once: the daemon and the one-shot client both call ``decide``;
hook scripts only apply the operations it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from shellhook import config as config_mod
from shellhook import locations, venvinfo
from shellhook import protocol as p
from shellhook.display import path_for_command, path_for_terminal, prompt_label
from shellhook.protocol import Ops, Request
from shellhook.resolver import Resolution, Resolver, Scope, is_venv_dir
from shellhook.trust import TrustStore, TrustStoreError, permissions_stamp

MAX_SCOPES = 256  # distinct (WORKON_HOME, tool variables) in use: a handful in practice


@dataclass
class Context:
    """The long-lived pieces a decision needs."""

    resolver: Resolver
    trust: TrustStore
    config: config_mod.Config | None = None
    config_error: str | None = None
    _config_stamp: tuple | None = None
    _config_path: str = field(default_factory=lambda: str(locations.config_file()))
    _scopes: dict[tuple, Scope] = field(default_factory=dict)

    def scope_for(self, req: Request) -> Scope:
        """The asking shell's scope (DESIGN §2): its own ``$WORKON_HOME`` ('' for the
        default) and tool variables, with everything else as this process sees it (home,
        temp dirs, config)."""
        base = self.resolver.scope
        key = (req.workon_home, req.tool_env)
        scope = self._scopes.get(key)
        if scope is None or scope.home_is_project != base.home_is_project:
            env = {"HOME": base.home, "WORKON_HOME": req.workon_home, **dict(req.tool_env)}
            scope = Scope.from_env(env, home_is_project=base.home_is_project, stores=base.stores)
            if len(self._scopes) >= MAX_SCOPES:
                self._scopes.clear()
            scope = self._scopes[key] = replace(scope, temp_dirs=base.temp_dirs)
        return scope

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
        scope = self.resolver.scope
        if scope.home_is_project != self.config.home_is_project:
            self.resolver.scope = replace(scope, home_is_project=self.config.home_is_project)
        return True


@dataclass(frozen=True)
class Target:
    """The resolver's answer for a directory, judged: usable or the reason it is not."""

    res: Resolution
    usable: bool
    warning: str | None  # a W line when not usable: hooks print each text once per session
    name: str = ""
    note: str | None = None  # a W line to go with an activation (a venv without pip)
    stamp: tuple | None = None  # permissions_stamp when judged: valid while unchanged


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


def still_current(target: Target) -> bool:
    """False when a target's files changed owner or mode since it was judged."""
    return target.stamp is None or permissions_stamp(target.res) == target.stamp


def _venv_label(res: Resolution) -> str:
    """The venv as an untrusted notice names it: its name when it lies in its project
    (the command names the project), else its path."""
    assert res.venv is not None and res.project is not None
    if os.path.dirname(res.venv) == os.path.realpath(res.project):
        return path_for_terminal(os.path.basename(res.venv))
    return path_for_command(res.venv)


def _pip_fix(venv: str) -> str:
    """How to add pip to ``venv``, fit for who asks: a venv of root's (a system venv, in
    /opt say) is not the user's to write, so it takes sudo and the venv's own python by
    its path (sudo resets PATH)."""
    try:
        owner = os.stat(venv).st_uid
    except OSError:
        owner = os.geteuid()
    if owner != os.geteuid():
        return f"sudo {path_for_command(os.path.join(venv, 'bin', 'python'))} -m ensurepip"
    return "python -m ensurepip, or use uv pip"


def judge(res: Resolution, ctx: Context) -> Target:
    """Combine resolution, trust and venv health into a Target.

    Every text depends on the venv and its (canonical) project only, never on the
    directory asked about: the hooks print each distinct warning once per session, so
    an untrusted venv is mentioned once however its project is entered. A denied
    project is silent.
    """
    ctx.reload_config()
    scope = res.scope or ctx.resolver.scope
    try:
        if (res.problem or res.found) and res.project and ctx.trust.is_denied(res.project):
            return Target(res, False, None)
        if res.problem:
            return Target(res, False, f"shellhook: {path_for_terminal(res.problem)}")
        if not res.found:
            return Target(res, False, None)
        assert res.venv is not None and res.project is not None and ctx.config is not None
        verdict = ctx.trust.verdict(res, ctx.config, scope.workon_home)
    except TrustStoreError as exc:
        return Target(res, False, f"shellhook: {path_for_terminal(str(exc))}")
    venv = path_for_command(res.venv)
    if verdict.denied:
        return Target(res, False, None)
    if verdict.refused:
        reason = verdict.reason.removeprefix("refused: ")
        return Target(
            res, False, f"shellhook: not activating {venv}: {reason}", stamp=permissions_stamp(res)
        )
    broken = venvinfo.path_separator_problem(res.venv)
    if broken:
        return Target(res, False, f"shellhook: not activating {venv}: {broken}")
    broken = venvinfo.broken_reason(res.venv)
    if broken:
        return Target(
            res,
            False,
            f"shellhook: not activating {venv}: {broken}; "
            f"recreate it with: python3 -m venv --clear {venv}",
        )
    if not verdict.trusted:
        allow = "shellhook allow " + path_for_command(os.path.realpath(res.project))
        label = _venv_label(res)  # "is not allowed", ": changed since allowed"
        said = f" is {verdict.reason}" if verdict.reason == "not allowed" else f": {verdict.reason}"
        return Target(res, False, f"shellhook: {label}{said}; to use it: {allow}")
    note = None
    if not venvinfo.has_pip(res.venv):
        note = (
            f"shellhook: {venv} has no pip (a bare pip runs the system's); "
            f"add it: {_pip_fix(res.venv)}"
        )
    # A chmod of an unwatched path (site-packages, the project) must end it too.
    stamp = permissions_stamp(res)
    return Target(res, True, None, venvinfo.display_name(res.venv), note=note, stamp=stamp)


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
        if target.note:
            ops.append((p.OP_WARN, target.note))
    elif target.warning and not suppressed:
        ops.append((p.OP_WARN, target.warning))
    return ops
