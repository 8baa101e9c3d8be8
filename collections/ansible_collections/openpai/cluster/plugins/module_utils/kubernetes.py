# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""The Kubernetes layer's data logic: the artifact table (official URL, mirror or
offline bundle, checksums), SHA256SUMS files and the bundle check, node labels from
machine SKUs, and the node and pod lists the kubernetes.core modules return.

Pure Python over plain data, shared by the filters and unit-tested directly."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping

from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError, resolve_sku

SOURCES = ("url", "mirror", "bundle")
KINDS = ("binary", "archive", "image")
# Where an artifact goes: every Kubernetes node, or control-plane nodes only.
TARGETS = ("all", "control_plane")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9._-]+")

# Node labels this collection owns: a label in this set that a node should no
# longer carry is removed.
MANAGED_LABELS = (
    "openpai.io/machine-type",
    "openpai.io/gpu-model",
    "openpai.io/gpu-count",
    "pai-master",
    "pai-worker",
)


def artifact_problems(artifacts, arch, checksums=True):
    """Every problem of the artifact table for architecture `arch`, one message each.
    With checksums=False (an offline bundle, whose SHA256SUMS is the reference)
    the official checksums and digests may be missing."""
    found = []
    if not isinstance(artifacts, list) or not artifacts:
        return ["kubernetes_artifacts: must be a non-empty list"]
    seen = set()
    for i, entry in enumerate(artifacts):
        where = "kubernetes_artifacts[%d]" % i
        if not isinstance(entry, Mapping):
            found.append("%s: must be a mapping" % where)
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            found.append("%s.name: missing" % where)
        else:
            where = "kubernetes_artifacts[%d] (%s)" % (i, name)
            if name in seen:
                found.append("%s.name: duplicate name %r" % (where, name))
            seen.add(name)
        kind = entry.get("kind")
        if kind not in KINDS:
            found.append("%s.kind: %r is not one of %s" % (where, kind, ", ".join(KINDS)))
        if entry.get("hosts", "all") not in TARGETS:
            found.append("%s.hosts: %r is not one of %s" % (where, entry.get("hosts"), ", ".join(TARGETS)))
        if not isinstance(entry.get("file"), str) or not entry.get("file") or "/" in entry.get("file"):
            found.append("%s.file: must be a plain file name (the name in an offline bundle)" % where)
        if kind == "image":
            if not isinstance(entry.get("ref"), str) or ":" not in entry.get("ref", ""):
                found.append("%s.ref: must be an image reference with a tag" % where)
            digest = (entry.get("digest") or {}).get(arch) if isinstance(entry.get("digest"), Mapping) else None
            if digest is not None and (not isinstance(digest, str) or not _DIGEST.match(digest)):
                found.append("%s.digest.%s: not sha256:<64 hex digits>: %r" % (where, arch, digest))
        elif kind in ("binary", "archive"):
            if not isinstance(entry.get("url"), str) or not entry.get("url", "").startswith(("https://", "http://")):
                found.append("%s.url: must be an http(s) URL" % where)
            sha = (entry.get("sha256") or {}).get(arch) if isinstance(entry.get("sha256"), Mapping) else None
            sha_url = entry.get("sha256_url")
            if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha)):
                found.append("%s.sha256.%s: not 64 lowercase hex digits: %r" % (where, arch, sha))
            elif sha_url is not None and not str(sha_url).startswith(("https://", "http://")):
                found.append("%s.sha256_url: must be an http(s) URL" % where)
            elif checksums and sha is None and not sha_url:
                found.append("%s.sha256.%s: missing (and no sha256_url)" % (where, arch))
            if not isinstance(entry.get("dest"), str) or not entry.get("dest", "").startswith("/"):
                found.append("%s.dest: must be an absolute path" % where)
    return found


def mirror_url(url, mirrors):
    """`url` with the longest matching prefix of `mirrors` (prefix -> replacement) replaced."""
    best = ""
    for prefix in mirrors or {}:
        if url.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if not best:
        return url
    return str(mirrors[best]).rstrip("/") + "/" + url[len(best):].lstrip("/")


