"""How the benchmark starts each shell, loads a hook into it and times it from inside.

Every shell is started with a start-up file of its own (so start-up time includes loading
the hook, as in real use) that sets the fixed prompt ``SHPROMPT> `` and loads one of:

* nothing (``none``): the baseline;
* shellhook (``shellhook``): the file ``shellhook init SHELL`` printed, sourced;
* direnv (``direnv``): ``direnv hook SHELL``, evaluated the way direnv documents.

In-shell timing runs the very hooks the shell runs before a prompt (``PROMPT_COMMAND`` in
bash, ``precmd_functions`` in zsh, the ``fish_prompt`` event and function in fish, the
prompt events in xonsh) in a loop, with ``cd`` in between for the cd phases, and reads
the shell's own clock. Each phase prints one result line that :meth:`ShellSpec.parse_inshell` reads.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from shellhook import adapters

PROMPT = "SHPROMPT> "
VARIANTS = ("none", "shellhook", "direnv")
PHASES = ("prompt", "inout", "between")

# The projects the benchmark moves between, relative to $HOME (see run.py).
PROJECT_A = "proj_a"
PROJECT_B = "proj_b"


class ShellSpec:
    """What the benchmark needs to know about one shell."""

    name = ""  # the adapter's name (shellhook.adapters.SHELLS)
    # DESIGN.md section 8, as cost added over the same shell without a hook.
    prompt_budget_us = 20.0  # per unchanged prompt
    cd_budget_us = 300.0  # per cd
    has_direnv_hook = True  # direnv ships a hook for this shell

    def __init__(self, executable: str) -> None:
        self.executable = executable

    @property
    def ext(self) -> str:
        """File name extension the shell's ``source`` expects: its adapter's."""
        return adapters.get(self.name).extension

    # -- start-up -------------------------------------------------------------------
    def rc_path(self, rcdir: Path) -> Path:
        """Where this shell's start-up file goes in ``rcdir``."""
        return rcdir / f"rc.{self.ext}"

    def argv(self, rcdir: Path) -> list[str]:
        """An interactive shell that reads only our start-up file."""
        raise NotImplementedError

    def env(self, base: dict[str, str], rcdir: Path) -> dict[str, str]:
        """The environment for a shell using ``rcdir`` (most shells: ``base`` as is)."""
        return dict(base)

    def rc_text(self, variant: str, hook_line: str) -> str:
        """The start-up file: fixed prompt, then the hook of ``variant``.

        ``hook_line`` is the line install.sh would add to load shellhook's hook file.
        """
        raise NotImplementedError

    def quote(self, value: str) -> str:
        """``value`` as a literal word."""
        return shlex.quote(value)

    def eval_line(self) -> str:
        """The README's one-line recipe, which runs ``shellhook init`` at each start."""
        return f'eval "$(shellhook init {self.name})"'

    # -- commands typed at the prompt -----------------------------------------------
    def echo_joined(self, first: str, second: str) -> str:
        """A command printing ``first + second`` (so the typed line differs from the output)."""
        return f"printf '%s%s\\n' {first} {second}"

    def cd(self, path: str) -> str:
        """Change directory (as typed)."""
        return f"cd {path}"

    def show_venv(self) -> str:
        """A command printing ``VENV<$VIRTUAL_ENV>`` (the typed line does not match)."""
        return "printf '%s%s<%s>\\n' VE NV \"${VIRTUAL_ENV-}\""

    # -- in-shell timing --------------------------------------------------------------
    def inshell_script(self) -> str:
        """Source text defining the in-shell timing function."""
        raise NotImplementedError

    def source(self, path: Path) -> str:
        """The command loading the file ``path``."""
        return f"source {self.quote(str(path))}"

    def inshell_call(self, phase: str, n: int, home: str) -> str:
        """Run ``phase`` ``n`` times (one result line)."""
        return f"__bench_run {phase} {n} {self.quote(home)}"

    def parse_inshell(self, output: str) -> dict[str, tuple[float, int]]:
        """``{phase: (total µs, count)}`` from the result lines in ``output``."""
        found: dict[str, tuple[float, int]] = {}
        for m in re.finditer(r"BENCHRES (\w+) (\d+) (us|ns) (\d+)", output):
            total = int(m.group(2)) / (1000.0 if m.group(3) == "ns" else 1.0)
            found[m.group(1)] = (total, int(m.group(4)))
        return found

    def version(self) -> str:
        """The shell's version line."""
        try:
            out = subprocess.run(
                [self.executable, "--version"], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return "?"
        return out.strip().splitlines()[0] if out.strip() else "?"


class Bash(ShellSpec):
    """bash: ``--rcfile`` (no /etc/bash.bashrc, no ~/.bashrc), readline on."""

    name = "bash"

    def argv(self, rcdir: Path) -> list[str]:
        return [self.executable, "--noprofile", "--rcfile", str(self.rc_path(rcdir)), "-i"]

    def rc_text(self, variant: str, hook_line: str) -> str:
        lines = [f"PS1='{PROMPT}'", "bind 'set enable-bracketed-paste off' 2>/dev/null"]
        if variant == "shellhook":
            lines.append(hook_line)
        elif variant == "direnv":
            lines.append('eval "$(direnv hook bash)"')
        return "\n".join(lines) + "\n"

    def inshell_script(self) -> str:
        return r"""
__bench_hooks() {
  local __bench_c
  for __bench_c in "${PROMPT_COMMAND[@]}"; do eval "$__bench_c"; done
}
__bench_run() {
  local phase=$1 n=$2 home=$3 i t0 t1
  case $phase in
    prompt)
      t0=${EPOCHREALTIME//[!0-9]/}
      for ((i = 0; i < n; i++)); do __bench_hooks; done
      t1=${EPOCHREALTIME//[!0-9]/} ;;
    inout)
      cd -- "$home" && __bench_hooks
      t0=${EPOCHREALTIME//[!0-9]/}
      for ((i = 0; i < n; i += 2)); do
        cd proj_a; __bench_hooks; cd ..; __bench_hooks
      done
      t1=${EPOCHREALTIME//[!0-9]/} ;;
    between)
      cd -- "$home/proj_a" && __bench_hooks
      t0=${EPOCHREALTIME//[!0-9]/}
      for ((i = 0; i < n; i += 2)); do
        cd ../proj_b; __bench_hooks; cd ../proj_a; __bench_hooks
      done
      t1=${EPOCHREALTIME//[!0-9]/} ;;
  esac
  printf 'BENCHRES %s %s us %s\n' "$phase" "$((t1 - t0))" "$n"
}
"""


class Zsh(ShellSpec):
    """zsh: ``-d`` (no global rc files) and ``$ZDOTDIR/.zshrc``, ZLE on."""

    name = "zsh"

    def rc_path(self, rcdir: Path) -> Path:
        return rcdir / ".zshrc"

    def argv(self, rcdir: Path) -> list[str]:
        return [self.executable, "-d", "-i"]

    def env(self, base: dict[str, str], rcdir: Path) -> dict[str, str]:
        return {**base, "ZDOTDIR": str(rcdir)}

    def rc_text(self, variant: str, hook_line: str) -> str:
        lines = [f"PS1='{PROMPT}'", "PROMPT_EOL_MARK=''"]
        if variant == "shellhook":
            lines.append(hook_line)
        elif variant == "direnv":
            lines.append('eval "$(direnv hook zsh)"')
        return "\n".join(lines) + "\n"

    def inshell_script(self) -> str:
        # $epochtime: (seconds, nanoseconds) as integers.
        return r"""
zmodload zsh/datetime
__bench_hooks() {
  local __bench_f
  (( ! ${+functions[precmd]} )) || precmd
  for __bench_f in $precmd_functions; do $__bench_f; done
}
__bench_run() {
  local phase=$1 n=$2 home=$3 i t0 t1
  case $phase in
    (prompt)
      t0=$(( epochtime[1] * 1000000000 + epochtime[2] ))
      for (( i = 0; i < n; i++ )); do __bench_hooks; done
      t1=$(( epochtime[1] * 1000000000 + epochtime[2] )) ;;
    (inout)
      cd -- $home && __bench_hooks
      t0=$(( epochtime[1] * 1000000000 + epochtime[2] ))
      for (( i = 0; i < n; i += 2 )); do
        cd proj_a; __bench_hooks; cd ..; __bench_hooks
      done
      t1=$(( epochtime[1] * 1000000000 + epochtime[2] )) ;;
    (between)
      cd -- $home/proj_a && __bench_hooks
      t0=$(( epochtime[1] * 1000000000 + epochtime[2] ))
      for (( i = 0; i < n; i += 2 )); do
        cd ../proj_b; __bench_hooks; cd ../proj_a; __bench_hooks
      done
      t1=$(( epochtime[1] * 1000000000 + epochtime[2] )) ;;
  esac
  printf 'BENCHRES %s %s ns %s\n' $phase $(( t1 - t0 )) $n
}
"""


class Fish(ShellSpec):
    """fish: ``--no-config`` and ``-C 'source RC'``."""

    name = "fish"
    cd_budget_us = 1000.0

    def quote(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def argv(self, rcdir: Path) -> list[str]:
        return [
            self.executable,
            "--no-config",
            "-i",
            "-C",
            f"source {self.quote(str(self.rc_path(rcdir)))}",
        ]

    def rc_text(self, variant: str, hook_line: str) -> str:
        lines = ["set -g fish_greeting ''", f"function fish_prompt; echo -n '{PROMPT}'; end"]
        if variant == "shellhook":
            lines.append(hook_line)
        elif variant == "direnv":
            lines.append("direnv hook fish | source")
        return "\n".join(lines) + "\n"

    def show_venv(self) -> str:
        return "printf '%s%s<%s>\\n' VE NV \"$VIRTUAL_ENV\""

    def eval_line(self) -> str:
        return "shellhook init fish | source"

    def inshell_script(self) -> str:
        # fish has no microsecond clock variable: the `time` keyword reports each loop.
        # A prompt is the fish_prompt event, then the fish_prompt function (drawn here to
        # /dev/null): hooks may rely on both, as shellhook's prompt-prefix wrapper does.
        return r"""
function __bench_prompt
    emit fish_prompt
    fish_prompt >/dev/null
end

function __bench_run --argument-names phase n home
    set -l r (seq $n)
    set -l h (seq (math $n / 2))
    echo "BENCHLBL $phase $n"
    switch $phase
        case prompt
            time begin
                for i in $r
                    __bench_prompt
                end
            end
        case inout
            cd $home; __bench_prompt
            time begin
                for i in $h
                    cd proj_a; __bench_prompt; cd ..; __bench_prompt
                end
            end
        case between
            cd $home/proj_a; __bench_prompt
            time begin
                for i in $h
                    cd ../proj_b; __bench_prompt; cd ../proj_a; __bench_prompt
                end
            end
    end
end
"""

    def parse_inshell(self, output: str) -> dict[str, tuple[float, int]]:
        units = {"micros": 1.0, "millis": 1e3, "secs": 1e6, "mins": 60e6}
        found: dict[str, tuple[float, int]] = {}
        pattern = r"BENCHLBL (\w+) (\d+).*?Executed in\s+([\d.]+)\s+(micros|millis|secs|mins)"
        for m in re.finditer(pattern, output, re.S):
            found[m.group(1)] = (float(m.group(3)) * units[m.group(4)], int(m.group(2)))
        return found


class Xonsh(ShellSpec):
    """xonsh: ``--rc RC``, readline shell type, no history file.

    ``SSH_CONNECTION`` is set so that xonsh's readline shell does not query the cursor
    position before each prompt: that query reads stdin and would eat typed-ahead lines.
    """

    name = "xonsh"
    prompt_budget_us = 100.0
    cd_budget_us = 150.0
    has_direnv_hook = False  # direnv has no xonsh hook (third-party xontribs only)

    def quote(self, value: str) -> str:
        return repr(value)

    def argv(self, rcdir: Path) -> list[str]:
        return [self.executable, "-i", "--rc", str(self.rc_path(rcdir)), "-st", "readline"]

    def env(self, base: dict[str, str], rcdir: Path) -> dict[str, str]:
        return {**base, "SSH_CONNECTION": "shellhook-bench"}

    def rc_text(self, variant: str, hook_line: str) -> str:
        # No xontrib autoloading: shellhook's own xontrib would load the hook into every
        # variant when shellhook is installed in the Python that runs xonsh.
        lines = [
            f"$PROMPT = {PROMPT!r}",
            "$RIGHT_PROMPT = ''",
            "$BOTTOM_TOOLBAR = ''",
            "$XONSH_HISTORY_BACKEND = 'dummy'",
            "$XONTRIBS_AUTOLOAD_DISABLED = True",
        ]
        if variant == "shellhook":
            lines.append(hook_line)
        return "\n".join(lines) + "\n"

    def echo_joined(self, first: str, second: str) -> str:
        return f"print({first!r} {second!r})"

    def eval_line(self) -> str:
        # The README's recipe for xonsh: shellhook imported into xonsh's own Python.
        return "xontrib load shellhook"

    def show_venv(self) -> str:
        return "print('VE' 'NV<' + ${...}.get('VIRTUAL_ENV', '') + '>')"

    def source(self, path: Path) -> str:
        return f"source {self.quote(str(path))}"

    def inshell_call(self, phase: str, n: int, home: str) -> str:
        return f"_bench_run({phase!r}, {n}, {home!r})"

    def inshell_script(self) -> str:
        # The events xonsh's readline shell fires around each prompt; cd through xonsh's
        # own implementation (which fires on_chdir), without the subprocess machinery.
        return r"""
import time as _bench_time
from xonsh.dirstack import cd as _bench_cd

def _bench_hooks():
    events.on_pre_prompt_format.fire()
    events.on_pre_prompt.fire()
    events.on_post_prompt.fire()

def _bench_run(phase, n, home):
    if phase == 'inout':
        _bench_cd([home]); _bench_hooks()
    elif phase == 'between':
        _bench_cd([home + '/proj_a']); _bench_hooks()
    t0 = _bench_time.perf_counter_ns()
    if phase == 'prompt':
        for _ in range(n):
            _bench_hooks()
    elif phase == 'inout':
        for _ in range(n // 2):
            _bench_cd(['proj_a']); _bench_hooks(); _bench_cd(['..']); _bench_hooks()
    else:
        for _ in range(n // 2):
            _bench_cd(['../proj_b']); _bench_hooks(); _bench_cd(['../proj_a']); _bench_hooks()
    t1 = _bench_time.perf_counter_ns()
    print('BENCHRES', phase, t1 - t0, 'ns', n)
"""


SPECS: dict[str, type[ShellSpec]] = {s.name: s for s in (Bash, Zsh, Fish, Xonsh)}


def find_executable(name: str) -> str | None:
    """The shell's executable; xonsh next to this interpreter first (no pyenv shim)."""
    if name == "xonsh":
        sibling = Path(sys.executable).parent / "xonsh"
        if sibling.is_file():
            return str(sibling)
    return shutil.which(name)
