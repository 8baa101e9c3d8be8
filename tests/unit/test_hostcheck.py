"""Fact-based preflight decisions (module_utils/hostcheck.py)."""

from ansible_collections.openpai.cluster.plugins.module_utils import hostcheck, model

SKU = model.resolve_sku("k80", {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}})


def facts(**over):
    base = {"distribution": "Ubuntu", "distribution_version": "22.04", "distribution_major_version": "22",
            "memtotal_mb": 38500, "processor_vcpus": 24, "swaptotal_mb": 0,
            "mounts": [{"mount": "/", "size_available": 200 * (1 << 30)}],
            "openpai_gpu": {"pci_count": 4, "smi_ok": True, "smi_count": 4}}
    base.update(over)
    return base


def test_matching_host_is_clean():
    assert hostcheck.host_checks(facts(), SKU) == {"errors": [], "warnings": []}


def test_debian_12_point_release_is_supported():
    report = hostcheck.host_checks(facts(distribution="Debian", distribution_version="12.15",
                                         distribution_major_version="12"), SKU)
    assert report["errors"] == []


def test_each_mismatch_is_one_error():
    report = hostcheck.host_checks(facts(memtotal_mb=16000, processor_vcpus=8,
                                         openpai_gpu={"pci_count": 2, "smi_ok": True, "smi_count": 2},
                                         distribution="CentOS", distribution_version="7"), SKU)
    errors = report["errors"]
    assert len(errors) == 5, errors
    assert errors[0].startswith("OS CentOS 7 is not supported")
    assert "says mem 38146 MiB but the host has 16000 MiB" in errors[1]
    assert "says cpu.vcore 24 but the host has 8 vCPUs" in errors[2]
    assert "says 4 GPU(s) but the PCI bus has 2" in errors[3]
    assert "nvidia-smi reports 2" in errors[4]


def test_memory_tolerance():
    # The kernel keeps some memory: 5% below the SKU is fine, more is not.
    assert hostcheck.host_checks(facts(memtotal_mb=36400), SKU)["errors"] == []
    assert hostcheck.host_checks(facts(memtotal_mb=36000), SKU)["errors"] != []


def test_lab_turns_hardware_errors_into_warnings_but_not_os():
    report = hostcheck.host_checks(facts(processor_vcpus=2, distribution="Fedora"), SKU, {"lab": True})
    assert len(report["errors"]) == 1 and "Fedora" in report["errors"][0]
    assert any("vCPUs" in w for w in report["warnings"])


def test_swap_and_disk():
    report = hostcheck.host_checks(facts(swaptotal_mb=2048, mounts=[{"mount": "/", "size_available": 5 << 30}]),
                                   SKU)
    assert report["warnings"] == ["swap is on (2048 MB); the common role turns it off, as kubelet requires"]
    assert report["errors"] == ["only 5 GiB free on / (at least 20 GiB needed for images and HDFS)"]
