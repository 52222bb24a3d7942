#!/usr/bin/python3
"""client_crud_watch.py KUBECONFIG [CASE...] - a second, independent client
(Debian's python3-kubernetes) against `ferry kube`.

Each case is a function named case_<name>; with no CASE arguments every case
runs in order (later cases use the namespace made by the first). Prints
"ok NAME" or "not ok NAME: reason" per case and exits 1 if any failed.
"""
import sys
import threading
import time
import traceback

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "pyclient"


def meta(name, **kw):
    return client.V1ObjectMeta(name=name, **kw)


def expect_status(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ApiException as e:
        assert e.status == code, "expected HTTP %d, got %d: %s" % (code, e.status, e.body)
        return e
    raise AssertionError("expected ApiException %d, call succeeded" % code)


class Ctx:
    def __init__(self, kubeconfig):
        config.load_kube_config(kubeconfig)
        self.core = client.CoreV1Api()
        self.apps = client.AppsV1Api()
        self.ext = client.ApiextensionsV1Api()
        self.co = client.CustomObjectsApi()
        # python3-kubernetes 22 always sends application/json-patch+json for
        # patch_* calls; default headers override per-call ones, so clients
        # bound to their own ApiClient send merge and strategic patches
        self.core_merge = client.CoreV1Api(patch_client("application/merge-patch+json"))
        self.apps_merge = client.AppsV1Api(patch_client("application/merge-patch+json"))
        self.apps_smp = client.AppsV1Api(patch_client("application/strategic-merge-patch+json"))


def patch_client(content_type):
    api = client.ApiClient()
    api.set_default_header("Content-Type", content_type)
    return api


def case_namespace(c):
    ns = c.core.create_namespace(client.V1Namespace(metadata=meta(NS, labels={"suite": "py"})))
    assert ns.metadata.name == NS and ns.metadata.uid
    got = c.core.read_namespace(NS)
    assert got.metadata.labels["suite"] == "py"
    names = [n.metadata.name for n in c.core.list_namespace(label_selector="suite=py").items]
    assert names == [NS], names


def case_configmap_crud(c):
    cm = client.V1ConfigMap(metadata=meta("cm1", labels={"app": "one"}), data={"k": "v"})
    made = c.core.create_namespaced_config_map(NS, cm)
    rv1 = int(made.metadata.resource_version)
    assert made.metadata.uid and made.metadata.creation_timestamp
    got = c.core.read_namespaced_config_map("cm1", NS)
    assert got.data == {"k": "v"} and got.metadata.uid == made.metadata.uid
    # replace with the current resourceVersion
    got.data["k2"] = "v2"
    rep = c.core.replace_namespaced_config_map("cm1", NS, got)
    rv2 = int(rep.metadata.resource_version)
    assert rv2 > rv1, (rv1, rv2)
    assert rep.data == {"k": "v", "k2": "v2"}
    # merge patch: null deletes a key
    pat = c.core_merge.patch_namespaced_config_map(
        "cm1", NS, {"data": {"k": None, "k3": "v3"}, "metadata": {"labels": {"patched": "yes"}}})
    assert pat.data == {"k2": "v2", "k3": "v3"}, pat.data
    assert pat.metadata.labels == {"app": "one", "patched": "yes"}
    assert int(pat.metadata.resource_version) > rv2
    # JSON patch (what this client sends by default for a list body)
    pat = c.core.patch_namespaced_config_map(
        "cm1", NS, [{"op": "add", "path": "/data/k4", "value": "v4"}, {"op": "remove", "path": "/data/k2"}])
    assert pat.data == {"k3": "v3", "k4": "v4"}, pat.data
    # a failing JSON patch test op is rejected (422) and changes nothing
    expect_status(422, c.core.patch_namespaced_config_map, "cm1", NS,
                  [{"op": "test", "path": "/data/k3", "value": "other"}])
    # a second configmap with another label, then list by selector
    c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("cm2", labels={"app": "two"}), data={"a": "b"}))
    sel = [x.metadata.name for x in c.core.list_namespaced_config_map(NS, label_selector="app=one").items]
    assert sel == ["cm1"], sel
    sel = [x.metadata.name for x in c.core.list_namespaced_config_map(NS, label_selector="app in (one,two)").items]
    assert sorted(sel) == ["cm1", "cm2"], sel
    sel = [x.metadata.name for x in c.core.list_namespaced_config_map(NS, label_selector="app!=one").items]
    assert "cm1" not in sel and "cm2" in sel, sel
    fs = [x.metadata.name for x in c.core.list_config_map_for_all_namespaces(field_selector="metadata.name=cm2").items]
    assert fs == ["cm2"], fs
    # delete, then it is gone
    c.core.delete_namespaced_config_map("cm1", NS)
    expect_status(404, c.core.read_namespaced_config_map, "cm1", NS)


