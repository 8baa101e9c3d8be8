"""The Jinja filters wrap the model and turn its errors into AnsibleFilterError."""

import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.filter.openpai import FilterModule

F = FilterModule().filters()
SKUS = {"k80": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
        "big": {"mem": "256Gi", "cpu": {"vcore": 64}}}


def test_nodemanager_resources_with_policy_strings():
    # Policies arrive from templated defaults as strings.
    res = F["nodemanager_resources"](SKUS, "k80", False, {"reserve_min_mb": "2048", "reserve_ratio": "0.1"})
    assert (res["memory_mb"], res["vcores"], res["gpus"]) == (34331, 23, 4)


def test_scheduler_maxima_over_hostvars():
    hostvars = {"a": {"openpai_machine_type": "k80"}, "b": {"openpai_machine_type": "big"},
                "m": {"openpai_machine_type": "big"}}
    maxima = F["scheduler_maxima"](["a", "b", "m"], hostvars, SKUS, ["m"])
    assert maxima == {"memory_mb": 262144 - 26215, "vcores": 63, "gpus": 4}


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
