"""The Kubernetes layer's data: the artifact table (as the roles resolve it), the
plan for each source, SHA256SUMS parsing, node labels from SKUs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.filter.kubernetes import FilterModule
from ansible_collections.openpai.cluster.plugins.module_utils import kubernetes as k8s
from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError

F = FilterModule().filters()
ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "collections" / "ansible_collections" / "openpai" / "cluster" / "roles"
SKUS = {"k80": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
        "v1": {"mem": "64Gi", "cpu": {"vcore": 16}, "computing-device": {"type": "nvidia.com/gpu",
                                                                          "model": "NVIDIA A100-SXM4-80GB",
                                                                          "count": 8}},
        "cpu": {"mem": "16Gi", "cpu": {"vcore": 8}}}


def table(arch="amd64", **extra):
    """The role's artifact table, templated the way a play would see it."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    loader = DataLoader()
    variables = {}
    for part in ("defaults", "vars"):
        variables.update(loader.load_from_file(str(ROLES / "kubernetes" / part / "main.yml"), cache="none",
                                               trusted_as_template=True))
    variables.update({"openpai_lab": False, "kubernetes_arch": arch}, **extra)
    return Templar(loader=loader, variables=variables).template(trust_as_template("{{ kubernetes_artifacts }}"))


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_every_download_has_a_checksum(arch):
    artifacts = table(arch)
    assert k8s.artifact_problems(artifacts, arch) == []
    for entry in artifacts:
        if entry["kind"] != "image":
            pinned = entry["sha256"].get(arch)
            assert pinned or entry.get("sha256_url", "").endswith("/" + entry["name"] + ".sha256"), entry["name"]
            assert entry["url"].startswith("https://") and entry["dest"].startswith("/")


def test_the_table_covers_what_kubeadm_needs():
    names = {e["name"]: e for e in table()}
    assert set(names) == {"kubeadm", "kubelet", "kubectl", "crictl", "cni-plugins", "cni-flannel",
                          "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kube-proxy",
                          "coredns", "pause", "flannel"}
    assert names["kubeadm"]["url"] == "https://dl.k8s.io/release/v1.33.13/bin/linux/amd64/kubeadm"
    assert names["etcd"]["ref"] == "registry.k8s.io/etcd:3.5.24-0"
    assert names["pause"]["ref"] == "registry.k8s.io/pause:3.10"
    assert names["kube-apiserver"]["hosts"] == "control_plane"
    assert names["kube-proxy"].get("hosts", "all") == "all"


def test_pinned_checksums_are_what_was_found_published():
    # Documented in docs/kubernetes.md: which entries carry an official checksum
    # in the table, and which rely on the published .sha256 file / registry TLS.
    by_name = {e["name"]: e for e in table()}
    pinned = sorted(n for n, e in by_name.items() if e["kind"] != "image" and e["sha256"].get("amd64"))
    assert pinned == ["cni-flannel", "cni-plugins", "crictl", "kubectl", "kubelet"]
    digests = sorted(n for n, e in by_name.items() if e["kind"] == "image" and e["digest"].get("amd64"))
    assert digests == ["coredns", "pause"]


def test_the_offline_bundle_script_builds_the_table_versions():
    from ansible.parsing.dataloader import DataLoader
    defaults = DataLoader().load_from_file(str(ROLES / "kubernetes" / "defaults" / "main.yml"), cache="none")
    script = (ROOT / "tools" / "kubernetes" / "build-bundle.sh").read_text()
    found = dict(re.findall(r"^([A-Z0-9_]+_VERSION)=\$\{(?:1:-\$\{)?[A-Z0-9_]*:-([^}]+)\}", script, re.M))
    assert found["K8S_VERSION"] == defaults["kubernetes_version"]
    assert found["CRICTL_VERSION"] == defaults["kubernetes_crictl_version"]
    assert found["CNI_VERSION"] == defaults["kubernetes_cni_plugins_version"]
    assert found["FLANNEL_VERSION"] == defaults["kubernetes_flannel_version"]
    assert found["FLANNEL_CNI_VERSION"] == defaults["kubernetes_flannel_cni_version"]


