# shellhook hook for fish (>= 3.6). Load it with: shellhook init fish | source
#
# fish asks the daemon when $PWD changes (--on-variable PWD, right inside `cd`, prevd,
# nextd...) and before each prompt when $VIRTUAL_ENV changed behind its back or the
# daemon left a nudge file. fish has no read timeout and cannot open a FIFO read-write,
# so it uses the file transport of docs/protocol.md: the request goes to <rt>/<id>.q,
# the daemon answers in <id>.a (rewritten in place: a frame without its end is skipped)
# and nudges by creating <id>.n. Waiting is a bounded loop of builtins (no process, no
# sleep). Replies are NUL-separated (op, arg) pairs applied by the code below: nothing
# received is ever evaluated.

# Two exported variables carry state to child shells and `exec fish`: SHELLHOOK_VENV (the
# venv we activated) and SHELLHOOK_OFF (the project where the user ran deactivate).
#
# Non-interactive shells (fish -c, scripts) are left alone; loading twice is harmless.
status is-interactive; or return 0
status is-command-substitution; and return 0
set -q __shellhook_loaded; and return 0
set -g __shellhook_loaded 1

# Root runs only a shellhook of root's own: a root shell that keeps a user's HOME and
# config (`sudo -E fish`) would otherwise start a root daemon from the user's files.
if test "$EUID" = 0; and test -e "$__shellhook_python"
    set -l dir (path dirname -- "$__shellhook_python")
    if not test -O "$__shellhook_python" -a -O "$dir" -a -O (path dirname -- "$dir")
        builtin printf "shellhook: off in this root shell: %s is not root's\n" "$__shellhook_python" >&2
        return 0
    end
end

set -g __shellhook_pwd ''         # $PWD when we last asked
set -g __shellhook_seen ''        # $VIRTUAL_ENV after we last applied a reply
set -g __shellhook_seq 0
set -g __shellhook_project ''     # project of our activation
set -g __shellhook_manual ''      # venv of our manual activation (workon, adopted)
set -g __shellhook_vprompt ''     # the VIRTUAL_ENV_PROMPT of our activation
set -g __shellhook_prefix ''      # what our fish_prompt wrapper prints first
set -g __shellhook_stuck ''       # pid of a daemon that did not answer in time
set -g __shellhook_nudged ''      # a nudge answered without the daemon (see on_prompt)
set -g __shellhook_slow ''        # $status_generation of the line where a cd used the one-off Python
set -g __shellhook_busy ''        # applying a reply: our own `cd` must not ask again
set -g __shellhook_unwrap ''      # the reply being applied undid an activation
set -g __shellhook_reply          # (op, arg) pairs of the frame being applied
set -g __shellhook_said           # warnings already printed in this session

# Waiting for the daemon: at most (count $__shellhook_spin)^3 = 5832 rounds of a few
# builtins; fish has no clock and no sleep to bound it by time. Calibrated with fish 3.6
# on the development machine (2 shared cores): a round (test -f, open <id>.a and read
# two fields, compare) costs about 25 us while <id>.a holds an older reply and about
# 20 us while it is empty, so an unanswered request gives up after about 150 ms (120
# ms); under load, rounds get slower and the bound longer. A live daemon answers in a
# few ms. Three short loops: fish copies the list each time it enters a loop.
set -g __shellhook_spin (string split '' -- (string repeat -n 18 x))
# At most 54 (op, arg) pairs in a reply frame (the daemon sends fewer than 20).
set -g __shellhook_pairs $__shellhook_spin $__shellhook_spin $__shellhook_spin
# Request numbers without `math` (a command substitution, ~0.1 ms per request): the
# status generation (one per command line) and a one-digit tick, so that no request
# repeats the number of the 8 before it (a late reply is told from ours by it).
set -g __shellhook_ticks_all 1 2 3 4 5 6 7 8 9
set -g __shellhook_ticks $__shellhook_ticks_all
set -g __shellhook_tool_count (count $__shellhook_tool_names)

