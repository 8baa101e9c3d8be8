"""Where the project (site.yml, ansible.cfg, the collection) is, and Ansible set up to use it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from paictl.errors import PaictlError

COLLECTION_REL = Path("collections/ansible_collections/openpai/cluster")
_initialised = False


def root() -> Path:
    """The project directory: $PAICTL_PROJECT_DIR, else the checkout paictl was installed from."""
    env = os.environ.get("PAICTL_PROJECT_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2])
    candidates.append(Path.cwd())
    for cand in candidates:
        if (cand / "site.yml").is_file() and (cand / COLLECTION_REL / "galaxy.yml").is_file():
            return cand.resolve()
    raise PaictlError("cannot find the openpai-ansible project (site.yml and %s); set PAICTL_PROJECT_DIR"
                      % COLLECTION_REL)


def collection() -> Path:
    return root() / COLLECTION_REL


def ansible_env() -> dict:
    """Environment for ansible processes started by paictl."""
    env = {
        "ANSIBLE_CONFIG": str(root() / "ansible.cfg"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
    }
    return env


def init_ansible():
    """Make Ansible's in-process API use the project's ansible.cfg and collection."""
    global _initialised
    if _initialised:
        return
    os.environ["ANSIBLE_CONFIG"] = str(root() / "ansible.cfg")
    os.environ.setdefault("ANSIBLE_NOCOLOR", "1")
    os.environ["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "True"  # a broken inventory is an error, not empty
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader([str(root() / "collections")])
    _initialised = True
