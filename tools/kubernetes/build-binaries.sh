#!/usr/bin/env bash
# Build the Kubernetes binaries (kubeadm, kubelet, kubectl, kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy) from Go modules, for
# the offline bundle. Nothing built is committed: output goes to the per-machine
# cache, <cache>/kubernetes-binaries/<version>-<key>/bin (tools/kubernetes/dirs.sh;
# override the directory with OUTDIR).
#
#   tools/kubernetes/build-binaries.sh [VERSION]      (default v1.33.13)
#
# Measured here (2 cores, shared, cold module cache, nice 19): about 22 minutes
# for the seven (kubeadm 7.5, kubelet 6.7, kube-apiserver 3.7 min), 540 MB.
#
# k8s.io/kubernetes requires its staging modules at v0.0.0 with local
# replaces, which a dependent module ignores; a wrapper module pins each staging
# module to the matching v0.Y.Z instead. The version is stamped through ldflags
# so `kubeadm version` reports the real release.
set -euo pipefail

VERSION=${1:-${K8S_VERSION:-v1.33.13}}
# shellcheck source=dirs.sh
. "$(dirname "$0")/dirs.sh"
OUTDIR=${OUTDIR:-$(k8s_dir kubernetes-binaries "$VERSION")}
WORK=$OUTDIR/src
BIN=$OUTDIR/bin
COMPONENTS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
         cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
         cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
         kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
         mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)

minor=${VERSION#v1.}; minor=${minor%%.*}
staging_version="v0.${VERSION#v1.}"

done_all=1
for c in "${COMPONENTS[@]}"; do [ -x "$BIN/$c" ] || done_all=0; done
note() { [ "${OUTDIR##*/}" != "$VERSION-$(k8s_key kubernetes-binaries)" ] || cache_note "$1" kubernetes-binaries "$VERSION" "$(k8s_key kubernetes-binaries)"; }
if [ "$done_all" -eq 1 ]; then
  note reused
  exit 0
fi
cache_lock "$OUTDIR"

mkdir -p "$WORK" "$BIN"
cd "$WORK"
{
  echo "module openpai.local/k8sbuild"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $VERSION"
  echo
  for m in "${STAGING[@]}"; do echo "replace k8s.io/$m => k8s.io/$m $staging_version"; done
} > go.mod
printf 'package k8sbuild\n\nimport _ "k8s.io/kubernetes/cmd/kubeadm"\n' > tools.go

echo "resolving modules for $VERSION (staging $staging_version)"
GOFLAGS=-mod=mod go mod download k8s.io/kubernetes

commit=$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/.*"Hash": "h1:\(.*\)",/\1/p' | head -c 12)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=${commit:-unknown} -X $pkg.buildDate=$date"
done

for c in "${COMPONENTS[@]}"; do
  if [ -x "$BIN/$c" ]; then echo "$c: already built"; continue; fi
  echo "building $c $VERSION"
  start=$SECONDS
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$BIN/$c" "k8s.io/kubernetes/cmd/$c"
  echo "$c: $((SECONDS - start)) s"
done
(cd "$BIN" && sha256sum "${COMPONENTS[@]}" > SHA256SUMS)
"$BIN/kubeadm" version -o short
echo "binaries in $BIN"
note built
