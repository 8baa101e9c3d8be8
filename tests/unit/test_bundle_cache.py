"""The per-machine cache of offline bundles (tools/lib/cache.sh and the builders
that use it), on stand-in build outputs: what is complete is reused and published
at its stable path, a changed builder or a damaged output is not reused."""

import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import ROOT

TOOLKIT_BINARIES = ("nvidia-ctk", "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-cdi-hook")


def sh(script, *args, cache, path=None, tree=ROOT):
    env = {"HOME": str(cache.parent), "OPENPAI_CACHE_DIR": str(cache), "PATH": path or os.environ["PATH"]}
    return subprocess.run(["bash", str(tree / script), *args], env=env, capture_output=True, text=True)


def shell(code, cache, tree=ROOT):
    env = {"HOME": str(cache.parent), "OPENPAI_CACHE_DIR": str(cache), "PATH": os.environ["PATH"]}
    done = subprocess.run(["bash", "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def fake_toolkit(folder, version="v1.17.8"):
    (folder / "bin").mkdir(parents=True)
    lines = []
    for name in TOOLKIT_BINARIES:
        data = ("#!/bin/sh\necho %s\n" % name).encode()
        (folder / "bin" / name).write_bytes(data)
        lines.append("%s  %s\n" % (hashlib.sha256(data).hexdigest(), name))
    (folder / "SHA256SUMS").write_text("".join(lines))
    (folder / "VERSION").write_text(version + "\n")


def test_a_complete_toolkit_is_reused_and_published(tmp_path):
    cache = tmp_path / "cache"
    key = shell(". tools/lib/cache.sh; cache_key tools/nvidia/build-toolkit.sh", cache)
    assert len(key) == 12
    folder = cache / "nvidia-container-toolkit" / ("v1.17.8-" + key)
    fake_toolkit(folder)
    res = sh("tools/nvidia/build-toolkit.sh", cache=cache, path="/usr/bin:/bin")   # no go: nothing can be built
    assert res.returncode == 0, res.stdout + res.stderr
    assert "reused nvidia-container-toolkit v1.17.8 (%s)" % key in res.stdout
    link = cache / "bundles" / "nvidia-container-toolkit-v1.17.8"
    assert link.is_symlink() and link.resolve() == folder.resolve()


def test_a_damaged_toolkit_is_not_reused(tmp_path):
    cache = tmp_path / "cache"
    key = shell(". tools/lib/cache.sh; cache_key tools/nvidia/build-toolkit.sh", cache)
    folder = cache / "nvidia-container-toolkit" / ("v1.17.8-" + key)
    fake_toolkit(folder)
    (folder / "bin" / "nvidia-ctk").write_text("tampered\n")
    res = sh("tools/nvidia/build-toolkit.sh", cache=cache, path="/usr/bin:/bin")
    assert res.returncode == 2 and "go is needed" in res.stderr and "reused" not in res.stdout


def test_a_changed_builder_builds_into_a_new_directory(tmp_path):
    tree = tmp_path / "clone"
    shutil.copytree(ROOT / "tools", tree / "tools")
    cache = tmp_path / "cache"
    old = shell(". tools/lib/cache.sh; cache_key tools/nvidia/build-toolkit.sh", cache, tree)
    fake_toolkit(cache / "nvidia-container-toolkit" / ("v1.17.8-" + old))
    with open(tree / "tools/nvidia/build-toolkit.sh", "a") as handle:
        handle.write("# a changed builder\n")
    new = shell(". tools/lib/cache.sh; cache_key tools/nvidia/build-toolkit.sh", cache, tree)
    assert new != old
    res = sh("tools/nvidia/build-toolkit.sh", cache=cache, path="/usr/bin:/bin", tree=tree)
    assert res.returncode == 2 and "go is needed" in res.stderr and "reused" not in res.stdout


def kubernetes_steps(cache):
    """Stand-ins for every Kubernetes build step's output, where dirs.sh puts them."""
    def step(name, version):
        out = shell(". tools/kubernetes/dirs.sh; k8s_dir %s %s" % (name, version), cache)
        folder = cache / out[len(str(cache)) + 1:]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def exe(path, text):
        path.write_text("#!/bin/sh\n" + text + "\n")
        path.chmod(0o755)

    binaries = step("kubernetes-binaries", "v1.33.13") / "bin"
    binaries.mkdir()
    for name in ("kubeadm", "kubelet", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                 "kube-proxy"):
        exe(binaries / name, "echo %s" % name)
    for name in ("bridge", "host-local", "loopback", "portmap"):
        exe(step("cni-plugins", "v1.9.1") / name, "echo %s" % name)
    exe(step("crictl", "v1.34.0") / "crictl", "echo crictl")
    exe(step("flannel", "v0.28.10") / "flanneld", "echo v0.28.10")
    exe(step("flannel", "v0.28.10") / "install-conf", "true")
    exe(step("cni-flannel", "v0.9.1") / "flannel", "echo CNI flannel plugin v0.9.1; exit 1")
    images = step("kubernetes-images", "v1.33.13")
    tags = ["registry.k8s.io/pause:3.10", "ghcr.io/flannel-io/flannel:v0.28.10"]
    (images / "images.txt").write_text("\n".join(tags) + "\n")
    for name in ("pause_3.10.tar", "flannel-io_flannel_v0.28.10.tar"):
        (images / name).write_bytes(os.urandom(4096))


@pytest.mark.skipif(shutil.which("flock") is None, reason="flock (util-linux) missing")
def test_the_kubernetes_bundle_is_assembled_once_then_reused(tmp_path):
    cache = tmp_path / "cache"
    kubernetes_steps(cache)
    first = sh("tools/kubernetes/build-bundle.sh", cache=cache)
    assert first.returncode == 0, first.stdout + first.stderr
    for step in ("kubernetes-binaries v1.33.13", "cni-plugins v1.9.1", "crictl v1.34.0", "flannel v0.28.10",
                 "cni-flannel v0.9.1", "kubernetes-images v1.33.13"):
        assert "reused " + step in first.stdout
    assert "built kubernetes-bundle v1.33.13" in first.stdout
    bundle = cache / "bundles" / "kubernetes-v1.33.13"
    listed = sorted(line.split()[1] for line in (bundle / "SHA256SUMS").read_text().splitlines())
    assert listed == sorted(["kubeadm", "kubelet", "kubectl", "crictl-v1.34.0-linux-amd64.tar.gz",
                             "cni-plugins-linux-amd64-v1.9.1.tgz", "cni-plugins-linux-amd64-v0.9.1.tgz",
                             "pause_3.10.tar", "flannel-io_flannel_v0.28.10.tar"])
    second = sh("tools/kubernetes/build-bundle.sh", cache=cache)
    assert second.returncode == 0 and "reused kubernetes-bundle v1.33.13" in second.stdout
    assert "bundle up to date" in second.stdout and "packed" not in second.stdout
