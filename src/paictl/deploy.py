"""paictl deploy: site.yml on an inventory, through ansible-runner."""

from __future__ import annotations

import json
import shlex

from paictl import inventory, runner, vault
from paictl.errors import PaictlError


def run(args, out):
    inv = inventory.load(args)
    found = inventory.problems(inv)
    if found:
        if args.json:
            out.write(json.dumps({"status": "invalid", "hosts": {}, "problems": found}, indent=2) + "\n")
            return 2
        raise PaictlError("%s: %d problem(s); nothing was deployed and no host was contacted"
                          % (args.inventory, len(found)), found)

    status, rc, progress = runner.run_playbook(
        "site.yml", args.inventory, None if args.json else out,
        limit=args.limit, tags=args.tags, check=args.check, vault_files=vault.password_files(args),
        secrets=inventory_secrets(inv))
    hosts = {h: dict(c) for h, c in sorted(progress.stats.items())}
    failed_hosts = sorted(h for h, c in hosts.items() if c["failed"] or c["unreachable"])
    ok = status == "successful" and rc == 0 and not failed_hosts

    if args.json:
        out.write(json.dumps(json_result(status, ok, hosts, failed_hosts, progress), indent=2, sort_keys=True) + "\n")
        return 0 if ok else (rc or 1)

    out.write("\nSUMMARY%s\n" % (" (check mode: nothing was changed)" if args.check else ""))
    for line in runner.summary_lines(hosts):
        out.write("  " + line + "\n")
    if ok:
        out.write("deploy %s: %d host(s) ok\n" % ("checked" if args.check else "succeeded", len(hosts)))
        return 0
    out.write("deploy failed (%s)\n" % status)
    if failed_hosts:
        out.write("retry only the failed hosts with:\n  %s\n" % retry_command(args, failed_hosts))
    return rc or 1


def inventory_secrets(inv):
    """The secret values of the inventory (SSH/become passwords, vault values of
    secret-named variables), masked in every message deploy shows or prints."""
    return runner.secret_values([inv.all_vars()] + [inv.raw_vars(h) for h in inv.hosts])


def json_result(status, ok, hosts, failed_hosts, progress):
    """deploy --json: the run's status, each host's counters and, per failed or
    unreachable host, the tasks that failed with their (masked) messages."""
    result = {"status": status if ok or status != "successful" else "failed", "hosts": hosts,
              "failures": progress.failures_by_host(set(failed_hosts))}
    if not ok and not result["failures"] and progress.error:
        result["error"] = progress.error   # ansible-playbook stopped before any play
    return result


def retry_command(args, failed_hosts):
    words = ["paictl", "deploy", "-i", args.inventory, "--limit", ",".join(failed_hosts)]
    if args.tags:
        words += ["--tags", args.tags]
    if args.check:
        words.append("--check")
    for path in args.vault_password_file or ():
        words += ["--vault-password-file", path]
    if args.ask_vault_pass:
        words.append("--ask-vault-pass")
    return " ".join(shlex.quote(w) for w in words)