# The runtime dir as platformdirs computes it; the one-off Python corrects us if it differs (Y).
if string match -qr '\S' -- "$XDG_RUNTIME_DIR"
    set -g __shellhook_rt "$XDG_RUNTIME_DIR/shellhook"
else if test -d /run/user/$EUID
    set -g __shellhook_rt /run/user/$EUID/shellhook
else
    set -l tmp /tmp
    set -q TMPDIR[1]; and test -n "$TMPDIR"; and set tmp "$TMPDIR"
    set -g __shellhook_rt (string replace -r '/$' '' -- $tmp)/runtime-$EUID/shellhook
end

# This session's id: <pid>-<random>, exported so `shellhook allow` can nudge us.
set -g __shellhook_id $fish_pid-(builtin random)(builtin random)(builtin random)
set -gx SHELLHOOK_SESSION $__shellhook_id

function __shellhook_rt_ok --description 'shellhook: the runtime dir is a private dir of ours'
    test -d $__shellhook_rt; and not test -L $__shellhook_rt; and test -O $__shellhook_rt
end

function __shellhook_daemon_up --description 'shellhook: daemon.pid names a live, running process'
    set -l file $__shellhook_rt/daemon.pid
    test -f $file; or return 1
    set -l pid
    read -l pid <$file; or return 1
    string match -qr '^[1-9][0-9]*$' -- $pid; or return 1
    # A daemon we timed out on stays "stuck" until another one takes its place.
    test "$pid" != "$__shellhook_stuck"; or return 1
    test -r /proc/$pid/stat; or return 1
    set -l stat
    read -l stat </proc/$pid/stat; or return 1
    # Field 3, after the parenthesised command name (the fields after it hold no ")"):
    # stopped or traced (stuck: the fallback replaces it), zombie or dead (gone)?
    if string match -qr '\) [TtZXx] [^)]*$' -- $stat
        string match -qr '\) [Tt] [^)]*$' -- $stat; and set -g __shellhook_stuck $pid
        return 1
    end
    set -g __shellhook_stuck ''
    set -g __shellhook_dpid $pid
    return 0
end

function __shellhook_take_frame --description 'shellhook: keep the ops of our reply frame'
    # $argv: the NUL-separated fields of a reply, from a pipe (`string split0` keeps
    # every byte). A frame is R SEQ, (op, arg) pairs, E ''; frames with another SEQ
    # (stale) and nudges outside frames are skipped.
    set -g __shellhook_reply
    set -l mine ''
    while set -q argv[2]
        switch "$argv[1]"
            case R
                set mine ''
                test "x$argv[2]" = "x$__shellhook_seq"; and set mine 1
            case E
                test -n "$mine"; and return 0
            case '*'
                test -n "$mine"; and set -ga __shellhook_reply $argv[1..2]
        end
        set -e argv[1..2]
    end
    set -g __shellhook_reply
    return 1
end

function __shellhook_read_frame --description 'shellhook: keep the ops of our reply frame from a file'
    # stdin is a regular file holding one frame (<id>.a, <id>.ops): fish reads a file a
    # record at a time and decodes it whole (a pipe, byte by byte, losing undecodable
    # bytes), so any path survives. The frame must be ours and complete (E).
    set -g __shellhook_reply
    set -l op
    set -l arg
    # A field over 64 KiB, or more pairs than __shellhook_pairs: not a frame the daemon
    # writes (a few hundred bytes); reading on would hold the prompt.
    set -l fish_read_limit 65536
    read -z op; and read -z arg; or return 1
    test "x$op $arg" = "xR $__shellhook_seq"; or return 1
    for pair in $__shellhook_pairs
        read -z op; and read -z arg; or break
        test "x$op" = xE; and return 0
        set -ga __shellhook_reply $op $arg
    end
    set -g __shellhook_reply
    return 1
end

