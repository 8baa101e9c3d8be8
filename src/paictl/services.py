"""paictl config push|pull and paictl service start|stop|delete|status: the collection's
services playbook (playbooks/services.yml) run with ``services_action`` set. Every
Kubernetes call happens in the role (kubernetes.core); this module only passes the
action on and prints what the playbook recorded (set_stats)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paictl import inventory, runner, vault
from paictl.deploy import inventory_secrets
from paictl.errors import PaictlError

PLAYBOOK = "playbooks/services.yml"
ACTIONS = ("start", "stop", "delete", "status")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def service_name(value: str) -> str:
    """argparse type of -n: a service name (a DNS label)."""
    import argparse

    if not _NAME.match(value or ""):
        raise argparse.ArgumentTypeError("%r is not a service name (lowercase letters, digits and '-')" % value)
    return value


def _checked_inventory(args):
    """The inventory, refused with one line per problem before any host is contacted."""
    inv = inventory.load(args)
    found = inventory.problems(inv)
    if found:
        raise PaictlError("%s: %d problem(s); nothing was changed and no host was contacted"
                          % (args.inventory, len(found)), found)
    return inv


def _run(args, inv, action, out, extravars=None):
    """Run the services playbook for ``action``; ``(ok, progress)``. The live display
    goes to ``out`` (None: silent)."""
    variables = {"services_action": action}
    variables.update(extravars or {})
    status, rc, progress = runner.run_playbook(
        PLAYBOOK, args.inventory, out, extravars=variables, vault_files=vault.password_files(args),
        secrets=inventory_secrets(inv))
    failed = [h for h, c in progress.stats.items() if c["failed"] or c["unreachable"]]
    return status == "successful" and rc == 0 and not failed, progress


def _failure_lines(progress) -> list[str]:
    """One line per failed task: host, task and its (masked) message."""
    lines = []
    for host, items in progress.failures_by_host().items():
        for item in items:
            message = " ".join(item["message"].split())
            lines.append("%s: %s: %s" % (host, item["task"], message))
    if not lines and progress.error:
        lines.append(progress.error)
    return lines


def _fail(progress, what, as_json, out, exit_code=1):
    """Report a failed run: JSON with the failures, or a PaictlError listing them."""
    lines = _failure_lines(progress)
    if as_json:
        out.write(json.dumps({"status": "failed", "failures": lines}, indent=2) + "\n")
        return exit_code
    raise PaictlError("%s failed" % what, lines, exit_code=exit_code)


def push(args, out):
    """paictl config push: prints the keys that changed; --json {"changed", "keys"}."""
    inv = _checked_inventory(args)
    ok, progress = _run(args, inv, "push", None if args.json else out)
    if not ok:
        return _fail(progress, "config push", args.json, out)
    result = progress.artifact_data.get("services_push") or {}
    summary = {"changed": bool(result.get("changed")), "keys": list(result.get("keys") or [])}
    if args.json:
        out.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    elif summary["changed"]:
        out.write("config push: %d key(s) changed: %s\n" % (len(summary["keys"]), ", ".join(summary["keys"])))
    else:
        out.write("config push: nothing changed\n")
    return 0


def pull(args, out):
    """paictl config pull: the pushed configuration (ConfigMap) written to FILE as YAML."""
    dest = Path(args.output).expanduser().resolve()
    if dest.is_dir():
        raise PaictlError("-o %s is a directory; give the file to write" % args.output)
    if not dest.parent.is_dir():
        raise PaictlError("-o %s: directory %s does not exist" % (args.output, dest.parent))
    inv = _checked_inventory(args)
    ok, progress = _run(args, inv, "pull", None, {"services_pull_file": str(dest)})
    if not ok:
        return _fail(progress, "config pull", False, out)
    out.write("configuration written to %s\n" % dest)
    return 0


def status_document(status: dict) -> dict:
    """The --json shape: {"services": {name: {"ready", "node", "image"}}}."""
    return {"services": {name: {"ready": bool(item.get("ready")), "node": item.get("node"),
                                "image": item.get("image") or ""}
                         for name, item in status.items()}}


def status_text(status: dict) -> list[str]:
    """One line per service (the collection's own formatting, as the playbook shows it)."""
    from paictl import project

    project.init_ansible()
    from ansible_collections.openpai.cluster.plugins.module_utils import services_deploy

    return services_deploy.status_lines(status) if status else []


def service(args, out):
    """paictl service start|stop|delete|status [-n NAME ...]; exit 0 when every
    service shown is ready (status), or when the action succeeded (start, stop, delete)."""
    inv = _checked_inventory(args)
    selection = list(dict.fromkeys(args.name or []))
    quiet = args.json or args.service_verb == "status"
    ok, progress = _run(args, inv, args.service_verb, None if quiet else out, {"services_selection": selection})
    status = progress.artifact_data.get("services_status")
    if not ok and status is None:
        return _fail(progress, "service %s" % args.service_verb, args.json, out)
    status = status or {}
    if args.json:
        doc = status_document(status)
        if not ok:
            doc["failures"] = _failure_lines(progress)
        out.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        if not quiet:
            out.write("\n")
        for line in status_text(status):
            out.write(line + "\n")
        if not ok:
            raise PaictlError("service %s failed" % args.service_verb, _failure_lines(progress), exit_code=1)
    if not ok:
        return 1
    if args.service_verb == "status":
        return 0 if status and all(item.get("ready") for item in status.values()) else 1
    return 0


def add_service_parser(verbs, parser_class):
    """The `service` verb and its actions."""
    svc = verbs.add_parser("service", help="start, stop, delete or show the platform services")
    svc_verbs = svc.add_subparsers(dest="service_verb", metavar="ACTION", parser_class=parser_class)
    svc_verbs.required = True
    helps = {"start": "start the services (with -n: those and what they need), each waited for until ready",
             "stop": "stop the services (their data is kept)",
             "delete": "delete the services' Kubernetes objects (their data on disk is kept)",
             "status": "one line per service (ready, node, image); exit 0 when all are ready"}
    for action in ACTIONS:
        sub = svc_verbs.add_parser(action, help=helps[action])
        sub.add_argument("-i", "--inventory", required=True, metavar="INV")
        sub.add_argument("-n", "--name", action="append", type=service_name, metavar="NAME",
                         help="a service (repeatable); default: every service")
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        vault.add_arguments(sub)
    return svc
