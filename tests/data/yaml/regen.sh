#!/bin/sh
# regen.sh - regenerate the expected outputs of the YAML fixtures with the
# real kubectl (its reader and printer are sigs.k8s.io/yaml over go-yaml v2).
# Every *.in.yaml holds one object with metadata.labels.foo=bar, so the
# `kubectl label` below changes nothing and only round-trips the object.
set -e
cd "$(dirname "$0")"
for f in *.in.yaml; do
	kubectl label --local --overwrite -f "$f" -o yaml foo=bar > "${f%.in.yaml}.out.yaml"
done
