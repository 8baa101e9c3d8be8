"""The inventory plugin openpai.cluster.layout, through ansible-inventory itself."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, ROOT

from ansible_collections.openpai.cluster.plugins.module_utils import layout


def ansible_inventory(path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    res = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), "--list"],
                         env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout, object_hook=_unwrap)


def _unwrap(obj):
    """ansible-inventory marks plugin-provided strings unsafe (never templated)."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def test_v014_layout(tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text((FIXTURES / "layout-v0.14.yaml").read_text())
    inv = ansible_inventory(path)
    assert inv["kube_control_plane"]["hosts"] == ["pai-master"]
    assert inv["kube_node"]["hosts"] == ["pai-worker1", "pai-worker2"]
    assert inv["pai_master"]["hosts"] == ["pai-master"]
    assert inv["pai_worker"]["hosts"] == ["pai-worker1", "pai-worker2"]
    hv = inv["_meta"]["hostvars"]
    assert hv["pai-worker1"]["ansible_host"] == "192.168.1.12"
    assert hv["pai-worker1"]["openpai_machine_type"] == "GPU"
    assert hv["pai-worker1"]["ansible_user"] == "pai"           # default-machine-properties
    assert hv["pai-worker1"]["ansible_port"] == 22
    assert hv["pai-worker2"]["ansible_port"] == 2222            # per-machine value wins
    assert hv["pai-master"]["openpai_layout_properties"]["zkid"] == "1"
    assert hv["pai-master"]["openpai_machine_skus"]["GPU"]["gpu"]["count"] == 4
    assert hv["pai-master"]["openpai_cluster_id"] == "pai-example"
    assert hv["pai-master"]["openpai_inventory_problems"] == []


def test_v1_layout_without_k8s_role(tmp_path):
    path = tmp_path / "layout.yml"
    path.write_text((FIXTURES / "layout-v1.yaml").read_text())
    inv = ansible_inventory(path)
    assert inv["kube_control_plane"]["hosts"] == ["pai-master"]
    assert inv["kube_node"]["hosts"] == ["pai-worker1", "pai-worker2"]
    hv = inv["_meta"]["hostvars"]["pai-worker1"]
    assert hv["openpai_machine_skus"]["gpu-machine"]["computing-device"]["model"] == "K80"


def test_wrapper_file_points_at_layout(tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "my-layout.yaml").write_text((FIXTURES / "layout-v1.yaml").read_text())
    wrapper = tmp_path / "inventory.yml"
    wrapper.write_text("plugin: openpai.cluster.layout\nlayout: cfg/my-layout.yaml\n")
    inv = ansible_inventory(wrapper)
    assert inv["pai_worker"]["hosts"] == ["pai-worker1", "pai-worker2"]


def test_problems_are_collected_not_raised():
    data = {"machine-sku": {"A": {"mem": "8Gi", "cpu": {"vcore": 4}}},
            "machine-list": [
                {"hostname": "m", "hostip": "10.0.0.1", "machine-type": "A", "pai-master": "yes"},
                {"hostname": "w", "hostip": "10.0.0.1", "machine-type": "A", "pai-worker": "true"},
                {"hostip": "10.0.0.3"},
            ]}
    parsed = layout.parse_layout(data)
    assert len(parsed["problems"]) == 3, parsed["problems"]
    assert "w" in parsed["hostvars"] and "m" in parsed["hostvars"]


@pytest.mark.parametrize("doc", [[], "text"])
def test_not_a_mapping(doc):
    assert "expected a mapping" in layout.parse_layout(doc)["problems"][0]


def test_empty_document_says_the_file_is_empty():
    assert layout.parse_layout(None, "my.yaml")["problems"] == [
        "my.yaml: the file is empty (an OpenPAI layout has machine-sku and machine-list)"]


def test_several_kubernetes_masters_are_control_plane_hosts():
    data = yaml.safe_load((FIXTURES / "layout-v0.14.yaml").read_text())
    data["machine-list"].append({"hostname": "node-03", "hostip": "192.168.1.14", "machine-type": "CPU",
                                 "k8s-role": "master"})
    parsed = layout.parse_layout(data)
    assert parsed["problems"] == []
    assert parsed["groups"]["kube_control_plane"] == ["pai-master", "node-03"]
    assert "node-03" not in parsed["groups"]["pai_master"] + parsed["groups"]["pai_worker"]


@pytest.mark.parametrize("name", ["layout.yaml", "cluster.yaml", "cluster.json"])
def test_json_layout_is_recognised(tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps(yaml.safe_load((FIXTURES / "layout-v1.yaml").read_text())))
    inv = ansible_inventory(path)
    assert inv["pai_master"]["hosts"] == ["pai-master"]
    assert inv["_meta"]["hostvars"]["pai-worker1"]["ansible_host"] == "10.0.0.2"


@pytest.mark.parametrize("port,ok", [(22, True), ("2222", True), (22.0, True), (0, False), (65536, False),
                                     (float("inf"), False), (float("nan"), False), ("ssh", False), (True, False)])
def test_port_number(port, ok):
    assert (layout.port_number(port) is not None) == ok
