# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""The one Python model of an OpenPAI cluster.

Everything that is arithmetic or validation lives here, with no Ansible import,
so that filters, the inventory plugin and ``paictl`` share one implementation:

* quantities (``40G``, ``38Gi``, ``512Mi``, bare numbers in GiB),
* machine SKUs in both OpenPAI spellings (v0.14 ``gpu`` and v1.x ``computing-device``),
* YARN NodeManager resources and scheduler maxima from the SKUs,
* virtual clusters (CapacityScheduler queues),
* fact-free validation of a whole inventory that collects every problem.

Problems are plain strings, one per problem, each naming the host, SKU or field.
"""

from __future__ import annotations

import ipaddress
import math
import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

MIB = 1 << 20

GROUP_KUBE_CONTROL_PLANE = "kube_control_plane"
GROUP_KUBE_NODE = "kube_node"
GROUP_PAI_MASTER = "pai_master"
GROUP_PAI_WORKER = "pai_worker"
CLUSTER_GROUPS = (GROUP_KUBE_CONTROL_PLANE, GROUP_KUBE_NODE, GROUP_PAI_MASTER, GROUP_PAI_WORKER)

# The design's arithmetic. Its numbers are defined once, as the defaults of role
# openpai (roles/openpai/defaults/main.yml, documented in its argument specs):
# ``openpai_yarn_<key>`` for each key below. ``default_policy()`` reads them from
# there; a variable of the same name in the inventory overrides one.
POLICY_KEYS = (
    "reserve_min_mb",
    "reserve_ratio",
    "master_reserve_mb",
    "reserve_vcores",
    "master_reserve_vcores",
    "min_allocation_mb",
    "min_allocation_vcores",
)
POLICY_PREFIX = "openpai_yarn_"
_FLOAT_KEYS = {"reserve_ratio"}
_DEFAULT_POLICY = None


def default_policy():
    """The policy's defaults, read once from role openpai's defaults file."""
    global _DEFAULT_POLICY
    if _DEFAULT_POLICY is None:
        import os

        import yaml

        path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "roles", "openpai", "defaults", "main.yml")
        with open(path) as handle:
            defaults = yaml.safe_load(handle) or {}
        _DEFAULT_POLICY = {key: defaults[POLICY_PREFIX + key] for key in POLICY_KEYS}
    return dict(_DEFAULT_POLICY)


# Binary suffixes are powers of 1024, decimal ones powers of 1000 (as in
# Kubernetes). ``KB``/``GB``... appear in OpenPAI v0.14 layouts and are read as
# decimal, ``KiB``/``GiB``... as binary.
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_QUANTITY_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")

_SKU_KEYS = {"mem", "cpu", "gpu", "computing-device", "os"}
_CPU_KEYS = {"vcore"}
_GPU_KEYS = {"type", "model", "count"}
_HOSTNAME_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_QUEUE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
NETWORK_CONNECTIONS = {None, "", "ssh", "smart", "paramiko", "paramiko_ssh",
                       "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh"}


# Admin machines that may reach the Hadoop daemons' ports (role hadoop_firewall).
ADMIN_NETWORKS_VAR = "openpai_admin_networks"


class ModelError(ValueError):
    """A bad value in the user's input; the message names what is wrong."""


# --------------------------------------------------------------------------- quantities

