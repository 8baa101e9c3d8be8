#!/usr/bin/env bash
# Build NVIDIA Container Toolkit binaries from the Go module proxy into an
# offline bundle for role openpai.cluster.nvidia_container_toolkit
# (nvidia_container_toolkit_source: bundle). Nothing built is committed.
#
#   tools/nvidia/build-toolkit.sh [VERSION] [OUTDIR]
#   VERSION: a tag of github.com/NVIDIA/nvidia-container-toolkit (default v1.17.8)
#   OUTDIR:  default .cache/nvidia-container-toolkit/<VERSION>
#
# Writes OUTDIR/bin/{nvidia-ctk,nvidia-container-runtime,nvidia-container-runtime-hook,nvidia-cdi-hook}
# and OUTDIR/SHA256SUMS. CGO is on: go-nvml (used by nvidia-ctk and the runtime's
# CDI mode) dlopens libnvidia-ml.so.1 through cgo, so the binaries link glibc
# dynamically; build on the oldest glibc you deploy to (Debian 12 here).
# The legacy runtime hook also needs libnvidia-container's nvidia-container-cli
# (C, not built here) to inject GPUs; CDI mode (nvidia-ctk cdi generate) does not.
set -euo pipefail
version="${1:-v1.17.8}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${2:-$root/.cache/nvidia-container-toolkit/$version}"
module=github.com/NVIDIA/nvidia-container-toolkit
commands=(nvidia-ctk nvidia-container-runtime nvidia-container-runtime-hook nvidia-cdi-hook)

command -v go >/dev/null || { echo "go is needed (Go >= 1.22)" >&2; exit 2; }
mkdir -p "$out/bin"
# The module has no replace directives: `go install pkg@version` builds with its own go.sum.
for cmd in "${commands[@]}"; do
  echo "building $cmd $version"
  GOBIN="$out/bin" CGO_ENABLED=1 go install -trimpath \
    -ldflags "-s -w -X $module/internal/info.version=${version#v}" \
    "$module/cmd/$cmd@$version"
done
(cd "$out/bin" && sha256sum -- * > ../SHA256SUMS)
echo "$version" > "$out/VERSION"
echo "bundle: $out"
cat "$out/SHA256SUMS"
