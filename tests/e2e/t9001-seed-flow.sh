#!/bin/sh
# t9001-seed-flow: the seed document's command flow, end to end, with ferry
# instead of Argo CD: `ferry up` on an empty state, the initial password read
# with the seed's exact kubectl line, `ferry login`, the seed's Applications
# created with `kubectl apply` (only repoURL changed: a git:// repository
# served by `git daemon` on loopback with the seed's layout), app list, app
# get, app history, app rollback (refused under auto-sync, then allowed once
# automation is off), `git revert HEAD` + `git push origin main` and the app
# syncs back. The GitHub push webhook (X-Hub-Signature-256) stands in for
# the hosting service's notification of each push.
# The seed's ApplicationSet (ml-models, a list generator) generates one Helm
# Application per model from models/<model> charts in the same repository.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"
git daemon -h 2>&1 | grep -q "usage: git daemon" || test_skip_all "git daemon not available"

export XDG_CONFIG_HOME=$TRASH/xdg
export GIT_AUTHOR_NAME=seed GIT_AUTHOR_EMAIL=seed@example.com
export GIT_COMMITTER_NAME=seed GIT_COMMITTER_EMAIL=seed@example.com
unset FERRY_SERVER FERRY_AUTH_TOKEN

# --- the seed's Git repository: ml-deployments, served over git:// ------
G=$TRASH/git
mkdir -p "$G/src"
git init -q -b main "$G/src"
W=$G/src
mkdir -p "$W/base" "$W/overlays/production" "$W/overlays/staging"
cat > "$W/base/kustomization.yaml" <<'EOF'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
- service.yaml
EOF
cat > "$W/base/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-server
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  replicas: 2
  selector:
    matchLabels:
      app: model-server
  template:
    metadata:
      labels:
        app: model-server
    spec:
      containers:
      - name: model-server
        image: registry.example.com/ml/model-server:v1.0.0
        ports:
        - containerPort: 8080
EOF
cat > "$W/base/service.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: model-server
spec:
  selector:
    app: model-server
  ports:
  - port: 80
    targetPort: 8080
EOF
overlay() { # overlay ENV TAG
	cat > "$W/overlays/$1/kustomization.yaml" <<-EOF
	apiVersion: kustomize.config.k8s.io/v1beta1
	kind: Kustomization
	resources:
	- ../../base
	images:
	- name: registry.example.com/ml/model-server
	  newTag: $2
	EOF
}
overlay production v1.0.0
overlay staging v1.1.0-rc1
# models/<model>: the Helm charts the seed's ApplicationSet points at
for m in sentiment-classifier fraud-detector recommendation-engine; do
	mkdir -p "$W/models/$m/templates"
	printf 'apiVersion: v2\nname: %s\nversion: 0.1.0\n' "$m" > "$W/models/$m/Chart.yaml"
	printf 'replicas: 1\nimage:\n  repository: registry.example.com/ml/%s\n  tag: latest\n' "$m" > "$W/models/$m/values.yaml"
	cat > "$W/models/$m/templates/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Chart.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
    spec:
      containers:
      - name: model
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
EOF
done
(cd "$W" && git add -A && git commit -qm "model-server v1.0.0")
git clone -q --bare "$W" "$G/ml-deployments.git"
(cd "$W" && git remote add origin "$G/ml-deployments.git")
touch "$G/ml-deployments.git/git-daemon-export-ok"
GPORT=$(free_port)
git daemon --reuseaddr --listen=127.0.0.1 --port="$GPORT" --base-path="$G" --export-all \
	--enable=receive-pack "$G" > "$TRASH/gitd.log" 2>&1 &
echo $! >> "$TRASH/.pids"
REPO=git://127.0.0.1:$GPORT/ml-deployments.git

# commit_tag TAG: change the production image tag, push to origin main
commit_tag() {
	(cd "$W" && overlay production "$1" && git commit -qam "model-server $1" && git push -q origin main) &&
	git -C "$W" rev-parse HEAD
}

# --- ferry up -------------------------------------------------------------
D=$TRASH/up
"$FERRY" up --data "$D" --listen 127.0.0.1:0 --kube-listen 127.0.0.1:0 > "$TRASH/up.out" 2> "$TRASH/up.err" &
echo $! >> "$TRASH/.pids"
export KUBECONFIG=$D/kubeconfig

test_expect_success 'git daemon serves the seed repository' '
	wait_for 20 git ls-remote '"$REPO"' main
