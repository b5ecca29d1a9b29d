"""The bash driver: ``bash --norc``, the hook sourced by hand."""

from __future__ import annotations

from tests.drivers.base import PROMPT, PosixDriver


class BashDriver(PosixDriver):
    """bash --norc, hook sourced by hand."""

    name = "bash"
    executable = "bash"

    def argv(self) -> list[str]:
        return ["bash", "--norc", "--noprofile", "-i"]

    strict_options = (
        "set -u -o pipefail -C; shopt -s failglob nullglob extglob; trap 'echo user-trap' INT"
    )

    def setup_lines(self) -> list[str]:
        return [
            "bind 'set enable-bracketed-paste off' 2>/dev/null",
            f"PS1='{PROMPT} '",
            self.load_hook_command(),
        ]


DRIVER = BashDriver