def test_plan_url_mirror_and_bundle():
    artifacts = table()
    plan = {e["name"]: e for e in k8s.artifact_plan(artifacts, "amd64", "url", cache_dir="/c/")}
    assert plan["crictl"]["controller_path"] == "/c/crictl-v1.34.0-linux-amd64.tar.gz"
    assert plan["crictl"]["checksum"] == "sha256:" + plan["crictl"]["sha256"]
    assert plan["kubeadm"]["checksum"] == \
        "sha256:https://dl.k8s.io/release/v1.33.13/bin/linux/amd64/kubeadm.sha256"
    assert plan["pause"]["controller_path"] is None and plan["pause"]["digest"].startswith("sha256:")

    mirrors = {"https://dl.k8s.io": "https://mirror.example.cn/k8s/", "https://github.com/": "https://gh.example/"}
    plan = {e["name"]: e for e in k8s.artifact_plan(artifacts, "amd64", "mirror", cache_dir="/c", mirrors=mirrors)}
    assert plan["kubelet"]["fetch_url"] == "https://mirror.example.cn/k8s/release/v1.33.13/bin/linux/amd64/kubelet"
    assert plan["kubeadm"]["checksum"].startswith("sha256:https://mirror.example.cn/k8s/release/")
    assert plan["cni-plugins"]["fetch_url"].startswith("https://gh.example/containernetworking/plugins/")
    # url: mirrors are ignored.
    plan = {e["name"]: e for e in k8s.artifact_plan(artifacts, "amd64", "url", cache_dir="/c", mirrors=mirrors)}
    assert plan["kubelet"]["fetch_url"].startswith("https://dl.k8s.io/")

    sums = {"kubeadm": "a" * 64}
    plan = {e["name"]: e for e in k8s.artifact_plan(artifacts, "amd64", "bundle", bundle_dir="/b/", bundle_sums=sums)}
    assert plan["kubeadm"] == dict(plan["kubeadm"], controller_path="/b/kubeadm", sha256="a" * 64, fetch_url=None)
    assert plan["pause"]["controller_path"] == "/b/pause_3.10.tar"
    assert plan["kubelet"]["sha256"] is None  # not in SHA256SUMS: the role refuses the bundle


def test_plan_errors_name_the_field():
    with pytest.raises(ModelError, match="kubernetes_artifacts_source: 'ftp'"):
        k8s.artifact_plan(table(), "amd64", "ftp")
    with pytest.raises(ModelError, match="kubernetes_bundle_dir: required"):
        k8s.artifact_plan(table(), "amd64", "bundle")
    with pytest.raises(AnsibleFilterError, match=r"sha256.riscv64: missing"):
        F["k8s_artifact_plan"](table(), "riscv64", "url", "", "/c")
    # A bundle needs no official checksum: its SHA256SUMS is the reference.
    assert F["k8s_artifact_plan"](table(), "riscv64", "bundle", "/b", "", {}, {})


def test_artifact_problems_one_message_per_problem():
    bad = [
        {"name": "a", "kind": "binary", "file": "a", "url": "ftp://x/a", "sha256": {"amd64": "XYZ"}, "dest": "rel"},
        {"name": "a", "kind": "tarball", "file": "dir/b"},
        {"name": "img", "kind": "image", "file": "i.tar", "ref": "noTag", "digest": {"amd64": "md5:1"},
         "hosts": "gpu"},
        "not a mapping",
    ]
    problems = k8s.artifact_problems(bad, "amd64")
    assert problems == [
        "kubernetes_artifacts[0] (a).url: must be an http(s) URL",
        "kubernetes_artifacts[0] (a).sha256.amd64: not 64 lowercase hex digits: 'XYZ'",
        "kubernetes_artifacts[0] (a).dest: must be an absolute path",
        "kubernetes_artifacts[1] (a).name: duplicate name 'a'",
        "kubernetes_artifacts[1] (a).kind: 'tarball' is not one of binary, archive, image",
        "kubernetes_artifacts[1] (a).file: must be a plain file name (the name in an offline bundle)",
        "kubernetes_artifacts[2] (img).hosts: 'gpu' is not one of all, control_plane",
        "kubernetes_artifacts[2] (img).ref: must be an image reference with a tag",
        "kubernetes_artifacts[2] (img).digest.amd64: not sha256:<64 hex digits>: 'md5:1'",
        "kubernetes_artifacts[3]: must be a mapping",
    ]
    assert k8s.artifact_problems([], "amd64") == ["kubernetes_artifacts: must be a non-empty list"]


