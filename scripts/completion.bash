# bash completion for ferry.  Source it:  . scripts/completion.bash
# (or copy it to /etc/bash_completion.d/ferry). Application names are
# completed from `ferry app list -o name` when a server is configured.

_ferry_words() {
	case "$1" in
	"") echo "up kube controller server render login logout app appset cluster repo proj version" ;;
	app) echo "list get history sync wait rollback diff delete create set manifests terminate-op resources patch patch-resource delete-resource actions" ;;
	appset) echo "list get create delete" ;;
	cluster|repo) echo "add list rm" ;;
	proj) echo "list get create" ;;
	esac
}

_ferry_flags() {
	local g="--server --auth-token --config --insecure --plaintext --help"
	case "$1 $2" in
	"login "*) echo "--username --password $g" ;;
	"logout "*) echo "$g" ;;
	"version "*) echo "-o --output --client --short $g" ;;
	"app list") echo "-o --output -p --project -l --selector -r --repo -c --cluster -P --path -N --app-namespace $g" ;;
	"app get") echo "-o --output --refresh --hard-refresh --show-operation $g" ;;
	"app history") echo "-o --output $g" ;;
	"app sync") echo "-o --output -l --selector --revision --prune --dry-run --strategy --force --replace --server-side --apply-out-of-sync-only --resource --async --timeout $g" ;;
	"app wait") echo "-o --output -l --selector --sync --health --operation --suspended --degraded --delete --timeout $g" ;;
	"app rollback") echo "-o --output --prune --dry-run --timeout $g" ;;
	"app diff") echo "--revision --refresh --hard-refresh --exit-code --diff-exit-code $g" ;;
	"app delete") echo "-l --selector --cascade -p --propagation-policy -y --yes --wait $g" ;;
	"app create"|"app set") echo "--repo --path --revision --dest-server --dest-name --dest-namespace --project --sync-policy --self-heal --auto-prune --directory-recurse --sync-option -f --file --upsert --label $g" ;;
	"app manifests") echo "--source --revision $g" ;;
	"app resources") echo "-o --output --orphaned $g" ;;
	"app patch") echo "--patch --type $g" ;;
	"app patch-resource") echo "--patch --patch-type --kind --group --namespace --resource-name $g" ;;
	"app delete-resource") echo "--kind --group --namespace --resource-name --force --orphan $g" ;;
	"app actions") echo "--kind --group --namespace --resource-name -o --output $g" ;;
	"appset list"|"appset get") echo "-o --output $g" ;;
	"appset create") echo "--upsert -o --output $g" ;;
	"appset delete") echo "-y --yes $g" ;;
	"cluster add") echo "--kubeconfig --name --project --namespace --upsert -y --yes $g" ;;
	"cluster list"|"repo list"|"proj list"|"proj get") echo "-o --output $g" ;;
	"repo add") echo "--type --name --username --password --ssh-private-key-path --insecure-skip-server-verification --project --upsert $g" ;;
	"proj create") echo "--description -d --dest -s --src -f --file --upsert $g" ;;
	*) echo "$g" ;;
	esac
}

_ferry() {
	local cur prev cmd sub i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd="" sub=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		-*) ;;
		*) if [ -z "$cmd" ]; then cmd=${COMP_WORDS[i]}; elif [ -z "$sub" ]; then sub=${COMP_WORDS[i]}; fi ;;
		esac
	done
	case "$prev" in
	-o|--output) COMPREPLY=($(compgen -W "wide json yaml name id server url short" -- "$cur")); return ;;
	--sync-policy) COMPREPLY=($(compgen -W "automated manual none" -- "$cur")); return ;;
	--source) COMPREPLY=($(compgen -W "git live" -- "$cur")); return ;;
	--strategy) COMPREPLY=($(compgen -W "apply hook" -- "$cur")); return ;;
	--cascade) COMPREPLY=($(compgen -W "true false" -- "$cur")); return ;;
	-p|--propagation-policy) [ "$cmd" = app ] && [ "$sub" = delete ] && { COMPREPLY=($(compgen -W "foreground background" -- "$cur")); return; } ;;
	--config|--kubeconfig|-f|--file|--ssh-private-key-path|--data) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$(_ferry_flags "$cmd" "$sub")" -- "$cur"))
		return
	fi
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$(_ferry_words "")" -- "$cur"))
	elif [ -z "$sub" ] && [ -n "$(_ferry_words "$cmd")" ]; then
		COMPREPLY=($(compgen -W "$(_ferry_words "$cmd")" -- "$cur"))
	elif [ "$cmd" = app ] && [ "$sub" != list ] && [ "$sub" != create ]; then
		COMPREPLY=($(compgen -W "$(ferry app list -o name 2>/dev/null | sed 's|.*/||')" -- "$cur"))
	elif [ "$cmd" = proj ] && [ "$sub" = get ]; then
		COMPREPLY=($(compgen -W "$(ferry proj list -o name 2>/dev/null)" -- "$cur"))
	fi
}
complete -F _ferry ferry
