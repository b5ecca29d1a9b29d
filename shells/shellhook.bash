# shellhook hook for bash (>= 4.4). Load it with: eval "$(shellhook init bash)".
#
# Each prompt compares $PWD and $VIRTUAL_ENV with what it saw last and checks, with one
# select() (`read -t 0`), whether the daemon nudged it; only then does it ask the daemon
# through this shell's FIFO pair. The daemon answers in a regular file (bash reads a
# pipe one byte per system call) and rings a one-byte doorbell on the FIFO. Replies are
# NUL-separated (op, arg) pairs applied by the code below: nothing received is ever
# evaluated. Protocol: docs/protocol.md.
# shellcheck shell=bash disable=SC2154  # __shellhook_python is set by the init header

# Non-interactive shells are left alone; loading twice is harmless.
[[ $- == *i* ]] || return 0
[[ -z ${__shellhook_loaded-} ]] || return 0
__shellhook_loaded=1
builtin unset SHELLHOOK_SESSION   # a parent's: ours is set when we connect

# Root runs only a shellhook of root's own: a root shell that keeps a user's HOME and rc
# files (`sudo -E bash`) would otherwise start a root daemon from the user's files.
if ((EUID == 0)) && [[ -e $__shellhook_python ]] && ! [[ -O $__shellhook_python &&
  -O ${__shellhook_python%/*} && -O ${__shellhook_python%/*/*} ]]; then
  builtin printf "shellhook: off in this root shell: %s is not root's\n" "$__shellhook_python" >&2
  return 0
fi

__shellhook_pwd=''          # $PWD when we last asked
__shellhook_seen=''         # $VIRTUAL_ENV after we last applied a reply
__shellhook_seq=0
__shellhook_owned=0         # 1 when a deactivate (ours or the venv's) exists: set when asking
__shellhook_active=''       # the venv of our activation (automatic or manual), or ''
__shellhook_name=''         # VIRTUAL_ENV_PROMPT of our activation
__shellhook_project=''      # project of our activation
__shellhook_prefix=''       # what we put in front of PS1
__shellhook_id=''           # session id: names our files in the runtime dir
__shellhook_wfd=''          # request FIFO (write end)
__shellhook_rfd=''          # reply FIFO (read end)
__shellhook_stuck=''        # the daemon did not answer in time
__shellhook_dpid=''         # the daemon's pid, as last read from its pid file
__shellhook_reply=()
__shellhook_user_cd=''      # 1: a cd function of the user's runs as __shellhook_user_cd
declare -gA __shellhook_said=()  # warnings printed in this session (keys: text, never arithmetic)

