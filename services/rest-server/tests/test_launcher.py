"""The node-side launcher: GPU allocation with lock files, and pai-launch in local and docker mode."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[1] / "launcher"
ALLOC = LAUNCHER / "pai-gpu-alloc"
LAUNCH = LAUNCHER / "pai-launch"


def alloc(tmp_path, count, cmd, gpus="0,1,2,3", wait_s="0.5", **popen):
    return [sys.executable, str(ALLOC), "--count", str(count), "--gpus", gpus, "--dir", str(tmp_path / "alloc"),
            "--wait-s", wait_s, "--", *cmd]


def test_concurrent_allocations_are_disjoint_and_released(tmp_path):
    marker = tmp_path / "go"
    hold = ["bash", "-c", f'echo "$CUDA_VISIBLE_DEVICES|$NVIDIA_VISIBLE_DEVICES|$PAI_GPU_INDICES"; '
                          f'while [ ! -e {marker} ]; do sleep 0.05; done']
    first = subprocess.Popen(alloc(tmp_path, 2, hold), stdout=subprocess.PIPE, text=True)
    a = first.stdout.readline().strip()
    second = subprocess.Popen(alloc(tmp_path, 2, hold), stdout=subprocess.PIPE, text=True)
    b = second.stdout.readline().strip()
    set_a, set_b = set(a.split("|")[0].split(",")), set(b.split("|")[0].split(","))
    assert len(set_a) == 2 and len(set_b) == 2 and not set_a & set_b
    assert a.split("|")[0] == a.split("|")[1] == a.split("|")[2]
    # All four are held: a third task waits, then gives up with EX_TEMPFAIL.
    third = subprocess.run(alloc(tmp_path, 1, ["true"]), capture_output=True, text=True)
    assert third.returncode == 75 and "not found within" in third.stderr
    marker.touch()
    assert first.wait(10) == 0 and second.wait(10) == 0
    everything = subprocess.run(alloc(tmp_path, 4, ["bash", "-c", "echo $CUDA_VISIBLE_DEVICES"]),
                                capture_output=True, text=True)
    assert everything.returncode == 0 and everything.stdout.strip() == "0,1,2,3"


def test_waits_for_a_gpu_being_released(tmp_path):
    holder = subprocess.Popen(alloc(tmp_path, 1, ["sleep", "0.6"], gpus="0"))
    time.sleep(0.2)
    waiter = subprocess.run(alloc(tmp_path, 1, ["bash", "-c", "echo $PAI_GPU_INDICES"], gpus="0", wait_s="10"),
                            capture_output=True, text=True)
    assert holder.wait(10) == 0
    assert waiter.returncode == 0 and waiter.stdout.strip() == "0"


def test_lock_outlives_a_killed_allocator(tmp_path):
    """The command inherits the locks: killing the allocator with SIGKILL does not free its GPU."""
    marker = tmp_path / "stop"
    proc = subprocess.Popen(alloc(tmp_path, 1, ["bash", "-c", f"echo up; while [ ! -e {marker} ]; do sleep 0.05; done"],
                                  gpus="0"), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    proc.kill()
    proc.wait(5)
    assert subprocess.run(alloc(tmp_path, 1, ["true"], gpus="0"), capture_output=True).returncode == 75
    marker.touch()
    deadline = time.time() + 10
    while time.time() < deadline:
        if subprocess.run(alloc(tmp_path, 1, ["true"], gpus="0", wait_s="0.2"), capture_output=True).returncode == 0:
            break
    else:
        pytest.fail("the GPU was not released after the task ended")


def test_exit_code_zero_count_and_errors(tmp_path):
    assert subprocess.run(alloc(tmp_path, 1, ["bash", "-c", "exit 7"])).returncode == 7
    none = subprocess.run(alloc(tmp_path, 0, ["bash", "-c", 'echo "[$NVIDIA_VISIBLE_DEVICES][$CUDA_VISIBLE_DEVICES]"']),
                          capture_output=True, text=True)
    assert none.stdout.strip() == "[void][]"
    too_many = subprocess.run(alloc(tmp_path, 5, ["true"]), capture_output=True, text=True)
    assert too_many.returncode == 75 and "this node has 4" in too_many.stderr
    bad = subprocess.run(alloc(tmp_path, 1, ["true"], gpus="0,x"), capture_output=True, text=True)
    assert bad.returncode == 64 and "--gpus" in bad.stderr and "Traceback" not in bad.stderr
    env = dict(os.environ, PAI_NODE_GPUS="2,3")
    from_env = subprocess.run([sys.executable, str(ALLOC), "--count", "2", "--dir", str(tmp_path / "a2"), "--",
                               "bash", "-c", "echo $PAI_GPU_INDICES"], capture_output=True, text=True, env=env)
    assert from_env.stdout.strip() == "2,3"


def task_env(tmp_path, commands, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAI_")}
    env.update({
        "PAI_LAUNCHER_CONF": str(tmp_path / "none.env"), "PAI_GPU_ALLOC_DIR": str(tmp_path / "alloc"),
        "PAI_NODE_GPUS": "0,1,2,3", "PAI_GPU_ALLOC_WAIT_S": "1",
        "PAI_JOB_NAME": "alice~job", "PAI_USER_NAME": "alice", "PAI_TASK_ROLE_NAME": "worker",
        "PAI_CURRENT_TASK_ROLE_NAME": "worker", "PAI_TASK_INDEX": "${COMPONENT_ID}",
        "PAI_COMPONENT_INSTANCE_NAME": "worker-3", "PAI_GPU_COUNT": "1", "PAI_DOCKER_IMAGE": "openpai/lab-job:1",
        "PAI_TASK_ROLE_worker_HOST_LIST": "node-a,${WORKER-1_HOST},node-c",
        "PAI_TASK_COMMANDS_B64": base64.b64encode(commands.encode()).decode(),
        "PAI_CONTAINER_ID": "container_e01_1_0001_01_000002",
    })
    env.update(extra)
    return env


def test_launch_local_runs_commands_with_environment(tmp_path):
    commands = ('echo "index=$PAI_TASK_INDEX role=$PAI_CURRENT_TASK_ROLE_NAME"\n'
                'echo "hosts=$PAI_TASK_ROLE_worker_HOST_LIST"\n'
                'echo "gpus=$CUDA_VISIBLE_DEVICES/$NVIDIA_VISIBLE_DEVICES"\nexit 3')
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(["bash", str(LAUNCH)], cwd=work, capture_output=True, text=True,
                            env=task_env(tmp_path, commands, PAI_LAUNCH_RUNTIME="local"))
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["index=3 role=worker", "hosts=node-a,node-c", "gpus=0/0"]


def test_launch_docker_command_line(tmp_path):
    fake = tmp_path / "docker"
    log = tmp_path / "docker.log"
    fake.write_text(f'#!/bin/bash\necho "$*" >> {log}\n'
                    'if [ "$1" = run ]; then for a in "$@"; do case $prev in --env-file) cp "$a" '
                    f'{tmp_path}/env.copy;; esac; prev=$a; done; exit 4; fi\nexit 0\n')
    fake.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = task_env(tmp_path, "nvidia-smi -L", PAI_DOCKER=str(fake), PAI_GPU_COUNT="2",
                   PAI_DOCKER_USERNAME="bob", PAI_DOCKER_PASSWORD="registry-secret", PAI_DOCKER_REGISTRY="reg:5000")
    result = subprocess.run(["bash", str(LAUNCH)], cwd=work, capture_output=True, text=True, env=env)
    assert result.returncode == 4, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("login --username bob --password-stdin reg:5000")
    run = next(c for c in calls if c.startswith("run "))
    assert '--gpus "device=0,1"' in run and "--name pai-container_e01_1_0001_01_000002" in run
    assert run.endswith("openpai/lab-job:1 bash /pai/commands.sh")
    envfile = (tmp_path / "env.copy").read_text()
    assert "PAI_JOB_NAME=alice~job" in envfile and "PAI_TASK_INDEX=3" in envfile
    assert "CUDA_VISIBLE_DEVICES=0,1" in envfile and "NVIDIA_VISIBLE_DEVICES=0,1" in envfile
    assert "registry-secret" not in envfile and "PAI_TASK_COMMANDS_B64" not in envfile
    assert (work / "pai" / "commands.sh").read_text() == "nvidia-smi -L"


def test_launch_refuses_without_commands(tmp_path):
    env = task_env(tmp_path, "true")
    del env["PAI_TASK_COMMANDS_B64"]
    result = subprocess.run(["bash", str(LAUNCH)], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "PAI_TASK_COMMANDS_B64" in result.stderr


def test_launch_env_mode_gives_the_variables_under_plain_runc(tmp_path):
    # A lab without GPU hardware: the variables only, and runc even where NVIDIA's runtime is Docker's default
    # (its hook would look for a driver that is not there).
    fake = tmp_path / "docker"
    log = tmp_path / "docker.log"
    fake.write_text(f'#!/bin/bash\necho "$*" >> {log}\n'
                    'if [ "$1" = run ]; then for a in "$@"; do case $prev in --env-file) cp "$a" '
                    f'{tmp_path}/env.copy;; esac; prev=$a; done; exit 0; fi\nexit 0\n')
    fake.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = task_env(tmp_path, "true", PAI_DOCKER=str(fake), PAI_GPU_COUNT="1", PAI_LAUNCH_GPU_MODE="env",
                   PAI_NODE_GPUS="0,1,2,3")
    result = subprocess.run(["bash", str(LAUNCH)], cwd=work, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    run = next(c for c in log.read_text().splitlines() if c.startswith("run "))
    assert "--runtime runc" in run and "--gpus" not in run
    envfile = (tmp_path / "env.copy").read_text()
    assert "NVIDIA_VISIBLE_DEVICES=0\n" in envfile and "CUDA_VISIBLE_DEVICES=0\n" in envfile

