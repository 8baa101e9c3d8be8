"""paictl: the command line. It parses arguments, drives ansible-runner and reads
events; deployment logic lives in the collection's roles."""

from __future__ import annotations

import argparse
import os
import sys

from paictl import __version__, services, vault
from paictl.errors import PaictlError

TAGS = ("preflight", "hosts", "kubernetes", "hadoop", "services", "verify")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("paictl: error: %s\n" % message)
        sys.exit(2)


def _tags(value):
    tags = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in tags if t not in TAGS]
    if not tags or unknown:
        raise argparse.ArgumentTypeError("unknown tag(s) %s; choose from %s"
                                         % (", ".join(unknown) or "(none)", ", ".join(TAGS)))
    return ",".join(tags)


def _limit(value):
    if not value.strip():
        raise argparse.ArgumentTypeError("--limit needs a host or group pattern")
    return value.strip()


def build_parser():
    parser = _Parser(prog="paictl", description="Deploy an OpenPAI-style GPU platform with Ansible.")
    parser.add_argument("--version", action="version", version="paictl " + __version__)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    config = verbs.add_parser("config", help="generate or render configuration")
    config_verbs = config.add_subparsers(dest="config_verb", metavar="ACTION", parser_class=_Parser)
    config_verbs.required = True
    gen = config_verbs.add_parser("generate", help="write an inventory directory from an OpenPAI quick-start.yaml")
    gen.add_argument("-i", "--input", required=True, metavar="QUICK_START", help="OpenPAI v0.14 quick-start.yaml")
    gen.add_argument("-o", "--output", required=True, metavar="DIR", help="inventory directory to write")
    gen.add_argument("--force", action="store_true", help="overwrite DIR if it exists")
    render = config_verbs.add_parser("render", help="write each host's files as the roles would, touching no host")
    render.add_argument("-i", "--inventory", required=True, metavar="INV")
    render.add_argument("-o", "--output", required=True, metavar="DIR")
    vault.add_arguments(render)
    push = config_verbs.add_parser("push", help="store the cluster configuration (ConfigMap + Secret) in the cluster")
    push.add_argument("-i", "--inventory", required=True, metavar="INV")
    push.add_argument("--json", action="store_true", help='print {"changed": bool, "keys": [...]}')
    vault.add_arguments(push)
    pull = config_verbs.add_parser("pull", help="read the cluster configuration back into a YAML file")
    pull.add_argument("-i", "--inventory", required=True, metavar="INV")
    pull.add_argument("-o", "--output", required=True, metavar="FILE")
    vault.add_arguments(pull)

    check = verbs.add_parser("check", help="validate an inventory without contacting any host")
    check.add_argument("-i", "--inventory", required=True, metavar="INV")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    vault.add_arguments(check)

    deploy = verbs.add_parser("deploy", help="run site.yml on the inventory")
    deploy.add_argument("-i", "--inventory", required=True, metavar="INV")
    deploy.add_argument("--limit", type=_limit, metavar="PATTERN", help="only these hosts or groups")
    deploy.add_argument("--tags", type=_tags, metavar="TAGS", help="comma-separated: " + ",".join(TAGS))
    deploy.add_argument("--check", action="store_true", help="dry run (Ansible check mode)")
    deploy.add_argument("--json", action="store_true", help="print one JSON object instead of the display")
    vault.add_arguments(deploy)

    services.add_service_parser(verbs, _Parser)

    lab = verbs.add_parser("lab", help="the local Docker lab (dress rehearsal)")
    lab_verbs = lab.add_subparsers(dest="lab_verb", metavar="ACTION", parser_class=_Parser)
    lab_verbs.required = True
    up = lab_verbs.add_parser("up", help="one node container per host of INV; writes LAB_INV")
    up.add_argument("-i", "--inventory", required=True, metavar="INV")
    up.add_argument("-o", "--output", required=True, metavar="LAB_INV")
    up.add_argument("--name", help="lab name (label io.openpai.lab); default: LAB_INV's directory name")
    vault.add_arguments(up)
    info = lab_verbs.add_parser("info", help="where the lab's platform is (pylon URL) and how to log in")
    info.add_argument("-i", "--inventory", required=True, metavar="LAB_INV")
    vault.add_arguments(info)
    down = lab_verbs.add_parser("down", help="remove the lab's node containers and network")
    down.add_argument("-i", "--inventory", required=True, metavar="LAB_INV")
    vault.add_arguments(down)
    return parser


def dispatch(args, out):
    if args.verb == "check":
        from paictl import check
        return check.run(args, out)
    if args.verb == "config" and args.config_verb == "generate":
        from paictl import generate
        return generate.run(args, out)
    if args.verb == "config" and args.config_verb == "render":
        from paictl import render
        return render.run(args, out)
    if args.verb == "config" and args.config_verb == "push":
        return services.push(args, out)
    if args.verb == "config" and args.config_verb == "pull":
        return services.pull(args, out)
    if args.verb == "service":
        return services.service(args, out)
    if args.verb == "deploy":
        from paictl import deploy
        return deploy.run(args, out)
    if args.verb == "lab":
        from paictl import lab
        return lab.run(args, out)
    raise PaictlError("unknown command")  # pragma: no cover - argparse rejects it first


def main(argv=None):
    args = build_parser().parse_args(argv)
    out = sys.stdout
    try:
        return dispatch(args, out)
    except PaictlError as exc:
        sys.stderr.write("paictl: error: %s\n" % exc)
        for problem in exc.problems:
            sys.stderr.write("  - %s\n" % problem)
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("paictl: interrupted\n")
        return 130
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("PAICTL_DEBUG"):
            raise
        sys.stderr.write("paictl: internal error: %s: %s (set PAICTL_DEBUG=1 for details)\n"
                         % (exc.__class__.__name__, exc))
        return 1
    finally:
        vault.cleanup()


if __name__ == "__main__":
    sys.exit(main())
