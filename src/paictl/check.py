"""paictl check: fact-free validation of an inventory."""

from __future__ import annotations

import json

from paictl import inventory


def run(args, out):
    inv = inventory.load(args)
    found = inventory.problems(inv)
    notes = inventory.warnings(inv)
    summary = _summary(inv) if not found else None
    if args.json:
        out.write(json.dumps({"valid": not found, "problems": found, "warnings": notes, "hosts": len(inv.hosts),
                              "summary": summary}, indent=2, sort_keys=True) + "\n")
    elif found:
        out.write("%s: %d problem(s); fix them before deploying (no host was contacted):\n"
                  % (args.inventory, len(found)))
        for problem in found:
            out.write("  - %s\n" % problem)
    else:
        out.write("%s: valid (%d hosts, %d master, %d worker)\n" % (
            args.inventory, len(inv.hosts), len(inv.groups.get("pai_master", [])),
            len(inv.groups.get("pai_worker", []))))
        for host, res in sorted(summary["nodemanagers"].items()):
            out.write("  %-30s YARN memory-mb %6d  vcores %3d  gpus %d\n"
                      % (host, res["memory_mb"], res["vcores"], res["gpus"]))
    if not args.json:
        for note in notes:
            out.write("note: %s\n" % note)
    return 2 if found else 0


def _summary(inv):
    return inventory.model().cluster_summary(inv.check_vars(), inv.groups, inv.cluster_vars())
