"""The systemd units of role hadoop: which daemons go where, and the
java command line each one runs (Java 17 flags, classpath, main class)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

OPENS = ("java.io", "java.lang", "java.lang.reflect", "java.math", "java.net", "java.text", "java.util",
         "java.util.concurrent", "java.util.zip", "sun.security.util", "sun.security.x509")
CLASSES = {
    "namenode": "org.apache.hadoop.hdfs.server.namenode.NameNode",
    "datanode": "org.apache.hadoop.hdfs.server.datanode.DataNode",
    "resourcemanager": "org.apache.hadoop.yarn.server.resourcemanager.ResourceManager",
    "nodemanager": "org.apache.hadoop.yarn.server.nodemanager.NodeManager",
    "historyserver": "org.apache.hadoop.mapreduce.v2.hs.JobHistoryServer",
}


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    """Units written by hadoop (tasks_from daemons) for the base inventory, per host."""
    import yaml
    from conftest import base_inventory
    tmp = tmp_path_factory.mktemp("units")
    doc = base_inventory()
    doc["all"]["vars"].update({"hadoop_namenode_heap_mb": 333, "hadoop_java_extra_opts": ["-XX:+UseG1GC"]})
    (tmp / "inv").mkdir()
    (tmp / "inv" / "hosts.yml").write_text(yaml.safe_dump(doc))
    playbook = tmp / "units.yml"
    playbook.write_text(
        "- hosts: pai_master:pai_worker\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    hadoop_systemd_dir: '%s/{{ inventory_hostname }}'\n    hadoop_restart_on_change: false\n"
        "  tasks:\n    - ansible.builtin.file:\n        path: '{{ hadoop_systemd_dir }}'\n        state: directory\n"
        "        mode: '0755'\n"
        "    - ansible.builtin.include_role:\n        name: openpai.cluster.hadoop\n"
        "        tasks_from: daemons\n" % (tmp / "out"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp / "inv"), str(playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "ansible_become=false"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stdout + res.stderr
    return {h.name: {u.name: u.read_text() for u in h.iterdir()} for h in (tmp / "out").iterdir()}


def exec_start(unit):
    lines = unit.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ExecStart="))
    words = []
    for line in lines[start:]:
        words += line.replace("ExecStart=", "", 1).rstrip("\\").split()
        if not line.endswith("\\"):
            break
    return words


def test_daemons_by_group(units):
    assert sorted(units["pai-master"]) == ["hadoop-historyserver.service", "hadoop-namenode.service",
                                           "hadoop-resourcemanager.service"]
    for worker in ("pai-worker1", "pai-worker2"):
        assert sorted(units[worker]) == ["hadoop-datanode.service", "hadoop-nodemanager.service"]


@pytest.mark.parametrize("host,daemon", [("pai-master", "namenode"), ("pai-master", "resourcemanager"),
                                         ("pai-master", "historyserver"), ("pai-worker1", "datanode"),
                                         ("pai-worker2", "nodemanager")])
def test_java_command_line(units, host, daemon):
    unit = units[host]["hadoop-%s.service" % daemon]
    words = exec_start(unit)
    assert words[0] == "/usr/lib/jvm/default-java/bin/java"  # java_home of role java when it ran
    assert words[-1] == CLASSES[daemon]  # the main class, no hadoop shell script
    for pkg in OPENS:
        assert "--add-opens=java.base/%s=ALL-UNNAMED" % pkg in words
    assert "-XX:+IgnoreUnrecognizedVMOptions" in words and "-XX:+UseG1GC" in words
    assert "-Dhadoop.log.file=hadoop-%s.log" % daemon in words
    cp = words[words.index("-cp") + 1].split(":")
    share = "/opt/hadoop-3.4.2/share/hadoop"
    assert cp[0] == "/etc/hadoop"
    assert share + "/hdfs" in cp  # the directory itself: the HDFS web apps
    assert cp.index(share + "/common/lib/*") < cp.index(share + "/hdfs/*") < cp.index(share + "/yarn/*")
    timeline = share + "/yarn/timelineservice/*" in cp
    assert timeline == (daemon in ("resourcemanager", "nodemanager"))
    assert "User=hadoop" in unit and 'Environment="HADOOP_CONF_DIR=/etc/hadoop"' in unit


def test_heap_from_variables(units):
    assert "-Xmx333m" in exec_start(units["pai-master"]["hadoop-namenode.service"])
    assert "-Xmx1024m" in exec_start(units["pai-master"]["hadoop-resourcemanager.service"])


def test_docker_lab_skus_leave_room_for_two_jobs():
    """inventories/docker-lab (and the molecule scenarios, same SKUs): YARN fits two jobs at once, each an
    application master and a GPU and a CPU task (every container rounded up to the 1024 MB minimum allocation)."""
    import yaml
    from ansible_collections.openpai.cluster.plugins.module_utils import model
    skus = yaml.safe_load((ROOT / "inventories/docker-lab/group_vars/all/main.yml").read_text())["openpai_machine_skus"]
    gpu = model.nodemanager_resources(model.resolve_sku("lab-gpu", skus["lab-gpu"]))
    cpu = model.nodemanager_resources(model.resolve_sku("lab-cpu", skus["lab-cpu"]))
    assert (gpu["memory_mb"], gpu["vcores"], gpu["gpus"]) == (6144, 7, 4)
    assert (cpu["memory_mb"], cpu["vcores"], cpu["gpus"]) == (4096, 3, 0)
    assert gpu["memory_mb"] + cpu["memory_mb"] >= 2 * 3 * 1024 and gpu["vcores"] + cpu["vcores"] >= 2 * 3
    for name in ("hadoop", "kubernetes", "stack"):
        scenario = yaml.safe_load((ROOT / f"molecule/{name}/molecule.yml").read_text())
        assert scenario["provisioner"]["inventory"]["group_vars"]["all"]["openpai_machine_skus"] == skus, name
