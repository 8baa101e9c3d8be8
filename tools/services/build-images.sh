#!/usr/bin/env bash
# Build the platform services' images without any image registry, into the
# host's Docker Engine, tagged as the service table names them
# (docker.io/openpai/<service>:<tag>, roles/services/defaults/main.yml), and
# save each one as a tarball for `ctr -n k8s.io images import`: the offline
# bundle of services_image_source: bundle (tarballs + SHA256SUMS).
#
#   tools/services/build-images.sh [TAG]            (default 0.1.0)
#
# Sources (nothing from a registry):
#   every image: FROM the lab's Debian 12 rootfs openpai-lab/debian12:latest
#     (roles/lab/files/build-base-image.sh, debootstrap), with Debian packages
#     (apt --no-install-recommends) and PyPI wheels built here;
#   pylon: Debian's nginx (1.22: auth_request, sub_filter built in);
#   prometheus: Debian's prometheus (2.42, classic web UI and consoles);
#   node-exporter: prometheus-node-exporter; alertmanager: prometheus-alertmanager;
#   gpu-exporter, rest-server: services/<name> and their pinned dependencies as
#     wheels (`pip wheel`), installed with `pip --no-index` into a venv;
#   webportal: Debian's nginx and the static page of services/webportal (its
#     own recipe, services/webportal/image/Dockerfile).
# Each image carries the label io.openpai.inputs=<sha256 of its build context>;
# an image whose label matches is not rebuilt, a tarball whose image ID matches
# is not re-saved.
# The bundle also holds the lab's job image openpai/lab-job:1 (openpai_lab-job_1.tar),
# loaded into Docker on the workers by role job_runtime.
# Output: the per-machine cache (tools/lib/cache.sh) when present,
# <cache>/services/<TAG>-<key>/ published as <cache>/bundles/services-<TAG>;
# else $CACHE/services/<TAG> (default .cache in the clone). Tarball names as the
# image table names them (services.image_file): openpai_<service>_<TAG>.tar.
set -euo pipefail

TAG=${1:-${SERVICES_IMAGE_TAG:-0.1.0}}
REGISTRY=${SERVICES_IMAGE_REGISTRY:-docker.io}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASE_IMAGE=${BASE_IMAGE:-openpai-lab/debian12:latest}
PYTHON=${PYTHON:-python3}
NICE=${NICE:-nice -n 10}
SERVICES=(pylon prometheus node-exporter alertmanager gpu-exporter rest-server webportal)
LAB_JOB_IMAGE=docker.io/openpai/lab-job:1   # the lab's job image (a contract: openpai/lab-job:1)
export DOCKER_BUILDKIT=0   # the legacy builder works offline FROM a local image

log() { printf '== %s\n' "$*"; }
t0=$SECONDS

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || {
  echo "missing $BASE_IMAGE (built by the lab role: roles/lab/files/build-base-image.sh)" >&2; exit 1; }
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")

# A fingerprint of the service programs' sources (what the wheels are built from).
src_sum() {
  (cd "$ROOT/services/$1" && git ls-files -co --exclude-standard |
     grep -v -e '^tests/' -e '\.egg-info/' | sort | xargs -d '\n' sha256sum) |
    sha256sum | cut -c1-64
}

if [ -f "$ROOT/tools/lib/cache.sh" ]; then
  # shellcheck source=../lib/cache.sh
  . "$ROOT/tools/lib/cache.sh"
  key=$(cache_key "$0" -- "$TAG" "$REGISTRY" "$base_id" "$(src_sum gpu-exporter)" "$(src_sum rest-server)" \
    "$(src_sum webportal)")
  OUT=$(cache_dir services "$TAG" "$key")
  cache_lock "$OUT"
else
  OUT=${CACHE:-$ROOT/.cache}/services/$TAG
fi
CTX=$OUT.contexts
mkdir -p "$OUT" "$CTX"

