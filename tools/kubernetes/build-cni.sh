#!/usr/bin/env bash
# Build the CNI plugins the lab needs (bridge, host-local, loopback, portmap)
# and crictl from Go modules, CGO off, into the per-machine cache:
# <cache>/cni-plugins/<CNI_VERSION>-<key>, <cache>/crictl/<CRICTL_VERSION>-<key>
# (tools/kubernetes/dirs.sh).
#
#   tools/kubernetes/build-cni.sh [CNI_VERSION] [CRICTL_VERSION]
#     defaults: v1.9.1 (github.com/containernetworking/plugins),
#               v1.34.0 (sigs.k8s.io/cri-tools; the module proxy has no v1.33.x)
set -euo pipefail
CNI_VERSION=${1:-v1.9.1}
CRICTL_VERSION=${2:-v1.34.0}
# shellcheck source=dirs.sh
. "$(dirname "$0")/dirs.sh"
KEY=$(k8s_key cni-plugins)
CNI_DIR=$(k8s_dir cni-plugins "$CNI_VERSION")
CRICTL_DIR=$(k8s_dir crictl "$CRICTL_VERSION")
PLUGINS=(main/bridge ipam/host-local main/loopback meta/portmap)
export CGO_ENABLED=0 GOFLAGS=
cd /tmp
missing=0
for p in "${PLUGINS[@]}"; do [ -x "$CNI_DIR/${p#*/}" ] || missing=1; done
if [ "$missing" = 1 ]; then
  cache_lock "$CNI_DIR"
  s=$SECONDS; mkdir -p "$CNI_DIR"
  pkgs=(); for p in "${PLUGINS[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$CNI_VERSION"); done
  GOBIN=$CNI_DIR nice -n 10 go install -trimpath -tags netgo,osusergo \
    -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_VERSION" "${pkgs[@]}"
  (cd "$CNI_DIR" && sha256sum "${PLUGINS[@]#*/}" > SHA256SUMS)
  echo "cni plugins $CNI_VERSION: $((SECONDS - s)) s"
  cache_note built cni-plugins "$CNI_VERSION" "$KEY"
else
  cache_note reused cni-plugins "$CNI_VERSION" "$KEY"
fi
if [ ! -x "$CRICTL_DIR/crictl" ]; then
  cache_lock "$CRICTL_DIR"
  s=$SECONDS; mkdir -p "$CRICTL_DIR"
  GOBIN=$CRICTL_DIR nice -n 10 go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  (cd "$CRICTL_DIR" && sha256sum crictl > SHA256SUMS)
  echo "crictl $CRICTL_VERSION: $((SECONDS - s)) s"
  cache_note built crictl "$CRICTL_VERSION" "$KEY"
else
  cache_note reused crictl "$CRICTL_VERSION" "$KEY"
fi
