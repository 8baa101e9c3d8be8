#!/usr/bin/env bash
# Where each Kubernetes build step keeps its output in the per-machine cache
# (tools/lib/cache.sh); sourced by the tools/kubernetes/build-*.sh scripts.
#
#   k8s_dir STEP VERSION     <cache>/<STEP>/<VERSION>-<key>
#   k8s_key STEP             <key>
#
# STEP                   its key covers
#   kubernetes-binaries  build-binaries.sh
#   cni-plugins, crictl  build-cni.sh
#   flannel, cni-flannel build-flannel.sh
#   etcd                 build-etcd.sh
#   coredns              build-coredns.sh
#   pause                pause.c, build-images.sh (its compiler flags)
#   kubernetes-images    build-images.sh and the keys of the binaries, etcd,
#                        coredns, flannel and pause it packs into images
#   kubernetes-bundle    build-bundle.sh and the keys of everything it links
# so a changed builder rebuilds its step and every step made from it.
K8S_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/cache.sh
. "$K8S_TOOLS/../lib/cache.sh"

k8s_key() {
  case $1 in
    kubernetes-binaries) cache_key "$K8S_TOOLS/build-binaries.sh" ;;
    cni-plugins|crictl) cache_key "$K8S_TOOLS/build-cni.sh" ;;
    flannel|cni-flannel) cache_key "$K8S_TOOLS/build-flannel.sh" ;;
    etcd) cache_key "$K8S_TOOLS/build-etcd.sh" ;;
    coredns) cache_key "$K8S_TOOLS/build-coredns.sh" ;;
    pause) cache_key "$K8S_TOOLS/pause.c" "$K8S_TOOLS/build-images.sh" ;;
    kubernetes-images)
      cache_key "$K8S_TOOLS/build-images.sh" -- "$(k8s_key kubernetes-binaries)" "$(k8s_key etcd)" \
        "$(k8s_key coredns)" "$(k8s_key flannel)" "$(k8s_key pause)" ;;
    kubernetes-bundle)
      cache_key "$K8S_TOOLS/build-bundle.sh" -- "$(k8s_key kubernetes-binaries)" "$(k8s_key cni-plugins)" \
        "$(k8s_key flannel)" "$(k8s_key kubernetes-images)" ;;
    *) echo "k8s_key: unknown step $1" >&2; return 1 ;;
  esac
}

k8s_dir() { cache_dir "$1" "$2" "$(k8s_key "$1")"; }
