#!/usr/bin/env bash
# Build etcd (and etcdctl) from Go modules for the registry.k8s.io/etcd image.
#
#   tools/kubernetes/build-etcd.sh VERSION OUTDIR      (VERSION like 3.5.24)
#
# `go install go.etcd.io/etcd/server/v3@v3.5.x` fails because server/go.mod
# has relative replaces (etcd#18501); a wrapper module requiring the server
# module at the tag builds it instead. etcdctl is left out: etcdctl/v3 v3.5.24
# requires go.etcd.io/etcd/etcdutl/v3 v3.5.24, which the checksum database
# does not know (404 from sum.golang.org, seen 2026-11-30).
set -euo pipefail
VERSION=${1:?etcd version, e.g. 3.5.24}
OUT=${2:?output directory}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
WORK=$OUT/src
mkdir -p "$WORK"
if [ -x "$OUT/etcd" ]; then echo "etcd $VERSION: already built"; exit 0; fi
cd "$WORK"
cat > go.mod <<MOD
module openpai.local/etcdbuild

go 1.23

require go.etcd.io/etcd/server/v3 v$VERSION
MOD
printf 'package etcdbuild\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n' > tools.go
export CGO_ENABLED=0 GOFLAGS=-mod=mod
ldflags="-s -w"
for bin in etcd:go.etcd.io/etcd/server/v3; do
  name=${bin%%:*} pkg=${bin#*:}
  [ -x "$OUT/$name" ] && continue
  start=$SECONDS
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$OUT/$name" "$pkg"
  echo "$name $VERSION: $((SECONDS - start)) s"
done
(cd "$OUT" && sha256sum etcd > SHA256SUMS)
"$OUT/etcd" --version | head -1
