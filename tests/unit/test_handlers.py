"""Each daemon has one restart handler, in the role that owns its configuration.

A second handler restarting the same unit (with its own conditions) is how two roles end up
disagreeing about when a daemon may be restarted; roles of other plays import the owner's
handlers instead (see roles/containerd/tasks/handlers.yml)."""

from collections import defaultdict
from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[2] / "collections/ansible_collections/openpai/cluster/roles"
SERVICE_MODULES = ("ansible.builtin.systemd_service", "ansible.builtin.systemd", "ansible.builtin.service")


def restart_handlers():
    """``{unit: [(role, handler name)]}`` for every handler that restarts or reloads a unit."""
    found = defaultdict(list)
    for path in sorted(ROLES.glob("*/handlers/main.yml")):
        for handler in yaml.safe_load(path.read_text()) or []:
            for module in SERVICE_MODULES:
                args = handler.get(module)
                if isinstance(args, dict) and args.get("state") in ("restarted", "reloaded"):
                    found[args["name"]].append((path.parents[1].name, handler["name"]))
    return found


def test_every_daemon_has_one_restart_handler():
    handlers = restart_handlers()
    assert "containerd" in handlers and "docker" in handlers  # the scan sees the handlers it checks
    shared = {unit: owners for unit, owners in handlers.items() if len(owners) > 1}
    assert not shared, "units restarted by more than one handler: %s" % shared


def test_kubernetes_node_notifies_containerds_own_handler():
    tasks = yaml.safe_load((ROLES / "kubernetes_node/tasks/main.yml").read_text())
    imports = [t["ansible.builtin.import_role"] for t in tasks if "ansible.builtin.import_role" in t]
    assert {"name": "openpai.cluster.containerd", "tasks_from": "handlers"} in imports
    names = {h["name"] for h in yaml.safe_load((ROLES / "containerd/handlers/main.yml").read_text())}
    notifies = [t["notify"] if isinstance(t["notify"], list) else [t["notify"]] for t in tasks if "notify" in t]
    notified = {name for targets in notifies for name in targets if "containerd" in name.lower()}
    assert notified and notified <= names
