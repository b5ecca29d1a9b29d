"""The contract between Python and the hook scripts, read from the scripts themselves.

* Every operation of ``shellhook.protocol`` (``OP_*``) is applied by every hook, the hooks
  apply no other, and docs/protocol.md documents exactly those.
* Every function a hook or commands file defines carries the ``__shellhook_`` prefix,
  apart from the names defined on purpose (``PUBLIC`` and ``ON_PURPOSE`` below).
* The option lists the completions offer for workon, mkvenv, rmvenv and lsvenv are the
  options their argparse parsers accept.

Each rule is checked for every shell of the adapter registry: a shell without an entry
in one of the per-shell tables here fails, as does a table entry for no shell.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from shellhook import adapters
from shellhook import protocol as p
from shellhook.commands import lsvenv, mkvenv, rmvenv, workon
from tests.conftest import require_shell

REPO = Path(__file__).resolve().parent.parent
SHELLS_DIR = REPO / "shells"
COMMANDS = {"workon": workon, "mkvenv": mkvenv, "rmvenv": rmvenv, "lsvenv": lsvenv}

# The closed set of operations a reply carries (OP_END only closes a frame).
OPS = {value for name, value in vars(p).items() if name.startswith("OP_")} - {p.OP_END}


def hook_text(shell: str) -> str:
    return (SHELLS_DIR / adapters.get(shell).script).read_text()


def commands_text(shell: str) -> str:
    return (SHELLS_DIR / f"commands.{adapters.get(shell).extension}").read_text()


def code_lines(text: str) -> str:
    """The shell script without its comments (``#`` at the start of a word to the end of
    the line: ``${#array}``, ``$#`` stay)."""
    return "\n".join(re.sub(r"(?:^|\s)#.*$", "", line) for line in text.splitlines())


def body(text: str, start: str, end: str) -> str:
    """The lines from the one matching ``start`` to the next one matching ``end``."""
    m = re.search(start, text, re.M)
    assert m, f"no {start!r} in the script"
    rest = text[m.end() :]
    e = re.search(end, rest, re.M)
    assert e, f"no end ({end!r}) after {start!r}"
    return rest[: e.start()]


# -- operations -------------------------------------------------------------------------


def _posix_ops(label: str) -> Callable[[str], set[str]]:
    def ops(text: str) -> set[str]:
        apply = body(code_lines(text), r"^__shellhook_apply\(\) \{$", r"^\}$")
        return set(re.findall(label, apply, re.M))

    return ops


def _fish_ops(text: str) -> set[str]:
    apply = body(code_lines(text), r"^function __shellhook_apply\b.*$", r"^end$")
    return set(re.findall(r"^\s*case (\S+)$", apply, re.M))


def _xonsh_ops(text: str) -> set[str]:
    """The string constants ``op`` is compared with in the hook's ``apply(ops)``."""
    applies = [
        node
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef) and node.name == "apply"
    ]
    assert len(applies) == 1, "one apply(ops) in the xonsh hook"
    found = set()
    for node in ast.walk(applies[0]):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and node.left.id == "op"
            and all(isinstance(o, ast.Eq) for o in node.ops)
        ):
            for c in node.comparators:
                assert isinstance(c, ast.Constant) and isinstance(c.value, str)
                found.add(c.value)
    return found


# How to read, in each shell's hook, the operations its apply function handles.
APPLIED_OPS: dict[str, Callable[[str], set[str]]] = {
    "bash": _posix_ops(r"^\s*([A-Z])\) "),
    "zsh": _posix_ops(r"^\s*\(([A-Z])\) "),
    "fish": _fish_ops,
    "xonsh": _xonsh_ops,
}


def test_every_shell_has_its_readers() -> None:
    for table in (APPLIED_OPS, DEFINED, OFFERED):
        assert set(table) == set(adapters.SHELLS)


@pytest.mark.parametrize("shell", adapters.SHELLS)
def test_every_operation_is_applied_by_the_hook(shell: str) -> None:
    applied = APPLIED_OPS[shell](hook_text(shell))
    assert applied == OPS, f"missing: {OPS - applied}, unknown: {applied - OPS}"


def test_protocol_doc_lists_every_operation() -> None:
    doc = (REPO / "docs" / "protocol.md").read_text()
    table = body(doc, r"^## Operations$", r"^## ")
    documented = set(re.findall(r"^\| `(\w)` \|", table, re.M))
    assert documented == OPS


def test_operations_are_distinct_single_letters() -> None:
    values = [v for k, v in vars(p).items() if k.startswith("OP_")]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[A-Z]", v) for v in values)
    assert "Q" not in values and "R" not in values  # a request's and a frame's heads


