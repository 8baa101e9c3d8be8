"""paictl config push|pull and paictl service start|stop|delete|status: arguments, bad
input refused before any host is contacted, and the playbook's own refusals (no admin
password, no cluster to ask) reported as messages naming the cause, never a traceback.
The verbs against a running cluster are exercised on the lab (tests/lab, molecule)."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from conftest import base_inventory
from paictl import cli, services


def local_inventory(tmp_path, **extra_vars):
    """A valid inventory whose hosts are this machine (local connection, no become)."""
    doc = base_inventory()
    doc["all"]["vars"].update({"ansible_python_interpreter": sys.executable, "ansible_become": False,
                               "openpai_lab": True})
    doc["all"]["vars"].update(extra_vars)
    for host in doc["all"]["hosts"].values():
        host["ansible_connection"] = "local"
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc))
    return folder


@pytest.mark.parametrize("argv", [
    ["service"],
    ["service", "start"],
    ["service", "restart", "-i", "inv"],
    ["service", "status", "-i", "inv", "-n", "Pylon"],
    ["service", "stop", "-i", "inv", "-n", ""],
    ["service", "status", "-i", "inv", "--name", "a_b"],
    ["config", "push"],
    ["config", "pull", "-i", "inv"],
])
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: paictl" in err and "Traceback" not in err


def test_arguments_are_parsed():
    args = cli.build_parser().parse_args(["service", "start", "-i", "inv", "-n", "prometheus", "-n", "pylon",
                                          "--json"])
    assert (args.verb, args.service_verb, args.name, args.json) == ("service", "start", ["prometheus", "pylon"], True)
    args = cli.build_parser().parse_args(["service", "status", "-i", "inv"])
    assert args.name is None and not args.json
    args = cli.build_parser().parse_args(["config", "push", "-i", "inv", "--json"])
    assert (args.config_verb, args.json) == ("push", True)
    args = cli.build_parser().parse_args(["config", "pull", "-i", "inv", "-o", "/tmp/x.yaml"])
    assert args.output == "/tmp/x.yaml"


def test_a_missing_inventory_is_one_line(paictl, tmp_path):
    for argv in (["config", "push"], ["service", "status"], ["config", "pull", "-o", tmp_path / "c.yaml"]):
        rc, out, err = paictl(*argv, "-i", tmp_path / "nowhere")
        assert rc == 2 and "no such file or directory" in err and "Traceback" not in err, argv


def test_an_invalid_inventory_is_refused_before_any_host(paictl, write_inventory):
    doc = base_inventory()
    doc["all"]["hosts"]["pai-worker1"]["openpai_machine_type"] = "no-such-sku"
    inv = write_inventory(doc)
    rc, out, err = paictl("service", "start", "-i", inv)
    assert rc == 2
    assert "no host was contacted" in err and "no-such-sku" in err


def test_pull_refuses_a_directory_or_a_missing_parent(paictl, write_inventory, tmp_path):
    inv = write_inventory()
    rc, _, err = paictl("config", "pull", "-i", inv, "-o", tmp_path)
    assert rc == 2 and "is a directory" in err
    rc, _, err = paictl("config", "pull", "-i", inv, "-o", tmp_path / "no" / "such" / "c.yaml")
    assert rc == 2 and "does not exist" in err


def test_status_document_shape():
    status = {"pylon": {"ready": True, "node": "m", "image": "docker.io/openpai/pylon:0.1.0", "reason": "",
                        "kind": "Deployment"},
              "gpu-exporter": {"ready": False, "node": None, "image": "i", "reason": "not deployed"}}
    doc = services.status_document(status)
    assert doc == {"services": {"pylon": {"ready": True, "node": "m", "image": "docker.io/openpai/pylon:0.1.0"},
                                "gpu-exporter": {"ready": False, "node": None, "image": "i"}}}
    lines = services.status_text(status)
    assert lines[0].split()[:2] == ["pylon", "ready"] and "NOT READY" in lines[1] and "(not deployed)" in lines[1]


@pytest.mark.slow
def test_push_without_the_admin_password_names_the_variable(paictl, tmp_path):
    inv = local_inventory(tmp_path)
    rc, out, err = paictl("config", "push", "-i", inv, "--json")
    assert rc == 1, out + err
    doc = json.loads(out)
    assert doc["status"] == "failed"
    assert any("openpai_admin_password: not set" in line for line in doc["failures"]), doc


@pytest.mark.slow
def test_status_without_a_cluster_says_so_and_exits_1(paictl, tmp_path):
    """No admin kubeconfig on the controller (Kubernetes never deployed): one message naming it, exit 1."""
    kubeconfig = tmp_path / "no-cluster" / "admin.conf"
    inv = local_inventory(tmp_path, openpai_admin_password="s3cret-pw",
                          kubernetes_control_plane_kubeconfig_fetch_path=str(kubeconfig))
    rc, out, err = paictl("service", "status", "-i", inv)
    assert rc == 1
    assert "service status failed" in err and str(kubeconfig) in err and "missing on the controller" in err
    assert "Traceback" not in err
    assert "s3cret-pw" not in out + err
    rc, out, err = paictl("service", "status", "-i", inv, "-n", "grafana", "--json")
    assert rc == 1
    assert any("unknown service(s) grafana" in line and "webportal" in line and "disabled" not in line
               for line in json.loads(out)["failures"]), out
