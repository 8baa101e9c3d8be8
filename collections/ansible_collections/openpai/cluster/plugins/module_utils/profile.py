# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Host and cluster profiles: every fact derived from the inventory, computed once.

A *host profile* answers, for one inventory host, the questions every role asks:
its address on the cluster network, its SKU, its groups and roles, whether it is a
GPU host, and its YARN NodeManager resources. The *cluster profile* answers the
cluster-wide ones: the Hadoop master, the first control-plane host, the API
server's address. Roles and templates read these (filters ``host_profile`` and
``cluster_profile``); no address rule or GPU formula lives anywhere else.

The address rule, in order (the first that gives an IPv4 address wins):

1. ``openpai_address`` (set by ``paictl lab up``, or by a user whose hosts are
   reached over SSH at another address than the cluster network's);
2. ``ansible_host``;
3. the inventory hostname itself (OpenPAI quick-start inventories name hosts by IP);
4. the one fallback for inventories that cannot tell (a molecule platform reached
   by container name): the host's default IPv4 address from its gathered facts.

Without facts (``paictl config render``, the validation play) step 4 is not
available and the address is ``None``: callers name such hosts instead of
inventing a value a deploy would not use.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible_collections.openpai.cluster.plugins.module_utils import model

# Host variables the profile reads (nothing else of a host is looked at).
HOST_KEYS = ("openpai_address", "ansible_host", "openpai_machine_type")

SOURCE_INVENTORY = "inventory"
SOURCE_FACTS = "facts"


def _get(mapping, key, default=None):
    """``mapping[key]`` for plain dicts and Ansible's lazy hostvars alike."""
    if mapping is None:
        return default
    try:
        value = mapping.get(key, default)
    except Exception:  # noqa: BLE001 - an undefined or failing lazy variable counts as absent
        return default
    return default if value is None else value


def _ipv4(value):
    text = "" if value is None else str(value).strip()
    return text if text and model.valid_ipv4(text) else None


def host_address(host, host_vars, facts=None):
    """``(address, source)`` of ``host`` by the rule above; ``(None, None)`` when unknown."""
    for key in ("openpai_address", "ansible_host"):
        address = _ipv4(_get(host_vars, key))
        if address:
            return address, SOURCE_INVENTORY
    address = _ipv4(host)
    if address:
        return address, SOURCE_INVENTORY
    default_ipv4 = _get(facts or {}, "default_ipv4") or {}
    address = _ipv4(_get(default_ipv4, "address"))
    if address:
        return address, SOURCE_FACTS
    return None, None


def host_groups(host, groups, group_names=None):
    """The cluster groups ``host`` belongs to, in the model's group order.

    ``group_names`` (the host's own groups, as Ansible gives them) answers in
    constant time; without it each group's host list is searched.
    """
    if group_names is not None:
        mine = set(group_names)
        return [g for g in model.CLUSTER_GROUPS if g in mine]
    return [g for g in model.CLUSTER_GROUPS if host in ((groups or {}).get(g) or ())]


def host_profile(host, host_vars, groups, skus, policy, facts=None):
    """The profile of ``host``.

    ``host_vars``: the host's variables (only HOST_KEYS are read); ``groups``: group
    name -> host names; ``skus``: ``openpai_machine_skus`` (raw); ``policy``: the YARN
    policy (``model.policy_from_vars``); ``facts``: the host's gathered facts or None.
    A host without a defined SKU gets ``sku: None``, no GPUs and no NodeManager resources
    (the validation play reports it before any deploy; a broken SKU raises
    ModelError naming it).
    """
    member = host_groups(host, groups, _get(host_vars, "group_names"))
    roles = {
        "is_master": model.GROUP_PAI_MASTER in member,
        "is_worker": model.GROUP_PAI_WORKER in member,
        "is_kube_control_plane": model.GROUP_KUBE_CONTROL_PLANE in member,
        "is_kube_node": model.GROUP_KUBE_NODE in member,
    }
    address, source = host_address(host, host_vars, facts)
    sku_name = _get(host_vars, "openpai_machine_type")
    sku = None
    if isinstance(skus, Mapping) and isinstance(sku_name, str) and sku_name in skus:
        sku = model.resolve_sku(sku_name, dict(skus[sku_name]))
    gpu_count = int(sku["gpu_count"]) if sku else 0
    return {
        "name": host,
        "address": address,
        "address_source": source,
        "groups": member,
        "sku": sku_name if sku else None,
        "mem_mib": sku["mem_mib"] if sku else None,
        "vcores": sku["vcore"] if sku else None,
        "gpu": gpu_count > 0,
        "gpu_count": gpu_count,
        "gpu_model": sku["gpu_model"] if sku else "",
        "is_master": roles["is_master"],
        "is_worker": roles["is_worker"],
        "is_kube_control_plane": roles["is_kube_control_plane"],
        "is_kube_node": roles["is_kube_node"],
        "is_kube_host": roles["is_kube_control_plane"] or roles["is_kube_node"],
        # What a NodeManager on this host gets (only pai_worker hosts run one).
        "nodemanager": model.nodemanager_resources(sku, roles["is_master"], policy) if sku else None,
    }


def cluster_profile(hostvars, groups):
    """Cluster-wide facts, reading only the two hosts they concern.

    The Hadoop master (first ``pai_master``) and its address, the first
    control-plane host and the API server's address (that host's address).
    ``hostvars``: host -> variables (plain dicts or Ansible's hostvars; a host's
    ``ansible_facts`` serve only the address fallback).
    """
    master = _first(groups, model.GROUP_PAI_MASTER)
    control_plane = _first(groups, model.GROUP_KUBE_CONTROL_PLANE)
    return {
        "master": master,
        "master_address": _address_of(hostvars, master),
        "control_plane": control_plane,
        "apiserver_address": _address_of(hostvars, control_plane),
    }


def _first(groups, group):
    members = (groups or {}).get(group) or ()
    return members[0] if len(members) else None


def _address_of(hostvars, host):
    if host is None:
        return None
    hv = _get(hostvars, host) or {}
    return host_address(host, hv, _get(hv, "ansible_facts"))[0]


def cluster_addresses(hostvars, groups):
    """Every cluster host's address (``None`` where neither inventory nor facts tell)."""
    return {host: _address_of(hostvars, host) for host in model.cluster_hosts(groups or {})}


LOOPBACK_NETWORK = "127.0.0.0/8"


def trusted_sources(hostvars, groups, networks=None):
    """The IPv4 sources the Hadoop daemons' ports accept (role hadoop_firewall).

    Loopback, then every cluster host's address as a /32 (in address order),
    then the entries of ``networks`` (variable name -> list of IPv4 addresses
    or CIDRs, such as the pod network and the admins' machines), canonical and
    without repeats. Raises ModelError naming the hosts whose address is
    unknown, or each entry of a variable that is not an IPv4 network.
    """
    addresses = cluster_addresses(hostvars, groups)
    unknown = sorted(host for host, address in addresses.items() if address is None)
    if unknown:
        raise model.ModelError(
            "the address of host(s) %s is unknown, so the Hadoop ports cannot be opened to it: set "
            "openpai_address or ansible_host" % ", ".join(unknown))
    sources = [LOOPBACK_NETWORK]
    for address in sorted(set(addresses.values()), key=ipaddress.IPv4Address):
        sources.append(address + "/32")
    problems = []
    for field, values in (networks or {}).items():
        entries, bad = model.ipv4_networks(values, field)
        problems.extend(bad)
        sources.extend(entry for entry in entries if entry not in sources)
    if problems:
        raise model.ModelError("; ".join(problems))
    return sources


def unresolved_hosts(hostvars, groups):
    """Cluster hosts whose address the inventory (and facts, when given) cannot tell."""
    return [host for host, address in cluster_addresses(hostvars, groups).items() if address is None]


def expected_nodemanagers(hostvars, groups, skus, policy):
    """NodeManager resources of every ``pai_worker`` host (SKUs resolved once each)."""
    masters = set((groups or {}).get(model.GROUP_PAI_MASTER) or ())
    resolved = {}
    out = {}
    for host in (groups or {}).get(model.GROUP_PAI_WORKER) or ():
        name = _get(_get(hostvars, host), "openpai_machine_type")
        if not isinstance(skus, Mapping) or name not in skus:
            raise model.ModelError("host %r: SKU %r is not defined in openpai_machine_skus" % (host, name))
        if name not in resolved:
            resolved[name] = model.resolve_sku(name, dict(skus[name]))
        out[host] = model.nodemanager_resources(resolved[name], host in masters, policy)
    return out
