#!/usr/bin/env bash
# Assemble the offline Kubernetes bundle, one flat directory, from what the other
# tools/kubernetes/build-*.sh scripts leave in the per-machine cache
# (tools/lib/cache.sh, tools/kubernetes/dirs.sh: one <step>/<version>-<key>
# directory per build step); whatever is missing is built first by calling them.
#
#   tools/kubernetes/build-bundle.sh [K8S_VERSION]      (default v1.33.13)
#   -> <cache>/kubernetes-bundle/<K8S_VERSION>-<key>/, published as
#      <cache>/bundles/kubernetes-<K8S_VERSION> (the path inventories name)
#
# Contents (amd64; names follow the upstream release files):
#   kubeadm kubelet kubectl                         binaries, mode 0755
#   crictl-<CRICTL>-linux-amd64.tar.gz              crictl at the root
#   cni-plugins-linux-amd64-<CNI>.tgz               ./bridge ./host-local ./loopback ./portmap
#   cni-plugins-linux-amd64-<FLANNEL_CNI>.tgz       ./flannel
#   <image>.tar                                     every image of images.txt (kubeadm's list
#                                                   for K8S_VERSION, then flannel)
#   SHA256SUMS
# Tarballs are reproducible (sorted, owner 0, mtime 0, gzip -n), so a re-run gives
# the same bytes; binaries and image tarballs are hard links to the caches (copies
# across file systems). A file whose content is unchanged is never rewritten, and
# files that do not belong to the list are removed.
set -euo pipefail

K8S_VERSION=${1:-${K8S_VERSION:-v1.33.13}}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
CNI_VERSION=${CNI_VERSION:-v1.9.1}
FLANNEL_VERSION=${FLANNEL_VERSION:-v0.28.10}
FLANNEL_CNI_VERSION=${FLANNEL_CNI_VERSION:-v0.9.1}
ARCH=amd64                        # what the build scripts produce on this host
K8S_BINARIES=(kubeadm kubelet kubectl)
CNI_PLUGINS=(bridge host-local loopback portmap)

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=dirs.sh
. "$HERE/dirs.sh"
BIN=$(k8s_dir kubernetes-binaries "$K8S_VERSION")/bin
IMAGES=$(k8s_dir kubernetes-images "$K8S_VERSION")
CRICTL_DIR=$(k8s_dir crictl "$CRICTL_VERSION")
CNI_DIR=$(k8s_dir cni-plugins "$CNI_VERSION")
FLANNEL_CNI_DIR=$(k8s_dir cni-flannel "$FLANNEL_CNI_VERSION")
BUNDLE=$(k8s_dir kubernetes-bundle "$K8S_VERSION")
CRICTL_TGZ=crictl-$CRICTL_VERSION-linux-$ARCH.tar.gz
CNI_TGZ=cni-plugins-linux-$ARCH-$CNI_VERSION.tgz
FLANNEL_CNI_TGZ=cni-plugins-linux-$ARCH-$FLANNEL_CNI_VERSION.tgz
FLANNEL_IMG=ghcr.io/flannel-io/flannel:$FLANNEL_VERSION
export FLANNEL_VERSION FLANNEL_CNI_VERSION

