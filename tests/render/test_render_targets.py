"""paictl config render takes which host gets which file from the collection's playbooks,
not from a table of its own; and rendering once per distinct input changes no byte."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, base_inventory
from paictl import inventory, project, render

COLLECTION = Path("collections/ansible_collections/openpai/cluster")


def files(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def list_hosts(inv):
    """Play name -> host sets, as ``ansible-playbook --list-hosts`` resolves them."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), "--list-hosts",
           str(ROOT / COLLECTION / "playbooks/site.yml")]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    assert res.returncode == 0, res.stdout + res.stderr
    plays, current = {}, None
    for line in res.stdout.splitlines():
        match = re.match(r"\s+play #\d+ \(.*?\): (.*?)\tTAGS:", line)
        if match:
            current = plays.setdefault(match.group(1), [])
            current.append(set())
        elif current is not None and re.match(r"^ {6}\S+$", line):
            current[-1].add(line.strip())
    return plays


def test_targets_are_the_plays_hosts_as_ansible_playbook_lists_them(write_inventory):
    doc = base_inventory()
    doc["all"]["hosts"]["cp2"] = {"ansible_host": "10.10.0.9", "openpai_machine_type": "master-node"}
    doc["all"]["children"]["kube_control_plane"]["hosts"]["cp2"] = None
    inv_dir = write_inventory(doc)
    plays = list_hosts(inv_dir)
    found = render.targets(inventory.Inventory(str(inv_dir)))
    roles = {t.role for t in found}
    assert {"hadoop", "docker", "containerd", "kubernetes_control_plane", "kubernetes_worker"} <= roles
    for target in found:
        assert set(target.hosts) in plays[target.play], (target.play, target.role, target.hosts)
    by_role = {t.role: set(t.hosts) for t in found}
    assert len(by_role["kubernetes_control_plane"]) == 1  # kube_control_plane[0]
    assert by_role["kubernetes_control_plane"].isdisjoint(by_role["kubernetes_worker"])


