"""shellhook: Python venvs follow you around — activated on cd, deactivated when you leave.

``xontrib load shellhook`` where shellhook is installed in the Python that runs xonsh
(xonsh also autoloads it from the ``xonsh.xontribs`` entry point). The hook is shellhook's
shipped ``shells/shellhook.xsh`` (and the workon/mkvenv/rmvenv/lsvenv commands of
``shells/commands.xsh``): the very code ``shellhook init xonsh`` prints for installs where
xonsh runs from another Python, here run with this Python as the one that answers the
hook when the daemon cannot. ``xontrib unload shellhook`` removes it again.
"""

from __future__ import annotations

import sys

# The hook registers itself under this name: loaded once per session, by whichever path
# comes first (the rc line that install.sh writes, or this xontrib).
HOOK_REGISTRY = "__shellhook_xonsh__"
NAMESPACE = "shellhook_hook"
SCRIPTS = ("shellhook.xsh", "commands.xsh")


def _code(resource):
    """The compiled code of a shipped script (bytecode cached next to it when writable)."""
    import importlib.machinery
    import os

    try:
        path = os.fspath(resource)  # a file on disk (every normal install)
    except TypeError:
        return compile(resource.read_text(encoding="utf-8"), str(resource), "exec")
    return importlib.machinery.SourceFileLoader(NAMESPACE, path).get_code(NAMESPACE)


def _loaded_completers(xsh) -> dict:
    """The completers xonsh has set up so far, without making it set them up (xonsh does
    that lazily, on first use: asking for ``xsh.completers`` costs ~20 ms)."""
    loaded = getattr(xsh, "_completers", None)
    return loaded if isinstance(loaded, dict) else {}


def _defined_in(namespace: dict, obj) -> bool:
    """True for an alias or completer whose function was defined in ``namespace``."""
    for _ in range(8):
        if obj is None:
            return False
        if getattr(obj, "__globals__", None) is namespace:
            return True
        obj = getattr(obj, "func", None) or getattr(obj, "__wrapped__", None)
    return False


def _load_xontrib_(xsh, **_kwargs) -> dict:
    """Run the hook in a namespace of its own; nothing is added to the session's."""
    if HOOK_REGISTRY in sys.modules or not xsh.env.get("XONSH_INTERACTIVE"):
        return {}
    import importlib.resources
    import types

    scripts = importlib.resources.files("shellhook.shells")
    namespace = types.ModuleType(NAMESPACE).__dict__
    from shellhook import adapters

    # What `shellhook init xonsh` writes before the script, with this Python (it has
    # shellhook): the interpreter and the tool variables' names.
    exec(adapters.get("xonsh").header(sys.executable), namespace)  # noqa: S102 - ours
    for name in SCRIPTS:
        resource = scripts.joinpath(name)
        if resource.is_file():
            exec(_code(resource), namespace)  # noqa: S102 - our own shipped file
    return {}


def _unload_xontrib_(xsh=None, **_kwargs) -> None:
    """Remove the hook's event handlers, its {env_name} field, the commands' aliases and
    completers; undo shellhook's own activation (a venv activated by hand stays)."""
    hook = sys.modules.get(HOOK_REGISTRY)  # loaded by us or by the rc line
    if hook is None:
        return
    hook.unload()
    if xsh is None:
        from xonsh.built_ins import XSH

        xsh = XSH
    for table in (xsh.aliases, _loaded_completers(xsh)):
        for name in [n for n in table if _defined_in(hook.namespace, table[n])]:
            del table[name]
