# shellhook hook for xonsh (>= 0.18). Two ways in, one implementation:
#   * `shellhook init xonsh` prints lines setting __shellhook_python and
#     __shellhook_tool_names, then this file; install.sh writes that to a file which
#     ~/.config/xonsh/rc.d/shellhook.xsh loads;
#   * `xontrib load shellhook` (xontrib/shellhook.py) runs the same lines, with the Python
#     that runs xonsh, and this same shipped file.
#
# It never imports shellhook, so xonsh may run from any Python (pipx, its own venv, a
# distribution package). On `cd` (events.on_chdir), when xonsh has started
# (on_post_init) and before each prompt is formatted (on_pre_prompt_format, else
# on_pre_prompt) it compares $PWD and $VIRTUAL_ENV with what it saw last and does one
# non-blocking read to see whether the daemon nudged it; only then does it ask the daemon
# through this shell's FIFO pair. Replies are NUL-separated (op, arg) pairs applied below
# to ${...} directly: nothing received is ever evaluated. Protocol: docs/protocol.md.
#
# Plain Python on purpose (no xonsh syntax): Python compiles it in a few milliseconds and
# loads the cached bytecode in well under one, where xonsh's own parser (`source`) takes
# hundreds; xonsh's context-aware parser would leave it as it is anyway (tests/test_xonsh.py
# checks both).
# It adds __shellhook_command (for the commands below) and __shellhook_unload to the
# namespace it runs in, a private module when the rc line or the xontrib loads it.


