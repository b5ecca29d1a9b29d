# shellhook venv commands for xonsh: workon, mkvenv, rmvenv, lsvenv.
# Appended to the hook by `shellhook init xonsh`. The work is done in Python
# (`shellhook workon|mkvenv|rmvenv|lsvenv`); __shellhook_command(args), defined by the
# hook, runs it and applies the changes it asks for (activate, deactivate, cd).


def __shellhook_define_commands():
    import os

    try:
        from xonsh.tools import uncapturable, unthreadable
    except ImportError:  # older xonsh: aliases run in the foreground anyway
        def unthreadable(f):
            return f

        uncapturable = unthreadable
    run = globals().get("__shellhook_command")
    if run is None:  # the hook did not load (not interactive): no commands either
        return

    def command(name):
        # Foreground, not captured: the command talks to the terminal (progress, y/N).
        @uncapturable
        @unthreadable
        def alias(args):
            return run([name, *args])

        alias.__name__ = "shellhook_" + name
        alias.__doc__ = "shellhook " + name + ": see `shellhook " + name + " --help`."
        return alias

    def complete_venvs(command, alias=None):
        """Names of the venvs in $WORKON_HOME (xonsh calls this lazily, on TAB)."""
        if command.arg_index < 1 or command.prefix.startswith("-"):
            return None
        return {n for n in venv_names() if n.startswith(command.prefix)}

    for name in ("workon", "mkvenv", "rmvenv", "lsvenv"):
        alias = command(name)
        if name in ("workon", "rmvenv"):
            alias.xonsh_complete = complete_venvs
        aliases[name] = alias

    def venv_names():
        home = (__xonsh__.env.get("WORKON_HOME") or "").rstrip("/") or os.path.join(
            os.path.expanduser("~"), ".virtualenvs")
        try:
            entries = list(os.scandir(home))
        except OSError:
            return []
        return sorted(e.name for e in entries if not e.name.startswith(".")
                      and os.path.isfile(os.path.join(e.path, "pyvenv.cfg")))


__shellhook_define_commands()
del __shellhook_define_commands