# -- names ------------------------------------------------------------------------------

PREFIX = "__shellhook_"
PUBLIC = {"workon", "mkvenv", "rmvenv", "lsvenv", "deactivate"}
# Names outside the prefix that a shell's scripts define on purpose.
ON_PURPOSE: dict[str, set[str]] = {
    # cd, pushd and popd apply the venv inside the command line (DESIGN §3): our wrappers,
    # chaining a cd function defined before (kept as __shellhook_user_cd).
    "bash": {"cd", "pushd", "popd"},
    # compsys completion functions: named _COMMAND-ish by zsh convention ($_comps shows them).
    "zsh": {"_shellhook_venvs", "_shellhook_mkvenv", "_shellhook_lsvenv"},
    # The prompt: our wrapper around the user's, which it keeps as __shellhook_user_prompt;
    # and activate.fish's saved prompt, given the user's own (not our wrapper) when a venv
    # is sourced over ours, so that venv's deactivate leaves no trace of ours (DESIGN §4).
    "fish": {"fish_prompt", "_old_fish_prompt"},
    "xonsh": set(),
}

_POSIX_DEF = re.compile(
    r"(?:^|[\s;&|{(])(?:function\s+)?([A-Za-z_][\w:.-]*)\s*\(\)\s*\{|\bfunction\s+([\w:.-]+)"
)


def _posix_defined(text: str) -> set[str]:
    return {a or b for a, b in _POSIX_DEF.findall(code_lines(text))}


def _fish_defined(text: str) -> set[str]:
    code = code_lines(text)
    copies = re.findall(r"\bfunctions (?:-c|--copy) \S+ (\S+)", code)  # copy SRC DEST
    return set(re.findall(r"^\s*function\s+(\S+)", code, re.M)) | set(copies)


