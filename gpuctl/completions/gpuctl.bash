# bash completion for gpuctl. Candidates come from `gpuctl __complete`, the
# same code as the interactive shell's tab completion: commands, options, GPU
# types and your job ids (asked of the daemon, at most 2 s; nothing when it
# is down).
_gpuctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local IFS=$'\n'
	local words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
	COMPREPLY=($(timeout 2 "${COMP_WORDS[0]}" __complete "${words[@]}" -- "$cur" 2>/dev/null))
}
complete -o default -F _gpuctl gpuctl