'
test_expect_success 'ferry up on an empty state is up and prints the seed password command' '
	wait_for 30 grep -q "^ferry is up" $TRASH/up.out &&
	grep -qx "  export KUBECONFIG=$D/kubeconfig" $TRASH/up.out &&
	grep -qx "  kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath=\"{.data.password}\" | base64 -d" $TRASH/up.out &&
	test -s $D/server.port
'
S=127.0.0.1:$(cat "$D/server.port" 2>/dev/null)

test_expect_success 'the seed kubectl line reads the initial admin password' '
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > '"$TRASH"'/pw &&
	test $(wc -c < '"$TRASH"'/pw) -ge 12
'
test_expect_success 'ferry login with it (the seed: argocd login localhost:8080)' '
	"$FERRY" login '"$S"' --username admin --password "$(cat '"$TRASH"'/pw)" --insecure > out &&
	grep -q "logged in successfully" out
'

# --- the seed's Applications, as written, with kubectl apply ------------
mkdir -p "$TRASH/apps"
cat > "$TRASH/apps/model-server-app.yaml" <<EOF
# apps/model-server-app.yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: model-server
  namespace: argocd
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: $REPO
    targetRevision: main
    path: overlays/production
  destination:
    server: https://kubernetes.default.svc
    namespace: ml-production
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
    - CreateNamespace=true
  # Health checks for ML workloads
  ignoreDifferences:
  - group: apps
    kind: Deployment
    jsonPointers:
    - /spec/replicas # Ignore HPA-managed replicas
EOF
cat > "$TRASH/apps/staging.yaml" <<EOF
# apps/staging.yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: model-server-staging
  namespace: argocd
spec:
  source:
    repoURL: $REPO
    targetRevision: main
    path: overlays/staging
  destination:
    server: https://kubernetes.default.svc
    namespace: ml-staging
  syncPolicy:
    automated:
      selfHeal: true
      prune: true
EOF
seed_appset "$TRASH/apps/model-appset.yaml" "$REPO"
cat > "$TRASH/apps/health-cm.yaml" <<'EOF'
# Custom health check for model server
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
data:
  resource.customizations.health.argoproj.io_Application: |
    hs = {}
    hs.status = "Progressing"
    hs.message = ""
    if obj.status ~= nil then
      if obj.status.health ~= nil then
        hs.status = obj.status.health.status
        if obj.status.health.message ~= nil then
          hs.message = obj.status.health.message
        end
      end
    end
    return hs
EOF

# The seed's staging app has no syncOptions CreateNamespace=true: its
# namespace must exist first (the seed creates namespaces the same way).
# It has no spec.project either: ferry (like an API server without the CRD
# schema's required list) stores it, and the controller uses "default".
test_expect_success 'kubectl apply of the seed Applications' '
	kubectl create namespace ml-staging &&
	kubectl apply -f '"$TRASH"'/apps/model-server-app.yaml > out &&
	grep -q "application.argoproj.io/model-server created" out &&
	kubectl apply -f '"$TRASH"'/apps/staging.yaml | grep -q "model-server-staging created"
'
test_expect_success 'kubectl apply of the seed health-check ConfigMap keeps argocd-cm settings' '
	kubectl apply -f '"$TRASH"'/apps/health-cm.yaml &&
	kubectl -n argocd get cm argocd-cm -o json > cm.json &&
	jq -e ".data[\"resource.customizations.health.argoproj.io_Application\"] | test(\"hs.status\")" cm.json &&
	kubectl -n argocd get cm argocd-cm -o jsonpath="{.metadata.labels}" | grep -q argocd
'
REV1=$(git -C "$W" rev-parse HEAD)
test_expect_success 'both apps sync: Synced, Healthy, the overlay images deployed' '
	"$FERRY" app wait model-server model-server-staging --sync --health --timeout 60 > /dev/null &&
	kubectl -n ml-production get deploy model-server -o jsonpath="{.spec.template.spec.containers[0].image}" > img &&
	grep -qx registry.example.com/ml/model-server:v1.0.0 img &&
	kubectl -n ml-staging get deploy model-server -o jsonpath="{.spec.template.spec.containers[0].image}" |
		grep -qx registry.example.com/ml/model-server:v1.1.0-rc1
