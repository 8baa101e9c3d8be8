# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Filters of the platform-services layer (plugins/module_utils/services.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: services
short_description: Service table, start order, image table and Prometheus configuration
description:
  - C(services_problems) lists every problem of the service table, one message each.
  - C(services_start_order) gives service names in start order (prerequisites first), optionally for a selection.
  - C(services_stop_order) gives the start order reversed (optionally only the selection).
  - C(services_by_name) gives the table as a mapping of name to entry.
  - C(services_hosts) gives the inventory hosts a service runs on.
  - C(services_image_plan) resolves every service's image for a source (registry, mirror, bundle).
  - C(services_bundle_problems) compares a bundle's files with its SHA256SUMS, one line per file.
  - C(services_stat_checksums) turns looped C(ansible.builtin.stat) results into a mapping of path to SHA-256.
  - C(services_prometheus_config) and C(services_alert_rules) give prometheus.yml and the rules file.
author: openpai-ansible contributors
"""


from ansible_collections.openpai.cluster.plugins.module_utils.filters import model_errors_as_filter_errors

from ansible_collections.openpai.cluster.plugins.module_utils import services


_wrap = model_errors_as_filter_errors


class FilterModule:
    """Platform-services filters."""

    def filters(self):
        return {name: _wrap(func) for name, func in {
            "services_problems": services.service_problems,
            "services_start_order": services.start_order,
            "services_stop_order": services.stop_order,
            "services_by_name": services.services_by_name,
            "services_hosts": services.service_hosts,
            "services_image_plan": services.image_plan,
            "services_bundle_problems": services.bundle_problems,
            "services_stat_checksums": services.stat_checksums,
            "services_prometheus_config": services.prometheus_config,
            "services_alert_rules": services.alert_rules,
        }.items()}