def case_errors(c):
    e = expect_status(404, c.core.read_namespaced_config_map, "nope", NS)
    assert '"reason":"NotFound"' in e.body.replace(" ", ""), e.body
    expect_status(404, c.core.delete_namespaced_config_map, "nope", NS)
    c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("dup"), data={}))
    e = expect_status(409, c.core.create_namespaced_config_map, NS, client.V1ConfigMap(metadata=meta("dup")))
    assert "AlreadyExists" in e.body, e.body
    # stale resourceVersion on replace: 409 Conflict
    cur = c.core.read_namespaced_config_map("dup", NS)
    stale = cur.metadata.resource_version
    cur.data = {"x": "1"}
    c.core.replace_namespaced_config_map("dup", NS, cur)
    cur.metadata.resource_version = stale
    cur.data = {"x": "2"}
    e = expect_status(409, c.core.replace_namespaced_config_map, "dup", NS, cur)
    assert "Conflict" in e.body, e.body
    # invalid name: 422
    expect_status(422, c.core.create_namespaced_config_map, NS, client.V1ConfigMap(metadata=meta("Bad_Name")))
    # namespace that does not exist: 404
    expect_status(404, c.core.create_namespaced_config_map, "no-such-ns", client.V1ConfigMap(metadata=meta("x")))


def deployment(name, image, replicas=1):
    labels = {"app": name}
    return client.V1Deployment(
        metadata=meta(name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=image)]))))


def replace_retry(read, replace, name, mutate):
    """Read-modify-replace, retried on 409 as controllers do: the simulator
    writes Deployment status, which moves the resourceVersion."""
    for _ in range(20):
        obj = read(name, NS)
        mutate(obj)
        try:
            return replace(name, NS, obj)
        except ApiException as e:
            if e.status != 409:
                raise
            time.sleep(0.05)
    raise AssertionError("replace of %s kept conflicting" % name)


def case_deployment_crud(c):
    d = c.apps.create_namespaced_deployment(NS, deployment("web", "nginx:1.25"))
    assert d.metadata.generation == 1, d.metadata.generation
    got = c.apps.read_namespaced_deployment("web", NS)
    assert got.spec.template.spec.containers[0].image == "nginx:1.25"

    def set_replicas(obj):
        obj.spec.replicas = 2
    rep = replace_retry(c.apps.read_namespaced_deployment, c.apps.replace_namespaced_deployment, "web", set_replicas)
    assert rep.spec.replicas == 2 and rep.metadata.generation == 2, (rep.spec.replicas, rep.metadata.generation)
    # metadata-only merge patch does not bump generation
    pat = c.apps_merge.patch_namespaced_deployment("web", NS, {"metadata": {"annotations": {"a": "b"}}})
    assert pat.metadata.generation == 2, pat.metadata.generation
    pat = c.apps_merge.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    assert pat.spec.replicas == 3 and pat.metadata.generation == 3
    # strategic merge: containers merge by name, the image changes, env is added
    pat = c.apps_smp.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "nginx:1.26", "env": [{"name": "A", "value": "1"}]}]}}}})
    cs = pat.spec.template.spec.containers
    assert len(cs) == 1 and cs[0].image == "nginx:1.26" and cs[0].env[0].name == "A", cs
    assert pat.metadata.generation == 4
    sc = c.apps.read_namespaced_deployment_scale("web", NS)
    assert sc.spec.replicas == 3, sc
    lst = c.apps.list_namespaced_deployment(NS, label_selector="app=web")
    assert [x.metadata.name for x in lst.items] == ["web"]
    expect_status(409, c.apps.create_namespaced_deployment, NS, deployment("web", "nginx:1.25"))
    c.apps.delete_namespaced_deployment("web", NS, propagation_policy="Background")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c.apps.read_namespaced_deployment("web", NS)
        except ApiException as e:
            assert e.status == 404
            return
        time.sleep(0.1)
    raise AssertionError("deployment still present 10 s after delete")


