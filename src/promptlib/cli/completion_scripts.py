"""The scripts `promptlib completion bash|zsh|fish` prints. Each one only asks
`promptlib __complete SHELL CWORD LINE -- WORD…` (complete.py) what to offer, and falls back to
the shell's own file-name completion when that exits with FILES_STATUS (7)."""

from __future__ import annotations

BASH = r"""# promptlib completion for bash. In ~/.bashrc:  eval "$(promptlib completion bash)"
_promptlib_complete() {
    local out rc word
    COMPREPLY=()
    out=$(command promptlib __complete bash "$COMP_CWORD" "${COMP_LINE:0:COMP_POINT}" -- \
        "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    rc=$?
    if [[ $rc -eq 7 ]]; then
        compopt -o filenames 2>/dev/null
        while IFS= read -r word; do
            COMPREPLY+=("$word")
        done < <(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")
        return 0
    fi
    [[ $rc -eq 0 && -n $out ]] || return 0
    while IFS= read -r word; do
        COMPREPLY+=("$word")
    done <<< "$out"
}
complete -F _promptlib_complete promptlib
"""

ZSH = r"""#compdef promptlib
# promptlib completion for zsh. In ~/.zshrc, after compinit:  eval "$(promptlib completion zsh)"
_promptlib() {
    local out line
    local -a described
    out=$(command promptlib __complete zsh $(( CURRENT - 1 )) "" -- "${(@)words[1,CURRENT]}" \
        2>/dev/null)
    case $? in
        7) _files; return ;;
        0) ;;
        *) return 1 ;;
    esac
    for line in "${(@f)out}"; do
        [[ -n $line ]] || continue
        if [[ $line == *$'\t'* ]]; then
            described+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
            described+=("${line//:/\\:}")
        fi
    done
    _describe -t promptlib 'promptlib' described
}
compdef _promptlib promptlib
"""

FISH = r"""# promptlib completion for fish. In ~/.config/fish/config.fish:
#   promptlib completion fish | source
function __promptlib_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l out (command promptlib __complete fish (count $words) "" -- $words $current 2>/dev/null)
    set -l rc $status
    if test $rc -eq 7
        __fish_complete_path $current
    else if test $rc -eq 0
        printf '%s\n' $out
    end
end
complete -c promptlib -f -a '(__promptlib_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}
