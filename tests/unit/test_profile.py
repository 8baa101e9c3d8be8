"""The host and cluster profiles: every fact derived from the inventory, in one place."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.openpai.cluster.plugins.module_utils import model, profile

ROLE = Path(__file__).resolve().parents[2] / "collections/ansible_collections/openpai/cluster/roles/openpai"
SKUS = {"k80": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
        "v1gpu": {"mem": "64Gi", "cpu": {"vcore": 16}, "computing-device": {"type": "nvidia.com/gpu",
                                                                            "model": "V100", "count": 2}},
        "cpu": {"mem": "16Gi", "cpu": {"vcore": 8}},
        "aio": {"mem": "64Gi", "cpu": {"vcore": 16}, "gpu": {"type": "GTX 1080", "count": 1}}}
GROUPS = {"kube_control_plane": ["m"], "kube_node": ["g", "c"], "pai_master": ["m"], "pai_worker": ["g", "c"]}


def prof(host, hv, groups=GROUPS, facts=None):
    return profile.host_profile(host, hv, groups, SKUS, model.default_policy(), facts)


# --------------------------------------------------------------------------- addresses

def test_address_from_ansible_host():
    p = prof("g", {"ansible_host": "10.0.0.2", "openpai_machine_type": "k80"})
    assert (p["address"], p["address_source"]) == ("10.0.0.2", "inventory")


def test_openpai_address_wins_over_ansible_host():
    p = prof("g", {"ansible_host": "203.0.113.9", "openpai_address": "10.0.0.2", "openpai_machine_type": "k80"})
    assert p["address"] == "10.0.0.2"


def test_hostname_that_is_an_ip_is_the_address():
    assert prof("10.0.0.3", {"openpai_machine_type": "cpu"}, {"pai_worker": ["10.0.0.3"]})["address"] == "10.0.0.3"


def test_non_ipv4_values_are_skipped_not_used():
    # A container name in ansible_host (docker connection) is not an address.
    p = prof("g", {"ansible_host": "openpai-lab-gpu", "openpai_address": "gpu.example", "openpai_machine_type": "k80"})
    assert (p["address"], p["address_source"]) == (None, None)


def test_the_one_fallback_is_the_default_ipv4_fact():
    facts = {"default_ipv4": {"address": "172.18.0.4"}}
    p = prof("g", {"ansible_host": "openpai-lab-gpu", "openpai_machine_type": "k80"}, facts=facts)
    assert (p["address"], p["address_source"]) == ("172.18.0.4", "facts")
    # ...but only when the inventory cannot tell.
    p = prof("g", {"ansible_host": "10.0.0.2", "openpai_machine_type": "k80"}, facts=facts)
    assert p["address"] == "10.0.0.2"


def test_hostname_only_inventory_without_facts_is_unresolved():
    hostvars = {"m": {"openpai_machine_type": "cpu"}, "g": {"ansible_host": "10.0.0.2"}, "c": {}}
    assert profile.unresolved_hosts(hostvars, GROUPS) == ["m", "c"]
    assert profile.cluster_addresses(hostvars, GROUPS) == {"m": None, "g": "10.0.0.2", "c": None}


# --------------------------------------------------------------------------- SKUs, roles, GPUs

def test_gpu_worker_profile():
    p = prof("g", {"ansible_host": "10.0.0.2", "openpai_machine_type": "k80"})
    assert p["gpu"] is True and p["gpu_count"] == 4 and p["gpu_model"] == "Tesla K80"
    assert p["groups"] == ["kube_node", "pai_worker"] and p["is_worker"] and p["is_kube_host"]
    assert not p["is_master"] and not p["is_kube_control_plane"]
    nm = p["nodemanager"]
    assert (nm["mem_mb"], nm["reserved_mb"], nm["memory_mb"], nm["vcores"], nm["gpus"]) == (38146, 3815, 34331, 23, 4)


def test_v1_computing_device_spelling():
    p = prof("g", {"openpai_machine_type": "v1gpu"})
    assert p["gpu"] and p["gpu_count"] == 2 and p["gpu_model"] == "V100"


def test_cpu_worker_profile():
    p = prof("c", {"ansible_host": "10.0.0.3", "openpai_machine_type": "cpu"})
    assert p["gpu"] is False and p["gpu_count"] == 0
    assert p["nodemanager"]["memory_mb"] == 16384 - 2048 and p["nodemanager"]["vcores"] == 7


def test_master_only_host():
    p = prof("m", {"ansible_host": "10.0.0.1", "openpai_machine_type": "cpu"})
    assert p["is_master"] and p["is_kube_control_plane"] and not p["is_worker"]
    # What a NodeManager would get there, with the master's reserve (only workers run one).
    assert p["nodemanager"]["memory_mb"] == 16384 - 2048 - 8192


def test_all_in_one_reserves_for_the_master():
    groups = {g: ["one"] for g in model.CLUSTER_GROUPS}
    p = prof("one", {"ansible_host": "10.0.0.9", "openpai_machine_type": "aio"}, groups)
    assert p["groups"] == list(model.CLUSTER_GROUPS)
    assert p["nodemanager"]["reserved_mb"] == 6554 + 8192 and p["nodemanager"]["vcores"] == 16 - 3
    assert p["gpu"] and p["nodemanager"]["gpus"] == 1


def test_unknown_sku_gives_no_gpus_and_no_nodemanager():
    # The validation play refuses such a host first; a role used alone still gets a profile.
    p = prof("g", {"openpai_machine_type": "nope", "ansible_host": "10.0.0.2"})
    assert p["sku"] is None and p["gpu"] is False and p["nodemanager"] is None and p["address"] == "10.0.0.2"


def test_broken_sku_is_a_model_error_naming_it():
    with pytest.raises(model.ModelError, match="SKU 'bad': field 'mem'"):
        profile.host_profile("g", {"openpai_machine_type": "bad"}, GROUPS, {"bad": {"cpu": {"vcore": 2}}},
                             model.default_policy())


# --------------------------------------------------------------------------- the cluster

def test_cluster_profile_master_control_plane_and_apiserver():
    hostvars = {"m": {"ansible_host": "10.0.0.1"}, "g": {"ansible_host": "10.0.0.2"}}
    c = profile.cluster_profile(hostvars, GROUPS)
    assert c == {"master": "m", "master_address": "10.0.0.1", "control_plane": "m",
                 "apiserver_address": "10.0.0.1"}


def test_cluster_profile_uses_the_control_planes_facts_when_the_inventory_cannot_tell():
    hostvars = {"m": {"ansible_host": "lab-m", "ansible_facts": {"default_ipv4": {"address": "172.18.0.2"}}}}
    assert profile.cluster_profile(hostvars, GROUPS)["apiserver_address"] == "172.18.0.2"
    assert profile.cluster_profile({"m": {"ansible_host": "lab-m"}}, GROUPS)["apiserver_address"] is None


def test_cluster_without_kubernetes_has_no_apiserver():
    c = profile.cluster_profile({"m": {"ansible_host": "10.0.0.1"}}, {"pai_master": ["m"], "pai_worker": ["m"]})
    assert c["control_plane"] is None and c["apiserver_address"] is None and c["master_address"] == "10.0.0.1"


def test_expected_nodemanagers_and_maxima():
    hostvars = {"g": {"openpai_machine_type": "k80"}, "c": {"openpai_machine_type": "cpu"}}
    nms = profile.expected_nodemanagers(hostvars, GROUPS, SKUS, model.default_policy())
    assert sorted(nms) == ["c", "g"]
    assert model.scheduler_maxima(nms.values()) == {"memory_mb": 34331, "vcores": 23, "gpus": 4}


# --------------------------------------------------------------------------- the YARN policy, defined once

def test_policy_defaults_are_the_role_defaults_and_argument_specs():
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    in_defaults = {k[len(model.POLICY_PREFIX):] for k in defaults if k.startswith(model.POLICY_PREFIX)}
    assert in_defaults == set(model.POLICY_KEYS)
    for key in model.POLICY_KEYS:
        name = model.POLICY_PREFIX + key
        assert model.default_policy()[key] == defaults[name] == specs[name]["default"], name


def test_policy_overrides_and_bad_values():
    pol = model.policy_from_vars({"openpai_yarn_reserve_min_mb": "4096", "openpai_yarn_reserve_ratio": 0.2})
    assert pol["reserve_min_mb"] == 4096 and pol["reserve_ratio"] == 0.2
    with pytest.raises(model.ModelError) as err:
        model.policy_from_vars({"openpai_yarn_reserve_vcores": float("inf"), "openpai_yarn_master_reserve_mb": 1.5,
                                "openpai_yarn_reserve_ratio": float("nan")})
    lines = str(err.value).splitlines()
    assert len(lines) == 3 and all(line.startswith("openpai_yarn_") for line in lines)


def test_the_hosts_own_group_names_give_the_same_roles_as_the_group_lists():
    hv = {"ansible_host": "10.0.0.1", "openpai_machine_type": "cpu", "group_names": ["pai_master", "kube_control_plane"]}
    by_names = prof("m", hv, groups={})  # no group lists: group_names alone decide
    by_lists = prof("m", {k: v for k, v in hv.items() if k != "group_names"})
    assert by_names["groups"] == by_lists["groups"] == ["kube_control_plane", "pai_master"]
    assert by_names["is_master"] and by_names["is_kube_control_plane"] and not by_names["is_worker"]


# --------------------------------------------------------------------------- the Hadoop firewall's sources

def test_trusted_sources_are_loopback_every_host_then_the_networks():
    hostvars = {"m": {"ansible_host": "10.0.0.10"}, "g": {"ansible_host": "10.0.0.9"},
                "c": {"ansible_host": "lab-c", "ansible_facts": {"default_ipv4": {"address": "172.18.0.4"}}}}
    sources = profile.trusted_sources(hostvars, GROUPS, {"kubernetes_pod_subnet": ["10.244.0.0/16"],
                                                         "openpai_admin_networks": ["192.0.2.7", "10.0.0.9"]})
    # Addresses in numeric order (10.0.0.9 before 10.0.0.10), an admin address as its /32, no repeats.
    assert sources == ["127.0.0.0/8", "10.0.0.9/32", "10.0.0.10/32", "172.18.0.4/32", "10.244.0.0/16",
                       "192.0.2.7/32"]


def test_trusted_sources_name_the_hosts_without_an_address():
    hostvars = {"m": {"ansible_host": "10.0.0.1"}, "g": {"ansible_host": "lab-g"}, "c": {}}
    with pytest.raises(model.ModelError, match=r"host\(s\) c, g is unknown"):
        profile.trusted_sources(hostvars, GROUPS)


def test_trusted_sources_name_each_bad_network_entry():
    hostvars = {h: {"ansible_host": "10.0.0.%d" % i} for i, h in enumerate(("m", "g", "c"), 1)}
    with pytest.raises(model.ModelError) as caught:
        profile.trusted_sources(hostvars, GROUPS, {"openpai_admin_networks": ["10.1.0.0/16", "10.1.2.3/16", "lab",
                                                                               7]})
    message = str(caught.value)
    assert "field 'openpai_admin_networks[1]': '10.1.2.3/16'" in message
    assert "field 'openpai_admin_networks[2]': 'lab'" in message
    assert "field 'openpai_admin_networks[3]': 7" in message
    assert "[0]" not in message
