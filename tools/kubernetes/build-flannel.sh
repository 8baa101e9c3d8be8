#!/usr/bin/env bash
# Build flannel from Go modules (static binaries; see below for cgo) into the
# per-machine cache (tools/kubernetes/dirs.sh):
#   flannel/<VERSION>-<key>/flanneld, install-conf   the daemon (github.com/flannel-io/flannel,
#       main package at the module root) and the helper its image carries for
#       kube-flannel.yml's install-cni init container (./cmd/install_conf)
#   cni-flannel/<CNI>-<key>/flannel                  the flannel CNI meta plugin
#
#   tools/kubernetes/build-flannel.sh [VERSION] [FLANNEL_CNI_VERSION]
#     defaults: v0.28.10, v0.9.1 (github.com/containernetworking/plugins; the
#     last release carrying plugins/meta/flannel -- github.com/flannel-io/cni-plugin,
#     its successor, is not served by the module proxy)
#
# `go install github.com/flannel-io/flannel@VERSION` would name the binary
# "flannel"; a wrapper module requiring flannel at the tag builds flanneld and
# install-conf with `go build -o`. The version is stamped as upstream's Makefile
# does (pkg/version.Version), so `flanneld --version` prints it.
# flannel v0.28.10 requires github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc
# v1.3.188 (for its tencent-vpc backend), whose zip the module proxy refuses
# ("403 Forbidden ... This module version is not available", as for v1.2.0 and
# v1.3.x; v1.1.0 is served but unknown to sum.golang.org, seen 2026-11-30); the
# wrapper replaces it with v1.0.1100, which the proxy and the checksum database
# serve and which has the same API for the calls flannel makes (TENCENT_VPC to
# change it, empty for no replace).
# flanneld is the one cgo build here: on amd64 its udp backend (always linked in,
# main.go imports it) is C (pkg/backend/udp/proxy_amd64.c) and does not compile
# with CGO_ENABLED=0 ("undefined: runCProxy"). Upstream's Makefile also sets
# CGO_ENABLED=1 on amd64 and links statically; so does this script (gcc, glibc
# libc.a; tags netgo,osusergo keep glibc's NSS out), giving a static binary.
set -euo pipefail
VERSION=${1:-${FLANNEL_VERSION:-v0.28.10}}
FLANNEL_CNI_VERSION=${2:-${FLANNEL_CNI_VERSION:-v0.9.1}}
# shellcheck source=dirs.sh
. "$(dirname "$0")/dirs.sh"
KEY=$(k8s_key flannel)
OUT=$(k8s_dir flannel "$VERSION")
CNI_DIR=$(k8s_dir cni-flannel "$FLANNEL_CNI_VERSION")
TENCENT_VPC=${TENCENT_VPC-v1.0.1100}
export CGO_ENABLED=0 GOFLAGS=

if [ -x "$OUT/flanneld" ] && [ -x "$OUT/install-conf" ]; then
  cache_note reused flannel "$VERSION" "$KEY"
else
  cache_lock "$OUT"
  s=$SECONDS; mkdir -p "$OUT/src"
  cd "$OUT/src"
  cat > go.mod <<MOD
module openpai.local/flannelbuild

go 1.26

require github.com/flannel-io/flannel $VERSION
MOD
  [ -z "$TENCENT_VPC" ] || printf '\nreplace %s => %s %s\n' github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc \
    github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc "$TENCENT_VPC" >> go.mod
  printf 'package flannelbuild\n\nimport _ "github.com/flannel-io/flannel/cmd/install_conf"\n' > tools.go
  ldflags="-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$VERSION"
  GOFLAGS=-mod=mod CGO_ENABLED=1 nice -n 10 go build -trimpath -tags netgo,osusergo \
    -ldflags "$ldflags -linkmode external -extldflags -static" -o "$OUT/flanneld" github.com/flannel-io/flannel
  GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags "-s -w" -o "$OUT/install-conf" \
    github.com/flannel-io/flannel/cmd/install_conf
  (cd "$OUT" && sha256sum flanneld install-conf > SHA256SUMS)
  echo "flannel $VERSION: $((SECONDS - s)) s"
  cache_note built flannel "$VERSION" "$KEY"
fi
got=$("$OUT/flanneld" --version 2>&1)
[ "$got" = "$VERSION" ] || { echo "flanneld --version printed '$got', expected $VERSION" >&2; exit 1; }
echo "flanneld --version: $got"

if [ -x "$CNI_DIR/flannel" ]; then
  cache_note reused cni-flannel "$FLANNEL_CNI_VERSION" "$KEY"
else
  cache_lock "$CNI_DIR"
  s=$SECONDS; mkdir -p "$CNI_DIR"
  (cd /tmp && GOBIN=$CNI_DIR nice -n 10 go install -trimpath -tags netgo,osusergo \
    -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$FLANNEL_CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/meta/flannel@$FLANNEL_CNI_VERSION")
  (cd "$CNI_DIR" && sha256sum flannel > SHA256SUMS)
  echo "cni flannel $FLANNEL_CNI_VERSION: $((SECONDS - s)) s"
  cache_note built cni-flannel "$FLANNEL_CNI_VERSION" "$KEY"
fi
# A CNI plugin run without CNI_COMMAND prints its build string (exit status 1).
"$CNI_DIR/flannel" 2>&1 | head -1 || true
