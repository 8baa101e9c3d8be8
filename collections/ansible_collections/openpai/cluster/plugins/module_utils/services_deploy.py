# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""The platform services on Kubernetes: the data logic of deploying them.

Which services of the table a run acts on (some may be disabled), what a config push
changes (keys whose values differ), the admin password's hash (stable across pushes
of the same password), and the state of each service read back from the API server
(ready or not, on which node, with which image, and why not).

Pure Python over plain data (the resources kubernetes.core.k8s_info returns), shared
by the filters in plugins/filter/services_deploy.py and unit-tested directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from ansible_collections.openpai.cluster.plugins.module_utils import services
from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError

HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 600000
# The node selector that keeps a stopped DaemonSet's pods off every node.
STOPPED_LABEL = "openpai.io/stopped"


def active_table(table, disabled=None):
    """The service table without the `disabled` services (names), and without them
    among the others' prerequisites. A disabled name the table does not have is
    ignored (the default disables webportal, which a custom table may not list)."""
    disabled = [disabled] if isinstance(disabled, str) else list(disabled or ())
    out = []
    for entry in table or ():
        if not isinstance(entry, Mapping):
            out.append(entry)
            continue
        if entry.get("name") in disabled:
            continue
        entry = dict(entry)
        if isinstance(entry.get("prerequisites"), list):
            entry["prerequisites"] = [p for p in entry["prerequisites"] if p not in disabled]
        out.append(entry)
    if not out:
        raise ModelError("services_disabled: every service is disabled")
    return out


_USERNAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
ADMIN_PASSWORD_MIN = 6


def settings_problems(variables):
    """The inventory settings the services need, checked without facts: one message
    per problem, naming the variable (never its value: the password is a secret).

    ``variables``: the cluster's variables (openpai_admin_password,
    openpai_admin_username, pylon_port as the inventory sets them)."""
    variables = variables or {}
    problems = []
    password = variables.get("openpai_admin_password")
    if password is None:
        problems.append("openpai_admin_password: not set (the platform's admin password, needed to deploy the "
                        "services: put it in the inventory's vault)")
    elif not isinstance(password, str) or len(password) < ADMIN_PASSWORD_MIN:
        problems.append("openpai_admin_password: must be a string of at least %d characters" % ADMIN_PASSWORD_MIN)
    username = variables.get("openpai_admin_username", "admin")
    if not isinstance(username, str) or not username or not set(username) <= _USERNAME_CHARS:
        problems.append("openpai_admin_username: must be letters, digits, '_', '.' or '-' (got %r)" % (username,))
    port = variables.get("pylon_port", 80)
    if isinstance(port, bool) or not (isinstance(port, int) or (isinstance(port, str) and port.isdigit())) \
            or not 1 <= int(port) <= 65535:
        problems.append("pylon_port: must be a TCP port number 1-65535 (got %r)" % (port,))
    return problems


def changed_keys(current, desired):
    """Sorted keys whose values differ between two mappings (added, changed or removed)."""
    current = dict(current or {})
    desired = dict(desired or {})
    return sorted(k for k in set(current) | set(desired) if current.get(k) != desired.get(k))


def _hash(password, salt, iterations):
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), iterations)
    return "%s$%d$%s$%s" % (HASH_SCHEME, iterations, salt, base64.b64encode(digest).decode("ascii"))


def verify_password(password, encoded):
    """Whether `encoded` (pbkdf2_sha256$<iterations>$<salt>$<base64 digest>) is `password`'s hash."""
    try:
        scheme, iterations, salt, _ = str(encoded).split("$", 3)
        if scheme != HASH_SCHEME:
            return False
        return hmac.compare_digest(_hash(str(password), salt, int(iterations)), str(encoded))
    except (ValueError, UnicodeEncodeError):
        return False


def password_hash(password, existing=""):
    """A salted PBKDF2-SHA256 hash of `password`; `existing` when it already is that
    password's hash, so pushing an unchanged password changes nothing."""
    if not isinstance(password, str) or not password:
        raise ModelError("openpai_admin_password: must be a non-empty string")
    if existing and verify_password(password, existing):
        return str(existing)
    salt = base64.b64encode(os.urandom(12)).decode("ascii").replace("+", ".").replace("/", "_")
    return _hash(password, salt, HASH_ITERATIONS)


def b64_data(mapping):
    """A Secret's `data` for string values: every value base64-encoded."""
    return {str(k): base64.b64encode(str(v).encode("utf-8")).decode("ascii") for k, v in (mapping or {}).items()}


def decoded_data(secret):
    """A Secret resource's `data` decoded to strings ({} when there is no Secret)."""
    data = ((secret or {}).get("data") or {}) if isinstance(secret, Mapping) else {}
    return {str(k): base64.b64decode(v).decode("utf-8", "replace") for k, v in data.items()}


# ---------------------------------------------------------------- state read back

def _labels_app(resource):
    return ((resource.get("metadata") or {}).get("labels") or {}).get("app")