function __shellhook_next_seq --description 'shellhook: number a new request'
    set -e __shellhook_ticks[1]
    set -q __shellhook_ticks[1]; or set -g __shellhook_ticks $__shellhook_ticks_all
    set -g __shellhook_seq $status_generation$__shellhook_ticks[1]
end

function __shellhook_post --description 'shellhook: write the request to <id>.q'
    # Also when the daemon is down: one that starts later answers it, so it learns this
    # session and its directory (and `shellhook allow` can nudge us through <id>.n).
    __shellhook_rt_ok; or return 1
    set -l base $__shellhook_rt/$__shellhook_id
    # <id>.a exists before we ask, so the wait loop never opens a missing file.
    test -f $base.a; or builtin true >$base.a; or return 1
    # "owned": this shell has a deactivate (ours or a venv's own) for its activation; a
    # child shell or `exec fish` inherits VIRTUAL_ENV but no function (then we adopt it).
    set -l owned 0
    builtin functions -q deactivate; and set owned 1
    # The exported variables the venv tools read (shellhook/toolenv.py), then '': their
    # names, __shellhook_tool_names, are written by `shellhook init`. One `set -qx` of
    # them all says how many are not exported: usually all.
    set -l tool
    builtin set -qx $__shellhook_tool_names
    if test $status -lt $__shellhook_tool_count
        for name in $__shellhook_tool_names
            builtin set -qx $name; and set -a tool "$name=$$name"
        end
    end
    builtin printf '%s\0' Q $__shellhook_seq "$PWD" "$VIRTUAL_ENV" "$SHELLHOOK_VENV" \
        $owned "$SHELLHOOK_OFF" "$WORKON_HOME" $tool '' >$base.q
end

function __shellhook_ask_daemon --description 'shellhook: wait for the answer in <id>.a'
    __shellhook_daemon_up; or return 1
    set -l a $__shellhook_rt/$__shellhook_id.a
    set -l seq $__shellhook_seq
    set -l r
    set -l s
    set -l torn $__shellhook_spin   # looks at a frame of ours without its end
    set -l fish_read_limit 64   # R and a seq: never the whole of a huge first field
    for i in $__shellhook_spin
        for j in $__shellhook_spin
            for k in $__shellhook_spin
                test -f $a; or continue
                begin
                    read -z r; and read -z s
                end <$a
                test "x$r $s" = "xR $seq"; or continue
                test -f $a; and __shellhook_read_frame <$a; and return 0
                # Ours but incomplete: a daemon writing it finishes at once; one killed
                # mid-write, or a malformed frame, never does: reading it again and again
                # would hold the prompt far longer than the loop's bound.
                set -e torn[1]
                set -q torn[1]; or break
            end
            set -q torn[1]; or break
        end
        set -q torn[1]; or break
    end
    set -g __shellhook_stuck $__shellhook_dpid
    return 1
end

function __shellhook_ask_oneshot --description 'shellhook: no daemon: decide with a one-off Python'
    # It also (re)starts the daemon; with --stuck it replaces a stopped one.
    test -x "$__shellhook_python"; or return 1
    set -l stuck
    test -n "$__shellhook_stuck"; and set stuck --stuck
    set -l owned 0
    builtin functions -q deactivate; and set owned 1
    # An empty LD_PRELOAD: no library of a (malicious) venv's runs in the Python that
    # starts the daemon. (-I leaves out the PYTHON* variables.)
    __shellhook_take_frame (LD_PRELOAD= $__shellhook_python -I -m shellhook hook $stuck \
        $__shellhook_seq "$PWD" "$VIRTUAL_ENV" "$SHELLHOOK_VENV" $owned "$SHELLHOOK_OFF" \
        "$WORKON_HOME" 2>/dev/null </dev/null | string split0)
end

function __shellhook_path_remove --description 'shellhook: remove every $argv[1] entry from PATH'
    while builtin contains -- $argv[1] $PATH
        set -ge PATH[(builtin contains -i -- $argv[1] $PATH)]
    end
