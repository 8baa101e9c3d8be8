#!/usr/bin/env bash
# Host layer on REAL GPU hosts (not run in CI: the lab has no GPU hardware).
#
#   tests/gpu/check.sh INVENTORY [--reboot]
#
# INVENTORY: an inventory whose GPU hosts are real machines with NVIDIA GPUs
# (SKU gpu.count = the number of GPUs), reachable over SSH with sudo, with
# internet or mirrors for the distribution, Docker's and NVIDIA's repositories.
# --reboot lets role nvidia_driver reboot a host whose new driver needs it.
#
# What it proves, in order (each step fails the script):
#  1. preflight + hosts (roles common, docker, containerd, nvidia_driver,
#     nvidia_container_toolkit) converge;
#  2. a second run changes nothing (idempotence), so a kept driver is untouched;
#  3. on every GPU host: nvidia-smi counts the SKU's GPUs; the nvidia kernel
#     module is loaded and Nouveau is not; nvidia-persistenced is active;
#  4. Docker's default runtime is nvidia and a container given
#     NVIDIA_VISIBLE_DEVICES=all sees every GPU (nvidia-smi injected by the
#     toolkit); a container without it still runs;
#  5. containerd's CRI default runtime is nvidia.
# The toolkit's legacy hook needs libnvidia-container (repository install);
# with an offline bundle use CDI (nvidia-ctk cdi generate) instead.
set -euo pipefail
inv="${1:?usage: tests/gpu/check.sh INVENTORY [--reboot]}"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$root/collections"
extra=()
[ "${1:-}" = "--reboot" ] && extra=(-e nvidia_driver_reboot=true)
image="${OPENPAI_GPU_CHECK_IMAGE:-debian:12}"

echo "== 1. converge"
ansible-playbook -i "$inv" "$root/site.yml" --tags preflight,hosts "${extra[@]}"

echo "== 2. second run changes nothing"
out="$(ansible-playbook -i "$inv" "$root/site.yml" --tags preflight,hosts "${extra[@]}")"
echo "$out" | tail -n 20
if echo "$out" | grep -E 'changed=[1-9]' >/dev/null; then
  echo "FAIL: the second run changed something" >&2
  exit 1
fi

echo "== 3-5. GPU hosts"
cat > "${TMPDIR:-/tmp}/openpai-gpu-check.yml" <<'PLAY'
- hosts: kube_control_plane:kube_node:pai_master:pai_worker
  become: true
  gather_facts: false
  vars:
    sku: "{{ openpai_machine_skus | openpai.cluster.machine_sku(openpai_machine_type) }}"
    image: "{{ gpu_check_image }}"
  tasks:
    - name: GPU facts
      openpai.cluster.gpu_facts:
      when: sku.gpu_count > 0
    - name: Loaded modules and services
      ansible.builtin.shell: |
        set -e
        grep -q '^nvidia ' /proc/modules
        ! grep -q '^nouveau ' /proc/modules
        systemctl is-active nvidia-persistenced
        test "$(docker info --format '{{ "{{" }}.DefaultRuntime{{ "}}" }}')" = nvidia
        containerd config dump | grep -q 'default_runtime_name = "nvidia"'
        docker run --rm {{ image }} true
        docker run --rm -e NVIDIA_VISIBLE_DEVICES=all {{ image }} nvidia-smi -L | grep -c '^GPU '
      args:
        executable: /bin/bash
      register: gpu_check
      changed_when: false
      when: sku.gpu_count > 0
    - name: Counts
      ansible.builtin.assert:
        that:
          - openpai_gpu.smi_ok and openpai_gpu.smi_count == sku.gpu_count
          - gpu_check.stdout_lines[-1] | int == sku.gpu_count
      when: sku.gpu_count > 0
PLAY
ansible-playbook -i "$inv" "${TMPDIR:-/tmp}/openpai-gpu-check.yml" -e gpu_check_image="$image"
echo "GPU host checks passed"