def workload_ready(resource):
    """Whether a Deployment or DaemonSet resource (as k8s_info returns it) is ready: every
    wanted pod updated and ready (a stopped DaemonSet or a Deployment at 0 replicas is not)."""
    if not resource:
        return False
    kind = resource.get("kind")
    spec = resource.get("spec") or {}
    status = resource.get("status") or {}
    # The controller must have seen this generation (a fresh object has no status yet).
    generation = (resource.get("metadata") or {}).get("generation") or 1
    if status.get("observedGeneration", 0) < generation:
        return False
    if kind == "Deployment":
        wanted = spec.get("replicas", 1)
        return (wanted >= 1 and status.get("readyReplicas", 0) >= wanted
                and status.get("updatedReplicas", 0) >= wanted and status.get("unavailableReplicas", 0) == 0)
    if kind == "DaemonSet":
        selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
        if STOPPED_LABEL in selector:
            return False
        wanted = status.get("desiredNumberScheduled", 0)
        return (status.get("numberReady", 0) >= wanted and status.get("updatedNumberScheduled", 0) >= wanted
                and status.get("numberUnavailable", 0) == 0)
    return False


def pod_reason(pod):
    """Why a pod is not ready, in a few words ('' when it is ready)."""
    status = pod.get("status") or {}
    name = (pod.get("metadata") or {}).get("name", "?")
    node = (pod.get("spec") or {}).get("nodeName")
    where = "pod %s%s" % (name, " on %s" % node if node else "")
    for cond in status.get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return "%s: not scheduled (%s)" % (where, cond.get("message") or cond.get("reason") or "unknown")
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        for key in ("waiting", "terminated"):
            if key in state:
                detail = state[key]
                text = detail.get("reason") or key
                if detail.get("message"):
                    text += ": " + str(detail["message"]).strip()[:300]
                if key == "terminated" and detail.get("exitCode") is not None:
                    text += " (exit code %s)" % detail["exitCode"]
                return "%s: container %s %s" % (where, cs.get("name"), text)
        if not cs.get("ready"):
            last = (cs.get("lastState") or {}).get("terminated") or {}
            extra = " (last exit: %s, code %s)" % (last.get("reason"), last.get("exitCode")) if last else ""
            return "%s: container %s running but not ready (readiness probe failing)%s" % (
                where, cs.get("name"), extra)
    if status.get("phase") not in ("Running", "Succeeded"):
        return "%s: %s" % (where, status.get("phase") or "no status yet")
    return ""


def service_status(table, workloads, pods, plan=None):
    """{name: {ready, node, image, kind, reason}} of every service of `table`, from the
    Deployments/DaemonSets (`workloads`) and pods (label app=<name>) in the namespace.
    node: the node of a Deployment's pod, the sorted comma-joined nodes of a DaemonSet's
    pods, None when none runs; image: the running object's image, else the planned one."""
    planned = {item["service"]: item["ref"] for item in plan or ()}
    by_app = {}
    for resource in workloads or ():
        if resource.get("kind") in services.KINDS:
            by_app[_labels_app(resource) or (resource.get("metadata") or {}).get("name")] = resource
    pods_by_app = {}
    for pod in pods or ():
        pods_by_app.setdefault(_labels_app(pod), []).append(pod)
    out = {}
    for entry in table:
        name = entry["name"]
        resource = by_app.get(name)
        mine = [p for p in pods_by_app.get(name, ()) if not (p.get("metadata") or {}).get("deletionTimestamp")]
        nodes = sorted({(p.get("spec") or {}).get("nodeName") for p in mine} - {None})
        image = planned.get(name) or ""
        if resource:
            containers = ((resource.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
            if containers:
                image = containers[0].get("image") or image
        ready = workload_ready(resource)
        reason = ""
        if not resource:
            reason = "not deployed (no %s %s)" % (entry["kind"], name)
        elif not ready:
            reasons = [r for r in (pod_reason(p) for p in mine) if r]
            if reasons:
                reason = "; ".join(reasons)
            elif resource.get("kind") == "Deployment" and (resource.get("spec") or {}).get("replicas", 1) == 0:
                reason = "stopped (0 replicas)"
            elif STOPPED_LABEL in (((resource.get("spec") or {}).get("template") or {}).get("spec", {})
                                   .get("nodeSelector") or {}):
                reason = "stopped"
            else:
                reason = "pods not ready yet"
        out[name] = {"ready": ready, "node": ",".join(nodes) if nodes else None, "image": image,
                     "kind": entry["kind"], "reason": reason}
    return out


def status_lines(status):
    """One line per service: name, READY/NOT READY, node, image, and why not."""
    width = max([len(n) for n in status] + [7])
    lines = []
    for name, item in status.items():
        line = "%-*s  %-9s  %-20s  %s" % (width, name, "ready" if item["ready"] else "NOT READY",
                                          item["node"] or "-", item["image"])
        if item.get("reason"):
            line += "  (%s)" % item["reason"]
        lines.append(line)
    return lines


def node_images(plan, table, host, groups, gpu_hosts):
    """The image plan items of the services that run on inventory `host`."""
    by_name = {e["name"]: e for e in table}
    return [item for item in plan or () if item["service"] in by_name
            and host in services.service_hosts(by_name[item["service"]], groups, gpu_hosts)]
