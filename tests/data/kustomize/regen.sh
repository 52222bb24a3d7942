#!/bin/sh
# regen.sh - regenerate every expected.yaml of the kustomize conformance
# corpus with the real thing: `kubectl kustomize` (kustomize v5.5.0 inside
# kubectl v1.32). Never edit expected.yaml by hand.
#
# A case is a directory: its input tree, optional `path` (the directory to
# build, relative to the case; default the case itself), and either
# expected.yaml (regenerated here) or expected-error.txt (hand-written: a
# substring of ferry's own error message; kubectl's wording differs).
#
# Argo CD override cases also hold overrides.json (a spec.source.kustomize
# object, fed to fy_kustomize_build) and kustomization.edited.yaml: the
# kustomization as `kustomize edit set|add ...` would leave it after Argo
# CD applied those overrides (edited by hand, since only kubectl is
# installed). Here the case is copied to a temporary directory, the edited
# file replaces the build directory's kustomization.yaml, and kubectl
# kustomize renders the copy.
set -eu
cd "$(dirname "$0")"
for c in */; do
	c=${c%/}
	[ -f "$c/expected-error.txt" ] && continue
	p=.
	[ -f "$c/path" ] && p=$(cat "$c/path")
	if [ -f "$c/kustomization.edited.yaml" ]; then
		tmp=$(mktemp -d)
		cp -a "$c" "$tmp/case"
		cp "$c/kustomization.edited.yaml" "$tmp/case/$p/kustomization.yaml"
		kubectl kustomize "$tmp/case/$p" > "$c/expected.yaml"
		rm -rf "$tmp"
	else
		kubectl kustomize "$c/$p" > "$c/expected.yaml"
	fi
	echo "regenerated $c"
done
