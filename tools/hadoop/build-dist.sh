#!/usr/bin/env bash
# Build a jar-only Hadoop 3.4.x distribution from Maven Central, laid out like
# the official binary tarball (share/hadoop/{common,hdfs,yarn,mapreduce}[/lib],
# etc/hadoop/log4j.properties; no bin/ or sbin/: daemons are started as plain
# `java -cp ... MainClass`).
#
#   tools/hadoop/build-dist.sh [VERSION] [OUTDIR]
#
# VERSION  default: the first of $HADOOP_DIST_CANDIDATES (3.4.3 3.4.2 3.4.1 3.4.0)
#          whose whole artifact set resolves from Maven Central.
# OUTDIR   default: the per-machine cache (tools/lib/cache.sh),
#          <cache>/hadoop/VERSION-<key of this script, layout.py, log4j.properties,
#          pom.xml.in>, published as <cache>/bundles/hadoop-VERSION.
#
# Produces OUTDIR/hadoop-VERSION.tar.gz, OUTDIR/hadoop-VERSION.tar.gz.sha512
# ("<hex>  hadoop-VERSION.tar.gz", as sha512sum writes it) and
# OUTDIR/hadoop-VERSION.manifest.json (version, sha512, jars).
# The tarball is reproducible (sorted entries, fixed mtime/owner, gzip -n), so
# its sha512 is stable for a given VERSION and can be pinned in an artifact entry.
#
# Maven's local repository: $HADOOP_DIST_M2_REPO, default <cache>/m2 (kept
# apart from ~/.m2; shared by every clone on the machine).
# Idempotent: an existing tarball + checksum for VERSION (and this builder's
# key) is reused as is ("reused hadoop VERSION (<key>)").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/cache.sh
. "$HERE/../lib/cache.sh"
KEY=$(cache_key "$HERE/build-dist.sh" "$HERE/layout.py" "$HERE/log4j.properties" "$HERE/pom.xml.in")
OUTDIR_GIVEN="${2:-}"
M2="${HADOOP_DIST_M2_REPO:-$OPENPAI_CACHE_ROOT/m2}"
CANDIDATES="${HADOOP_DIST_CANDIDATES:-3.4.3 3.4.2 3.4.1 3.4.0}"
MVN=(mvn -B -q -Dmaven.repo.local="$M2" -Dstyle.color=never)

log() { printf '[build-dist] %s\n' "$*" >&2; }
die() { printf '[build-dist] ERROR: %s\n' "$*" >&2; exit 1; }

outdir_for() {  # the output directory of VERSION
  if [[ -n "$OUTDIR_GIVEN" ]]; then echo "$OUTDIR_GIVEN"; else cache_dir hadoop "$1" "$KEY"; fi
}
publish() {  # the stable path of VERSION's bundle (default output only)
  [[ -n "$OUTDIR_GIVEN" ]] || cache_publish "hadoop-$1" "$(outdir_for "$1")" >&2
}
done_already() {  # prints the tarball path and succeeds if VERSION is built
  local out tgz
  out="$(outdir_for "$1")"; tgz="$out/hadoop-$1.tar.gz"
  if [[ -s "$tgz" && -s "$tgz.sha512" && -s "$out/hadoop-$1.manifest.json" ]]; then
    cache_note reused hadoop "$1" "$KEY" >&2
    publish "$1"
    echo "$tgz"
    return 0
  fi
  return 1
}

