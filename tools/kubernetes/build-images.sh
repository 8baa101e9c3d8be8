#!/usr/bin/env bash
# Build the container images kubeadm expects, without any image registry, into
# the host's Docker Engine, tagged exactly as `kubeadm config images list`
# prints them (registry.k8s.io/...), and save each one as a tarball for
# `ctr -n k8s.io images import`. Nothing built is committed: everything goes
# to the per-machine cache (tools/kubernetes/dirs.sh).
#
#   tools/kubernetes/build-images.sh [VERSION]      (default v1.33.13)
#
# Sources:
#   kube-apiserver, kube-controller-manager, kube-scheduler: the binaries of
#     tools/kubernetes/build-binaries.sh, FROM scratch, in /usr/local/bin.
#   kube-proxy: the kube-proxy binary on a Debian rootfs with iptables
#     (FROM the lab image, which is built from Debian packages by debootstrap).
#   etcd: built from Go modules by tools/kubernetes/build-etcd.sh.
#   coredns: built from Go modules by tools/kubernetes/build-coredns.sh.
#   pause: tools/kubernetes/pause.c, our own, gcc -static.
#   ghcr.io/flannel-io/flannel:$FLANNEL_VERSION (default v0.28.10; not a kubeadm
#     image): flanneld and install-conf from tools/kubernetes/build-flannel.sh in
#     /opt/bin, on the same base and apt layer as kube-proxy (the layers are shared).
# Each image carries the label io.openpai.inputs=<sha256 of its build context>;
# an image whose label matches is not rebuilt, a tarball whose image ID matches
# is not re-saved. Output: <cache>/kubernetes-images/<VERSION>-<key>/*.tar + SHA256SUMS
# and images.txt (kubeadm's list, then flannel). Tarball names: the tag without
# its registry (registry.k8s.io/ or ghcr.io/), "/" and ":" made "_".
# The lab's node image (BASE_IMAGE, the FROM of kube-proxy and flannel) is built
# first when missing, with roles/lab/files/build-base-image.sh.
set -euo pipefail

VERSION=${1:-${K8S_VERSION:-v1.33.13}}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=dirs.sh
. "$HERE/dirs.sh"
BIN=$(k8s_dir kubernetes-binaries "$VERSION")/bin
IMAGES=$(k8s_dir kubernetes-images "$VERSION")
BASE_IMAGE=${BASE_IMAGE:-openpai-lab/debian12:latest}
FLANNEL_VERSION=${FLANNEL_VERSION:-v0.28.10}
FLANNEL_IMG=ghcr.io/flannel-io/flannel:$FLANNEL_VERSION
NICE=${NICE:-nice -n 10}
export DOCKER_BUILDKIT=0   # the legacy builder works offline with FROM scratch / local images

log() { printf '== %s\n' "$*"; }
t0=$SECONDS

