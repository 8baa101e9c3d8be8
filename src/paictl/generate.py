"""paictl config generate: an inventory directory from an OpenPAI v0.14 quick-start.yaml.

The first machine is the master (kube_control_plane + pai_master), the others are
workers (kube_node + pai_worker); a single machine is all four. Inventory hostnames
are the IPs, as OpenPAI named its nodes. No machine is contacted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml

from paictl import inventory
from paictl.errors import PaictlError

GENERIC_SKU = "generic"
HEADER = "# Written by `paictl config generate` from %s.\n"
SKU_NOTE = """\
# quick-start.yaml says nothing about the machines' hardware, so every host starts
# with the SKU below. Edit it (or add SKUs and set openpai_machine_type per host)
# to match your machines: YARN's memory, vcores and GPUs are computed from it, and
# the preflight checks compare it with each machine's real memory, CPUs and GPUs.
"""


def run(args, out):
    source = Path(args.input)
    try:
        text = source.read_text()
    except OSError as exc:
        raise PaictlError("%s: cannot read: %s" % (args.input, exc.strerror)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " (line %d, column %d)" % (mark.line + 1, mark.column + 1) if mark else ""
        raise PaictlError("%s: not valid YAML%s: %s" % (args.input, where, getattr(exc, "problem", exc))) from None
    spec, problems = inventory.layout_model().parse_quick_start(data, args.input)
    if problems:
        raise PaictlError("%s: %d problem(s); nothing written" % (args.input, len(problems)), problems)

    dest = Path(args.output)
    if dest.exists() and not dest.is_dir():
        raise PaictlError("%s exists and is not a directory" % dest)
    if dest.is_dir() and any(dest.iterdir()) and not args.force:
        raise PaictlError("%s exists and is not empty; pass --force to overwrite it" % dest)

    files = inventory_files(spec, source.name)
    staging = Path(tempfile.mkdtemp(prefix=".paictl-", dir=str(dest.parent.resolve()) if dest.parent.exists()
                                    else None))
    try:
        for rel, (content, mode) in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            os.chmod(str(path), mode)
        if dest.exists():
            shutil.rmtree(str(dest))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(dest))
        os.chmod(str(dest), 0o755)
    finally:
        if staging.exists():
            shutil.rmtree(str(staging), ignore_errors=True)

    masters, workers = spec["machines"][:1], spec["machines"][1:] or spec["machines"][:1]
    out.write("wrote inventory %s: %d host(s), master %s, worker(s) %s\n"
              % (dest, len(spec["machines"]), masters[0], ", ".join(workers)))
    if spec["ssh_password"]:
        out.write("the SSH password is in %s (mode 0600); encrypt it with:\n  ansible-vault encrypt %s\n"
                  % (dest / "group_vars/all/vault.yml", dest / "group_vars/all/vault.yml"))
    out.write("edit the %r SKU in %s to match your machines, then run:\n  paictl check -i %s\n"
              % (GENERIC_SKU, dest / "group_vars/all/main.yml", dest))
    return 0


def inventory_files(spec, source_name):
    """{relative path: (content, mode)} of the inventory directory."""
    ips = spec["machines"]
    master, workers = ips[0], (ips[1:] or ips[:1])
    hosts = {ip: {"ansible_host": ip} for ip in ips}
    inv = {"all": {"children": {
        "kube_control_plane": {"hosts": {master: hosts[master]}},
        "kube_node": {"hosts": {ip: None for ip in workers}},
        "pai_master": {"hosts": {master: None}},
        "pai_worker": {"hosts": {ip: None for ip in workers}},
    }}}
    if len(ips) > 1:
        inv["all"]["children"]["kube_node"]["hosts"] = {ip: hosts[ip] for ip in workers}

    main = {"ansible_user": spec["ssh_username"], "ansible_port": spec["ssh_port"], "ansible_become": True}
    if spec["ssh_keyfile"]:
        main["ansible_ssh_private_key_file"] = spec["ssh_keyfile"]
    if spec["dns"]:
        main["openpai_dns_servers"] = spec["dns"]
    if spec["service_cidr"]:
        main["openpai_service_cidr"] = spec["service_cidr"]
    main["openpai_machine_type"] = GENERIC_SKU
    skus = {"openpai_machine_skus": {GENERIC_SKU: {"mem": "16Gi", "cpu": {"vcore": 8}}}}
    vcs = {"openpai_virtual_clusters": {"default": {"capacity": 100}}}

    header = HEADER % source_name
    files = {
        "hosts.yml": (header + "---\n" + yaml.safe_dump(inv, default_flow_style=False, sort_keys=False)
                      .replace(" null\n", "\n"), 0o644),
        "group_vars/all/main.yml": (header + "---\n" + yaml.safe_dump(main, sort_keys=False) + "\n" + SKU_NOTE
                                    + "# GPU machines: add gpu: {type: Tesla K80, count: 4}\n"
                                    + yaml.safe_dump(skus, sort_keys=False) + "\n"
                                    + "# Virtual clusters (YARN queues); capacities sum to 100.\n"
                                    + yaml.safe_dump(vcs, sort_keys=False), 0o644),
    }
    if spec["ssh_password"]:
        secrets = {"ansible_password": spec["ssh_password"], "ansible_become_password": spec["ssh_password"]}
        files["group_vars/all/vault.yml"] = (
            header + "# Secrets: keep this file mode 0600 and encrypt it with ansible-vault encrypt.\n---\n"
            + yaml.safe_dump(secrets, sort_keys=False), 0o600)
    return files