# ---- version (fast path) ---------------------------------------------------
if [[ $# -ge 1 && -n "$1" ]]; then
  CANDIDATES="$1"
fi
for v in $CANDIDATES; do done_already "$v" && exit 0; done

command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
command -v python3 >/dev/null || die "python3 not found"
mkdir -p "$M2"

# ---- artifact groups, in classpath order -----------------------------------
declare -A GROUP
GROUP[common]="hadoop-common hadoop-auth"
GROUP[hdfs]="hadoop-hdfs hadoop-hdfs-client"
GROUP[yarn]="hadoop-yarn-api hadoop-yarn-common hadoop-yarn-client
  hadoop-yarn-server-common hadoop-yarn-server-resourcemanager
  hadoop-yarn-server-nodemanager hadoop-yarn-server-web-proxy
  hadoop-yarn-server-applicationhistoryservice
  hadoop-yarn-applications-distributedshell
  hadoop-yarn-services-core hadoop-yarn-services-api"
GROUP[mapreduce]="hadoop-mapreduce-client-core hadoop-mapreduce-client-common
  hadoop-mapreduce-client-app hadoop-mapreduce-client-jobclient
  hadoop-mapreduce-client-shuffle hadoop-mapreduce-client-hs
  hadoop-mapreduce-examples"
GROUP[timelineservice]="hadoop-yarn-server-timelineservice"
ORDER=(common hdfs yarn mapreduce timelineservice)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hadoop-dist.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

write_pom() {  # write_pom NAME ARTIFACTS... -> $WORK/NAME/pom.xml
  local name="$1"; shift
  local deps="" a
  for a in "$@"; do
    # compile scope on purpose: the server POMs mark hadoop-common (and the RM
    # marks timelineservice) as provided, which a runtime closure would drop.
    deps+="    <dependency><groupId>org.apache.hadoop</groupId><artifactId>$a</artifactId><version>$VERSION</version></dependency>"$'\n'
  done
  mkdir -p "$WORK/$name"
  DEPS="$deps" VERSION="$VERSION" NAME="$name" python3 - "$HERE/pom.xml.in" "$WORK/$name/pom.xml" <<'PY'
import os, sys
text = open(sys.argv[1], encoding="utf-8").read()
text = (text.replace("@VERSION@", os.environ["VERSION"])
            .replace("@GROUP@", os.environ["NAME"])
            .replace("@DEPENDENCIES@", os.environ["DEPS"].rstrip("\n")))
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
}

ALL=()
for g in "${ORDER[@]}"; do
  # shellcheck disable=SC2206
  ALL+=(${GROUP[$g]})
done

# ---- pick the version: the first candidate whose whole artifact set resolves --
# (Central lacks some modules for some releases: e.g. distributedshell and
# mapreduce-examples were never published for 3.4.1 and 3.4.3.)
VERSION=""
for v in $CANDIDATES; do
  VERSION="$v"
  write_pom all "${ALL[@]}"
  log "resolving ${#ALL[@]} Hadoop $v artifacts and their runtime dependencies"
  if (cd "$WORK/all" && "${MVN[@]}" dependency:list -DincludeScope=runtime \
        -DoutputFile="$WORK/all.list" >"$WORK/resolve-$v.log" 2>&1); then
    break
  fi
  log "hadoop $v does not resolve completely: $(grep -o 'The following artifacts could not be resolved: [^:]*:[^:]*' "$WORK/resolve-$v.log" | head -1 | cut -d: -f2-)"
  grep -o 'Could not find artifact [^ ]*' "$WORK/resolve-$v.log" | sed 's/^/[build-dist]   /' >&2 || true
  VERSION=""
done
[[ -n "$VERSION" ]] || die "no candidate in '$CANDIDATES' resolves completely from Maven Central"
OUTDIR="$(outdir_for "$VERSION")"
cache_lock "$OUTDIR"
done_already "$VERSION" && exit 0   # another clone built it meanwhile
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
log "version $VERSION; maven repo $M2; output $OUTDIR"
for g in "${ORDER[@]}"; do
  # shellcheck disable=SC2086
  write_pom "$g" ${GROUP[$g]}
done

log "copying jars (copy-dependencies)"
(cd "$WORK/all" && "${MVN[@]}" dependency:copy-dependencies -DincludeScope=runtime \
   -Dmdep.useRepositoryLayout=true -DoutputDirectory="$WORK/staging" >>"$WORK/mvn.log" 2>&1) \
   || { tail -20 "$WORK/mvn.log" >&2; die "copy-dependencies failed"; }

GROUP_LISTS=()
for g in "${ORDER[@]}"; do
  log "computing the $g closure"
  (cd "$WORK/$g" && "${MVN[@]}" dependency:list -DincludeScope=runtime \
     -DoutputFile="$WORK/$g.list" >>"$WORK/mvn.log" 2>&1) \
     || { tail -20 "$WORK/mvn.log" >&2; die "dependency:list failed for $g"; }
  GROUP_LISTS+=("$g=$WORK/$g.list")
done

# ---- lay out ----------------------------------------------------------------
NAME="hadoop-$VERSION"
DIST="$WORK/dist/$NAME"
mkdir -p "$DIST/etc/hadoop"
log "laying out $NAME/share/hadoop"
python3 "$HERE/layout.py" "$VERSION" "$WORK/staging" "$DIST" "$WORK/all.list" \
  "${GROUP_LISTS[@]}" > "$WORK/jars.json"
# The HDFS web UIs (NameNode webapps/hdfs, DataNode webapps/datanode, ...) are
# not in hadoop-hdfs.jar: the official tarball ships them as the directory
# share/hadoop/hdfs/webapps/, found through the classpath entry share/hadoop/hdfs.
# On Maven Central they are inside hadoop-hdfs's "tests" jar. (The YARN UIs,
# webapps/cluster, node, jobhistory, static..., are inside hadoop-yarn-common.jar.)
log "extracting share/hadoop/hdfs/webapps from hadoop-hdfs-$VERSION-tests.jar"
(cd "$WORK/all" && "${MVN[@]}" dependency:copy \
   -Dartifact="org.apache.hadoop:hadoop-hdfs:$VERSION:jar:tests" \
   -DoutputDirectory="$WORK/extra" >>"$WORK/mvn.log" 2>&1) \
   || { tail -20 "$WORK/mvn.log" >&2; die "could not fetch hadoop-hdfs tests jar"; }
python3 - "$WORK/extra/hadoop-hdfs-$VERSION-tests.jar" "$DIST/share/hadoop/hdfs" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith("webapps/")]
    z.extractall(sys.argv[2], names)
for app in ("hdfs", "datanode", "secondary", "journal", "static"):
    if f"webapps/{app}/" not in names:
        sys.exit(f"webapps/{app} missing from {sys.argv[1]}")
print(f"[build-dist]   {len(names)} webapps entries", file=sys.stderr)
PY
install -m 0644 "$HERE/log4j.properties" "$DIST/etc/hadoop/log4j.properties"
for d in common common/lib hdfs hdfs/lib yarn yarn/lib mapreduce; do
  [[ -d "$DIST/share/hadoop/$d" ]] || die "layout lacks share/hadoop/$d"
  log "  share/hadoop/$d: $(find "$DIST/share/hadoop/$d" -maxdepth 1 -name '*.jar' | wc -l) jars"
done
cat > "$DIST/README.openpai" <<EOF
Hadoop $VERSION, jar-only distribution built by openpai-ansible tools/hadoop/build-dist.sh
from Maven Central artifacts (runtime closures of the Hadoop modules it names), laid
out like the official binary tarball. No bin/, sbin/, native libraries or docs.
Start daemons with: java <flags> -cp <conf>:share/hadoop/common/lib/*:share/hadoop/common/*:...
EOF

# ---- pack (reproducible) ----------------------------------------------------
TGZ="$OUTDIR/$NAME.tar.gz"
log "packing $TGZ"
tar -C "$WORK/dist" --sort=name --mtime='2000-01-01 00:00:00Z' --owner=0 --group=0 \
    --numeric-owner --mode='u+rwX,go+rX,go-w' -cf - "$NAME" | gzip -n -9 > "$TGZ.part"
mv "$TGZ.part" "$TGZ"
SHA="$(sha512sum "$TGZ" | cut -d' ' -f1)"
printf '%s  %s\n' "$SHA" "$NAME.tar.gz" > "$TGZ.sha512"
python3 - "$VERSION" "$SHA" "$NAME.tar.gz" "$WORK/jars.json" > "$OUTDIR/$NAME.manifest.json" <<'PY'
import json, sys
version, sha, name, jars = sys.argv[1:5]
json.dump({"version": version, "file": name, "sha512": sha,
           "source": "Maven Central (org.apache.hadoop runtime closures)",
           "jars": json.load(open(jars))}, sys.stdout, indent=1)
print()
PY
log "done in $((SECONDS - START)) s: $(du -h "$TGZ" | cut -f1), $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/jars.json") jars"
cache_note built hadoop "$VERSION" "$KEY" >&2
publish "$VERSION"
echo "$TGZ"
