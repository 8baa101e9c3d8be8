# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Host layer decisions (roles common, docker, containerd): pure functions with unit tests."""

from __future__ import annotations

# Sysctl prefixes the kernel keeps per network namespace: a container may set them
# without touching its host. Everything else (vm.*, fs.*, kernel.*) is host-wide.
NAMESPACED_SYSCTL_PREFIXES = ("net.",)


def deep_merge(base, overlay):
    """``base`` with ``overlay`` merged in: mappings merge recursively, anything else
    (lists, scalars) in ``overlay`` replaces the value in ``base``. Inputs are not changed.

    The result is made of new plain dicts and lists; scalars (immutable) are shared.
    Nothing is deep-copied: a lazy template container of Ansible carries its templar
    and with it every variable of the host (hostvars of the whole inventory), so a
    ``copy.deepcopy`` of one costs as much as the inventory is large."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return _containers_copied(overlay)
    merged = {key: _containers_copied(value) for key, value in base.items()}
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _containers_copied(value)
    return merged


def _containers_copied(value):
    """``value`` with every dict and list (Ansible's lazy ones included) rebuilt as a plain one."""
    if isinstance(value, dict):
        return {key: _containers_copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_containers_copied(item) for item in value]
    return value


def sysctl_plan(wanted, existing_keys, in_container):
    """Which sysctls to set on this host.

    ``wanted``: name -> value. ``existing_keys``: names the kernel offers (a file under
    /proc/sys). On a container host only namespaced keys are set: the others would change
    the host kernel that every container shares. Returns ``apply`` (name -> value),
    ``host_wide`` (names skipped because the host is a container) and ``missing``
    (names the kernel does not offer, e.g. bridge-nf-call-* before br_netfilter)."""
    existing = set(existing_keys or ())
    plan = {"apply": {}, "host_wide": [], "missing": []}
    for name in sorted(wanted or {}):
        if in_container and not name.startswith(NAMESPACED_SYSCTL_PREFIXES):
            plan["host_wide"].append(name)
        elif name not in existing:
            plan["missing"].append(name)
        else:
            value = wanted[name]
            plan["apply"][name] = str(int(value)) if isinstance(value, bool) else str(value)
    return plan


def sysctl_path(name):
    """/proc/sys path of a sysctl name (dots are separators, as sysctl(8) reads them)."""
    return "/proc/sys/" + name.replace(".", "/")
