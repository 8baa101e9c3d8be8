"""The inventory `paictl lab up` writes (paictl.lab.lab_inventory), without containers:
any inventory brought up as a lab deploys from the per-machine offline bundles and
pins the driver branch the lab's nvidia-smi fixture answers with."""

import json
import subprocess
import sys

import yaml

from paictl import inventory, lab
from conftest import ROOT, base_inventory

FIXTURE = ROOT / "collections/ansible_collections/openpai/cluster/roles/lab/files/nvidia-smi"


def write_lab_inventory(tmp_path, write_inventory, doc, root):
    """Load ``doc`` as paictl does, write its lab inventory and load that back."""
    source = write_inventory(doc)
    inv = inventory.Inventory(source)
    hosts = sorted(inv.hosts)
    nodes = [{"name": lab.node_name("t", h), "host": h} for h in hosts]
    addresses = {h: "172.30.0.%d" % (i + 2) for i, h in enumerate(hosts)}
    sources = lab.lab_sources(root, lab.fixture_driver_branch())
    out = tmp_path / "lab-inv"
    out.mkdir()
    (out / "hosts.yml").write_text(lab.lab_inventory(inv, "t", nodes, addresses, sources))
    return yaml.safe_load((out / "hosts.yml").read_text()), inventory.Inventory(out)


def user_inventory():
    doc = base_inventory()
    doc["all"]["vars"].update({
        # artifact sources a real site would use: not reachable from a lab
        "hadoop_dist_source": "mirror", "hadoop_dist_mirror": "https://mirror.example/apache",
        "hadoop_dist_sha512": "ab" * 64,
        "kubernetes_artifacts_source": "url", "nvidia_container_toolkit_source": "repository",
        "nvidia_driver_branch": "535",
        # user settings that are not artifact sources: kept
        "hadoop_namenode_heap_mb": 300, "ansible_password": "s3cret-pass",
        "services_image_source": "registry", "openpai_admin_password": "adm1n-secret",
    })
    doc["all"]["hosts"]["pai-worker1"]["kubernetes_bundle_dir"] = "/somewhere/else"
    doc["all"]["hosts"]["pai-worker2"]["kubernetes_flannel_backend"] = "vxlan"
    return doc


def test_lab_inventory_carries_the_lab_sources_and_keeps_user_settings(tmp_path, write_inventory):
    root = tmp_path / "machine-cache"
    doc, inv = write_lab_inventory(tmp_path, write_inventory, user_inventory(), root)
    defaults = inventory.role_defaults("openpai", "hadoop", "kubernetes", "nvidia_container_toolkit", "services")
    expected = {
        "hadoop_dist_source": "bundle", "hadoop_dist_sha512": "",
        "hadoop_dist_bundle_dir": "%s/bundles/hadoop-%s" % (root, defaults["hadoop_version"]),
        "kubernetes_artifacts_source": "bundle",
        "kubernetes_bundle_dir": "%s/bundles/kubernetes-%s" % (root, defaults["kubernetes_version"]),
        "nvidia_container_toolkit_source": "bundle",
        "nvidia_container_toolkit_bundle_dir": "%s/bundles/nvidia-container-toolkit-v%s"
                                               % (root, defaults["nvidia_container_toolkit_version"]),
        "nvidia_driver_branch": "550",
        "services_image_source": "bundle",
        "services_bundle_dir": "%s/bundles/services-%s" % (root, defaults["services_image_tag"]),
        # every worker gets the lab's job image from the services build
        "job_runtime_images": [{"name": "openpai/lab-job:1",
                                "file": "%s/bundles/lab-job-1/openpai_lab-job_1.tar" % root}],
    }
    for host in inv.hosts:
        variables = dict(defaults)
        variables.update(inv.raw_vars(host))
        assert inv.templated(variables, list(expected)) == expected, host
        assert variables["hadoop_namenode_heap_mb"] == 300
        assert variables["openpai_lab"] is True and variables["ansible_connection"] == "community.docker.docker"
        assert "ansible_password" not in variables
    # the sources are cluster-wide, never left on a host
    assert "kubernetes_bundle_dir" not in doc["all"]["hosts"]["pai-worker1"]
    # the lab's flannel backend is a default: the host that chose another keeps it
    assert inv.raw_vars("pai-worker2")["kubernetes_flannel_backend"] == "vxlan"
    assert inv.raw_vars("pai-worker1")["kubernetes_flannel_backend"] == "host-gw"
    assert "s3cret-pass" not in (tmp_path / "lab-inv" / "hosts.yml").read_text()
    assert "adm1n-secret" not in (tmp_path / "lab-inv" / "hosts.yml").read_text()


