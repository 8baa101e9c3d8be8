#!/usr/bin/env bash
# Build NVIDIA Container Toolkit binaries from the Go module proxy into an
# offline bundle for role openpai.cluster.nvidia_container_toolkit
# (nvidia_container_toolkit_source: bundle). Nothing built is committed.
#
#   tools/nvidia/build-toolkit.sh [VERSION] [OUTDIR]
#   VERSION: a tag of github.com/NVIDIA/nvidia-container-toolkit (default v1.17.8)
#   OUTDIR:  default: the per-machine cache (tools/lib/cache.sh),
#            <cache>/nvidia-container-toolkit/<VERSION>-<key of this script>,
#            published as <cache>/bundles/nvidia-container-toolkit-<VERSION>;
#            a complete one (every binary matching SHA256SUMS) is reused.
#
# Writes OUTDIR/bin/{nvidia-ctk,nvidia-container-runtime,nvidia-container-runtime-hook,nvidia-cdi-hook}
# and OUTDIR/SHA256SUMS. CGO is on: go-nvml (used by nvidia-ctk and the runtime's
# CDI mode) dlopens libnvidia-ml.so.1 through cgo, so the binaries link glibc
# dynamically; build on the oldest glibc you deploy to (Debian 12 here).
# The legacy runtime hook also needs libnvidia-container's nvidia-container-cli
# (C, not built here) to inject GPUs; CDI mode (nvidia-ctk cdi generate) does not.
set -euo pipefail
version="${1:-v1.17.8}"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../lib/cache.sh
. "$here/../lib/cache.sh"
key=$(cache_key "$here/build-toolkit.sh")
out="${2:-$(cache_dir nvidia-container-toolkit "$version" "$key")}"
module=github.com/NVIDIA/nvidia-container-toolkit
commands=(nvidia-ctk nvidia-container-runtime nvidia-container-runtime-hook nvidia-cdi-hook)

complete() {
  [ -s "$out/SHA256SUMS" ] && [ "$(cat "$out/VERSION" 2>/dev/null)" = "$version" ] || return 1
  local cmd; for cmd in "${commands[@]}"; do grep -q "  $cmd\$" "$out/SHA256SUMS" || return 1; done
  (cd "$out/bin" && sha256sum --quiet -c ../SHA256SUMS >/dev/null 2>&1)
}
publish() { [ -n "${2:-}" ] || cache_publish "nvidia-container-toolkit-$version" "$out"; }

cache_lock "$out"
if complete; then
  cache_note reused nvidia-container-toolkit "$version" "$key"
  publish "$@"
  echo "bundle: $out"
  exit 0
fi
command -v go >/dev/null || { echo "go is needed (Go >= 1.22)" >&2; exit 2; }
rm -f "$out/SHA256SUMS"
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
cache_note built nvidia-container-toolkit "$version" "$key"
publish "$@"
echo "bundle: $out"
cat "$out/SHA256SUMS"
