# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""OpenPAI inputs read unchanged: ``layout.yaml`` (v0.14 and v1.x) and
``quick-start.yaml`` (v0.14), turned into the inventory model.

Readers collect problems instead of raising, so that every problem of a file
is reported at once; only a file that is not a mapping at all is fatal.
"""

from __future__ import annotations

from ansible_collections.openpai.cluster.plugins.module_utils import model

# layout.yaml machine keys mapped to Ansible connection variables.
_CONNECTION_KEYS = {
    "username": "ansible_user",
    "password": "ansible_password",
    "sshport": "ansible_port",
    "ssh-port": "ansible_port",
    "keyfile-path": "ansible_ssh_private_key_file",
    "ssh-keyfile-path": "ansible_ssh_private_key_file",
}
_ROLE_FLAGS = ("pai-master", "pai-worker")
SECRET_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass",
               "ansible_sudo_pass")


def _flag(value, where, problems):
    """OpenPAI writes role flags as the strings "true"/"false"; YAML booleans are accepted too."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append('%s: must be "true" or "false", got %r' % (where, value))
    return False


def port_number(value):
    """``value`` as a TCP port (1..65535), or None when it is not one (words, ``.inf``, ``nan``, 3.5, 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 < value < 65536:
        return None
    return value


def looks_like_layout(data):
    return isinstance(data, dict) and "machine-list" in data


def parse_layout(data, source="layout.yaml"):
    """Return ``{"groups", "hostvars", "all_vars", "problems"}`` for a layout document."""
    problems = []
    groups = {g: [] for g in model.CLUSTER_GROUPS}
    hostvars = {}
    all_vars = {}
    if data is None:
        return {"groups": groups, "hostvars": hostvars, "all_vars": all_vars,
                "problems": ["%s: the file is empty (an OpenPAI layout has machine-sku and machine-list)" % source]}
    if not isinstance(data, dict):
        return {"groups": groups, "hostvars": hostvars, "all_vars": all_vars,
                "problems": ["%s: expected a mapping with machine-sku and machine-list, got %s"
                             % (source, type(data).__name__)]}

    skus = data.get("machine-sku")
    if skus is None:
        problems.append("%s: field 'machine-sku' is missing" % source)
    elif not isinstance(skus, dict):
        problems.append("%s: field 'machine-sku' must be a mapping of SKU name to {mem, cpu, gpu}" % source)
    elif not skus:
        problems.append("%s: field 'machine-sku' is empty (define at least one machine SKU)" % source)
    else:
        all_vars["openpai_machine_skus"] = skus

    defaults = data.get("default-machine-properties") or {}
    if not isinstance(defaults, dict):
        problems.append("%s: field 'default-machine-properties' must be a mapping" % source)
        defaults = {}

    cluster = data.get("cluster")
    if isinstance(cluster, dict):
        common = cluster.get("common") or {}
        if isinstance(common, dict):
            if common.get("cluster-id"):
                all_vars["openpai_cluster_id"] = str(common["cluster-id"])
            if common.get("data-path"):
                all_vars["openpai_data_path"] = str(common["data-path"])
        all_vars["openpai_layout_cluster"] = cluster

    machines = data.get("machine-list")
    if not isinstance(machines, list) or not machines:
        problems.append("%s: field 'machine-list' must be a non-empty list of machines" % source)
        machines = []

    seen_ips = {}
    for index, machine in enumerate(machines):
        where = "%s: machine-list[%d]" % (source, index)
        if not isinstance(machine, dict):
            problems.append("%s: expected a mapping with hostname, hostip and machine-type" % where)
            continue
        merged = dict(defaults)
        merged.update(machine)
        name = merged.get("hostname")
        if not name or not isinstance(name, str):
            problems.append("%s: field 'hostname' is missing" % where)
            continue
        where = "%s (%s)" % (where, name)
        if name in hostvars:
            problems.append("%s: field 'hostname': %r is listed twice" % (where, name))
            continue
        hv = {}
        ip = merged.get("hostip")
        if ip is None:
            problems.append("%s: field 'hostip' is missing" % where)
        elif not model.valid_ipv4(ip):
            problems.append("%s: field 'hostip': %r is not a valid IPv4 address" % (where, ip))
        elif str(ip) in seen_ips:
            problems.append("%s: field 'hostip': %s is also the address of %r" % (where, ip, seen_ips[str(ip)]))
        else:
            seen_ips[str(ip)] = name
            hv["ansible_host"] = str(ip)
        if ip is not None and "ansible_host" not in hv:
            hv["openpai_layout_hostip"] = str(ip)
        sku = merged.get("machine-type")
        if not sku:
            problems.append("%s: field 'machine-type' is missing" % where)
        else:
            hv["openpai_machine_type"] = str(sku)
        for key, var in _CONNECTION_KEYS.items():
            if merged.get(key) not in (None, ""):
                hv[var] = merged[key]
        if "ansible_port" in hv:
            port = port_number(hv["ansible_port"])
            if port is None:
                field = "ssh-port" if merged.get("ssh-port") not in (None, "") else "sshport"
                problems.append("%s: field %r: %r is not a port number (1-65535)"
                                % (where, field, hv["ansible_port"]))
                del hv["ansible_port"]
            else:
                hv["ansible_port"] = port

        before = len(problems)
        is_master = _flag(merged.get("pai-master"), "%s: field 'pai-master'" % where, problems)
        is_worker = _flag(merged.get("pai-worker"), "%s: field 'pai-worker'" % where, problems)
        k8s_role = merged.get("k8s-role")
        if k8s_role is None:
            kube_cp, kube_node = is_master, is_worker or not is_master
        elif k8s_role in ("master", "worker"):
            kube_cp, kube_node = k8s_role == "master", k8s_role == "worker"
        else:
            problems.append('%s: field \'k8s-role\': must be "master" or "worker", got %r' % (where, k8s_role))
            kube_cp = kube_node = False
        # A further Kubernetes master of a v0.14 layout (k8s-role master, neither flag "true") is a
        # control-plane host only.
        if not is_master and not is_worker and not kube_cp and len(problems) == before:
            problems.append('%s: neither pai-master nor pai-worker is "true"; the machine would have no role'
                            % where)
        for group, member in ((model.GROUP_KUBE_CONTROL_PLANE, kube_cp), (model.GROUP_KUBE_NODE, kube_node),
                              (model.GROUP_PAI_MASTER, is_master), (model.GROUP_PAI_WORKER, is_worker)):
            if member:
                groups[group].append(name)
        extra = {k: v for k, v in merged.items()
                 if k not in _CONNECTION_KEYS and k not in _ROLE_FLAGS
                 and k not in ("hostname", "hostip", "machine-type", "k8s-role")}
        if extra:
            hv["openpai_layout_properties"] = extra
        hostvars[name] = hv
    return {"groups": groups, "hostvars": hostvars, "all_vars": all_vars, "problems": problems}


def parse_quick_start(data, source="quick-start.yaml"):
    """OpenPAI v0.14 quick-start.yaml: the first machine is the master, the others
    workers (a single machine is both). Inventory hostnames are the IPs."""
    problems = []
    if data is None:
        return None, ["%s: the file is empty (a quick-start.yaml has machines and ssh-username)" % source]
    if not isinstance(data, dict):
        return None, ["%s: expected a mapping with 'machines' and 'ssh-username', got %s"
                      % (source, type(data).__name__)]
    known = {"machines", "ssh-username", "ssh-password", "ssh-keyfile-path", "ssh-port", "dns",
             "service-cluster-ip-range"}
    for key in sorted(set(data) - known, key=str):
        problems.append("%s: unknown field %r (known: %s)" % (source, key, ", ".join(sorted(known))))
    machines = data.get("machines")
    ips = []
    if not isinstance(machines, list) or not machines:
        problems.append("%s: field 'machines' must be a non-empty list of IPv4 addresses" % source)
    else:
        for index, ip in enumerate(machines):
            if not model.valid_ipv4(ip):
                problems.append("%s: field 'machines[%d]': %r is not a valid IPv4 address" % (source, index, ip))
            elif str(ip) in ips:
                problems.append("%s: field 'machines[%d]': %s is listed twice" % (source, index, ip))
            else:
                ips.append(str(ip))
    user = data.get("ssh-username")
    if not user or not isinstance(user, str):
        problems.append("%s: field 'ssh-username' is missing" % source)
    password, keyfile = data.get("ssh-password"), data.get("ssh-keyfile-path")
    if password in (None, "") and keyfile in (None, ""):
        problems.append("%s: give 'ssh-password' or 'ssh-keyfile-path' to log in to the machines" % source)
    port = port_number(data.get("ssh-port", 22))
    if port is None:
        problems.append("%s: field 'ssh-port': %r is not a port number (1-65535)" % (source, data.get("ssh-port")))
    dns = data.get("dns")
    if dns not in (None, "") and not all(model.valid_ipv4(d.strip()) for d in str(dns).split(",")):
        problems.append("%s: field 'dns': %r is not a (comma-separated list of) IPv4 address(es)" % (source, dns))
    cidr = data.get("service-cluster-ip-range")
    if cidr not in (None, ""):
        import ipaddress
        try:
            ipaddress.IPv4Network(str(cidr))
        except ValueError:
            problems.append("%s: field 'service-cluster-ip-range': %r is not an IPv4 network such as "
                            "10.254.0.0/16" % (source, cidr))
    if problems:
        return None, problems
    spec = {
        "machines": ips,
        "ssh_username": user,
        "ssh_password": None if password in (None, "") else str(password),
        "ssh_keyfile": None if keyfile in (None, "") else str(keyfile),
        "ssh_port": port,
        "dns": [d.strip() for d in str(dns).split(",")] if dns not in (None, "") else [],
        "service_cidr": str(cidr) if cidr not in (None, "") else None,
    }
    return spec, []