def test_lab_secrets_keep_the_inventorys_password_or_make_one_and_keep_it(tmp_path, write_inventory):
    dest = tmp_path / "lab-inv"
    dest.mkdir()
    own = user_inventory()
    inv = inventory.Inventory(write_inventory(own))
    path = lab.write_secrets(dest, lab.lab_secrets(inv, dest))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert yaml.safe_load(path.read_text()) == {"openpai_admin_password": "adm1n-secret"}
    # an inventory without one gets a generated password, kept by the next `lab up`
    other = tmp_path / "other"
    other.mkdir()
    plain = inventory.Inventory(write_inventory(base_inventory()))
    first = lab.lab_secrets(plain, other)["openpai_admin_password"]
    assert len(first) >= 12
    lab.write_secrets(other, {"openpai_admin_password": first})
    assert lab.lab_secrets(plain, other)["openpai_admin_password"] == first
    # the lab inventory reads it as a group variable
    (other / "hosts.yml").write_text(lab.lab_inventory(plain, "t", [{"name": "t-" + h, "host": h} for h in plain.hosts],
                                                       {}, lab.lab_sources(tmp_path, "550")))
    assert inventory.Inventory(other).cluster_vars()["openpai_admin_password"] == first


def test_entrance_is_pylon_on_the_first_master(tmp_path, write_inventory):
    doc, inv = write_lab_inventory(tmp_path, write_inventory, base_inventory(), tmp_path / "c")
    where = lab.entrance(inv)
    master = inv.groups["pai_master"][0]
    assert where["url"] == "http://%s/" % inv.raw_vars(master)["openpai_address"]
    assert where["username"] == "admin" and where["password_file"].endswith("group_vars/all/secrets.yml")


def test_an_inventory_naming_no_sources_gets_them_too(tmp_path, write_inventory):
    root = tmp_path / "c"
    doc, inv = write_lab_inventory(tmp_path, write_inventory, base_inventory(), root)
    assert doc["all"]["vars"]["kubernetes_bundle_dir"].startswith("%s/bundles/kubernetes-" % root)
    assert doc["all"]["vars"]["nvidia_driver_branch"] == lab.fixture_driver_branch()
    assert doc["all"]["vars"]["kubernetes_flannel_backend"] == "host-gw"
    assert inv.raw_vars("pai-master")["openpai_address"] == "172.30.0.2"


def test_fixture_driver_branch_is_what_the_fixture_answers(tmp_path):
    config = tmp_path / "gpus.json"
    driver = inventory.role_defaults("lab")["lab_gpu_driver_version"]
    config.write_text(json.dumps({"count": 2, "driver_version": str(driver)}))
    answer = subprocess.run([sys.executable, str(FIXTURE), "--query-gpu=driver_version", "--format=csv,noheader"],
                            env={"OPENPAI_LAB_GPUS": str(config)}, capture_output=True, text=True, check=True)
    branches = {line.split(".")[0] for line in answer.stdout.split()}
    assert branches == {lab.fixture_driver_branch()}


def test_cache_root_follows_the_shell_library():
    assert str(lab.cache_root({"OPENPAI_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y", "HOME": "/h"})) == "/x"
    assert str(lab.cache_root({"XDG_CACHE_HOME": "/y", "HOME": "/h"})) == "/y/openpai-ansible"
    assert str(lab.cache_root({"HOME": "/h"})) == "/h/.cache/openpai-ansible"
    script = ROOT / "tools" / "lib" / "cache.sh"
    for env in ({"OPENPAI_CACHE_DIR": "/x", "HOME": "/h"}, {"XDG_CACHE_HOME": "/y", "HOME": "/h"}, {"HOME": "/h"}):
        shell = subprocess.run(["bash", str(script), "root"], env=dict(env, PATH="/usr/bin:/bin"),
                               capture_output=True, text=True, check=True).stdout.strip()
        assert shell == str(lab.cache_root(env))


def test_the_docker_lab_inventory_is_valid_for_lab_up_but_names_missing_addresses_for_a_deploy():
    """`paictl lab up` gives every node its address; a deploy of the same file would have none."""
    inv = inventory.Inventory(str(ROOT / "inventories" / "docker-lab"))
    assert inventory.problems(inv, addresses_given=False) == []
    missing = inventory.problems(inv)
    assert len(missing) == 3 and all("field 'ansible_host' is missing" in p for p in missing)
