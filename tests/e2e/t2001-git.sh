#!/bin/sh
# t2001-git.sh - git sources over real servers on loopback: `git daemon` and
# `git http-backend` behind tests/e2e/git-http.py (basic auth). No ferry
# command reads git yet, so the product side runs through the unit binary
# built next to $FERRY (its test_git_net__* cases start their own servers
# the same way); the servers started here check the fixtures themselves.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v python3 >/dev/null 2>&1 || test_skip_all "python3 is not installed"
UNIT=$(dirname "$FERRY")/unit

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"

test_expect_success 'make a repository with a branch and tags' '
	git init -q -b main srv/app &&
	cd srv/app &&
	git config user.email t@example.com && git config user.name T &&
	echo "kind: ConfigMap" > cm.yaml && git add cm.yaml && git commit -q -m one &&
	git tag v1.0.0 && git tag -a -m rel v1.2.0 &&
	git rev-parse HEAD > ../../c1
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
python3 "$ROOT/tests/e2e/git-http.py" --root "$TRASH/srv" --port-file "$TRASH/http.port" \
	--user alice --password s3cret >"$TRASH/http.log" 2>&1 &
echo $! >> "$TRASH/.pids"

test_expect_success 'git daemon serves the repository' '
	wait_for 10 git ls-remote "git://127.0.0.1:$DPORT/app" &&
	git ls-remote "git://127.0.0.1:$DPORT/app" refs/heads/main | cut -f1 > got &&
	test_cmp c1 got
'

test_expect_success 'http-backend serves the repository with basic auth' '
	wait_for 10 test -s http.port &&
	HPORT=$(cat http.port) &&
	git ls-remote "http://alice:s3cret@127.0.0.1:$HPORT/app" refs/tags/v1.2.0^{} | cut -f1 > got &&
	test_cmp c1 got
'

test_expect_success 'http-backend refuses a wrong password' '
	HPORT=$(cat http.port) &&
	test_must_fail git ls-remote "http://alice:wrong@127.0.0.1:$HPORT/app"
'

test_expect_success 'a new commit is visible to ls-remote' '
	(cd srv/app && echo "x: 1" >> cm.yaml && git commit -q -am two && git rev-parse HEAD > ../../c2) &&
	git ls-remote "git://127.0.0.1:$DPORT/app" HEAD | cut -f1 > got &&
	test_cmp c2 got
'

if test -x "$UNIT"; then
	test_expect_success 'ferry git module: resolution, fetch, auth, timeouts over loopback servers' '
		cd "$ROOT" && "$UNIT" -s git > "$TRASH/unit.out" 2>&1; rc=$?;
		cat "$TRASH/unit.out"; test $rc = 0 && grep -q " 0 failed" "$TRASH/unit.out"
	'
else
	echo "note: $UNIT not built, skipping the ferry git module checks"
fi

test_done
