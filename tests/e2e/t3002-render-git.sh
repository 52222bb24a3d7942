#!/bin/sh
# t3002-render-git: `ferry render --repo` over real git servers on
# loopback (git daemon for git://, git http-backend behind
# tests/e2e/git-http.py with basic auth for http://), compared with
# `kubectl kustomize` on a checkout; new commits, unknown revisions,
# credentials (flags and environment, never printed), and the safety rules
# of `ferry render` (paths, symlinks and kustomize resources outside the
# repository, option injection, limits, temp directories removed).
. tests/e2e/lib.sh

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v python3 >/dev/null 2>&1 || test_skip_all "python3 is not installed"
HAVE_KUBECTL=0
command -v kubectl >/dev/null 2>&1 && HAVE_KUBECTL=1

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
unset FERRY_REPO_USERNAME FERRY_REPO_PASSWORD FERRY_REPO_BEARER_TOKEN
PASS=s3cret-Pa55

commit() { (cd srv/app && git add -A && git -c user.email=t@e -c user.name=t commit -q -m "$1"); }

test_expect_success 'make a repository: kustomize base/overlay and a plain directory' '
	mkdir -p srv/app/base srv/app/overlay srv/app/plain &&
	cd srv/app && git init -q -b main . && cd ../.. &&
	cat > srv/app/base/app.yaml <<-EOT &&
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: web
	spec:
	  template:
	    spec:
	      containers:
	      - name: web
	        image: nginx:1.25
	        envFrom:
	        - configMapRef:
	            name: settings
	---
	apiVersion: v1
	kind: Service
	metadata:
	  name: web
	spec:
	  selector:
	    app: web
	EOT
	printf "resources:\n- app.yaml\n" > srv/app/base/kustomization.yaml &&
	cat > srv/app/overlay/kustomization.yaml <<-EOT &&
	resources:
	- ../base
	namePrefix: prod-
	labels:
	- pairs:
	    env: prod
	  includeSelectors: true
	images:
	- name: nginx
	  newTag: "1.27"
	configMapGenerator:
	- name: settings
	  literals:
	  - mode=fast
	EOT
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  on: yes\n" > srv/app/plain/one.yaml &&
	commit one && git -C srv/app tag v1.0.0 &&
	git -C srv/app rev-parse HEAD > c1
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
python3 "$ROOT/tests/e2e/git-http.py" --root "$TRASH/srv" --port-file "$TRASH/http.port" \
	--user alice --password "$PASS" >"$TRASH/http.log" 2>&1 &
echo $! >> "$TRASH/.pids"
GURL="git://127.0.0.1:$DPORT/app"

test_expect_success 'servers are up' '
	wait_for 10 git ls-remote "$GURL" && wait_for 10 test -s http.port
'
HURL="http://127.0.0.1:$(cat "$TRASH/http.port" 2>/dev/null)/app"

test_expect_success 'git://: kustomize overlay renders like kubectl kustomize on a checkout' '
	"$FERRY" render --repo "$GURL" --revision main --path overlay > got.yaml &&
	grep -q "name: prod-web" got.yaml && grep -q "image: nginx:1.27" got.yaml &&
	if test $HAVE_KUBECTL = 1; then
		git clone -q srv/app co && kubectl kustomize co/overlay > want.yaml 2>/dev/null &&
		test_cmp want.yaml got.yaml
	fi
'

test_expect_success 'git://: tag, short SHA, HEAD, semver constraint; directory source' '
	"$FERRY" render --repo "$GURL" --revision v1.0.0 --path plain > t1.yaml &&
	"$FERRY" render --repo "$GURL" --revision "$(cut -c1-8 c1)" --path plain > t2.yaml &&
	"$FERRY" render --repo "$GURL" --path plain > t3.yaml &&
	"$FERRY" render --repo "$GURL" --revision ">=1.0.0 <2.0.0" --path plain > t4.yaml &&
	test_cmp t1.yaml t2.yaml && test_cmp t1.yaml t3.yaml && test_cmp t1.yaml t4.yaml &&
	grep -q "\"true\": true" t1.yaml
