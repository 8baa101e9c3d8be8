"""Settings, YARN answer parsing, state mapping, names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fake_rm import FakeResourceManager
from pai_rest_server.settings import SettingsError, load_settings
from pai_rest_server.yarn import (AppReport, ContainerReport, ServiceReport, component_names, job_state,
                                  parse_nodes, parse_scheduler, service_name, task_state, unwrap_nm_log)


def test_settings_from_env_file_and_secret_files(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("from-a-file\n")
    cfg = tmp_path / "rest.yaml"
    cfg.write_text("admin_username: root\nport: 9999\nyarn_rm_url: http://rm:8088\n")
    s = load_settings(env={"PAI_REST_CONFIG_FILE": str(cfg), "PAI_REST_ADMIN_PASSWORD_FILE": str(pw),
                           "PAI_REST_PORT": "9186"})
    assert (s.admin_username, s.admin_password, s.port, s.yarn_rm_url) == ("root", "from-a-file", 9186, "http://rm:8088")
    assert "from-a-file" not in repr(s)


@pytest.mark.parametrize("env, fragment", [
    ({}, "PAI_REST_ADMIN_PASSWORD"),
    ({"PAI_REST_ADMIN_PASSWORD": "secret-1", "PAI_REST_PORT": "http"}, "PAI_REST_PORT"),
    ({"PAI_REST_ADMIN_PASSWORD": "secret-1", "PAI_REST_YARN_RM_URL": "rm:8088"}, "PAI_REST_YARN_RM_URL"),
    ({"PAI_REST_ADMIN_PASSWORD": "secret-1", "PAI_REST_TOKEN_SECRET": "short"}, "PAI_REST_TOKEN_SECRET"),
    ({"PAI_REST_ADMIN_PASSWORD": "secret-1", "PAI_REST_CONFIG_FILE": "/nonexistent.yaml"}, "cannot read"),
])
def test_bad_settings_name_the_setting(env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        load_settings(env=env)


def test_main_reports_bad_settings_without_traceback():
    result = subprocess.run([sys.executable, "-m", "pai_rest_server"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PAI_REST_PORT": "x"}, timeout=60)
    assert result.returncode == 2
    assert "PAI_REST_PORT" in result.stderr and "PAI_REST_ADMIN_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_scheduler_and_nodes_of_hadoop_shapes():
    rm = FakeResourceManager()
    queues = parse_scheduler(rm.scheduler())
    assert [q.name for q in queues] == ["default", "research"]
    assert queues[1].capacity == 30.0 and queues[1].max_capacity == 50.0
    nodes = parse_nodes(rm.nodes_doc())
    assert [(n.host, n.total.gpu, n.total.memory) for n in nodes] == [("gpu-worker", 4, 16384), ("cpu-worker", 0, 8192)]
    assert parse_nodes({"nodes": None}) == []
    nested = {"scheduler": {"schedulerInfo": {"type": "capacityScheduler", "queueName": "root", "queues": {"queue": [
        {"queueName": "a", "queues": {"queue": [{"queueName": "a1", "absoluteCapacity": 5.0}]}},
        {"queueName": "b", "absoluteCapacity": 95.0}]}}}}
    assert [(q.name, q.capacity) for q in parse_scheduler(nested)] == [("a1", 5.0), ("b", 95.0)]
    with pytest.raises(Exception, match="CapacityScheduler"):
        parse_scheduler({"scheduler": {"schedulerInfo": {"type": "fifoScheduler"}}})


def _app(state, final):
    return AppReport(state, final, 1, 2, 3, None, None, None)


@pytest.mark.parametrize("service, app, stop, expected", [
    (None, None, False, "WAITING"),
    (ServiceReport("ACCEPTED", None), None, False, "WAITING"),
    (ServiceReport("STARTED", "a", {"c": []}), _app("RUNNING", "UNDEFINED"), False, "WAITING"),
    (ServiceReport("STABLE", "a", {"c": [ContainerReport(0, "x", "READY", None, None, None, None)]}),
     _app("RUNNING", "UNDEFINED"), False, "RUNNING"),
    (ServiceReport("STABLE", "a", {"c": [ContainerReport(0, "x", "READY", None, None, None, None)]}),
     _app("RUNNING", "UNDEFINED"), True, "STOPPING"),
    (ServiceReport("STOPPED", "a"), _app("FINISHED", "SUCCEEDED"), False, "SUCCEEDED"),
    (ServiceReport("STOPPED", "a"), _app("FINISHED", "FAILED"), False, "FAILED"),
    (ServiceReport("STOPPED", "a"), _app("FINISHED", "ENDED"), True, "STOPPED"),
    (None, _app("KILLED", "KILLED"), True, "STOPPED"),
    (None, _app("KILLED", "KILLED"), False, "FAILED"),
    (ServiceReport("SUCCEEDED", "a"), None, False, "SUCCEEDED"),
    # the spec persisted, its application not submitted yet (ServiceClient reports STOPPED without an id)
    (ServiceReport("STOPPED", None), None, False, "WAITING"),
    (ServiceReport("STOPPED", None), None, True, "STOPPING"),
])
def test_job_state_mapping(service, app, stop, expected):
    assert job_state(service, app, stop)[0] == expected


def test_task_state_mapping():
    assert [task_state(s) for s in ("RUNNING_BUT_UNREADY", "READY", "SUCCEEDED", "FAILED", "STOPPED", "")] == \
        ["RUNNING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "WAITING"]


def test_yarn_names_are_dns_labels():
    name = service_name("Bob_Dev", "My_Job-" + "x" * 300, 1)
    assert len(name) <= 63 and name == name.lower() and "_" not in name
    assert service_name("a", "b", 1) != service_name("a", "b", 2)
    comps = component_names(["Worker_A", "worker_a", "ps"])
    assert comps == {"Worker_A": "worker-a", "worker_a": "worker-a-1", "ps": "ps"}


NM_WRAPPED = ("Container: container_1_0002_01_000002 on lab-gpu-worker:39219\n"
              "LogAggregationType: LOCAL\n" + "=" * 20 + "\n"
              "LogType:stdout.txt\nLogLastModifiedTime:Fri Dec 04 19:37:33 +0000 2026\nLogLength:{n}\n"
              "LogContents:\n{body}End of LogType:stdout.txt.\n" + "*" * 20 + "\n\n")


@pytest.mark.parametrize("body, expected", [
    ("no-nvidia-smi\nportal-job-done\n", "no-nvidia-smi\nportal-job-done\n"),
    ("no newline at the end\n", "no newline at the end"),   # LogLength says the file ends without one
    ("", ""),
    ("a line mentioning End of LogType:x.\nlast\n", "a line mentioning End of LogType:x.\nlast\n"),
])
def test_nodemanager_log_wrapper_is_removed(body, expected):
    n = len(expected.encode())
    assert unwrap_nm_log(NM_WRAPPED.format(n=n, body=body)) == expected


def test_unwrapped_log_text_is_kept():
    assert unwrap_nm_log("plain output\nContainer: not a header\n") == "plain output\nContainer: not a header\n"
