#!/bin/sh
# t4004-simulator: the workload simulator of `ferry kube` seen through the
# real kubectl: roll-outs, a bad release (crash loop) that leaves the old
# pods serving, image pull errors, Jobs, CronJobs, StatefulSets, Services
# (Endpoints, LoadBalancer), PVCs and namespace deletion.
# FERRY_TEST_SLOW=1 also waits (up to 65 s) for a CronJob to fire on its own.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"

start_kube k1 --startup-delay 100 || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
export KUBECONFIG=$k1_KC
K="kubectl --request-timeout=20s -n sim"

cat > "$TRASH/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  progressDeadlineSeconds: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/model-server:v1
        ports:
        - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
YAML

cat > "$TRASH/jobs.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: ok
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: bad
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox:fail}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  successfulJobsHistoryLimit: 2
  jobTemplate:
    metadata:
      labels: {app: tick}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: main, image: busybox}
YAML

cat > "$TRASH/misc.yaml" <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  updateStrategy: {type: RollingUpdate}
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - {name: db, image: postgres:16}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 2Gi}}
---
apiVersion: v1
kind: Service
metadata:
  name: lb
spec:
  type: LoadBalancer
  selector: {app: db}
  ports:
  - {port: 5432}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: scratch
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: nopull
spec:
  containers:
  - {name: main, image: "registry.example/app:1.0-pullerror"}
YAML

test_expect_success 'namespace and a Deployment that rolls out' '
	kubectl create namespace sim &&
	$K apply -f web.yaml &&
	$K rollout status deploy/web --timeout=30s &&
	$K get pods -l app=web > pods && test $(grep -c "1/1 *Running" pods) = 2
'
test_expect_success 'Endpoints and EndpointSlice list the ready pods' '
	wait_for 10 sh -c "$K get endpoints web -o jsonpath=\"{.subsets[0].addresses[*].ip}\" | grep -q \"10\.244\..* 10\.244\.\"" &&
	test "$($K get endpoints web -o jsonpath="{.subsets[0].ports[0].port}")" = 8080 &&
	$K get endpointslices -l kubernetes.io/service-name=web -o jsonpath="{.items[0].endpoints[*].conditions.ready}" > ready &&
	test "$(cat ready)" = "true true"
'
test_expect_success 'a bad release crash-loops while the old pods keep serving' '
	$K set image deploy/web web=registry.example/model-server:v2-crashloop &&
	wait_for 20 sh -c "$K get pods -l app=web | grep -q CrashLoopBackOff" &&
	test_must_fail $K rollout status deploy/web --timeout=30s > rs.out 2>&1 &&
	grep -q "exceeded its progress deadline" rs.out &&
	$K get deploy web -o jsonpath="{.status.conditions[?(@.type==\"Progressing\")].reason}" > reason &&
	test "$(cat reason)" = ProgressDeadlineExceeded &&
	test "$($K get deploy web -o jsonpath="{.status.availableReplicas}")" = 2 &&
	test "$($K get deploy web -o jsonpath="{.status.conditions[?(@.type==\"Available\")].status}")" = True &&
	$K get pods -l app=web > pods && test $(grep -c "1/1 *Running" pods) = 2 &&
	test $(grep -c "0/1 *CrashLoopBackOff" pods) = 1 &&
	test "$($K get endpoints web -o jsonpath="{.subsets[0].addresses[*].ip}" | wc -w)" = 2
'
test_expect_success 'rolling back to the good release completes' '
	$K rollout undo deploy/web &&
	$K rollout status deploy/web --timeout=30s &&
	wait_for 10 sh -c "test \$($K get pods -l app=web -o name | wc -l) = 2"
'
test_expect_success 'an image that cannot be pulled: ImagePullBackOff' '
	$K apply -f misc.yaml &&
	wait_for 10 sh -c "$K get pod nopull | grep -q ImagePullBackOff" &&
	test "$($K get pod nopull -o jsonpath="{.status.phase}")" = Pending
'
test_expect_success 'StatefulSet ready, PVCs Bound, LoadBalancer ingress IP' '
	$K rollout status sts/db --timeout=30s &&
	test "$($K get sts db -o jsonpath="{.status.readyReplicas}")" = 2 &&
	wait_for 10 sh -c "test \"\$($K get pvc data-db-0 -o jsonpath={.status.phase})\" = Bound" &&
	wait_for 10 sh -c "test \"\$($K get pvc scratch -o jsonpath={.status.phase})\" = Bound" &&
	test "$($K get pvc data-db-1 -o jsonpath="{.status.capacity.storage}")" = 2Gi &&
	wait_for 10 sh -c "$K get svc lb -o jsonpath={.status.loadBalancer.ingress[0].ip} | grep -q ^172\\.18\\." &&
	$K get svc lb > svc && grep -q "LoadBalancer *10\..* 172\.18\." svc
'
test_expect_success 'a Job completes, a failing Job fails' '
	$K apply -f jobs.yaml &&
	$K wait --for=condition=complete job/ok --timeout=30s &&
	$K wait --for=condition=failed job/bad --timeout=30s &&
	test "$($K get job bad -o jsonpath="{.status.conditions[?(@.type==\"Failed\")].reason}")" = BackoffLimitExceeded
'
test_expect_success 'a CronJob runs its missed schedule' '
	ago=$(date -u -d "-3 min" +%Y-%m-%dT%H:%M:%SZ) &&
	$K patch cronjob tick --subresource=status --type=merge -p "{\"status\":{\"lastScheduleTime\":\"$ago\"}}" &&
	wait_for 10 sh -c "$K get jobs -l app=tick -o name | grep -q job.batch/tick-" &&
	job=$($K get jobs -l app=tick -o name | head -1) &&
	$K wait --for=condition=complete $job --timeout=30s &&
	want=tick-$(( $(date -u -d "$($K get cronjob tick -o jsonpath={.status.lastScheduleTime})" +%s) / 60 )) &&
	test "$job" = "job.batch/$want" &&
	test "$($K get $job -o jsonpath={.metadata.ownerReferences[0].name})" = tick &&
	wait_for 10 sh -c "$K get cronjob tick -o jsonpath={.status.lastSuccessfulTime} | grep -q T"
'
if [ "${FERRY_TEST_SLOW:-0}" = 1 ]; then
test_expect_success 'a CronJob fires on its schedule (slow)' '
	wait_for 65 sh -c "test \$($K get jobs -l app=tick -o name | wc -l) -ge 2" &&
	$K get events --field-selector involvedObject.name=tick > ev && grep -q SuccessfulCreate ev
'
fi
test_expect_success 'deleting the namespace removes everything in it' '
	kubectl delete namespace sim --timeout=30s &&
	test_must_fail kubectl get namespace sim &&
	test -z "$(kubectl get pods,rs,jobs,pvc,endpoints -n sim -o name 2>/dev/null)"
'
test_expect_success 'no sanitizer reports in the server log' '
	! grep -q "ERROR: AddressSanitizer\|runtime error:" "$TRASH/k1.log"
'
test_done
