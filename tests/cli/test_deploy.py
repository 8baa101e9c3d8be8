"""paictl deploy drives site.yml through ansible-runner: display, JSON, retry command.
Hosts here use the local connection with the read-only preflight layer (the
layers that change hosts are exercised on lab containers: tests/lab, molecule),
and one unreachable host on loopback."""

import json
import sys

import pytest
import yaml


def local_inventory(tmp_path, unreachable=False, lab=True):
    doc = {"all": {
        "vars": {
            "ansible_python_interpreter": sys.executable,
            "ansible_become": False,
            "openpai_lab": lab,
            "openpai_machine_skus": {"small": {"mem": "16Gi", "cpu": {"vcore": 2}},
                                     "gpu": {"mem": "12Gi", "cpu": {"vcore": 2},
                                             "gpu": {"type": "Tesla K80", "count": 2}}},
        },
        "hosts": {
            "node-a": {"ansible_connection": "local", "openpai_machine_type": "small"},
            "node-b": ({"ansible_host": "127.0.0.1", "ansible_port": 1, "openpai_machine_type": "gpu",
                        "ansible_ssh_common_args": "-o ConnectTimeout=3 -o StrictHostKeyChecking=no"}
                       if unreachable else {"ansible_connection": "local", "openpai_machine_type": "gpu"}),
        },
        "children": {
            "kube_control_plane": {"hosts": {"node-a": None}},
            "kube_node": {"hosts": {"node-b": None}},
            "pai_master": {"hosts": {"node-a": None}},
            "pai_worker": {"hosts": {"node-b": None}},
        },
    }}
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc))
    return folder


@pytest.mark.slow
def test_deploy_display_and_json(tmp_path, paictl):
    inv = local_inventory(tmp_path)
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight")
    assert rc == 0, out + err
    assert "PLAY  Validate the inventory before touching any host" in out
    assert "TASK  Check the host matches its SKU" in out
    assert "ok          node-b" in out
    # the lab's hardware mismatch is shown as a warning under its task
    assert "SKU 'gpu' says 2 GPU(s) but the PCI bus has 0 NVIDIA GPU(s)" in out
    assert "SUMMARY" in out and "deploy succeeded" in out
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight", "--json")
    assert rc == 0, out + err
    data = json.loads(out)
    assert set(data) == {"status", "hosts", "failures"} and data["status"] == "successful"
    assert data["failures"] == {}
    assert set(data["hosts"]) == {"localhost", "node-a", "node-b"}
    for host in ("node-a", "node-b"):
        counters = data["hosts"][host]
        assert set(counters) == {"ok", "changed", "failed", "unreachable", "skipped"}
        assert counters["changed"] == 0 and counters["failed"] == 0 and counters["ok"] > 0


@pytest.mark.slow
def test_deploy_limit(tmp_path, paictl):
    inv = local_inventory(tmp_path)
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight", "--limit", "node-a", "--json")
    data = json.loads(out)
    assert rc == 0 and "node-b" not in data["hosts"] and data["hosts"]["node-a"]["ok"] > 0


@pytest.mark.slow
def test_deploy_failure_gives_retry_command(tmp_path, paictl):
    inv = local_inventory(tmp_path, unreachable=True)
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight")
    assert rc != 0
    assert "UNREACHABLE node-b" in out
    assert "retry only the failed hosts with:\n  paictl deploy -i %s --limit node-b --tags preflight" % inv in out
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight", "--json")
    data = json.loads(out)
    assert rc != 0 and data["status"] == "failed"
    assert data["hosts"]["node-b"]["unreachable"] == 1 and data["hosts"]["node-a"]["failed"] == 0