log() { printf '== %s\n' "$*"; }
t0=$SECONDS
# image tag -> tarball name (build-images.sh's rule)
tarname() { local n=${1#registry.k8s.io/}; n=${n#ghcr.io/}; n=${n//\//_}; echo "${n//:/_}.tar"; }

# --- build what is missing (each step says whether it reused its cache) ------------------
"$HERE/build-binaries.sh" "$K8S_VERSION"
"$HERE/build-cni.sh" "$CNI_VERSION" "$CRICTL_VERSION"
"$HERE/build-flannel.sh" "$FLANNEL_VERSION" "$FLANNEL_CNI_VERSION"
images_ok() {
  [ -f "$IMAGES/images.txt" ] && grep -qxF "$FLANNEL_IMG" "$IMAGES/images.txt" || return 1
  local tag; while read -r tag; do [ -f "$IMAGES/$(tarname "$tag")" ] || return 1; done < "$IMAGES/images.txt"
}
if images_ok; then
  cache_note reused kubernetes-images "$K8S_VERSION" "$(k8s_key kubernetes-images)"
else
  "$HERE/build-images.sh" "$K8S_VERSION"
fi
images_ok || { echo "images in $IMAGES incomplete after build-images.sh" >&2; exit 1; }
mapfile -t IMAGE_TARS < <(while read -r tag; do tarname "$tag"; done < "$IMAGES/images.txt")

# --- assemble ------------------------------------------------------------------------
cache_lock "$BUNDLE"
mkdir -p "$BUNDLE"
trap 'rm -f "$BUNDLE"/.*.tmp' EXIT
changed=0
# link SRC NAME [MODE]: NAME in the bundle as a hard link to SRC, or a copy (with
# MODE) where a link cannot be made or SRC lacks MODE; kept when already the same.
link() {
  local src=$1 dst=$BUNDLE/$2 mode=${3:-} tmp=$BUNDLE/.$2.tmp
  [ -f "$src" ] || { echo "missing $src" >&2; exit 1; }
  if [ -z "$mode" ] || [ "$(stat -c %a "$src")" = "$mode" ]; then
    [ "$dst" -ef "$src" ] && return
    if ln -f "$src" "$tmp" 2>/dev/null; then mv -f "$tmp" "$dst"; log "linked $2"; changed=1; return; fi
  fi
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && { [ -z "$mode" ] || [ "$(stat -c %a "$dst")" = "$mode" ]; }; then return; fi
  cp "$src" "$tmp"; [ -z "$mode" ] || chmod "$mode" "$tmp"; mv -f "$tmp" "$dst"; log "copied $2"; changed=1
}
# pack NAME DIR FILE...: a reproducible tar.gz of DIR's FILEs (names as given).
pack() {
  local name=$1 dir=$2 dst=$BUNDLE/$1 tmp=$BUNDLE/.$1.tmp; shift 2
  tar -C "$dir" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=0755 \
    --format=gnu -cf - "$@" | gzip -n -9 > "$tmp"
  if [ -f "$dst" ] && cmp -s "$tmp" "$dst"; then rm -f "$tmp"; return; fi
  mv -f "$tmp" "$dst"; log "packed $name"; changed=1
}

for b in "${K8S_BINARIES[@]}"; do link "$BIN/$b" "$b" 755; done
pack "$CRICTL_TGZ" "$CRICTL_DIR" crictl
pack "$CNI_TGZ" "$CNI_DIR" "${CNI_PLUGINS[@]/#/./}"
pack "$FLANNEL_CNI_TGZ" "$FLANNEL_CNI_DIR" ./flannel
for t in "${IMAGE_TARS[@]}"; do link "$IMAGES/$t" "$t"; done

FILES=("${K8S_BINARIES[@]}" "$CRICTL_TGZ" "$CNI_TGZ" "$FLANNEL_CNI_TGZ" "${IMAGE_TARS[@]}")
# (a lookup table, not `printf | grep -q`: under pipefail grep's early exit can
# fail the pipeline with SIGPIPE and remove a listed file)
declare -A LISTED=()
for f in "${FILES[@]}" SHA256SUMS; do LISTED[$f]=1; done
for f in "$BUNDLE"/* "$BUNDLE"/.[!.]*; do
  [ -e "$f" ] || continue
  n=${f##*/}
  [ -n "${LISTED[$n]:-}" ] || { rm -rf "$f"; log "removed $n (not in the list)"; changed=1; }
done
sums=$BUNDLE/.SHA256SUMS.tmp
(cd "$BUNDLE" && sha256sum "${FILES[@]}") > "$sums"
if cmp -s "$sums" "$BUNDLE/SHA256SUMS"; then rm -f "$sums"; else mv -f "$sums" "$BUNDLE/SHA256SUMS"; changed=1; fi

if [ "$changed" = 1 ]; then
  cache_note built kubernetes-bundle "$K8S_VERSION" "$(k8s_key kubernetes-bundle)"
else
  log "bundle up to date"
  cache_note reused kubernetes-bundle "$K8S_VERSION" "$(k8s_key kubernetes-bundle)"
fi
cache_publish "kubernetes-$K8S_VERSION" "$BUNDLE"
log "bundle: $OPENPAI_CACHE_ROOT/bundles/kubernetes-$K8S_VERSION -> $BUNDLE ($(( ${#FILES[@]} + 1 )) files, $(du -sh --apparent-size "$BUNDLE" | cut -f1), $((SECONDS - t0)) s)"
