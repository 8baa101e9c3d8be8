"""The cluster model: quantities, SKUs, the design's YARN arithmetic, virtual clusters."""

import pytest

from ansible_collections.openpai.cluster.plugins.module_utils import model

KI, MI, GI, TI = 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4


@pytest.mark.parametrize("text,expected", [
    ("1Ki", KI), ("3Mi", 3 * MI), ("40Gi", 40 * GI), ("2Ti", 2 * TI), ("1Pi", 1024 ** 5), ("1Ei", 1024 ** 6),
    ("1k", 1000), ("1K", 1000), ("5M", 5 * 10 ** 6), ("40G", 40 * 10 ** 9), ("2T", 2 * 10 ** 12),
    ("1P", 10 ** 15), ("1E", 10 ** 18),
    ("40", 40 * GI), (40, 40 * GI), (1.5, int(1.5 * GI)), ("0.5Gi", GI // 2),
    ("60GB", 60 * 10 ** 9), ("8MB", 8 * 10 ** 6), ("2KB", 2000), ("1TB", 10 ** 12),
    ("64GiB", 64 * GI), ("512MiB", 512 * MI), (" 16Gi ", 16 * GI), ("16 Gi", 16 * GI),
])
def test_quantity_every_suffix(text, expected):
    assert model.parse_quantity(text) == expected


@pytest.mark.parametrize("bad,words", [
    ("40Q", "unknown unit 'Q'"), ("lots", "is not a quantity"), ("", "is not a quantity"),
    ("-4G", "is not a quantity"), ("0G", "greater than zero"), (None, "expected a quantity"),
    (True, "expected a quantity"), ([40], "expected a quantity"), ("4gi", "unknown unit 'gi'"),
])
def test_quantity_rejects(bad, words):
    with pytest.raises(model.ModelError) as exc:
        model.parse_quantity(bad, "SKU 'x': field 'mem'")
    assert words in str(exc.value)
    assert "field 'mem'" in str(exc.value)


def test_mib_is_floor_of_bytes():
    assert model.quantity_mib("40G") == 38146  # 40e9 / 2^20 = 38146.97
    assert model.quantity_mib("1M") == 0


def sku(mem, vcore, gpus=0, name="s"):
    raw = {"mem": mem, "cpu": {"vcore": vcore}}
    if gpus:
        raw["gpu"] = {"type": "Tesla K80", "count": gpus}
    return model.resolve_sku(name, raw)


def test_design_example_pure_worker():
    res = model.nodemanager_resources(sku("40G", 24, 4))
    assert res == {"mem_mb": 38146, "reserved_mb": 3815, "memory_mb": 34331, "vcores": 23, "gpus": 4,
                   "gpu_model": "Tesla K80"}


def test_all_in_one_adds_master_reserve():
    res = model.nodemanager_resources(sku("40G", 24, 4), is_master=True)
    assert res["reserved_mb"] == 3815 + 8192
    assert res["memory_mb"] == 38146 - 3815 - 8192
    assert res["vcores"] == 24 - 1 - 2


def test_small_machine_uses_minimum_reserve():
    res = model.nodemanager_resources(sku("16Gi", 8))
    assert res["reserved_mb"] == 2048  # 10% of 16384 is 1639 < 2048
    assert res["memory_mb"] == 14336
    assert res["vcores"] == 7


def test_reserve_ratio_rounds_up():
    # 10% of 20481 MiB is 2048.1 -> 2049
    res = model.nodemanager_resources({"mem_mib": 20481, "vcore": 4, "gpu_count": 0})
    assert res["reserved_mb"] == 2049


def test_policy_is_overridable_by_variables():
    policy = model.policy_from_vars({"openpai_yarn_reserve_min_mb": "4096", "openpai_yarn_reserve_ratio": 0.2,
                                     "openpai_yarn_master_reserve_mb": 0, "openpai_yarn_reserve_vcores": 2})
    res = model.nodemanager_resources(sku("16Gi", 8), is_master=True, policy=policy)
    assert res["reserved_mb"] == 4096
    assert res["vcores"] == 8 - 2 - 2


def test_gpu_spellings_v014_and_v1():
    old = model.resolve_sku("a", {"mem": "8Gi", "cpu": {"vcore": 4}, "gpu": {"type": "Tesla K80", "count": 4}})
    new = model.resolve_sku("b", {"mem": "8Gi", "cpu": {"vcore": 4},
                                  "computing-device": {"type": "nvidia.com/gpu", "model": "K80", "count": 2}})
    assert (old["gpu_count"], old["gpu_model"], old["gpu_type"]) == (4, "Tesla K80", "nvidia.com/gpu")
    assert (new["gpu_count"], new["gpu_model"], new["gpu_type"]) == (2, "K80", "nvidia.com/gpu")
    cpu = model.resolve_sku("c", {"mem": "8Gi", "cpu": {"vcore": 4}})
    assert cpu["gpu_count"] == 0


def test_sku_collects_every_problem():
    with pytest.raises(model.ModelError) as exc:
        model.resolve_sku("bad", {"memory": "8Gi", "cpu": {"vcores": 4}, "gpu": {"count": -1}})
    lines = str(exc.value).splitlines()
    assert any("unknown field 'memory'" in line for line in lines)
    assert any("field 'mem' is missing" in line for line in lines)
    assert any("unknown field 'cpu.vcores'" in line for line in lines)
    assert any("gpu.count" in line for line in lines)
    assert all(line.startswith("SKU 'bad'") for line in lines)


def test_scheduler_maxima_are_the_largest_worker():
    a = model.nodemanager_resources(sku("40G", 24, 4))
    b = model.nodemanager_resources(sku("256Gi", 64, 0))
    assert model.scheduler_maxima([a, b]) == {"memory_mb": b["memory_mb"], "vcores": 63, "gpus": 4}
    assert model.scheduler_maxima([]) == {"memory_mb": 0, "vcores": 0, "gpus": 0}


def test_virtual_cluster_queues():
    props = model.virtual_cluster_queues({"default": {"capacity": 60}, "vc2": {"capacity": 40,
                                                                               "max-capacity": 80}})
    assert props["yarn.scheduler.capacity.root.queues"] == "default,vc2"
    assert props["yarn.scheduler.capacity.root.default.capacity"] == "60"
    assert props["yarn.scheduler.capacity.root.vc2.maximum-capacity"] == "80"
    # Without a submit ACL the queues are open (YARN's own default) ...
    assert props["yarn.scheduler.capacity.root.default.acl_submit_applications"] == "*"
    # ... the role gives the REST server's user and the admins' group; an entry's own ACL wins.
    closed = model.virtual_cluster_queues({"default": {"capacity": 60},
                                           "vc2": {"capacity": 40, "acl-submit-applications": "bob"}},
                                          "pai hadoop")
    assert closed["yarn.scheduler.capacity.root.default.acl_submit_applications"] == "pai hadoop"
    assert closed["yarn.scheduler.capacity.root.vc2.acl_submit_applications"] == "bob"
    # One YARN user runs every job: it may grow to the queue's maximum (rounded up).
    assert props["yarn.scheduler.capacity.root.default.user-limit-factor"] == "1.67"
    assert props["yarn.scheduler.capacity.root.vc2.user-limit-factor"] == "2"
    assert model.virtual_cluster_problems({"a": {"capacity": 33.3}, "b": {"capacity": 66.7}}) == []
    assert "sum to 90" in model.virtual_cluster_problems({"a": {"capacity": 50}, "b": {"capacity": 40}})[0]


@pytest.mark.parametrize("name,ok", [
    ("pai-master", True), ("node1.lab.example", True), ("192.168.1.11", True), ("a", True),
    ("Pai-Master", False), ("pai_master", False), ("-pai", False), ("pai-", False), ("", False),
    ("a" * 64, False),
])
def test_rfc1123_hostnames(name, ok):
    assert model.valid_hostname(name) is ok


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_quantity_rejects_non_finite_numbers(bad):
    with pytest.raises(model.ModelError) as exc:
        model.parse_quantity(bad, "SKU 'x': field 'mem'")
    assert "SKU 'x': field 'mem': expected a finite quantity" in str(exc.value)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), "inf", "Infinity"])
