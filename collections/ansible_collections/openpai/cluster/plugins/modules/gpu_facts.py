#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_facts
short_description: NVIDIA GPUs on the PCI bus and what the driver reports
description:
  - Finds NVIDIA display-class devices (vendor 0x10de, class 0x03xx) in sysfs, without needing a driver.
  - When C(nvidia-smi) is installed and answers, also reports the GPUs and driver version it sees.
  - Sets the fact C(openpai_gpu). Changes nothing on the host.
author: openpai-ansible contributors
options:
  sysfs_root:
    description: Root of the sysfs tree to scan (tests use fixture trees).
    type: path
    default: /sys
  nvidia_smi:
    description: The nvidia-smi to ask; searched on PATH and in /usr/local/nvidia/bin when not given.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Detect GPUs
  openpai.cluster.gpu_facts:
- name: Show how many GPUs the PCI bus has
  ansible.builtin.debug:
    msg: "{{ openpai_gpu.pci_count }} NVIDIA GPU(s), driver {{ openpai_gpu.driver_version | default('none') }}"
"""

RETURN = r"""
ansible_facts:
  description: The fact C(openpai_gpu).
  returned: always
  type: dict
  contains:
    openpai_gpu:
      description: >-
        pci_count, pci_devices, smi_present, smi_ok, smi_count, smi_models, driver_version,
        nouveau_loaded, nvidia_loaded.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.openpai.cluster.plugins.module_utils import gpu


def main():
    module = AnsibleModule(
        argument_spec={"sysfs_root": {"type": "path", "default": "/sys"}, "nvidia_smi": {"type": "path"}},
        supports_check_mode=True,
    )
    devices = gpu.pci_gpus(module.params["sysfs_root"])
    modules = gpu.loaded_modules()
    facts = {"pci_count": len(devices), "pci_devices": devices, "smi_present": False, "smi_ok": False,
             "smi_count": 0, "smi_models": [], "driver_version": "",
             "nouveau_loaded": "nouveau" in modules, "nvidia_loaded": "nvidia" in modules}
    smi = module.params["nvidia_smi"] or module.get_bin_path("nvidia-smi", opt_dirs=["/usr/local/nvidia/bin"])
    if smi:
        facts["smi_present"] = True
        rc, out, err = module.run_command(
            [smi, "--query-gpu=index,name,uuid,driver_version", "--format=csv,noheader"])
        if rc == 0:
            gpus = gpu.parse_smi_query(out)
            facts.update(smi_ok=True, smi_count=len(gpus), smi_models=sorted({g["name"] for g in gpus}),
                         driver_version=gpus[0]["driver_version"] if gpus else "")
        else:
            facts["smi_error"] = (err or out).strip()[:500]
    module.exit_json(changed=False, ansible_facts={"openpai_gpu": facts})


if __name__ == "__main__":
    main()
