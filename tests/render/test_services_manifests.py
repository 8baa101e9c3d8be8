"""The Kubernetes objects of every platform service (roles/services/templates/workload.yml.j2),
rendered with Ansible's templar from the role's defaults as start.yml renders them:
placement from the table's node groups (pai_master pinned to the master node, exporters
as DaemonSets, the GPU exporter on GPU nodes), host network on the design's ports,
readiness probes from the table, data on the master's disk, secrets only where needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from paictl import inventory

ROLE = ROOT / "collections/ansible_collections/openpai/cluster/roles/services"
TEMPLATE = ROLE / "templates/workload.yml.j2"


def variables(**overrides):
    from ansible.template import Templar

    raw = dict(inventory.role_defaults("services"))
    raw.update({"openpai_data_path": "/srv/pai", "openpai_lab": False, "services_master_address": "10.10.0.1",
                "services_master_node": "pai-master"})
    raw.update(overrides)
    return raw, Templar(loader=None, variables=raw)


def objects(name, **overrides):
    """The objects of service `name`, as a list of dicts."""
    from ansible.template import trust_as_template

    raw, templar = variables(**overrides)
    table = templar.template(raw["services_table"])
    pods = templar.template(raw["services_pods"])
    svc = next(e for e in table if e["name"] == name)
    local = dict(raw, svc=svc, pod=pods.get(name, {}), image="docker.io/openpai/%s:0.1.0" % name,
                 config_hash="h123")
    from ansible.template import Templar

    text = Templar(loader=None, variables=local).template(trust_as_template(TEMPLATE.read_text()))
    return json.loads(text) if isinstance(text, str) else text


def workload(name, **overrides):
    return next(o for o in objects(name, **overrides) if o["kind"] in ("Deployment", "DaemonSet"))


def pod_spec(name, **overrides):
    return workload(name, **overrides)["spec"]["template"]["spec"]


@pytest.mark.parametrize("name", ["pylon", "prometheus", "alertmanager", "rest-server"])
def test_master_services_are_pinned_to_the_master_node(name):
    w = workload(name)
    assert w["kind"] == "Deployment" and w["spec"]["replicas"] == 1
    assert w["spec"]["strategy"] == {"type": "Recreate"}      # fixed host ports: never two at once
    spec = w["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"pai-master": "true", "kubernetes.io/hostname": "pai-master"}
    assert spec["hostNetwork"] is True
    assert w["metadata"]["namespace"] == "pai"
    assert w["spec"]["template"]["metadata"]["annotations"]["openpai.io/config-hash"] == "h123"


def test_ports_and_readiness_come_from_the_table():
    c = pod_spec("prometheus")["containers"][0]
    assert c["ports"] == [{"name": "web", "containerPort": 9091, "protocol": "TCP"}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/prometheus/-/ready", "port": 9091}
    pylon = pod_spec("pylon", pylon_port=8080)["containers"][0]
    assert pylon["ports"][0]["containerPort"] == 8080 and pylon["readinessProbe"]["httpGet"]["port"] == 8080


def test_node_exporter_everywhere_and_gpu_exporter_on_gpu_nodes():
    ne = workload("node-exporter")
    assert ne["kind"] == "DaemonSet" and "nodeSelector" not in ne["spec"]["template"]["spec"]
    assert ne["spec"]["template"]["spec"]["hostPID"] is True
    assert {v["hostPath"]["path"] for v in ne["spec"]["template"]["spec"]["volumes"]} == {"/proc", "/sys", "/"}
    assert all(m["readOnly"] for m in ne["spec"]["template"]["spec"]["containers"][0]["volumeMounts"])
    gpu = pod_spec("gpu-exporter")
    term = gpu["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == [{"matchExpressions": [{"key": "openpai.io/gpu-count", "operator": "Gt", "values": ["0"]}]}]
    assert gpu["volumes"] == []                                       # real nodes: the NVIDIA runtime


def test_lab_gpu_exporter_reads_the_node_fixture():
    gpu = pod_spec("gpu-exporter", openpai_lab=True)
    assert {v["hostPath"]["path"] for v in gpu["volumes"]} == {"/usr/local/nvidia/bin", "/etc/openpai-lab"}
    env = {e["name"]: e.get("value") for e in gpu["containers"][0]["env"]}
    assert env["NVIDIA_SMI"] == "/usr/local/nvidia/bin/nvidia-smi" and env["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert "NODE_NAME" in env


def test_prometheus_data_on_the_masters_disk_and_its_api_access():
    objs = objects("prometheus", services_prometheus_retention="15d")
    kinds = [o["kind"] for o in objs]
    assert kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"]
    assert objs[1]["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    spec = objs[3]["spec"]["template"]["spec"]
    data = next(v for v in spec["volumes"] if v["name"] == "data")
    assert data["hostPath"] == {"path": "/srv/pai/services/prometheus", "type": "Directory"}
    c = spec["containers"][0]
    assert "--storage.tsdb.retention.time=15d" in c["args"]
    assert "--web.external-url=http://10.10.0.1:80/prometheus/" in c["args"]
    assert c["securityContext"]["runAsUser"] == 9091 and spec["serviceAccountName"] == "prometheus"


def test_only_the_rest_server_mounts_the_secret():
    for name in ("pylon", "prometheus", "alertmanager", "node-exporter", "gpu-exporter"):
        assert not [v for v in pod_spec(name)["volumes"] if "secret" in v], name
        assert pod_spec(name).get("automountServiceAccountToken", True) is (name == "prometheus")
    rest = pod_spec("rest-server")
    secret = next(v for v in rest["volumes"] if "secret" in v)["secret"]
    assert secret["secretName"] == "pai-cluster-secrets" and secret["defaultMode"] == 0o440
    # the service's own user reads them (the REST server runs as 9186, not root)
    assert rest["securityContext"]["fsGroup"] == rest["containers"][0]["securityContext"]["runAsUser"] == 9186
    assert [i["key"] for i in secret["items"]] == ["admin-password", "token-secret"]
    env = {e["name"]: e.get("value") for e in rest["containers"][0]["env"]}
    assert env["PAI_REST_ADMIN_PASSWORD_FILE"] == "/etc/openpai-secrets/admin-password"
    assert not any("password" in str(e.get("value", "")).lower() and "/" not in str(e.get("value", ""))
                   for e in rest["containers"][0]["env"])


def test_every_config_key_a_pod_mounts_is_pushed():
    """The ConfigMap keys the pods mount are the keys config.yml pushes."""
    tasks = yaml.safe_load((ROLE / "tasks/config.yml").read_text())
    block = tasks[0]["block"]
    pushed = next(t for t in block if t["name"] == "Compute the configuration")["ansible.builtin.set_fact"]
    keys = set(pushed["services_config_data"])
    raw, templar = variables()
    for name, pod in templar.template(raw["services_pods"]).items():
        for item in pod.get("config", []):
            assert item["key"] in keys, (name, item)


def test_tls_files_are_mounted_from_the_pylon_host():
    spec = pod_spec("pylon", services_pylon_tls_certificate="/etc/ssl/pylon.crt",
                    services_pylon_tls_key="/etc/ssl/pylon.key")
    assert {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v} == {"/etc/ssl/pylon.crt",
                                                                                  "/etc/ssl/pylon.key"}


def test_prometheus_finds_its_rules_where_they_are_mounted():
    """The rule_files glob config.yml gives Prometheus matches where the pod mounts the rules."""
    import fnmatch
    import re

    text = (ROLE / "tasks/config.yml").read_text()
    globs = re.findall(r"'rule_files': \[([^\]]*)\]", text)
    assert len(globs) == 1
    patterns = [g.strip().strip("'") for g in globs[0].split(",")]
    spec = pod_spec("prometheus")
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "config")["mountPath"]
    items = next(v for v in spec["volumes"] if v["name"] == "config")["configMap"]["items"]
    rules = next(i["path"] for i in items if i["key"] == "alert-rules.yml")
    assert any(fnmatch.fnmatch("%s/%s" % (mount, rules), p) for p in patterns), (mount, rules, patterns)
    assert "--config.file=%s/prometheus.yml" % mount in spec["containers"][0]["args"]


def test_rest_server_may_read_the_nodes_and_mounts_the_cluster_model():
    """Its node view reads Kubernetes' nodes (a ClusterRole of get/list on nodes, nothing else) and cluster.yaml."""
    objs = objects("rest-server")
    kinds = [o["kind"] for o in objs]
    assert kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"]
    assert objs[1]["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]
    spec = pod_spec("rest-server")
    assert spec["serviceAccountName"] == "rest-server" and "automountServiceAccountToken" not in spec
    items = next(v for v in spec["volumes"] if v["name"] == "config")["configMap"]["items"]
    assert {"key": "cluster.yaml", "path": "cluster.yaml"} in items


def test_webportal_runs_on_the_master_on_its_port():
    w = workload("webportal")
    spec = w["spec"]["template"]["spec"]
    assert w["kind"] == "Deployment" and spec["nodeSelector"]["kubernetes.io/hostname"] == "pai-master"
    container = spec["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 9286, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": 9286}
    assert spec["automountServiceAccountToken"] is False and spec["volumes"] == []
