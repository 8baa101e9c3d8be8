# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""The platform-services layer's data logic: the service table (validation, start
order), the image table (registry, mirror or offline bundle with SHA256SUMS), and
Prometheus' configuration and alert rules generated from the inventory.

Pure Python over plain data, shared by the filters (plugins/filter/services.py) and
unit-tested directly. The default table is data: roles/services/defaults/main.yml."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping

from ansible_collections.openpai.cluster.plugins.module_utils.kubernetes import parse_sha256sums
from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError

NODE_GROUPS = ("pai_master", "all", "gpu")
KINDS = ("Deployment", "DaemonSet")
IMAGE_SOURCES = ("registry", "mirror", "bundle")
PROBE_TYPES = ("http", "tcp")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_IMAGE_PART = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[a-z0-9._-]+)*$")


# ---------------------------------------------------------------- service table

def _entry_problems(index, entry):
    """Problems of one table entry (not the references between entries)."""
    where = "services[%d]" % index
    if not isinstance(entry, Mapping):
        return ["%s: must be a mapping" % where], None
    name = entry.get("name")
    found = []
    if not isinstance(name, str) or not _NAME.match(name):
        found.append("%s.name: %r is not a DNS label (lowercase letters, digits, '-')" % (where, name))
        name = None
    else:
        where = "services[%d] (%s)" % (index, name)
    if entry.get("node_group") not in NODE_GROUPS:
        found.append("%s.node_group: %r is not one of %s" % (where, entry.get("node_group"), ", ".join(NODE_GROUPS)))
    if entry.get("kind") not in KINDS:
        found.append("%s.kind: %r is not one of %s" % (where, entry.get("kind"), ", ".join(KINDS)))
    ports = entry.get("ports")
    if not isinstance(ports, Mapping) or not ports:
        found.append("%s.ports: must map port names to numbers" % where)
        ports = {}
    for port_name, number in ports.items():
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
            found.append("%s.ports.%s: %r is not a TCP port" % (where, port_name, number))
    found.extend(image_problems(entry.get("image"), "%s.image" % where))
    prereqs = entry.get("prerequisites", [])
    if not isinstance(prereqs, list) or not all(isinstance(p, str) for p in prereqs):
        found.append("%s.prerequisites: must be a list of service names" % where)
    probe = entry.get("readiness")
    if not isinstance(probe, Mapping) or probe.get("type") not in PROBE_TYPES:
        found.append("%s.readiness.type: must be one of %s" % (where, ", ".join(PROBE_TYPES)))
    else:
        if probe.get("port") not in ports:
            found.append("%s.readiness.port: %r is not one of the service's ports" % (where, probe.get("port")))
        if probe["type"] == "http" and not str(probe.get("path", "")).startswith("/"):
            found.append("%s.readiness.path: must start with '/'" % where)
        timeout = probe.get("timeout_s", 300)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            found.append("%s.readiness.timeout_s: must be a positive number of seconds" % where)
    return found, name


def image_problems(image, where="image"):
    """Problems of one image entry {registry, name, tag[, file]}."""
    if not isinstance(image, Mapping):
        return ["%s: must be a mapping with registry, name and tag" % where]
    found = []
    if not isinstance(image.get("registry"), str) or not _REGISTRY.match(image.get("registry") or ""):
        found.append("%s.registry: %r is not a registry host[:port][/path]" % (where, image.get("registry")))
    if not isinstance(image.get("name"), str) or not _IMAGE_PART.match(image.get("name") or ""):
        found.append("%s.name: %r is not an image repository name" % (where, image.get("name")))
    if not isinstance(image.get("tag"), str) or not _TAG.match(image.get("tag") or ""):
        found.append("%s.tag: %r is not an image tag" % (where, image.get("tag")))
    file = image.get("file")
    if file is not None and (not isinstance(file, str) or not file or "/" in file):
        found.append("%s.file: must be a plain file name" % where)
    return found