def parse_quantity(value, field="quantity"):
    """Return the number of bytes that ``value`` stands for.

    ``Ki Mi Gi Ti Pi Ei`` are powers of 1024, ``k K M G T P E`` powers of 1000,
    ``KiB``/``KB`` style spellings are accepted, a bare number is GiB.
    """
    if isinstance(value, bool) or value is None:
        raise ModelError("%s: expected a quantity such as 40G or 64Gi, got %r" % (field, value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ModelError("%s: expected a finite quantity such as 40G or 64Gi, got %r" % (field, value))
        number, suffix = Decimal(str(value)), ""
    elif isinstance(value, str):
        match = _QUANTITY_RE.match(value)
        if not match:
            raise ModelError("%s: %r is not a quantity (examples: 40G, 64Gi, 512Mi, 48)" % (field, value))
        try:
            number = Decimal(match.group(1))
        except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
            raise ModelError("%s: %r is not a number" % (field, value))
        suffix = match.group(2)
    else:
        raise ModelError("%s: expected a quantity such as 40G or 64Gi, got %s" % (field, type(value).__name__))

    if suffix == "":
        multiplier = 1024 ** 3
    elif suffix in _BINARY:
        multiplier = 1024 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        multiplier = 1000 ** _DECIMAL[suffix]
    elif suffix.endswith("iB") and suffix[:-1] in _BINARY:
        multiplier = 1024 ** _BINARY[suffix[:-1]]
    elif suffix.endswith("B") and len(suffix) == 2 and suffix[0].upper() in _DECIMAL:
        multiplier = 1000 ** _DECIMAL[suffix[0].upper()]
    else:
        raise ModelError(
            "%s: unknown unit %r in %r (use Ki Mi Gi Ti for powers of 1024, K M G T for powers of 1000, "
            "or a bare number of GiB)" % (field, suffix, value))
    if number <= 0:
        raise ModelError("%s: %r must be greater than zero" % (field, value))
    return int(number * multiplier)


def quantity_mib(value, field="quantity"):
    """Memory in MiB = floor(bytes / 2^20)."""
    return parse_quantity(value, field) // MIB


def _positive_int(value, field, allow_zero=False):
    if isinstance(value, bool):
        raise ModelError("%s: expected a whole number, got %r" % (field, value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError("%s: expected a whole number, got %r (not a finite number)" % (field, value))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ModelError("%s: expected a whole number, got %r" % (field, value))
    if value < 0 or (value == 0 and not allow_zero):
        raise ModelError("%s: must be %s, got %r" % (field, "zero or more" if allow_zero else "at least 1", value))
    return value


# --------------------------------------------------------------------------- SKUs

def resolve_sku(name, raw):
    """Normalise one machine SKU; raise ModelError listing every problem found."""
    where = "SKU %r" % (name,)
    problems = []
    if not isinstance(raw, dict):
        raise ModelError("%s: expected a mapping with mem and cpu.vcore, got %s" % (where, type(raw).__name__))
    for key in sorted(set(raw) - _SKU_KEYS, key=str):
        problems.append("%s: unknown field %r (known: %s)" % (where, key, ", ".join(sorted(_SKU_KEYS))))

    sku = {"name": name, "mem_bytes": None, "mem_mib": None, "vcore": None,
           "gpu_count": 0, "gpu_model": "", "gpu_type": "", "os": str(raw.get("os", "") or "")}
    if "mem" not in raw:
        problems.append("%s: field 'mem' is missing (e.g. mem: 40G)" % where)
    else:
        try:
            sku["mem_bytes"] = parse_quantity(raw["mem"], "%s: field 'mem'" % where)
            sku["mem_mib"] = sku["mem_bytes"] // MIB
        except ModelError as exc:
            problems.append(str(exc))

    cpu = raw.get("cpu")
    if cpu is None:
        problems.append("%s: field 'cpu.vcore' is missing (e.g. cpu: {vcore: 24})" % where)
    elif not isinstance(cpu, dict):
        problems.append("%s: field 'cpu' must be a mapping such as {vcore: 24}" % where)
    else:
        for key in sorted(set(cpu) - _CPU_KEYS, key=str):
            problems.append("%s: unknown field 'cpu.%s' (known: vcore)" % (where, key))
        if "vcore" not in cpu:
            problems.append("%s: field 'cpu.vcore' is missing" % where)
        else:
            try:
                sku["vcore"] = _positive_int(cpu["vcore"], "%s: field 'cpu.vcore'" % where)
            except ModelError as exc:
                problems.append(str(exc))

    if raw.get("gpu") is not None and raw.get("computing-device") is not None:
        problems.append("%s: give either 'gpu' (v0.14) or 'computing-device' (v1.x), not both" % where)
    for key in ("gpu", "computing-device"):
        if key not in raw or raw[key] is None:
            continue
        dev = raw[key]
        if not isinstance(dev, dict):
            problems.append("%s: field %r must be a mapping such as {type: Tesla K80, count: 4}" % (where, key))
            continue
        for sub in sorted(set(dev) - _GPU_KEYS, key=str):
            problems.append("%s: unknown field '%s.%s' (known: %s)" % (where, key, sub, ", ".join(sorted(_GPU_KEYS))))
        try:
            sku["gpu_count"] = _positive_int(dev.get("count", 0), "%s: field '%s.count'" % (where, key),
                                             allow_zero=True)
        except ModelError as exc:
            problems.append(str(exc))
        if key == "gpu":
            sku["gpu_model"] = str(dev.get("model") or dev.get("type") or "")
            sku["gpu_type"] = "nvidia.com/gpu"
        else:
            sku["gpu_model"] = str(dev.get("model") or "")
            sku["gpu_type"] = str(dev.get("type") or "nvidia.com/gpu")
    if problems:
        raise ModelError("\n".join(problems))
    return sku


def resolve_skus(raw_skus):
    """Return ``({name: sku}, [problems])`` for the whole ``openpai_machine_skus`` mapping."""
    skus, problems = {}, []
    if raw_skus is None:
        return skus, ["openpai_machine_skus: not defined (define at least one machine SKU in group_vars)"]
    if not isinstance(raw_skus, dict):
        return skus, ["openpai_machine_skus: expected a mapping of SKU name to {mem, cpu, gpu}, got %s"
                      % type(raw_skus).__name__]
    if not raw_skus:
        return skus, ["openpai_machine_skus: empty (define at least one machine SKU)"]
    for name in sorted(raw_skus, key=str):
        try:
            skus[name] = resolve_sku(name, raw_skus[name])
        except ModelError as exc:
            problems.extend(str(exc).split("\n"))
    return skus, problems


# --------------------------------------------------------------------------- YARN arithmetic

def policy_from_vars(variables=None):
    """The arithmetic's parameters: the defaults overridden by ``openpai_yarn_<key>`` variables.

    Raises ModelError naming the variable when a value is not a finite number.
    """
    policy = default_policy()
    problems = []
    for key in POLICY_KEYS:
        name = POLICY_PREFIX + key
        value = (variables or {}).get(name)
        if value is None or value == "":
            continue
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            if key in _FLOAT_KEYS:
                policy[key] = number
            elif number.is_integer():
                policy[key] = int(number)
            else:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("%s: expected a %s, got %r" % (
                name, "finite number" if key in _FLOAT_KEYS else "whole number", value))
    if problems:
        raise ModelError("\n".join(problems))
    return policy


def nodemanager_resources(sku, is_master=False, policy=None):
    """YARN NodeManager resources for a host of ``sku`` (a resolved SKU dict)."""
    p = dict(default_policy(), **(policy or {}))
    mem_mb = sku["mem_mib"]
    reserved_mb = max(int(p["reserve_min_mb"]), int(math.ceil(float(p["reserve_ratio"]) * mem_mb)))
    reserved_vcores = int(p["reserve_vcores"])
    if is_master:
        reserved_mb += int(p["master_reserve_mb"])
        reserved_vcores += int(p["master_reserve_vcores"])
    return {
        "mem_mb": mem_mb,
        "reserved_mb": reserved_mb,
        "memory_mb": mem_mb - reserved_mb,
        "vcores": sku["vcore"] - reserved_vcores,
        "gpus": int(sku.get("gpu_count") or 0),
        "gpu_model": sku.get("gpu_model", ""),
    }


def scheduler_maxima(resources):
    """Largest NodeManager values across workers (``resources`` is an iterable of dicts)."""
    maxima = {"memory_mb": 0, "vcores": 0, "gpus": 0}
    for res in resources:
        for key in maxima:
            maxima[key] = max(maxima[key], int(res[key]))
    return maxima


# --------------------------------------------------------------------------- virtual clusters

def virtual_cluster_problems(vcs):
    if vcs is None:
        return []
    if not isinstance(vcs, dict) or not vcs:
        return ["openpai_virtual_clusters: expected a mapping such as {default: {capacity: 100}}"]
    problems, total = [], Decimal(0)
    for name in sorted(vcs, key=str):
        where = "openpai_virtual_clusters.%s" % name
        if not isinstance(name, str) or not _QUEUE_RE.match(name):
            problems.append("%s: queue name must use letters, digits, '-' and '_' only" % where)
        spec = vcs[name]
        if not isinstance(spec, dict):
            problems.append("%s: expected a mapping such as {capacity: 100}, got %s" % (where, type(spec).__name__))
            continue
        if "capacity" not in spec:
            problems.append("%s: field 'capacity' is missing (a percentage, e.g. capacity: 100)" % where)
            continue
        cap = _percentage(spec["capacity"])
        if cap is None:
            problems.append("%s: field 'capacity' must be a number (a finite percentage), got %r"
                            % (where, spec["capacity"]))
            continue
        if cap < 0 or cap > 100:
            problems.append("%s: field 'capacity' must be between 0 and 100, got %s" % (where, _fmt(cap)))
        total += cap
        if "max-capacity" in spec:
            mcap = _percentage(spec["max-capacity"])
            if mcap is None:
                problems.append("%s: field 'max-capacity' must be a number (a finite percentage), got %r"
                                % (where, spec["max-capacity"]))
            elif mcap < cap or mcap > 100:
                problems.append("%s: field 'max-capacity' must be between capacity (%s) and 100, got %s"
                                % (where, _fmt(cap), _fmt(mcap)))
    if not problems and total != 100:
        problems.append("openpai_virtual_clusters: capacities sum to %s, they must sum to 100 (%s)" % (
            _fmt(total), ", ".join("%s=%s" % (k, _fmt(Decimal(str(vcs[k]["capacity"])))) for k in sorted(vcs))))
    return problems


def _percentage(value):
    """``value`` as a finite Decimal, or None when it is not a number (bools, ``.inf``, ``nan``, words)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _fmt(number):
    return ("%f" % number).rstrip("0").rstrip(".")


def virtual_cluster_queues(vcs, submit_acl="*"):
    """CapacityScheduler properties for the virtual clusters (queues under root).

    A queue accepts applications from its ``acl-submit-applications`` entry, else from
    ``submit_acl`` (YARN's "users groups" syntax; root accepts nobody, so a leaf's ACL decides).
    """
    vcs = vcs or {"default": {"capacity": 100}}
    names = sorted(vcs)
    props = {"yarn.scheduler.capacity.root.queues": ",".join(names)}
    for name in names:
        spec = vcs[name]
        prefix = "yarn.scheduler.capacity.root.%s." % name
        capacity = Decimal(str(spec["capacity"]))
        maximum = Decimal(str(spec.get("max-capacity", 100)))
        props[prefix + "capacity"] = _fmt(capacity)
        props[prefix + "maximum-capacity"] = _fmt(maximum)
        props[prefix + "state"] = "RUNNING"
        props[prefix + "acl_submit_applications"] = str(spec.get("acl-submit-applications", submit_acl))
        # Every job reaches YARN as the REST server's one user: let that user grow to the
        # queue's maximum, not only to its capacity (YARN's user-limit-factor 1).
        props[prefix + "user-limit-factor"] = _fmt(
            (maximum / capacity).quantize(Decimal("0.01"), rounding=ROUND_CEILING) if capacity > 0 else Decimal(1))
    return props


# --------------------------------------------------------------------------- hosts and validation

def valid_hostname(name):
    """RFC 1123 hostname in lowercase (what Kubernetes accepts as a node name)."""
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    return all(_HOSTNAME_LABEL_RE.match(label) for label in name.split("."))


def valid_ipv4(value):
    try:
        ipaddress.IPv4Address(str(value))
    except ValueError:
        return False
    return True


def ipv4_networks(values, field):
    """``(networks, problems)``: ``values``, a list of IPv4 addresses or networks
    (CIDR), as canonical network strings (an address becomes its /32), and one
    problem per entry that is not one, naming ``field[index]``. ``None`` is an
    empty list."""
    if values is None:
        return [], []
    if not isinstance(values, (list, tuple)):
        return [], ["field %r: must be a list of IPv4 addresses or networks (CIDR), got %r" % (field, values)]
    networks, problems = [], []
    for index, value in enumerate(values):
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            networks.append(str(ipaddress.IPv4Network(value.strip(), strict=True)))
        except ValueError:
            problems.append("field '%s[%d]': %r is not an IPv4 address or network in CIDR notation "
                            "(such as 192.0.2.10 or 192.0.2.0/24, no host bits set)" % (field, index, value))
    return networks, problems


def host_roles(host, groups):
    return {
        "is_master": host in set(groups.get(GROUP_PAI_MASTER) or ()),
        "is_worker": host in set(groups.get(GROUP_PAI_WORKER) or ()),
        "is_kube_control_plane": host in set(groups.get(GROUP_KUBE_CONTROL_PLANE) or ()),
        "is_kube_node": host in set(groups.get(GROUP_KUBE_NODE) or ()),
    }


def cluster_hosts(groups):
    """Hosts in any of the cluster's groups, in inventory order, without repeats."""
    seen, out = set(), []
    for group in CLUSTER_GROUPS:
        for host in groups.get(group) or ():
            if host not in seen:
                seen.add(host)
                out.append(host)
    return out


def inventory_problems(hostvars, groups, cluster_vars=None, addresses_given=True):
    """Fact-free validation of a whole inventory: every problem, one string each.

    ``addresses_given=False``: the hosts get their addresses elsewhere (``paictl lab up``
    assigns each node container's), so a host without one is not a problem.

    ``hostvars`` maps each host to its (templated) variables; ``groups`` maps group
    names to host lists; ``cluster_vars`` holds cluster-wide variables
    (``openpai_machine_skus``, ``openpai_virtual_clusters``, ``openpai_yarn_*``),
    taken from the first cluster host when not given.
    """
    problems = []
    hosts = cluster_hosts(groups)
    if cluster_vars is None:
        cluster_vars = hostvars.get(hosts[0], {}) if hosts else {}

    # Problems the inventory plugin found while reading a layout.yaml.
    for problem in cluster_vars.get("openpai_inventory_problems") or ():
        problems.append(str(problem))
    if problems and not hosts:
        return problems  # the layout gave no machine: empty groups and SKUs are only consequences
    # A layout's reader reports a machine without a (valid) hostip itself.
    from_layout = (cluster_vars.get("openpai_inventory_source") == "layout"
                   or "openpai_inventory_problems" in cluster_vars)

    # While a layout has problems of its own, its groups may be empty only because of them.
    check_groups = not (from_layout and problems)
    for group, what in ((GROUP_PAI_MASTER, "master (HDFS NameNode, YARN ResourceManager)"),
                        (GROUP_PAI_WORKER, "worker (DataNode, NodeManager)")):
        if check_groups and not groups.get(group):
            problems.append("group %r: empty, the cluster needs at least one %s" % (group, what))
    if check_groups and groups.get(GROUP_KUBE_NODE) and not groups.get(GROUP_KUBE_CONTROL_PLANE):
        problems.append("group %r: empty while %r has hosts; Kubernetes needs a control plane"
                        % (GROUP_KUBE_CONTROL_PLANE, GROUP_KUBE_NODE))

    raw_skus = cluster_vars.get("openpai_machine_skus")
    skus, sku_problems = resolve_skus(raw_skus)
    skus_usable = isinstance(raw_skus, dict) and bool(raw_skus)
    if not (from_layout and raw_skus is None):  # else the layout's reader said what is wrong with machine-sku
        problems.extend(sku_problems)
    problems.extend(virtual_cluster_problems(cluster_vars.get("openpai_virtual_clusters")))
    problems.extend(ipv4_networks(cluster_vars.get(ADMIN_NETWORKS_VAR), ADMIN_NETWORKS_VAR)[1])
    try:
        policy = policy_from_vars(cluster_vars)
    except ModelError as exc:
        problems.extend(str(exc).split("\n"))
        policy = default_policy()

    seen_names, seen_addresses = {}, {}
    workers = set(groups.get(GROUP_PAI_WORKER) or ())
    masters = set(groups.get(GROUP_PAI_MASTER) or ())
    for host in hosts:
        hv = hostvars.get(host) or {}
        where = "host %r" % (host,)
        if not valid_hostname(host):
            problems.append("%s: hostname must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.'; "
                            "no upper case, no '_')" % where)
        lowered = str(host).lower()
        if lowered in seen_names:
            problems.append("%s: hostname duplicates host %r" % (where, seen_names[lowered]))
        seen_names.setdefault(lowered, host)

        address = hv.get("ansible_host")
        if address is not None and hv.get("ansible_connection") in NETWORK_CONNECTIONS:
            if not valid_ipv4(address):
                problems.append("%s: field 'ansible_host': %r is not a valid IPv4 address" % (where, address))
            elif address in seen_addresses:
                problems.append("%s: field 'ansible_host': address %s is also used by host %r"
                                % (where, address, seen_addresses[address]))
            else:
                seen_addresses[address] = host
        elif address is None and valid_ipv4(host):
            if host in seen_addresses:
                problems.append("%s: address %s is also used by host %r" % (where, host, seen_addresses[host]))
            seen_addresses.setdefault(host, host)
        elif addresses_given and address is None and not from_layout and not _has_address(hv):
            problems.append("%s: field 'ansible_host' is missing (the host's IPv4 address; or name the host by "
                            "its address, or set openpai_address)" % where)
        if hv.get("openpai_address") not in (None, "") and not valid_ipv4(hv["openpai_address"]):
            problems.append("%s: field 'openpai_address': %r is not a valid IPv4 address"
                            % (where, hv["openpai_address"]))

        sku_name = hv.get("openpai_machine_type")
        if not skus_usable:
            continue  # reported once above
        if sku_name is None:
            if from_layout:
                continue  # the layout's reader reported the missing machine-type
            problems.append("%s: field 'openpai_machine_type' is missing (one of: %s)"
                            % (where, ", ".join(sorted(skus)) or "no SKU defined"))
            continue
        if not isinstance(sku_name, str) or sku_name not in skus:
            if isinstance(sku_name, str) and any(p.startswith("SKU %r" % sku_name) for p in sku_problems):
                continue  # the SKU itself is broken; already reported once
            problems.append("%s: field 'openpai_machine_type': SKU %r is not defined in openpai_machine_skus "
                            "(known: %s)" % (where, sku_name, ", ".join(sorted(skus)) or "none"))
            continue
        sku = skus[sku_name]
        if host in workers:
            res = nodemanager_resources(sku, host in masters, policy)
            if res["memory_mb"] < policy["min_allocation_mb"]:
                problems.append(
                    "%s: SKU %r leaves %d MB for YARN (mem %d MiB - reserve %d MiB), below the scheduler "
                    "minimum of %d MB" % (where, sku_name, res["memory_mb"], res["mem_mb"], res["reserved_mb"],
                                          policy["min_allocation_mb"]))
            if res["vcores"] < policy["min_allocation_vcores"]:
                problems.append(
                    "%s: SKU %r leaves %d vcores for YARN (cpu.vcore %d minus the reserve), below the scheduler "
                    "minimum of %d" % (where, sku_name, res["vcores"], sku["vcore"], policy["min_allocation_vcores"]))
    return problems


def _has_address(hv):
    """True when the host needs no ``ansible_host``: it is not reached over the network, or has openpai_address."""
    connection = hv.get("ansible_connection")
    networked = connection is None or (isinstance(connection, str) and connection in NETWORK_CONNECTIONS)
    return not networked or hv.get("openpai_address") not in (None, "")


def inventory_warnings(groups):
    """Things a valid inventory does that the user should know about, one string each."""
    warnings = []
    control_plane = list(groups.get(GROUP_KUBE_CONTROL_PLANE) or ())
    if len(control_plane) > 1:
        later = control_plane[1:]
        warnings.append(
            "group %r: %d hosts; %s runs the Kubernetes control plane, %s %s until the control plane is "
            "highly available (not supported yet)"
            % (GROUP_KUBE_CONTROL_PLANE, len(control_plane), control_plane[0], ", ".join(later),
               "joins as a worker" if len(later) == 1 else "join as workers"))
    return warnings


def cluster_summary(hostvars, groups, cluster_vars=None):
    """Per-host NodeManager resources and the scheduler maxima (valid inventories only)."""
    hosts = cluster_hosts(groups)
    if cluster_vars is None:
        cluster_vars = hostvars.get(hosts[0], {}) if hosts else {}
    skus, _ = resolve_skus(cluster_vars.get("openpai_machine_skus"))
    policy = policy_from_vars(cluster_vars)
    masters = set(groups.get(GROUP_PAI_MASTER) or ())
    out = {}
    for host in groups.get(GROUP_PAI_WORKER) or ():
        sku = skus.get((hostvars.get(host) or {}).get("openpai_machine_type"))
        if sku is not None:
            out[host] = nodemanager_resources(sku, host in masters, policy)
    return {"nodemanagers": out, "maxima": scheduler_maxima(out.values())}