'

test_expect_success 'git://: a new commit is seen on the next render (fresh and cached clones)' '
	"$FERRY" render --repo "$GURL" --revision main --path plain --cache-dir cache > before.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n" > srv/app/plain/two.yaml &&
	commit two &&
	"$FERRY" render --repo "$GURL" --revision main --path plain --cache-dir cache > after.yaml &&
	! grep -q "name: two" before.yaml && grep -q "name: two" after.yaml &&
	"$FERRY" render --repo "$GURL" --revision main --path plain > fresh.yaml &&
	test_cmp after.yaml fresh.yaml &&
	"$FERRY" render --repo "$GURL" --revision v1.0.0 --path plain --cache-dir cache > old.yaml &&
	test_cmp before.yaml old.yaml
'

test_expect_success 'git://: an unknown revision is a clear error, exit 1' '
	"$FERRY" render --repo "$GURL" --revision no-such-branch --path plain > out 2> err; rc=$? &&
	test $rc = 1 && test ! -s out &&
	grep -q "unable to resolve .no-such-branch." err &&
	"$FERRY" render --repo "$GURL" --revision ">=9.0.0" --path plain 2> err; rc=$? &&
	test $rc = 1 && grep -q "9.0.0" err &&
	"$FERRY" render --repo "git://127.0.0.1:$DPORT/nope" --path plain 2> err; rc=$? &&
	test $rc = 1 && test -s err
'

test_expect_success 'http://: basic auth from flags and from the environment' '
	"$FERRY" render --repo "$HURL" --revision main --path overlay --username alice --password "$PASS" > h1.yaml &&
	FERRY_REPO_USERNAME=alice FERRY_REPO_PASSWORD="$PASS" \
		"$FERRY" render --repo "$HURL" --revision main --path overlay > h2.yaml &&
	"$FERRY" render --repo "$GURL" --revision main --path overlay > g.yaml &&
	test_cmp g.yaml h1.yaml && test_cmp g.yaml h2.yaml
'

test_expect_success 'http://: wrong or missing password is refused, exit 1, the password is never printed' '
	"$FERRY" render --repo "$HURL" --path overlay --username alice --password "wrong-$PASS" > out 2> err; rc=$? &&
	test $rc = 1 && test ! -s out && test -s err && ! grep -q "$PASS" err &&
	"$FERRY" render --repo "$HURL" --path overlay > out 2> err; rc=$? &&
	test $rc = 1 && test -s err &&
	"$FERRY" render --repo "$HURL" --path overlay --password "$PASS" 2> err; rc=$? &&
	test $rc = 2 && grep -q "needs a username" err && ! grep -q "$PASS" err
'

test_expect_success 'http://: a new commit is seen' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: three\n" > srv/app/plain/three.yaml &&
	commit three &&
	FERRY_REPO_USERNAME=alice FERRY_REPO_PASSWORD="$PASS" \
		"$FERRY" render --repo "$HURL" --revision main --path plain --cache-dir hcache > h3.yaml &&
	grep -q "name: three" h3.yaml
'

# ---- safety ----

test_expect_success 'safety: a source path outside the repository is refused, naming it' '
	test_must_fail "$FERRY" render --repo "$GURL" --path ../../etc 2> err &&
	grep -q "\.\./\.\./etc" err &&
	mkdir -p local/app && cp srv/app/plain/one.yaml local/app/ &&
	test_must_fail "$FERRY" render local --path ../.. 2> err && grep -q "\.\./\.\." err &&
	test_must_fail "$FERRY" render local --path /etc 2> err && grep -q "etc" err
'