# build SERVICE DIR [IMAGE]: DIR holds a Dockerfile and its files; IMAGE
# defaults to the service's $REGISTRY/openpai/SERVICE:$TAG.
build() {
  local tag=${3:-$REGISTRY/openpai/$1:$TAG} dir=$2 sum have s=$SECONDS
  sum=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
  have=$(docker image inspect -f '{{index .Config.Labels "io.openpai.inputs"}}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$sum" ]; then log "$tag: up to date"; return; fi
  # (stderr to a log: the legacy builder prints a deprecation banner every time)
  $NICE docker build -q --label "io.openpai.inputs=$sum" -t "$tag" "$dir" >/dev/null 2>"$dir.log" ||
    { cat "$dir.log" >&2; exit 1; }
  log "$tag: built in $((SECONDS - s)) s"
}
context() { local d=$CTX/$1; rm -rf "$d"; mkdir -p "$d"; echo "$d"; }
# apt_layer PACKAGE...: the Dockerfile lines installing Debian packages, lean.
apt_layer() {
  cat <<EOF
# base: $BASE_IMAGE $base_id
FROM $BASE_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      $* >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*
EOF
}
# wheels NAME DIR: the program of services/NAME and its pinned dependencies as wheels in DIR/wheels.
wheels() {
  local s=$SECONDS had_build=0
  [ -e "$ROOT/services/$1/build" ] && had_build=1
  $NICE "$PYTHON" -m pip wheel -q --disable-pip-version-check --wheel-dir "$2/wheels" "$ROOT/services/$1" \
    >"$2.pip.log" 2>&1 || { cat "$2.pip.log" >&2; exit 1; }
  # build/ and *.egg-info left by setuptools in the source tree are not ours to keep
  [ "$had_build" = 1 ] || rm -rf "$ROOT/services/$1/build"
  log "$1: $(find "$2/wheels" -name '*.whl' | wc -l) wheels in $((SECONDS - s)) s"
}

d=$(context pylon)
cat > "$d/Dockerfile" <<EOF
$(apt_layer nginx ca-certificates)
RUN rm -f /etc/nginx/sites-enabled/default
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/usr/sbin/nginx"]
CMD ["-c", "/etc/openpai/pylon-nginx.conf"]
EOF
build pylon "$d"

d=$(context prometheus)
cat > "$d/Dockerfile" <<EOF
$(apt_layer prometheus)
USER 9091
ENTRYPOINT ["/usr/bin/prometheus"]
EOF
build prometheus "$d"

d=$(context node-exporter)
cat > "$d/Dockerfile" <<EOF
$(apt_layer prometheus-node-exporter)
ENTRYPOINT ["/usr/bin/prometheus-node-exporter"]
EOF
build node-exporter "$d"

d=$(context alertmanager)
cat > "$d/Dockerfile" <<EOF
$(apt_layer prometheus-alertmanager)
USER 9093
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
EOF
build alertmanager "$d"

# gpu-exporter: its own recipe (services/gpu-exporter/image/Dockerfile) over the wheels.
d=$(context gpu-exporter)
mkdir -p "$d/image"
wheels gpu-exporter "$d/image"
cp "$ROOT/services/gpu-exporter/image/Dockerfile" "$d/Dockerfile"
build gpu-exporter "$d"

# rest-server: the same layout as services/rest-server/image/Dockerfile, from wheels
# (its own recipe installs from PyPI during the build, which an offline builder cannot).
d=$(context rest-server)
wheels rest-server "$d"
cp -r "$ROOT/services/rest-server/launcher" "$d/launcher"
cat > "$d/Dockerfile" <<EOF
$(apt_layer python3 python3-venv ca-certificates)
COPY wheels/ /tmp/wheels/
RUN python3 -m venv /opt/openpai/rest-server/venv \\
 && /opt/openpai/rest-server/venv/bin/pip install -q --no-index --find-links /tmp/wheels pai-rest-server \\
 && rm -rf /tmp/wheels \\
 && useradd --system --uid 9186 --home-dir /var/lib/openpai/rest-server --create-home pai-rest
COPY launcher /opt/openpai/launcher
USER 9186
ENV PAI_REST_DATABASE_URL=sqlite:////var/lib/openpai/rest-server/rest-server.db PAI_REST_PORT=9186
EXPOSE 9186
ENTRYPOINT ["/opt/openpai/rest-server/venv/bin/pai-rest-server"]
EOF
build rest-server "$d"

# webportal: its own recipe over its static page (no build step).
d=$(context webportal)
mkdir -p "$d/image" "$d/src/pai_webportal"
cp "$ROOT/services/webportal/image/nginx.conf" "$d/image/"
cp -r "$ROOT/services/webportal/src/pai_webportal/static" "$d/src/pai_webportal/static"
sed "s|^FROM openpai-lab/debian12:latest|# base: $BASE_IMAGE $base_id\nFROM $BASE_IMAGE|" \
  "$ROOT/services/webportal/image/Dockerfile" > "$d/Dockerfile"
build webportal "$d"

# lab-job: the lab's job image (Debian 12 with bash, coreutils, python3), what a
# job's dockerimage prerequisite names in a lab without a registry. Not a service:
# role job_runtime loads it into Docker on the workers (job_runtime_images).
d=$(context lab-job)
cat > "$d/Dockerfile" <<EOF
# base: $BASE_IMAGE $base_id
FROM $BASE_IMAGE
LABEL io.openpai.image=lab-job
CMD ["bash"]
EOF
build lab-job "$d" "$LAB_JOB_IMAGE"

# --- tarballs + SHA256SUMS ----------------------------------------------------
files=()
for svc in "${SERVICES[@]}" lab-job; do
  tag=$REGISTRY/openpai/$svc:$TAG
  name=openpai_${svc}_$TAG.tar
  if [ "$svc" = lab-job ]; then tag=$LAB_JOB_IMAGE name=openpai_lab-job_${LAB_JOB_IMAGE##*:}.tar; fi
  tar=$OUT/$name id=$(docker image inspect -f '{{.Id}}' "$tag")
  if [ ! -f "$tar" ] || [ "$(cat "$CTX/$name.id" 2>/dev/null)" != "$id" ]; then
    docker save -o "$tar.tmp" "$tag" && mv "$tar.tmp" "$tar" && echo "$id" > "$CTX/$name.id"
    log "saved $tag -> $tar ($(du -m "$tar" | cut -f1) MiB)"
  fi
  files+=("$name")
done
(cd "$OUT" && sha256sum "${files[@]}" > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
if declare -F cache_publish >/dev/null; then
  cache_publish "services-$TAG" "$OUT"
  # the lab's job image is found by its own tag (bundles/lab-job-1/openpai_lab-job_1.tar)
  cache_publish "lab-job-${LAB_JOB_IMAGE##*:}" "$OUT"
fi
log "bundle: $OUT (services_bundle_dir; $((SECONDS - t0)) s)"