# The runtime dir as platformdirs computes it; the one-off Python corrects us if it differs (Y).
if [[ -n ${XDG_RUNTIME_DIR//[[:space:]]/} ]]; then
  __shellhook_rt=$XDG_RUNTIME_DIR/shellhook
elif [[ -d /run/user/$EUID ]]; then
  __shellhook_rt=/run/user/$EUID/shellhook
else
  __shellhook_rt=${TMPDIR:-/tmp}; __shellhook_rt=${__shellhook_rt%/}/runtime-$EUID/shellhook
fi

__shellhook_path_remove() {
  # Remove every $1 entry from PATH (or the PATH-like variable named $2), keeping all
  # other bytes as they were.
  local var=${2:-PATH} p
  p=":${!var-}:"
  [[ $p == *":$1:"* ]] || return 0
  while [[ $p == *":$1:"* ]]; do p=${p/":$1:"/:}; done
  p=${p#:}
  builtin printf -v "$var" '%s' "${p%:}"
}

__shellhook_connect() {
  # Create and open this shell's FIFO pair in the private runtime dir (one fork, once).
  local rt=$__shellhook_rt id
  [[ -d $rt && ! -L $rt && -O $rt ]] || return 1
  id=$$-$RANDOM$RANDOM
  command mkfifo -m 600 -- "$rt/$id.req" "$rt/$id.rep" 2>/dev/null || return 1
  exec {__shellhook_wfd}<>"$rt/$id.req" {__shellhook_rfd}<>"$rt/$id.rep" || return 1
  __shellhook_id=$id
  export SHELLHOOK_SESSION=$id
}

__shellhook_disconnect() {
  # The daemon lives in runtime dir $1, not where we looked: reconnect there next time.
  [[ -z $__shellhook_wfd ]] || exec {__shellhook_wfd}>&- {__shellhook_rfd}<&-
  __shellhook_wfd='' __shellhook_rfd='' __shellhook_id='' __shellhook_dpid='' __shellhook_rt=$1
}

__shellhook_read_reply() {
  # Read (op, arg) pairs from fd $1 until our frame's E, waiting up to $2 s per read
  # (a pipe), or without a timeout when $2 is empty (a regular file: never blocks).
  local fd=$1 op arg mine='' wait=()
  [[ -z $2 ]] || wait=(-t "$2")
  __shellhook_reply=()
  while IFS= read -r -d '' "${wait[@]}" -u "$fd" op &&
    IFS= read -r -d '' "${wait[@]}" -u "$fd" arg; do
    if [[ $op == R ]]; then
      if [[ $arg == "$__shellhook_seq" ]]; then mine=1; else mine=''; fi
    elif [[ -n $mine ]]; then
      [[ $op == E ]] && return 0
      __shellhook_reply+=("$op" "$arg")
    fi
  done
  return 1
}

__shellhook_read_file() {
  # The reply frame in regular file $1, read with one builtin (mapfile splits at NULs):
  # ours when it is R, our seq, (op, arg) pairs, and E '' last (the daemon truncates the
  # file to the frame, and rings after writing it). Anything else is skipped: another
  # seq, a frame cut short, two frames in one (an E followed by an R), one over 64 KiB or
  # 256 fields (the daemon writes a few hundred bytes: taking more would hold the prompt).
  # Status 1: not our frame (yet); 2: ours, but malformed.
  local -a f
  local n all IFS=$'\x1f'
  # (no 2>/dev/null: opening it costs more than the read; the file was just written)
  [[ -f $1 ]] && builtin mapfile -d '' -n 256 -t f <"$1" || return 1
  n=${#f[@]}
  [[ ${f[0]-} == R && ${f[1]-} == "$__shellhook_seq" ]] || return 1
  ((n >= 4 && n % 2 == 0 && n < 256)) && [[ ${f[n - 2]} == E ]] || return 2
  all="${f[*]}"
  ((${#all} < 65536)) && [[ $all != *$'\x1fE\x1f\x1fR\x1f'* ]] || return 2
  __shellhook_reply=("${f[@]:2:n-4}")
}

__shellhook_send() {
  # The exported variables the venv tools read (shellhook/toolenv.py), then ''.
  # __shellhook_tool_set (written by `shellhook init`) lists the ones set, and fails
  # at once when none is (the usual case).
  local -a tool=() __shellhook_tool
  local name
  # Our last request is still unread (a slow or stuck daemon): not another one now. A
  # write to a full FIFO blocks for good, and requests pile up when nobody reads them.
  ! builtin read -t 0 -u "$__shellhook_wfd" || return 1
  if __shellhook_tool_set; then
    for name in "${__shellhook_tool[@]}"; do
      [[ ${!name@a} == *x* ]] && tool+=("$name=${!name}")
    done
  fi
  builtin printf '%s\0' Q "$__shellhook_seq" "$PWD" "${VIRTUAL_ENV-}" "${SHELLHOOK_VENV-}" \
    "$__shellhook_owned" "${SHELLHOOK_OFF-}" "${WORKON_HOME-}" "${tool[@]}" '' \
    >&"$__shellhook_wfd"
}

__shellhook_ask_daemon() {
  if [[ -n $__shellhook_stuck ]]; then
    # It did not answer in time, but has rung since (a late answer): it is back. Else a
    # one-off Python answers, which would hang too where the daemon hung.
    [[ -n $__shellhook_rfd ]] && builtin read -t 0 -u "$__shellhook_rfd" || return 1
    __shellhook_stuck=''
  fi
  if [[ -z $__shellhook_wfd ]]; then __shellhook_connect || return 1; fi
  # Is the daemon alive? The pid file is read again only when the pid we know is gone.
  if [[ -z $__shellhook_dpid ]] || ! builtin kill -0 "$__shellhook_dpid" 2>/dev/null; then
    __shellhook_dpid=''
    { IFS= read -r __shellhook_dpid < "$__shellhook_rt/daemon.pid"; } 2>/dev/null
    [[ -n $__shellhook_dpid ]] && builtin kill -0 "$__shellhook_dpid" 2>/dev/null || return 1
  fi
  __shellhook_send || return 1
  # Wait for the doorbell: at most 4 x 50 ms. A nudge, or the bell of an older reply
  # (the file then holds another seq), does not end the wait.
  # A bell that comes as a `read -t` times out is lost (bash 5.2: 3 in 100 within the
  # last 10 ms), so the file is read after a timeout too, unless it held a frame of ours
  # that was refused (a 10 MB one costs 0.3 s a read) and no bell came since.
  local bell refused=''
  for _ in 1 2 3 4; do
    if IFS= builtin read -r -N 1 -t 0.05 -u "$__shellhook_rfd" bell; then
      [[ $bell == R ]] || continue
      refused=''
    elif __shellhook_daemon_stopped; then
      break
    elif [[ -n $refused ]]; then
      continue
    fi
    __shellhook_read_file "$__shellhook_rt/$__shellhook_id.a" && return 0
    (($? == 2)) && refused=1
  done
  __shellhook_stuck=1
  return 1
}

__shellhook_daemon_stopped() {
  # Linux: the daemon is stopped (SIGSTOP, a debugger): waiting on will not help. The
  # state follows the last ") " of /proc/PID/stat (the command name may hold one).
  local stat
  { IFS= read -r stat <"/proc/$__shellhook_dpid/stat"; } 2>/dev/null || return 1
  [[ ${stat##*") "} == [Tt]* ]]
}

__shellhook_ask_oneshot() {
  # No daemon: decide with a one-off Python (which also restarts the daemon).
  [[ -x $__shellhook_python ]] || return 1
  local fd
  # Without the shell's LD_PRELOAD: no library of a (malicious) venv's runs in the
  # Python that starts the daemon. (-I leaves out the PYTHON* variables.)
  exec {fd}< <(builtin unset LD_PRELOAD
    "$__shellhook_python" -I -m shellhook hook ${__shellhook_stuck:+--stuck} \
    "$__shellhook_seq" "$PWD" "${VIRTUAL_ENV-}" "${SHELLHOOK_VENV-}" "$__shellhook_owned" \
    "${SHELLHOOK_OFF-}" "${WORKON_HOME-}" 2>/dev/null)
  __shellhook_read_reply "$fd" 1
  local rc=$?
  exec {fd}<&-
  return $rc
}

__shellhook_activate() {
  # $1 venv, $2 VIRTUAL_ENV_PROMPT, $3 prompt label (safe characters only), $4 project,
  # $5 "auto" (ours: marked in SHELLHOOK_VENV) or "manual" (workon: cd never replaces it)
  __shellhook_path_remove "$1/bin"   # present already (e.g. restored by another deactivate)
  if [[ -n ${PYTHONHOME+set} ]]; then
    export SHELLHOOK_PYTHONHOME=$PYTHONHOME
    unset PYTHONHOME
  fi
  export VIRTUAL_ENV="$1" VIRTUAL_ENV_PROMPT="$2" PATH="$1/bin${PATH:+:$PATH}"
  if [[ $5 == auto ]]; then
    export SHELLHOOK_VENV="$1"
    __shellhook_project=$4
  fi
  __shellhook_active=$1 __shellhook_name=$2
  __shellhook_prompt_on "$3"
  builtin hash -r
}

__shellhook_prompt_on() {
  # Define deactivate and, unless disabled, show "(label) " before the prompt.
  # shellcheck disable=SC2317  # called by the user
  deactivate() { __shellhook_deactivate; }
  __shellhook_prefix=''
  # No prefix where the user said so, or where the prompt shows the venv itself (a theme).
  [[ -z ${VIRTUAL_ENV_DISABLE_PROMPT-} && $PS1 != *VIRTUAL_ENV* ]] || return 0
  __shellhook_prefix="($1) "
  [[ $PS1 == "$__shellhook_prefix"* ]] || PS1=$__shellhook_prefix$PS1
}

__shellhook_undo() {
  # $1 = full: undo the activation of venv $2; forget: a manual venv took over, drop
  # only our PATH entry, marker and prompt prefix.
  local venv=$2
  [[ -n $venv ]] || return 0
  __shellhook_path_remove "$venv/bin"
  if [[ $1 == full ]]; then
    if [[ -n ${SHELLHOOK_PYTHONHOME+set} ]]; then
      export PYTHONHOME=$SHELLHOOK_PYTHONHOME
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT SHELLHOOK_VENV SHELLHOOK_PYTHONHOME
    [[ -z $__shellhook_prefix ]] || PS1=${PS1#"$__shellhook_prefix"}
    builtin unset -f deactivate
  else
    unset SHELLHOOK_VENV   # SHELLHOOK_PYTHONHOME stays for our next deactivation
    [[ -z $__shellhook_prefix ]] || PS1=${PS1/"$__shellhook_prefix"/}
    # The venv's activate saved PATH and PS1 with our entry and prefix in them, to put
    # back at its deactivate: take ours out of those too.
    [[ -z ${_OLD_VIRTUAL_PATH+set} ]] || __shellhook_path_remove "$venv/bin" _OLD_VIRTUAL_PATH
    [[ -z $__shellhook_prefix || -z ${_OLD_VIRTUAL_PS1+set} ]] ||
      _OLD_VIRTUAL_PS1=${_OLD_VIRTUAL_PS1/"$__shellhook_prefix"/}
  fi
  __shellhook_project='' __shellhook_prefix='' __shellhook_active=''
  builtin hash -r
}

__shellhook_activate_ran() {
  # A venv's own activate script ran over our activation: it saved PATH and the prompt
  # (ours in them) and put its entry, prefix and deactivate on top. The same venv: undo
  # what the script added, so one entry and one prefix remain; the activation is the
  # user's from now on (a cd never undoes it), and its deactivate still turns the project
  # off. Another venv: step aside, leaving nothing of ours for its deactivate to restore.
  if [[ ${VIRTUAL_ENV-} -ef $__shellhook_active ]]; then
    __shellhook_path_remove "$VIRTUAL_ENV/bin"
    __shellhook_path_remove "$__shellhook_active/bin"
    PATH="$__shellhook_active/bin${PATH:+:$PATH}"
    [[ -z ${_OLD_VIRTUAL_PS1+set} ]] || PS1=$_OLD_VIRTUAL_PS1
    [[ -z ${_OLD_VIRTUAL_PYTHONHOME+set} ]] ||
      export SHELLHOOK_PYTHONHOME=$_OLD_VIRTUAL_PYTHONHOME
    unset _OLD_VIRTUAL_PATH _OLD_VIRTUAL_PS1 _OLD_VIRTUAL_PYTHONHOME SHELLHOOK_VENV
    export VIRTUAL_ENV=$__shellhook_active VIRTUAL_ENV_PROMPT=$__shellhook_name
    # shellcheck disable=SC2317  # called by the user
    deactivate() { __shellhook_deactivate; }
    builtin hash -r
  else
    __shellhook_undo forget "$__shellhook_active"
  fi
}

__shellhook_deactivate() {
  # The user's `deactivate`. Of a venv activated for a project (ours, or ours sourced
  # again by the user): off until they leave that project. Of workon's: just undo; the
  # next prompt asks, so auto-activation resumes.
  local p=$__shellhook_project
  if [[ -n $p && ($PWD == "$p" || $PWD == "${p%/}"/*) ]]; then
    export SHELLHOOK_OFF=$p   # (outside it, off would end at the next prompt anyway)
  fi
  __shellhook_undo full "${VIRTUAL_ENV-}"
}

__shellhook_apply() {
  local op arg project='' label='' name=''
  set -- "${__shellhook_reply[@]}"   # (shifting these costs bash half of indexing an array)
  while (($# > 1)); do
    op=$1 arg=$2
    shift 2
    case $op in
      P) project=$arg ;;
      L) label=$arg ;;
      M) name=$arg ;;
      A) __shellhook_activate "$arg" "$name" "$label" "$project" auto ;;
      V) __shellhook_activate "$arg" "$name" "$label" "$project" manual ;;
      D) __shellhook_undo full "${SHELLHOOK_VENV-}" ;;
      F) __shellhook_undo forget "${SHELLHOOK_VENV-}" ;;
      U) ! builtin declare -F deactivate >/dev/null || deactivate ;;
      C) builtin cd -- "$arg" || : ;;
      O) __shellhook_project=$project __shellhook_active=$arg __shellhook_name=$name
         __shellhook_prompt_on "$label" ;;
      S) if [[ -n $arg ]]; then export SHELLHOOK_OFF=$arg; else unset SHELLHOOK_OFF; fi ;;
      I) [[ -n ${SHELLHOOK_QUIET-} ]] || builtin printf '%s\n' "$arg" >&2 ;;
      W) [[ -n ${__shellhook_said[$arg]-} ]] || builtin printf '%s\n' "$arg" >&2
         __shellhook_said[$arg]=1 ;;
      Y) [[ $arg == "$__shellhook_rt" ]] || __shellhook_disconnect "$arg"
         __shellhook_stuck='' ;;
    esac
  done
}

__shellhook_command() {
  # Run a shellhook command (workon, mkvenv, ...) in the foreground; apply the reply
  # frame it leaves in a private file. The terminal stays the command's own.
  [[ -x $__shellhook_python ]] || { builtin printf 'shellhook: not installed\n' >&2; return 127; }
  local ops rc
  ((++__shellhook_seq))
  ops=$__shellhook_rt/${__shellhook_id:-$$}.ops
  SHELLHOOK_OPS_FILE=$ops SHELLHOOK_OPS_SEQ=$__shellhook_seq \
    "$__shellhook_python" -I -m shellhook "$@"
  rc=$?
  # A stale frame (an older seq) is skipped; the daemon removes the file with the session.
  if [[ -f $ops && ! -L $ops && -O $ops ]] && __shellhook_read_reply 0 '' <"$ops"; then
    __shellhook_apply
  fi
  # (VIRTUAL_ENV is not marked as seen: when it changed, the next prompt asks, so the
  # project's own venv comes back at once after rmvenv of the active one.)
  return $rc
}

__shellhook_ask() {
  __shellhook_pwd=$PWD
  __shellhook_owned=0
  ! builtin declare -F deactivate >/dev/null || __shellhook_owned=1
  ((++__shellhook_seq))
  if __shellhook_ask_daemon; then
    __shellhook_apply
  elif __shellhook_ask_oneshot; then
    __shellhook_apply
    # The one-off Python made the runtime dir and started a daemon, which knows nothing
    # of this shell: tell it what we asked, so that it watches this directory and can
    # nudge us (its answer to this old seq is skipped).
    [[ -n $__shellhook_wfd ]] || __shellhook_connect && __shellhook_send
  else
    [[ -x $__shellhook_python ]] || __shellhook_uninstalled
    return 0
  fi
  __shellhook_seen=${VIRTUAL_ENV-}
}

__shellhook_chdir() {
  # Run $1 (cd, pushd or popd) with the other arguments, then apply this directory's
  # venv at once, so the rest of the command line runs in it (`cd proj && pip install`).
  # A cd function of the user's, or another tool's, runs instead of the builtin.
  local rc
  if [[ $1 == cd && -n $__shellhook_user_cd ]]; then
    __shellhook_user_cd "${@:2}"
  else
    builtin "$@"
  fi
  rc=$?
  # Not in a subshell: `$(cd dir && pwd)` must stay quick and quiet.
  [[ $PWD == "$__shellhook_pwd" || $BASHPID != "$$" ]] || __shellhook_ask
  return $rc
}

__shellhook_wrap_cd() {
  # Put our cd in front of the one defined now (kept as __shellhook_user_cd, called by
  # ours), and wrap pushd and popd unless they are functions already. Done at the first
  # prompt, after the rc files, and again when the directory changed without our cd.
  # SHELLHOOK_WRAP_CD=0 leaves cd alone: the venv then changes at the next prompt.
  [[ ${SHELLHOOK_WRAP_CD-1} != 0 ]] || return 0
  local def scratch=$__shellhook_rt/$__shellhook_id.s
  if builtin declare -F cd >/dev/null; then
    # Its text through this session's scratch file: a $(...) would fork at each prompt
    # after a `builtin cd` (zoxide's and autojump's jumps), when ours is still in place.
    if [[ -n $__shellhook_id ]] && builtin declare -f cd 2>/dev/null >|"$scratch"; then
      IFS= builtin read -r -d '' def <"$scratch"
    else
      def=$(builtin declare -f cd)
    fi
    if [[ $def != *__shellhook_chdir* ]]; then
      builtin eval "__shellhook_user_$def"
      __shellhook_user_cd=1
    fi
  fi
  cd() { __shellhook_chdir cd "$@"; }
  builtin declare -F pushd >/dev/null || pushd() { __shellhook_chdir pushd "$@"; }
  builtin declare -F popd >/dev/null || popd() { __shellhook_chdir popd "$@"; }
}

__shellhook_uninstalled() {
  # shellhook was uninstalled under this shell (its Python is gone): undo our activation
  # (its deactivate could not work for long), say so once, and unhook for good.
  local what='' def i
  if [[ -n $__shellhook_active ]]; then
    what="; deactivated ${VIRTUAL_ENV_PROMPT:-${__shellhook_active##*/}}"
    __shellhook_undo full "$__shellhook_active"
  fi
  builtin printf 'shellhook: uninstalled (%s is gone): the hook is off in this shell%s\n' \
    "$__shellhook_python" "$what" >&2
  [[ -z $__shellhook_wfd ]] || exec {__shellhook_wfd}>&- {__shellhook_rfd}<&-
  __shellhook_wfd='' __shellhook_rfd=''
  for i in "${!PROMPT_COMMAND[@]}"; do
    PROMPT_COMMAND[i]=${PROMPT_COMMAND[i]//__shellhook_prompt;/}
    PROMPT_COMMAND[i]=${PROMPT_COMMAND[i]//__shellhook_prompt/}
  done
  builtin unset -f cd
  ! builtin declare -F pushd >/dev/null || [[ $(builtin declare -f pushd) != *__shellhook_* ]] ||
    builtin unset -f pushd
  ! builtin declare -F popd >/dev/null || [[ $(builtin declare -f popd) != *__shellhook_* ]] ||
    builtin unset -f popd
  if builtin declare -F __shellhook_user_cd >/dev/null; then
    def=$(builtin declare -f __shellhook_user_cd)   # the user's cd, under its own name again
    builtin eval "${def/#__shellhook_user_cd/cd}"
  fi
  unset SHELLHOOK_SESSION SHELLHOOK_OFF
}

__shellhook_prompt() {
  local status=$?
  # A venv's own activate sourced over our activation (one cheap test).
  if [[ -n ${_OLD_VIRTUAL_PATH+set} && -n $__shellhook_active ]]; then
    __shellhook_activate_ran
  fi
  if [[ $PWD != "$__shellhook_pwd" ]]; then
    __shellhook_wrap_cd
    __shellhook_ask
  elif [[ ${VIRTUAL_ENV-} != "$__shellhook_seen" ]]; then
    __shellhook_ask
  elif [[ -n $__shellhook_rfd ]] && builtin read -t 0 -u "$__shellhook_rfd"; then
    __shellhook_ask   # nudged: a venv or its trust changed
  fi
  return $status
}

# A hashed venv program whose venv was deleted (from another terminal) is looked up on
# PATH again instead of failing with "No such file or directory".
builtin shopt -s checkhash

# Run first at each prompt, so prompt themes see the new $VIRTUAL_ENV.
if [[ ${PROMPT_COMMAND[*]-} != *__shellhook_prompt* ]]; then
  if ((${#PROMPT_COMMAND[@]} > 1)); then
    PROMPT_COMMAND=(__shellhook_prompt "${PROMPT_COMMAND[@]}")
  else
    PROMPT_COMMAND[0]="__shellhook_prompt${PROMPT_COMMAND[0]:+;${PROMPT_COMMAND[0]}}"
  fi
fi
