"""paictl lab up / lab down: the dress rehearsal on local node containers.

paictl only prepares data (which nodes, which GPUs) and writes LAB_INV; the
containers are created by the collection's lab_up playbook (role `lab`)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import yaml

from paictl import inventory, project, runner
from paictl.errors import PaictlError

SECRET_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass",
               "ansible_sudo_pass", "ansible_ssh_private_key_file", "ansible_private_key_file")
# Connection settings of the real machines that do not apply to node containers.
CONNECTION_VARS = SECRET_VARS + ("ansible_host", "ansible_port", "ansible_ssh_port", "ansible_user",
                                 "ansible_ssh_user", "ansible_connection", "ansible_ssh_common_args",
                                 "ansible_ssh_extra_args", "ansible_python_interpreter")
_NAME_RE = re.compile(r"[^a-zA-Z0-9_.-]+")
# Settings every lab needs but a user may still choose: the nodes share one
# Docker network (layer 2) and the shared kernel may lack vxlan.
LAB_DEFAULT_VARS = {"kubernetes_flannel_backend": "host-gw"}
# The platform's secrets: never in hosts.yml; the lab keeps them (the inventory's,
# or a generated admin password) in group_vars/all/secrets.yml, mode 0600.
PLATFORM_SECRET_VARS = ("openpai_admin_password",)
SECRETS_FILE = Path("group_vars") / "all" / "secrets.yml"


def cache_root(env=None) -> Path:
    """The per-machine cache of offline bundles, as tools/lib/cache.sh computes it:
    $OPENPAI_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/openpai-ansible."""
    env = os.environ if env is None else env
    if env.get("OPENPAI_CACHE_DIR"):
        return Path(env["OPENPAI_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".cache")
    return Path(base) / "openpai-ansible"


# The job image every lab worker has (a contract: jobs name it without a registry).
LAB_JOB_IMAGE = "openpai/lab-job:1"


def fixture_driver_branch() -> str:
    """The driver branch the lab's nvidia-smi fixture answers with (role lab's
    lab_gpu_driver_version, e.g. 550.54.15 -> "550")."""
    version = str(inventory.role_defaults("lab").get("lab_gpu_driver_version") or "")
    branch = version.split(".")[0]
    if not branch.isdigit():
        raise PaictlError("role lab: lab_gpu_driver_version %r is not a driver version like 550.54.15" % version)
    return branch


def lab_sources(root: Path, driver_branch: str) -> dict:
    """The variables that make every layer deploy from the bundles under ``root``
    (the stable per-version paths tools/lib/cache.sh publishes in root/bundles),
    and the fixture's driver branch. Nothing outside this machine is reachable
    from a lab's nodes, so these replace whatever the source inventory says.
    Versions stay templates: the inventory's own *_version settings pick the bundle."""
    bundles = Path(root) / "bundles"
    return {
        "hadoop_dist_source": "bundle",
        "hadoop_dist_bundle_dir": "%s/hadoop-{{ hadoop_version }}" % bundles,
        "hadoop_dist_sha512": "",   # the .sha512 file next to the bundle's tarball
        "nvidia_container_toolkit_source": "bundle",
        "nvidia_container_toolkit_bundle_dir": "%s/nvidia-container-toolkit-v{{ nvidia_container_toolkit_version }}"
                                               % bundles,
        "kubernetes_artifacts_source": "bundle",
        "kubernetes_bundle_dir": "%s/kubernetes-{{ kubernetes_version }}" % bundles,
        "services_image_source": "bundle",
        "services_bundle_dir": "%s/services-{{ services_image_tag }}" % bundles,
        "nvidia_driver_branch": driver_branch,
        # the lab's job image (tools/services/build-images.sh), loaded on every worker
        "job_runtime_images": [{"name": LAB_JOB_IMAGE,
                                "file": "%s/lab-job-1/openpai_lab-job_1.tar" % bundles}],
    }


def run(args, out):
    if args.lab_verb == "up":
        return up(args, out)
    if args.lab_verb == "info":
        return info(args, out)
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


