"""The zsh driver: ``zsh -f`` without ZLE, the hook sourced by hand."""

from __future__ import annotations

from tests.drivers.base import PROMPT, PosixDriver


class ZshDriver(PosixDriver):
    """zsh -f (no rc files), hook sourced by hand."""

    name = "zsh"
    executable = "zsh"

    def argv(self) -> list[str]:
        return ["zsh", "-f", "-i"]

    def setup_lines(self) -> list[str]:
        # Without ZLE zsh does not redraw typed lines into the output (completion tests
        # that need ZLE turn it back on with `setopt zle`).
        return [
            "unsetopt zle",
            "stty -echo",
            "ttyctl -f",
            f"PS1='{PROMPT} '",
            "PROMPT_EOL_MARK=''",
            self.load_hook_command(),
        ]

    def complete_and_run(self, text: str) -> None:
        """Completion needs ZLE, which this driver otherwise keeps off."""
        self.child.sendline("setopt zle")
        self.sync()
        super().complete_and_run(text)
        self.run("unsetopt zle")

    # zsh expands parameters in a prompt only with PROMPT_SUBST (themes set it).
    venv_theme = "setopt prompt_subst; " + PosixDriver.venv_theme

    strict_options = (
        "setopt nounset ksh_arrays sh_word_split no_clobber err_return "
        "no_unset warn_create_global; trap 'echo user-trap' INT"
    )


DRIVER = ZshDriver