def parse_sha256sums(text, origin="SHA256SUMS"):
    """{file name: sha256} from `sha256sum` output (text or binary mode, paths reduced to the name)."""
    sums = {}
    for number, line in enumerate(str(text).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not _SHA256.match(parts[0].lower()):
            raise ModelError("%s line %d: not '<sha256>  <file>': %r" % (origin, number, line))
        name = parts[1].lstrip("*").rsplit("/", 1)[-1]
        sums[name] = parts[0].lower()
    return sums


def artifact_plan(artifacts, arch, source, bundle_dir="", cache_dir="", mirrors=None, bundle_sums=None):
    """Resolve the artifact table into what to fetch and check on the controller.

    Each entry gains: controller_path (where the file lies on the controller),
    fetch_url (url/mirror sources; None for a bundle or an image), sha256 (the
    checksum the file must have: the table's for url/mirror, the bundle's
    SHA256SUMS for a bundle; None for an image pulled from a registry) and
    digest (an image's expected manifest digest)."""
    if source not in SOURCES:
        raise ModelError("kubernetes_artifacts_source: %r is not one of %s" % (source, ", ".join(SOURCES)))
    problems = artifact_problems(artifacts, arch, checksums=source != "bundle")
    if problems:
        raise ModelError("; ".join(problems))
    if source == "bundle" and not bundle_dir:
        raise ModelError("kubernetes_bundle_dir: required when kubernetes_artifacts_source is bundle")
    plan = []
    for entry in artifacts:
        item = dict(entry)
        item.setdefault("hosts", "all")
        item["digest"] = (entry.get("digest") or {}).get(arch) if entry["kind"] == "image" else None
        if source == "bundle":
            item["controller_path"] = "%s/%s" % (str(bundle_dir).rstrip("/"), entry["file"])
            item["fetch_url"] = None
            item["sha256"] = (bundle_sums or {}).get(entry["file"])
        elif entry["kind"] == "image":
            # Pulled by each node's containerd (registry mirrors: containerd_registry_mirrors).
            item["controller_path"] = None
            item["fetch_url"] = None
            item["sha256"] = None
        else:
            item["controller_path"] = "%s/%s" % (str(cache_dir).rstrip("/"), entry["file"])
            item["fetch_url"] = mirror_url(entry["url"], mirrors if source == "mirror" else None)
            pinned = (entry.get("sha256") or {}).get(arch)
            item["sha256"] = pinned
            # get_url's checksum: the pinned value, else the published checksum file.
            item["checksum"] = "sha256:" + (pinned or mirror_url(entry["sha256_url"], mirrors if source == "mirror" else None))
        item.setdefault("checksum", None)
        plan.append(item)
    return plan


def label_value(text):
    """A Kubernetes label value for free text: runs of other characters become '-',
    trimmed to 63 characters, starting and ending alphanumeric."""
    value = _LABEL_VALUE_BAD.sub("-", str(text)).strip("-_.")[:63].rstrip("-_.")
    return value


def node_labels(skus, machine_type, groups):
    """The labels a node carries: its SKU (machine type, GPU model and count) and
    its OpenPAI roles (pai-master / pai-worker from the inventory groups)."""
    if not isinstance(skus, Mapping) or machine_type not in skus:
        raise ModelError("SKU %r is not defined in openpai_machine_skus" % (machine_type,))
    sku = resolve_sku(machine_type, skus[machine_type])
    labels = {
        "openpai.io/machine-type": label_value(machine_type),
        "openpai.io/gpu-count": str(int(sku["gpu_count"])),
    }
    if int(sku["gpu_count"]) > 0 and sku.get("gpu_model"):
        labels["openpai.io/gpu-model"] = label_value(sku["gpu_model"])
    groups = set(groups or ())
    if "pai_master" in groups:
        labels["pai-master"] = "true"
    if "pai_worker" in groups:
        labels["pai-worker"] = "true"
    return labels


def label_changes(current, desired):
    """kubectl label arguments that turn the node's `current` labels into `desired`
    for the labels this collection manages ([] when nothing changes)."""
    current = current or {}
    args = []
    for key in MANAGED_LABELS:
        want = desired.get(key)
        have = current.get(key)
        if want is None and have is not None:
            args.append("%s-" % key)
        elif want is not None and want != have:
            args.append("%s=%s" % (key, want))
    return args


def api_service_ip(service_subnet):
    """The API server's service IP: the first address of the service network."""
    try:
        net = ipaddress.ip_network(str(service_subnet), strict=False)
    except ValueError as exc:
        raise ModelError("kubernetes_service_subnet: %s" % exc) from None
    return str(net.network_address + 1)


def _condition(obj, kind):
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == kind:
            return cond.get("status") == "True"
    return False


def _items(objects):
    """The objects of a list: k8s_info's ``resources`` (a list), a ``{"items": [...]}``
    document, or that document as JSON text (``kubectl get -o json``)."""
    if isinstance(objects, str):
        try:
            objects = json.loads(objects)
        except ValueError as exc:
            raise ModelError("not a Kubernetes object list (JSON): %s" % exc) from None
    if isinstance(objects, Mapping):
        objects = objects.get("items") or []
    if not isinstance(objects, (list, tuple)):
        raise ModelError("not a Kubernetes object list: %s" % type(objects).__name__)
    return list(objects)


def ready_nodes(node_list):
    """Names of the Ready nodes of a node list (k8s_info resources, or a List document)."""
    return sorted(n["metadata"]["name"] for n in _items(node_list) if _condition(n, "Ready"))


def ready_pods(pod_list):
    """Names of the Running pods whose containers are all ready, from a pod list."""
    names = []
    for pod in _items(pod_list):
        status = pod.get("status") or {}
        containers = status.get("containerStatuses") or []
        if status.get("phase") == "Running" and containers and all(c.get("ready") for c in containers):
            names.append(pod["metadata"]["name"])
    return sorted(names)


def node_problems(node_list, expected):
    """One message per expected node ({name: desired labels}) that is missing, not Ready,
    or whose managed labels differ."""
    nodes = {n["metadata"]["name"]: n for n in _items(node_list)}
    found = []
    for name, labels in sorted(expected.items()):
        node = nodes.get(name)
        if node is None:
            found.append("node %s: not in the cluster" % name)
            continue
        if not _condition(node, "Ready"):
            found.append("node %s: not Ready" % name)
        diff = label_changes(node["metadata"].get("labels") or {}, labels)
        if diff:
            found.append("node %s: labels differ from its SKU (%s)" % (name, " ".join(diff)))
    return found


def expected_labels(hosts, hostvars, skus):
    """{node name: labels} for inventory `hosts`, from each host's SKU and groups
    (hostvars: the hosts' variables; the node name is kubernetes_node_name, else the host)."""
    expected = {}
    for host in hosts:
        hv = hostvars[host]
        name = hv.get("kubernetes_node_name") or host
        expected[str(name)] = node_labels(skus, hv.get("openpai_machine_type"), hv.get("group_names") or ())
    return expected


def label_patch(current, desired):
    """The JSON merge patch of ``metadata.labels`` that turns the node's ``current``
    labels into ``desired`` for the labels this collection manages: {label: value}
    to set, {label: None} to remove; {} when nothing changes."""
    current = current or {}
    patch = {}
    for key in MANAGED_LABELS:
        want = desired.get(key)
        have = current.get(key)
        if want is None and have is not None:
            patch[key] = None
        elif want is not None and want != have:
            patch[key] = want
    return patch


def label_plan(node_list, expected):
    """[{name, changes, patch}] per expected node present in the node list (k8s_info
    resources or a List document) whose managed labels differ: ``changes`` in
    ``kubectl label`` notation (for people), ``patch`` the merge patch of its labels.
    Nodes needing no change, and nodes not (yet) in the cluster, are left out."""
    current = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in _items(node_list)}
    plan = []
    for name, labels in sorted(expected.items()):
        if name in current:
            changes = label_changes(current[name], labels)
            if changes:
                plan.append({"name": name, "changes": changes, "patch": label_patch(current[name], labels)})
    return plan


