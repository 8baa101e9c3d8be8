"""Generated inputs, tried as a new user would: hundreds of bad ones, one defect each, and valid variants.

Every input is built from one of four valid bases (a YAML inventory directory, an OpenPAI v0.14
layout.yaml, a v1.x layout.yaml, a quick-start.yaml for ``paictl config generate``) with exactly one
defect. Each bad one must exit 2, name the field, host or SKU, print one line per problem and never a
traceback; each valid variant must exit 0. paictl runs in-process (``cli.main``), so the few hundred
cases take seconds, not minutes.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import pytest
import yaml

from conftest import FIXTURES, base_inventory

INF, NAN = math.inf, math.nan
LAYOUT_V014 = yaml.safe_load((FIXTURES / "layout-v0.14.yaml").read_text())
LAYOUT_V1 = yaml.safe_load((FIXTURES / "layout-v1.yaml").read_text())
QUICK_START = yaml.safe_load((FIXTURES / "quick-start.yaml").read_text())


@dataclass
class Case:
    """One input: the files to write, the paictl command, what the output must say."""
    id: str
    files: Callable[[], Dict[str, str]]
    argv: List[str]
    expect: List[str] = field(default_factory=list)
    lines: Optional[int] = 1      # problem lines expected for a bad input (None: not counted)
    valid: bool = False


BAD: List[Case] = []
GOOD: List[Case] = []
CHECK_DIR = ["check", "-i", "{dir}"]


def dump(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


# --------------------------------------------------------------------------- the four bases

def inventory_case(name, mutate, *expect, lines=1, extra=None, valid=False):
    """A YAML inventory directory: base_inventory() changed by ``mutate(doc)``, plus ``extra`` files."""
    def files():
        doc = base_inventory()
        mutate(doc)
        out = {"hosts.yml": dump(doc)}
        out.update(extra or {})
        return out
    (GOOD if valid else BAD).append(Case("inv-" + name, files, CHECK_DIR, list(expect), lines, valid))


def layout_case(version, name, mutate, *expect, lines=1, filename="layout.yaml", as_json=False, valid=False):
    """An OpenPAI layout (v0.14 or v1) changed by ``mutate(doc)``, checked with ``-i`` the file."""
    base = LAYOUT_V014 if version == "v0.14" else LAYOUT_V1

    def files():
        doc = copy.deepcopy(base)
        mutate(doc)
        return {filename: json.dumps(doc) if as_json else dump(doc)}
    (GOOD if valid else BAD).append(Case("%s-%s" % (version, name), files, ["check", "-i", "{dir}/" + filename],
                                         list(expect), lines, valid))


def quick_start_case(name, mutate, *expect, lines=1, valid=False, text=None):
    def files():
        if text is not None:
            return {"quick-start.yaml": text}
        doc = copy.deepcopy(QUICK_START)
        mutate(doc)
        return {"quick-start.yaml": dump(doc)}
    argv = ["config", "generate", "-i", "{dir}/quick-start.yaml", "-o", "{dir}/out"]
    (GOOD if valid else BAD).append(Case("qs-" + name, files, argv, list(expect), lines, valid))


def raw_case(name, files, argv, *expect, lines=1):
    BAD.append(Case(name, lambda: dict(files), argv, list(expect), lines))


def skus(doc):
    return doc["all"]["vars"]["openpai_machine_skus"]


def hosts(doc):
    return doc["all"]["hosts"]


def vcs(doc):
    return doc["all"]["vars"]["openpai_virtual_clusters"]


def machines(doc):
    return doc["machine-list"]


# The SKUs each base's defects go to: (base, SKU, GPU spelling or None).
SKU_TARGETS = [
    ("inv", "cpu-node", None), ("inv", "k80-node", "gpu"),
    ("v0.14", "GPU", "gpu"), ("v1", "gpu-machine", "computing-device"),
]


def sku_case(target, tag, change, *expect, lines=1):
    """A defect in SKU ``target`` = (base, SKU name); ``change(sku_dict)`` applies it."""
    base, target = target
    if base == "inv":
        inventory_case(tag, lambda d: change(skus(d)[target]), *expect, lines=lines)
    else:
        layout_case(base, tag, lambda d: change(d["machine-sku"][target]), *expect, lines=lines)


def _set(key, value):
    def change(mapping):
        mapping[key] = value
    return change


def _drop(key):
    def change(mapping):
        mapping.pop(key, None)
    return change


# --------------------------------------------------------------------------- SKUs (resolve_sku, parse_quantity)

BAD_QUANTITIES = [
    ("word", "lots", "is not a quantity"), ("unit", "16Q", "unknown unit 'Q'"), ("lower-gi", "4gi", "unknown unit"),
    ("byte", "4B", "unknown unit 'B'"), ("zettabyte", "1ZB", "unknown unit"), ("zero", "0Gi", "greater than zero"),
    ("zero-number", 0, "greater than zero"), ("negative", "-4G", "is not a quantity"),
    ("negative-number", -4, "greater than zero"), ("empty", "", "is not a quantity"),
    ("null", None, "expected a quantity"), ("bool", True, "expected a quantity"), ("list", [16], "expected a quantity"),
    ("mapping", {"size": 16}, "expected a quantity"), ("inf", INF, "finite"), ("minus-inf", -INF, "finite"),
    ("nan", NAN, "finite"), ("inf-word", "inf", "is not a quantity"), ("nan-word", "nan", "is not a quantity"),
    ("infinity-word", "Infinity", "is not a quantity"), ("dot-inf-word", ".inf", "is not a quantity"),
    ("two-numbers", "4 4G", "is not a quantity"), ("comma", "4,5G", "is not a quantity"),
    ("exponent", "1e3G", "is not a quantity"),
]
BAD_WHOLE = [
    ("word", "many"), ("zero", 0), ("negative", -2), ("fraction", 2.5), ("bool", True), ("inf", INF),
    ("minus-inf", -INF), ("nan", NAN), ("inf-word", "inf"), ("nan-word", "nan"), ("infinity-word", "Infinity"),
    ("list", [4]), ("null", None), ("empty", ""),
]
BAD_COUNTS = [
    ("word", "four"), ("negative", -1), ("fraction", 2.5), ("bool", True), ("inf", INF), ("nan", NAN),
    ("inf-word", "inf"), ("list", [4]),
]

for base, sku, gpu in SKU_TARGETS:
    where = "SKU %r" % sku
    b = (base, sku)
    for tag, value, words in BAD_QUANTITIES:
        sku_case(b, "%s-mem-%s" % (sku, tag), _set("mem", value), where + ": field 'mem'", words)
    for tag, value in BAD_WHOLE:
        sku_case(b, "%s-vcore-%s" % (sku, tag), lambda s, v=value: s["cpu"].update(vcore=v),
                 where + ": field 'cpu.vcore'")
    sku_case(b, sku + "-mem-missing", _drop("mem"), where + ": field 'mem' is missing")
    sku_case(b, sku + "-cpu-missing", _drop("cpu"), where + ": field 'cpu.vcore' is missing")
    sku_case(b, sku + "-vcore-missing", _set("cpu", {}), where + ": field 'cpu.vcore' is missing")
    sku_case(b, sku + "-cpu-number", _set("cpu", 8), where + ": field 'cpu' must be a mapping")
    sku_case(b, sku + "-cpu-list", _set("cpu", [8]), where + ": field 'cpu' must be a mapping")
    sku_case(b, sku + "-cpu-unknown", lambda s: s["cpu"].update(cores=8), where + ": unknown field 'cpu.cores'")
    sku_case(b, sku + "-unknown-field", _set("memory", "16Gi"), where + ": unknown field 'memory'")
    if gpu:
        other = "computing-device" if gpu == "gpu" else "gpu"
        for tag, value in BAD_COUNTS:
            sku_case(b, "%s-%s-count-%s" % (sku, gpu, tag), lambda s, v=value, g=gpu: s[g].update(count=v),
                     "%s: field '%s.count'" % (where, gpu))
        sku_case(b, "%s-%s-string" % (sku, gpu), _set(gpu, "Tesla K80"),
                 "%s: field %r must be a mapping" % (where, gpu))
        sku_case(b, "%s-%s-list" % (sku, gpu), _set(gpu, [4]), "%s: field %r must be a mapping" % (where, gpu))
        sku_case(b, "%s-%s-unknown" % (sku, gpu), lambda s, g=gpu: s[g].update(cnt=4),
                 "%s: unknown field '%s.cnt'" % (where, gpu))
        sku_case(b, "%s-both-spellings" % sku, _set(other, {"count": 4}), where + ": give either 'gpu'")


def _replace_sku(value):
    def change(doc):
        skus(doc)["cpu-node"] = value
    return change


for tag, value in (("string", "16Gi"), ("list", ["16Gi", 8]), ("number", 16)):
    inventory_case("sku-" + tag, _replace_sku(value), "SKU 'cpu-node': expected a mapping with mem and cpu.vcore")
    layout_case("v0.14", "sku-" + tag, lambda d, v=value: d["machine-sku"].update(CPU=v),
                "SKU 'CPU': expected a mapping with mem and cpu.vcore")

inventory_case("skus-missing", lambda d: d["all"]["vars"].pop("openpai_machine_skus"),
               "openpai_machine_skus: not defined")
inventory_case("skus-list", lambda d: d["all"]["vars"].update(openpai_machine_skus=["a"]),
               "openpai_machine_skus: expected a mapping")
inventory_case("skus-string", lambda d: d["all"]["vars"].update(openpai_machine_skus="k80-node"),
               "openpai_machine_skus: expected a mapping")
inventory_case("skus-empty", lambda d: d["all"]["vars"].update(openpai_machine_skus={}), "openpai_machine_skus: empty")
for version in ("v0.14", "v1"):
    layout_case(version, "machine-sku-missing", lambda d: d.pop("machine-sku"), "field 'machine-sku' is missing")
    layout_case(version, "machine-sku-list", lambda d: d.update({"machine-sku": ["GPU"]}),
                "field 'machine-sku' must be a mapping")
    layout_case(version, "machine-sku-empty", lambda d: d.update({"machine-sku": {}}), "field 'machine-sku' is empty")


# --------------------------------------------------------------------------- virtual clusters

BAD_PERCENTAGES = [
    ("word", "half"), ("bool", True), ("inf", INF), ("minus-inf", -INF), ("nan", NAN), ("inf-word", "inf"),
    ("nan-word", "nan"), ("infinity-word", "Infinity"), ("list", [40]), ("null", None), ("mapping", {"v": 40}),
]
for tag, value in BAD_PERCENTAGES:
    inventory_case("capacity-" + tag, lambda d, v=value: vcs(d)["research"].update(capacity=v),
                   "openpai_virtual_clusters.research: field 'capacity' must be a number")
    inventory_case("max-capacity-" + tag, lambda d, v=value: vcs(d)["research"].update({"max-capacity": v}),
                   "openpai_virtual_clusters.research: field 'max-capacity' must be a number")
inventory_case("capacity-above-100", lambda d: vcs(d).update(default={"capacity": 110}, research={"capacity": -10}),
               "openpai_virtual_clusters.default: field 'capacity' must be between 0 and 100",
               "openpai_virtual_clusters.research: field 'capacity' must be between 0 and 100", lines=2)
inventory_case("capacity-sum-low", lambda d: vcs(d)["research"].update(capacity=30), "capacities sum to 90")
inventory_case("capacity-sum-high", lambda d: vcs(d)["research"].update(capacity=50), "capacities sum to 110")
inventory_case("capacity-sum-fraction", lambda d: vcs(d)["research"].update(capacity=39.9), "capacities sum to 99.9")
inventory_case("capacity-missing", lambda d: vcs(d).update(research={"weight": 40}),
               "openpai_virtual_clusters.research: field 'capacity' is missing")
inventory_case("max-capacity-below", lambda d: vcs(d)["research"].update({"max-capacity": 30}),
               "openpai_virtual_clusters.research: field 'max-capacity' must be between capacity (40) and 100")
inventory_case("max-capacity-above", lambda d: vcs(d)["research"].update({"max-capacity": 120}),
               "openpai_virtual_clusters.research: field 'max-capacity' must be between capacity (40) and 100")
for tag, name in (("dot", "a.b"), ("space", "a b"), ("colon", "a:b"), ("umlaut", "m\u00fcller")):
    inventory_case("queue-name-" + tag, lambda d, n=name: vcs(d).update({n: vcs(d).pop("research")}),
                   "openpai_virtual_clusters.%s: queue name must use letters" % name)
for tag, value in (("number", 40), ("string", "40"), ("list", [40])):
    inventory_case("vc-spec-" + tag, lambda d, v=value: vcs(d).update(research=v),
                   "openpai_virtual_clusters.research: expected a mapping")
for tag, value in (("list", ["default"]), ("empty", {}), ("string", "default")):
    inventory_case("vcs-" + tag, lambda d, v=value: d["all"]["vars"].update(openpai_virtual_clusters=v),
                   "openpai_virtual_clusters: expected a mapping")


# --------------------------------------------------------------------------- the YARN policy

POLICY = ("reserve_min_mb", "reserve_ratio", "master_reserve_mb", "reserve_vcores", "master_reserve_vcores",
          "min_allocation_mb", "min_allocation_vcores")
for key in POLICY:
    for tag, value in (("word", "ten"), ("inf", INF), ("nan", NAN), ("inf-word", "inf"), ("bool", True)):
        inventory_case("yarn-%s-%s" % (key, tag), lambda d, k=key, v=value: d["all"]["vars"].update({
            "openpai_yarn_" + k: v}), "openpai_yarn_" + key)
    if key != "reserve_ratio":
        inventory_case("yarn-%s-fraction" % key, lambda d, k=key: d["all"]["vars"].update({"openpai_yarn_" + k: 2.5}),
                       "openpai_yarn_" + key)


# --------------------------------------------------------------------------- hosts and groups

def rename(old, new):
    def mutate(doc):
        hosts(doc)[new] = hosts(doc).pop(old)
        for group in doc["all"]["children"].values():
            if old in group["hosts"]:
                group["hosts"][new] = group["hosts"].pop(old)
    return mutate


for tag, name in (("upper", "Pai-Worker2"), ("underscore", "pai_worker2"), ("leading-hyphen", "-pai-worker2"),
                  ("trailing-hyphen", "pai-worker2-"), ("long-label", "w" * 64), ("empty-label", "pai..worker2"),
                  ("space", "pai worker2")):
    inventory_case("hostname-" + tag, rename("pai-worker2", name),
                   "host %r: hostname must be a lowercase RFC 1123" % name)
for tag, value in (("octet", "10.10.0.300"), ("short", "10.10.0"), ("word", "worker"), ("empty", ""),
                   ("ipv6", "::1"), ("cidr", "10.10.0.3/24"), ("number", 10), ("list", ["10.10.0.3"])):
    inventory_case("ansible-host-" + tag, lambda d, v=value: hosts(d)["pai-worker2"].update(ansible_host=v),
                   "host 'pai-worker2': field 'ansible_host'", "is not a valid IPv4 address")
inventory_case("ansible-host-twice", lambda d: hosts(d)["pai-worker2"].update(ansible_host="10.10.0.2"),
               "host 'pai-worker2': field 'ansible_host': address 10.10.0.2 is also used by host 'pai-worker1'")
inventory_case("hostname-ip-twice", lambda d: (rename("pai-worker2", "10.10.0.2")(d),
                                              hosts(d)["10.10.0.2"].pop("ansible_host")) and None,
               "host '10.10.0.2': address 10.10.0.2 is also used by host 'pai-worker1'")
for host in ("pai-master", "pai-worker1", "pai-worker2"):
    inventory_case("ansible-host-missing-" + host, lambda d, h=host: hosts(d)[h].pop("ansible_host"),
                   "host %r: field 'ansible_host' is missing" % host)
    inventory_case("machine-type-missing-" + host, lambda d, h=host: hosts(d)[h].pop("openpai_machine_type"),
                   "host %r: field 'openpai_machine_type' is missing" % host)
for connection in ("ssh", "paramiko", "smart", "ansible.builtin.ssh"):
    inventory_case("ansible-host-missing-" + connection, lambda d, c=connection: (
        hosts(d)["pai-worker1"].pop("ansible_host"), hosts(d)["pai-worker1"].update(ansible_connection=c)) and None,
        "host 'pai-worker1': field 'ansible_host' is missing")
inventory_case("ansible-host-missing-two", lambda d: (hosts(d)["pai-worker1"].pop("ansible_host"),
                                                     hosts(d)["pai-worker2"].pop("ansible_host")) and None,
               "host 'pai-worker1': field 'ansible_host' is missing",
               "host 'pai-worker2': field 'ansible_host' is missing", lines=2)
for tag, value in (("word", "node"), ("octet", "10.0.0.256")):
    inventory_case("openpai-address-" + tag, lambda d, v=value: hosts(d)["pai-worker2"].update(openpai_address=v),
                   "host 'pai-worker2': field 'openpai_address'", "is not a valid IPv4 address")
for tag, value in (("undefined", "nope"), ("case", "CPU-NODE"), ("list", ["cpu-node"])):
    inventory_case("machine-type-" + tag, lambda d, v=value: hosts(d)["pai-worker2"].update(openpai_machine_type=v),
                   "host 'pai-worker2': field 'openpai_machine_type': SKU")
for mem in ("2Gi", "2900Mi", "3000M"):
    inventory_case("worker-memory-" + mem, lambda d, m=mem: skus(d)["cpu-node"].update(mem=m),
                   "host 'pai-worker2': SKU 'cpu-node' leaves", "below the scheduler minimum of 1024 MB")
inventory_case("worker-vcores-1", lambda d: skus(d)["cpu-node"]["cpu"].update(vcore=1),
               "host 'pai-worker2': SKU 'cpu-node' leaves 0 vcores")
inventory_case("worker-reserve-vcores", lambda d: d["all"]["vars"].update(openpai_yarn_reserve_vcores=8),
               "host 'pai-worker2': SKU 'cpu-node' leaves 0 vcores")


def _all_in_one_small(doc):
    doc["all"]["children"]["pai_worker"]["hosts"]["pai-master"] = None
    skus(doc)["master-node"].update(mem="10Gi")


inventory_case("all-in-one-reserve", _all_in_one_small, "host 'pai-master': SKU 'master-node' leaves 0 MB for YARN")
for group, words in (("pai_master", "group 'pai_master': empty"), ("pai_worker", "group 'pai_worker': empty"),
                     ("kube_control_plane", "group 'kube_control_plane': empty while 'kube_node' has hosts")):
    inventory_case("group-empty-" + group, lambda d, g=group: d["all"]["children"].update({g: {"hosts": {}}}), words)
    inventory_case("group-missing-" + group, lambda d, g=group: d["all"]["children"].pop(g), words)


# --------------------------------------------------------------------------- layout readers

for version in ("v0.14", "v1"):
    layout_case(version, "flag-yes", lambda d: machines(d)[0].update({"pai-master": "yes"}),
                "machine-list[0] (pai-master): field 'pai-master': must be \"true\" or \"false\", got 'yes'")
    layout_case(version, "flag-number", lambda d: machines(d)[1].update({"pai-worker": 1}),
                "machine-list[1] (pai-worker1): field 'pai-worker': must be \"true\" or \"false\", got 1")
    layout_case(version, "flag-list", lambda d: machines(d)[1].update({"pai-worker": ["true"]}),
                "machine-list[1] (pai-worker1): field 'pai-worker'")
    layout_case(version, "k8s-role-bad", lambda d: machines(d)[1].update({"k8s-role": "boss"}),
                "machine-list[1] (pai-worker1): field 'k8s-role': must be \"master\" or \"worker\", got 'boss'")
    layout_case(version, "k8s-role-upper", lambda d: machines(d)[1].update({"k8s-role": "Master"}),
                "machine-list[1] (pai-worker1): field 'k8s-role'")
    layout_case(version, "hostname-missing", lambda d: machines(d)[2].pop("hostname"),
                "machine-list[2]: field 'hostname' is missing")
    layout_case(version, "hostname-number", lambda d: machines(d)[2].update(hostname=12),
                "machine-list[2]: field 'hostname' is missing")
    layout_case(version, "hostname-twice", lambda d: machines(d)[2].update(hostname="pai-worker1"),
                "machine-list[2] (pai-worker1): field 'hostname': 'pai-worker1' is listed twice")
    layout_case(version, "hostname-upper", lambda d: machines(d)[2].update(hostname="Pai-Worker2"),
                "host 'Pai-Worker2': hostname must be a lowercase RFC 1123")
    layout_case(version, "hostip-missing", lambda d: machines(d)[1].pop("hostip"),
                "machine-list[1] (pai-worker1): field 'hostip' is missing")
    for tag, value in (("short", "192.168.1"), ("word", "master"), ("octet", "10.0.0.300"), ("empty", "")):
        layout_case(version, "hostip-" + tag, lambda d, v=value: machines(d)[1].update(hostip=v),
                    "machine-list[1] (pai-worker1): field 'hostip'", "is not a valid IPv4 address")
    layout_case(version, "hostip-twice", lambda d: machines(d)[2].update(hostip=machines(d)[1]["hostip"]),
                "machine-list[2] (pai-worker2): field 'hostip'", "is also the address of 'pai-worker1'")
    layout_case(version, "machine-type-missing", lambda d: machines(d)[1].pop("machine-type"),
                "machine-list[1] (pai-worker1): field 'machine-type' is missing")
    layout_case(version, "machine-type-undefined", lambda d: machines(d)[1].update({"machine-type": "TPU"}),
                "host 'pai-worker1': field 'openpai_machine_type': SKU 'TPU' is not defined")
    for tag, value in (("word", "ssh"), ("inf", INF), ("nan", NAN), ("zero", 0), ("too-big", 70000),
                       ("negative", -22), ("fraction", 22.5), ("bool", True)):
        layout_case(version, "sshport-" + tag, lambda d, v=value: machines(d)[1].update(sshport=v),
                    "machine-list[1] (pai-worker1): field 'sshport'", "is not a port number")
    layout_case(version, "ssh-port-word", lambda d: machines(d)[2].update({"ssh-port": "twenty"}),
                "machine-list[2] (pai-worker2): field 'ssh-port'", "is not a port number")
    layout_case(version, "no-role", lambda d: machines(d)[2].pop("pai-worker"),
                "machine-list[2] (pai-worker2): neither pai-master nor pai-worker is \"true\"")
    layout_case(version, "no-role-false", lambda d: machines(d)[2].update({"pai-worker": "false"}),
                "machine-list[2] (pai-worker2): neither pai-master nor pai-worker is \"true\"")
    layout_case(version, "machine-list-missing", lambda d: d.pop("machine-list"),
                "field 'machine-list' must be a non-empty list")
    layout_case(version, "machine-list-empty", lambda d: d.update({"machine-list": []}),
                "field 'machine-list' must be a non-empty list")
    layout_case(version, "machine-list-mapping", lambda d: d.update({"machine-list": {"a": 1}}),
                "field 'machine-list' must be a non-empty list")
    layout_case(version, "machine-not-mapping", lambda d: machines(d).append("pai-worker3"),
                "machine-list[3]: expected a mapping with hostname, hostip and machine-type")
    layout_case(version, "default-properties-list", lambda d: d.update({"default-machine-properties": ["pai"]}),
                "field 'default-machine-properties' must be a mapping")
    layout_case(version, "json-hostip", lambda d: machines(d)[1].update(hostip="1.2.3"),
                "machine-list[1] (pai-worker1): field 'hostip'", filename="cluster.yaml", as_json=True)
    layout_case(version, "json-mem-inf", lambda d: d["machine-sku"][next(iter(d["machine-sku"]))].update(mem=1e400),
                "field 'mem'", "finite", filename="layout.json", as_json=True)
layout_case("v0.14", "master-no-pai-role-worker", lambda d: machines(d).append(
    {"hostname": "node-03", "hostip": "192.168.1.14", "machine-type": "CPU", "k8s-role": "worker"}),
    "machine-list[3] (node-03): neither pai-master nor pai-worker is \"true\"")
layout_case("v1", "all-cp-no-worker", lambda d: [m.update({"pai-worker": "false"}) for m in machines(d)[1:]] and None,
            "machine-list[1] (pai-worker1): neither pai-master nor pai-worker",
            "machine-list[2] (pai-worker2): neither pai-master nor pai-worker", lines=2)
layout_case("v1", "hostip-missing-everywhere", lambda d: [m.pop("hostip") for m in machines(d)] and None,
            "machine-list[0] (pai-master): field 'hostip' is missing", lines=3)

for name, text in (("empty", ""), ("comment", "# an OpenPAI layout, to be written\n"), ("document-marker", "---\n"),
                   ("comments-and-marker", "# layout\n---\n# nothing yet\n")):
    raw_case("layout-file-" + name, {"layout.yaml": text}, ["check", "-i", "{dir}/layout.yaml"],
             "layout.yaml: the file is empty")
raw_case("layout-not-mapping", {"layout.yaml": "- hostname: a\n"}, ["check", "-i", "{dir}/layout.yaml"],
         "layout.yaml")
raw_case("layout-wrapper-no-path", {"inventory.yml": "plugin: openpai.cluster.layout\n"},
         ["check", "-i", "{dir}/inventory.yml"], "field 'layout' is missing")


# --------------------------------------------------------------------------- files: syntax and shape

def _inventory_with(extra, hosts_text=None):
    files = {"hosts.yml": hosts_text if hosts_text is not None else dump(base_inventory())}
    files.update(extra)
    return files


SYNTAX = [
    ("unclosed-list", "openpai_dns_servers: [10.0.0.1\nopenpai_data_path: /data\n", "line 2"),
    ("unclosed-map", "x: {a: 1\n", "line 2"),
    ("bad-indent", "a:\n  b: 1\n c: 2\n", "line 3"),
    ("tab", "a:\n\tb: 1\n", "line 2"),
    ("colon-space", "a: b: c\n", "line 1"),
    ("unclosed-quote", "a: \"text\nb: 1\n", "line 3"),
    ("jinja-unquoted", "a: {{ b }}\n", "line 1"),
]
for tag, text, line in SYNTAX:
    for rel in ("group_vars/all/main.yml", "group_vars/all.yml", "group_vars/pai_worker.yaml",
                "host_vars/pai-worker1.yml", "host_vars/pai-worker1/main.yml"):
        raw_case("syntax-%s-%s" % (tag, rel.replace("/", "_")), _inventory_with({rel: text}), CHECK_DIR,
                 rel + ", " + line, "not valid YAML")
    raw_case("syntax-%s-hosts" % tag, {"hosts.yml": "all:\n  vars:\n" + "".join(
        "    " + row + "\n" for row in text.splitlines())}, CHECK_DIR, "hosts.yml, line", "not valid YAML")
raw_case("syntax-layout", {"layout.yaml": "machine-sku: {GPU: {mem: 40G}\nmachine-list: []\n"},
         ["check", "-i", "{dir}/layout.yaml"], "layout.yaml, line 2", "not valid YAML")
raw_case("syntax-file-inventory", {"cluster.yml": "all:\n  hosts: [a\n"}, ["check", "-i", "{dir}/cluster.yml"],
         "cluster.yml, line", "not valid YAML")
raw_case("syntax-two-files",
         _inventory_with({"group_vars/all/main.yml": "a: [1\n", "host_vars/pai-master.yml": "b: {\n"}),
         CHECK_DIR, "group_vars/all/main.yml, line 2", "host_vars/pai-master.yml, line 2", lines=2)


def _host_vars_as(value):
    def mutate(doc):
        hosts(doc)["pai-worker2"] = value
    return mutate


for tag, value, kind in (("string", "foo", "a string"), ("list", [1, 2], "a list"), ("number", 5, "a number"),
                         ("bool", True, "a boolean")):
    inventory_case("host-vars-" + tag, _host_vars_as(value), "hosts.yml, line",
                   "host 'pai-worker2': its variables must be a mapping", kind)
    raw_case("host-vars-minimal-" + tag, {"hosts.yml": dump({"all": {"hosts": {"node1": value}}})}, CHECK_DIR,
             "hosts.yml, line", "host 'node1': its variables must be a mapping")
inventory_case("group-list", lambda d: d["all"]["children"].update(pai_worker=["pai-worker1"]),
               "hosts.yml, line", "group 'pai_worker': expected a mapping with hosts, vars or children, got a list")
inventory_case("group-hosts-list", lambda d: d["all"]["children"]["pai_worker"].update(hosts=["pai-worker1"]),
               "hosts.yml, line", "group 'pai_worker': 'hosts' must be a mapping, got a list")
inventory_case("group-children-list", lambda d: d["all"].update(children=["pai_worker"]),
               "group 'all': 'children' must be a mapping, got a list")
inventory_case("group-vars-list", lambda d: d["all"].update(vars=["a"]), "group 'all': 'vars' must be a mapping")
inventory_case("group-unknown-key", lambda d: d["all"]["children"]["pai_worker"].update(host={"pai-worker3": None}),
               "group 'pai_worker': unknown key 'host' (known: hosts, vars, children)")
raw_case("host-name-number", {"hosts.yml": "all:\n  hosts:\n    10:\n"}, CHECK_DIR,
         "hosts.yml, line 3: host '10': a host name must be a string")
raw_case("inventory-top-list", {"hosts.yml": "- pai-master\n- pai-worker1\n"}, CHECK_DIR,
         "hosts.yml: a YAML inventory is a mapping of group names")
raw_case("vars-file-list", _inventory_with({"group_vars/all/main.yml": "- a\n- b\n"}), CHECK_DIR,
         "group_vars/all/main.yml: expected a mapping of variable names to values, got a list")
raw_case("vars-file-string", _inventory_with({"host_vars/pai-master.yml": "just text\n"}), CHECK_DIR,
         "host_vars/pai-master.yml: expected a mapping of variable names to values, got a string")
for name, text in (("empty", ""), ("comment", "# hosts to come\n")):
    raw_case("inventory-file-" + name, {"hosts.yml": text}, ["check", "-i", "{dir}/hosts.yml"],
             "hosts.yml: the file is empty")
raw_case("inventory-dir-empty", {"group_vars/all.yml": "a: 1\n"}, CHECK_DIR, "no inventory file in the directory")
raw_case("ini-broken", {"hosts": "[pai_master\nnode1\n"}, CHECK_DIR, "hosts", "cannot be read as an inventory")


# --------------------------------------------------------------------------- quick-start.yaml (generate)

quick_start_case("machines-missing", lambda d: d.pop("machines"), "field 'machines' must be a non-empty list")
quick_start_case("machines-empty", lambda d: d.update(machines=[]), "field 'machines' must be a non-empty list")
quick_start_case("machines-string", lambda d: d.update(machines="192.168.1.11"),
                 "field 'machines' must be a non-empty list")
for tag, value in (("octet", "192.168.1.300"), ("hostname", "pai-master"), ("number", 7), ("short", "192.168.1")):
    quick_start_case("machine-" + tag, lambda d, v=value: d["machines"].__setitem__(1, v),
                     "field 'machines[1]'", "is not a valid IPv4 address")
quick_start_case("machine-twice", lambda d: d["machines"].append("192.168.1.11"),
                 "field 'machines[3]': 192.168.1.11 is listed twice")
quick_start_case("user-missing", lambda d: d.pop("ssh-username"), "field 'ssh-username' is missing")
quick_start_case("user-number", lambda d: d.update({"ssh-username": 5}), "field 'ssh-username' is missing")
quick_start_case("no-login", lambda d: d.pop("ssh-password"), "give 'ssh-password' or 'ssh-keyfile-path'")
quick_start_case("empty-password", lambda d: d.update({"ssh-password": ""}),
                 "give 'ssh-password' or 'ssh-keyfile-path'")
for tag, value in (("word", "ssh"), ("inf", INF), ("nan", NAN), ("zero", 0), ("too-big", 70000), ("negative", -1),
                   ("bool", True), ("null", None), ("fraction", 22.5), ("inf-word", "inf")):
    quick_start_case("port-" + tag, lambda d, v=value: d.update({"ssh-port": v}), "field 'ssh-port'",
                     "is not a port number")
for tag, value in (("short", "8.8.8"), ("words", "a,b"), ("cidr", "8.8.8.0/24")):
    quick_start_case("dns-" + tag, lambda d, v=value: d.update(dns=v), "field 'dns'")
for tag, value in (("mask", "10.254.0.0/33"), ("word", "services"), ("host-bits", "10.254.0.1/16")):
    quick_start_case("cidr-" + tag, lambda d, v=value: d.update({"service-cluster-ip-range": v}),
                     "field 'service-cluster-ip-range'")
quick_start_case("unknown-field", lambda d: d.update({"ssh-pasword": "x"}), "unknown field 'ssh-pasword'")
quick_start_case("list", None, "quick-start.yaml: expected a mapping", text="- 192.168.1.11\n")
quick_start_case("empty", None, "quick-start.yaml: the file is empty", text="")
quick_start_case("comment", None, "quick-start.yaml: the file is empty", text="# machines: []\n")
quick_start_case("syntax", None, "quick-start.yaml: not valid YAML (line 2",
                 text="machines: [10.0.0.1\nssh-username: pai\n")


# --------------------------------------------------------------------------- valid variants

for tag, mem in (("G", "40G"), ("Gi", "40Gi"), ("GB", "40GB"), ("GiB", "40GiB"), ("Mi", "40960Mi"),
                 ("M", "64000M"), ("bare", "48"), ("number", 48), ("fraction", 40.5), ("spaces", " 48 Gi "),
                 ("Ti", "1Ti"), ("T", "1.5T"), ("Ki", "41943040Ki"), ("k", "64000000k")):
    inventory_case("valid-mem-" + tag, lambda d, m=mem: skus(d)["k80-node"].update(mem=m), valid=True)
for tag, vcore in (("string", "24"), ("float", 24.0), ("padded", " 24 ")):
    inventory_case("valid-vcore-" + tag, lambda d, v=vcore: skus(d)["k80-node"]["cpu"].update(vcore=v), valid=True)
inventory_case("valid-gpu-count-zero", lambda d: skus(d)["k80-node"]["gpu"].update(count=0), valid=True)
inventory_case("valid-gpu-count-string", lambda d: skus(d)["k80-node"]["gpu"].update(count="4"), valid=True)
inventory_case("valid-computing-device", lambda d: skus(d)["k80-node"].update(
    {"computing-device": skus(d)["k80-node"].pop("gpu")}), valid=True)
inventory_case("valid-computing-device-v1", lambda d: skus(d)["k80-node"].update(
    {"computing-device": {"type": "nvidia.com/gpu", "model": "K80", "count": 4}, "gpu": None}), valid=True)
inventory_case("valid-capacity-strings", lambda d: d["all"]["vars"].update(
    openpai_virtual_clusters={"default": {"capacity": "60"}, "research": {"capacity": "40"}}), valid=True)
inventory_case("valid-capacity-fractions", lambda d: d["all"]["vars"].update(
    openpai_virtual_clusters={"a": {"capacity": 33.3}, "b": {"capacity": 66.7, "max-capacity": 100}}), valid=True)
inventory_case("valid-no-virtual-clusters", lambda d: d["all"]["vars"].pop("openpai_virtual_clusters"), valid=True)
inventory_case("valid-host-named-by-ip", lambda d: (rename("pai-worker2", "10.10.0.3")(d),
                                                   hosts(d)["10.10.0.3"].pop("ansible_host")) and None, valid=True)
for connection in ("community.docker.docker", "docker", "local"):
    inventory_case("valid-no-address-" + connection, lambda d, c=connection: (
        hosts(d)["pai-worker2"].pop("ansible_host"), hosts(d)["pai-worker2"].update(ansible_connection=c)) and None,
        valid=True)
inventory_case("valid-openpai-address", lambda d: (hosts(d)["pai-worker2"].pop("ansible_host"),
                                                  hosts(d)["pai-worker2"].update(openpai_address="10.10.0.3")) and None,
               valid=True)
inventory_case("valid-yarn-policy", lambda d: d["all"]["vars"].update(openpai_yarn_reserve_ratio=0.2,
                                                                      openpai_yarn_reserve_min_mb="1024"), valid=True)


def _all_in_one(doc):
    master = hosts(doc)["pai-master"]
    doc["all"]["hosts"] = {"pai-master": master}
    doc["all"]["children"] = {g: {"hosts": {"pai-master": None}} for g in
                              ("kube_control_plane", "kube_node", "pai_master", "pai_worker")}


inventory_case("valid-all-in-one", _all_in_one, valid=True)
inventory_case("valid-several-control-plane", lambda d: d["all"]["children"]["kube_control_plane"]["hosts"].update(
    {"pai-worker1": None}), "note: group 'kube_control_plane': 2 hosts", "pai-worker1 joins as a worker", valid=True)
inventory_case("valid-group-vars-file", lambda d: None, valid=True,
               extra={"group_vars/all/extra.yml": "openpai_data_path: /data\n", "host_vars/pai-master.yml": "---\n"})
inventory_case("valid-vault-tag", lambda d: None, valid=True, extra={
    "group_vars/all/secret.yml": "ansible_become_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"})
for version in ("v0.14", "v1"):
    layout_case(version, "valid-as-is", lambda d: None, valid=True)
    layout_case(version, "valid-json-layout-yaml", lambda d: None, as_json=True, valid=True)
    layout_case(version, "valid-json-any-name", lambda d: None, filename="my-cluster.yaml", as_json=True, valid=True)
    layout_case(version, "valid-json-file", lambda d: None, filename="cluster.json", as_json=True, valid=True)
    layout_case(version, "valid-other-name", lambda d: None, filename="cluster-layout.yml", valid=True)
    layout_case(version, "valid-all-in-one", lambda d: (d.update({"machine-list": machines(d)[:1]}),
                                                         machines(d)[0].update({"pai-worker": "true"}),
                                                         machines(d)[0].pop("k8s-role", None)) and None, valid=True)
    layout_case(version, "valid-boolean-flags", lambda d: [m.update({k: v == "true" for k, v in m.items()
                                                                    if k in ("pai-master", "pai-worker")})
                                                           for m in machines(d)] and None, valid=True)
for count in (2, 3):
    layout_case("v0.14", "valid-%d-kubernetes-masters" % count, lambda d, n=count: machines(d).extend(
        {"hostname": "node-%02d" % i, "hostip": "192.168.1.%d" % (20 + i), "machine-type": "CPU", "k8s-role": "master"}
        for i in range(n - 1)), "note: group 'kube_control_plane': %d hosts" % count, valid=True)
layout_case("v1", "valid-two-pai-masters", lambda d: machines(d)[1].update({"pai-master": "true"}),
            "note: group 'kube_control_plane': 2 hosts", valid=True)
quick_start_case("valid-as-is", lambda d: None, valid=True)
quick_start_case("valid-one-machine", lambda d: d.update(machines=["10.0.0.5"]), valid=True)
quick_start_case("valid-keyfile", lambda d: (d.pop("ssh-password"), d.update({"ssh-keyfile-path": "~/.ssh/id"}))
                 and None, valid=True)
quick_start_case("valid-port-string", lambda d: d.update({"ssh-port": "2222"}), valid=True)
quick_start_case("valid-minimal", lambda d: [d.pop(k) for k in ("dns", "service-cluster-ip-range", "ssh-port")]
                 and None, valid=True)


# --------------------------------------------------------------------------- the tests

def _write(case: Case, folder) -> List[str]:
    for rel, text in case.files().items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [a.replace("{dir}", str(folder)) for a in case.argv]


def problem_lines(out: str, err: str) -> List[str]:
    """The problems paictl listed: '  - ' items, else its one 'paictl: error:' line."""
    items = [line for line in (out + err).splitlines() if line.startswith("  - ")]
    return items or [line for line in err.splitlines() if line.startswith("paictl: error:")]


def test_enough_cases():
    assert len(BAD) >= 300 and len(GOOD) >= 30, (len(BAD), len(GOOD))
    ids = [c.id for c in BAD + GOOD]
    assert len(ids) == len(set(ids)), "duplicate case ids"


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_input_is_named(case, tmp_path, paictl):
    argv = _write(case, tmp_path)
    rc, out, err = paictl(*argv)
    text = out + err
    assert rc == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert "caused by" not in text and "Failed to parse inventory" not in text, text
    for words in case.expect:
        assert words in text, text
    if case.lines is not None:
        assert len(problem_lines(out, err)) == case.lines, text
    if case.argv[0] == "config":
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_valid_input_passes(case, tmp_path, paictl):
    argv = _write(case, tmp_path)
    rc, out, err = paictl(*argv)
    assert rc == 0, out + err
    assert "Traceback" not in out + err
    for words in case.expect:
        assert words in out, out
    if case.argv[0] == "config":  # what generate wrote is itself a valid inventory
        rc, out, err = paictl("check", "-i", tmp_path / "out")
        assert rc == 0, out + err
