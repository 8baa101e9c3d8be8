"""Shared test set-up: the in-repo collection importable, sample inventories."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ["PAICTL_PROJECT_DIR"] = str(ROOT)

from paictl import project  # noqa: E402

project.init_ansible()

FIXTURES = ROOT / "tests" / "fixtures"

BASE_INVENTORY = {
    "all": {
        "vars": {
            "openpai_machine_skus": {
                "k80-node": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
                "cpu-node": {"mem": "16Gi", "cpu": {"vcore": 8}},
                "master-node": {"mem": "32Gi", "cpu": {"vcore": 8}},
            },
            "openpai_virtual_clusters": {"default": {"capacity": 60}, "research": {"capacity": 40}},
        },
        "hosts": {
            "pai-master": {"ansible_host": "10.10.0.1", "openpai_machine_type": "master-node"},
            "pai-worker1": {"ansible_host": "10.10.0.2", "openpai_machine_type": "k80-node"},
            "pai-worker2": {"ansible_host": "10.10.0.3", "openpai_machine_type": "cpu-node"},
        },
        "children": {
            "kube_control_plane": {"hosts": {"pai-master": None}},
            "kube_node": {"hosts": {"pai-worker1": None, "pai-worker2": None}},
            "pai_master": {"hosts": {"pai-master": None}},
            "pai_worker": {"hosts": {"pai-worker1": None, "pai-worker2": None}},
        },
    }
}


def base_inventory():
    return copy.deepcopy(BASE_INVENTORY)


@pytest.fixture
def write_inventory(tmp_path):
    """Write an inventory dict as DIR/hosts.yml and return DIR."""
    counter = {"n": 0}

    def write(doc=None):
        counter["n"] += 1
        folder = tmp_path / ("inv%d" % counter["n"])
        folder.mkdir()
        (folder / "hosts.yml").write_text(yaml.safe_dump(base_inventory() if doc is None else doc))
        return folder
    return write


@pytest.fixture
def paictl(capsys):
    """Run paictl in-process; returns (rc, stdout, stderr)."""
    from paictl import cli

    def run(*argv):
        rc = cli.main([str(a) for a in argv])
        captured = capsys.readouterr()
        return rc, captured.out, captured.err
    return run


@pytest.fixture
def render(write_inventory, paictl, tmp_path):
    """``paictl config render`` of an inventory dict (default: the base one); returns (inventory dir, output dir)."""
    def run(doc=None, name="render"):
        inv = write_inventory(doc)
        out = tmp_path / name
        rc, _, err = paictl("config", "render", "-i", inv, "-o", out)
        assert rc == 0, err
        return inv, out
    return run
