"""The Jinja filters wrap the model and turn its errors into AnsibleFilterError."""

import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.filter.openpai import FilterModule

F = FilterModule().filters()
SKUS = {"k80": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
        "big": {"mem": "256Gi", "cpu": {"vcore": 64}}}


def test_scheduler_maxima_over_hostvars_with_policy_strings():
    # Policy overrides arrive from the inventory, possibly as strings.
    common = {"openpai_machine_skus": SKUS, "openpai_yarn_reserve_min_mb": "2048", "openpai_yarn_reserve_ratio": "0.1"}
    hostvars = {"a": dict(common, openpai_machine_type="k80"), "b": dict(common, openpai_machine_type="big"),
                "m": dict(common, openpai_machine_type="big")}
    groups = {"pai_master": ["m"], "pai_worker": ["a", "b", "m"]}
    maxima = F["scheduler_maxima"](hostvars, groups)
    assert maxima == {"memory_mb": 262144 - 26215, "vcores": 63, "gpus": 4}
    expected = F["expected_nodemanagers"](hostvars, groups)
    assert (expected["a"]["memory_mb"], expected["a"]["vcores"], expected["a"]["gpus"]) == (34331, 23, 4)
    assert expected["m"]["memory_mb"] == 262144 - 26215 - 8192 and expected["m"]["vcores"] == 61


def test_host_profile_filter_reads_only_the_inventory():
    hostvars = {"w": {"openpai_machine_skus": SKUS, "openpai_machine_type": "k80", "ansible_host": "10.1.0.7"}}
    prof = F["host_profile"](hostvars, "w", {"pai_worker": ["w"], "kube_node": ["w"]})
    assert prof["address"] == "10.1.0.7" and prof["gpu"] is True and prof["nodemanager"]["gpus"] == 4
    with pytest.raises(AnsibleFilterError, match="'nope' is not in the inventory"):
        F["host_profile"](hostvars, "nope", {})


def test_bad_policy_override_names_the_variable():
    hostvars = {"w": {"openpai_machine_skus": SKUS, "openpai_machine_type": "k80", "openpai_yarn_reserve_ratio": "x"}}
    with pytest.raises(AnsibleFilterError, match="openpai_yarn_reserve_ratio: expected a finite number"):
        F["host_profile"](hostvars, "w", {"pai_worker": ["w"]})


def test_unknown_sku_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="SKU 'nope' is not defined"):
        F["machine_sku"](SKUS, "nope")


def test_hadoop_xml_escapes_sorts_and_skips_none():
    text = F["hadoop_xml"]({"b.key": "x<y & z", "a.key": True, "c.key": None, "d.list": ["p", "q"]}, "note -- here")
    root = ET.fromstring(text.split("\n", 2)[2])
    names = [p.findtext("name") for p in root.findall("property")]
    assert names == ["a.key", "b.key", "d.list"]
    assert root.findall("property")[1].findtext("value") == "x<y & z"
    assert root.findall("property")[0].findtext("value") == "true"
    assert root.findall("property")[2].findtext("value") == "p,q"
    assert "note - - here" in text


def test_hadoop_xml_rejects_non_mapping():
    with pytest.raises(AnsibleFilterError):
        F["hadoop_xml"](["not", "a", "dict"])


def test_merge_properties_later_wins():
    assert F["merge_properties"]({"a": 1, "b": 2}, {}, None, {"b": 3}) == {"a": 1, "b": 3}


def test_quantities():
    assert F["quantity_mib"]("40G") == 38146 and F["quantity_bytes"]("1Ki") == 1024
    with pytest.raises(AnsibleFilterError, match="unknown unit"):
        F["quantity_bytes"]("3X")