'
test_expect_success 'the seed ApplicationSet generates one Helm app per model, deployed with its version and replicas' '
	kubectl apply -f '"$TRASH"'/apps/model-appset.yaml | grep -q "applicationset.argoproj.io/ml-models created" &&
	wait_for 30 kubectl -n argocd get app sentiment-classifier fraud-detector recommendation-engine &&
	"$FERRY" app wait sentiment-classifier fraud-detector recommendation-engine --sync --health --timeout 60 > /dev/null &&
	kubectl -n argocd get app fraud-detector -o jsonpath="{.spec.source.path} {.spec.source.helm.parameters[0].value}" |
		grep -qx "models/fraud-detector v2.1.0" &&
	kubectl -n ml-production get deploy fraud-detector -o jsonpath="{.spec.replicas} {.spec.template.spec.containers[0].image}" |
		grep -qx "5 registry.example.com/ml/fraud-detector:v2.1.0" &&
	kubectl -n ml-production get deploy sentiment-classifier -o jsonpath="{.spec.replicas}" | grep -qx 3 &&
	kubectl -n argocd get app recommendation-engine -o jsonpath="{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}" |
		grep -qx ApplicationSet/ml-models
'
test_expect_success 'ferry app list shows both' '
	"$FERRY" app list > out &&
	grep -q "^argocd/model-server  *https://kubernetes.default.svc  *ml-production  *default  *Synced  *Healthy  *Auto-Prune  *<none>  *git://127.0.0.1:[0-9]*/ml-deployments.git  *overlays/production  *main$" out &&
	grep -q "^argocd/model-server-staging  .* ml-staging  *default  *Synced  *Healthy  *Auto-Prune" out
'
test_expect_success 'ferry app get model-server' '
	"$FERRY" app get model-server > out &&
	grep -q "^Name:               argocd/model-server$" out &&
	grep -q "^Sync Policy:        Automated (Prune)$" out &&
	grep -q "^Sync Status:        Synced to main ($(echo '"$REV1"' | cut -c1-7))$" out &&
	grep -q "^Health Status:      Healthy$" out &&
	grep -q "^apps  *Deployment  *ml-production  *model-server  *Synced  " out &&
	grep -q "^ *Service  *ml-production  *model-server  *Synced  " out || { cat out; false; }
'
# Argo CD shows each resource's health in this table: from
# status.resources[].health, or (when the controller has not stored it) from
# the server's resource tree
test_expect_success 'ferry app get model-server shows each resource Healthy' '
	"$FERRY" app get model-server > out &&
	grep -q "^apps  *Deployment  *ml-production  *model-server  *Synced  *Healthy" out &&
	grep -q "^ *Service  *ml-production  *model-server  *Synced  *Healthy" out
'

# --- two more commits, each announced by a signed GitHub push webhook ----
kubectl -n argocd patch secret argocd-secret -p "{\"data\":{\"webhook.github.secret\":\"$(printf seed-s3cret | base64 -w0)\"}}" > /dev/null
# push_hook SHA: POST a GitHub push event for main, signed; prints the HTTP status
push_hook() {
	printf '{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"%s","repository":{"html_url":"%s","clone_url":"%s","default_branch":"main"},"commits":[{"id":"%s","modified":["overlays/production/kustomization.yaml"]}]}' \
		"$1" "$REPO" "$REPO" "$1" > "$TRASH/push.json"
	sig=$(openssl dgst -sha256 -hmac seed-s3cret -r < "$TRASH/push.json" | cut -d" " -f1)
	curl -sk -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/json" \
		-H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" \
		--data-binary @"$TRASH/push.json" "https://$S/api/webhook"
}
# synced_to SHA IMAGE_TAG: model-server is Synced at SHA and runs the tag
synced_to() {
	kubectl -n argocd get application model-server -o json > "$TRASH/app.json" &&
	jq -e --arg r "$1" '.status.sync.revision == $r and .status.sync.status == "Synced"' "$TRASH/app.json" > /dev/null &&
	kubectl -n ml-production get deploy model-server -o jsonpath="{.spec.template.spec.containers[0].image}" |
		grep -qx "registry.example.com/ml/model-server:$2"
}
test_expect_success 'a push with a bad signature is refused' '
	printf "{}" > bad.json &&
	test "$(curl -sk -o /dev/null -w "%{http_code}" -X POST -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=00" \
		--data-binary @bad.json https://'"$S"'/api/webhook)" = 401
'
test_expect_success 'commit v1.1.0, push, webhook: the app syncs to it' '
	rev=$(commit_tag v1.1.0) && echo $rev > '"$TRASH"'/rev2 &&
	test "$(push_hook $rev)" = 200 &&
	wait_for 30 synced_to $rev v1.1.0
