"""The ``shellhook`` command line."""

from __future__ import annotations

import argparse
import os
import sys

from shellhook import __version__, adapters, daemonctl, locations, oneshot, venvcli
from shellhook.display import for_terminal, path_for_terminal
from shellhook.policy import Context, judge
from shellhook.resolver import Resolver
from shellhook.trust import TrustStore, TrustStoreError


class UserError(Exception):
    """A problem to report as one line and exit status 1."""


def _directory(arg: str | None) -> str:
    """The directory a command is about: ARG, or the logical current directory."""
    if arg is None:
        pwd = os.environ.get("PWD", "")
        try:
            if pwd and os.path.samefile(pwd, "."):
                return pwd
        except OSError:
            pass
        return os.getcwd()
    path = os.path.abspath(os.path.expanduser(arg))
    if not os.path.isdir(path):
        raise UserError(f"not a directory: {path_for_terminal(path)}")
    return path


def cmd_init(args: argparse.Namespace) -> int:
    """Print the hook for a shell."""
    adapter = adapters.get(args.shell)
    # Not realpath: a venv's python is a symlink to a base interpreter without shellhook.
    sys.stdout.write(adapter.init_text(os.path.abspath(sys.executable)))
    return 0


def cmd_which(args: argparse.Namespace) -> int:
    """Print the venv for DIR and the rule that chose it."""
    directory = _directory(args.dir)
    ctx = Context(Resolver(), TrustStore())
    res = ctx.resolver.resolve(directory)
    if res.problem:
        raise UserError(res.problem)
    if not res.found:
        print(f"shellhook: no venv for {path_for_terminal(directory)}", file=sys.stderr)
        return 1
    target = judge(res, ctx)
    print(for_terminal(res.venv or ""))
    print(f"  rule: {for_terminal(res.detail)} in {path_for_terminal(res.project or '')}")
    state = "activates automatically" if target.usable else (target.warning or "")
    print(f"  {for_terminal(state.removeprefix('shellhook: '))}")
    return 0


def _resolve_for_trust(directory: str):
    res = Resolver().resolve(directory)
    if res.problem:
        raise UserError(res.problem)
    return res


def cmd_allow(args: argparse.Namespace) -> int:
    """Trust the venv of DIR's project."""
    directory = _directory(args.dir)
    res = _resolve_for_trust(directory)
    if not res.found:
        raise UserError(f"no venv for {path_for_terminal(directory)}; nothing to allow")
    assert res.venv and res.project
    TrustStore().allow(res.project, res.venv, res.pointer)
    print(f"shellhook: allowed {path_for_terminal(res.venv)} for {path_for_terminal(res.project)}")
    oneshot.nudge()
    return 0


def cmd_deny(args: argparse.Namespace) -> int:
    """Never activate DIR's project venv automatically (until allowed again)."""
    directory = _directory(args.dir)
    res = _resolve_for_trust(directory)
    project = res.project if res.project else directory
    TrustStore().deny(project)
    print(f"shellhook: denied {path_for_terminal(project)}")
    oneshot.nudge()
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    """Show the daemon, the active venv and what the current directory resolves to."""
    st = daemonctl.status()
    pid = f" (pid {st.pid})" if st.pid else ""
    print(f"daemon:      {st.state}{pid}, {path_for_terminal(st.rundir)}")
    venv = os.environ.get("VIRTUAL_ENV", "")
    owner = "auto (shellhook)" if venv and venv == os.environ.get("SHELLHOOK_VENV") else "manual"
    print(f"active:      {path_for_terminal(venv) + ' [' + owner + ']' if venv else 'none'}")
    directory = _directory(None)
    ctx = Context(Resolver(), TrustStore())
    ctx.reload_config()
    res = ctx.resolver.resolve(directory)
    if res.found:
        target = judge(res, ctx)
        verdict = "trusted" if target.usable else (target.warning or "").removeprefix("shellhook: ")
        print(
            f"here:        {path_for_terminal(res.venv or '')} ({for_terminal(res.detail)}); "
            f"{for_terminal(verdict)}"
        )
    else:
        print(f"here:        {for_terminal(res.problem) if res.problem else 'no venv'}")
    print(f"WORKON_HOME: {path_for_terminal(ctx.resolver.workon_home)}")
    print(f"config:      {path_for_terminal(locations.config_file())}")
    print(f"trust store: {path_for_terminal(locations.trust_dir())}")
    if ctx.config_error:
        print(f"warning:     {for_terminal(ctx.config_error)}")
    return 0


def cmd_daemon(args: argparse.Namespace) -> int:
    """Control the per-user daemon."""
    if args.action == "run":
        from shellhook.daemon import serve

        return serve()
    if args.action in ("stop", "restart"):
        stopped = daemonctl.stop()
        if args.action == "stop":
            print("shellhook: daemon stopped" if stopped else "shellhook: daemon was not running")
            return 0
    if args.action in ("start", "restart"):
        st = daemonctl.ensure(wait=3.0)
        if st.state != "running":
            raise UserError(f"daemon did not start; see {path_for_terminal(locations.log_dir())}")
        print(f"shellhook: daemon running (pid {st.pid})")
        return 0
    st = daemonctl.status()
    print(f"{st.state}" + (f" (pid {st.pid})" if st.pid else ""))
    return 0 if st.state == "running" else 3


def cmd_rc(args: argparse.Namespace) -> int:
    """Add or remove the start-up-file blocks (what install.sh runs)."""
    from shellhook import rcfiles

    shells = args.shell or rcfiles.installed_shells()
    for shell in shells:
        if args.action == "install":
            rc = rcfiles.install(shell, os.path.abspath(sys.executable), rcfiles.home())
            print(f"shellhook: {shell}: hook loaded from {path_for_terminal(rc)}")
        else:
            rcfiles.uninstall(shell, rcfiles.home())
            print(f"shellhook: {shell}: hook removed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="shellhook",
        description="Activate the right Python venv as you cd, in bash, zsh, fish and xonsh.",
    )
    parser.add_argument("--version", action="version", version=f"shellhook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("init", help="print the hook for a shell (eval it in your rc file)")
    p.add_argument("shell", choices=adapters.SHELLS)
    p.set_defaults(func=cmd_init)

    for name, func, text in (
        ("allow", cmd_allow, "trust the venv of DIR's project (default: here)"),
        ("deny", cmd_deny, "never auto-activate DIR's project venv (default: here)"),
        ("which", cmd_which, "print the venv for DIR and the rule that chose it"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("dir", nargs="?", metavar="DIR")
        p.set_defaults(func=func)

    p = sub.add_parser("status", help="show the daemon, the active venv and this directory")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("daemon", help="start, stop, restart or query the per-user daemon")
    p.add_argument("action", choices=("start", "stop", "restart", "status", "run"))
    p.set_defaults(func=cmd_daemon)
    p = sub.add_parser("rc", help="add or remove the hook in shell start-up files (install.sh)")
    p.add_argument("action", choices=("install", "uninstall"))
    p.add_argument(
        "shell",
        nargs="*",
        choices=[[], *adapters.SHELLS],
        metavar="SHELL",
        help="default: every supported shell found on PATH",
    )
    p.set_defaults(func=cmd_rc)
    venvcli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a subcommand, turning every failure into one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"shellhook: {for_terminal(str(exc))}", file=sys.stderr)
        return 1
    except (TrustStoreError, locations.UnsafeDirectory) as exc:
        print(f"shellhook: {for_terminal(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"shellhook: {for_terminal(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
