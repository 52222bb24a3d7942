#!/bin/sh
# gen.sh - regenerate the expected outputs in expected/ with the REAL helm
# (`helm template`, built the way Argo CD builds the command). Run from the
# repository root: sh tests/data/helm/gen.sh. Never edit expected/ by hand.
set -eu
H=tests/data/helm
helm=${HELM:-helm}
out=$H/expected
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

( cd $H/basic && $helm template . --name-template demo --namespace web --include-crds ) > "$out/basic.yaml"
( cd $H/basic && $helm template . --name-template demo --namespace web --kube-version 1.29.0 \
	--api-versions monitoring.coreos.com/v1 ) > "$out/basic-kube.yaml"
( cd $H/values && $helm template . --name-template rel --namespace ns1 --set replicas=5 --set 'tags={a,b}' \
	--set 'message=x\,y' --set-string number=42 --set-file file=config.txt \
	--values values-prod.yaml --values values-eu.yaml --include-crds ) > "$out/values.yaml"
printf 'message: from-object\nregion: us\n' > "$tmp/inline.yaml"
( cd $H/values && $helm template . --name-template myapp --namespace prod --set env=staging \
	--values values-prod.yaml --values "$tmp/inline.yaml" --include-crds ) > "$out/app-values.yaml"
cp -r $H/parent $H/child "$tmp/"
( cd "$tmp/parent" && $helm dependency build . >/dev/null && \
	$helm template . --name-template dep --namespace default --include-crds ) > "$out/deps.yaml"
$helm version --short > "$out/HELM_VERSION"