end

function __shellhook_status --description 'shellhook: set $status'
    return $argv[1]
end

function __shellhook_prompt_mine --description 'shellhook: fish_prompt is our wrapper'
    set -l IFS \n   # one element per line, whatever the user's IFS
    set -l details (builtin functions -v -D fish_prompt 2>/dev/null)
    test "$details[5]" = 'shellhook: (venv) prefix, then your prompt'
end

function __shellhook_prompt_wrap --description 'shellhook: put our wrapper in front of fish_prompt'
    # The user's prompt (whatever defines it: config.fish, a theme, an autoloaded file)
    # lives on as __shellhook_user_prompt, called by the wrapper with $status intact.
    __shellhook_prompt_mine; and return 0
    builtin functions -q fish_prompt; or return 1
    builtin functions -q __shellhook_user_prompt; and builtin functions -e __shellhook_user_prompt
    builtin functions -c fish_prompt __shellhook_user_prompt; or return 1
    builtin functions -e fish_prompt
    function fish_prompt --description 'shellhook: (venv) prefix, then your prompt'
        set -l s $status
        set -g __shellhook_drawn 1
        builtin printf '%s' $__shellhook_prefix   # empty when a buried copy draws
        test $s = 0; or __shellhook_status $s
        __shellhook_user_prompt $argv
    end
    set -g __shellhook_drawn 1
end

function __shellhook_prompt_unwrap --description 'shellhook: give the user their fish_prompt back'
    set -g __shellhook_prefix ''
    # Replaced since (another venv tool, a theme): leave it; a buried wrapper prints nothing.
    __shellhook_prompt_mine; or return 0
    builtin functions -q __shellhook_user_prompt; or return 0
    builtin functions -e fish_prompt
    builtin functions -c __shellhook_user_prompt fish_prompt
    builtin functions -e __shellhook_user_prompt
    set -e __shellhook_drawn   # the wrapper is out of the chain now
end

function __shellhook_theme_shows_venv --description 'shellhook: the prompt shows the venv itself'
    # A theme that reads VIRTUAL_ENV (fish's own pythonista, nim, disco...) shows the
    # venv's name: ours would be a second one. Read from the definitions, with builtins.
    set -l left fish_prompt
    __shellhook_prompt_mine; and set left __shellhook_user_prompt
    set -l IFS \n   # one element per line, whatever the user's IFS
    for name in $left fish_right_prompt
        builtin functions -q $name; or continue
        builtin string match -q -- '*VIRTUAL_ENV*' (builtin functions $name); and return 0
    end
    return 1
end

function __shellhook_define_deactivate --description 'shellhook: define our deactivate'
    function deactivate --description 'shellhook: deactivate this venv'
        __shellhook_deactivate
    end
end

function __shellhook_prompt_on --description 'shellhook: define deactivate, show (label) in the prompt'
    __shellhook_define_deactivate
    set -g __shellhook_prefix ''
    test -z "$VIRTUAL_ENV_DISABLE_PROMPT"; or return 0
    # Our wrapper drew the last prompt: the prompt under it was looked at when wrapped.
    if not set -q __shellhook_drawn
        __shellhook_theme_shows_venv; and return 0
    end
    set -g __shellhook_prefix "($argv[1]) "
    # Wrap unless our wrapper drew the last prompt (then it is still in the chain).
    set -q __shellhook_drawn; or __shellhook_prompt_wrap
    return 0
end

function __shellhook_drop_saved --description 'shellhook: take over what a venv activate script saved'
    # Left by a venv's activate.fish whose activation is no longer its own (adopted from a
    # parent shell, or taken back by us): its deactivate will not run, ours restores.
    if set -q _OLD_VIRTUAL_PYTHONHOME
        set -gx SHELLHOOK_PYTHONHOME "$_OLD_VIRTUAL_PYTHONHOME"
        set -e _OLD_VIRTUAL_PYTHONHOME
    end
    set -e _OLD_VIRTUAL_PATH
    set -e _OLD_FISH_PROMPT_OVERRIDE
    return 0