def lab_inventory(inv, lab, lab_nodes, addresses, sources):
    """LAB_INV: the same groups, SKUs and variables, connecting to the node containers.

    ``sources`` (see lab_sources) replace the inventory's artifact sources on every
    host; LAB_DEFAULT_VARS apply where the inventory sets nothing else."""
    hosts = [n["host"] for n in lab_nodes]
    dropped = set(CONNECTION_VARS) | set(PLATFORM_SECRET_VARS) | set(sources)
    per_host = {h: {k: v for k, v in inventory.plain(inv.raw_vars(h)).items() if k not in dropped}
                for h in hosts}
    common = {}
    if per_host:
        first = per_host[hosts[0]]
        common = {k: v for k, v in first.items() if all(k in per_host[h] and per_host[h][k] == v for h in hosts)}
    for key, value in LAB_DEFAULT_VARS.items():
        common.setdefault(key, value)
    common.update(sources)
    common.update({"openpai_lab": True, "openpai_lab_name": lab})
    host_entries = {}
    for node in lab_nodes:
        h = node["host"]
        entry = {k: v for k, v in per_host[h].items() if k not in common or common[k] != v}
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
    found = inventory.problems(inv, addresses_given=False)  # the lab gives each node its address
    if found:
        raise PaictlError("%s: %d problem(s); no lab was started" % (args.inventory, len(found)), found)
    dest = Path(args.output)
    if dest.exists() and not dest.is_dir():
        raise PaictlError("%s exists and is not a directory" % dest)
    lab = lab_name(args)
    lab_nodes = nodes(inv, lab)
    root = cache_root()
    sources = lab_sources(root, fixture_driver_branch())
    out.write("lab %r: %d node container(s)\n" % (lab, len(lab_nodes)))
    if not (root / "bundles").is_dir():
        out.write("note: no offline bundles in %s yet; build them with `make bundles` before deploying\n"
                  % (root / "bundles"))
    status, rc, progress = runner.run_playbook(
        "openpai.cluster.lab_up", None, out,
        extravars={"lab_name": lab, "lab_nodes": lab_nodes})
    if status != "successful" or rc != 0:
        raise PaictlError("lab %r could not be started (%s); see the failed task above" % (lab, status),
                          exit_code=rc or 1)
    addresses = progress.artifact_data.get("lab_addresses") or {}
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "hosts.yml").write_text(lab_inventory(inv, lab, lab_nodes, addresses, sources))
    write_secrets(dest, lab_secrets(inv, dest))
    out.write("lab %r is up; its inventory is %s (artifacts from the bundles in %s, the admin password in %s)\n"
              "  paictl deploy -i %s\n" % (lab, dest, root / "bundles", dest / SECRETS_FILE, dest))
    return 0


def lab_secrets(inv, dest: Path) -> dict:
    """The platform secrets of the lab: the inventory's own where it sets them, else
    what an earlier `lab up` wrote to ``dest`` (a re-run keeps the password), else a
    generated admin password."""
    cluster = inventory.plain(inv.cluster_vars())
    earlier = {}
    path = Path(dest) / SECRETS_FILE
    if path.is_file():
        loaded = yaml.safe_load(path.read_text()) or {}
        earlier = loaded if isinstance(loaded, dict) else {}
    out = {}
    for key in PLATFORM_SECRET_VARS:
        value = cluster.get(key) or earlier.get(key)
        out[key] = str(value) if value else secrets.token_urlsafe(12)
    return out


def write_secrets(dest: Path, values: dict) -> Path:
    """``values`` as group_vars/all/secrets.yml of the lab inventory, created 0600."""
    path = Path(dest) / SECRETS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Written by `paictl lab up`: the lab's platform secrets (mode 0600, never in hosts.yml).\n---\n")
        handle.write(yaml.safe_dump(values, sort_keys=True, default_flow_style=False))
    os.chmod(path, 0o600)
    return path


def entrance(inv) -> dict:
    """Where a lab's users go: pylon on the first pai_master host, and the admin login."""
    masters = list(inv.groups.get("pai_master") or [])
    if not masters:
        raise PaictlError("%s: no pai_master host, so no pylon" % inv.path)
    master = masters[0]
    project.init_ansible()
    from ansible_collections.openpai.cluster.plugins.module_utils import profile
    address, _ = profile.host_address(master, inventory.plain(inv.raw_vars(master)))
    if address is None:
        raise PaictlError("%s: host %s has no address (openpai_address); bring the lab up with `paictl lab up`"
                          % (inv.path, master))
    cluster = inventory.plain(inv.cluster_vars())
    port = int(inventory.plain(inv.all_vars()).get("pylon_port") or 80)
    url = "http://%s%s/" % (address, "" if port == 80 else ":%d" % port)
    return {"url": url, "username": cluster.get("openpai_admin_username") or "admin",
            "password_file": str((inv.path if inv.path.is_dir() else inv.path.parent) / SECRETS_FILE)}


def lab_of(inv, args) -> str:
    """The lab name of a lab inventory (LAB_INV), or a PaictlError saying it is not one."""
    lab = inv.cluster_vars().get("openpai_lab_name")
    if not lab:
        raise PaictlError("%s is not a lab inventory (no openpai_lab_name); give the LAB_INV that "
                          "`paictl lab up` wrote" % args.inventory)
    return lab


def info(args, out):
    inv = inventory.load(args)
    lab_of(inv, args)
    where = entrance(inv)
    out.write("The platform: %s (pylon)\n  web portal: %s (open it in a browser on this machine)\n"
              "  log in as %s; the password is openpai_admin_password in %s\n"
              "  admin UIs: %syarn/ %shdfs/ %sprometheus/ %salertmanager/\n"
              % (where["url"], where["url"], where["username"], where["password_file"],
                 where["url"], where["url"], where["url"], where["url"]))
    return 0


def down(args, out):
    inv = inventory.load(args)
    lab = lab_of(inv, args)
    status, rc, _ = runner.run_playbook("openpai.cluster.lab_down", None, out, extravars={"lab_name": lab})
    if status != "successful" or rc != 0:
        raise PaictlError("lab %r could not be removed (%s)" % (lab, status), exit_code=rc or 1)
    out.write("lab %r removed\n" % lab)
    return 0
