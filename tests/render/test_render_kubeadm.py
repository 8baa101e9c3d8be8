"""paictl config render writes DIR/<host>/kubeadm/*.yaml: kubeadm init on the first
control-plane host, kubeadm join on every other node, exactly as the roles write them."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, base_inventory


def _render(render, extra=None, name="render"):
    doc = base_inventory()
    doc["all"]["vars"].update(extra or {})
    return render(doc, name)


def docs(path):
    return {d["kind"]: d for d in yaml.safe_load_all(path.read_text()) if d}


def test_init_on_the_control_plane_join_elsewhere(render):
    _, out = _render(render)
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/kubeadm/*")) == [
        "pai-master/kubeadm/kubeadm-init.yaml", "pai-worker1/kubeadm/kubeadm-join.yaml",
        "pai-worker2/kubeadm/kubeadm-join.yaml"]
    # kubeadm refuses an empty document (a leading '---' after the comment).
    assert None not in list(yaml.safe_load_all((out / "pai-master/kubeadm/kubeadm-init.yaml").read_text()))
    init = docs(out / "pai-master/kubeadm/kubeadm-init.yaml")
    assert set(init) == {"InitConfiguration", "ClusterConfiguration", "KubeletConfiguration",
                         "KubeProxyConfiguration"}
    assert init["InitConfiguration"]["localAPIEndpoint"] == {"advertiseAddress": "10.10.0.1", "bindPort": 6443}
    reg = init["InitConfiguration"]["nodeRegistration"]
    assert reg["name"] == "pai-master" and reg["imagePullPolicy"] == "IfNotPresent"
    assert reg["kubeletExtraArgs"] == [{"name": "node-ip", "value": "10.10.0.1"}]
    assert reg["ignorePreflightErrors"] == []
    cluster = init["ClusterConfiguration"]
    assert cluster["kubernetesVersion"] == "v1.33.13"
    assert cluster["controlPlaneEndpoint"] == "10.10.0.1:6443"
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12",
                                     "dnsDomain": "cluster.local"}
    assert init["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    assert "failSwapOn" not in init["KubeletConfiguration"]
    assert init["KubeProxyConfiguration"]["mode"] == "iptables"
    for host, address in (("pai-worker1", "10.10.0.2"), ("pai-worker2", "10.10.0.3")):
        text = (out / host / "kubeadm/kubeadm-join.yaml").read_text()
        join = docs(out / host / "kubeadm/kubeadm-join.yaml")["JoinConfiguration"]
        assert join["nodeRegistration"]["name"] == host
        assert join["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": address}]
        assert join["discovery"] == {"file": {"kubeConfigPath": "/etc/kubernetes/openpai/discovery.conf"}}
        assert "token" not in text.lower().replace("short-lived token", "")


def test_lab_bundle_and_overrides_are_merged(render):
    _, out = _render(render, {
        "openpai_lab": True,
        "kubernetes_artifacts_source": "bundle",
        "kubernetes_bundle_dir": "/srv/bundle",
        "kubernetes_pod_subnet": "10.32.0.0/16",
        "kubernetes_control_plane_kubelet_config_overrides": {"maxPods": 50, "evictionHard": {"memory.available": "5%"}},
        "kubernetes_control_plane_cluster_config_overrides": {"apiServer": {"extraArgs": [
            {"name": "service-node-port-range", "value": "20000-32767"}]}},
    })
    init = docs(out / "pai-master/kubeadm/kubeadm-init.yaml")
    assert init["InitConfiguration"]["nodeRegistration"]["imagePullPolicy"] == "Never"
    assert init["InitConfiguration"]["nodeRegistration"]["ignorePreflightErrors"] == ["all"]
    kubelet = init["KubeletConfiguration"]
    assert kubelet["maxPods"] == 50 and kubelet["failSwapOn"] is False
    assert kubelet["evictionHard"] == {"nodefs.available": "0%", "nodefs.inodesFree": "0%",
                                       "imagefs.available": "0%", "memory.available": "5%"}
    cluster = init["ClusterConfiguration"]
    assert cluster["apiServer"]["certSANs"][0] == "10.10.0.1"  # merged, not replaced
    assert cluster["apiServer"]["extraArgs"][0]["value"] == "20000-32767"
    assert cluster["networking"]["podSubnet"] == "10.32.0.0/16"
    assert init["KubeProxyConfiguration"]["clusterCIDR"] == "10.32.0.0/16"
    assert init["KubeProxyConfiguration"]["conntrack"] == {"maxPerCore": 0}
    join = docs(out / "pai-worker2/kubeadm/kubeadm-join.yaml")["JoinConfiguration"]
    assert join["nodeRegistration"]["imagePullPolicy"] == "Never"


PLAYBOOK = """\
- hosts: kube_control_plane[0]
  connection: local
  gather_facts: false
  vars:
    kubernetes_control_plane_config_dir: '{out}/{{{{ inventory_hostname }}}}/kubeadm'
  tasks:
    - ansible.builtin.file:
        path: '{{{{ kubernetes_control_plane_config_dir }}}}'
        state: directory
        mode: '0755'
    - ansible.builtin.include_role:
        name: openpai.cluster.kubernetes_control_plane
        tasks_from: config
- hosts: kube_control_plane:kube_node:!kube_control_plane[0]
  connection: local
  gather_facts: false
  vars:
    kubernetes_worker_config_dir: '{out}/{{{{ inventory_hostname }}}}/kubeadm'
    kubernetes_worker_discovery_path: /etc/kubernetes/openpai/discovery.conf
  tasks:
    - ansible.builtin.file:
        path: '{{{{ kubernetes_worker_config_dir }}}}'
        state: directory
        mode: '0755'
    - ansible.builtin.include_role:
        name: openpai.cluster.kubernetes_worker
        tasks_from: config
"""


def test_render_matches_what_the_roles_write(render, tmp_path):
    inv, out = _render(render, {"openpai_lab": True})
    role_out = tmp_path / "role"
    playbook = tmp_path / "apply.yml"
    playbook.write_text(PLAYBOOK.format(out=role_out))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "ansible_become=false"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stdout + res.stderr
    rendered = sorted(p.relative_to(out) for p in out.glob("*/kubeadm/*"))
    assert rendered and rendered == sorted(p.relative_to(role_out) for p in role_out.glob("*/kubeadm/*"))
    for rel in rendered:
        assert (role_out / rel).read_bytes() == (out / rel).read_bytes(), rel
        assert (role_out / rel).stat().st_mode & 0o777 == 0o600
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout
