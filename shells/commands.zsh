# shellhook venv commands for zsh: workon, mkvenv, rmvenv, lsvenv.
# Appended to the hook by `shellhook init zsh`. The work is done in Python
# (`shellhook workon|mkvenv|rmvenv|lsvenv`); __shellhook_command applies the changes
# the command asks for (activate, deactivate, cd) with the hook's own code.

workon() { __shellhook_command workon "$@" }
mkvenv() { __shellhook_command mkvenv "$@" }
rmvenv() { __shellhook_command rmvenv "$@" }
lsvenv() { __shellhook_command lsvenv "$@" }

__shellhook_venv_names() {
  # The venvs in $WORKON_HOME, into $reply (a glob: no process).
  emulate -L zsh
  reply=( ${${WORKON_HOME:-$HOME/.virtualenvs}%/}/*/pyvenv.cfg(N-.:h:t) )
  reply=( ${reply:#.*} )
}

_shellhook_venvs() {
  # Completion (compsys) for workon and rmvenv.
  local -a reply
  if [[ $PREFIX == -* ]]; then
    case $words[1] in
      (workon) compadd -- --no-cd --help ;;
      (rmvenv) compadd -- --yes --help ;;
    esac
    return
  fi
  __shellhook_venv_names
  compadd -a reply
}

_shellhook_mkvenv() {
  # Completion (compsys) for mkvenv.
  _arguments -s \
    '(-p --python)'{-p+,--python=}'[interpreter: version, command or path]:python:' \
    '*'{-r+,--requirements=}'[requirements file]:file:_files' \
    '(-i --install)'{-i,--install}'[install the project itself]' \
    '(-f --force)'{-f,--force}'[recreate the venv]' \
    '(--without-pip)--with-pip[install pip]' '(--with-pip)--without-pip[no pip]' \
    '--no-uv[use python -m venv]' '1::name:'
}

_shellhook_lsvenv() {
  # Completion (compsys) for lsvenv.
  _arguments -s '--json[machine-readable output]'
}

__shellhook_compdef() {
  # Register with compsys if compinit has been loaded; true if it was.
  (( $+functions[compdef] )) || return 1
  compdef _shellhook_venvs workon rmvenv
  compdef _shellhook_mkvenv mkvenv
  compdef _shellhook_lsvenv lsvenv
  return 0
}

__shellhook_compdef_later() {
  # compinit often runs after this file is loaded: try compsys once more at the first
  # prompt, then leave the prompt alone.
  local -i ret=$?
  emulate -L zsh
  precmd_functions=(${precmd_functions:#__shellhook_compdef_later})
  __shellhook_compdef
  return ret
}

if ! __shellhook_compdef; then
  # Without compsys: compctl (compsys also uses these when zsh/compctl is loaded).
  if zmodload -e zsh/compctl || zmodload zsh/compctl 2>/dev/null; then
    compctl -K __shellhook_venv_names workon rmvenv
    compctl -k '(--json --help)' lsvenv
  fi
  typeset -ga precmd_functions
  precmd_functions+=(__shellhook_compdef_later)
fi
