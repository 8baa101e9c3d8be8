# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Filters over the cluster model (plugins/module_utils/model.py) and Hadoop XML."""

from __future__ import annotations

DOCUMENTATION = r"""
name: openpai
short_description: SKU arithmetic, quantities, inventory validation and Hadoop XML
description:
  - C(quantity_bytes), C(quantity_mib) parse Kubernetes-style quantities (bare numbers are GiB).
  - C(machine_sku) resolves one SKU of C(openpai_machine_skus) (v0.14 C(gpu) or v1.x C(computing-device)).
  - C(nodemanager_resources) computes a host's YARN NodeManager memory, vcores and GPUs.
  - C(scheduler_maxima) computes the scheduler's maximum allocation from all workers.
  - C(inventory_problems) validates a whole inventory without facts and lists every problem.
  - C(host_checks) compares a host's facts with its SKU (fact-based preflight).
  - C(virtual_cluster_queues) turns virtual clusters into CapacityScheduler properties.
  - C(merge_properties) merges flat property mappings, later ones winning.
  - C(hadoop_xml) renders a mapping as a Hadoop configuration file.
author: openpai-ansible contributors
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.module_utils import hadoop, hostcheck, model


def _wrap(func):
    def inner(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except model.ModelError as exc:
            raise AnsibleFilterError(str(exc)) from None
    inner.__name__ = func.__name__
    inner.__doc__ = func.__doc__
    return inner


def quantity_bytes(value):
    return model.parse_quantity(value)


def quantity_mib(value):
    return model.quantity_mib(value)


def machine_sku(skus, name):
    """The resolved SKU ``name`` of ``skus`` (``openpai_machine_skus``)."""
    if not isinstance(skus, dict) or name not in skus:
        raise model.ModelError("SKU %r is not defined in openpai_machine_skus" % (name,))
    return model.resolve_sku(name, skus[name])


def nodemanager_resources(skus, name, is_master=False, policy=None):
    """YARN NodeManager resources of a host whose SKU is ``name``."""
    return model.nodemanager_resources(machine_sku(skus, name), bool(is_master), _policy(policy))


def scheduler_maxima(workers, hostvars, skus, masters=(), policy=None):
    """Largest NodeManager values over ``workers`` (host names)."""
    masters = set(masters or ())
    pol = _policy(policy)
    resolved = {}
    results = []
    for host in workers or ():
        name = hostvars[host]["openpai_machine_type"]
        if name not in resolved:
            resolved[name] = machine_sku(skus, name)
        results.append(model.nodemanager_resources(resolved[name], host in masters, pol))
    return model.scheduler_maxima(results)


def inventory_problems(hostvars, groups, cluster_vars=None):
    """Every fact-free problem of the inventory, one string each."""
    keys = ("openpai_machine_type", "ansible_host", "ansible_connection")
    hosts = {}
    for host in model.cluster_hosts(groups):
        hv = hostvars[host]
        hosts[host] = {k: hv[k] for k in keys if k in hv}
    return model.inventory_problems(hosts, groups, dict(cluster_vars or {}))


def host_checks(facts, skus, name, options=None):
    """Fact-based preflight of one host: ``{"errors": [...], "warnings": [...]}``."""
    return hostcheck.host_checks(dict(facts), machine_sku(skus, name), dict(options or {}))


def virtual_cluster_queues(vcs):
    return model.virtual_cluster_queues(vcs)


def merge_properties(base, *overlays):
    """Shallow merge of property mappings, later ones win (a fast, flat ``combine``)."""
    merged = dict(base or {})
    for overlay in overlays:
        if overlay:
            merged.update(dict(overlay))
    return merged


def hadoop_xml(properties, comment=None):
    if not isinstance(properties, Mapping):
        raise AnsibleFilterError("hadoop_xml expects a mapping of property names to values, got %s"
                                 % type(properties).__name__)
    return hadoop.hadoop_xml(dict(properties), comment)


def _policy(policy):
    if not policy:
        return dict(model.DEFAULT_POLICY)
    try:
        return model.policy_from_vars({"openpai_yarn_" + k: v for k, v in dict(policy).items()})
    except (TypeError, ValueError) as exc:
        raise model.ModelError("openpai_yarn_*: expected numbers (%s)" % exc)


class FilterModule:
    def filters(self):
        return {name: _wrap(func) for name, func in {
            "quantity_bytes": quantity_bytes,
            "quantity_mib": quantity_mib,
            "machine_sku": machine_sku,
            "nodemanager_resources": nodemanager_resources,
            "scheduler_maxima": scheduler_maxima,
            "inventory_problems": inventory_problems,
            "host_checks": host_checks,
            "virtual_cluster_queues": virtual_cluster_queues,
            "merge_properties": merge_properties,
            "hadoop_xml": hadoop_xml,
        }.items()}