def service_problems(services):
    """Every problem of the service table, one message each: entry fields, duplicate
    names, unknown prerequisites (one message) and a prerequisite cycle (one message)."""
    if not isinstance(services, list) or not services:
        return ["services: must be a non-empty list"]
    found = []
    names = []
    for index, entry in enumerate(services):
        problems, name = _entry_problems(index, entry)
        found.extend(problems)
        if name is not None:
            if name in names:
                found.append("services[%d] (%s).name: duplicate name" % (index, name))
            names.append(name)
    if found:
        return found
    graph = {e["name"]: list(e.get("prerequisites") or []) for e in services}
    unknown = ["%s needs %s" % (n, p) for n, reqs in graph.items() for p in reqs if p not in graph]
    if unknown:
        found.append("services: unknown prerequisite(s): %s" % "; ".join(unknown))
        return found
    cycle = _find_cycle(graph)
    if cycle:
        found.append("services: prerequisite cycle: %s" % " -> ".join(cycle + cycle[:1]))
    return found


def _find_cycle(graph):
    """One cycle of `graph` (name -> prerequisites) as a list of names, or []."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for req in graph[node]:
            if state.get(req) == "open":
                return stack[stack.index(req):]
            if req not in state:
                cycle = visit(req)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return []

    for node in graph:
        if node not in state:
            cycle = visit(node)
            if cycle:
                return list(cycle)
    return []


def start_order(services, selection=None):
    """Service names in start order: every service after its prerequisites, otherwise in
    table order. With `selection` (names, e.g. paictl -n), the named services and what
    they need, transitively. Raises ModelError on a bad table or an unknown name."""
    problems = service_problems(services)
    if problems:
        raise ModelError("; ".join(problems))
    graph = {e["name"]: list(e.get("prerequisites") or []) for e in services}
    if selection:
        selection = [selection] if isinstance(selection, str) else list(selection)
        unknown = [n for n in selection if n not in graph]
        if unknown:
            raise ModelError("unknown service(s): %s (known: %s)" % (", ".join(unknown), ", ".join(graph)))
        wanted = set()
        todo = list(selection)
        while todo:
            name = todo.pop()
            if name not in wanted:
                wanted.add(name)
                todo.extend(graph[name])
    else:
        wanted = set(graph)
    order = []
    placed = set()
    while len(order) < len(wanted):
        for name in graph:  # the first (table order) whose prerequisites are all started
            if name in wanted and name not in placed and all(p in placed for p in graph[name]):
                order.append(name)
                placed.add(name)
                break
    return order


def stop_order(services, selection=None):
    """Service names in stop order: the start order reversed (dependents first).
    With `selection`, only the named services (what they need keeps running)."""
    order = start_order(services, None)
    if selection:
        selection = [selection] if isinstance(selection, str) else list(selection)
        unknown = [n for n in selection if n not in order]
        if unknown:
            raise ModelError("unknown service(s): %s (known: %s)" % (", ".join(unknown), ", ".join(order)))
        order = [n for n in order if n in selection]
    return list(reversed(order))


def services_by_name(services):
    """{name: entry} of a valid table."""
    problems = service_problems(services)
    if problems:
        raise ModelError("; ".join(problems))
    return {e["name"]: dict(e) for e in services}


def service_hosts(service, groups, gpu_hosts):
    """Inventory hosts a service runs on: its node group resolved against `groups`
    (group -> hosts) and `gpu_hosts` (the hosts whose SKU has GPUs)."""
    group = service["node_group"]
    kube = []
    for g in ("kube_control_plane", "kube_node"):
        for host in (groups or {}).get(g) or ():
            if host not in kube:
                kube.append(host)
    if group == "pai_master":
        return list((groups or {}).get("pai_master") or ())
    if group == "gpu":
        return [h for h in kube if h in set(gpu_hosts or ())]
    return kube


# ---------------------------------------------------------------- image table

def image_file(image):
    """An image's tarball name in an offline bundle: `file`, else
    <name with '/' as '_'>_<tag>.tar (as the Kubernetes bundle names its images)."""
    return image.get("file") or "%s_%s.tar" % (image["name"].replace("/", "_"), image["tag"])


def image_ref(image, mirror=""):
    """registry/name:tag, with the registry replaced by `mirror` when one is given."""
    registry = str(mirror or image["registry"]).rstrip("/")
    return "%s/%s:%s" % (registry, image["name"], image["tag"])


def image_plan(services, source="registry", mirror="", bundle_dir="", bundle_sums=None):
    """Resolve every service's image for `source`: [{service, ref, file,
    controller_path, sha256}]. `ref` is what the pods name (registry/mirror reference;
    for a bundle the official reference, which the imported tarball carries);
    controller_path and sha256 (from the bundle's SHA256SUMS) only for a bundle."""
    if source not in IMAGE_SOURCES:
        raise ModelError("services_image_source: %r is not one of %s" % (source, ", ".join(IMAGE_SOURCES)))
    if source == "mirror" and not mirror:
        raise ModelError("services_image_mirror: required when services_image_source is mirror")
    if source == "bundle" and not bundle_dir:
        raise ModelError("services_bundle_dir: required when services_image_source is bundle")
    table = services_by_name(services)
    plan = []
    for name, entry in table.items():
        image = entry["image"]
        item = {"service": name, "ref": image_ref(image, mirror if source == "mirror" else ""),
                "file": image_file(image), "controller_path": None, "sha256": None}
        if source == "bundle":
            item["controller_path"] = "%s/%s" % (str(bundle_dir).rstrip("/"), item["file"])
            item["sha256"] = (bundle_sums or {}).get(item["file"])
        plan.append(item)
    return plan


def bundle_problems(plan, actual, sums_path="SHA256SUMS"):
    """One line per bundle file that is missing, not listed in SHA256SUMS, or whose
    SHA-256 differs. `actual`: {controller_path: sha256 of the file, or None when it is
    missing} (e.g. from ansible.builtin.stat). A file shared by services is named once."""
    found = []
    seen = set()
    for item in plan:
        path = item["controller_path"]
        if path in seen:
            continue
        seen.add(path)
        have = (actual or {}).get(path)
        if have is None:
            found.append("%s: missing" % path)
        elif not item.get("sha256"):
            found.append("%s: not listed in %s" % (item["file"], sums_path))
        elif have.lower() != item["sha256"]:
            found.append("%s: SHA-256 %s does not match %s in %s" % (path, have, item["sha256"], sums_path))
    return found


def stat_checksums(results):
    """{path: sha256 or None} from the registered results of ansible.builtin.stat looped
    over paths (checksum_algorithm sha256): None where the file does not exist."""
    out = {}
    for result in results or ():
        stat = result.get("stat") or {}
        out[result.get("item")] = stat.get("checksum") if stat.get("exists") else None
    return out


def check_bundle(services, bundle_dir):
    """Problems of an offline image bundle on this machine (reads SHA256SUMS and hashes
    every tarball): [] when every service's tarball is there and matches."""
    sums_path = os.path.join(str(bundle_dir), "SHA256SUMS")
    try:
        with open(sums_path, encoding="utf-8") as handle:
            sums = parse_sha256sums(handle.read(), sums_path)
    except FileNotFoundError:
        sums = {}
    plan = image_plan(services, "bundle", bundle_dir=bundle_dir, bundle_sums=sums)
    actual = {}
    for item in plan:
        path = item["controller_path"]
        if path not in actual:
            actual[path] = _sha256_of(path)
    return bundle_problems(plan, actual, sums_path)


def _sha256_of(path):
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- Prometheus

def hadoop_prometheus_name(record, metric):
    """The metric name Hadoop's PrometheusMetricsSink (the /prom endpoint) gives a
    metrics2 record's metric: CamelCase words joined by '_', lowercased, any other
    character run as '_' (e.g. FSNamesystem + NumDeadDataNodes ->
    fs_namesystem_num_dead_data_nodes)."""
    base = record[:1].upper() + record[1:] + metric[:1].upper() + metric[1:]
    words = []
    start = 0
    for i in range(1, len(base)):
        char = base[i]
        if not char.isupper() or not char.isascii():
            continue
        before = base[i - 1]
        after = base[i + 1] if i + 1 < len(base) else ""
        # A split before an upper-case letter that follows a non-upper, non-'_'
        # character, or that starts a capitalised word (upper followed by lower).
        if not (before.isupper() or before == "_") or (after.islower() and after.isascii()):
            words.append(base[start:i])
            start = i
    words.append(base[start:])
    return re.sub(r"[^a-zA-Z0-9]+", "_", "_".join(words).lower())


# The Hadoop metrics the alert rules use (names as the /prom endpoint serves them).
NODEMANAGERS_LOST = hadoop_prometheus_name("ClusterMetrics", "NumLostNMs")
DATANODES_DEAD = hadoop_prometheus_name("FSNamesystem", "NumDeadDataNodes")

PROMETHEUS_DEFAULTS = {
    "scrape_interval": "30s",
    "evaluation_interval": "30s",
    "node_exporter_port": 9100,
    "gpu_exporter_port": 9102,
    "resourcemanager_port": 8088,
    "namenode_port": 50070,
    "hadoop_metrics_path": "/prom",
    # Hadoop's web endpoints refuse anonymous requests (simple authentication): the user named.
    "hadoop_metrics_user": "prometheus",
    "apiserver_port": 6443,
    "apiserver_token_file": "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "apiserver_ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    "prometheus_port": 9091,
    "prometheus_route_prefix": "/prometheus",
    "alertmanager_port": 9093,
    "alertmanager_route_prefix": "/alertmanager",
    "rule_files": ["/etc/prometheus/rules/*.yml"],
    "node_down_for": "2m",
    "gpu_count_for": "5m",
    "gpu_exporter_down_for": "5m",
    "disk_free_percent": 10,
    "disk_for": "10m",
    "hadoop_for": "5m",
}


def _settings(settings):
    merged = dict(PROMETHEUS_DEFAULTS)
    unknown = sorted(set(settings or {}) - set(PROMETHEUS_DEFAULTS))
    if unknown:
        raise ModelError("services_prometheus: unknown setting(s) %s (known: %s)"
                         % (", ".join(unknown), ", ".join(sorted(PROMETHEUS_DEFAULTS))))
    merged.update({k: v for k, v in (settings or {}).items() if v is not None})
    return merged


def _hosts(hosts):
    """Validated hosts: [{name, node_name, address, gpu_count, groups}], one problem per field."""
    if not isinstance(hosts, list) or not hosts:
        raise ModelError("hosts: must be a non-empty list of {name, address, gpu_count, groups}")
    found = []
    out = []
    for index, host in enumerate(hosts):
        if not isinstance(host, Mapping) or not host.get("name"):
            found.append("hosts[%d].name: missing" % index)
            continue
        where = "host %s" % host["name"]
        if not host.get("address"):
            found.append("%s: no address (set ansible_host or openpai_address)" % where)
        count = host.get("gpu_count", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            found.append("%s.gpu_count: %r is not a GPU count" % (where, count))
        out.append({"name": str(host["name"]), "node_name": str(host.get("node_name") or host["name"]),
                    "address": str(host.get("address")), "gpu_count": count if isinstance(count, int) else 0,
                    "groups": list(host.get("groups") or ())})
    if found:
        raise ModelError("; ".join(found))
    return out


def _kube_hosts(hosts):
    return [h for h in hosts if {"kube_control_plane", "kube_node"} & set(h["groups"])] or hosts


def _targets(hosts, port):
    return [{"targets": ["%s:%d" % (h["address"], port)], "labels": {"node_name": h["node_name"]}} for h in hosts]


def prometheus_config(hosts, settings=None):
    """prometheus.yml (as a dict) from the cluster's hosts: node-exporter on every node,
    gpu-exporter on GPU nodes, the ResourceManager's and NameNode's /prom endpoints on
    the Hadoop master (first pai_master), the API servers (kube_control_plane), and
    Prometheus itself; static_configs only (Debian's Prometheus has no kubernetes_sd)."""
    s = _settings(settings)
    hosts = _hosts(hosts)
    nodes = _kube_hosts(hosts)
    gpu_nodes = [h for h in nodes if h["gpu_count"] > 0]
    masters = [h for h in hosts if "pai_master" in h["groups"]]
    control_planes = [h for h in hosts if "kube_control_plane" in h["groups"]]
    prefix = "/" + str(s["prometheus_route_prefix"]).strip("/") if str(s["prometheus_route_prefix"]).strip("/") else ""
    jobs = [
        {"job_name": "prometheus", "metrics_path": prefix + "/metrics",
         "static_configs": [{"targets": ["127.0.0.1:%d" % s["prometheus_port"]]}]},
        {"job_name": "node-exporter", "static_configs": _targets(nodes, s["node_exporter_port"])},
    ]
    if gpu_nodes:
        # The exporter labels its samples with node_name itself (honoured); `up` gets the target's.
        jobs.append({"job_name": "gpu-exporter", "honor_labels": True,
                     "static_configs": _targets(gpu_nodes, s["gpu_exporter_port"])})
    if masters:
        master = masters[0]
        for job, port in (("yarn-resourcemanager", s["resourcemanager_port"]),
                          ("hdfs-namenode", s["namenode_port"])):
            jobs.append({"job_name": job, "metrics_path": s["hadoop_metrics_path"],
                         "params": {"user.name": [str(s["hadoop_metrics_user"])]},
                         "static_configs": _targets([master], port)})
    if control_planes:
        jobs.append({"job_name": "kubernetes-apiserver", "scheme": "https",
                     "authorization": {"credentials_file": s["apiserver_token_file"]},
                     "tls_config": {"ca_file": s["apiserver_ca_file"]},
                     "static_configs": _targets(control_planes, s["apiserver_port"])})
    config = {
        "global": {"scrape_interval": s["scrape_interval"], "evaluation_interval": s["evaluation_interval"]},
        "rule_files": list(s["rule_files"]),
        "scrape_configs": jobs,
    }
    if masters:
        am_prefix = str(s["alertmanager_route_prefix"]).strip("/")
        manager = {"static_configs": [{"targets": ["%s:%d" % (masters[0]["address"], s["alertmanager_port"])]}]}
        if am_prefix:
            manager["path_prefix"] = "/" + am_prefix
        config["alerting"] = {"alertmanagers": [manager]}
    return config


def alert_rules(hosts, settings=None):
    """The rules file (as a dict): the expected GPU count of every GPU node (from its
    SKU, recorded as openpai_node_expected_gpus) and the alerts node down, GPU count
    below the SKU, GPU exporter down, GPU read failing, disk almost full, NodeManager
    lost and HDFS DataNode dead."""
    s = _settings(settings)
    hosts = _hosts(hosts)
    expected = [{"record": "openpai_node_expected_gpus", "expr": "vector(%d)" % h["gpu_count"],
                 "labels": {"node_name": h["node_name"]}}
                for h in _kube_hosts(hosts) if h["gpu_count"] > 0]
    free = float(s["disk_free_percent"])
    alerts = [
        _alert("NodeDown", 'up{job="node-exporter"} == 0', s["node_down_for"], "critical",
               "Node {{ $labels.node_name }} ({{ $labels.instance }}) is down: its node-exporter does not answer"),
        _alert("GpuCountBelowSku", "nvidiasmi_attached_gpus < on(node_name) group_left() openpai_node_expected_gpus",
               s["gpu_count_for"], "critical",
               "Node {{ $labels.node_name }} sees {{ $value }} GPU(s), fewer than its SKU's"),
        _alert("GpuExporterDown", 'up{job="gpu-exporter"} == 0', s["gpu_exporter_down_for"], "warning",
               "The GPU exporter of node {{ $labels.node_name }} ({{ $labels.instance }}) does not answer"),
        _alert("GpuReadFailing", "gpu_exporter_read_error == 1", s["gpu_exporter_down_for"], "warning",
               "Node {{ $labels.node_name }} cannot read its GPUs ({{ $labels.reason }})"),
        _alert("DiskAlmostFull",
               'node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"} * 100'
               ' / node_filesystem_size_bytes < %s' % _fmt(free),
               s["disk_for"], "warning",
               "Less than %s%% free on {{ $labels.mountpoint }} of node {{ $labels.node_name }}" % _fmt(free)),
        _alert("NodeManagerLost", "%s > 0" % NODEMANAGERS_LOST, s["hadoop_for"], "critical",
               "YARN has lost {{ $value }} NodeManager(s)"),
        _alert("HdfsDataNodeDead", "%s > 0" % DATANODES_DEAD, s["hadoop_for"], "critical",
               "HDFS has {{ $value }} dead DataNode(s)"),
    ]
    groups = [{"name": "openpai-alerts", "rules": alerts}]
    if expected:
        groups.insert(0, {"name": "openpai-expected", "rules": expected})
    return {"groups": groups}


def _alert(name, expr, duration, severity, summary):
    return {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity},
            "annotations": {"summary": summary}}


def _fmt(number):
    return ("%f" % number).rstrip("0").rstrip(".")
