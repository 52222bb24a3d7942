#compdef ferry
# zsh completion for ferry. Put it in a directory of $fpath as _ferry, or
# source it after compinit. Application names come from `ferry app list -o name`.

_ferry_apps() {
	local -a apps
	apps=(${${(f)"$(ferry app list -o name 2>/dev/null)"}##*/})
	_describe 'application' apps
}

_ferry_global=(
	'--server[API server address]:host\:port:'
	'--auth-token[session token]:token:'
	'--config[config file]:file:_files'
	'--insecure[do not verify the server certificate]'
	'--plaintext[use HTTP]'
	'(-h --help)'{-h,--help}'[show help]'
)
_ferry_out='(-o --output)'{-o,--output}'[output format]:format:(wide json yaml name)'

_ferry_app() {
	local -a subs
	subs=(
		'list:list applications' 'get:show an application' 'history:deployment history'
		'sync:sync an application' 'wait:wait for a state' 'rollback:roll back to a deployment'
		'diff:live versus target' 'delete:delete applications' 'create:create an application'
		'set:change the spec' 'manifests:print manifests' 'terminate-op:terminate the operation'
		'resources:list the resources' 'patch:patch the application' 'patch-resource:patch a resource'
		'delete-resource:delete a resource' 'actions:list or run resource actions'
	)
	if (( CURRENT == 2 )); then
		_describe 'app command' subs
		return
	fi
	local sub=$words[2]
	case $sub in
	list) _arguments $_ferry_global $_ferry_out '*'{-p,--project}'[project]:project:' \
		{-l,--selector}'[label selector]:selector:' {-r,--repo}'[repository]:url:' ;;
	sync) _arguments $_ferry_global $_ferry_out '--revision[revision]:rev:' '--prune' '--dry-run' \
		'--strategy[strategy]:strategy:(apply hook)' '--force' '--async' '--timeout[seconds]:seconds:' \
		'*--resource[G\:K\:NS/NAME]:resource:' '1:application:_ferry_apps' ;;
	wait) _arguments $_ferry_global $_ferry_out '--sync' '--health' '--operation' '--suspended' '--degraded' \
		'--delete' '--timeout[seconds]:seconds:' '*:application:_ferry_apps' ;;
	rollback) _arguments $_ferry_global $_ferry_out '--prune' '--dry-run' '--timeout[seconds]:seconds:' \
		'1:application:_ferry_apps' '2:history id:' ;;
	diff) _arguments $_ferry_global '--revision[revision]:rev:' '--refresh' '--hard-refresh' \
		'--exit-code[exit 1 on a difference]:bool:(true false)' '--diff-exit-code[code]:n:' '1:application:_ferry_apps' ;;
	delete) _arguments $_ferry_global '--cascade[delete resources]:bool:(true false)' \
		{-p,--propagation-policy}'[policy]:policy:(foreground background)' {-y,--yes} '--wait' '*:application:_ferry_apps' ;;
	create|set) _arguments $_ferry_global '--repo[URL]:url:' '--path[path]:path:' '--revision[rev]:rev:' \
		'--dest-server[URL]:url:' '--dest-name[name]:name:' '--dest-namespace[ns]:ns:' '--project[project]:project:' \
		'--sync-policy[policy]:policy:(automated manual none)' '--self-heal' '--auto-prune' '--directory-recurse' \
		'*--sync-option[option]:option:' {-f,--file}'[manifest]:file:_files' '--upsert' '*--label[k=v]:label:' \
		'1:application:_ferry_apps' ;;
	manifests) _arguments $_ferry_global '--source[source]:source:(git live)' '--revision[rev]:rev:' '1:application:_ferry_apps' ;;
	get) _arguments $_ferry_global $_ferry_out '--refresh' '--hard-refresh' '--show-operation' '1:application:_ferry_apps' ;;
	*) _arguments $_ferry_global $_ferry_out '1:application:_ferry_apps' ;;
	esac
}

_ferry() {
	local -a cmds
	cmds=(
		'up:run everything on one machine' 'kube:embedded Kubernetes API server' 'controller:application controller'
		'server:API server' 'render:render manifests' 'login:log in to an API server' 'logout:log out'
		'app:manage applications' 'appset:manage application sets' 'cluster:manage clusters'
		'repo:manage repositories' 'proj:manage projects' 'version:print versions'
	)
	if (( CURRENT == 2 )); then
		_describe 'command' cmds
		return
	fi
	local cmd=$words[2]
	shift words
	(( CURRENT-- ))
	case $cmd in
	app) _ferry_app ;;
	login) _arguments $_ferry_global '--username[user]:user:' '--password[password]:password:' '1:server:' ;;
	logout) _arguments $_ferry_global '1:server:' ;;
	version) _arguments $_ferry_global '(-o --output)'{-o,--output}'[format]:format:(wide short json yaml)' '--client' '--short' ;;
	cluster|repo)
		if (( CURRENT == 2 )); then
			local -a s; s=('add:add' 'list:list' 'rm:remove'); _describe 'command' s
		else
			_arguments $_ferry_global $_ferry_out '*:argument:'
		fi ;;
	appset)
		if (( CURRENT == 2 )); then
			local -a s; s=('list:list application sets' 'get:show an application set' 'create:create from a file'
				'delete:delete an application set'); _describe 'command' s
		else
			_arguments $_ferry_global $_ferry_out '--upsert' {-y,--yes} '*:argument:_files'
		fi ;;
	proj)
		if (( CURRENT == 2 )); then
			local -a s; s=('list:list projects' 'get:show a project' 'create:create a project'); _describe 'command' s
		else
			_arguments $_ferry_global $_ferry_out '*:argument:'
		fi ;;
	*) _files ;;
	esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_ferry "$@"
else
	compdef _ferry ferry
fi
