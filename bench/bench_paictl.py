"""Benchmark: paictl check and config render on generated inventories of 10, 100
and 1000 hosts (addresses in 127.0.0.0/8 only: nothing is contacted anyway).

Prints, per size, the wall-clock seconds of the fastest of --repeat runs (this kind
of machine is shared; the fastest run is the least disturbed) and the CPU seconds
of that run, and, per command, the marginal per-host cost between consecutive
sizes and the ratio of the last to the first (1.0 = linear; the goal for render is
<= 1.2, and 1000 hosts in <= 30 s).

    make bench            (or: .venv/bin/python bench/bench_paictl.py [--sizes 10,100,1000] [--repeat 3])
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAICTL = [sys.executable, "-m", "paictl.cli"]
FIRST_ADDRESS = ipaddress.IPv4Address("127.0.1.1")
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def address(i: int) -> str:
    """The i-th host's address, always inside 127.0.0.0/8."""
    value = FIRST_ADDRESS + i
    if value not in LOOPBACK:
        raise ValueError("too many hosts for 127.0.0.0/8: %d" % i)
    return str(value)


def inventory(n: int, folder: Path) -> Path:
    """One master and n-1 workers alternating between a GPU and a CPU SKU."""
    hosts = {"master-0": {"ansible_host": address(0), "openpai_machine_type": "master"}}
    for i in range(1, n):
        hosts["worker-%d" % i] = {"ansible_host": address(i), "openpai_machine_type": "gpu" if i % 2 else "cpu"}
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list, env: dict, repeat: int) -> tuple:
    """``(wall, cpu)`` seconds of the fastest of ``repeat`` runs of ``argv``; exits when a run fails."""
    best = None
    for _ in range(repeat):
        cpu, start = _children_cpu(), time.perf_counter()
        res = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed, used = time.perf_counter() - start, _children_cpu() - cpu
        if res.returncode != 0:
            sys.exit("benchmark command failed: %s\n%s%s" % (" ".join(argv), res.stdout[-2000:], res.stderr[-2000:]))
        best = (elapsed, used) if best is None or elapsed < best[0] else best
    return best


def marginal(results: dict, sizes: list, command: str, measure: int) -> list:
    """``(low, high, seconds per host)`` between consecutive sizes (measure 0: wall, 1: CPU)."""
    return [(a, b, (results[b][command][measure] - results[a][command][measure]) / (b - a))
            for a, b in zip(sizes, sizes[1:])]


def report(results: dict, sizes: list, baseline: tuple) -> list:
    """The summary lines: per command and measure, the marginal per-host costs and their ratio."""
    lines = ["interpreter start: %.2f s" % baseline[0]]
    for command in ("check", "render"):
        for measure, what in enumerate(("wall", "cpu")):
            steps = marginal(results, sizes, command, measure)
            if not steps:
                continue
            text = "%s %s marginal per-host cost: %s" % (command, what, ", ".join(
                "%d..%d %.1f ms" % (a, b, cost * 1e3) for a, b, cost in steps))
            if len(steps) >= 2:
                first, last = steps[0], steps[-1]
                text += "; ratio %d..%d vs %d..%d = %.2f (1.0 is linear)" % (
                    last[0], last[1], first[0], first[1], last[2] / max(first[2], 1e-6))
            lines.append(text)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; the fastest counts")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    env = dict(os.environ, PAICTL_PROJECT_DIR=str(ROOT), PYTHONPATH=str(ROOT / "src"))
    baseline = timed(PAICTL + ["--version"], env, args.repeat)  # interpreter start, not per-host work
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            inv = inventory(n, Path(tmp) / ("inv%d" % n))
            out = Path(tmp) / ("out%d" % n)
            check = timed(PAICTL + ["check", "-i", str(inv)], env, args.repeat)
            render = timed(PAICTL + ["config", "render", "-i", str(inv), "-o", str(out)], env, args.repeat)
            files = sum(1 for p in out.rglob("*") if p.is_file())
            results[n] = {"check": check, "render": render}
            print("%5d hosts: check %7.2f s (cpu %6.2f)   render %7.2f s (cpu %6.2f, %d files)"
                  % (n, check[0], check[1], render[0], render[1], files), flush=True)
    for line in report(results, sizes, baseline):
        print(line)


if __name__ == "__main__":
    main()
