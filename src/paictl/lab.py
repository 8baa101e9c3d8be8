"""paictl lab up / lab down: the dress rehearsal on local node containers.

paictl only prepares data (which nodes, which GPUs) and writes LAB_INV; the
containers are created by the collection's lab_up playbook (role `lab`)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from paictl import inventory, runner
from paictl.errors import PaictlError

SECRET_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass",
               "ansible_sudo_pass", "ansible_ssh_private_key_file", "ansible_private_key_file")
# Connection settings of the real machines that do not apply to node containers.
CONNECTION_VARS = SECRET_VARS + ("ansible_host", "ansible_port", "ansible_ssh_port", "ansible_user",
                                 "ansible_ssh_user", "ansible_connection", "ansible_ssh_common_args",
                                 "ansible_ssh_extra_args", "ansible_python_interpreter")
_NAME_RE = re.compile(r"[^a-zA-Z0-9_.-]+")


def run(args, out):
    if args.lab_verb == "up":
        return up(args, out)
    return down(args, out)


def lab_name(args):
    name = args.name or Path(args.output).resolve().name
    name = _NAME_RE.sub("-", name).strip("-._") or "openpai-lab"
    return name[:40]


def node_name(lab, host):
    return "%s-%s" % (lab, _NAME_RE.sub("-", host).strip("-"))


def nodes(inv, lab):
    m = inventory.model()
    cluster = inv.cluster_vars()
    skus, _ = m.resolve_skus(cluster.get("openpai_machine_skus"))
    out = []
    for host in m.cluster_hosts(inv.groups):
        sku = skus.get(inv.check_vars()[host].get("openpai_machine_type")) or {}
        out.append({
            "name": node_name(lab, host),
            "hostname": host if m.valid_hostname(host) else _NAME_RE.sub("-", host).lower(),
            "host": host,
            "gpu_count": int(sku.get("gpu_count") or 0),
            "gpu_model": sku.get("gpu_model") or "",
        })
    return out


def lab_inventory(inv, lab, lab_nodes, addresses):
    """LAB_INV: the same groups, SKUs and variables, connecting to the node containers."""
    hosts = [n["host"] for n in lab_nodes]
    per_host = {h: {k: v for k, v in inventory.plain(inv.raw_vars(h)).items() if k not in CONNECTION_VARS}
                for h in hosts}
    common = {}
    if per_host:
        first = per_host[hosts[0]]
        common = {k: v for k, v in first.items() if all(k in per_host[h] and per_host[h][k] == v for h in hosts)}
    common.update({"openpai_lab": True, "openpai_lab_name": lab})
    host_entries = {}
    for node in lab_nodes:
        h = node["host"]
        entry = {k: v for k, v in per_host[h].items() if k not in common}
        entry.update({"ansible_connection": "community.docker.docker", "ansible_host": node["name"],
                      "ansible_user": "root"})
        if addresses.get(h):
            entry["openpai_address"] = addresses[h]
        host_entries[h] = entry
    children = {}
    for group in sorted(inv.groups):
        if group in ("all", "ungrouped"):
            continue
        members = [h for h in inv.groups[group] if h in host_entries]
        if members:
            children[group] = {"hosts": {h: None for h in members}}
    doc = {"all": {"vars": common, "hosts": host_entries, "children": children}}
    return ("# Written by `paictl lab up` from %s: the lab's node containers.\n"
            "# Remove the lab with: paictl lab down -i <this directory>\n---\n" % inv.path
            + yaml.safe_dump(inventory.plain(doc), sort_keys=False, default_flow_style=False).replace(": null\n", ":\n"))


def up(args, out):
    inv = inventory.load(args)
    found = inventory.problems(inv)
    if found:
        raise PaictlError("%s: %d problem(s); no lab was started" % (args.inventory, len(found)), found)
    dest = Path(args.output)
    if dest.exists() and not dest.is_dir():
        raise PaictlError("%s exists and is not a directory" % dest)
    lab = lab_name(args)
    lab_nodes = nodes(inv, lab)
    out.write("lab %r: %d node container(s)\n" % (lab, len(lab_nodes)))
    status, rc, progress = runner.run_playbook(
        "openpai.cluster.lab_up", None, out,
        extravars={"lab_name": lab, "lab_nodes": lab_nodes})
    if status != "successful" or rc != 0:
        raise PaictlError("lab %r could not be started (%s); see the failed task above" % (lab, status),
                          exit_code=rc or 1)
    addresses = progress.artifact_data.get("lab_addresses") or {}
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "hosts.yml").write_text(lab_inventory(inv, lab, lab_nodes, addresses))
    out.write("lab %r is up; its inventory is %s\n  paictl deploy -i %s\n" % (lab, dest, dest))
    return 0


def down(args, out):
    inv = inventory.load(args)
    lab = inv.cluster_vars().get("openpai_lab_name")
    if not lab:
        raise PaictlError("%s is not a lab inventory (no openpai_lab_name); give the LAB_INV that "
                          "`paictl lab up` wrote" % args.inventory)
    status, rc, _ = runner.run_playbook("openpai.cluster.lab_down", None, out, extravars={"lab_name": lab})
    if status != "successful" or rc != 0:
        raise PaictlError("lab %r could not be removed (%s)" % (lab, status), exit_code=rc or 1)
    out.write("lab %r removed\n" % lab)
    return 0
