# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: layout
short_description: Read an OpenPAI layout.yaml (v0.14 or v1.x) as an inventory
description:
  - Reads OpenPAI's C(layout.yaml) unchanged, so C(ansible-playbook -i layout.yaml) and C(paictl -i layout.yaml) work.
  - The inventory hostname is the machine's C(hostname), C(ansible_host) its C(hostip).
  - C(machine-sku) becomes C(openpai_machine_skus) on group C(all), C(machine-type) the host's C(openpai_machine_type).
  - C(k8s-role) master/worker maps to C(kube_control_plane)/C(kube_node); without it (v1.x) C(pai-master) machines
    form the control plane and C(pai-worker) machines are nodes. C(pai-master)/C(pai-worker) "true" map to
    C(pai_master)/C(pai_worker).
  - C(default-machine-properties) are merged under every machine; C(username), C(password), C(sshport) and
    C(keyfile-path) become the Ansible connection variables.
  - Problems in the file do not stop parsing; they are collected in C(openpai_inventory_problems) and reported,
    all at once, by the preflight validation and C(paictl check) before any host is touched.
  - A file is taken when it is named C(layout.yaml) or C(layout.yml), when it is a wrapper whose C(plugin) is
    C(openpai.cluster.layout) with a C(layout) path, or when it has a top-level C(machine-list), in block or in
    flow (JSON) style; C(.yaml), C(.yml) and C(.json) files are considered.
  - An empty or comment-only layout is reported as one problem (the file is empty).
author: openpai-ansible contributors
options:
  plugin:
    description: Set to C(openpai.cluster.layout) in a wrapper file.
    required: false
  layout:
    description: Path of the layout.yaml, relative to the wrapper file.
    required: false
    type: path
"""

EXAMPLES = r"""
# ansible-playbook site.yml -i /path/to/layout.yaml
# or a wrapper file named anything.yml:
plugin: openpai.cluster.layout
layout: ../cluster-configuration/layout.yaml
"""

import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseFileInventoryPlugin

from ansible_collections.openpai.cluster.plugins.module_utils import layout as layout_model


# A top-level ``machine-list:`` key in block style, at the start of a line.
_BLOCK_KEY = re.compile(r"^machine-list\s*:", re.MULTILINE)


def _flow_layout(path):
    """True when ``path`` is YAML (or JSON) whose top level is a mapping with ``machine-list``."""
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, "rb") as handle:
            data = yaml.load(handle, Loader=loader)
    except (OSError, yaml.YAMLError):
        return False
    return layout_model.looks_like_layout(data)


class InventoryModule(BaseFileInventoryPlugin):
    NAME = "openpai.cluster.layout"

    def verify_file(self, path):
        if not super().verify_file(path) or not path.endswith((".yaml", ".yml", ".json")):
            return False
        if os.path.basename(path) in ("layout.yaml", "layout.yml"):
            return True
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return False
        if "openpai.cluster.layout" in text or _BLOCK_KEY.search(text):
            return True
        # Flow (JSON) style: the key may be anywhere; only files that mention it are parsed here.
        return "machine-list" in text and _flow_layout(path)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        try:
            data = self.loader.load_from_file(path, cache="none")
        except Exception as exc:  # the loader's own message names the file and line
            raise AnsibleParserError("%s: not valid YAML: %s" % (path, exc)) from None
        source = path
        if isinstance(data, dict) and data.get("plugin") in (self.NAME, "layout"):
            target = data.get("layout")
            if not target:
                raise AnsibleParserError("%s: field 'layout' is missing (the path of the OpenPAI layout.yaml)" % path)
            target = os.path.join(os.path.dirname(path), target)
            try:
                data = self.loader.load_from_file(target, cache="none")
            except Exception as exc:
                raise AnsibleParserError("%s: field 'layout': cannot read %s: %s" % (path, target, exc)) from None
            source = target
        # A mapping with machine-sku but no machine-list is a layout missing its machines (reported).
        if data is not None and not (layout_model.looks_like_layout(data)
                                     or (isinstance(data, dict) and "machine-sku" in data)):
            raise AnsibleParserError("%s: not an OpenPAI layout (no top-level 'machine-list')" % source)

        parsed = layout_model.parse_layout(data, os.path.basename(source))
        for group, hosts in parsed["groups"].items():
            self.inventory.add_group(group)
            for host in hosts:
                self.inventory.add_host(host, group=group)
        for host, variables in parsed["hostvars"].items():
            self.inventory.add_host(host)
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
        for key, value in parsed["all_vars"].items():
            self.inventory.set_variable("all", key, value)
        self.inventory.set_variable("all", "openpai_inventory_problems", parsed["problems"])
        self.inventory.set_variable("all", "openpai_inventory_source", "layout")
