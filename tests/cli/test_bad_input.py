"""Bad input gets one clear message per problem, naming the field; never a traceback,
and nothing is deployed."""

import pytest
import yaml

from conftest import FIXTURES, base_inventory


def skus(doc):
    return doc["all"]["vars"]["openpai_machine_skus"]


def hosts(doc):
    return doc["all"]["hosts"]


def vcs(doc):
    return doc["all"]["vars"]["openpai_virtual_clusters"]


def _del(mapping, key):
    del mapping[key]


INVENTORY_CASES = [
    ("mem-missing", lambda d: _del(skus(d)["cpu-node"], "mem"), "SKU 'cpu-node': field 'mem' is missing"),
    ("mem-unit", lambda d: skus(d)["cpu-node"].update(mem="16Q"), "unknown unit 'Q'"),
    ("mem-word", lambda d: skus(d)["cpu-node"].update(mem="lots"), "field 'mem': 'lots' is not a quantity"),
    ("mem-zero", lambda d: skus(d)["cpu-node"].update(mem="0Gi"), "must be greater than zero"),
    ("cpu-missing", lambda d: _del(skus(d)["cpu-node"], "cpu"), "SKU 'cpu-node': field 'cpu.vcore' is missing"),
    ("vcore-word", lambda d: skus(d)["cpu-node"]["cpu"].update(vcore="many"),
     "field 'cpu.vcore': expected a whole number"),
    ("vcore-zero", lambda d: skus(d)["cpu-node"]["cpu"].update(vcore=0), "field 'cpu.vcore': must be at least 1"),
    ("gpu-count-negative", lambda d: skus(d)["k80-node"]["gpu"].update(count=-1),
     "SKU 'k80-node': field 'gpu.count'"),
    ("sku-unknown-key", lambda d: skus(d)["cpu-node"].update(memory="16Gi"), "unknown field 'memory'"),
    ("gpu-both-spellings", lambda d: skus(d)["k80-node"].update({"computing-device": {"count": 4}}),
     "either 'gpu' (v0.14) or 'computing-device' (v1.x), not both"),
    ("sku-undefined", lambda d: hosts(d)["pai-worker2"].update(openpai_machine_type="nope"),
     "host 'pai-worker2': field 'openpai_machine_type': SKU 'nope' is not defined"),
    ("sku-not-set", lambda d: _del(hosts(d)["pai-worker2"], "openpai_machine_type"),
     "host 'pai-worker2': field 'openpai_machine_type' is missing"),
    ("skus-missing", lambda d: _del(d["all"]["vars"], "openpai_machine_skus"), "openpai_machine_skus: not defined"),
    ("skus-list", lambda d: d["all"]["vars"].update(openpai_machine_skus=["a"]),
     "openpai_machine_skus: expected a mapping"),
    ("ip-invalid", lambda d: hosts(d)["pai-worker2"].update(ansible_host="10.10.0.300"),
     "host 'pai-worker2': field 'ansible_host': '10.10.0.300' is not a valid IPv4 address"),
    ("ip-duplicate", lambda d: hosts(d)["pai-worker2"].update(ansible_host="10.10.0.2"),
     "address 10.10.0.2 is also used by host 'pai-worker1'"),
    ("no-master", lambda d: d["all"]["children"].update(pai_master={"hosts": {}}),
     "group 'pai_master': empty"),
    ("no-worker", lambda d: d["all"]["children"].update(pai_worker={"hosts": {}}),
     "group 'pai_worker': empty"),
    ("no-control-plane", lambda d: d["all"]["children"].update(kube_control_plane={"hosts": {}}),
     "group 'kube_control_plane': empty while 'kube_node' has hosts"),
    ("capacity-sum", lambda d: vcs(d)["research"].update(capacity=30), "capacities sum to 90, they must sum to 100"),
    ("capacity-negative", lambda d: vcs(d).update(default={"capacity": -10}, research={"capacity": 110}),
     "openpai_virtual_clusters.default: field 'capacity' must be between 0 and 100"),
    ("capacity-word", lambda d: vcs(d)["research"].update(capacity="half"), "field 'capacity' must be a number"),
    ("capacity-missing", lambda d: vcs(d).update(research={"weight": 40}),
     "openpai_virtual_clusters.research: field 'capacity' is missing"),
    ("queue-name", lambda d: vcs(d).update({"a.b": vcs(d).pop("research")}), "queue name must use letters"),
    ("worker-memory-too-small", lambda d: skus(d)["cpu-node"].update(mem="2Gi"),
     "host 'pai-worker2': SKU 'cpu-node' leaves 0 MB for YARN"),
    ("worker-vcores-too-small", lambda d: skus(d)["cpu-node"]["cpu"].update(vcore=1),
     "host 'pai-worker2': SKU 'cpu-node' leaves 0 vcores for YARN"),
    ("admin-network-word", lambda d: d["all"]["vars"].update(openpai_admin_networks=["192.0.2.0/24", "laptop"]),
     "field 'openpai_admin_networks[1]': 'laptop' is not an IPv4 address or network"),
    ("admin-networks-string", lambda d: d["all"]["vars"].update(openpai_admin_networks="192.0.2.0/24"),
     "field 'openpai_admin_networks': must be a list"),
    ("policy-not-number", lambda d: d["all"]["vars"].update(openpai_yarn_reserve_ratio="ten percent"),
     "openpai_yarn_reserve_ratio: expected a finite number, got 'ten percent'"),
]


