# shellhook venv commands for fish: workon, mkvenv, rmvenv, lsvenv.
# Appended to the hook by `shellhook init fish`. The work is done in Python
# (`shellhook workon|mkvenv|rmvenv|lsvenv`); __shellhook_command applies the changes
# the command asks for (activate, deactivate, cd) with the hook's own code.

function workon --description 'list venvs in $WORKON_HOME, or activate one'
    __shellhook_command workon $argv
end

function mkvenv --description 'create and activate a venv for this project (or NAME)'
    __shellhook_command mkvenv $argv
end

function rmvenv --description 'remove a venv (NAME, or this project\'s)'
    __shellhook_command rmvenv $argv
end

function lsvenv --description 'list the venvs shellhook knows'
    __shellhook_command lsvenv $argv
end

function __shellhook_venv_names --description 'the venvs in $WORKON_HOME (globs only)'
    set -l home $HOME/.virtualenvs
    if set -q WORKON_HOME[1]; and test -n "$WORKON_HOME"
        set home (string replace -r '/+$' '' -- $WORKON_HOME)
    end
    set -l cfgs $home/*/pyvenv.cfg
    string replace -r '^.*/([^/]+)/pyvenv\.cfg$' '$1' -- $cfgs | string match -v -- '.*'
end

complete -c workon -f -a '(__shellhook_venv_names)' -d venv
complete -c workon -s n -l no-cd -d 'do not cd to the project'
complete -c rmvenv -f -a '(__shellhook_venv_names)' -d venv
complete -c rmvenv -s y -l yes -d 'do not ask'
complete -c lsvenv -f -l json -d 'machine-readable output'
complete -c mkvenv -f
complete -c mkvenv -s p -l python -x -d 'interpreter: version, command or path'
complete -c mkvenv -s r -l requirements -r -F -d 'requirements file'
complete -c mkvenv -s i -l install -d 'install the project itself'
complete -c mkvenv -s f -l force -d 'recreate the venv'
complete -c mkvenv -l with-pip -d 'install pip'
complete -c mkvenv -l without-pip -d 'no pip'
complete -c mkvenv -l no-uv -d 'use python -m venv'