end

function __shellhook_activate --description 'shellhook: activate a venv'
    # $argv: venv, VIRTUAL_ENV_PROMPT, prompt label (safe characters only), project,
    # "auto" (ours: marked in SHELLHOOK_VENV) or "manual" (workon: cd never replaces it)
    set -l venv $argv[1]
    __shellhook_path_remove $venv/bin   # present already (inherited, left by another deactivate)
    __shellhook_drop_saved
    if set -q PYTHONHOME
        set -gx SHELLHOOK_PYTHONHOME "$PYTHONHOME"
        set -e PYTHONHOME
    end
    set -gx VIRTUAL_ENV $venv
    set -gx VIRTUAL_ENV_PROMPT $argv[2]
    set -g __shellhook_vprompt $argv[2]
    set -gx PATH $venv/bin $PATH
    if test "$argv[5]" = auto
        set -gx SHELLHOOK_VENV $venv
        set -g __shellhook_project $argv[4]
    else
        set -g __shellhook_manual $venv
    end
    __shellhook_prompt_on $argv[3]
end

function __shellhook_reclaim --description "shellhook: undo a venv's activate.fish run over our activation of it"
    # `source .venv/bin/activate.fish` of the venv we activated (automatically or by
    # workon): it saved PATH and fish_prompt, prepended its bin again, put its own
    # fish_prompt and deactivate in. Take back what it added: one entry and one prefix
    # remain. The activation is the user's from now on (a cd never undoes it), and its
    # deactivate still turns the project off. Called when _OLD_VIRTUAL_PATH is set.
    test -n "$VIRTUAL_ENV"; or return 1
    test "x$VIRTUAL_ENV" = "x$SHELLHOOK_VENV" -o "x$VIRTUAL_ENV" = "x$__shellhook_manual"
    or return 1
    set -l bin $VIRTUAL_ENV/bin
    set -l keep
    set -l dropped ''
    for dir in $PATH
        if test -z "$dropped" -a "x$dir" = "x$bin"
            set dropped 1   # the first copy: the one it prepended
        else
            set -a keep $dir
        end
    end
    builtin contains -- $bin $keep; and set -gx PATH $keep   # ours is the second copy
    if set -q _OLD_FISH_PROMPT_OVERRIDE; and builtin functions -q _old_fish_prompt
        builtin functions -e fish_prompt
        builtin functions -c _old_fish_prompt fish_prompt   # the prompt it saved: ours
        builtin functions -e _old_fish_prompt
    end
    test -n "$__shellhook_vprompt"; and set -gx VIRTUAL_ENV_PROMPT $__shellhook_vprompt
    __shellhook_drop_saved
    # Its deactivate replaced ours (a child shell has none: the daemon says O, we adopt).
    builtin functions -q deactivate; and __shellhook_define_deactivate
    if test -n "$SHELLHOOK_VENV"
        set -g __shellhook_manual $SHELLHOOK_VENV
        set -e SHELLHOOK_VENV
    end
    return 0
end