def _stat_item(result):
    """(plan entry, stat) of one result of the bundle's stat loop."""
    if not isinstance(result, Mapping) or not isinstance(result.get("item"), Mapping):
        raise ModelError("bundle check: not a result of the stat loop over kubernetes_artifact_plan: %r"
                         % (result,))
    return result["item"], result.get("stat") or {}


def bundle_problems(stat_results, bundle_dir):
    """One message per file of an offline bundle that cannot be used, from the
    results of ``ansible.builtin.stat`` (sha256) looped over the artifact plan:
    missing, not a regular file, unreadable, not listed in SHA256SUMS, or whose
    SHA-256 differs from the one SHA256SUMS lists. [] when every file is good."""
    sums = "%s/SHA256SUMS" % str(bundle_dir).rstrip("/")
    found = []
    for result in stat_results or ():
        item, stat = _stat_item(result)
        path = item.get("controller_path") or item.get("file")
        if result.get("failed"):
            found.append("%s: cannot be read: %s" % (path, result.get("msg") or "stat failed"))
        elif not stat.get("exists"):
            found.append("%s: missing" % path)
        elif not stat.get("isreg", True):
            found.append("%s: not a regular file" % path)
        elif not item.get("sha256"):
            found.append("%s: not listed in %s" % (item.get("file"), sums))
        elif not stat.get("checksum"):
            found.append("%s: not readable (no checksum)" % path)
        elif stat["checksum"] != item["sha256"]:
            found.append("%s: SHA-256 %s does not match %s in SHA256SUMS" % (path, stat["checksum"], item["sha256"]))
    return found


def download_problems(results):
    """One line per failed download of a get_url loop over the artifact plan
    (``ansible_failed_result.results``): the artifact, its URL, the attempts and the error."""
    found = []
    for result in results or ():
        if not isinstance(result, Mapping) or not result.get("failed"):
            continue
        item = result.get("item") if isinstance(result.get("item"), Mapping) else {}
        attempts = result.get("attempts")
        found.append("%s: %s%s: %s" % (
            item.get("name", "?"), item.get("fetch_url") or result.get("url") or "?",
            " (%s attempts)" % attempts if attempts else "",
            " ".join(str(result.get("msg") or "download failed").split())))
    return found
