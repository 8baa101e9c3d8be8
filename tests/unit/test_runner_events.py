"""paictl.runner.Progress on ansible-runner events shaped as runner sends them:
what a failure says (loop items included), secrets masked in the display and in
the failures deploy --json prints."""

import io

from paictl import runner

SECRET = "Vault-Kept-Pa55"


def events(progress, *evs):
    for ev in evs:
        progress(ev)


def task(name, action="ansible.builtin.command"):
    return {"event": "playbook_on_task_start", "event_data": {"task": name, "task_action": action}}


def failed(host, res):
    return {"event": "runner_on_failed", "event_data": {"host": host, "res": res}}


def test_failures_by_host_mask_secrets_in_display_and_json():
    out = io.StringIO()
    progress = runner.Progress(out, secrets=runner.secret_values([{"openpai_admin_password": SECRET}]))
    events(progress,
           task("Log in"),
           failed("m1", {"msg": "login refused for admin:%s" % SECRET}),
           task("Reach it"),
           {"event": "runner_on_unreachable",
            "event_data": {"host": "w1", "res": {"msg": "ssh: connect to host w1 port 22: No route"}}},
           task("Ignored"),
           {"event": "runner_on_failed", "event_data": {"host": "w2", "ignore_errors": True, "res": {"msg": "x"}}})
    assert SECRET not in out.getvalue() and "admin:********" in out.getvalue()
    assert progress.failures_by_host() == {
        "m1": [{"task": "Log in", "message": "login refused for admin:********", "status": "failed"}],
        "w1": [{"task": "Reach it", "message": "ssh: connect to host w1 port 22: No route", "status": "unreachable"}],
    }
    assert list(progress.failures_by_host({"w1"})) == ["w1"]


def test_a_failed_loop_names_each_failed_item_and_hides_no_log_items():
    progress = runner.Progress(None)
    events(progress, task("Download the Kubernetes artifacts", "ansible.builtin.get_url"),
           failed("cp", {"msg": "One or more items failed", "results": [
               {"item": {"name": "kubelet"}, "_ansible_item_label": "kubelet", "failed": False},
               {"item": "x", "_ansible_item_label": "kubeadm", "failed": True,
                "msg": "Request failed: <urlopen error [Errno -2] Name or service not known>"},
               {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified",
                "failed": True}]}))
    [(host, name, message, status)] = progress.failures
    assert message.splitlines() == [
        "One or more items failed",
        "item kubeadm: Request failed: <urlopen error [Errno -2] Name or service not known>",
        "item: the output has been hidden due to the fact that 'no_log: true' was specified",
    ]


def test_secret_values_takes_secret_names_only():
    found = runner.secret_values([
        {"ansible_become_password": "b3come!", "ansible_ssh_private_key_file": "/home/u/.ssh/id_rsa",
         "openpai_machine_type": "k80-node", "hadoop_token_secret": "{{ vault_token }}", "api_token": "ab"},
        {"ansible_ssh_pass": "ssh-pass-1", "openpai_admin_password": 12345}])
    assert found == {"b3come!", "ssh-pass-1"}
