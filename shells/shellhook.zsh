# shellhook hook for zsh (>= 5.3). Load it with: eval "$(shellhook init zsh)".
#
# Each prompt compares $PWD and $VIRTUAL_ENV with what it saw last and checks, with
# `zselect -t 0`, whether the daemon nudged it; only then does it ask the daemon through
# this shell's FIFO pair. The daemon answers in a regular file and rings a one-byte
# doorbell on the FIFO. Replies are NUL-separated (op, arg) pairs, read with one
# `sysread` and applied by the code below: nothing received is ever evaluated.
# Protocol: docs/protocol.md.

# Non-interactive shells are left alone; loading twice is harmless.
[[ -o interactive ]] || return 0
(( ${+__shellhook_loaded} )) && return 0
typeset -g __shellhook_loaded=1
builtin unset SHELLHOOK_SESSION   # a parent's: ours is set when we connect

# Root runs only a shellhook of root's own: a root shell that keeps a user's HOME and rc
# files (`sudo -E zsh`) would otherwise start a root daemon from the user's files.
if (( EUID == 0 )) && [[ -e $__shellhook_python ]] && ! [[ -O $__shellhook_python &&
  -O ${__shellhook_python%/*} && -O ${__shellhook_python%/*/*} ]]; then
  builtin printf "shellhook: off in this root shell: %s is not root's\n" "$__shellhook_python" >&2
  return 0
fi

typeset -g __shellhook_pwd=''       # $PWD when we last asked
typeset -g __shellhook_seen=''      # $VIRTUAL_ENV after we last applied a reply
typeset -gi __shellhook_seq=0
typeset -g __shellhook_owned=0      # 1 when a deactivate (ours or the venv's) exists: set when asking
typeset -g __shellhook_venv=''      # the venv this shell activated or adopted (auto or manual)
typeset -g __shellhook_name=''      # VIRTUAL_ENV_PROMPT of that activation
typeset -g __shellhook_project=''   # project of our activation
typeset -g __shellhook_busy=''      # applying a reply: a cd it makes does not ask again
typeset -g __shellhook_prefix=''    # what we put in front of PS1
typeset -g __shellhook_id=''        # session id: names our files in the runtime dir
typeset -g __shellhook_wfd=''       # request FIFO (write end)
typeset -g __shellhook_rfd=''       # reply FIFO (read end)
typeset -g __shellhook_stuck=''     # the daemon did not answer in time
typeset -g __shellhook_dpid=''      # the daemon's pid, as last read from its pid file
typeset -ga __shellhook_reply=()
typeset -gA __shellhook_said=()     # warnings already printed in this session
zmodload -F zsh/zselect b:zselect 2>/dev/null
zmodload -F zsh/system b:sysread 2>/dev/null

