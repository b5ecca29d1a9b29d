"""The whole hostile-name corpus (security.md §3 cases 1, 2 and 59) in every shell.

Each name of case 1's corpus, plus the terminal-driving names of case 59 and a few
shell-specific substitutions, is tried in four places:

- ``dir``: the project directory itself (``<home>/d/NAME``, a ``.venv/`` inside), allowed;
- ``venv``: a venv directory with the name, named by an absolute pointer file
  (``<home>/pv/N/.venv`` holding ``<home>/venvs/NAME``), allowed;
- ``pointer``: a pointer file whose content is the name itself, byte for byte (a bare
  name is a venv in $WORKON_HOME, one with a ``/`` a path below the project), allowed;
- ``child``: the only venv below a project, under the name (DESIGN §2 rule 5), allowed,
  for names without ``/``: the venv directory name that no pointer can carry (line
  breaks, bytes that are not UTF-8);

and twice never allowed (``untrusted-dir``: a copy of the project; ``untrusted-venv``: a
pointer to another venv of that name), whose notices name the project or the venv.

The directories are made in Python and allowed by one Python process. One shell per
shell type walks the whole corpus, one command line per case (``cd`` in, read back,
``cd`` out, read back: the hooks apply a venv within ``cd``), about 40 s for the four
shells on two cores. The checks:

- no sentinel: every ``touch /tmp/pwned`` of the corpus touches a file in the sandbox;
- an activated venv's ``$VIRTUAL_ENV`` is the venv's path, byte for byte, and ``PATH``
  is ``<venv>/bin`` then the ``PATH`` from before, exactly; leaving restores both;
- what shellhook printed holds no raw ESC or BEL, nor the name's raw control
  characters, and is whole ``shellhook: ...`` lines, one line per notice;
- a name that cannot work is refused with one clear line (and no "activated"), never
  dropped silently: ``:`` in a venv's path (it would split PATH, case 19); in a pointer
  file, a line break or bytes that are not UTF-8 (DESIGN §2 rule 1: one UTF-8 line);
  in xonsh, a venv path that xonsh would expand on PATH (``CANNOT``).

Every shell represents every other name, invalid UTF-8 included (xonsh holds it as
surrogate escapes and exports the original bytes). A NUL byte cannot be in a path at
all (the kernel ends every path at it), so it is not in the corpus; ``/`` in a name
makes nested directories, as in security.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import venv as venv_mod
from dataclasses import dataclass, replace
from pathlib import Path

from shellhook import venvinfo
from shellhook.adapters.xonsh import python_literal
from shellhook.display import for_terminal

SENTINEL = "/tmp/pwned"  # as the corpus spells it; every test swaps in its own path

# (id, name): security.md case 1, then case 59's terminal-driving names, then the
# substitutions of each shell's own syntax.
CORPUS: list[tuple[str, str]] = [
    ("dollar-paren", f"$(touch {SENTINEL})"),
    ("backticks", f"`touch {SENTINEL}`"),
    ("single-quote-break", f"'; touch {SENTINEL}; '"),
    ("double-quote-break", f'"; touch {SENTINEL}; "'),
    ("semicolon", "a;b"),
    ("pipe", "a|b"),
    ("ampersand", "a&b"),
    ("newline", "new\nline"),
    ("carriage-return", "car\rriage"),
    ("tab", "ta\tb"),
    ("dash-rf", "-rf"),
    ("dash-help", "--help"),
    ("star", "*"),
    ("brackets", "[a]"),
    ("braces", "{a,b}"),
    ("tilde-user", "~root"),
    ("history-bang", "!!"),
    ("hash", "#x"),
    ("zsh-prompt-escapes", "%F{red}%~"),
    ("bash-prompt-escapes", r"\[\e]0;x\a\]"),
    ("ifs", "${IFS}"),
    ("dollar-home", "$HOME"),
    ("equals-tilde", "a=~"),
    ("trailing-space", "trailing "),
    ("e-acute", "é"),
    ("latin1-byte", "caf\udce9"),
    ("invalid-utf8", "\udcff\udcfe"),
    ("rtl-override", "\u202eevil"),
    ("colon", "a:b"),
    # case 59: names that drive a terminal, and format strings
    ("osc-title", "\x1b]0;owned\x07"),
    ("osc-clipboard", "\x1b]52;c;cHduZWQ=\x07"),
    ("clear-screen", "\x1b[2J"),
    ("bel", "ding\x07dong"),
    ("printf-format", "%n%s"),
    # each shell's own substitution syntax
    ("fish-subst", f"(touch {SENTINEL})"),
    ("zsh-arith", f"$((1))$(touch {SENTINEL})"),
    ("xonsh-python", f"@(__import__('os').system('touch {SENTINEL}'))"),
    ("xonsh-captured", f"!(touch {SENTINEL})"),
    ("quotes-both", "quo'te\"s"),
]

# Names a shell cannot put on its PATH, and the words of the one-line refusal expected
# there instead of an activation. xonsh expands every PATH entry it exports and
# searches ($EXPAND_ENV_VARS, on by default): a set $NAME, and a ~ after an "=", so
# <venv>/bin would become another directory, one nobody allowed.
CANNOT: dict[str, dict[str, bytes]] = {
    "xonsh": {"dollar-home": b"$EXPAND_ENV_VARS", "equals-tilde": b"$EXPAND_ENV_VARS"},
}

NAMES = ("VIRTUAL_ENV", "PATH", "PWD")  # what is read back after each cd
TYPED_AHEAD = re.compile(rb"\r*echo ?(?:DONE[0-9a-f]*)?\r*")
RAW_TERMINAL_BYTES = (b"\x1b", b"\x07")  # ESC and BEL: never from shellhook, raw


@dataclass
class Case:
    """One hostile name in one place: where to cd, and what must follow."""

    id: str
    variant: str
    name: str
    where: str  # the directory to cd into
    venv: str | None  # the venv expected active there (None: nothing activates)
    refusal: bytes = b""  # the words of the one-line refusal expected instead
    untrusted: bool = False


def _sentinel(root: Path, index: int) -> str:
    return os.fsdecode(root / "sentinels" / f"pwned-{index}")


def _has_line_break(name: str) -> bool:
    return "\n" in name or "\r" in name


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pointer_refusal(content: str) -> bytes:
    """What shellhook says of a pointer holding ``content`` (b'' when it takes it)."""
    if not _is_utf8(content):
        return b"is not UTF-8"
    if _has_line_break(content.removesuffix("\n")):
        return b"must hold a single line"
    return b""


def make_venv(sandbox, path: str) -> str:
    """A venv at ``path``, whatever it holds: by hand where ``venv`` refuses (``:``)."""
    if ":" not in path:
        return os.fsdecode(sandbox.make_venv(path))
    bindir = Path(path, "bin")
    bindir.mkdir(parents=True)
    Path(path, "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (bindir / "python").symlink_to(sys.executable)
    return path


def build(sandbox) -> list[Case]:
    """Make every directory and venv of the corpus (in Python) and list the cases."""
    home = os.path.realpath(sandbox.home)
    workon = os.path.realpath(sandbox.workon_home)
    os.makedirs(workon, exist_ok=True)
    (sandbox.root / "sentinels").mkdir()
    cases: list[Case] = []
    for index, (cid, template) in enumerate(CORPUS):
        name = template.replace(SENTINEL, _sentinel(sandbox.root, index))
        colon = b"would split PATH" if ":" in name else b""

        # dir: the project is the name
        proj = os.path.join(home, "d", name)
        venv = make_venv(sandbox, os.path.join(proj, ".venv"))
        cases.append(Case(cid, "dir", name, proj, None if colon else venv, colon))
        # untrusted-dir: a copy never allowed
        copy = os.path.join(home, "u", name)
        make_venv(sandbox, os.path.join(copy, ".venv"))
        cases.append(Case(cid, "untrusted-dir", name, copy, None, colon or b"not allowed", True))

        # venv: an absolute pointer (with its newline, as uv writes it) to a named venv;
        # untrusted-venv: another project pointing at a venv of the same name elsewhere
        for variant, base, store in (("venv", "pv", "venvs"), ("untrusted-venv", "uv", "uvenvs")):
            named = make_venv(sandbox, os.path.join(home, store, name))
            content = named + "\n"
            proj = os.path.join(home, base, str(index))
            os.makedirs(proj)
            Path(proj, ".venv").write_bytes(os.fsencode(content))
            refusal = _pointer_refusal(content) or colon
            if variant == "venv":
                cases.append(Case(cid, variant, name, proj, None if refusal else named, refusal))
            else:
                refusal = refusal or b"not allowed"
                cases.append(Case(cid, variant, name, proj, None, refusal, True))

        # pointer: the content is the name itself, without a newline
        proj = os.path.join(home, "pc", str(index))
        os.makedirs(proj)
        Path(proj, ".venv").write_bytes(os.fsencode(name))
        if "/" in name or name.startswith("."):
            target = os.path.join(proj, name)
        else:
            target = os.path.join(workon, name)
        refusal = _pointer_refusal(name) or colon
        if not _pointer_refusal(name):
            make_venv(sandbox, target)
        cases.append(Case(cid, "pointer", name, proj, None if refusal else target, refusal))

        # child: the only venv of a project, under the name
        if "/" not in name:
            proj = os.path.join(home, "cv", str(index))
            child = make_venv(sandbox, os.path.join(proj, name))
            cases.append(Case(cid, "child", name, proj, None if colon else child, colon))
    return cases


def cannot_represent(case: Case, shell: str) -> Case:
    """``case`` as ``shell`` can run it: refused where that shell cannot represent it."""
    cannot = CANNOT.get(shell, {}).get(case.id)
    if cannot and case.venv is not None:
        return replace(case, venv=None, refusal=cannot)
    return case


def allow_all(sandbox, cases: list[Case]) -> list[str]:
    """``shellhook allow`` each trusted case's project, in one Python (not one each);
    what went otherwise than expected."""
    dirs = [os.fsencode(c.where) for c in cases if not c.untrusted]
    script = (
        "import os, sys\n"
        "from shellhook.cli import main\n"
        "for d in sys.stdin.buffer.read().split(b'\\0'):\n"
        "    rc = main(['allow', os.fsdecode(d)])\n"
        "    print(f'exit={rc}', flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=sandbox.env,
        input=b"\0".join(dirs),
        capture_output=True,
        timeout=120,
    )
    lines = proc.stdout.decode(errors="replace").splitlines()
    codes = [line.removeprefix("exit=") for line in lines if line.startswith("exit=")]
    assert proc.returncode == 0 and len(codes) == len(dirs), proc.stderr.decode()
    # allow refuses a pointer it cannot read, and says why a colon path stays off
    return [
        f"allow {case.id}/{case.variant} exited {code}"
        for case, code in zip([c for c in cases if not c.untrusted], codes)
        if (code == "0") != (case.venv is not None)
    ]


Files = tuple[Path, Path, Path]  # where $VIRTUAL_ENV, $PATH and the cwd are read back


def dump_command(sh, files: Files) -> str:
    """One command writing $VIRTUAL_ENV (when set), $PATH and the cwd to ``files``."""
    ve, path, pwd = (os.fsdecode(f) for f in files)
    if sh.name == "xonsh":
        # A Python expression (xonsh's parser may read an operand of and/or as a command).
        paths = ", ".join(python_literal(p) for p in (ve, path, pwd))
        return (
            "_hostile_dump = [__import__('pathlib').Path(p).write_bytes(__import__('os')"
            f".fsencode(v)) for p, v in zip(({paths}), (lambda d: (d.get('VIRTUAL_ENV'), "
            "d.get('PATH'), __import__('os').getcwd()))(__xonsh__.env.detype())) "
            "if v is not None]"
        )
    return "; ".join(sh.dump_command(var, f) for var, f in zip(NAMES, (ve, path, pwd)))


@dataclass
class State:
    """What the shell holds after a cd, byte for byte."""

    virtual_env: bytes | None  # None: unset
    path: bytes
    pwd: bytes


class Reader:
    """Runs ``cd`` commands and reads the shell's state back after each, on one line."""

    def __init__(self, sh, root: Path) -> None:
        self.sh = sh
        self.files: list[Files] = [
            (root / f"read-{step}-ve", root / f"read-{step}-path", root / f"read-{step}-pwd")
            for step in ("in", "out")
        ]

    def cd(self, *dirs: str) -> tuple[bytes, list[State]]:
        """``cd`` to each of ``dirs`` in turn, on one command line (the hook applies a
        venv within ``cd``): what was printed, and the state after each."""
        parts = []
        for where, files in zip(dirs, self.files):
            for f in files:
                f.unlink(missing_ok=True)
            parts += ["cd " + self.sh.quote(where), dump_command(self.sh, files)]
        out = self.sh.run("; ".join(parts))
        states = []
        for where, (ve, path, pwd) in zip(dirs, self.files):
            if not path.exists():
                raise AssertionError(f"{self.sh.name}: nothing read back in {where!r}: {out!r}")
            value = ve.read_bytes() if ve.exists() else None
            states.append(State(value, path.read_bytes(), pwd.read_bytes()))
        return out, states


