# server-lib.sh - helpers for the `ferry server` end-to-end tests (sourced
# after lib.sh). State lives in files under $TRASH because every
# test_expect_success body runs in a subshell.
#
#   start_server [VAR=value...]  start `ferry server` (TLS, port 0) against
#                                $kube_KC with env assignments; sets S, SRV_PID
#   stop_server                  SIGTERM and wait (fails if it does not exit 0)
#   api USER METHOD PATH [curl args...]
#                                call the API with USER's token (file
#                                $TRASH/USER.tok; "-" for none); body in
#                                $TRASH/body, prints the HTTP status
#   api_ct TYPE USER ...          the same with another Content-Type
#   login USER PASSWORD          POST /api/v1/session; saves $TRASH/USER.tok
#   jbody FILTER                 jq -r FILTER on $TRASH/body

start_server() {
	rm -f "$TRASH/port"
	env "$@" "$FERRY" server --kubeconfig "$kube_KC" --listen 127.0.0.1:0 --port-file "$TRASH/port" \
		--data "$TRASH/srv" >>"$TRASH/srv.log" 2>&1 &
	SRV_PID=$!
	echo $SRV_PID >>"$TRASH/.pids"
	wait_for 20 test -s "$TRASH/port" || { tail -20 "$TRASH/srv.log"; return 1; }
	S=https://127.0.0.1:$(cat "$TRASH/port")
	echo "$S" >"$TRASH/url"
	CA=$TRASH/srv/pki/ca.crt
	wait_for 20 curl -sf --cacert "$CA" "$S/readyz" || { tail -20 "$TRASH/srv.log"; return 1; }
}

stop_server() {
	kill -TERM "$SRV_PID" && wait "$SRV_PID"
}

api() {
	api_ct application/json "$@"
}

# api_ct CONTENT-TYPE USER METHOD PATH [curl args...]
api_ct() {
	_ct=$1 _u=$2 _m=$3 _p=$4
	shift 4
	if [ "$_u" = - ]; then
		curl -sS -o "$TRASH/body" -D "$TRASH/headers" -w '%{http_code}' --cacert "$TRASH/srv/pki/ca.crt" \
			-X "$_m" -H "Content-Type: $_ct" "$@" "$(cat "$TRASH/url")$_p"
	else
		curl -sS -o "$TRASH/body" -D "$TRASH/headers" -w '%{http_code}' --cacert "$TRASH/srv/pki/ca.crt" \
			-X "$_m" -H "Content-Type: $_ct" -H "Authorization: Bearer $(cat "$TRASH/$_u.tok")" \
			"$@" "$(cat "$TRASH/url")$_p"
	fi
}

login() {
	_st=$(api - POST /api/v1/session -d "{\"username\":\"$1\",\"password\":\"$2\"}")
	[ "$_st" = 200 ] || { echo "login $1: HTTP $_st $(cat "$TRASH/body")"; return 1; }
	jq -r .token "$TRASH/body" >"$TRASH/$1.tok"
}

jbody() { jq -r "$1" "$TRASH/body"; }

# expect STATUS CMD...: run CMD (prints a status) and compare
expect() {
	_want=$1
	shift
	_got=$("$@")
	[ "$_got" = "$_want" ] || { echo "expected HTTP $_want, got $_got: $(head -c 400 "$TRASH/body")"; return 1; }
}

bcrypt_of() {
	python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))' "$1"
}
