"""paictl check on valid inventories, layouts, and its JSON."""

import json

from conftest import FIXTURES


def test_check_valid_inventory(write_inventory, paictl):
    rc, out, err = paictl("check", "-i", write_inventory())
    assert rc == 0, out + err
    assert "valid (3 hosts, 1 master, 2 worker)" in out
    assert "pai-worker1" in out and "34331" in out


def test_check_json(write_inventory, paictl):
    rc, out, err = paictl("check", "-i", write_inventory(), "--json")
    data = json.loads(out)
    assert rc == 0 and data["valid"] is True and data["problems"] == [] and data["hosts"] == 3
    nm = data["summary"]["nodemanagers"]
    assert nm["pai-worker1"]["memory_mb"] == 34331 and nm["pai-worker1"]["vcores"] == 23
    assert nm["pai-worker1"]["gpus"] == 4 and nm["pai-worker2"]["gpus"] == 0
    assert data["summary"]["maxima"] == {"memory_mb": 34331, "vcores": 23, "gpus": 4}


def test_check_json_invalid(write_inventory, paictl):
    from conftest import base_inventory
    doc = base_inventory()
    doc["all"]["hosts"]["pai-worker1"]["openpai_machine_type"] = "nope"
    rc, out, err = paictl("check", "-i", write_inventory(doc), "--json")
    data = json.loads(out)
    assert rc == 2 and data["valid"] is False and len(data["problems"]) == 1
    assert "SKU 'nope' is not defined" in data["problems"][0]


def test_check_layout_v014(paictl, tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text((FIXTURES / "layout-v0.14.yaml").read_text())
    rc, out, err = paictl("check", "-i", path, "--json")
    data = json.loads(out)
    assert rc == 0, out + err
    nm = data["summary"]["nodemanagers"]
    # 40GB = 40e9 bytes -> 38146 MiB -> reserve 3815 -> 34331
    assert nm["pai-worker1"]["memory_mb"] == 34331 and nm["pai-worker1"]["gpus"] == 4
    assert "layout-Secret-1" not in out + err


def test_check_layout_v1(paictl, tmp_path):
    path = tmp_path / "cluster-layout.yml"  # any name: recognised by its machine-list
    path.write_text((FIXTURES / "layout-v1.yaml").read_text())
    rc, out, err = paictl("check", "-i", path, "--json")
    data = json.loads(out)
    assert rc == 0, out + err
    assert data["summary"]["nodemanagers"]["pai-worker2"]["gpus"] == 4
    # 220Gi = 225280 MiB, reserve ceil(22528) -> 202752
    assert data["summary"]["nodemanagers"]["pai-worker2"]["memory_mb"] == 225280 - 22528