def test_sha256sums_parsing():
    text = "# comment\n" + "A" * 64 + "  kubeadm\n" + "b" * 64 + " *images/pause_3.10.tar\n\n"
    assert F["sha256sums"](text) == {"kubeadm": "a" * 64, "pause_3.10.tar": "b" * 64}
    with pytest.raises(AnsibleFilterError, match=r"/b/SHA256SUMS line 1: not '<sha256>  <file>'"):
        F["sha256sums"]("deadbeef kubeadm\n", "/b/SHA256SUMS")


def test_the_built_bundle_matches_its_sums_when_present():
    from paictl.lab import cache_root
    bundle = cache_root() / "bundles" / "kubernetes-v1.33.13"
    if not (bundle / "SHA256SUMS").exists():
        pytest.skip("no offline bundle built on this machine (tools/kubernetes/build-bundle.sh)")
    sums = k8s.parse_sha256sums((bundle / "SHA256SUMS").read_text())
    assert {e["file"] for e in table()} == set(sums)


def test_node_labels_from_skus_and_groups():
    assert F["k8s_node_labels"](SKUS, "k80", ["kube_node", "pai_worker"]) == {
        "openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4", "openpai.io/gpu-model": "Tesla-K80",
        "pai-worker": "true"}
    labels = F["k8s_node_labels"](SKUS, "v1", ["pai_master", "pai_worker"])
    assert labels["openpai.io/gpu-model"] == "NVIDIA-A100-SXM4-80GB"
    assert labels["pai-master"] == labels["pai-worker"] == "true"
    assert F["k8s_node_labels"](SKUS, "cpu", ["kube_control_plane"]) == {
        "openpai.io/machine-type": "cpu", "openpai.io/gpu-count": "0"}
    with pytest.raises(AnsibleFilterError, match="SKU 'nope' is not defined"):
        F["k8s_node_labels"](SKUS, "nope", [])


def test_label_values_are_valid_kubernetes_label_values():
    for text in ["Tesla K80", " weird//name__ ", "x" * 100, "GeForce RTX 4090 (24 GB)"]:
        value = k8s.label_value(text)
        assert len(value) <= 63
        assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value), value


def test_label_changes_only_touch_managed_labels():
    current = {"kubernetes.io/hostname": "n1", "openpai.io/gpu-count": "2", "pai-master": "true"}
    desired = {"openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4"}
    assert F["k8s_label_changes"](current, desired) == [
        "openpai.io/machine-type=k80", "openpai.io/gpu-count=4", "pai-master-"]
    assert F["k8s_label_changes"](dict(current, **desired, **{"pai-master": None}), desired) == []


def test_api_service_ip():
    assert F["k8s_api_service_ip"]("10.96.0.0/12") == "10.96.0.1"
    assert F["k8s_api_service_ip"]("10.233.0.0/18") == "10.233.0.1"
    with pytest.raises(AnsibleFilterError, match="kubernetes_service_subnet"):
        F["k8s_api_service_ip"]("10.96.0.0/33")


def _node(name, ready="True", labels=None):
    return {"metadata": {"name": name, "labels": labels or {}},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": ready, "reason": "KubeletReady",
                                       "lastHeartbeatTime": "2026-11-30T06:00:00Z"}]}}


def test_ready_nodes_and_node_problems():
    import json
    nodes = {"items": [_node("a", labels={"openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4"}),
                       _node("b", ready="False"), _node("c", ready="Unknown")]}
    assert F["k8s_ready_nodes"](json.dumps(nodes)) == ["a"]
    assert F["k8s_ready_nodes"]({"items": []}) == []
    expected = {"a": {"openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4"},
                "b": {"openpai.io/machine-type": "cpu"}, "z": {}}
    assert F["k8s_node_problems"](nodes, expected) == [
        "node b: not Ready", "node b: labels differ from its SKU (openpai.io/machine-type=cpu)",
        "node z: not in the cluster"]


