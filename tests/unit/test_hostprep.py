"""Host layer helpers: daemon.json merge, sysctl plan, GPU driver plan."""

import pytest

from ansible_collections.openpai.cluster.plugins.filter import hostprep as hostprep_filter
from ansible_collections.openpai.cluster.plugins.module_utils import gpu, hostprep
from ansible.errors import AnsibleFilterError


def test_deep_merge_keeps_existing_keys_and_overlay_wins():
    base = {"debug": True, "log-opts": {"max-size": "10m", "labels": "a"}, "registry-mirrors": ["x"]}
    overlay = {"log-opts": {"max-size": "100m"}, "registry-mirrors": ["y"], "exec-opts": ["a"]}
    merged = hostprep.deep_merge(base, overlay)
    assert merged == {"debug": True, "log-opts": {"max-size": "100m", "labels": "a"},
                      "registry-mirrors": ["y"], "exec-opts": ["a"]}
    assert base["log-opts"]["max-size"] == "10m"  # inputs unchanged


def test_deep_merge_replaces_a_mapping_by_a_scalar_and_back():
    assert hostprep.deep_merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
    assert hostprep.deep_merge({"a": 2}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert hostprep.deep_merge({}, {}) == {}


class _NoDeepcopy(dict):
    """A mapping that fails the test if anything deep-copies it (as Ansible's lazy
    containers are costly to copy: each carries the templar and every variable)."""

    def __deepcopy__(self, memo):
        raise AssertionError("deep_merge deep-copied a container")


def test_deep_merge_never_deep_copies_and_returns_plain_containers():
    base = _NoDeepcopy({"log-opts": _NoDeepcopy({"max-size": "10m"}), "mirrors": ["a"]})
    overlay = _NoDeepcopy({"log-opts": _NoDeepcopy({"max-file": "3"}), "runtimes": _NoDeepcopy({"n": {"p": 1}})})
    merged = hostprep.deep_merge(base, overlay)
    assert merged == {"log-opts": {"max-size": "10m", "max-file": "3"}, "mirrors": ["a"],
                      "runtimes": {"n": {"p": 1}}}
    assert type(merged) is dict and type(merged["log-opts"]) is dict and type(merged["runtimes"]) is dict
    merged["mirrors"].append("b")
    merged["runtimes"]["n"]["p"] = 2
    assert base["mirrors"] == ["a"] and overlay["runtimes"]["n"]["p"] == 1  # inputs unchanged


def test_deep_merge_cost_does_not_depend_on_what_a_value_refers_to():
    """A scalar is shared, not copied: an object standing for a large context stays one object."""
    marker = object()
    merged = hostprep.deep_merge({"a": marker}, {"b": [marker]})
    assert merged["a"] is marker and merged["b"][0] is marker


def test_deep_merge_filter_refuses_non_mappings():
    with pytest.raises(AnsibleFilterError, match="two mappings"):
        hostprep_filter.deep_merge([], {})


def test_sysctl_plan_on_a_real_host():
    wanted = {"net.ipv4.ip_forward": 1, "fs.inotify.max_user_watches": 524288,
              "net.bridge.bridge-nf-call-iptables": True}
    plan = hostprep.sysctl_plan(wanted, ["net.ipv4.ip_forward", "fs.inotify.max_user_watches"], False)
    assert plan["apply"] == {"net.ipv4.ip_forward": "1", "fs.inotify.max_user_watches": "524288"}
    assert plan["missing"] == ["net.bridge.bridge-nf-call-iptables"]
    assert plan["host_wide"] == []


def test_sysctl_plan_in_a_container_sets_only_namespaced_keys():
    wanted = {"net.ipv4.ip_forward": "1", "fs.inotify.max_user_instances": 8192, "vm.swappiness": 0}
    plan = hostprep.sysctl_plan(wanted, list(wanted), True)
    assert plan["apply"] == {"net.ipv4.ip_forward": "1"}
    assert plan["host_wide"] == ["fs.inotify.max_user_instances", "vm.swappiness"]
    assert plan["missing"] == []


def test_sysctl_path():
    assert hostprep.sysctl_path("net.bridge.bridge-nf-call-iptables") == "/proc/sys/net/bridge/bridge-nf-call-iptables"


GPU_SKU = {"name": "k80-node", "gpu_count": 4}
CPU_SKU = {"name": "cpu-node", "gpu_count": 0}


def facts(**kw):
    base = {"pci_count": 0, "smi_present": False, "smi_ok": False, "smi_count": 0, "driver_version": "",
            "nouveau_loaded": False, "nvidia_loaded": False}
    base.update(kw)
    return base


def test_driver_plan_cpu_host_skips():
    plan = gpu.driver_plan(facts(), CPU_SKU, "550")
    assert plan["action"] == "skip" and "CPU host" in plan["reason"]
    assert "left alone" in gpu.driver_plan(facts(pci_count=1), CPU_SKU, "550")["reason"]


def test_driver_plan_keeps_a_working_driver_of_the_branch():
    plan = gpu.driver_plan(facts(pci_count=4, smi_present=True, smi_ok=True, smi_count=4,
                                 driver_version="550.54.15"), GPU_SKU, 550)
    assert plan["action"] == "keep" and not plan["reboot_needed"]


def test_driver_plan_keeps_in_a_container_with_the_fixture():
    # Lab GPU node: no PCI devices, the nvidia-smi fixture answers.
    plan = gpu.driver_plan(facts(smi_present=True, smi_ok=True, smi_count=4, driver_version="550.54.15"),
                           GPU_SKU, "550", {"in_container": True})
    assert plan["action"] == "keep"


def test_driver_plan_fails_when_too_few_gpus_answer():
    plan = gpu.driver_plan(facts(pci_count=4, smi_ok=True, smi_count=3, driver_version="550.1"), GPU_SKU, "550")
    assert plan["action"] == "fail" and "sees 3" in plan["reason"]


def test_driver_plan_installs_on_a_fresh_gpu_host():
    plan = gpu.driver_plan(facts(pci_count=4), GPU_SKU, "550", {"allow_reboot": True})
    assert plan["action"] == "install" and not plan["reboot_needed"] and not plan["reboot"]


def test_driver_plan_reboot_when_nouveau_holds_the_gpus():
    plan = gpu.driver_plan(facts(pci_count=4, nouveau_loaded=True), GPU_SKU, "550", {"allow_reboot": True})
    assert plan["action"] == "install" and plan["reboot_needed"] and plan["reboot"]
    plan = gpu.driver_plan(facts(pci_count=4, nouveau_loaded=True), GPU_SKU, "550", {"allow_reboot": False})
    assert plan["reboot_needed"] and not plan["reboot"]


def test_driver_plan_other_branch_is_replaced_with_a_reboot():
    plan = gpu.driver_plan(facts(pci_count=4, smi_present=True, smi_ok=True, smi_count=4, driver_version="535.1",
                                 nvidia_loaded=True), GPU_SKU, "550", {"allow_reboot": True})
    assert plan["action"] == "install" and plan["reboot"] and "535" in plan["reason"]


def test_driver_plan_container_without_driver_fails():
    plan = gpu.driver_plan(facts(), GPU_SKU, "550", {"in_container": True})
    assert plan["action"] == "fail" and "container" in plan["reason"]


def test_driver_plan_fails_when_the_pci_bus_lacks_gpus():
    plan = gpu.driver_plan(facts(pci_count=2), GPU_SKU, "550")
    assert plan["action"] == "fail" and "PCI bus shows 2" in plan["reason"]


def _pci(root, address, vendor, klass, device="0x102d", driver=None):
    dev = root / "bus" / "pci" / "devices" / address
    dev.mkdir(parents=True)
    (dev / "vendor").write_text(vendor + "\n")
    (dev / "class").write_text(klass + "\n")
    (dev / "device").write_text(device + "\n")
    if driver:
        target = root / "bus" / "pci" / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        (dev / "driver").symlink_to(target)


def test_driver_plan_from_a_fixture_sysfs_tree(tmp_path):
    _pci(tmp_path, "0000:04:00.0", "0x10de", "0x030200", driver="nouveau")
    _pci(tmp_path, "0000:05:00.0", "0x10de", "0x030000")
    _pci(tmp_path, "0000:06:00.0", "0x10de", "0x040300")  # NVIDIA audio: not a GPU
    _pci(tmp_path, "0000:07:00.0", "0x8086", "0x030000")  # Intel VGA
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "modules").write_text("nouveau 2424832 0 - Live 0x0\nvideo 65536 1 nouveau, Live 0x0\n")
    devices = gpu.pci_gpus(str(tmp_path))
    assert [d["address"] for d in devices] == ["0000:04:00.0", "0000:05:00.0"]
    assert devices[0]["driver"] == "nouveau"
    found = facts(pci_count=len(devices), nouveau_loaded="nouveau" in gpu.loaded_modules(str(tmp_path / "proc")))
    plan = gpu.driver_plan(found, {"name": "two", "gpu_count": 2}, "550", {"allow_reboot": False})
    assert plan["action"] == "install" and plan["reboot_needed"] and not plan["reboot"]


def test_driver_branch():
    assert gpu.driver_branch("550.54.15") == "550" and gpu.driver_branch(None) == ""