"$HERE/build-binaries.sh" "$VERSION"
cache_lock "$IMAGES"
mkdir -p "$IMAGES" "$OPENPAI_CACHE_ROOT/tmp"
CTX=$(mktemp -d "$OPENPAI_CACHE_ROOT/tmp/image-contexts.XXXXXX")   # same file system: hard links
trap 'rm -rf "$CTX"' EXIT
# step NAME VERSION DIR BUILD...: run BUILD unless DIR has NAME's output; say which.
step() {
  local name=$1 version=$2 dir=$3 s=$SECONDS; shift 3
  if [ -x "$dir/${name##*/}" ]; then cache_note reused "${name%%/*}" "$version" "$(k8s_key "${name%%/*}")"; return; fi
  cache_lock "$dir"
  "$@"
  cache_note built "${name%%/*}" "$version" "$(k8s_key "${name%%/*}")"
  log "$name: $((SECONDS - s)) s"
}

# The image list, from the built kubeadm (explicit version: no network lookup).
mapfile -t LIST < <("$BIN/kubeadm" config images list --kubernetes-version "$VERSION")
img() { printf '%s\n' "${LIST[@]}" | grep -E "^registry.k8s.io/$1:" ; }
ETCD_IMG=$(img etcd); COREDNS_IMG=$(img coredns/coredns); PAUSE_IMG=$(img pause)
ETCD_VERSION=${ETCD_IMG##*:}; ETCD_VERSION=${ETCD_VERSION%-*}     # 3.5.24-0 -> 3.5.24
COREDNS_VERSION=${COREDNS_IMG##*:}
log "kubeadm $VERSION wants: ${LIST[*]}"

# --- non-Kubernetes binaries -------------------------------------------------
ETCD_DIR=$(k8s_dir etcd "$ETCD_VERSION")
step etcd "$ETCD_VERSION" "$ETCD_DIR" "$HERE/build-etcd.sh" "$ETCD_VERSION" "$ETCD_DIR"

COREDNS_DIR=$(k8s_dir coredns "$COREDNS_VERSION")
step coredns "$COREDNS_VERSION" "$COREDNS_DIR" "$HERE/build-coredns.sh" "$COREDNS_VERSION" "$COREDNS_DIR"

FLANNEL_DIR=$(k8s_dir flannel "$FLANNEL_VERSION")
if [ ! -x "$FLANNEL_DIR/flanneld" ] || [ ! -x "$FLANNEL_DIR/install-conf" ]; then
  s=$SECONDS; "$HERE/build-flannel.sh" "$FLANNEL_VERSION"; log "flannel: $((SECONDS - s)) s"
fi

PAUSE_VERSION=${PAUSE_IMG##*:}
PAUSE_DIR=$(k8s_dir pause "$PAUSE_VERSION")
build_pause() {
  mkdir -p "$PAUSE_DIR"
  gcc -Os -Wall -Werror -static -o "$PAUSE_DIR/pause.tmp" "$HERE/pause.c"
  strip "$PAUSE_DIR/pause.tmp" && mv "$PAUSE_DIR/pause.tmp" "$PAUSE_DIR/pause"
  (cd "$PAUSE_DIR" && sha256sum pause > SHA256SUMS)
}
step pause "$PAUSE_VERSION" "$PAUSE_DIR" build_pause

# --- images ------------------------------------------------------------------
# build TAG DIR: DIR holds a Dockerfile and its files.
build() {
  local tag=$1 dir=$2 sum have
  sum=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
  have=$(docker image inspect -f '{{index .Config.Labels "io.openpai.inputs"}}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$sum" ]; then log "$tag: up to date"; return; fi
  local s=$SECONDS
  # (stderr to a log: the legacy builder prints a deprecation banner every time)
  $NICE docker build -q --label "io.openpai.inputs=$sum" -t "$tag" "$dir" >/dev/null 2>"$dir.log" ||
    { cat "$dir.log" >&2; exit 1; }
  log "$tag: built in $((SECONDS - s)) s"
}
# context NAME FILE...: a fresh build context with hard links (or copies) of FILEs.
context() {
  local d=$CTX/$1; shift
  rm -rf "$d"; mkdir -p "$d"
  for f in "$@"; do ln "$f" "$d/" 2>/dev/null || cp -p "$f" "$d/"; done
  echo "$d"
}

for c in kube-apiserver kube-controller-manager kube-scheduler; do
  d=$(context "$c" "$BIN/$c")
  cat > "$d/Dockerfile" <<EOF
FROM scratch
COPY $c /usr/local/bin/$c
ENV PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/usr/local/bin/$c"]
EOF
  build "registry.k8s.io/$c:$VERSION" "$d"
done

# kube-proxy needs iptables (legacy and nft, with -save/-restore) on a Debian
# rootfs. The lab image is our only local Debian rootfs; iptables comes from
# Debian's apt repository during the build.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "building the lab's node image $BASE_IMAGE (roles/lab/files/build-base-image.sh)"
  bash "$ROOT/collections/ansible_collections/openpai/cluster/roles/lab/files/build-base-image.sh" "$BASE_IMAGE"
fi
# flannel's image uses the same FROM and RUN lines (NETBASE), so the builder's cache
# gives both images the same apt layer; keep them identical.
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
NETBASE="# base: $BASE_IMAGE $base_id
FROM $BASE_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      iptables nftables conntrack ipset kmod >/dev/null && rm -rf /var/lib/apt/lists/*"
d=$(context kube-proxy "$BIN/kube-proxy")
cat > "$d/Dockerfile" <<EOF
$NETBASE
COPY kube-proxy /usr/local/bin/kube-proxy
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
CMD []
EOF
build "registry.k8s.io/kube-proxy:$VERSION" "$d"

# flannel: like upstream's image, /opt/bin/flanneld (the entrypoint) and
# /opt/bin/install-conf (kube-flannel.yml's install-cni init container runs it).
d=$(context flannel "$FLANNEL_DIR/flanneld" "$FLANNEL_DIR/install-conf")
cat > "$d/Dockerfile" <<EOF
$NETBASE
COPY flanneld install-conf /opt/bin/
ENTRYPOINT ["/opt/bin/flanneld"]
EOF
build "$FLANNEL_IMG" "$d"

d=$(context etcd "$ETCD_DIR/etcd")
cat > "$d/Dockerfile" <<EOF
FROM scratch
COPY etcd /usr/local/bin/etcd
ENV PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/usr/local/bin/etcd"]
EOF
build "$ETCD_IMG" "$d"

d=$(context coredns "$COREDNS_DIR/coredns")
cat > "$d/Dockerfile" <<EOF
FROM scratch
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
EOF
build "$COREDNS_IMG" "$d"

d=$(context pause "$PAUSE_DIR/pause")
cat > "$d/Dockerfile" <<EOF
FROM scratch
COPY pause /pause
ENTRYPOINT ["/pause"]
EOF
build "$PAUSE_IMG" "$d"

# --- tarballs ------------------------------------------------------------------
mkdir -p "$IMAGES"
files=()
ALL=("${LIST[@]}" "$FLANNEL_IMG")
for tag in "${ALL[@]}"; do
  name=${tag#registry.k8s.io/}; name=${name#ghcr.io/}; name=${name//\//_}; name=${name//:/_}
  tar=$IMAGES/$name.tar id=$(docker image inspect -f '{{.Id}}' "$tag")
  if [ ! -f "$tar" ] || [ "$(cat "$tar.id" 2>/dev/null)" != "$id" ]; then
    docker save -o "$tar.tmp" "$tag" && mv "$tar.tmp" "$tar" && echo "$id" > "$tar.id"
    log "saved $tag -> $tar"
  fi
  files+=("$name.tar")
done
(cd "$IMAGES" && sha256sum "${files[@]}" > SHA256SUMS && printf '%s\n' "${ALL[@]}" > images.txt)
log "images in $IMAGES ($((SECONDS - t0)) s)"
cache_note built kubernetes-images "$VERSION" "$(k8s_key kubernetes-images)"
