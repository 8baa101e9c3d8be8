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
