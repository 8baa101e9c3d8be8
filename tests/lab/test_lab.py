"""paictl lab up / deploy / lab down on real node containers (needs Docker)."""

import json
import shutil
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.docker

LAB = "pytest-lab"


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if shutil.which("docker") is None or docker("info").returncode != 0:
        pytest.fail("Docker Engine is not running: start it with `make docker` (CI's .ci/run does)")
    base = tmp_path_factory.mktemp("lab")
    inv = base / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "vars": {
            "ansible_user": "admin", "ansible_password": "never-shown-Secret-7",
            "openpai_machine_skus": {
                "m": {"mem": "4Gi", "cpu": {"vcore": 2}},
                "g": {"mem": "4Gi", "cpu": {"vcore": 2}, "gpu": {"type": "Tesla V100", "count": 3}}},
            "openpai_virtual_clusters": {"default": {"capacity": 100}},
        },
        "hosts": {"m1": {"ansible_host": "192.168.1.11", "openpai_machine_type": "m"},
                  "g1": {"ansible_host": "192.168.1.12", "openpai_machine_type": "g"}},
        "children": {"kube_control_plane": {"hosts": {"m1": None}}, "kube_node": {"hosts": {"g1": None}},
                     "pai_master": {"hosts": {"m1": None}}, "pai_worker": {"hosts": {"g1": None}}},
    }}))
    lab_inv = base / "lab-inv"
    from paictl import cli
    rc = cli.main(["lab", "up", "-i", str(inv), "-o", str(lab_inv), "--name", LAB])
    assert rc == 0
    yield inv, lab_inv
    cli.main(["lab", "down", "-i", str(lab_inv)])


def test_lab_inventory_keeps_groups_and_vars_and_drops_secrets(lab):
    _, lab_inv = lab
    text = (lab_inv / "hosts.yml").read_text()
    assert "never-shown-Secret-7" not in text and "192.168.1." not in text
    doc = yaml.safe_load(text)["all"]
    assert doc["vars"]["openpai_lab"] is True and doc["vars"]["openpai_lab_name"] == LAB
    assert doc["vars"]["openpai_machine_skus"]["g"]["gpu"]["count"] == 3
    assert doc["vars"]["openpai_virtual_clusters"] == {"default": {"capacity": 100}}
    assert doc["children"]["pai_worker"]["hosts"] == {"g1": None}
    g1 = doc["hosts"]["g1"]
    assert g1["ansible_connection"] == "community.docker.docker" and g1["ansible_host"] == LAB + "-g1"
    assert g1["openpai_machine_type"] == "g" and g1["openpai_address"].count(".") == 3


def test_nodes_are_labelled_systemd_containers(lab):
    res = docker("ps", "--filter", "label=io.openpai.lab=" + LAB, "--format", "{{.Names}} {{.Label \"io.openpai.host\"}}")
    assert sorted(res.stdout.split("\n")[:-1]) == [LAB + "-g1 g1", LAB + "-m1 m1"]
    res = docker("exec", LAB + "-m1", "systemctl", "is-system-running")
    assert res.stdout.strip() == "running"
    assert docker("inspect", "-f", "{{.HostConfig.Privileged}}", LAB + "-m1").stdout.strip() == "false"


def test_gpu_node_fixture_answers_as_the_sku(lab):
    res = docker("exec", LAB + "-g1", "nvidia-smi", "-L")
    lines = [line for line in res.stdout.splitlines() if line.startswith("GPU ")]
    assert len(lines) == 3 and all("Tesla V100" in line for line in lines)
    assert docker("exec", LAB + "-m1", "sh", "-c", "command -v nvidia-smi").returncode != 0


def test_deploy_on_the_lab_then_zero_changes(lab, capsys):
    _, lab_inv = lab
    from paictl import cli
    assert cli.main(["deploy", "-i", str(lab_inv), "--tags", "preflight"]) == 0
    out = capsys.readouterr().out
    assert "says 3 GPU(s) but the PCI bus has 0" in out  # a warning in a lab, not an error
    assert "deploy succeeded" in out
    assert cli.main(["deploy", "-i", str(lab_inv), "--tags", "preflight", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "successful"
    assert {h: c["changed"] for h, c in data["hosts"].items()} == {"localhost": 0, "m1": 0, "g1": 0}
    assert all(c["ok"] > 0 and c["failed"] == 0 for c in data["hosts"].values())


def test_lab_down_removes_everything(lab, tmp_path):
    _, lab_inv = lab
    from paictl import cli
    assert cli.main(["lab", "down", "-i", str(lab_inv)]) == 0
    assert docker("ps", "-a", "--filter", "label=io.openpai.lab=" + LAB, "-q").stdout.strip() == ""
    assert docker("network", "inspect", LAB).returncode != 0
    assert cli.main(["lab", "down", "-i", str(lab_inv)]) == 0  # idempotent


def test_lab_down_refuses_a_non_lab_inventory(lab, capsys):
    inv, _ = lab
    from paictl import cli
    assert cli.main(["lab", "down", "-i", str(inv)]) == 2
    assert "is not a lab inventory" in capsys.readouterr().err