def _hostname_case(name):
    def mutate(doc):
        entry = hosts(doc).pop("pai-worker2")
        hosts(doc)[name] = entry
        for group in ("kube_node", "pai_worker"):
            members = doc["all"]["children"][group]["hosts"]
            members.pop("pai-worker2")
            members[name] = None
    return mutate


INVENTORY_CASES += [
    ("hostname-upper", _hostname_case("Pai-Worker2"), "host 'Pai-Worker2': hostname must be a lowercase RFC 1123"),
    ("hostname-underscore", _hostname_case("pai_worker2"), "host 'pai_worker2': hostname must be a lowercase RFC"),
]


def _all_in_one_small(doc):
    doc["all"]["children"]["pai_worker"]["hosts"]["pai-master"] = None
    skus(doc)["master-node"].update(mem="10Gi")


INVENTORY_CASES.append(("all-in-one-reserve", _all_in_one_small,
                        "host 'pai-master': SKU 'master-node' leaves 0 MB for YARN (mem 10240 MiB - reserve 10240"))


@pytest.mark.parametrize("name,mutate,expected", INVENTORY_CASES, ids=[c[0] for c in INVENTORY_CASES])
def test_check_names_each_problem(name, mutate, expected, write_inventory, paictl):
    doc = base_inventory()
    mutate(doc)
    rc, out, err = paictl("check", "-i", write_inventory(doc))
    assert rc == 2
    assert expected in out, out
    problems = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(problems) == (2 if name == "capacity-negative" else 1), out
    assert "Traceback" not in out + err


LAYOUT_CASES = [
    ("flag-yes", lambda d: d["machine-list"][0].update({"pai-master": "yes"}),
     "machine-list[0] (pai-master): field 'pai-master': must be \"true\" or \"false\", got 'yes'"),
    ("hostname-twice", lambda d: d["machine-list"][2].update(hostname="pai-worker1"),
     "field 'hostname': 'pai-worker1' is listed twice"),
    ("hostip-invalid", lambda d: d["machine-list"][1].update(hostip="192.168.1"),
     "machine-list[1] (pai-worker1): field 'hostip': '192.168.1' is not a valid IPv4 address"),
    ("hostip-twice", lambda d: d["machine-list"][2].update(hostip="192.168.1.12"),
     "field 'hostip': 192.168.1.12 is also the address of 'pai-worker1'"),
    ("machine-type-missing", lambda d: d["machine-list"][1].pop("machine-type"),
     "machine-list[1] (pai-worker1): field 'machine-type' is missing"),
    ("k8s-role-bad", lambda d: d["machine-list"][1].update({"k8s-role": "boss"}),
     "field 'k8s-role': must be \"master\" or \"worker\", got 'boss'"),
    ("sku-mem-bad", lambda d: d["machine-sku"]["GPU"].update(mem="forty"), "SKU 'GPU': field 'mem'"),
    ("machine-list-missing", lambda d: d.update({"machine-list": []}),
     "field 'machine-list' must be a non-empty list"),
]


@pytest.mark.parametrize("name,mutate,expected", LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES])
def test_layout_problems_named(name, mutate, expected, tmp_path, paictl):
    doc = yaml.safe_load((FIXTURES / "layout-v0.14.yaml").read_text())
    mutate(doc)
    path = tmp_path / "layout.yaml"
    path.write_text(yaml.safe_dump(doc))
    rc, out, err = paictl("check", "-i", path)
    assert rc == 2, out + err
    assert expected in out, out
    assert "Traceback" not in out + err