def _project_copy(tmp_path):
    """A project directory (site.yml, ansible.cfg, the collection) that can be changed."""
    copy = tmp_path / "project"
    (copy / COLLECTION).parent.mkdir(parents=True)
    shutil.copytree(ROOT / COLLECTION, copy / COLLECTION, ignore=shutil.ignore_patterns("molecule", "__pycache__"))
    for name in ("site.yml", "ansible.cfg"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def _set_hosts(playbook, play_name, pattern):
    plays = yaml.safe_load(playbook.read_text())
    matched = [p for p in plays if p.get("name") == play_name]
    assert matched, play_name
    for play in matched:
        play["hosts"] = pattern
    playbook.write_text("---\n" + yaml.safe_dump(plays, sort_keys=False))


def test_a_changed_hosts_pattern_changes_who_gets_the_files(write_inventory, tmp_path):
    """The same code, a copy of the collection whose plays target other hosts."""
    copy = _project_copy(tmp_path)
    playbooks = copy / COLLECTION / "playbooks"
    _set_hosts(playbooks / "hadoop.yml", "Hadoop firewall, HDFS and YARN", "pai_worker")
    _set_hosts(playbooks / "kubernetes.yml", "Kubernetes workers join", "kube_node[0]")
    inv_dir = write_inventory()
    out = tmp_path / "out"
    env = dict(os.environ, PAICTL_PROJECT_DIR=str(copy), PYTHONPATH=str(ROOT / "src"))
    res = subprocess.run([sys.executable, "-m", "paictl.cli", "config", "render", "-i", str(inv_dir), "-o", str(out)],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    written = files(out)
    assert not [f for f in written if f.startswith("pai-master/hadoop/")]
    assert "pai-worker1/hadoop/yarn-site.xml" in written and "pai-worker2/hadoop/core-site.xml" in written
    assert [f for f in written if "/kubeadm/" in f] == ["pai-master/kubeadm/kubeadm-init.yaml",
                                                       "pai-worker1/kubeadm/kubeadm-join.yaml"]
    assert "pai-master/docker/daemon.json" in written  # the plays left alone still apply


def test_shared_rendering_writes_the_same_bytes_as_rendering_each_host(write_inventory, tmp_path):
    """Hosts that differ in SKU, groups and host variables: once-per-input equals once-per-host."""
    doc = base_inventory()
    hosts = doc["all"]["hosts"]
    hosts["pai-worker3"] = {"ansible_host": "10.10.0.4", "openpai_machine_type": "k80-node",
                            "docker_registry_mirrors": ["https://mirror.example"],
                            "hadoop_yarn_site_overrides": {"yarn.acl.enable": False}}
    hosts["pai-worker4"] = {"ansible_host": "10.10.0.5", "openpai_machine_type": "k80-node"}
    for group in ("kube_node", "pai_worker"):
        doc["all"]["children"][group]["hosts"].update({"pai-worker3": None, "pai-worker4": None})
    inv = inventory.Inventory(str(write_inventory(doc)))
    shared, each = tmp_path / "shared", tmp_path / "each"
    render.render(inv, shared, share=True)
    render.render(inv, each, share=False)
    assert files(shared) == files(each) and len(files(each)) >= 5 * 9
    for name in files(each):
        assert (shared / name).read_bytes() == (each / name).read_bytes(), name
    # the host variables did reach their host only
    assert "mirror.example" in (shared / "pai-worker3/docker/daemon.json").read_text()
    assert "mirror.example" not in (shared / "pai-worker4/docker/daemon.json").read_text()
    assert (shared / "pai-worker3/hadoop/yarn-site.xml").read_bytes() != \
        (shared / "pai-worker4/hadoop/yarn-site.xml").read_bytes()


def test_the_folder_is_the_roles_own_setting(render):
    """Each role names its folder (<role>_config_folder); an inventory may move it."""
    doc = base_inventory()
    doc["all"]["vars"]["docker_config_folder"] = "docker-engine"
    _, out = render(doc)
    assert (out / "pai-worker1/docker-engine/daemon.json").is_file()
    assert not (out / "pai-worker1/docker").exists()
    assert (out / "pai-worker1/kubeadm/kubeadm-join.yaml").is_file()


def test_render_py_knows_no_role():
    text = (ROOT / "src/paictl/render.py").read_text()
    for role in ("hadoop", "docker", "containerd", "kubeadm", "kube_control_plane", "pai_master"):
        assert role not in text, role


def test_hosts_without_an_address_are_named_one_line_each():
    assert render.address_problems(["node-a", "node-b"]) == [
        "host 'node-a': its address is not in the inventory (set ansible_host)",
        "host 'node-b': its address is not in the inventory (set ansible_host)"]
    assert render.address_problems([]) == []


@pytest.mark.parametrize("profile, known", [
    ({"address": None, "name": "x"}, False),
    ({"address": "10.0.0.1"}, True),
    ("{{ {'address': none} }}", False),
    ("{{ {'address': '10.0.0.' ~ 2} }}", True),
])
def test_the_address_check_reads_the_host_profile(profile, known):
    from ansible.template import Templar, trust_as_template
    value = trust_as_template(profile) if isinstance(profile, str) else profile
    assert render._address_known(Templar(loader=None, variables={}), {"openpai_host": value}) is known
    assert render._address_known(Templar(loader=None, variables={}), {}) is True  # no profile: no check


def test_render_stops_with_exit_2_for_hosts_without_an_address(write_inventory, paictl, tmp_path, monkeypatch):
    """Where the profile gives no address, nothing is written and each such host is named."""
    monkeypatch.setattr(render, "_address_known", lambda templar, variables:
                        variables["inventory_hostname"] != "pai-worker2")
    rc, _, err = paictl("config", "render", "-i", write_inventory(), "-o", tmp_path / "r")
    assert rc == 2
    assert "host 'pai-worker2': its address is not in the inventory (set ansible_host)" in err
    assert "pai-worker1" not in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_project_collection_is_where_targets_come_from():
    assert (project.collection() / render.PLAYBOOK).is_file()
