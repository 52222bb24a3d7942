#!/bin/sh
# t4005-plaintext: `ferry kube --insecure-http` serves plain HTTP only when asked;
# HTTPS is the default and refuses plaintext.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"

start_kube tls --no-simulator || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
start_kube plain --no-simulator --insecure-http || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }

test_expect_success 'HTTPS is the default and has a CA in the kubeconfig' '
	grep -q "server: https://127.0.0.1:" $tls_KC && grep -q "certificate-authority-data:" $tls_KC &&
	test_must_fail curl -s --max-time 5 -o /dev/null http://127.0.0.1:$tls_PORT/healthz
'
test_expect_success 'the serving certificate verifies against the generated CA' '
	curl -s --cacert $TRASH/tls/pki/ca.crt https://127.0.0.1:$tls_PORT/healthz | grep -q ok &&
	curl -s --cacert $TRASH/tls/pki/ca.crt https://localhost:$tls_PORT/healthz | grep -q ok
'
test_expect_success 'key files are private' '
	test "$(stat -c %a $TRASH/tls/pki/ca.key)" = 600 && test "$(stat -c %a $TRASH/tls/token)" = 600 &&
	test "$(stat -c %a $TRASH/tls/kubeconfig)" = 600
'
test_expect_success '--insecure-http serves plain HTTP; kubectl works from loopback' '
	grep -q "server: http://127.0.0.1:" $plain_KC &&
	kubectl --kubeconfig $plain_KC get ns default -o name | grep -q namespace/default
'
test_expect_success 'a restart keeps the CA, so clients keep trusting it' '
	cp $TRASH/tls/pki/ca.crt ca.before &&
	kill $tls_PID && sleep 0.5 &&
	"$FERRY" kube --data $TRASH/tls --listen 127.0.0.1:$tls_PORT --no-simulator > $TRASH/tls2.log 2>&1 &
	echo $! >> $TRASH/.pids &&
	wait_for 20 kubectl --kubeconfig $tls_KC get --raw /readyz &&
	cmp ca.before $TRASH/tls/pki/ca.crt
'
test_done