def __shellhook_setup(ns):
    """Install the hook in this interactive session; ``ns`` is the namespace we run in."""
    import contextlib
    import os
    import select
    import signal
    import stat
    import subprocess
    import sys
    import time
    import types

    from xonsh.built_ins import XSH
    from xonsh.events import events

    env = XSH.env
    if env is None or not env.get("XONSH_INTERACTIVE"):
        return  # scripts, `xonsh -c`: left alone
    aliases = XSH.aliases
    euid = os.geteuid()
    py = ns.get("__shellhook_python")
    if euid == 0 and isinstance(py, str) and os.path.exists(py):
        # Root runs only a shellhook of root's own: a root shell that keeps a user's HOME
        # and rc files (`sudo -E xonsh`) would otherwise start a root daemon from them.
        up = os.path.dirname
        try:
            foreign = any(os.stat(p).st_uid != 0 for p in (py, up(py), up(up(py))))
        except OSError:
            foreign = True
        if foreign:
            print(f"shellhook: off in this root shell: {py} is not root's", file=sys.stderr)
            return
    # The names of the variables the venv tools read (shellhook/toolenv.py), written by
    # `shellhook init` (or the xontrib) before this file.
    TOOL_NAMES = frozenset(ns.get("__shellhook_tool_names", "").split())
    VARIABLES = (
        ("VIRTUAL_ENV_PROMPT", "Name of the active venv (shellhook, venv's activate)."),
        ("SHELLHOOK_VENV", "The venv shellhook activated automatically."),
        ("SHELLHOOK_PYTHONHOME", "$PYTHONHOME as it was before shellhook's activation."),
        ("SHELLHOOK_SESSION", "This shell's session id with the shellhook daemon."),
        ("SHELLHOOK_OFF", "The project where you ran deactivate: off until you leave it."),
        ("PYTHONHOME", "Python's home; hidden while a venv is active."),
    )

    def getenv(name):
        value = env.get(name)
        return "" if value is None else str(value)

    def delenv(name):
        try:
            if name in env:
                del env[name]
        except KeyError:
            pass

    def register_variables():
        # xonsh matches an unregistered variable against all its name patterns on every
        # assignment (about 0.2 ms each here); a registered one is one dict lookup. No
        # default: unset stays unset. Returns the names we registered (unload removes them).
        known = getattr(env, "_vars", None)
        try:
            from xonsh.environ import Var

            if not isinstance(known, dict):
                return []
            added = []
            for name, doc in VARIABLES:
                if name not in known:
                    known[name] = Var.no_default("str", doc, is_configurable=False)
                    added.append(name)
            return added
        except Exception:  # another xonsh: only slower
            return []

    def candidate_runtime_dir():
        # The runtime dir as platformdirs computes it; the one-off Python corrects us (`Y`).
        xdg = getenv("XDG_RUNTIME_DIR")
        if xdg.strip():
            return xdg + "/shellhook"
        run = f"/run/user/{euid}"
        if os.path.isdir(run):
            return run + "/shellhook"
        tmp = getenv("TMPDIR") or "/tmp"
        if tmp.endswith("/"):
            tmp = tmp[:-1]
        return f"{tmp}/runtime-{euid}/shellhook"

    st = types.SimpleNamespace(
        pwd="",  # $PWD when we last asked
        seen="",  # $VIRTUAL_ENV after we last applied a reply
        seq=0,
        project="",  # project of our activation
        label="",  # what {env_name} shows while $VIRTUAL_ENV is label_venv
        label_venv="",
        name="",  # the VIRTUAL_ENV_PROMPT we set
        forgotten=set(),  # bin dirs of ours that a manual venv may put back (see scrub)
        saved_alias=None,  # the user's own `deactivate` alias, while ours stands in
        vox="",  # the venv vox activated (its saved $PATH is put back by its deactivate)
        vox_project="",  # the project whose venv (ours before) vox activated again
        vox_undone=None,  # what vox's deactivate just undid, until the next prompt
        rt=candidate_runtime_dir(),
        sid="",  # session id, once our FIFO pair exists
        rfd=-1,  # reply FIFO (read end)
        wfd=-1,  # request FIFO (write end)
        stuck=False,  # the daemon did not answer in time
        renudge=False,  # a nudge arrived while we waited for a reply: ask at the next prompt
        busy=False,  # applying a reply (a `C` op fires on_chdir: not a new question)
        said=set(),  # warnings already printed in this session
    )
    flags = os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    can_mask = hasattr(signal, "pthread_sigmask")

    # -- the daemon's FIFO pair ----------------------------------------------------------
    def fifo_paths():
        return st.rt + "/" + st.sid + ".req", st.rt + "/" + st.sid + ".rep"

    def disconnect():
        for fd in (st.rfd, st.wfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if st.sid:
            for path in fifo_paths():
                with contextlib.suppress(OSError):
                    os.unlink(path)
            if getenv("SHELLHOOK_SESSION") == st.sid:
                delenv("SHELLHOOK_SESSION")
        st.sid, st.rfd, st.wfd = "", -1, -1

    def connect():
        # Create and open this shell's FIFO pair in the private runtime dir, once.
        try:
            info = os.lstat(st.rt)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != euid:
            return False  # a symlink, not a directory, or not ours
        st.sid = f"{os.getpid()}-{os.urandom(6).hex()}"
        req, rep = fifo_paths()
        try:
            os.mkfifo(rep, 0o600)  # .rep first: the daemon adopts the pair when .req appears
            os.mkfifo(req, 0o600)
            st.rfd = os.open(rep, flags)
            st.wfd = os.open(req, flags)
        except OSError:
            disconnect()
            return False
        env["SHELLHOOK_SESSION"] = st.sid
        return True

    def parse_frame(buf, seq):
        # (ops, rest): the operations of the frame `R seq` ... `E` found in buf, or None
        # while it is incomplete. Stale frames and nudges before it are skipped.
        head = b"R\0" + seq + b"\0"
        if buf.startswith(head):
            i = len(head)
        else:
            i = buf.find(b"\0" + head)
            if i < 0:
                return None, buf[-len(head):]
            i += 1 + len(head)
        ops = []
        while True:
            j = buf.find(b"\0", i)
            k = buf.find(b"\0", j + 1) if j >= 0 else -1
            if k < 0:
                return None, buf
            op, arg, i = buf[i:j], buf[j + 1:k], k + 1
            if op == b"E":
                return ops, buf[i:]
            ops.append((op.decode("latin-1"), os.fsdecode(arg)))

    def read_reply(fd, timeout, seq, pid):
        # Wait up to `timeout` s in all for the doorbell, then read our frame from the
        # reply file. A nudge, or the bell of an older reply, does not end the wait; a
        # daemon `pid` found stopped after a 50 ms slice does. A nudge read here is kept
        # for the next prompt (st.renudge): the daemon nudges once until it next answers,
        # so a nudge dropped would leave this shell deaf to every later change.
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not select.select([fd], [], [], min(left, 0.05))[0]:
                if stopped(pid):
                    return None
                continue
            try:
                bells = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                return None
            if b"N" in bells:
                st.renudge = True
            if b"R" not in bells:
                continue
            try:
                with open(f"{st.rt}/{st.sid}.a", "rb") as f:
                    data = f.read(65537)  # the daemon writes a few hundred bytes
                ops = parse_frame(data, seq)[0] if len(data) <= 65536 else None
            except OSError:
                ops = None
            if ops is not None:
                return ops

    def daemon_alive():
        # The daemon's pid, or 0: no pid file, not a number, gone, or not ours.
        try:
            with open(st.rt + "/daemon.pid", "rb") as f:
                pid = int(f.read(64).split(b"\n")[0])
            if pid <= 0:
                return 0
            os.kill(pid, 0)
        except (OSError, ValueError):
            return 0
        return pid

    def stopped(pid):
        # Linux: the process is stopped (SIGSTOP, a debugger): waiting on will not help.
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read(4096).rpartition(b") ")[2][:1]
        except OSError:
            return False
        return state in (b"T", b"t")

    def post(fields):
        # Write the request to our FIFO (connecting first); False when that cannot be done.
        if st.wfd < 0 and not connect():
            return False
        data = b"".join(os.fsencode(f) + b"\0" for f in fields)
        try:
            while data:
                data = data[os.write(st.wfd, data):]
        except OSError:
            return False  # the request pipe is full: nobody reads it
        return True

    def ask_daemon(fields, seq):
        pid = 0 if st.stuck else daemon_alive()
        if not pid or not post(fields):
            return None
        ops = read_reply(st.rfd, 0.15, seq, pid)
        if ops is None:
            st.stuck = True
        return ops

    def child_env(extra=None):
        cenv = dict(env.detype())
        if extra:
            cenv.update(extra)
        return cenv

    def python():
        py = ns.get("__shellhook_python")
        return py if isinstance(py, str) and py and os.access(py, os.X_OK) else ""

    def ask_oneshot(fields, seq):
        # No daemon: decide with a one-off Python (which also restarts the daemon).
        py = python()
        if not py:
            return None
        argv = [py, "-I", "-m", "shellhook", "hook"]
        if st.stuck:
            argv.append("--stuck")
        # Without the shell's LD_PRELOAD: no library of a (malicious) venv's runs in the
        # Python that starts the daemon. (-I leaves out the PYTHON* variables.)
        cenv = child_env()
        cenv.pop("LD_PRELOAD", None)
        try:
            out = subprocess.run(argv + fields[1:], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 env=cenv, timeout=3).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return parse_frame(out, seq)[0]

    # -- applying a reply ----------------------------------------------------------------
    def say(text):
        print(text, file=sys.stderr, flush=True)

    def warn(text):
        # Each distinct warning once per session, never silenced.
        if text not in st.said:
            st.said.add(text)
            say(text)

    def path_remove(entry, name="PATH"):
        # Remove every `entry` from $PATH (or another list variable); every other entry
        # stays as it is.
        try:
            path = env[name]
        except KeyError:
            return
        raw = getattr(path, "_l", None)  # as stored: reading an EnvPath expands $VARS and ~
        items = list(path) if raw is None else raw
        try:
            for i in range(len(items) - 1, -1, -1):
                if items[i] == entry:
                    del path[i]
        except TypeError:  # not a list after all
            pass

    def path_prepend(entry):
        try:
            path = env["PATH"]
        except KeyError:
            env["PATH"] = [entry]
            return
        path[0:0] = [entry]  # slice assignment stores the entry as is (insert() expands it)

    def deactivate_alias(args=None, stdin=None, stdout=None, stderr=None):
        """Deactivate the venv. shellhook's own activation stays off until you leave its
        project."""
        venv, marker = getenv("VIRTUAL_ENV"), getenv("SHELLHOOK_VENV")
        if venv and venv == st.vox and vox_deactivate():
            return 0
        ours_was_on = bool(marker) and venv == marker
        if ours_was_on:
            set_off(st.project)
        guarded(undo, True, venv)
        if ours_was_on:
            st.seen = getenv("VIRTUAL_ENV")  # else ask at the next prompt: auto-activation
        return 0                             # resumes after a manual venv

    deactivate_alias.__xonsh_threadable__ = False  # it edits this shell's environment

    def set_off(project):
        if project:
            env["SHELLHOOK_OFF"] = project
        else:
            delenv("SHELLHOOK_OFF")

    def within(path, project):
        return path == project or path.startswith(project.rstrip("/") + "/")

    def ours(alias):
        return alias is deactivate_alias or getattr(alias, "func", None) is deactivate_alias

    def prompt_on(label):
        # Define deactivate (keeping a user's own alias aside); {env_name} shows
        # "(label) " (see env_name_field).
        if "deactivate" in aliases and not ours(aliases["deactivate"]):
            st.saved_alias = aliases["deactivate"]
        aliases["deactivate"] = deactivate_alias
        st.label, st.label_venv = label, getenv("VIRTUAL_ENV")

    def restore_alias():
        if "deactivate" in aliases and ours(aliases["deactivate"]):
            if st.saved_alias is not None:
                aliases["deactivate"] = st.saved_alias
            else:
                del aliases["deactivate"]
        st.saved_alias = None

    def scrub():
        # A manual activation that took over from ours (F) may have saved $PATH with our
        # entry in it (vox does) and put it back when it is deactivated: take it out again.
        current = getenv("VIRTUAL_ENV") + "/bin"
        for entry in st.forgotten:
            if entry != current:
                path_remove(entry)

    def activate(venv, name, label, project, auto):
        # auto: ours, marked in SHELLHOOK_VENV; else manual (workon): cd never replaces it.
        # False when refused: with $EXPAND_ENV_VARS xonsh expands a set "$NAME" and a "~"
        # after "=" in each PATH entry it searches and exports, so <venv>/bin would be
        # another directory, one nobody allowed (tests/test_hostile_corpus.py).
        path_remove(venv + "/bin")  # present already (e.g. restored by another deactivate)
        path_prepend(venv + "/bin")
        if env["PATH"][0] != venv + "/bin":
            path_remove(venv + "/bin")
            warn(f"shellhook: not activating {ascii(venv)[1:-1]}: xonsh would expand $NAME "
                 "or ~ in its PATH entry ($EXPAND_ENV_VARS); rename it, or turn that off")
            return False
        if "PYTHONHOME" in env:
            env["SHELLHOOK_PYTHONHOME"] = getenv("PYTHONHOME")
            delenv("PYTHONHOME")
        env["VIRTUAL_ENV"] = venv
        env["VIRTUAL_ENV_PROMPT"] = name
        st.name = name
        st.forgotten.discard(venv + "/bin")
        if auto:
            env["SHELLHOOK_VENV"] = venv
            st.project = project
        prompt_on(label)
        return True

    def undo(full, venv):
        # full: undo the activation of `venv`; else a manual venv took over: drop only
        # our PATH entry, marker and prompt label.
        if not venv:
            return
        path_remove(venv + "/bin")
        if full:
            if "SHELLHOOK_PYTHONHOME" in env:
                env["PYTHONHOME"] = getenv("SHELLHOOK_PYTHONHOME")
            for name in ("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "SHELLHOOK_VENV",
                         "SHELLHOOK_PYTHONHOME"):
                delenv(name)
            restore_alias()
        else:
            delenv("SHELLHOOK_VENV")
            forget_in_saved(venv)
            if st.name and getenv("VIRTUAL_ENV_PROMPT") == st.name:
                delenv("VIRTUAL_ENV_PROMPT")  # ours; vox, for one, sets none of its own
            st.forgotten.add(venv + "/bin")
            if st.saved_alias is not None:
                restore_alias()  # the user's deactivate (e.g. `vox deactivate`) fits better
        st.project, st.label, st.label_venv, st.name = "", "", "", ""

    # -- venvs activated by hand over ours: vox, virtualenv's activate.xsh -------------
    def vox_saved():
        # What vox saved at its activation ($PATH, $PYTHONHOME), to put back at its
        # deactivate: a dict on its Vox class (xontrib-vox's voxapi), or None.
        cls = getattr(sys.modules.get("xontrib.voxapi"), "Vox", None)
        saved = vars(cls).get("oldvars") if isinstance(cls, type) else None
        return saved if isinstance(saved, dict) else None

    def forget_in_saved(venv):
        # `F`: the venv activated over ours saved $PATH (and would have saved $PYTHONHOME)
        # with our activation in it; its deactivate must put back the state before ours.
        entry = venv + "/bin"
        home = env.get("SHELLHOOK_PYTHONHOME")
        saved = vox_saved()
        if saved is not None:
            if isinstance(saved.get("PATH"), list):
                saved["PATH"] = [e for e in saved["PATH"] if e != entry]
            if home is not None and "PYTHONHOME" not in saved:
                saved["PYTHONHOME"] = home
                delenv("SHELLHOOK_PYTHONHOME")
        if "_OLD_VIRTUAL_PATH" in env:  # activate.xsh
            path_remove(entry, "_OLD_VIRTUAL_PATH")
            if home is not None and "_OLD_VIRTUAL_PYTHONHOME" not in env:
                env["_OLD_VIRTUAL_PYTHONHOME"] = home
                delenv("SHELLHOOK_PYTHONHOME")
        # (else SHELLHOOK_PYTHONHOME stays for our next deactivation)

    def vox_deactivated():
        # vox deactivated the venv we showed (`vox deactivate`, or `vox activate` over
        # it, which deactivates first): undo the rest of it now, our entry on $PATH first,
        # before vox saves $PATH for the next venv. Inside the project it was ours in, that
        # is the user's deactivate: off until they leave (unless vox activates it again).
        marker = getenv("SHELLHOOK_VENV")
        venv = marker or st.vox or st.label_venv
        if not venv or getenv("VIRTUAL_ENV"):
            return
        project = st.project if marker else st.vox_project
        st.vox_undone = (venv, project, getenv("SHELLHOOK_OFF"), st.name, st.label)
        undo(True, venv)
        if project and within(getenv("PWD"), project):
            set_off(project)
        st.vox = st.vox_project = ""

    def vox_activated():
        # vox activated a venv. If it is the one it just deactivated, the user took over
        # the venv we showed: the same name, now theirs (a cd never undoes it), and its
        # deactivate is the user's. Another venv: the next prompt shows it.
        venv = getenv("VIRTUAL_ENV")
        undone, st.vox_undone = st.vox_undone, None
        st.vox, st.vox_project = venv, ""
        if undone is None:
            return
        old, project, off, name, label = undone
        set_off(off)  # not the user's deactivate after all
        if venv and venv == old:
            st.vox_project = project
            activate(venv, name, label, "", False)
            st.seen = venv

    def vox_deactivate():
        # Our deactivate while vox's venv is active: vox's own, so that it puts back what
        # it saved and tells its listeners. False when vox could not do it.
        Vox = getattr(sys.modules.get("xontrib.voxapi"), "Vox", None)
        if Vox is None:
            return False
        try:
            Vox().deactivate()  # fires vox_on_deactivate: vox_deactivated()
        except Exception:
            pass
        if getenv("VIRTUAL_ENV"):
            return False
        guarded(vox_deactivated)  # if the event did not come (a deleted venv)
        st.vox_undone = None
        return True

    def on_vox_deactivate(**kwargs):
        guarded(vox_deactivated)

    def on_vox_activate(**kwargs):
        guarded(vox_activated)

    def activate_xsh_deactivate():
        # The deactivate that virtualenv's activate.xsh defined, or None: its activator's
        # method (kept on __xonsh__.xontrib.virtualenv), or older templates' _deactivate.
        alias = aliases["deactivate"] if "deactivate" in aliases else None  # get(): a list
        func = getattr(alias, "func", alias)
        activator = getattr(getattr(XSH, "xontrib", None), "virtualenv", None)
        if func is not None and (func == getattr(activator, "deactivate", None)
                                 or getattr(func, "__name__", "") == "_deactivate"):
            return func
        return None

    def reclaim(theirs):
        # virtualenv's activate.xsh of the venv we activated, sourced over ours: let it
        # put back what it saved (its nondestructive deactivate), then ours again, whole:
        # one $PATH entry, our name, our deactivate, which counts as the user's.
        venv = getenv("SHELLHOOK_VENV")
        try:
            theirs(["nondestructive"])
        except Exception:
            pass
        for name in ("_OLD_VIRTUAL_PATH", "_OLD_VIRTUAL_PYTHONHOME"):
            delenv(name)
        holder = getattr(XSH, "xontrib", None)
        if getattr(getattr(holder, "virtualenv", None), "deactivate", None) == theirs:
            with contextlib.suppress(AttributeError):
                del holder.virtualenv  # else the next activate.xsh would call it again
        path_remove(venv + "/bin")
        path_prepend(venv + "/bin")
        env["VIRTUAL_ENV"] = venv
        env["VIRTUAL_ENV_PROMPT"] = st.name
        aliases["deactivate"] = deactivate_alias
        st.label_venv = venv

    def run_deactivate():
        # `U`: call the shell's deactivate if one is defined (before workon switches).
        if "deactivate" not in aliases:
            return
        if ours(aliases["deactivate"]):
            deactivate_alias()
            return
        run = getattr(XSH, "subproc_uncaptured", None)
        run = run or getattr(getattr(XSH, "builtins", None), "subproc_uncaptured", None)
        if run is not None:
            run(["deactivate"])

    def change_dir(directory):
        from xonsh.dirstack import cd

        result = cd([os.path.abspath(directory)])
        if isinstance(result, tuple) and len(result) == 3 and result[1]:
            sys.stderr.write(result[1])

    def apply(ops):
        project = label = name = ""
        refused = False  # the activation was refused: what follows it is not said
        for op, arg in ops:
            if op == "P":
                project = arg
            elif op == "L":
                label = arg
            elif op == "M":
                name = arg
            elif op == "A":
                refused = not activate(arg, name, label, project, True)
            elif op == "V":
                refused = not activate(arg, name, label, project, False)
            elif op == "D":
                undo(True, getenv("SHELLHOOK_VENV"))
            elif op == "F":
                undo(False, getenv("SHELLHOOK_VENV"))
            elif op == "U":
                run_deactivate()
            elif op == "C":
                change_dir(arg)
            elif op == "O":
                st.project, st.name = project, getenv("VIRTUAL_ENV_PROMPT")
                prompt_on(label)
            elif op == "S":
                set_off(arg)
            elif refused and op in ("I", "W"):
                pass  # "activated NAME", or a note about the venv not activated
            elif op == "I":
                if not getenv("SHELLHOOK_QUIET"):
                    say(arg)
            elif op == "W":
                warn(arg)
            elif op == "Y":
                if os.path.normpath(arg) != os.path.normpath(st.rt):
                    disconnect()  # our FIFOs are where the daemon is not
                    st.rt = arg
                st.stuck = False
        if st.forgotten:
            scrub()

    def guarded(func, *args):
        # Ctrl-C waits until the environment is entirely old or entirely new.
        st.busy = True
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if can_mask else None
        try:
            func(*args)
        finally:
            st.busy = False
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    # -- asking --------------------------------------------------------------------------
    def ask():
        st.pwd = getenv("PWD")
        st.seq += 1
        seq = str(st.seq)
        # owned: this shell has a deactivate (ours or the venv's) for its activation; the
        # deactivate-off project is exported, so that `exec xonsh` keeps it.
        fields = ["Q", seq, st.pwd, getenv("VIRTUAL_ENV"), getenv("SHELLHOOK_VENV"),
                  "1" if "deactivate" in aliases else "0", getenv("SHELLHOOK_OFF"),
                  getenv("WORKON_HOME")]
        # The exported variables the venv tools read (shellhook/toolenv.py), then ''.
        tool = [f"{k}={v}" for k, v in env.detype().items() if k in TOOL_NAMES]
        ops = ask_daemon([*fields, *tool, ""], seq.encode())
        fell_back = ops is None
        if fell_back:
            ops = ask_oneshot(fields, seq.encode())
            if ops is None:
                if not python():
                    guarded(uninstalled)
                return
        guarded(apply, ops)
        st.seen = getenv("VIRTUAL_ENV")
        if fell_back:
            # The one-off Python made the runtime dir and started a daemon, which knows
            # nothing of this shell: tell it what we asked, so that it watches our
            # directory and can nudge us (its answer to this old seq is skipped).
            post([*fields, *tool, ""])

    def nudged():
        if st.rfd < 0:
            return False
        rang, st.renudge = st.renudge, False
        try:
            rang = bool(os.read(st.rfd, 65536)) or rang  # a nudge (or a late doorbell)
        except OSError:  # BlockingIOError: nothing there
            pass
        if rang:
            st.stuck = False  # it did not answer in time, but is back: ask it again
        return rang

    def check():
        try:
            if st.busy:
                return
            st.vox_undone = None
            if ("_OLD_VIRTUAL_PATH" in env and st.label_venv
                    and getenv("VIRTUAL_ENV") == getenv("SHELLHOOK_VENV") == st.label_venv):
                theirs = activate_xsh_deactivate()  # activate.xsh of our venv, over ours
                if theirs is not None:
                    guarded(reclaim, theirs)
                    st.seen = getenv("VIRTUAL_ENV")
            if (env.get("PWD") != st.pwd or getenv("VIRTUAL_ENV") != st.seen
                    or nudged()):
                ask()
        except KeyboardInterrupt:
            pass
        except Exception as exc:  # never break the prompt; say it once
            warn(f"shellhook: xonsh hook failed: {exc!r}")

    def command(args, stdin=None, stdout=None, stderr=None):
        """Run `shellhook ARGS...` in the foreground and apply the reply frame it leaves in
        a private file (workon, mkvenv, ...). Returns its exit status."""
        py = python()
        if not py:
            say("shellhook: not installed")
            return 127
        st.seq += 1
        seq = str(st.seq)
        ops_file = f"{st.rt}/{st.sid or os.getpid()}.ops"
        cenv = child_env({"SHELLHOOK_OPS_FILE": ops_file, "SHELLHOOK_OPS_SEQ": seq})

        def stream(s):
            try:
                s.fileno()
            except Exception:
                return None
            return s

        try:
            proc = subprocess.Popen([py, "-I", "-m", "shellhook"] + [str(a) for a in args],
                                    env=cenv, stdin=stream(stdin), stdout=stream(stdout),
                                    stderr=stream(stderr))
        except OSError as exc:
            say(f"shellhook: {exc}")
            return 126
        while True:
            try:
                rc = proc.wait()
                break
            except KeyboardInterrupt:
                continue  # the command got the SIGINT as well: it decides
        try:
            info = os.lstat(ops_file)
            if stat.S_ISREG(info.st_mode) and info.st_uid == euid:
                fd = os.open(ops_file, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    data = os.read(fd, 1 << 20)
                finally:
                    os.close(fd)
                ops = parse_frame(data, seq.encode())[0]  # a stale frame is skipped
                if ops:
                    guarded(apply, ops)
        except OSError:
            pass
        # $VIRTUAL_ENV is not marked as seen: when it changed, the next prompt asks, so the
        # project's own venv comes back at once after `rmvenv` of the active one.
        return rc

    # -- {env_name} ----------------------------------------------------------------------
    fields = env.get("PROMPT_FIELDS")
    original_env_name = fields.get("env_name") if fields is not None else None

    def field(key, default):
        value = fields.get(key, default)
        return str(value() if callable(value) else value)

    def env_name_field():
        # xonsh's own env_name would show VIRTUAL_ENV_PROMPT bare when it is not the venv's
        # directory name (a project's .venv): show our safe label, as the other shells do.
        if (st.label and getenv("VIRTUAL_ENV") == st.label_venv
                and not env.get("VIRTUAL_ENV_DISABLE_PROMPT")):
            return field("env_prefix", "(") + st.label + field("env_postfix", ") ")
        if callable(original_env_name):
            return original_env_name()
        return "" if original_env_name is None else str(original_env_name)

    # -- events --------------------------------------------------------------------------
    def on_chdir(**kwargs):
        check()

    def on_prompt(**kwargs):
        check()

    def on_post_init(**kwargs):
        check()

    def on_exit(**kwargs):
        disconnect()

    def unload():
        """Remove the hook from this session (`xontrib unload shellhook`)."""
        for event, handler in handlers:
            event.discard(handler)
        if fields is not None and fields.get("env_name") is env_name_field:
            fields["env_name"] = original_env_name
        venv = getenv("VIRTUAL_ENV")
        if venv and venv == getenv("SHELLHOOK_VENV") and st.label_venv == venv:
            guarded(undo, True, venv)
        elif not venv or st.saved_alias is not None:
            restore_alias()
        disconnect()
        for name in registered:
            if name not in env:
                getattr(env, "_vars", {}).pop(name, None)
        sys.modules.pop("__shellhook_xonsh__", None)
        for name in ("__shellhook_command", "__shellhook_unload"):
            ns.pop(name, None)

    def uninstalled():
        # `install.sh --uninstall` removed the Python that answers us (and stopped the
        # daemon): undo any activation of ours, automatic or manual (workon, adopted), say
        # so once and unload, so that this shell stops asking. A venv that is not ours
        # (vox's, for one) stays active; workon & co. go on saying "not installed".
        venv, marker, note = getenv("VIRTUAL_ENV"), getenv("SHELLHOOK_VENV"), ""
        alias = aliases["deactivate"] if "deactivate" in aliases else None
        if venv and venv != st.vox and (venv in (marker, st.label_venv) or ours(alias)):
            note = "; deactivated " + (getenv("VIRTUAL_ENV_PROMPT") or venv)
            undo(True, venv)
        elif marker:
            undo(False, marker)  # another venv over ours: drop only what is ours
        if not getenv("VIRTUAL_ENV") and "SHELLHOOK_PYTHONHOME" in env:
            env["PYTHONHOME"] = getenv("SHELLHOOK_PYTHONHOME")
            delenv("SHELLHOOK_PYTHONHOME")
        for name in ("SHELLHOOK_VENV", "SHELLHOOK_OFF"):
            delenv(name)
        unload()  # our handlers and {env_name} out, FIFOs closed
        delenv("SHELLHOOK_SESSION")
        say(f"shellhook: uninstalled ({ns.get('__shellhook_python')} is gone): "
            f"the hook is off in this shell{note}")

    # Before the prompt is formatted, so {env_name} is already up to date (xonsh's readline
    # shell formats it before on_pre_prompt).
    prompt_event = (events.on_pre_prompt_format if events.exists("on_pre_prompt_format")
                    else events.on_pre_prompt)
    handlers = [(events.on_chdir, on_chdir), (prompt_event, on_prompt),
                (events.on_exit, on_exit), (events.on_post_init, on_post_init),
                (events.vox_on_activate, on_vox_activate),
                (events.vox_on_deactivate, on_vox_deactivate)]
    registered = register_variables()
    if getenv("SHELLHOOK_SESSION"):
        delenv("SHELLHOOK_SESSION")  # a parent shell's: nudges must not go there
    if fields is not None:
        fields["env_name"] = env_name_field
    api = types.ModuleType("__shellhook_xonsh__", "The xonsh hook running in this session.")
    api.command, api.unload, api.state, api.namespace = command, unload, st, ns
    sys.modules["__shellhook_xonsh__"] = api
    ns["__shellhook_command"] = command
    ns["__shellhook_unload"] = unload
    for event, handler in handlers:
        event(handler)  # on_post_init runs the handler at once if xonsh is past start-up


# One hook per session, however many times and ways it is loaded.
if "__shellhook_xonsh__" in __import__("sys").modules:
    __shellhook_command = __import__("sys").modules["__shellhook_xonsh__"].command
else:
    __shellhook_setup(globals())
del __shellhook_setup