function __shellhook_undo --description 'shellhook: undo an activation'
    # $argv[1] = full: undo the activation of venv $argv[2]; forget: another venv took
    # over (or VIRTUAL_ENV was unset by hand), drop only our PATH entry, marker and prompt
    # prefix, and our part of what its activate.fish saved.
    set -l venv $argv[2]
    test -n "$venv"; or return 0
    __shellhook_path_remove $venv/bin
    if test "$argv[1]" = full
        set -q SHELLHOOK_PYTHONHOME; and set -gx PYTHONHOME "$SHELLHOOK_PYTHONHOME"
        set -e VIRTUAL_ENV
        set -e VIRTUAL_ENV_PROMPT
        set -e SHELLHOOK_VENV
        set -e SHELLHOOK_PYTHONHOME
        builtin functions -q deactivate; and builtin functions -e deactivate
    else
        set -e SHELLHOOK_VENV
        __shellhook_forget_in_saved $venv/bin
        if test -z "$VIRTUAL_ENV"   # unset by hand: our deactivate has nothing left to do
            set -l IFS \n
            set -l details (builtin functions -v -D deactivate 2>/dev/null)
            test "$details[5]" = 'shellhook: deactivate this venv'; and builtin functions -e deactivate
        end
    end
    if test -n "$__shellhook_busy"
        # In a reply: unwrapped at its end, unless it activates another venv (a cd
        # between projects keeps the wrapper).
        set -g __shellhook_prefix ''
        set -g __shellhook_unwrap 1
    else
        __shellhook_prompt_unwrap
    end
    set -g __shellhook_project ''
    set -g __shellhook_vprompt ''
    set -g __shellhook_manual ''
end

function __shellhook_forget_in_saved --description "shellhook: clean our activation out of a venv's saved state"
    # Another venv's activate.fish ran over ours and saved our PATH entry and prompt
    # wrapper: its deactivate must restore none of it, only what the user had.
    if set -q _OLD_VIRTUAL_PATH
        set -l keep
        for dir in $_OLD_VIRTUAL_PATH
            test "x$dir" = "x$argv[1]"; or set -a keep $dir
        end
        set -gx _OLD_VIRTUAL_PATH $keep
        # The PYTHONHOME we put aside, for its deactivate to restore.
        if set -q SHELLHOOK_PYTHONHOME; and not set -q _OLD_VIRTUAL_PYTHONHOME
            set -gx _OLD_VIRTUAL_PYTHONHOME "$SHELLHOOK_PYTHONHOME"
            set -e SHELLHOOK_PYTHONHOME
        end
    end
    set -l IFS \n
    set -l details (builtin functions -v -D _old_fish_prompt 2>/dev/null)
    if test "$details[5]" = 'shellhook: (venv) prefix, then your prompt'
        and builtin functions -q __shellhook_user_prompt
        builtin functions -e _old_fish_prompt
        builtin functions -c __shellhook_user_prompt _old_fish_prompt
        builtin functions -e __shellhook_user_prompt
        set -e __shellhook_drawn
    end
    return 0
end

function __shellhook_deactivate --description 'shellhook: the user ran deactivate'
    # Of a venv activated for a project (ours, or ours sourced again by the user): off
    # until they leave that project; exported, so `exec fish` keeps it. Of workon's (or an
    # adopted venv): just undo; the next prompt asks, so auto-activation resumes.
    set -l p $__shellhook_project
    # (Outside the project, off would end at the next prompt anyway.)
    set -l under (builtin string trim -r -c / -- "$p")/
    set -l head (builtin string sub -l (builtin string length -- "$under") -- "$PWD")
    if builtin test -n "$p"; and begin
            builtin test "$PWD" = "$p"; or builtin test "x$head" = "x$under"
        end
        set -gx SHELLHOOK_OFF $p
    end
    __shellhook_undo full "$VIRTUAL_ENV"
end

