# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""GPU detection without a driver: NVIDIA devices on the PCI bus (sysfs), and,
when a driver answers, what nvidia-smi reports. Pure functions over a sysfs
root so that tests can use fixture trees."""

from __future__ import annotations

import os

NVIDIA_VENDOR = 0x10de
DISPLAY_CLASS = 0x03  # PCI base class "display controller" (VGA 0x0300, 3D 0x0302)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def pci_gpus(sysfs_root="/sys"):
    """NVIDIA display-class devices under ``<sysfs_root>/bus/pci/devices``, sorted by address."""
    base = os.path.join(sysfs_root, "bus", "pci", "devices")
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return []
    found = []
    for address in entries:
        vendor, klass = _read(os.path.join(base, address, "vendor")), _read(os.path.join(base, address, "class"))
        try:
            vendor_id, class_id = int(vendor, 16), int(klass, 16)
        except (TypeError, ValueError):
            continue
        if vendor_id != NVIDIA_VENDOR or (class_id >> 16) != DISPLAY_CLASS:
            continue
        driver = os.path.join(base, address, "driver")
        found.append({
            "address": address,
            "device_id": _read(os.path.join(base, address, "device")) or "",
            "class": klass,
            "driver": os.path.basename(os.path.realpath(driver)) if os.path.exists(driver) else "",
        })
    return found


def parse_smi_query(text):
    """Parse ``nvidia-smi --query-gpu=index,name,uuid,driver_version --format=csv,noheader``."""
    gpus = []
    for line in (text or "").splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        gpus.append({"index": int(fields[0]), "name": fields[1], "uuid": fields[2], "driver_version": fields[3]})
    return gpus


def loaded_modules(proc_root="/proc"):
    text = _read(os.path.join(proc_root, "modules")) or ""
    return sorted({line.split()[0] for line in text.splitlines() if line.strip()})


def driver_branch(version):
    """The branch of a driver version: '550.54.15' -> '550'."""
    return str(version or "").strip().split(".")[0]


def driver_plan(facts, sku, branch, options=None):
    """What role nvidia_driver does on one host.

    ``facts``: the ``openpai_gpu`` fact (module gpu_facts). ``sku``: the host's resolved SKU
    (gpu_count). ``branch``: the pinned driver branch, e.g. '550'. ``options``: ``in_container``
    (the host is a container: no kernel module can be installed), ``allow_reboot``.

    Returns ``action`` (skip, keep, install or fail), ``reason`` (one line for the operator),
    ``reboot_needed`` (an install only takes effect after a reboot: Nouveau or another
    driver holds the GPUs), ``reboot`` (reboot_needed and allowed) and ``expected_gpus``."""
    options = options or {}
    facts = facts or {}
    wanted = int(sku.get("gpu_count") or 0)
    pci = int(facts.get("pci_count") or 0)
    smi_ok = bool(facts.get("smi_ok"))
    seen = int(facts.get("smi_count") or 0)
    have = driver_branch(facts.get("driver_version"))
    branch = str(branch)
    plan = {"action": "skip", "reason": "", "reboot_needed": False, "reboot": False, "expected_gpus": wanted,
            "branch": branch, "installed_branch": have}
    name = sku.get("name", "?")
    if wanted == 0:
        plan["reason"] = "CPU host: SKU %s has no GPUs, no NVIDIA driver needed" % name
        if pci:
            plan["reason"] += " (%d NVIDIA GPU(s) on the PCI bus are left alone)" % pci
        return plan
    if smi_ok and have == branch and seen >= wanted:
        plan.update(action="keep", reason="driver %s (branch %s) already answers for %d GPU(s): kept as it is"
                    % (facts.get("driver_version"), branch, seen))
        return plan
    if smi_ok and have == branch:
        plan.update(action="fail", reason="driver branch %s answers but nvidia-smi sees %d GPU(s); SKU %s wants %d"
                    % (branch, seen, name, wanted))
        return plan
    if options.get("in_container"):
        plan.update(action="fail", reason="SKU %s wants %d GPU(s) and this host is a container: a driver cannot be "
                    "installed here (%s)" % (name, wanted, "driver branch %s answers, %s pinned" % (have, branch)
                                             if smi_ok else "no working nvidia-smi"))
        return plan
    if pci < wanted:
        plan.update(action="fail", reason="SKU %s wants %d GPU(s) but the PCI bus shows %d NVIDIA GPU(s)"
                    % (name, wanted, pci))
        return plan
    plan["action"] = "install"
    plan["reason"] = ("driver branch %s answers, %s pinned: installing branch %s" % (have, branch, branch)
                      if smi_ok else "no working driver: installing branch %s" % branch)
    # A loaded Nouveau or an older nvidia module holds the GPUs until the next boot.
    plan["reboot_needed"] = bool(facts.get("nouveau_loaded") or facts.get("nvidia_loaded"))
    plan["reboot"] = plan["reboot_needed"] and bool(options.get("allow_reboot"))
    return plan
