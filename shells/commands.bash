# shellhook venv commands for bash: workon, mkvenv, rmvenv, lsvenv.
# Appended to the hook by `shellhook init bash`. The work is done in Python
# (`shellhook workon|mkvenv|rmvenv|lsvenv`); __shellhook_command applies the changes
# the command asks for (activate, deactivate, cd) with the hook's own code.
# shellcheck shell=bash disable=SC2207  # compgen output is one word per line

workon() { __shellhook_command workon "$@"; }
mkvenv() { __shellhook_command mkvenv "$@"; }
rmvenv() { __shellhook_command rmvenv "$@"; }
lsvenv() { __shellhook_command lsvenv "$@"; }

__shellhook_complete_venvs() {
  # Complete the first argument with the venvs in $WORKON_HOME (builtins only).
  local cur=${COMP_WORDS[COMP_CWORD]} home=${WORKON_HOME:-$HOME/.virtualenvs} dir name q
  COMPREPLY=()
  if [[ $cur == -* ]]; then
    case ${COMP_WORDS[0]} in
      workon) COMPREPLY=($(compgen -W '--no-cd --help' -- "$cur")) ;;
      rmvenv) COMPREPLY=($(compgen -W '--yes --help' -- "$cur")) ;;
    esac
    return 0
  fi
  home=${home%/}
  while IFS= read -r dir; do
    name=${dir##*/}
    [[ $name != .* && -f $dir/pyvenv.cfg ]] || continue
    builtin printf -v q '%q' "$name"
    COMPREPLY+=("$q")
  done < <(compgen -d -- "$home/$cur")
}

__shellhook_complete_mkvenv() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  COMPREPLY=()
  case $prev in
    -r|--requirements) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))
      return 0 ;;
    -p|--python) return 0 ;;
  esac
  [[ $cur != -* ]] || COMPREPLY=($(compgen -W '--python --requirements --install --force
    --with-pip --without-pip --no-uv --help' -- "$cur"))
}

complete -F __shellhook_complete_venvs workon rmvenv
complete -F __shellhook_complete_mkvenv mkvenv
complete -W '--json --help' lsvenv