def _xonsh_defined(text: str) -> set[str]:
    """What the file puts in xonsh's namespaces: module-level names, ``ns[...]``,
    ``aliases[...]`` and ``sys.modules[...]`` keys (``for name in (...)`` unrolled)."""
    tree = ast.parse(text)
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    loops: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, (ast.Tuple, ast.List))
        ):
            loops[node.target.id] = [
                e.value
                for e in node.iter.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if not isinstance(target, ast.Subscript):
                continue
            table = ast.unparse(target.value)
            if table not in ("ns", "aliases", "sys.modules", "__import__('sys').modules"):
                continue
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
            elif isinstance(key, ast.Name) and key.id in loops:
                names.update(loops[key.id])
            else:
                raise AssertionError(f"cannot tell the key of {ast.unparse(target)}")
    return names


# How to list, in each shell's scripts, the names of the functions they define.
DEFINED: dict[str, Callable[[str], set[str]]] = {
    "bash": _posix_defined,
    "zsh": _posix_defined,
    "fish": _fish_defined,
    "xonsh": _xonsh_defined,
}


@pytest.mark.parametrize("shell", adapters.SHELLS)
def test_every_function_carries_the_prefix(shell: str) -> None:
    defined = DEFINED[shell](hook_text(shell)) | DEFINED[shell](commands_text(shell))
    assert defined, "the reader found no definition at all"
    unprefixed = {n for n in defined if not n.startswith(PREFIX)}
    assert unprefixed - PUBLIC == ON_PURPOSE[shell]
    assert "deactivate" in defined  # the user's way out of an activation of ours
    assert unprefixed & PUBLIC == PUBLIC  # the commands, from the commands file


# -- completion options -----------------------------------------------------------------


def argparse_options(command: str) -> dict[str, set[str]]:
    """Every option string of ``command``, mapped to all strings of its action."""
    parser = argparse.ArgumentParser(prog=command)
    COMMANDS[command].add_arguments(parser)
    found: dict[str, set[str]] = {}
    for action in parser._actions:
        for option in action.option_strings:
            found[option] = set(action.option_strings)
    return found


def _bash_offered(shell: str) -> dict[str, list[set[str]]]:
    """What bash's completion offers after ``COMMAND -`` (the real completion code)."""
    require_shell("bash")
    script = (
        commands_text(shell)
        + """
for cmd in workon mkvenv rmvenv lsvenv; do
  spec=$(complete -p "$cmd")
  COMPREPLY=()
  if [[ $spec == *' -F '* ]]; then
    func=${spec#* -F }; func=${func%% *}
    COMP_WORDS=("$cmd" -); COMP_CWORD=1; COMP_LINE="$cmd -"; COMP_POINT=${#COMP_LINE}
    "$func" "$cmd" - "$cmd"
  elif [[ $spec == *' -W '* ]]; then
    spec=${spec#complete }; spec=${spec% "$cmd"}
    eval "COMPREPLY=(\\$(compgen $spec -- -))"
  fi
  printf '%s' "$cmd:"; printf ' %s' "${COMPREPLY[@]}"; printf '\\n'
done
"""
    )
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    offered = {}
    for line in out.stdout.splitlines():
        cmd, _, words = line.partition(":")
        offered[cmd] = [{w} for w in words.split()]
    return offered


def _zsh_offered(shell: str) -> dict[str, list[set[str]]]:
    """The options named in the compsys functions (reading them needs ZLE: read the code)."""
    text = code_lines(commands_text(shell))
    offered: dict[str, list[set[str]]] = {c: [] for c in COMMANDS}
    venvs = body(text, r"^_shellhook_venvs\(\) \{$", r"^\}$")
    for cmd, words in re.findall(r"^\s*\((\w+)\) compadd -- ([^;]*);;", venvs, re.M):
        offered[cmd] += [{w} for w in words.split()]
    compdefs = dict(
        (cmd, func)
        for func, cmds in re.findall(r"^\s*compdef (\w+) ([\w ]+)$", text, re.M)
        for cmd in cmds.split()
    )
    for cmd, func in compdefs.items():
        if func == "_shellhook_venvs":
            continue
        spec = body(text, rf"^{func}\(\) \{{$", r"^\}$")
        spec = re.sub(r"_arguments(?:\s+-\w+)*", "", spec)  # its own flags (-s)
        spec = re.sub(r"\[[^\]]*\]", "", spec)  # descriptions
        spec = re.sub(r"'\([^)]*\)'", "", spec)  # exclusion lists
        for group in re.findall(r"\{([^}]*)\}", spec):  # {-p+,--python=}: one option
            offered[cmd].append({w.rstrip("+=") for w in group.split(",")})
        spec = re.sub(r"\{[^}]*\}", "", spec)
        offered[cmd] += [{w.rstrip("+=")} for w in re.findall(r"(?<![\w-])--?[\w-]+", spec)]
    return offered


def _fish_offered(shell: str) -> dict[str, list[set[str]]]:
    """The ``complete -c CMD -s X -l LONG`` lines: each one option (short and long)."""
    offered: dict[str, list[set[str]]] = {c: [] for c in COMMANDS}
    for line in code_lines(commands_text(shell)).splitlines():
        m = re.match(r"\s*complete -c (\S+) (.*)$", line)
        if not m:
            continue
        strings = {f"-{s}" for s in re.findall(r"(?<!\S)-s (\S)", m.group(2))}
        strings |= {f"--{s}" for s in re.findall(r"(?<!\S)-l (\S+)", m.group(2))}
        if strings:
            offered[m.group(1)].append(strings)
    return offered


# What each shell's completion offers for a command's options: a list of option groups
# (the strings one completion entry names: {"-n", "--no-cd"}, or just {"--no-cd"}).
# None: the shell completes no options (docs/venv-commands.md: bash, zsh and fish do).
OFFERED: dict[str, Callable[[str], dict[str, list[set[str]]]] | None] = {
    "bash": _bash_offered,
    "zsh": _zsh_offered,
    "fish": _fish_offered,
    "xonsh": None,
}


def test_the_shells_completing_options_are_the_documented_ones() -> None:
    doc = " ".join((REPO / "docs" / "venv-commands.md").read_text().split())
    m = re.search(r"Options of all four commands are completed too \(([^)]*)\)", doc)
    assert m, "docs/venv-commands.md no longer says which shells complete options"
    documented = {s.strip() for s in m.group(1).replace(" and ", ",").split(",")}
    assert documented == {shell for shell, read in OFFERED.items() if read is not None}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("shell", [s for s in adapters.SHELLS if OFFERED.get(s)])
def test_completion_offers_the_argparse_options(shell: str, command: str) -> None:
    read = OFFERED[shell]
    assert read is not None
    accepted = argparse_options(command)
    groups = read(shell).get(command, [])
    for group in groups:  # nothing argparse would refuse, short and long of one option
        assert group <= accepted.keys(), f"{shell} {command}: offers {group - accepted.keys()}"
        assert all(accepted[s] >= group for s in group), f"{shell} {command}: {group} mixed"
    offered = set().union(*groups) if groups else set()
    wanted = {o for o in accepted if o.startswith("--") and o != "--help"}
    assert wanted <= offered, f"{shell} {command}: not completed: {sorted(wanted - offered)}"
