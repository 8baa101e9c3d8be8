# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Filters of the host layer (roles common, docker, containerd, nvidia_*)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: hostprep
short_description: Host layer helpers (JSON merge, sysctl plan, GPU driver plan)
description:
  - C(deep_merge) merges two mappings recursively, the second winning (daemon.json merge).
  - C(sysctl_plan) splits wanted sysctls into those to set, those skipped on a container host and missing ones.
  - C(sysctl_path) gives the /proc/sys path of a sysctl name.
  - C(driver_plan) decides what the nvidia_driver role does (keep, install, skip) from GPU facts and the SKU.
author: openpai-ansible contributors
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.module_utils import gpu, hostprep


def deep_merge(base, overlay):
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        raise AnsibleFilterError("deep_merge expects two mappings, got %s and %s"
                                 % (type(base).__name__, type(overlay).__name__))
    return hostprep.deep_merge(base, overlay)


def driver_plan(facts, sku, branch, options=None):
    """``sku``: a resolved SKU (filter openpai.cluster.machine_sku)."""
    return gpu.driver_plan(facts, sku, branch, options)


class FilterModule:
    def filters(self):
        return {
            "deep_merge": deep_merge,
            "sysctl_plan": hostprep.sysctl_plan,
            "sysctl_path": hostprep.sysctl_path,
            "driver_plan": driver_plan,
        }
