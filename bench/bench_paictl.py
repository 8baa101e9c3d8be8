"""Benchmark: paictl check and config render on generated inventories of 10, 100
and 1000 hosts. Prints seconds and the per-host cost ratio 1000:10 (1.0 = linear).

    make bench            (or: .venv/bin/python bench/bench_paictl.py [--sizes 10,100,1000])
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAICTL = [sys.executable, "-m", "paictl.cli"]


def inventory(n, folder):
    """One master and n-1 workers alternating between a GPU and a CPU SKU."""
    hosts = {"master-0": {"ansible_host": "10.0.0.1", "openpai_machine_type": "master"}}
    for i in range(1, n):
        hosts["worker-%d" % i] = {"ansible_host": str(ipaddress.IPv4Address("10.0.0.1") + i),
                                  "openpai_machine_type": "gpu" if i % 2 else "cpu"}
    workers = {h: None for h in hosts if h != "master-0"}
    doc = {"all": {
        "vars": {"openpai_machine_skus": {
            "master": {"mem": "64Gi", "cpu": {"vcore": 16}},
            "gpu": {"mem": "40G", "cpu": {"vcore": 24}, "gpu": {"type": "Tesla K80", "count": 4}},
            "cpu": {"mem": "128Gi", "cpu": {"vcore": 32}}}},
        "hosts": hosts,
        "children": {"kube_control_plane": {"hosts": {"master-0": None}}, "kube_node": {"hosts": workers},
                     "pai_master": {"hosts": {"master-0": None}}, "pai_worker": {"hosts": workers}}}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc))
    return folder


def timed(argv, env):
    start = time.perf_counter()
    res = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit("benchmark command failed: %s\n%s%s" % (" ".join(argv), res.stdout[-2000:], res.stderr[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    env = dict(os.environ, PAICTL_PROJECT_DIR=str(ROOT), PYTHONPATH=str(ROOT / "src"))
    baseline = timed(PAICTL + ["--version"], env)  # interpreter start, not per-host work
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            inv = inventory(n, Path(tmp) / ("inv%d" % n))
            check = timed(PAICTL + ["check", "-i", str(inv)], env)
            render = timed(PAICTL + ["config", "render", "-i", str(inv), "-o", str(Path(tmp) / ("out%d" % n))], env)
            files = sum(1 for _ in (Path(tmp) / ("out%d" % n)).rglob("*.xml"))
            results[n] = (check, render)
            print("%5d hosts: check %7.2f s   render %7.2f s (%d files)" % (n, check, render, files))
    print("interpreter start: %.2f s (subtracted below)" % baseline)
    small, large = min(sizes), max(sizes)
    for index, name in enumerate(("check", "render")):
        per_small = max(results[small][index] - baseline, 1e-3) / small
        per_large = max(results[large][index] - baseline, 1e-3) / large
        print("%s per-host cost ratio %d:%d = %.2f (1.0 is linear; below 1 while start-up dominates)"
              % (name, large, small, per_large / per_small))
        if len(sizes) >= 3:
            mid = sorted(sizes)[1]
            low = (results[mid][index] - results[small][index]) / (mid - small)
            high = (results[large][index] - results[mid][index]) / (large - mid)
            print("%s marginal per-host cost %d..%d vs %d..%d = %.1f ms vs %.1f ms, ratio %.2f"
                  % (name, mid, large, small, mid, high * 1e3, low * 1e3, high / max(low, 1e-6)))


if __name__ == "__main__":
    main()