'
test_expect_success 'commit v1.2.0, push, webhook: the app syncs to it' '
	rev=$(commit_tag v1.2.0) && echo $rev > '"$TRASH"'/rev3 &&
	test "$(push_hook $rev)" = 200 &&
	wait_for 30 synced_to $rev v1.2.0
'
test_expect_success 'ferry app history model-server has 3 entries, in order' '
	"$FERRY" app history model-server > out &&
	grep -q "^SOURCE  git://127.0.0.1:[0-9]*/ml-deployments.git$" out &&
	grep -q "^ID  *DATE  *REVISION$" out &&
	"$FERRY" app history model-server -o id > ids && test $(wc -l < ids) = 3 &&
	grep -q "main ($(echo '"$REV1"' | cut -c1-7))$" out &&
	grep -q "main ($(cut -c1-7 '"$TRASH"'/rev3))$" out &&
	tail -1 out | grep -q "($(cut -c1-7 '"$TRASH"'/rev3))$"
'
test_expect_success 'ferry app rollback under auto-sync is refused, as Argo CD' '
	id=$(head -1 '"$TRASH"'/ids 2>/dev/null || "$FERRY" app history model-server -o id | head -1) &&
	"$FERRY" app rollback model-server $id 2> err; test $? = 20 &&
	grep -q "rollback cannot be initiated when auto-sync is enabled" err
'
test_expect_success 'without automation, ferry app rollback to the first ID redeploys the first image' '
	"$FERRY" app history model-server -o id | head -1 > id1 &&
	"$FERRY" app set model-server --sync-policy none &&
	"$FERRY" app get model-server | grep -q "^Sync Policy:        Manual$" &&
	"$FERRY" app rollback model-server $(cat id1) --timeout 60 > out &&
	grep -q "^Phase:              Succeeded$" out &&
	kubectl -n ml-production get deploy model-server -o jsonpath="{.spec.template.spec.containers[0].image}" |
		grep -qx registry.example.com/ml/model-server:v1.0.0 &&
	"$FERRY" app history model-server -o id | wc -l | grep -qx 4 &&
	"$FERRY" app get model-server | grep -q "^Sync Status:        OutOfSync from main"
'
test_expect_success 're-enable automation: the app returns to the head of main (v1.2.0)' '
	"$FERRY" app set model-server --sync-policy automated --auto-prune --self-heal &&
	"$FERRY" app get model-server | grep -q "^Sync Policy:        Automated (Prune)$" &&
	wait_for 30 synced_to $(cat '"$TRASH"'/rev3) v1.2.0
'
test_expect_success 'git revert HEAD, git push origin main: the app syncs back to v1.1.0' '
	(cd '"$W"' && git revert --no-edit HEAD > /dev/null && git push -q origin main) &&
	rev=$(git -C '"$W"' rev-parse HEAD) &&
	test "$(push_hook $rev)" = 200 &&
	{ wait_for 30 synced_to $rev v1.1.0 || { jq ".status.sync, .status.operationState" $TRASH/app.json; false; }; } &&
	"$FERRY" app wait model-server --health --timeout 30 > /dev/null &&
	"$FERRY" app get model-server > out && grep -q "^Health Status:      Healthy$" out || { cat out; false; }
'
test_expect_success 'the staging app still runs its own image, Synced' '
	kubectl -n ml-staging get deploy model-server -o jsonpath="{.spec.template.spec.containers[0].image}" |
		grep -qx registry.example.com/ml/model-server:v1.1.0-rc1 &&
	"$FERRY" app get model-server-staging | grep -q "^Sync Status:        Synced to main"
'
test_expect_success '/metrics counts the finished syncs (argocd_app_sync_total) and lists the cluster' '
	curl -sk https://$S/metrics > metrics &&
	grep -q "^argocd_app_info{.*name=\"model-server\"" metrics &&
	n=$(sed -n "s/^argocd_app_sync_total{dest_server=\"https:\/\/kubernetes.default.svc\",name=\"model-server\",namespace=\"argocd\",phase=\"Succeeded\",project=\"default\"} //p" metrics) &&
	test "$n" -ge 5 &&
	grep -qx "argocd_cluster_info{k8s_version=\"\",name=\"in-cluster\",server=\"https://kubernetes.default.svc\"} 1" metrics &&
	grep -qx "argocd_cluster_connection_status{k8s_version=\"\",server=\"https://kubernetes.default.svc\"} 1" metrics
'
test_expect_success 'no sanitizer report in the logs' '
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" $TRASH/up.err
'
test_done