function __shellhook_apply --description 'shellhook: apply the operations of a reply'
    # $__shellhook_reply: (op, arg) pairs. Nothing is evaluated: each op is code here.
    set -l project ''
    set -l label ''
    set -l name ''
    set -l ops $__shellhook_reply
    set -g __shellhook_reply
    set -g __shellhook_busy 1
    while set -q ops[2]
        set -l arg $ops[2]
        switch "$ops[1]"
            case P
                set project $arg
            case L
                set label $arg
            case M
                set name $arg
            case A
                __shellhook_activate $arg $name $label $project auto
            case V
                __shellhook_activate $arg $name $label $project manual
            case D
                __shellhook_undo full "$SHELLHOOK_VENV"
            case F
                __shellhook_undo forget "$SHELLHOOK_VENV"
            case U
                builtin functions -q deactivate; and deactivate
            case C
                builtin cd -- $arg
            case O
                __shellhook_drop_saved
                set -g __shellhook_project $project
                set -g __shellhook_vprompt "$VIRTUAL_ENV_PROMPT"
                __shellhook_prompt_on $label
            case S
                if test -n "$arg"
                    set -gx SHELLHOOK_OFF $arg
                else
                    set -e SHELLHOOK_OFF
                end
            case I
                test -n "$SHELLHOOK_QUIET"; or builtin printf '%s\n' $arg >&2
            case W
                if not builtin contains -- $arg $__shellhook_said
                    builtin printf '%s\n' $arg >&2
                    set -ga __shellhook_said $arg
                end
            case Y
                set -g __shellhook_rt $arg
                set -g __shellhook_stuck ''
        end
        set -e ops[1..2]
    end
    set -g __shellhook_busy ''
    if test -n "$__shellhook_unwrap"
        set -g __shellhook_unwrap ''
        test -n "$__shellhook_prefix"; or __shellhook_prompt_unwrap
    end
end

function __shellhook_command --description 'shellhook: run a command that changes this shell'
    # Run a shellhook command (workon, mkvenv, ...) in the foreground; apply the reply
    # frame it leaves in a private file. The terminal stays the command's own.
    if not test -x "$__shellhook_python"
        builtin printf 'shellhook: not installed\n' >&2
        return 127
    end
    __shellhook_next_seq
    set -l ops $__shellhook_rt/$__shellhook_id.ops
    SHELLHOOK_OPS_FILE=$ops SHELLHOOK_OPS_SEQ=$__shellhook_seq $__shellhook_python -I -m shellhook $argv
    set -l rc $status
    # A stale frame (an older seq) is skipped; the daemon removes the file with the session.
    if test -f $ops; and not test -L $ops; and test -O $ops
        __shellhook_read_frame <$ops; and __shellhook_apply
    end
    # $VIRTUAL_ENV is not marked seen: when it changed, the next prompt asks what this
    # directory needs now (rmvenv of the active workon venv resumes the project's venv).
    return $rc
end

function __shellhook_ask --description 'shellhook: ask what this directory needs, apply it'
    # $argv[1] = cd: called from inside a cd, where the one-off Python (no daemon) runs
    # at most once per command line (fish >= 3.2 counts them in $status_generation);
    # further cds on that line leave it to the next prompt.
    set -q _OLD_VIRTUAL_PATH; and __shellhook_reclaim
    # Another venv's activate.fish over our workon (or adopted) one: the daemon knows
    # nothing of ours (no marker), so forget it here, as F does for an automatic one.
    if test -n "$__shellhook_manual" -a "x$VIRTUAL_ENV" != "x$__shellhook_manual"
        __shellhook_undo forget $__shellhook_manual
    end
    __shellhook_next_seq
    set -l posted ''
    if __shellhook_post; and set posted 1; and __shellhook_ask_daemon
        set -g __shellhook_nudged ''
    else if test "$argv[1]" = cd -a -n "$status_generation" -a "x$__shellhook_slow" = "x$status_generation"
        return 1   # the next prompt asks
    else
        test "$argv[1]" = cd; and set -g __shellhook_slow "$status_generation"
        # Answering a nudge without the daemon: <id>.n stays until a daemon answers us.
        test -e $__shellhook_rt/$__shellhook_id.n; and set -g __shellhook_nudged 1
        __shellhook_ask_oneshot; or begin
            set -g __shellhook_pwd "$PWD"
            test -x "$__shellhook_python"; or __shellhook_uninstalled
            return 0
        end
        # The one-off Python made the runtime dir (`Y` says where) and started a daemon,
        # which knows nothing of this shell: tell it what we asked, after applying, so
        # that it watches this directory and can nudge us.
        test -n "$posted"; or set posted later
    end
    set -g __shellhook_pwd "$PWD"
    __shellhook_apply
    set -g __shellhook_seen "$VIRTUAL_ENV"
    test "$posted" = later; and __shellhook_post
    return 0
