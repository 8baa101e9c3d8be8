# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Filters of the Kubernetes layer (plugins/module_utils/kubernetes.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes
short_description: Kubernetes artifact table, SHA256SUMS files and node labels from SKUs
description:
  - C(k8s_artifact_problems) lists every problem of the artifact table for one architecture.
  - C(k8s_artifact_plan) resolves the table for a source (url, mirror, bundle) into controller paths and checksums.
  - C(sha256sums) parses C(sha256sum) output into a mapping of file name to checksum.
  - C(k8s_bundle_problems) lists, from the stat loop over the plan, every bundle file that is missing, unlisted or
    whose SHA-256 differs from SHA256SUMS (one message per file).
  - C(k8s_download_problems) names each failed download of the get_url loop (artifact, URL, attempts, error).
  - C(k8s_node_labels) gives a node's labels from its machine SKU and inventory groups.
  - C(k8s_ready_nodes), C(k8s_ready_pods) list the Ready nodes / ready Running pods of a node or pod list
    (C(k8s_info) resources, or a C(kubectl get -o json) document).
  - C(k8s_node_problems) compares nodes with the expected ones and their labels, one message per problem.
  - C(k8s_api_service_ip) gives the API server's service IP (first address of the service network).
  - C(k8s_expected_labels) maps node names to their labels for inventory hosts; C(k8s_label_plan) the nodes to relabel
    (each with its C(changes) and the merge C(patch) of its labels).
  - C(k8s_label_changes) gives the C(kubectl label) arguments that turn current labels into the desired ones;
    C(k8s_label_patch) the JSON merge patch of C(metadata.labels) that does it.
author: openpai-ansible contributors
"""


from ansible_collections.openpai.cluster.plugins.module_utils.filters import model_errors_as_filter_errors

from ansible_collections.openpai.cluster.plugins.module_utils import kubernetes


_wrap = model_errors_as_filter_errors


class FilterModule:
    """Kubernetes layer filters."""

    def filters(self):
        return {name: _wrap(func) for name, func in {
            "k8s_artifact_problems": kubernetes.artifact_problems,
            "k8s_artifact_plan": kubernetes.artifact_plan,
            "sha256sums": kubernetes.parse_sha256sums,
            "k8s_bundle_problems": kubernetes.bundle_problems,
            "k8s_download_problems": kubernetes.download_problems,
            "k8s_node_labels": kubernetes.node_labels,
            "k8s_label_changes": kubernetes.label_changes,
            "k8s_label_patch": kubernetes.label_patch,
            "k8s_expected_labels": kubernetes.expected_labels,
            "k8s_label_plan": kubernetes.label_plan,
            "k8s_api_service_ip": kubernetes.api_service_ip,
            "k8s_ready_nodes": kubernetes.ready_nodes,
            "k8s_ready_pods": kubernetes.ready_pods,
            "k8s_node_problems": kubernetes.node_problems,
        }.items()}
