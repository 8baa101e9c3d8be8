"""Role hadoop_firewall's rules per host: who may connect (loopback, every
cluster host, the pod network, the admins' networks) and which ports each host
guards (its daemons', ZooKeeper's on the master). The file is checked by the
real iptables-restore (--test) as the role's template task does on a host."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, base_inventory

RESTORE = "/usr/sbin/iptables-restore"


ROLES = ROOT / "collections/ansible_collections/openpai/cluster/roles"


def rules(tmp_path, admin_networks):
    """The rules file role hadoop_firewall writes for each host of the base inventory: its rules task file with
    the defaults of the roles it depends on (openpai, hadoop) and its own, as a deploy has them."""
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.yml").write_text(yaml.safe_dump(base_inventory()))
    out = tmp_path / "out"
    defaults = [ROLES / role / "defaults/main.yml" for role in ("openpai", "hadoop", "hadoop_firewall")]
    playbook = {
        "hosts": "pai_master:pai_worker", "connection": "local", "gather_facts": False,
        "pre_tasks": [{"ansible.builtin.include_vars": str(path)} for path in defaults],
        "tasks": [{"ansible.builtin.include_tasks": str(ROLES / "hadoop_firewall/tasks/rules.yml")}],
        "handlers": [{"name": "Reload the Hadoop firewall", "ansible.builtin.debug": {"msg": "reload"}}],
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump([playbook]))
    # Outside its role the task finds the role's template beside the playbook.
    (tmp_path / "templates").symlink_to(ROLES / "hadoop_firewall/templates")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    # Extra vars win over the defaults loaded with include_vars (as the inventory wins over role defaults).
    settings = {"openpai_admin_networks": admin_networks,
                "hadoop_firewall_rules_file": "%s/{{ inventory_hostname }}/hadoop-firewall.rules" % out}
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inv"),
           str(tmp_path / "rules.yml"), "-e", "ansible_python_interpreter=%s" % sys.executable,
           "-e", "ansible_become=false", "-e", json.dumps(settings)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    files = {path.parent.name: path.read_text() for path in out.glob("*/hadoop-firewall.rules")}
    return res, files


def chain(text):
    return [line for line in text.splitlines() if line.startswith("-A ")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which(RESTORE):
        pytest.skip("the rules are validated by %s --test, which needs root" % RESTORE)
    res, files = rules(tmp_path_factory.mktemp("fw"), ["192.0.2.0/24"])
    assert res.returncode == 0, res.stdout + res.stderr
    return files


def test_every_hadoop_host_admits_loopback_the_cluster_the_pods_and_the_admins(rendered):
    assert sorted(rendered) == ["pai-master", "pai-worker1", "pai-worker2"]
    for text in rendered.values():
        returns = [line.split(" -s ")[1].split()[0] for line in chain(text) if " -s " in line]
        assert returns == ["127.0.0.0/8", "10.10.0.1/32", "10.10.0.2/32", "10.10.0.3/32", "10.244.0.0/16",
                           "192.0.2.0/24"]
        # Established connections first, then the sources, then the refusals: nothing else.
        assert chain(text)[0] == "-A OPENPAI-HADOOP -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN"
        assert all(line.endswith("-j REJECT --reject-with tcp-reset") for line in chain(text)[7:])


def refused_ports(text):
    return [int(line.split("--dport ")[1].split()[0]) for line in chain(text) if "--dport" in line]


def test_the_master_guards_namenode_resourcemanager_history_and_zookeeper(rendered):
    # NameNode 9000/50070, ResourceManager 8030-8033/8088, JobHistory 10020/10033/19888, ZooKeeper 2181.
    assert refused_ports(rendered["pai-master"]) == [2181, 8030, 8031, 8032, 8033, 8088, 9000, 10020, 10033,
                                                     19888, 50070]


def test_a_worker_guards_its_datanode_and_nodemanager(rendered):
    assert refused_ports(rendered["pai-worker1"]) == [8040, 8042, 9864, 9866, 9867]
    assert rendered["pai-worker1"] == rendered["pai-worker2"]


def test_a_bad_admin_network_names_the_field(tmp_path):
    res, files = rules(tmp_path, ["192.0.2.0/24", "my-laptop"])
    assert res.returncode != 0 and not files
    assert "field 'openpai_admin_networks[1]': 'my-laptop' is not an IPv4 address" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