QUICK_START_CASES = [
    ("machines-missing", {"ssh-username": "pai", "ssh-password": "x"}, "field 'machines' must be a non-empty list"),
    ("machine-ip-bad", {"machines": ["192.168.1.300"], "ssh-username": "pai", "ssh-password": "x"},
     "field 'machines[0]': '192.168.1.300' is not a valid IPv4 address"),
    ("machine-twice", {"machines": ["10.1.1.1", "10.1.1.1"], "ssh-username": "pai", "ssh-password": "x"},
     "field 'machines[1]': 10.1.1.1 is listed twice"),
    ("no-login", {"machines": ["10.1.1.1"], "ssh-username": "pai"}, "give 'ssh-password' or 'ssh-keyfile-path'"),
    ("user-missing", {"machines": ["10.1.1.1"], "ssh-password": "x"}, "field 'ssh-username' is missing"),
    ("unknown-field", {"machines": ["10.1.1.1"], "ssh-username": "pai", "ssh-password": "x", "ssh-pasword": "y"},
     "unknown field 'ssh-pasword'"),
    ("port-bad", {"machines": ["10.1.1.1"], "ssh-username": "pai", "ssh-password": "x", "ssh-port": "ssh"},
     "field 'ssh-port': 'ssh' is not a port number"),
    ("cidr-bad", {"machines": ["10.1.1.1"], "ssh-username": "pai", "ssh-password": "x",
                  "service-cluster-ip-range": "10.254.0.0/33"}, "field 'service-cluster-ip-range'"),
]


@pytest.mark.parametrize("name,doc,expected", QUICK_START_CASES, ids=[c[0] for c in QUICK_START_CASES])
def test_quick_start_problems_named(name, doc, expected, tmp_path, paictl):
    src = tmp_path / "quick-start.yaml"
    src.write_text(yaml.safe_dump(doc))
    rc, out, err = paictl("config", "generate", "-i", src, "-o", tmp_path / "out")
    assert rc == 2
    assert expected in err, err
    assert not (tmp_path / "out").exists()
    assert "Traceback" not in out + err
    assert "x" not in [w.strip("'\"") for w in err.split()], "a password was printed"


def test_quick_start_not_yaml(tmp_path, paictl):
    src = tmp_path / "quick-start.yaml"
    src.write_text("machines: [10.0.0.1\nssh-username: pai\n")
    rc, out, err = paictl("config", "generate", "-i", src, "-o", tmp_path / "out")
    assert rc == 2 and "not valid YAML (line" in err and "Traceback" not in err


def test_inventory_missing(paictl, tmp_path):
    rc, out, err = paictl("check", "-i", tmp_path / "nope")
    assert rc == 2 and "no such file or directory" in err


def test_inventory_not_yaml(paictl, tmp_path):
    (tmp_path / "hosts.yml").write_text("all: [unclosed\n")
    rc, out, err = paictl("check", "-i", tmp_path / "hosts.yml")
    assert rc == 2 and "Traceback" not in out + err
    assert "hosts.yml" in err


@pytest.mark.parametrize("argv,expected", [
    (["deploy", "-i", "x", "--tags", "bogus"], "unknown tag(s) bogus"),
    (["deploy", "-i", "x", "--tags", ""], "unknown tag(s) (none)"),
    (["deploy"], "the following arguments are required: -i/--inventory"),
    (["check"], "required: -i/--inventory"),
    (["lab", "up", "-i", "x"], "required: -o/--output"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_cli_arguments(argv, expected, capsys):
    from paictl import cli
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_deploy_refuses_invalid_inventory_without_running(write_inventory, paictl, monkeypatch):
    from paictl import runner

    def boom(*a, **k):
        raise AssertionError("ansible was run on an invalid inventory")
    monkeypatch.setattr(runner, "run_playbook", boom)
    doc = base_inventory()
    skus(doc)["cpu-node"]["mem"] = "lots"
    rc, out, err = paictl("deploy", "-i", write_inventory(doc))
    assert rc == 2
    assert "nothing was deployed and no host was contacted" in err
    assert "field 'mem': 'lots' is not a quantity" in err
    rc, out, err = paictl("deploy", "-i", write_inventory(doc), "--json")
    assert rc == 2 and '"status": "invalid"' in out