def test_ready_pods():
    def pod(name, phase, *ready):
        return {"metadata": {"name": name},
                "status": {"phase": phase, "containerStatuses": [{"ready": r} for r in ready]}}
    pods = {"items": [pod("ok", "Running", True, True), pod("half", "Running", True, False),
                      pod("pending", "Pending"), pod("none", "Running")]}
    assert F["k8s_ready_pods"](pods) == ["ok"]


def test_expected_labels_and_label_plan():
    hostvars = {"m": {"openpai_machine_type": "cpu", "group_names": ["kube_control_plane", "pai_master"]},
                "g": {"openpai_machine_type": "k80", "group_names": ["kube_node", "pai_worker"],
                      "kubernetes_node_name": "gpu-1"}}
    expected = F["k8s_expected_labels"](["m", "g"], hostvars, SKUS)
    assert expected == {
        "m": {"openpai.io/machine-type": "cpu", "openpai.io/gpu-count": "0", "pai-master": "true"},
        "gpu-1": {"openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4", "openpai.io/gpu-model": "Tesla-K80",
                  "pai-worker": "true"}}
    nodes = {"items": [_node("m", labels=dict(expected["m"])),
                       _node("gpu-1", labels={"openpai.io/gpu-count": "2", "pai-master": "true"})]}
    assert F["k8s_label_plan"](nodes, expected) == [{"name": "gpu-1", "changes": [
        "openpai.io/machine-type=k80", "openpai.io/gpu-model=Tesla-K80", "openpai.io/gpu-count=4", "pai-master-",
        "pai-worker=true"], "patch": {
        "openpai.io/machine-type": "k80", "openpai.io/gpu-model": "Tesla-K80", "openpai.io/gpu-count": "4",
        "pai-master": None, "pai-worker": "true"}}]
    # k8s_info's resources (a plain list) are read like a List document.
    assert F["k8s_label_plan"](nodes["items"], expected) == F["k8s_label_plan"](nodes, expected)
    # A node not (yet) in the cluster gets nothing; an empty cluster gives an empty plan.
    assert F["k8s_label_plan"]('{"items": []}', expected) == []


def test_label_patch_sets_changed_and_removes_stale_managed_labels():
    current = {"kubernetes.io/hostname": "n1", "openpai.io/gpu-count": "2", "pai-master": "true",
               "openpai.io/machine-type": "k80"}
    desired = {"openpai.io/machine-type": "k80", "openpai.io/gpu-count": "4", "pai-worker": "true"}
    # Unmanaged labels are never touched; an unchanged managed label is not in the patch.
    assert F["k8s_label_patch"](current, desired) == {
        "openpai.io/gpu-count": "4", "pai-master": None, "pai-worker": "true"}
    # Applying the patch gives the desired managed labels: nothing left to change.
    applied = {k: v for k, v in dict(current, **F["k8s_label_patch"](current, desired)).items() if v is not None}
    assert F["k8s_label_patch"](applied, desired) == {}
    assert applied["kubernetes.io/hostname"] == "n1"
    assert F["k8s_label_patch"](None, {}) == {}


def test_node_and_pod_lists_from_k8s_info_resources():
    nodes = [_node("a"), _node("b", ready="False")]
    assert F["k8s_ready_nodes"](nodes) == ["a"]
    assert F["k8s_node_problems"](nodes, {"a": {}, "b": {}}) == ["node b: not Ready"]
    for bad, word in (("{not json", "JSON"), (42, "int")):
        with pytest.raises(AnsibleFilterError, match="not a Kubernetes object list.*" + word):
            F["k8s_ready_nodes"](bad)


def _stat(path, exists=True, checksum=None, **extra):
    stat = {"exists": exists}
    if exists:
        stat.update({"isreg": True, "checksum": checksum})
    stat.update(extra)
    return stat


def _plan_item(name, sha256):
    return {"name": name, "file": name, "controller_path": "/b/" + name, "sha256": sha256}