def test_whole_numbers_reject_non_finite(bad):
    with pytest.raises(model.ModelError) as exc:
        model.resolve_sku("s", {"mem": "8Gi", "cpu": {"vcore": bad}})
    assert "SKU 's': field 'cpu.vcore': expected a whole number" in str(exc.value)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), "inf", "nan", "Infinity", "-Infinity", True])
def test_capacity_rejects_non_finite(bad):
    problems = model.virtual_cluster_problems({"a": {"capacity": bad}, "b": {"capacity": 50, "max-capacity": bad}})
    assert problems == ["openpai_virtual_clusters.a: field 'capacity' must be a number (a finite percentage), "
                        "got %r" % (bad,),
                        "openpai_virtual_clusters.b: field 'max-capacity' must be a number (a finite percentage), "
                        "got %r" % (bad,)]


GROUPS = {"kube_control_plane": ["m"], "kube_node": ["w", "d"], "pai_master": ["m"], "pai_worker": ["w", "d"]}
SKUS = {"openpai_machine_skus": {"s": {"mem": "16Gi", "cpu": {"vcore": 8}}}}


def test_a_host_reached_over_ssh_needs_an_address():
    hostvars = {"m": {"openpai_machine_type": "s", "ansible_host": "10.0.0.1"},
                "w": {"openpai_machine_type": "s", "ansible_connection": "ssh"},
                "d": {"openpai_machine_type": "s", "ansible_connection": "community.docker.docker"}}
    assert model.inventory_problems(hostvars, GROUPS, SKUS) == [
        "host 'w': field 'ansible_host' is missing (the host's IPv4 address; or name the host by its address, "
        "or set openpai_address)"]
    hostvars["w"]["openpai_address"] = "10.0.0.2"
    assert model.inventory_problems(hostvars, GROUPS, SKUS) == []
    hostvars["w"]["openpai_address"] = "w.example"
    assert model.inventory_problems(hostvars, GROUPS, SKUS) == [
        "host 'w': field 'openpai_address': 'w.example' is not a valid IPv4 address"]


