"""The one root of every expected failure.

Domain code raises a subclass of ``ShellhookError``; the CLI catches it once, in
``shellhook.cli.main``, and prints it as one line with ``code`` as the exit status.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class ShellhookError(Exception):
    """A failure to report as one line (``str()`` is safe to print) and a non-zero exit."""

    code = 1

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(ShellhookError):
    """The command line asked for something that cannot be (exit status 2)."""

    code = 2
