"""paictl config render writes exactly what the roles write, with the SKU arithmetic."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, base_inventory

FILES = ("core-site.xml", "hdfs-site.xml", "yarn-site.xml", "mapred-site.xml", "capacity-scheduler.xml",
         "resource-types.xml")


def props(path):
    root = ET.parse(str(path)).getroot()
    assert root.tag == "configuration"
    return {p.findtext("name"): p.findtext("value") for p in root.findall("property")}


@pytest.fixture
def rendered(render):
    return render()


def test_every_host_gets_every_file(rendered):
    _, out = rendered
    for host in ("pai-master", "pai-worker1", "pai-worker2"):
        for name in FILES:
            assert (out / host / "hadoop" / name).is_file(), (host, name)


def test_nodemanager_resources_from_sku(rendered):
    _, out = rendered
    gpu = props(out / "pai-worker1/hadoop/yarn-site.xml")
    assert gpu["yarn.nodemanager.resource.memory-mb"] == "34331"
    assert gpu["yarn.nodemanager.resource.cpu-vcores"] == "23"
    assert gpu["yarn.nodemanager.resource-plugins"] == "yarn.io/gpu"
    assert gpu["yarn.nodemanager.resource-plugins.gpu.path-to-discovery-executables"] == "/usr/bin/nvidia-smi"
    cpu = props(out / "pai-worker2/hadoop/yarn-site.xml")
    assert cpu["yarn.nodemanager.resource.memory-mb"] == "14336"
    assert cpu["yarn.nodemanager.resource.cpu-vcores"] == "7"
    assert "yarn.nodemanager.resource-plugins" not in cpu
    master = props(out / "pai-master/hadoop/yarn-site.xml")
    assert "yarn.nodemanager.resource.memory-mb" not in master
    assert master["yarn.scheduler.maximum-allocation-mb"] == "34331"
    assert master["yarn.scheduler.maximum-allocation-vcores"] == "23"


def test_cluster_wide_files(rendered):
    _, out = rendered
    core = props(out / "pai-worker2/hadoop/core-site.xml")
    assert core["fs.defaultFS"] == "hdfs://10.10.0.1:9000"
    assert core["hadoop.http.authentication.simple.anonymous.allowed"] == "false"
    hdfs = props(out / "pai-worker2/hadoop/hdfs-site.xml")
    assert hdfs["dfs.namenode.http-address"] == "10.10.0.1:50070" and hdfs["dfs.replication"] == "2"
    cs = props(out / "pai-master/hadoop/capacity-scheduler.xml")
    assert cs["yarn.scheduler.capacity.root.queues"] == "default,research"
    assert cs["yarn.scheduler.capacity.root.default.capacity"] == "60"
    assert cs["yarn.scheduler.capacity.root.research.capacity"] == "40"
    assert cs["yarn.scheduler.capacity.resource-calculator"].endswith("DominantResourceCalculator")
    assert props(out / "pai-worker1/hadoop/resource-types.xml")["yarn.resource-types"] == "yarn.io/gpu"


def test_overrides_are_merged(write_inventory, paictl, tmp_path):
    doc = base_inventory()
    doc["all"]["vars"]["hadoop_yarn_site_overrides"] = {"yarn.log-aggregation-enable": True,
                                                        "yarn.acl.enable": False}
    doc["all"]["vars"]["openpai_yarn_reserve_min_mb"] = 4096
    out = tmp_path / "r"
    assert paictl("config", "render", "-i", write_inventory(doc), "-o", out)[0] == 0
    yarn = props(out / "pai-worker2/hadoop/yarn-site.xml")
    assert yarn["yarn.log-aggregation-enable"] == "true" and yarn["yarn.acl.enable"] == "false"
    assert yarn["yarn.nodemanager.resource.memory-mb"] == str(16384 - 4096)
    assert yarn["yarn.nodemanager.aux-services"] == "mapreduce_shuffle"  # defaults kept


def test_all_in_one(write_inventory, paictl, tmp_path):
    doc = base_inventory()
    doc["all"]["hosts"] = {"solo": {"ansible_host": "10.9.9.9", "openpai_machine_type": "k80-node"}}
    doc["all"]["children"] = {g: {"hosts": {"solo": None}}
                              for g in ("kube_control_plane", "kube_node", "pai_master", "pai_worker")}
    out = tmp_path / "r"
    assert paictl("config", "render", "-i", write_inventory(doc), "-o", out)[0] == 0
    yarn = props(out / "solo/hadoop/yarn-site.xml")
    assert yarn["yarn.nodemanager.resource.memory-mb"] == str(38146 - 3815 - 8192)
    assert yarn["yarn.nodemanager.resource.cpu-vcores"] == "21"
    assert yarn["yarn.scheduler.maximum-allocation-mb"] == str(38146 - 3815 - 8192)


def test_render_refuses_invalid_inventory(write_inventory, paictl, tmp_path):
    doc = base_inventory()
    doc["all"]["hosts"]["pai-worker2"]["openpai_machine_type"] = "missing"
    rc, out, err = paictl("config", "render", "-i", write_inventory(doc), "-o", tmp_path / "r")
    assert rc == 2 and "SKU 'missing' is not defined" in err and not (tmp_path / "r").exists()


def test_render_matches_what_the_role_writes(rendered, tmp_path):
    """The same inventory through the real role (template module, local connection)."""
    inv, out = rendered
    role_out = tmp_path / "role"
    playbook = tmp_path / "apply.yml"
    playbook.write_text(
        "- hosts: pai_master:pai_worker\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    hadoop_conf_dir: '%s/{{ inventory_hostname }}/hadoop'\n    hadoop_daemons: []\n"
        "  tasks:\n    - ansible.builtin.include_role:\n        name: openpai.cluster.hadoop\n"
        "        tasks_from: config\n" % role_out)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "ansible_become=false"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stdout + res.stderr
    for host in ("pai-master", "pai-worker1", "pai-worker2"):
        for name in FILES:
            assert (role_out / host / "hadoop" / name).read_bytes() == (out / host / "hadoop" / name).read_bytes(), \
                (host, name)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout


def test_render_a_layout_yaml(paictl, tmp_path):
    from conftest import FIXTURES
    layout = tmp_path / "layout.yaml"
    layout.write_text((FIXTURES / "layout-v0.14.yaml").read_text())
    out = tmp_path / "r"
    rc, stdout, err = paictl("config", "render", "-i", layout, "-o", out)
    assert rc == 0, err
    yarn = props(out / "pai-worker2/hadoop/yarn-site.xml")
    assert yarn["yarn.nodemanager.resource.memory-mb"] == "34331"
    assert yarn["yarn.nodemanager.resource-plugins"] == "yarn.io/gpu"
    assert props(out / "pai-worker2/hadoop/core-site.xml")["fs.defaultFS"] == "hdfs://192.168.1.11:9000"
    assert "layout-Secret-1" not in stdout + err
