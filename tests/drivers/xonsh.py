"""The xonsh driver: ``xonsh --no-rc`` with readline, the hook loaded by the rc line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from shellhook.adapters.xonsh import python_literal
from tests.drivers.base import PROMPT, ShellDriver


def xonsh_command(path: str) -> list[str]:
    """How to start the xonsh found on ``path`` so that its own Python ignores PYTHON*
    variables: the shell then keeps a user's PYTHONHOME (which would stop that Python from
    starting at all) as an ordinary variable, as bash and zsh do."""
    exe = shutil.which("xonsh", path=path)
    if exe:
        with open(exe, "rb") as f:
            first = f.readline(512)
        words = first[2:].split() if first.startswith(b"#!") else []
        if len(words) == 1 and b"python" in os.path.basename(words[0]):
            return [os.fsdecode(words[0]), "-E", "-m", "xonsh"]
    return ["xonsh"]


class XonshDriver(ShellDriver):
    """xonsh --no-rc (no rc files, no autoloaded xontribs), readline, hook loaded by hand
    with the line install.sh puts in ~/.config/xonsh/rc.d/shellhook.xsh."""

    name = "xonsh"
    executable = "xonsh"

    def __init__(
        self,
        sandbox: Path,
        env: dict[str, str],
        hook_file: Path,
        *,
        argv: list[str] | None = None,
        load: str | None = None,
    ) -> None:
        # Before each prompt xonsh's readline shell asks the terminal where the cursor is
        # (DSR) and reads stdin up to an "R" for up to 0.5 s, swallowing lines typed ahead.
        # It skips that query in SSH sessions; a pty driven by pexpect never answers it.
        env = {**env, "SSH_TTY": "/dev/pts/shellhook-tests"}
        super().__init__(sandbox, env, hook_file, argv=argv, load=load)

    def argv(self) -> list[str]:
        # readline even where prompt_toolkit is installed: a plain line editor for pexpect.
        return [*xonsh_command(self.env["PATH"]), "--no-rc", "-i", "--shell-type", "readline"]

    def setup_lines(self) -> list[str]:
        return [
            "__import__('readline').parse_and_bind('set enable-bracketed-paste off')",
            "$XONSH_SHOW_TRACEBACK = True; $COLOR_RESULTS = False",
            "$TITLE = ''; $PROMPT = '{env_name}" + PROMPT + " '",
            # OSC 7 (cwd report) after every cd would end up in commands' output
            "events.on_chdir.discard(__import__('xonsh.prompt.env').prompt.env.emit_osc7)",
            self.load_hook_command(),
        ]

    status_expr = "$LAST_RETURN_CODE"
    strict_options = (
        "$XONSH_SUBPROC_CMD_RAISE_ERROR = True; $XONSH_SUBPROC_RAISE_ERROR = True; "
        "$AUTO_PUSHD = True; $UPDATE_OS_ENVIRON = True; $EXPAND_ENV_VARS = True; "
        "$XONSH_BUILTINS_TO_CMD = True; $CDPATH = ['/']; "
        "$XONSH_ENCODING_ERRORS = 'strict'; "
        "__import__('signal').signal(2, lambda *a: print('user-trap'))"
    )

    def hook_load_line(self) -> str:
        return self.adapter.source_line(self.hook_file)

    def dump_command(self, var: str, path: str) -> str:
        # What child processes get: xonsh's exported (detyped) environment.
        v, p = python_literal(var), python_literal(path)
        return (
            f"if {v} in __xonsh__.env.detype(): __import__('pathlib').Path({p})"
            f".write_bytes(__import__('os').fsencode(__xonsh__.env.detype()[{v}]))"
        )

    def path_edit(self, prepend: str, append: str) -> str:
        return f"$PATH.insert(0, {python_literal(prepend)}); $PATH.append({python_literal(append)})"

    def set_env(self, var: str, value: str) -> str:
        return f"${var} = {python_literal(value)}"

    # xonsh's cd is an alias: a user's own replaces it (runnable in the hook file's module
    # namespace too, where only the builtins xonsh installs are defined).
    user_cd_function = (
        "__xonsh__.aliases['cd'] = lambda args: (__import__('xonsh.dirstack').dirstack"
        ".cd(args), print('user-cd-ran'))[0]"
    )
    venv_theme = (
        "__xonsh__.env['PROMPT'] = lambda: ('[' + __import__('os').path.basename("
        "__xonsh__.env['VIRTUAL_ENV']) + '] ' if __xonsh__.env.get('VIRTUAL_ENV') else '')"
        " + 'SHPROMPT> '"
    )

    def has_function(self, name: str) -> bool:
        out = self.run(f"print('HAS-FUNCTION' if {python_literal(name)} in aliases else '')")
        return b"HAS-FUNCTION" in out

    def source_activate(self, venv: str) -> str:
        # What xonsh users type: vox (the xontrib-vox package, in the test extras); stdlib
        # venvs ship no activate.xsh (tests/test_xonsh.py tries virtualenv's too).
        return f"xontrib load vox; vox activate {self.quote(venv)}"


DRIVER = XonshDriver
