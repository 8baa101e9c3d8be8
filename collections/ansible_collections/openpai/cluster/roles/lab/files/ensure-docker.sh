#!/usr/bin/env bash
# Make sure a Docker Engine is installed and answering on this host (the lab's Docker host).
# Idempotent. Last line of output: CHANGED if it installed or started anything, else OK.
# Used by the lab role (ansible.builtin.script) and called directly by CI.
set -euo pipefail

LOG=${OPENPAI_LAB_DOCKERD_LOG:-/var/log/openpai-lab-dockerd.log}
WAIT_S=${OPENPAI_LAB_DOCKERD_WAIT:-60}
changed=0

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-docker.sh: must run as root" >&2
  exit 1
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
  changed=1
fi

if ! docker info >/dev/null 2>&1; then
  # No systemd on CI/VM hosts: start dockerd detached, in its own session.
  # If the packaged service can be started, prefer that.
  started=0
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    if systemctl start docker >/dev/null 2>&1; then
      started=1
    fi
  fi
  if [ "$started" -eq 0 ]; then
    # A dockerd killed without cleaning up (a stopped CI run) leaves pid files
    # that make the next one refuse to start.
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
      if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
        rm -f "$pidfile"
      fi
    done
    echo "starting dockerd (log: $LOG)"
    mkdir -p "$(dirname "$LOG")"
    setsid dockerd >>"$LOG" 2>&1 </dev/null &
    disown || true
  fi
  changed=1
  deadline=$((SECONDS + WAIT_S))
  until docker info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "ensure-docker.sh: dockerd did not answer within ${WAIT_S}s; last log lines:" >&2
      tail -n 30 "$LOG" >&2 || true
      exit 1
    fi
    sleep 1
  done
fi

if [ "$changed" -eq 1 ]; then
  echo CHANGED
else
  echo OK
fi
