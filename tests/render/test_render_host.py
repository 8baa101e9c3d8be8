"""paictl config render writes each host's docker/daemon.json and containerd/config.toml,
exactly as roles docker and containerd write them on a fresh host."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, base_inventory

HOSTS = ("pai-master", "pai-worker1", "pai-worker2")  # pai-worker1 is the GPU host (k80-node)


@pytest.fixture
def rendered(render):
    return _render(render)


def _render(render, extra=None):
    doc = base_inventory()
    doc["all"]["vars"].update(extra or {})
    doc["all"]["vars"].update({
        "docker_registry_mirrors": ["https://mirror.example.org"],
        "docker_insecure_registries": ["10.10.0.1:5000"],
        "docker_daemon_options": {"log-opts": {"compress": "true"}, "live-restore": True},
        "containerd_sandbox_image": "registry.example.org/pause:3.10",
    })
    return render(doc)


def test_daemon_json_per_host(rendered):
    _, out = rendered
    cpu = json.loads((out / "pai-worker2/docker/daemon.json").read_text())
    assert cpu == {
        "data-root": "/var/lib/docker",
        "exec-opts": ["native.cgroupdriver=systemd"],
        "log-driver": "json-file",
        "log-opts": {"max-size": "100m", "max-file": "5", "compress": "true"},
        "registry-mirrors": ["https://mirror.example.org"],
        "insecure-registries": ["10.10.0.1:5000"],
        "live-restore": True,
    }
    gpu = json.loads((out / "pai-worker1/docker/daemon.json").read_text())
    assert gpu["default-runtime"] == "nvidia"
    assert gpu["runtimes"] == {"nvidia": {"path": "/usr/bin/nvidia-container-runtime", "runtimeArgs": []}}
    assert "default-runtime" not in json.loads((out / "pai-master/docker/daemon.json").read_text())


def test_containerd_config_per_host(rendered):
    _, out = rendered
    cpu = tomllib.loads((out / "pai-worker2/containerd/config.toml").read_text())
    assert cpu["version"] == 2
    cri = cpu["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == "registry.example.org/pause:3.10"
    assert cri["restrict_oom_score_adj"] is False
    assert cri["containerd"]["default_runtime_name"] == "runc"
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert "nvidia" not in cri["containerd"]["runtimes"]
    assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
    gpu = tomllib.loads((out / "pai-worker1/containerd/config.toml").read_text())
    runtimes = gpu["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    assert runtimes["default_runtime_name"] == "nvidia"
    assert runtimes["runtimes"]["nvidia"]["options"] == {
        "BinaryName": "/usr/bin/nvidia-container-runtime", "SystemdCgroup": True}


def test_lab_inventory_restricts_oom_score_adj(write_inventory, paictl, tmp_path):
    doc = base_inventory()
    doc["all"]["vars"]["openpai_lab"] = True
    out = tmp_path / "r"
    assert paictl("config", "render", "-i", write_inventory(doc), "-o", out)[0] == 0
    cfg = tomllib.loads((out / "pai-worker2/containerd/config.toml").read_text())
    assert cfg["plugins"]["io.containerd.grpc.v1.cri"]["restrict_oom_score_adj"] is True


PLAYBOOK = """\
- hosts: all
  connection: local
  gather_facts: false
  vars:
    docker_config_dir: '{out}/{{{{ inventory_hostname }}}}/docker'
    docker_manage_service: false
    containerd_manage_service: false
  tasks:
    - ansible.builtin.include_role:
        name: openpai.cluster.docker
        tasks_from: daemon_json
    - ansible.builtin.include_role:
        name: openpai.cluster.containerd
        tasks_from: config
"""


def _apply(inv, playbook):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "ansible_become=false"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))


def test_render_matches_what_the_roles_write(render, tmp_path):
    """The roles' own tasks (merge, template) on a fresh host write the rendered files byte for byte,
    a second run changes nothing, and a daemon.json key that was there before is kept."""
    role_out = tmp_path / "role"
    # The configuration folder shows in config.toml (certs.d): the same for render and role.
    inv, out = _render(render, {"containerd_config_dir": "%s/{{ inventory_hostname }}/containerd" % role_out})
    playbook = tmp_path / "apply.yml"
    playbook.write_text(PLAYBOOK.format(out=role_out))
    res = _apply(inv, playbook)
    assert res.returncode == 0, res.stdout + res.stderr
    for host in HOSTS:
        for rel in ("docker/daemon.json", "containerd/config.toml"):
            assert (role_out / host / rel).read_bytes() == (out / host / rel).read_bytes(), (host, rel)
    again = _apply(inv, playbook)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout
    existing = role_out / "pai-worker2/docker/daemon.json"
    existing.write_text('{"debug": true, "log-opts": {"max-size": "1m", "tag": "x"}}')
    assert _apply(inv, playbook).returncode == 0
    merged = json.loads(existing.read_text())
    assert merged["debug"] is True and merged["log-opts"] == {"max-size": "100m", "max-file": "5",
                                                             "compress": "true", "tag": "x"}
