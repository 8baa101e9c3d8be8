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
  - C(host_profile) is everything derived from the inventory about one host (address, SKU, groups, GPU host,
    NodeManager resources); C(cluster_profile) the cluster's (master, control plane, API server address);
    C(cluster_addresses) every host's address (module_utils/profile.py); C(trusted_sources) the IPv4 sources
    the Hadoop daemons' ports accept (loopback, every host, the pod network, the admins' networks).
  - C(expected_nodemanagers) and C(scheduler_maxima) compute every worker's NodeManager and the scheduler's
    maximum allocation from the SKUs.
  - C(inventory_problems) validates a whole inventory without facts and lists every problem.
  - C(host_checks) compares a host's facts with its SKU (fact-based preflight).
  - C(virtual_cluster_queues) turns virtual clusters into CapacityScheduler properties.
  - C(merge_properties) merges flat property mappings, later ones winning.
  - C(hadoop_xml) renders a mapping as a Hadoop configuration file.
  - C(yarn_report) compares the running HDFS and YARN (REST/JMX answers) with the inventory.
author: openpai-ansible contributors
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.module_utils.filters import model_errors_as_filter_errors

from ansible_collections.openpai.cluster.plugins.module_utils import hadoop, hostcheck, model, profile


_wrap = model_errors_as_filter_errors


def quantity_bytes(value):
    return model.parse_quantity(value)


def quantity_mib(value):
    return model.quantity_mib(value)


def machine_sku(skus, name):
    """The resolved SKU ``name`` of ``skus`` (``openpai_machine_skus``)."""
    if not isinstance(skus, dict) or name not in skus:
        raise model.ModelError("SKU %r is not defined in openpai_machine_skus" % (name,))
    return model.resolve_sku(name, skus[name])


def _hostvars_of(hostvars, host):
    try:
        return hostvars[host]
    except KeyError:
        raise model.ModelError("host %r is not in the inventory" % (host,)) from None


def _cluster_inputs(hostvars, groups):
    """SKUs and YARN policy, read from the first cluster host's variables (the validation does the same)."""
    hosts = model.cluster_hosts(groups or {})
    hv = _hostvars_of(hostvars, hosts[0]) if hosts else {}
    return hv.get("openpai_machine_skus"), model.policy_from_vars(_policy_vars(hv))


def _policy_vars(host_vars):
    return {model.POLICY_PREFIX + key: host_vars.get(model.POLICY_PREFIX + key) for key in model.POLICY_KEYS}


def host_profile(hostvars, host, groups):
    """Profile of ``host``: ``hostvars | openpai.cluster.host_profile(inventory_hostname, groups)``."""
    hv = _hostvars_of(hostvars, host)
    return profile.host_profile(host, hv, groups, hv.get("openpai_machine_skus"),
                                model.policy_from_vars(_policy_vars(hv)), hv.get("ansible_facts"))


def cluster_profile(hostvars, groups):
    """Master, control plane and API server address: ``hostvars | openpai.cluster.cluster_profile(groups)``."""
    return profile.cluster_profile(hostvars, groups)


def cluster_addresses(hostvars, groups):
    """Every cluster host's address (None where unknown): ``hostvars | openpai.cluster.cluster_addresses(groups)``."""
    return profile.cluster_addresses(hostvars, groups)


def trusted_sources(hostvars, groups, networks=None):
    """Loopback, every cluster host's /32 and ``networks`` (variable -> CIDRs): the Hadoop firewall's sources."""
    return profile.trusted_sources(hostvars, groups, networks)


def expected_nodemanagers(hostvars, groups):
    """Each ``pai_worker``'s NodeManager resources from its SKU: ``hostvars | expected_nodemanagers(groups)``."""
    skus, policy = _cluster_inputs(hostvars, groups)
    return profile.expected_nodemanagers(hostvars, groups, skus, policy)


def scheduler_maxima(hostvars, groups):
    """The largest NodeManager values across workers: ``hostvars | openpai.cluster.scheduler_maxima(groups)``."""
    return model.scheduler_maxima(expected_nodemanagers(hostvars, groups).values())


CLUSTER_KEYS = ("openpai_machine_skus", "openpai_virtual_clusters", "openpai_inventory_problems",
                model.ADMIN_NETWORKS_VAR)


def inventory_problems(hostvars, groups, cluster_vars=None):
    """Every fact-free problem of the inventory, one string each: ``hostvars | inventory_problems(groups)``.

    Cluster-wide variables (SKUs, virtual clusters, ``openpai_yarn_*``) are read
    from the first cluster host unless ``cluster_vars`` gives them.
    """
    keys = ("openpai_machine_type", "ansible_host", "ansible_connection", "openpai_address")
    hosts = {}
    cluster_hosts = model.cluster_hosts(groups)
    for host in cluster_hosts:
        hv = hostvars[host]
        hosts[host] = {k: hv[k] for k in keys if k in hv}
    if cluster_vars is None:
        first = hostvars[cluster_hosts[0]] if cluster_hosts else {}
        names = CLUSTER_KEYS + tuple(model.POLICY_PREFIX + k for k in model.POLICY_KEYS)
        cluster_vars = {k: first[k] for k in names if k in first}
    return model.inventory_problems(hosts, groups, dict(cluster_vars))


def host_checks(facts, skus, name, options=None):
    """Fact-based preflight of one host: ``{"errors": [...], "warnings": [...]}``."""
    return hostcheck.host_checks(dict(facts), machine_sku(skus, name), dict(options or {}))


def virtual_cluster_queues(vcs, submit_acl="*"):
    return model.virtual_cluster_queues(vcs, submit_acl)


def merge_properties(base, *overlays):
    """Shallow merge of property mappings, later ones win (a fast, flat ``combine``)."""
    merged = dict(base or {})
    for overlay in overlays:
        if overlay:
            merged.update(dict(overlay))
    return merged


def yarn_report(fsstate, nodes, scheduler, expected_nodemanagers, virtual_clusters):
    """Running HDFS/YARN (REST/JMX answers) against the inventory; ``problems`` lists each mismatch."""
    return hadoop.yarn_report(fsstate, nodes, scheduler, expected_nodemanagers, virtual_clusters)


def hadoop_xml(properties, comment=None):
    if not isinstance(properties, Mapping):
        raise AnsibleFilterError("hadoop_xml expects a mapping of property names to values, got %s"
                                 % type(properties).__name__)
    return hadoop.hadoop_xml(dict(properties), comment)


class FilterModule:
    def filters(self):
        return {name: _wrap(func) for name, func in {
            "quantity_bytes": quantity_bytes,
            "quantity_mib": quantity_mib,
            "machine_sku": machine_sku,
            "host_profile": host_profile,
            "cluster_profile": cluster_profile,
            "cluster_addresses": cluster_addresses,
            "trusted_sources": trusted_sources,
            "expected_nodemanagers": expected_nodemanagers,
            "scheduler_maxima": scheduler_maxima,
            "inventory_problems": inventory_problems,
            "host_checks": host_checks,
            "virtual_cluster_queues": virtual_cluster_queues,
            "merge_properties": merge_properties,
            "hadoop_xml": hadoop_xml,
            "yarn_report": yarn_report,
        }.items()}
