"""The CLI's commands: one module each, named here in the order ``--help`` lists them.

Each module has ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``;
``shellhook.cli`` builds the parser from this list and turns a ``ShellhookError`` into one
line and an exit status. Run through the hook's shell functions, the venv commands change
the calling shell by leaving a reply frame (``shellops``); run from a script they only do
the file-system part and say what a shell would do (docs/venv-commands.md).
"""

NAMES = (
    "init",
    "allow",
    "deny",
    "forget",
    "which",
    "run",
    "status",
    "daemon",
    "rc",
    "workon",
    "mkvenv",
    "rmvenv",
    "lsvenv",
)