def case_watch(c):
    start_rv = c.core.list_namespaced_config_map(NS).metadata.resource_version
    seen = []
    ready = threading.Event()
    errors = []

    def run():
        w = watch.Watch()
        try:
            for ev in w.stream(c.core.list_namespaced_config_map, NS, resource_version=start_rv,
                               label_selector="w=1", timeout_seconds=15):
                seen.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))
                if ev["type"] == "DELETED":
                    w.stop()
        except Exception as e:  # noqa: BLE001 - report anything from the thread
            errors.append(repr(e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.5)
    c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("watched", labels={"w": "1"}), data={"n": "0"}))
    c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("ignored", labels={"w": "0"}), data={}))
    c.core_merge.patch_namespaced_config_map("watched", NS, {"data": {"n": "1"}})
    c.core.delete_namespaced_config_map("watched", NS)
    t.join(20)
    assert not errors, errors
    types = [s[0] for s in seen]
    assert types == ["ADDED", "MODIFIED", "DELETED"], seen
    assert all(s[1] == "watched" for s in seen), seen
    rvs = [int(s[2]) for s in seen]
    assert rvs == sorted(rvs) and rvs[0] > int(start_rv), seen


def case_watch_single_object(c):
    """A watch on one object (fieldSelector metadata.name) from its current rv."""
    cm = c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("single"), data={"a": "1"}))
    got = []

    def run():
        w = watch.Watch()
        for ev in w.stream(c.core.list_namespaced_config_map, NS, field_selector="metadata.name=single",
                           resource_version=cm.metadata.resource_version, timeout_seconds=10):
            got.append(ev["type"])
            if ev["type"] == "MODIFIED":
                w.stop()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.3)
    c.core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("single2"), data={}))
    c.core_merge.patch_namespaced_config_map("single", NS, {"data": {"a": "2"}})
    t.join(15)
    assert got == ["MODIFIED"], got


CRD_GROUP = "pytest.ferry.dev"


def case_custom_resource(c):
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets." + CRD_GROUP},
        "spec": {
            "group": CRD_GROUP,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }],
        },
    }
    c.ext.create_custom_resource_definition(crd)
    deadline = time.time() + 5
    established = False
    while time.time() < deadline and not established:
        got = c.ext.read_custom_resource_definition("widgets." + CRD_GROUP)
        conds = (got.status.conditions or []) if got.status else []
        established = any(x.type == "Established" and x.status == "True" for x in conds)
        if not established:
            time.sleep(0.1)
    assert established, "CRD not Established within 5 s"
    body = {"apiVersion": CRD_GROUP + "/v1", "kind": "Widget",
            "metadata": {"name": "w1", "labels": {"size": "big"}}, "spec": {"color": "red"}}
    made = c.co.create_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", body)
    assert made["metadata"]["uid"] and made["spec"]["color"] == "red"
    got = c.co.get_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", "w1")
    got["spec"]["color"] = "blue"
    rep = c.co.replace_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", "w1", got)
    assert rep["spec"]["color"] == "blue"
    pat = c.co.patch_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", "w1", {"spec": {"shape": "round"}})
    assert pat["spec"] == {"color": "blue", "shape": "round"}, pat["spec"]
    lst = c.co.list_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", label_selector="size=big")
    assert [x["metadata"]["name"] for x in lst["items"]] == ["w1"], lst
    expect_status(409, c.co.create_namespaced_custom_object, CRD_GROUP, "v1", NS, "widgets", body)
    expect_status(404, c.co.get_namespaced_custom_object, CRD_GROUP, "v1", NS, "widgets", "nope")
    c.co.delete_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", "w1")
    expect_status(404, c.co.get_namespaced_custom_object, CRD_GROUP, "v1", NS, "widgets", "w1")
    # deleting the CRD removes its kind
    c.co.create_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets", body)
    c.ext.delete_custom_resource_definition("widgets." + CRD_GROUP)
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            c.co.list_namespaced_custom_object(CRD_GROUP, "v1", NS, "widgets")
        except ApiException as e:
            if e.status == 404:
                return
        time.sleep(0.1)
    raise AssertionError("widgets still served 5 s after the CRD was deleted")


def case_delete_namespace(c):
    c.core.delete_namespace(NS)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c.core.read_namespace(NS)
        except ApiException as e:
            assert e.status == 404
            expect_status(404, c.core.read_namespaced_config_map, "dup", NS)
            return
        time.sleep(0.1)
    raise AssertionError("namespace still present 10 s after delete")


CASES = [case_namespace, case_configmap_crud, case_errors, case_deployment_crud, case_watch,
         case_watch_single_object, case_custom_resource, case_delete_namespace]


def main():
    ctx = Ctx(sys.argv[1])
    want = sys.argv[2:]
    failed = 0
    for fn in CASES:
        name = fn.__name__[5:]
        if want and name not in want:
            continue
        try:
            fn(ctx)
            print("ok", name)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("not ok %s: %s" % (name, e))
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