def test_bundle_problems_one_line_per_bad_file():
    good, bad = "a" * 64, "b" * 64
    results = [
        {"item": _plan_item("kubeadm", good), "stat": _stat("/b/kubeadm", checksum=good)},
        {"item": _plan_item("kubelet", good), "stat": _stat("/b/kubelet", checksum=bad)},
        {"item": _plan_item("pause.tar", good), "stat": _stat("/b/pause.tar", exists=False)},
        {"item": _plan_item("kubectl", None), "stat": _stat("/b/kubectl", checksum=good)},
        {"item": _plan_item("crictl.tgz", good), "stat": _stat("/b/crictl.tgz", isreg=False)},
        {"item": _plan_item("etcd.tar", good), "stat": {}, "failed": True, "msg": "Permission denied"},
    ]
    assert F["k8s_bundle_problems"](results, "/b/") == [
        "/b/kubelet: SHA-256 %s does not match %s in SHA256SUMS" % (bad, good),
        "/b/pause.tar: missing",
        "kubectl: not listed in /b/SHA256SUMS",
        "/b/crictl.tgz: not a regular file",
        "/b/etcd.tar: cannot be read: Permission denied",
    ]
    assert F["k8s_bundle_problems"](results[:1], "/b") == []
    assert F["k8s_bundle_problems"]([], "/b") == []
    with pytest.raises(AnsibleFilterError, match="bundle check: not a result of the stat loop"):
        F["k8s_bundle_problems"]([{"stat": {}}], "/b")


def test_download_problems_name_artifact_url_and_error():
    results = [
        {"item": {"name": "kubeadm", "fetch_url": "https://dl.example/kubeadm"}, "changed": False},
        {"item": {"name": "kubelet", "fetch_url": "https://dl.example/kubelet"}, "failed": True, "attempts": 5,
         "msg": "Request failed: <urlopen error [Errno 111]\n Connection refused>"},
        {"item": {"name": "crictl", "fetch_url": "https://dl.example/crictl.tgz"}, "failed": True,
         "msg": "The checksum for /cache/crictl.tgz did not match"},
    ]
    assert F["k8s_download_problems"](results) == [
        "kubelet: https://dl.example/kubelet (5 attempts): Request failed: <urlopen error [Errno 111] Connection refused>",
        "crictl: https://dl.example/crictl.tgz: The checksum for /cache/crictl.tgz did not match",
    ]
    assert F["k8s_download_problems"](results[:1]) == []


def _manifest(name, **extra):
    """The objects kubernetes_control_plane/tasks/apply.yml gives kubernetes.core.k8s for
    templates/<name>.j2: the template rendered with the roles' defaults, every YAML
    document that is not empty (the task's from_yaml_all | select)."""
    import yaml
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    loader = DataLoader()
    variables = {}
    for part in ("openpai/defaults", "kubernetes/defaults", "kubernetes/vars", "kubernetes_control_plane/defaults"):
        variables.update(loader.load_from_file(str(ROLES / part / "main.yml"), cache="none",
                                               trusted_as_template=True))
    variables.update({"openpai_lab": False, "kubernetes_apiserver_host": "10.0.0.1",
                      "kubernetes_artifact_plan": [{"name": "flannel", "ref": "ghcr.io/flannel-io/flannel:v0"}]},
                     **extra)
    text = (ROLES / "kubernetes_control_plane" / "templates" / (name + ".j2")).read_text()
    rendered = Templar(loader=loader, variables=variables).template(trust_as_template(text))
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


@pytest.mark.parametrize("name, kinds", [
    ("flannel.yaml", {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"}),
    ("nvidia-device-plugin.yaml", {"DaemonSet"}),
])
def test_manifests_are_objects_kubernetes_core_can_apply(name, kinds):
    objects = _manifest(name)
    for obj in objects:
        assert obj.get("apiVersion") and obj.get("kind") and obj["metadata"].get("name"), obj
    assert {obj["kind"] for obj in objects} >= kinds
    if name == "flannel.yaml":
        flannel = next(o for o in objects if o["kind"] == "DaemonSet")
        assert flannel["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/flannel-io/flannel:v0"
