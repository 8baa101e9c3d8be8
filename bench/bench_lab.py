"""Benchmark: the full site on the 3-node Docker lab (inventories/docker-lab).

Prints the cold deploy time (a fresh lab, every layer from the cached bundles), the
no-op re-run time (the same deploy again: it must change nothing), the tasks each
host ran (ok + skipped; the goal is <= 120), the floor (a generated playbook of as
many trivial `stat` tasks as the busiest host ran, on the same nodes, with the same
Ansible configuration) and the ratio no-op / floor (the goal is <= 1.1).

    make bench-lab    (or: .venv/bin/python bench/bench_lab.py [--lab .lab/bench-lab] [--keep] [--reuse])

--reuse measures an already deployed lab (no cold deploy); --keep leaves the lab up.
Needs Docker and the offline bundles (make bundles); takes about 20 minutes cold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAICTL = [sys.executable, "-m", "paictl.cli"]


def run(argv, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.monotonic() - start, done


def deploy(lab: Path) -> tuple[float, dict]:
    """One `paictl deploy --json` of the lab: (seconds, its JSON document)."""
    seconds, done = run(PAICTL + ["deploy", "-i", str(lab), "--json"])
    try:
        doc = json.loads(done.stdout)
    except ValueError:
        sys.exit("paictl deploy printed no JSON (rc %d): %s" % (done.returncode, done.stderr[-2000:]))
    if done.returncode != 0 or doc.get("status") != "successful":
        sys.exit("deploy failed (rc %d): %s" % (done.returncode, json.dumps(doc.get("failures"), indent=1)[:4000]))
    return seconds, doc


def tasks_per_host(doc: dict) -> dict[str, int]:
    """ok + skipped (+ changed) of each node: what Ansible ran there (localhost is the validation)."""
    return {h: c["ok"] + c["skipped"] + c["changed"] for h, c in doc["hosts"].items() if h != "localhost"}


def floor_playbook(count: int) -> list:
    """A play of ``count`` trivial stat tasks on every node, facts off, like the site's plays."""
    return [{"name": "Floor: %d stat tasks" % count, "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "stat %d" % i, "ansible.builtin.stat": {"path": "/", "get_checksum": False}}
                       for i in range(count)]}]


def floor(lab: Path, count: int) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "floor.yml"
        book.write_text(yaml.safe_dump(floor_playbook(count), sort_keys=False))
        ansible = str(Path(sys.executable).with_name("ansible-playbook"))
        seconds, done = run([ansible, "-i", str(lab), str(book)], env=env)
    if done.returncode != 0:
        sys.exit("the floor playbook failed: %s" % done.stdout[-2000:])
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default=".lab/bench-lab", help="the lab inventory directory (LAB_INV)")
    parser.add_argument("--inventory", default="inventories/docker-lab", help="the inventory brought up as the lab")
    parser.add_argument("--reuse", action="store_true", help="measure an already deployed LAB_INV (no cold deploy)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = parser.parse_args(argv)
    lab = (ROOT / args.lab).resolve()
    cold = None
    if not args.reuse:
        if (lab / "hosts.yml").is_file():
            run(PAICTL + ["lab", "down", "-i", str(lab)])
        _, done = run(PAICTL + ["lab", "up", "-i", args.inventory, "-o", str(lab)])
        if done.returncode != 0:
            sys.exit("lab up failed: %s" % (done.stdout + done.stderr)[-2000:])
        cold, _ = deploy(lab)
    try:
        noop, doc = deploy(lab)
        changed = {h: c["changed"] for h, c in doc["hosts"].items() if c["changed"]}
        counts = tasks_per_host(doc)
        busiest = max(counts.values())
        base = floor(lab, busiest)
    finally:
        if not args.keep and not args.reuse:
            run(PAICTL + ["lab", "down", "-i", str(lab)])
    print("3-node lab (%s)" % args.inventory)
    if cold is not None:
        print("  cold deploy (cached bundles): %7.1f s   (goal <= 600 s)" % cold)
    print("  no-op re-run:                 %7.1f s   changed: %s" % (noop, changed or 0))
    print("  tasks per host (ok+skipped):  %s   (goal <= 120)" % ", ".join("%s %d" % i for i in sorted(counts.items())))
    print("  floor (%d stat tasks):        %7.1f s" % (busiest, base))
    print("  ratio no-op / floor:          %7.2f     (goal <= 1.1)" % (noop / base))
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