def notice_problems(out: bytes, name: str) -> list[str]:
    """What is wrong with what shellhook printed for ``name``: raw ESC/BEL, the name's
    raw control characters, or text that is not whole ``shellhook:`` lines."""
    problems = []
    for raw in RAW_TERMINAL_BYTES:
        if raw in out:
            problems.append(f"raw {raw!r} printed")
    raw_name = os.fsencode(name)
    if raw_name != os.fsencode(for_terminal(name, keep_backslashes=True)):
        for form in (raw_name, raw_name.replace(b"\n", b"\r\n")):
            if form in out:
                problems.append("the name printed raw")
    for line in out.split(b"\n"):
        # zsh's PROMPT_SP (spaces to the last column, then \r) is the shell's own, and
        # so is xonsh's readline echoing part of the driver's next typed-ahead line
        if (
            line.strip(b" \r")
            and not line.startswith(b"shellhook: ")
            and not (TYPED_AHEAD.fullmatch(line))
        ):
            problems.append(f"not a shellhook line: {line!r}")
    return problems


def test_hostile_name_corpus(sandbox, spawn, shell_name, figures):
    """Every name of the corpus, everywhere it can be, in one shell of each type."""
    started = time.monotonic()
    cases = build(sandbox)
    failures = allow_all(sandbox, cases)
    cases = [cannot_represent(case, shell_name) for case in cases]
    sh = spawn(cwd=sandbox.home)
    sh.child.delaybeforesend = None  # pexpect's 50 ms pause per line: 40 s of the 45
    reader = Reader(sh, sandbox.root)
    started_at = len(sh.transcript)  # before: the shell's own start-up (xonsh's banner...)
    home = os.path.realpath(sandbox.home)
    _, (before,) = reader.cd(home)
    assert before.virtual_env is None

    refused = 0
    for case in cases:
        label = f"{shell_name}/{case.id}/{case.variant}"
        out, (inside, outside) = reader.cd(case.where, home)
        if inside.pwd != os.fsencode(case.where):
            failures.append(f"{label}: cd went to {inside.pwd!r}")
        if case.venv is not None:
            venv = os.fsencode(case.venv)
            if inside.virtual_env != venv:
                failures.append(f"{label}: VIRTUAL_ENV {inside.virtual_env!r}; said {out!r}")
            if inside.path != venv + b"/bin:" + before.path:
                failures.append(f"{label}: PATH {inside.path!r}")
        else:
            if inside.virtual_env is not None or inside.path != before.path:
                failures.append(f"{label}: activated {inside!r}; said {out!r}")
            said = [line for line in out.split(b"\n") if case.refusal in line]
            if len(said) != 1:
                failures.append(f"{label}: not one line saying {case.refusal!r}: {out!r}")
            if b"shellhook: activated" in out:
                failures.append(f"{label}: says it activated: {out!r}")
            refused += not case.untrusted
        if outside.virtual_env is not None or outside.path != before.path:
            failures.append(f"{label}: leaving kept {outside!r}")
        failures += [f"{label}: {p}; said {out!r}" for p in notice_problems(out, case.name)]

    # Every byte the terminal got from the first cd on: notices, prompts, the shell's own.
    escapes = sum(sh.transcript[started_at:].count(raw) for raw in RAW_TERMINAL_BYTES)
    executed = [p for p in sandbox.root.rglob("pwned*") if not p.is_dir()]
    figures.add("hostile names tried", len(CORPUS))
    figures.add(f"hostile names tried ({shell_name})", len(CORPUS))
    figures.add("hostile name cases tried (name x place)", len(cases))
    figures.add("hostile names executed", len(executed))
    figures.add("hostile name cases refused with one line (cannot work)", refused)
    figures.add("raw escape bytes printed", escapes)
    figures.most("hostile corpus seconds per shell", round(time.monotonic() - started, 1))
    assert not executed
    assert not failures, "\n".join(failures)
    assert escapes == 0


def test_a_venv_whose_name_ends_in_a_space_is_not_taken_for_a_moved_one(tmp_path):
    """pyvenv.cfg's ``command`` line ends with the venv's path, trailing space and all."""
    venv = tmp_path / "trailing "
    venv_mod.EnvBuilder(with_pip=False, symlinks=True).create(venv)
    assert b" " + os.fsencode(venv) + b"\n" in (venv / "pyvenv.cfg").read_bytes()
    assert venvinfo.made_elsewhere(str(venv)) is None
    assert venvinfo.broken_reason(str(venv)) is None