@pytest.mark.slow
def test_deploy_json_says_which_task_failed_and_why(tmp_path, paictl):
    # Not a lab: preflight's hardware comparison is an error. Both hosts are this
    # machine, which has no NVIDIA GPU: node-b's SKU says 2 and fails, node-a's
    # says none and passes.
    inv = local_inventory(tmp_path, lab=False)
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight", "--json")
    data = json.loads(out)
    assert rc != 0 and data["status"] == "failed", out + err
    assert set(data["failures"]) == {"node-b"}
    [failure] = data["failures"]["node-b"]
    assert failure["task"] == "Check the host matches its SKU" and failure["status"] == "failed"
    assert "SKU 'gpu' says 2 GPU(s) but the PCI bus has 0 NVIDIA GPU(s)" in failure["message"]
    # the display shows the same message under the same task
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight")
    assert rc != 0 and "FAILED      node-b" in out and failure["message"].splitlines()[0] in out


@pytest.mark.slow
def test_deploy_json_names_the_unreachable_host_and_masks_secrets(tmp_path, paictl):
    inv = local_inventory(tmp_path, unreachable=True)
    doc = yaml.safe_load((inv / "hosts.yml").read_text())
    # a secret whose value ssh's error repeats (the address it could not reach)
    doc["all"]["vars"]["openpai_admin_password"] = "127.0.0.1"
    (inv / "hosts.yml").write_text(yaml.safe_dump(doc))
    rc, out, err = paictl("deploy", "-i", inv, "--tags", "preflight", "--json")
    data = json.loads(out)
    assert rc != 0 and set(data["failures"]) == {"node-b"}
    [failure] = data["failures"]["node-b"]
    assert failure["status"] == "unreachable" and failure["task"]
    assert "port 1" in failure["message"] and "********" in failure["message"]
    assert "127.0.0.1" not in out


def unreachable_inventory(tmp_path, **extra_vars):
    """Both hosts on a closed loopback port: whatever passes validation touches nothing."""
    folder = local_inventory(tmp_path, unreachable=True)
    doc = yaml.safe_load((folder / "hosts.yml").read_text())
    doc["all"]["hosts"]["node-a"] = dict(doc["all"]["hosts"]["node-b"], openpai_machine_type="small",
                                         ansible_host="127.0.0.2")
    doc["all"]["vars"].update(extra_vars)
    (folder / "hosts.yml").write_text(yaml.safe_dump(doc))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("tags", [[], ["--tags", "services"], ["--tags", "hadoop,services"]])
def test_a_run_deploying_the_services_names_a_missing_admin_password_before_any_host(tmp_path, paictl, tags):
    inv = unreachable_inventory(tmp_path, pylon_port=70000)
    rc, out, err = paictl("deploy", "-i", inv, "--json", *tags)
    data = json.loads(out)
    assert rc != 0 and set(data["failures"]) == {"localhost"}, data
    [failure] = data["failures"]["localhost"]
    assert "openpai_admin_password: not set" in failure["message"]
    assert "pylon_port: must be a TCP port number 1-65535 (got 70000)" in failure["message"]
    assert "no host was touched" in failure["message"]


@pytest.mark.slow
def test_a_run_without_the_services_does_not_ask_for_the_admin_password(tmp_path, paictl):
    inv = unreachable_inventory(tmp_path)
    rc, out, err = paictl("deploy", "-i", inv, "--json", "--tags", "hadoop")
    data = json.loads(out)
    # validation passed; the hosts themselves are unreachable
    assert rc != 0 and "localhost" not in data["failures"], data
    assert {f["status"] for fs in data["failures"].values() for f in fs} == {"unreachable"}


@pytest.mark.slow
def test_a_short_admin_password_is_named_and_never_shown(tmp_path, paictl):
    inv = unreachable_inventory(tmp_path, openpai_admin_password="abc12")
    rc, out, err = paictl("deploy", "-i", inv, "--json", "--tags", "services")
    data = json.loads(out)
    [failure] = data["failures"]["localhost"]
    assert "openpai_admin_password: must be a string of at least 6 characters" in failure["message"]
    assert "abc12" not in out + err
