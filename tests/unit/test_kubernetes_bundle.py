"""The controller side of the artifact rule with an offline bundle (role kubernetes,
tasks/artifacts.yml, run by ansible-playbook): a bundle whose files match its
SHA256SUMS passes; a wrong checksum, a missing file or an unlisted file is refused
with one clear line per file, before any node is touched. A failed download (url
source) names the artifact, its URL and the error."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = ["kubeadm", "kubelet", "kubectl", "crictl-v1.34.0-linux-amd64.tar.gz", "cni-plugins-linux-amd64-v1.9.1.tgz",
         "cni-plugins-linux-amd64-v0.9.1.tgz", "kube-apiserver_v1.33.13.tar", "kube-controller-manager_v1.33.13.tar",
         "kube-scheduler_v1.33.13.tar", "etcd_3.5.24-0.tar", "kube-proxy_v1.33.13.tar", "coredns_coredns_v1.12.0.tar",
         "pause_3.10.tar", "flannel-io_flannel_v0.28.10.tar"]

PLAYBOOK = """\
- hosts: node1
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: openpai.cluster.kubernetes
        tasks_from: artifacts
    - ansible.builtin.debug:
        msg: "PLAN {{ kubernetes_artifact_plan | map(attribute='sha256') | select | length }}"
"""


@pytest.fixture
def bundle(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    lines = []
    for name in FILES:
        data = ("content of %s\n" % name).encode()
        (folder / name).write_bytes(data)
        lines.append("%s  %s" % (hashlib.sha256(data).hexdigest(), name))
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return folder


def run(tmp_path, bundle_dir, **extra):
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"node1": {}}, "vars": dict({
        "openpai_lab": False, "kubernetes_artifacts_source": "bundle", "kubernetes_bundle_dir": str(bundle_dir),
        "ansible_python_interpreter": sys.executable}, **extra)}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook)],
                          env=env, capture_output=True, text=True, cwd=str(tmp_path))


def test_a_matching_bundle_is_accepted(tmp_path, bundle):
    res = run(tmp_path, bundle)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PLAN %d" % len(FILES) in res.stdout


def test_a_wrong_checksum_missing_or_unlisted_file_is_refused(tmp_path, bundle):
    (bundle / "kubelet").write_bytes(b"tampered\n")
    (bundle / "pause_3.10.tar").unlink()
    sums = [line for line in (bundle / "SHA256SUMS").read_text().splitlines() if not line.endswith("  kubectl")]
    (bundle / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    res = run(tmp_path, bundle)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "Offline bundle refused:" in out
    tampered = hashlib.sha256(b"tampered\n").hexdigest()
    assert "%s/kubelet: SHA-256 %s does not match" % (bundle, tampered) in out
    assert "%s/pause_3.10.tar: missing" % bundle in out
    assert "kubectl: not listed in %s/SHA256SUMS" % bundle in out
    assert "Traceback" not in out


def test_a_bundle_without_sums_is_refused_file_by_file(tmp_path, bundle):
    (bundle / "SHA256SUMS").unlink()
    res = run(tmp_path, bundle)
    assert res.returncode != 0
    assert "kubeadm: not listed in %s/SHA256SUMS" % bundle in res.stdout


def test_a_failed_download_names_the_artifact_its_url_and_the_error(tmp_path):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    url = "http://127.0.0.1:9/release/kubectl"
    table = [{"name": "kubectl", "kind": "binary", "file": "kubectl", "url": url,
              "sha256": {"amd64": "0" * 64}, "dest": "/usr/local/bin/kubectl"},
             {"name": "pause", "kind": "image", "file": "pause_3.10.tar", "ref": "registry.k8s.io/pause:3.10"}]
    res = run(tmp_path, tmp_path, kubernetes_artifacts_source="url", kubernetes_artifacts=table,
              kubernetes_download_cache_dir=str(tmp_path / "cache"), kubernetes_download_retries=1,
              kubernetes_download_delay=0)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "Download of the Kubernetes artifacts failed: kubectl: %s (" % url in out
    assert "refused" in out.lower()
    assert "Traceback" not in out