test_expect_success 'safety: kustomize resources outside the repository are refused, naming them' '
	mkdir -p kz/app && printf "resources:\n- ../../outside.yaml\n" > kz/app/kustomization.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret-stuff\n" > outside.yaml &&
	test_must_fail "$FERRY" render kz --path app > out 2> err &&
	grep -q "outside.yaml" err && ! grep -q secret-stuff out &&
	mkdir -p srv/app/esc && printf "resources:\n- ../../../../../../etc/hostname\n" > srv/app/esc/kustomization.yaml &&
	commit esc &&
	test_must_fail "$FERRY" render --repo "$GURL" --path esc 2> err && grep -q "etc/hostname" err
'

test_expect_success 'safety: symlinks out of the repository are refused; symlinks inside work' '
	mkdir -p srv/app/links && cp srv/app/plain/one.yaml srv/app/links/real.yaml &&
	ln -s real.yaml srv/app/links/alias.yml && commit links-in &&
	"$FERRY" render --repo "$GURL" --path links -o json > l.json &&
	python3 -c "import json; d=json.load(open(\"l.json\")); assert len(d)==2, d" &&
	ln -s /etc/hostname srv/app/links/host.yaml && commit links-out &&
	test_must_fail "$FERRY" render --repo "$GURL" --path links 2> err &&
	grep -q "host.yaml" err &&
	mkdir -p loc && ln -s /etc loc/app &&
	test_must_fail "$FERRY" render loc --path app 2> err && grep -q "app" err &&
	mkdir -p lk && printf "resources:\n- cm.yaml\n" > lk/kustomization.yaml && ln -s /etc/hostname lk/cm.yaml &&
	test_must_fail "$FERRY" render lk 2> err && grep -q "cm.yaml" err
'

test_expect_success 'safety: option injection and control characters are refused before anything runs' '
	test_must_fail "$FERRY" render --repo "$GURL" --revision "-x" --path plain 2> err && grep -q "must not begin" err &&
	test_must_fail "$FERRY" render --repo "--upload-pack=touch $TRASH/pwned" --path plain 2> err &&
	test_must_fail "$FERRY" render --repo "$GURL" --path "-plain" 2> err && grep -q "must not begin" err &&
	test_must_fail "$FERRY" render --repo "$GURL" --revision "$(printf "main\nx")" --path plain 2> err &&
	test_must_fail "$FERRY" render --repo "$(printf "git://127.0.0.1:$DPORT/app\001")" --path plain 2> err &&
	test ! -e pwned
'

test_expect_success 'safety: limits on files, manifest bytes and YAML' '
	mkdir -p lim && for i in 1 2 3; do printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c$i\n" > lim/c$i.yaml; done &&
	"$FERRY" render lim > /dev/null &&
	test_must_fail "$FERRY" render lim --max-files 2 2> err && grep -q "more than 2" err &&
	test_must_fail "$FERRY" render lim --max-manifest-bytes 100 2> err && grep -q "maximum combined size of 100 bytes" err &&
	mkdir -p bomb && python3 - > bomb/b.yaml <<-PY &&
	print("a: &a [x, x, x, x, x, x, x, x, x, x]")
	for i in range(1, 9):
	    print("b%d: &b%d [%s]" % (i, i, ", ".join(["*" + ("a" if i == 1 else "b%d" % (i - 1))] * 10)))
	PY
	test_must_fail "$FERRY" render bomb 2> err && grep -qi "nodes\|aliases\|limit" err
'

test_expect_success 'safety: temp directories are removed, on failure too' '
	mkdir -p tmp &&
	TMPDIR="$TRASH/tmp" "$FERRY" render --repo "$GURL" --path overlay > /dev/null &&
	test -z "$(ls -A tmp)" &&
	test_must_fail env TMPDIR="$TRASH/tmp" "$FERRY" render --repo "$GURL" --revision nope --path overlay 2> /dev/null &&
	test -z "$(ls -A tmp)" &&
	test_must_fail env TMPDIR="$TRASH/tmp" "$FERRY" render --repo "$HURL" --path overlay 2> /dev/null &&
	test -z "$(ls -A tmp)"
'

test_done
