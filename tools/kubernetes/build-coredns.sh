#!/usr/bin/env bash
# Build CoreDNS from Go modules (CGO off) for the registry.k8s.io/coredns image.
#
#   tools/kubernetes/build-coredns.sh VERSION OUTDIR      (VERSION like v1.12.0)
#
# Writes OUTDIR/coredns and OUTDIR/SHA256SUMS; an existing OUTDIR/coredns is kept.
set -euo pipefail
VERSION=${1:?coredns version, e.g. v1.12.0}
OUT=${2:?output directory}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
if [ -x "$OUT/coredns" ]; then echo "coredns $VERSION: already built"; exit 0; fi
s=$SECONDS
(cd /tmp && CGO_ENABLED=0 GOFLAGS='' GOBIN=$OUT nice -n 10 go install -trimpath -ldflags '-s -w' \
   "github.com/coredns/coredns@$VERSION")
(cd "$OUT" && sha256sum coredns > SHA256SUMS)
echo "coredns $VERSION: $((SECONDS - s)) s"
