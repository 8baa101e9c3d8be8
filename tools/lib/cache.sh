#!/usr/bin/env bash
# The per-machine cache of the offline bundles, shared by every clone on this
# machine (a CI's fresh clone included) and by `make lab`; never inside a clone.
#
#   root: ${OPENPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openpai-ansible}
#   <root>/<name>/<version>-<key>   what one build step made; <key> is 12 hex chars
#                                   of the SHA-256 of the files that built it (and of
#                                   the keys of its inputs), so a changed builder
#                                   builds into a new directory and the old one is
#                                   never reused for it
#   <root>/bundles/<name>-<version> the stable path inventories point at: a symlink
#                                   to the keyed directory of the bundle in use
#
# Sourced by tools/*/build-*.sh:
#   key=$(cache_key FILE... [-- STRING...])
#   dir=$(cache_dir NAME VERSION KEY)
#   cache_lock DIR                  wait for, then hold until exit, DIR's build lock
#   cache_note reused|built NAME VERSION KEY      "reused NAME VERSION (KEY)"
#   cache_publish NAME-VERSION DIR  point <root>/bundles/NAME-VERSION at DIR
# Run directly:
#   bash tools/lib/cache.sh root      the cache root
#   bash tools/lib/cache.sh bundles   the published bundles and where they point

OPENPAI_CACHE_ROOT=${OPENPAI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openpai-ansible}

# cache_key FILE... [-- STRING...]: the first 12 hex chars of the SHA-256 over each
# file's name and content, then the strings (the keys of a step's inputs).
cache_key() {
  local f strings=0
  for f in "$@"; do
    if [ "$f" = -- ]; then strings=1; continue; fi
    if [ "$strings" = 1 ]; then printf 'key %s\0' "$f"; continue; fi
    [ -f "$f" ] || { echo "cache_key: no file $f" >&2; return 1; }
    printf 'file %s\0' "${f##*/}"; cat "$f"; printf '\0'
  done | sha256sum | cut -c1-12
}

cache_dir() { printf '%s/%s/%s-%s\n' "$OPENPAI_CACHE_ROOT" "$1" "$2" "$3"; }

# cache_lock DIR: one build per directory at a time on this machine (two clones
# building the same step wait for each other instead of mixing their files).
cache_lock() {
  local lock=$1.lock fd
  mkdir -p "$(dirname "$lock")"
  exec {fd}>"$lock"
  if ! flock -n "$fd"; then
    echo "waiting for another build of ${1#"$OPENPAI_CACHE_ROOT"/} (lock $lock)" >&2
    flock "$fd"
  fi
}

cache_note() { printf '%s %s %s (%s)\n' "$1" "$2" "$3" "$4"; }

cache_publish() {
  local link=$OPENPAI_CACHE_ROOT/bundles/$1 target
  target=$(realpath --relative-to="$OPENPAI_CACHE_ROOT/bundles" -m "$2")
  mkdir -p "$OPENPAI_CACHE_ROOT/bundles"
  [ "$(readlink "$link" 2>/dev/null)" = "$target" ] && return 0
  ln -sfn "$target" "$link.tmp.$$" && mv -Tf "$link.tmp.$$" "$link"
  echo "published bundles/$1 -> $target"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-} in
    root) echo "$OPENPAI_CACHE_ROOT" ;;
    bundles)
      for l in "$OPENPAI_CACHE_ROOT"/bundles/*; do
        if [ -L "$l" ]; then printf '%s -> %s\n' "$l" "$(readlink "$l")"; fi
      done ;;
    *) echo "usage: $0 root|bundles" >&2; exit 2 ;;
  esac
fi