# The runtime dir as platformdirs computes it; the one-off Python corrects us if it differs (Y).
if [[ -n ${XDG_RUNTIME_DIR//[[:space:]]/} ]]; then
  typeset -g __shellhook_rt=$XDG_RUNTIME_DIR/shellhook
elif [[ -d /run/user/$EUID ]]; then
  typeset -g __shellhook_rt=/run/user/$EUID/shellhook
else
  typeset -g __shellhook_rt=${${TMPDIR:-/tmp}%/}/runtime-$EUID/shellhook
fi

__shellhook_path_remove() {
  # Remove every $1 entry from PATH (or the PATH-like variable named $2), keeping all
  # other bytes as they were.
  emulate -L zsh
  local var=${2:-PATH} p
  p=":${(P)var-}:"
  [[ $p == *":$1:"* ]] || return 0
  while [[ $p == *":$1:"* ]]; do p=${p/":$1:"/:}; done
  p=${p#:}
  : ${(P)var::=${p%:}}
}

__shellhook_connect() {
  # Create and open this shell's FIFO pair in the private runtime dir (one fork, once).
  emulate -L zsh
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
  emulate -L zsh
  [[ -z $__shellhook_wfd ]] || exec {__shellhook_wfd}>&- {__shellhook_rfd}<&-
  __shellhook_wfd='' __shellhook_rfd='' __shellhook_id='' __shellhook_dpid='' __shellhook_rt=$1
}

__shellhook_read_reply() {
  # Read fd $1 in chunks (waiting up to $2 s each) until it holds our frame: zsh keeps
  # NUL bytes in a variable, so one sysread and a split on NUL replace a read per field.
  emulate -L zsh
  local buf='' chunk mine
  local -a fields
  integer i
  while sysread -s 65536 -t $2 -i $1 chunk; do
    buf+=$chunk
    (( $#buf <= 65536 )) || return 1   # not a reply the daemon writes (a few hundred bytes)
    fields=("${(@0)buf}")
    __shellhook_reply=() mine=''
    for (( i = 1; i < $#fields && i < 1024; i += 2 )); do   # more pairs: not a reply
      if [[ $fields[i] == R ]]; then
        if [[ $fields[i+1] == $__shellhook_seq ]]; then mine=1; else mine=''; fi
      elif [[ -n $mine ]]; then
        [[ $fields[i] == E ]] && return 0
        __shellhook_reply+=("$fields[i]" "$fields[i+1]")
      fi
    done
  done
  return 1
}

__shellhook_send() {
  emulate -L zsh
  # The exported variables the venv tools read (shellhook/toolenv.py), then ''.
  # __shellhook_tool_set (written by `shellhook init`) lists the ones set, and fails
  # at once when none is (the usual case).
  local -a tool __shellhook_tool
  local name
  # Our last request is still unread (a slow or stuck daemon): not another one now. A
  # write to a full FIFO blocks for good, and requests pile up when nobody reads them.
  (( ! ${+builtins[zselect]} )) || ! zselect -t 0 -r $__shellhook_wfd || return 1
  if __shellhook_tool_set; then
    for name in $__shellhook_tool; do
      [[ ${parameters[$name]} == *export* ]] && tool+=("$name=${(P)name}")
    done
  fi
  builtin printf '%s\0' Q $__shellhook_seq "$PWD" "${VIRTUAL_ENV-}" "${SHELLHOOK_VENV-}" \
    $__shellhook_owned "${SHELLHOOK_OFF-}" "${WORKON_HOME-}" "${tool[@]}" '' \
    >&$__shellhook_wfd
}

__shellhook_ask_daemon() {
  emulate -L zsh
  if [[ -n $__shellhook_stuck ]]; then
    # It did not answer in time, but has rung since (a late answer): it is back. Else a
    # one-off Python answers, which would hang too where the daemon hung.
    [[ -n $__shellhook_rfd ]] && (( ${+builtins[zselect]} )) &&
      zselect -t 0 -r $__shellhook_rfd || return 1
    __shellhook_stuck=''
  fi
  if [[ -z $__shellhook_wfd ]]; then __shellhook_connect || return 1; fi
  # Is the daemon alive? The pid file is read again only when the pid we know is gone.
  if [[ -z $__shellhook_dpid ]] || ! builtin kill -0 $__shellhook_dpid 2>/dev/null; then
    __shellhook_dpid=''
    { IFS= builtin read -r __shellhook_dpid < $__shellhook_rt/daemon.pid } 2>/dev/null
    [[ -n $__shellhook_dpid ]] && builtin kill -0 $__shellhook_dpid 2>/dev/null || return 1
  fi
  __shellhook_send || return 1
  # Wait for the doorbell: at most 4 x 50 ms. A nudge, or the bell of an older reply
  # (the file then holds another seq), does not end the wait.
  local bell
  repeat 4; do
    if builtin read -r -k 1 -t 0.05 -u $__shellhook_rfd bell; then
      [[ $bell == R ]] || continue
    else
      __shellhook_daemon_stopped && break
      continue
    fi
    # (no 2>/dev/null: opening it costs more than the read; the file was just written)
    [[ -f $__shellhook_rt/$__shellhook_id.a ]] &&
      __shellhook_read_reply 0 1 <$__shellhook_rt/$__shellhook_id.a && return 0
  done
  __shellhook_stuck=1
  return 1
}

__shellhook_daemon_stopped() {
  # Linux: the daemon is stopped (SIGSTOP, a debugger): waiting on will not help. The
  # state follows the last ") " of /proc/PID/stat (the command name may hold one).
  emulate -L zsh
  local stat
  { IFS= builtin read -r stat <"/proc/$__shellhook_dpid/stat" } 2>/dev/null || return 1
  [[ ${stat##*") "} == [Tt]* ]]
}

__shellhook_ask_oneshot() {
  # No daemon: decide with a one-off Python (which also restarts the daemon).
  emulate -L zsh
  [[ -x $__shellhook_python ]] || return 1
  local fd rc
  # Without the shell's LD_PRELOAD: no library of a (malicious) venv's runs in the
  # Python that starts the daemon. (-I leaves out the PYTHON* variables.)
  exec {fd}< <(builtin unset LD_PRELOAD
    "$__shellhook_python" -I -m shellhook hook ${__shellhook_stuck:+--stuck} \
    $__shellhook_seq "$PWD" "${VIRTUAL_ENV-}" "${SHELLHOOK_VENV-}" $__shellhook_owned \
    "${SHELLHOOK_OFF-}" "${WORKON_HOME-}" 2>/dev/null)
  __shellhook_read_reply $fd 1
  rc=$?
  exec {fd}<&-
  return $rc
}

__shellhook_activate() {
  # $1 venv, $2 VIRTUAL_ENV_PROMPT, $3 prompt label (safe characters only), $4 project,
  # $5 "auto" (ours: marked in SHELLHOOK_VENV) or "manual" (workon: cd never replaces it)
  emulate -L zsh
  __shellhook_path_remove "$1/bin"   # present already (e.g. restored by another deactivate)
  if (( ${+PYTHONHOME} )); then
    export SHELLHOOK_PYTHONHOME=$PYTHONHOME
    unset PYTHONHOME
  fi
  export VIRTUAL_ENV="$1" VIRTUAL_ENV_PROMPT="$2" PATH="$1/bin${PATH:+:$PATH}"
  __shellhook_venv=$1 __shellhook_name=$2
  if [[ $5 == auto ]]; then
    export SHELLHOOK_VENV="$1"
    __shellhook_project=$4
  fi
  __shellhook_prompt_on "$3"
  builtin rehash
}

__shellhook_prompt_on() {
  # Define deactivate and, unless disabled, show "(label) " before the prompt.
  emulate -L zsh
  deactivate() { __shellhook_deactivate }
  __shellhook_prefix=''
  [[ -z ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] && ! __shellhook_theme_shows_venv || return 0
  __shellhook_prefix="($1) "
  [[ $PS1 == $__shellhook_prefix* ]] || PS1=$__shellhook_prefix$PS1
}

__shellhook_theme_shows_venv() {
  # True when the prompt shows the venv itself (a theme such as pure): its text, or a
  # function run at each prompt, reads VIRTUAL_ENV. Then a prefix of ours would be a
  # second name. (A theme that sets VIRTUAL_ENV_DISABLE_PROMPT is caught before this.)
  emulate -L zsh
  [[ $PS1${RPS1-} == *VIRTUAL_ENV* ]] && return 0
  local f
  for f in precmd ${precmd_functions:#__shellhook_*}; do
    [[ ${functions[$f]-} == *VIRTUAL_ENV* ]] && return 0
  done
  return 1
}

__shellhook_undo() {
  # $1 = full: undo the activation of venv $2; forget: a manual venv took over, drop
  # only our PATH entry, marker and prompt prefix.
  emulate -L zsh
  local venv=$2
  [[ -n $venv ]] || return 0
  __shellhook_path_remove "$venv/bin"
  if [[ $1 == full ]]; then
    if (( ${+SHELLHOOK_PYTHONHOME} )); then
      export PYTHONHOME=$SHELLHOOK_PYTHONHOME
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT SHELLHOOK_VENV SHELLHOOK_PYTHONHOME
    [[ -z $__shellhook_prefix ]] || PS1=${PS1#$__shellhook_prefix}
    (( ! ${+functions[deactivate]} )) || unfunction deactivate
  else
    unset SHELLHOOK_VENV   # SHELLHOOK_PYTHONHOME stays for our next deactivation
    [[ -z $__shellhook_prefix ]] || PS1=${PS1/$__shellhook_prefix/}
    # The venv's activate saved PATH and PS1 with our entry and prefix in them, to put
    # back at its deactivate: take ours out of those too.
    (( ! ${+_OLD_VIRTUAL_PATH} )) || __shellhook_path_remove "$venv/bin" _OLD_VIRTUAL_PATH
    [[ -z $__shellhook_prefix ]] || (( ! ${+_OLD_VIRTUAL_PS1} )) ||
      _OLD_VIRTUAL_PS1=${_OLD_VIRTUAL_PS1/$__shellhook_prefix/}
  fi
  __shellhook_venv='' __shellhook_project='' __shellhook_prefix='' __shellhook_name=''
  builtin rehash
}

__shellhook_reclaim() {
  # The user sourced the activate script of the venv we activated: undo what it added
  # (its PATH entry, prompt prefix, VIRTUAL_ENV_PROMPT, deactivate), so one of each, ours,
  # remains; other PATH edits stay. The activation is the user's from now on (a cd never
  # undoes it), and its deactivate still turns the project off.
  emulate -L zsh
  local bin=$__shellhook_venv/bin
  local -a parts
  parts=("${(@s.:.)PATH}")
  if [[ $VIRTUAL_ENV != $__shellhook_venv ]]; then
    # The same directory under another name: the copy it added is that name's.
    parts[(ie)$VIRTUAL_ENV/bin]=()
  elif (( parts[(ie)$bin] < parts[(Ie)$bin] )); then
    parts[(ie)$bin]=()   # the copy it prepended; ours stays where it was
  fi
  (( parts[(Ie)$bin] )) || parts=("$bin" "${(@)parts}")
  PATH=${(j.:.)parts}
  (( ! ${+_OLD_VIRTUAL_PS1} )) || PS1=$_OLD_VIRTUAL_PS1
  (( ! ${+_OLD_VIRTUAL_PYTHONHOME} )) || export SHELLHOOK_PYTHONHOME=$_OLD_VIRTUAL_PYTHONHOME
  unset _OLD_VIRTUAL_PATH _OLD_VIRTUAL_PS1 _OLD_VIRTUAL_PYTHONHOME SHELLHOOK_VENV
  export VIRTUAL_ENV=$__shellhook_venv VIRTUAL_ENV_PROMPT=$__shellhook_name
  deactivate() { __shellhook_deactivate }
  builtin rehash
}

__shellhook_check() {
  # At each prompt and cd (no process, no IPC): was a venv's activate script sourced over
  # an activation of ours? Its deactivate nondestructive left ours in place, and it saved
  # PATH and PS1 with our entry and prefix in them.
  (( ${+_OLD_VIRTUAL_PATH} )) && [[ -n $__shellhook_venv ]] || return 0
  if [[ ${VIRTUAL_ENV-} == $__shellhook_venv || ${VIRTUAL_ENV-} -ef $__shellhook_venv ]]
  then
    __shellhook_reclaim   # the same venv: ours again, once
    __shellhook_seen=$VIRTUAL_ENV
  else
    # Another venv over ours: it replaced ours, as sourcing one venv's activate over
    # another's does; nothing of ours stays for its deactivate to restore.
    __shellhook_undo forget "$__shellhook_venv"
  fi
}

__shellhook_deactivate() {
  # The user's `deactivate`. Of a venv activated for a project (ours, or ours sourced
  # again by the user): off until they leave that project. Of workon's: just undo; the
  # next prompt asks, so auto-activation resumes.
  emulate -L zsh
  local p=$__shellhook_project
  if [[ -n $p && ($PWD == "$p" || $PWD == "${p%/}"/*) ]]; then
    export SHELLHOOK_OFF=$p   # (outside it, off would end at the next prompt anyway)
  fi
  __shellhook_undo full "${VIRTUAL_ENV-}"
}

__shellhook_say() {
  # One line on stderr; inside a line-editor widget (a cd bound to a key), first make
  # room for it.
  emulate -L zsh
  [[ -o zle ]] && zle 2>/dev/null && zle -I
  builtin printf '%s\n' "$1" >&2
}

__shellhook_apply() {
  emulate -L zsh
  local i op arg project='' label='' name=''
  __shellhook_busy=1
  {
  for (( i = 1; i < ${#__shellhook_reply}; i += 2 )); do
    op=${__shellhook_reply[i]} arg=${__shellhook_reply[i+1]}
    case $op in
      (P) project=$arg ;;
      (L) label=$arg ;;
      (M) name=$arg ;;
      (A) __shellhook_activate "$arg" "$name" "$label" "$project" auto ;;
      (V) __shellhook_activate "$arg" "$name" "$label" "$project" manual ;;
      (D) __shellhook_undo full "${SHELLHOOK_VENV-}" ;;
      (F) __shellhook_undo forget "${SHELLHOOK_VENV-}" ;;
      (O) __shellhook_venv=$arg __shellhook_project=$project __shellhook_name=$name
          __shellhook_prompt_on "$label" ;;
      (S) if [[ -n $arg ]]; then export SHELLHOOK_OFF=$arg; else unset SHELLHOOK_OFF; fi ;;
      (U) (( ! ${+functions[deactivate]} )) || deactivate ;;
      (C) builtin cd -- "$arg" || : ;;
      (I) [[ -n ${SHELLHOOK_QUIET-} ]] || __shellhook_say "$arg" ;;
      (W) (( ${+__shellhook_said[$arg]} )) || __shellhook_say "$arg"
          __shellhook_said[$arg]=1 ;;
      (Y) [[ $arg == $__shellhook_rt ]] || __shellhook_disconnect "$arg"
          __shellhook_stuck='' ;;
    esac
  done
  } always {
    __shellhook_busy=''
  }
}

__shellhook_command() {
  # Run a shellhook command (workon, mkvenv, ...) in the foreground; apply the reply
  # frame it leaves in a private file. The terminal stays the command's own.
  emulate -L zsh
  [[ -x $__shellhook_python ]] || { builtin printf 'shellhook: not installed\n' >&2; return 127 }
  local ops rc
  (( ++__shellhook_seq ))
  ops=$__shellhook_rt/${__shellhook_id:-$$}.ops
  SHELLHOOK_OPS_FILE=$ops SHELLHOOK_OPS_SEQ=$__shellhook_seq \
    "$__shellhook_python" -I -m shellhook "$@"
  rc=$?
  # A stale frame (an older seq) is skipped; the daemon removes the file with the session.
  if [[ -f $ops && ! -L $ops && -O $ops ]] && __shellhook_read_reply 0 1 <$ops; then
    __shellhook_apply
  fi
  # (VIRTUAL_ENV is not marked as seen: when it changed, the next prompt asks, so the
  # project's own venv comes back at once after rmvenv of the active one.)
  return $rc
}

__shellhook_ask() {
  emulate -L zsh
  __shellhook_pwd=$PWD
  __shellhook_owned=$(( ${+functions[deactivate]} ))
  (( ++__shellhook_seq ))
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

__shellhook_uninstalled() {
  # shellhook was uninstalled under this shell (its Python is gone): undo our activation
  # (its deactivate could not work for long), say so once, and unhook for good.
  emulate -L zsh
  local what=''
  if [[ -n $__shellhook_venv ]]; then
    what="; deactivated ${VIRTUAL_ENV_PROMPT:-${__shellhook_venv:t}}"
    __shellhook_undo full "$__shellhook_venv"
  fi
  builtin printf 'shellhook: uninstalled (%s is gone): the hook is off in this shell%s\n' \
    "$__shellhook_python" "$what" >&2
  [[ -z $__shellhook_wfd ]] || exec {__shellhook_wfd}>&- {__shellhook_rfd}<&-
  __shellhook_wfd='' __shellhook_rfd=''
  precmd_functions=(${precmd_functions:#__shellhook_*})
  chpwd_functions=(${chpwd_functions:#__shellhook_*})
  unset SHELLHOOK_SESSION SHELLHOOK_OFF
}

__shellhook_precmd() {
  local -i ret=$?
  emulate -L zsh
  (( ! ${+_OLD_VIRTUAL_PATH} )) || __shellhook_check
  if [[ $PWD != $__shellhook_pwd || ${VIRTUAL_ENV-} != $__shellhook_seen ]]; then
    __shellhook_ask
  elif [[ -n $__shellhook_rfd ]] && (( ${+builtins[zselect]} )) &&
    zselect -t 0 -r $__shellhook_rfd; then   # (silent: no 2>/dev/null to open)
    __shellhook_ask   # nudged: a venv or its trust changed
  fi
  return ret
}

__shellhook_chpwd() {
  # The venv applies inside cd, pushd, popd (and AUTO_CD), so the rest of the command
  # line runs in it: `cd proj && pip install x`. Only in the shell itself: a subshell
  # (`$(cd dir && pwd)`) stays quick and quiet, and changes nothing anyway.
  local -i ret=$?
  emulate -L zsh
  (( ZSH_SUBSHELL == 0 )) && [[ -z $__shellhook_busy ]] || return ret
  __shellhook_check
  [[ $PWD == $__shellhook_pwd ]] || __shellhook_ask
  return ret
}

# Run first at each prompt, so prompt themes see the new $VIRTUAL_ENV, and first at
# each cd, so other chpwd hooks do.
typeset -ga precmd_functions chpwd_functions
precmd_functions=(__shellhook_precmd ${precmd_functions:#__shellhook_precmd})
chpwd_functions=(__shellhook_chpwd ${chpwd_functions:#__shellhook_chpwd})
