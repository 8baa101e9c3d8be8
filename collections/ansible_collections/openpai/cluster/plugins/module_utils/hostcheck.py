# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Fact-based preflight: a host's real OS, memory, CPUs, GPUs, swap and disk
compared with what the inventory says. Returns errors and warnings; hardware
mismatches become warnings in a lab (node containers share one machine)."""

from __future__ import annotations

SUPPORTED_OS = {"Debian": ["12"], "Ubuntu": ["20.04", "22.04", "24.04"]}


def host_checks(facts, sku, options=None):
    opts = {"lab": False, "memory_tolerance": 0.05, "min_disk_gb": 20, "supported_os": SUPPORTED_OS}
    opts.update(options or {})
    errors, warnings = [], []
    hardware = warnings if opts["lab"] else errors

    distro = facts.get("distribution", "")
    version = str(facts.get("distribution_version", ""))
    major = str(facts.get("distribution_major_version", ""))
    allowed = opts["supported_os"].get(distro)
    if allowed is None or not (version in allowed or major in allowed):
        errors.append("OS %s %s is not supported (supported: %s)" % (
            distro or "unknown", version or "?",
            "; ".join("%s %s" % (d, ", ".join(v)) for d, v in sorted(opts["supported_os"].items()))))

    if int(facts.get("swaptotal_mb") or 0) > 0:
        warnings.append("swap is on (%s MB); the common role turns it off, as kubelet requires"
                        % facts.get("swaptotal_mb"))

    mem_real = int(facts.get("memtotal_mb") or 0)
    if sku.get("mem_mib") and mem_real and sku["mem_mib"] > mem_real * (1 + float(opts["memory_tolerance"])):
        hardware.append("SKU %r says mem %d MiB but the host has %d MiB; fix the SKU or the host's machine type"
                        % (sku["name"], sku["mem_mib"], mem_real))
    cpus = int(facts.get("processor_vcpus") or 0)
    if sku.get("vcore") and cpus and sku["vcore"] > cpus:
        hardware.append("SKU %r says cpu.vcore %d but the host has %d vCPUs" % (sku["name"], sku["vcore"], cpus))

    gpu = facts.get("openpai_gpu") or {}
    want = int(sku.get("gpu_count") or 0)
    pci = int(gpu.get("pci_count") or 0)
    if want != pci:
        hardware.append("SKU %r says %d GPU(s) but the PCI bus has %d NVIDIA GPU(s)" % (sku["name"], want, pci))
    if gpu.get("smi_ok") and int(gpu.get("smi_count") or 0) != want:
        hardware.append("SKU %r says %d GPU(s) but nvidia-smi reports %d" % (sku["name"], want, gpu["smi_count"]))

    free_gb = None
    for mount in facts.get("mounts") or ():
        if mount.get("mount") == "/":
            free_gb = int(mount.get("size_available") or 0) // (1 << 30)
    if free_gb is not None and free_gb < int(opts["min_disk_gb"]):
        hardware.append("only %d GiB free on / (at least %d GiB needed for images and HDFS)"
                        % (free_gb, int(opts["min_disk_gb"])))
    return {"errors": errors, "warnings": warnings}