end

function __shellhook_uninstalled --description 'shellhook: uninstalled: undo our activation, unhook'
    # `install.sh --uninstall` removed the Python that answers us (and stopped the
    # daemon): undo any activation of ours, automatic or manual (workon, adopted), say so
    # once and remove the handlers, so that this shell stops asking. A venv that is not
    # ours stays active; workon & co. go on saying "not installed".
    set -l note ''
    set -l venv "$VIRTUAL_ENV"
    set -l IFS \n
    set -l details (builtin functions -v -D deactivate 2>/dev/null)
    if test -n "$venv"; and test "x$venv" = "x$SHELLHOOK_VENV" -o "x$venv" = "x$__shellhook_manual" \
            -o "$details[5]" = 'shellhook: deactivate this venv'
        set -l name "$VIRTUAL_ENV_PROMPT"
        test -n "$name"; or set name $venv
        set note "; deactivated $name"
        __shellhook_undo full $venv
    else
        # Another venv over ours: drop only what is ours (PATH entry, marker, saved state).
        __shellhook_undo forget "$SHELLHOOK_VENV"
        test -n "$__shellhook_manual"; and __shellhook_undo forget $__shellhook_manual
    end
    if test -z "$VIRTUAL_ENV"; and set -q SHELLHOOK_PYTHONHOME
        set -gx PYTHONHOME "$SHELLHOOK_PYTHONHOME"
        set -e SHELLHOOK_PYTHONHOME
    end
    set -e SHELLHOOK_VENV
    set -e SHELLHOOK_OFF
    set -e SHELLHOOK_SESSION
    set details (builtin functions -v -D deactivate 2>/dev/null)
    test "$details[5]" = 'shellhook: deactivate this venv'; and builtin functions -e deactivate
    __shellhook_prompt_unwrap
    builtin functions -e __shellhook_on_pwd __shellhook_on_prompt   # and their handlers
    set -e __shellhook_loaded   # a new `source` of the hook (installed again) loads it
    builtin printf 'shellhook: uninstalled (%s is gone): the hook is off in this shell%s\n' \
        "$__shellhook_python" "$note" >&2
end

function __shellhook_on_pwd --on-variable PWD --description 'shellhook: the directory changed'
    # Not before the first prompt (config.fish may still change fish_prompt), not in a
    # command substitution, not for our own `cd` (op C). The venv applies right inside the
    # cd: `cd proj && python ...` runs proj's python.
    test -n "$__shellhook_pwd" -a -z "$__shellhook_busy" -a "x$PWD" != "x$__shellhook_pwd"
    or return 0
    status is-command-substitution; and return 0
    __shellhook_ask cd
    return 0
end

function __shellhook_on_prompt --on-event fish_prompt --description 'shellhook: before each prompt'
    # The common case, nothing changed, costs a set -q, two tests and a stat.
    set -q _OLD_VIRTUAL_PATH; and __shellhook_reclaim   # a venv's activate.fish over ours
    if test "x$PWD" != "x$__shellhook_pwd" -o "x$VIRTUAL_ENV" != "x$__shellhook_seen"
        __shellhook_ask
    else if test -e $__shellhook_rt/$__shellhook_id.n
        # Nudged: a venv or its trust changed. A nudge answered without the daemon stays
        # until a daemon answers us: ask again only when one is up.
        if test -z "$__shellhook_nudged"; or __shellhook_daemon_up
            __shellhook_ask
        end
    end
    # Our wrapper did not draw the last prompt while a label is due: fish_prompt was
    # redefined since (a theme, funced...): wrap it again. `set -e` fails when unset.
    set -e __shellhook_drawn; or test -z "$__shellhook_prefix"; or __shellhook_prompt_wrap
end
