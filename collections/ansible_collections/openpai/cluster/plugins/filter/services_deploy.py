# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Filters of the platform services on Kubernetes (plugins/module_utils/services_deploy.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: services_deploy
short_description: The platform services on Kubernetes (active table, config diff, password hash, status)
description:
  - C(services_active_table) drops the disabled services from the table and from the others' prerequisites.
  - C(services_settings_problems) checks the inventory settings the services need (admin account, pylon_port).
  - C(services_changed_keys) lists the keys whose values differ between two mappings.
  - C(services_password_hash) hashes the admin password (PBKDF2-SHA256), keeping an existing hash of the same password.
  - C(services_b64_data) and C(services_decoded_data) encode and decode a Secret's data.
  - C(services_status) reads each service's readiness, node, image and reason from k8s_info resources.
  - C(services_status_lines) gives one line per service.
  - C(services_workload_ready) tells whether a Deployment or DaemonSet is ready; C(services_pod_reason) why a pod is not.
  - C(services_node_images) lists the image plan items of the services that run on a host.
author: openpai-ansible contributors
"""


from ansible_collections.openpai.cluster.plugins.module_utils.filters import model_errors_as_filter_errors

from ansible_collections.openpai.cluster.plugins.module_utils import services_deploy


_wrap = model_errors_as_filter_errors


class FilterModule:
    """Filters of the services on Kubernetes."""

    def filters(self):
        return {name: _wrap(func) for name, func in {
            "services_active_table": services_deploy.active_table,
            "services_settings_problems": services_deploy.settings_problems,
            "services_changed_keys": services_deploy.changed_keys,
            "services_password_hash": services_deploy.password_hash,
            "services_b64_data": services_deploy.b64_data,
            "services_decoded_data": services_deploy.decoded_data,
            "services_status": services_deploy.service_status,
            "services_workload_ready": services_deploy.workload_ready,
            "services_pod_reason": services_deploy.pod_reason,
            "services_status_lines": services_deploy.status_lines,
            "services_node_images": services_deploy.node_images,
        }.items()}