def test_layout_problems_without_machines_come_alone():
    assert model.inventory_problems({}, {}, {"openpai_inventory_problems": ["layout.yaml: the file is empty"]}) == [
        "layout.yaml: the file is empty"]


def test_further_control_plane_hosts_are_a_warning():
    assert model.inventory_warnings(GROUPS) == []
    warnings = model.inventory_warnings(dict(GROUPS, kube_control_plane=["m", "c2", "c3"]))
    assert warnings == ["group 'kube_control_plane': 3 hosts; m runs the Kubernetes control plane, c2, c3 join as "
                        "workers until the control plane is highly available (not supported yet)"]


def test_admin_networks_are_validated_before_any_host_is_touched():
    hostvars = {h: {"openpai_machine_type": "s", "ansible_host": "10.0.0.%d" % i}
                for i, h in enumerate(("m", "w", "d"), 1)}
    assert model.inventory_problems(hostvars, GROUPS, dict(SKUS, openpai_admin_networks=["192.0.2.0/24"])) == []
    assert model.inventory_problems(hostvars, GROUPS, dict(SKUS, openpai_admin_networks="192.0.2.0/24")) == [
        "field 'openpai_admin_networks': must be a list of IPv4 addresses or networks (CIDR), got '192.0.2.0/24'"]
    assert model.inventory_problems(hostvars, GROUPS, dict(SKUS, openpai_admin_networks=["192.0.2.1/24", "::1"])) == [
        "field 'openpai_admin_networks[0]': '192.0.2.1/24' is not an IPv4 address or network in CIDR notation "
        "(such as 192.0.2.10 or 192.0.2.0/24, no host bits set)",
        "field 'openpai_admin_networks[1]': '::1' is not an IPv4 address or network in CIDR notation "
        "(such as 192.0.2.10 or 192.0.2.0/24, no host bits set)"]
