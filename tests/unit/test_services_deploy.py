"""The platform services on Kubernetes (plugins/module_utils/services_deploy.py): the
active table, what a config push changes, the admin password's stable hash, and each
service's state read back from Deployments, DaemonSets and pods."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.openpai.cluster.plugins.filter.services_deploy import FilterModule
from ansible_collections.openpai.cluster.plugins.module_utils import services, services_deploy as sd
from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError


def entry(name, prerequisites=(), kind="Deployment", node_group="pai_master"):
    return {"name": name, "node_group": node_group, "kind": kind, "ports": {"http": 8000},
            "image": {"registry": "docker.io", "name": "openpai/" + name, "tag": "1.0"},
            "prerequisites": list(prerequisites), "readiness": {"type": "http", "port": "http", "path": "/"}}


TABLE = [entry("rest-server"), entry("webportal", ["rest-server"]), entry("pylon", ["webportal", "rest-server"]),
         entry("node-exporter", kind="DaemonSet", node_group="all")]


def test_disabled_services_leave_the_table_and_the_prerequisites():
    active = sd.active_table(TABLE, ["webportal"])
    assert [e["name"] for e in active] == ["rest-server", "pylon", "node-exporter"]
    assert active[1]["prerequisites"] == ["rest-server"]
    assert services.start_order(active, ["pylon"]) == ["rest-server", "pylon"]
    assert TABLE[2]["prerequisites"] == ["webportal", "rest-server"]  # the input is not changed


def test_disabled_names_the_table_lacks_are_ignored_but_not_everything():
    assert sd.active_table(TABLE, ["grafana"]) == TABLE
    with pytest.raises(ModelError, match="every service is disabled"):
        sd.active_table(TABLE, [e["name"] for e in TABLE])


def test_changed_keys_added_changed_removed():
    assert sd.changed_keys({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "x", "d": "4"}) == ["b", "c", "d"]
    assert sd.changed_keys({"a": "1"}, {"a": "1"}) == []
    assert sd.changed_keys(None, {"a": "1"}) == ["a"]


def test_password_hash_is_kept_for_the_same_password_and_renewed_for_another():
    first = sd.password_hash("s3cret-pw")
    assert first.startswith("pbkdf2_sha256$") and "s3cret-pw" not in first
    assert sd.verify_password("s3cret-pw", first) and not sd.verify_password("other-pw", first)
    assert sd.password_hash("s3cret-pw", first) == first            # a second push changes nothing
    other = sd.password_hash("other-pw", first)
    assert other != first and sd.verify_password("other-pw", other)
    assert sd.password_hash("s3cret-pw") != first                   # salted
    assert not sd.verify_password("x", "garbage") and not sd.verify_password("x", "md5$1$a$b")
    with pytest.raises(ModelError, match="openpai_admin_password"):
        sd.password_hash("")


def test_secret_data_round_trip():
    data = sd.b64_data({"token-secret": "abc", "admin-password": "p\u00e4ss"})
    assert data["token-secret"] == "YWJj"
    assert sd.decoded_data({"data": data}) == {"token-secret": "abc", "admin-password": "p\u00e4ss"}
    assert sd.decoded_data(None) == {} and sd.decoded_data({}) == {}


def deployment(name, replicas=1, ready=1, updated=1, generation=2, observed=2, image="img:1"):
    return {"kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}, "generation": generation},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": image}]}}},
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": updated}}


def daemonset(name, desired=2, ready=2, updated=2, selector=None):
    return {"kind": "DaemonSet", "metadata": {"name": name, "labels": {"app": name}, "generation": 1},
            "spec": {"template": {"spec": {"nodeSelector": selector or {}, "containers": [{"image": "ne:1"}]}}},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": desired, "numberReady": ready,
                       "updatedNumberScheduled": updated}}


def pod(app, node, ready=True, waiting=None, unscheduled=None):
    status = {"phase": "Running" if ready or not unscheduled else "Pending", "conditions": [],
              "containerStatuses": [{"name": app, "ready": ready, "state": {"running": {}}}]}
    if waiting:
        status["containerStatuses"][0]["state"] = {"waiting": {"reason": waiting, "message": "back-off 10s"}}
    if unscheduled:
        status["containerStatuses"] = []
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "message": unscheduled}]
    return {"metadata": {"name": app + "-x", "labels": {"app": app}}, "spec": {"nodeName": node}, "status": status}


def test_workload_readiness():
    assert sd.workload_ready(deployment("a"))
    assert not sd.workload_ready(deployment("a", ready=0))
    assert not sd.workload_ready(deployment("a", observed=1))       # the new generation not seen yet
    assert not sd.workload_ready(deployment("a", replicas=0, ready=0, updated=0))   # stopped
    assert sd.workload_ready(daemonset("n"))
    assert not sd.workload_ready(daemonset("n", ready=1))
    assert sd.workload_ready(daemonset("n", desired=0, ready=0, updated=0))        # no GPU node: nothing to run
    assert not sd.workload_ready(daemonset("n", selector={sd.STOPPED_LABEL: "true"}))
    assert not sd.workload_ready(None) and not sd.workload_ready({})
    fresh = daemonset("n")
    fresh["status"] = {}                       # just created: the controller has not counted its pods
    assert not sd.workload_ready(fresh)


def test_status_of_every_service_with_node_image_and_reason():
    table = sd.active_table(TABLE, ["webportal"])
    plan = services.image_plan(table)
    workloads = [deployment("rest-server", image="docker.io/openpai/rest-server:1.0"),
                 deployment("pylon", ready=0), daemonset("node-exporter")]
    pods = [pod("rest-server", "m1"), pod("pylon", "m1", ready=False, waiting="CrashLoopBackOff"),
            pod("node-exporter", "w2"), pod("node-exporter", "m1")]
    status = sd.service_status(table, workloads, pods, plan)
    assert list(status) == ["rest-server", "pylon", "node-exporter"]
    assert status["rest-server"] == {"ready": True, "node": "m1", "image": "docker.io/openpai/rest-server:1.0",
                                     "kind": "Deployment", "reason": ""}
    assert status["pylon"]["ready"] is False
    assert "pod pylon-x on m1: container pylon CrashLoopBackOff: back-off 10s" in status["pylon"]["reason"]
    assert status["node-exporter"]["node"] == "m1,w2" and status["node-exporter"]["ready"] is True
    lines = sd.status_lines(status)
    assert len(lines) == 3 and "NOT READY" in lines[1] and "CrashLoopBackOff" in lines[1]


def test_status_of_missing_unscheduled_and_stopped_services():
    table = [entry("prometheus"), entry("alertmanager"), entry("node-exporter", kind="DaemonSet", node_group="all")]
    plan = services.image_plan(table)
    workloads = [deployment("prometheus", ready=0, updated=0),
                 deployment("alertmanager", replicas=0, ready=0, updated=0)]
    pods = [pod("prometheus", None, ready=False, unscheduled="0/3 nodes are available: node(s) didn't match")]
    status = sd.service_status(table, workloads, pods, plan)
    assert status["prometheus"]["node"] is None
    assert "not scheduled (0/3 nodes are available" in status["prometheus"]["reason"]
    assert status["alertmanager"]["reason"] == "stopped (0 replicas)"
    assert status["node-exporter"] == {"ready": False, "node": None, "image": "docker.io/openpai/node-exporter:1.0",
                                       "kind": "DaemonSet", "reason": "not deployed (no DaemonSet node-exporter)"}
    stopped = sd.service_status(table[2:], [daemonset("node-exporter", selector={sd.STOPPED_LABEL: "true"},
                                                      desired=0, ready=0, updated=0)], [], plan)
    assert stopped["node-exporter"]["ready"] is False and stopped["node-exporter"]["reason"] == "stopped"


def test_terminating_pods_do_not_count():
    table = [entry("pylon")]
    gone = pod("pylon", "m1")
    gone["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert sd.service_status(table, [], [gone])["pylon"]["node"] is None


def test_node_images_follow_the_node_groups():
    table = [entry("pylon"), entry("node-exporter", kind="DaemonSet", node_group="all"),
             entry("gpu-exporter", kind="DaemonSet", node_group="gpu")]
    plan = services.image_plan(table, "bundle", bundle_dir="/b", bundle_sums={})
    groups = {"kube_control_plane": ["m"], "kube_node": ["g", "c"], "pai_master": ["m"]}
    names = {h: [i["service"] for i in sd.node_images(plan, table, h, groups, ["g"])] for h in ("m", "g", "c")}
    assert names == {"m": ["pylon", "node-exporter"], "g": ["node-exporter", "gpu-exporter"], "c": ["node-exporter"]}


def test_filters_turn_model_errors_into_filter_errors():
    from ansible.errors import AnsibleFilterError

    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="every service is disabled"):
        filters["services_active_table"](copy.deepcopy(TABLE), [e["name"] for e in TABLE])
    assert filters["services_workload_ready"](deployment("a"))


def test_settings_problems_name_each_variable_and_never_the_password():
    assert sd.settings_problems({"openpai_admin_password": "s3cret-pw"}) == []
    assert sd.settings_problems({"openpai_admin_password": "s3cret-pw", "openpai_admin_username": "root.admin",
                                 "pylon_port": "8080"}) == []
    problems = sd.settings_problems({"openpai_admin_username": "bad name", "pylon_port": 0})
    assert [p.split(":")[0] for p in problems] == ["openpai_admin_password", "openpai_admin_username", "pylon_port"]
    assert "not set" in problems[0] and "vault" in problems[0]
    short = sd.settings_problems({"openpai_admin_password": "pw123"})
    assert short == ["openpai_admin_password: must be a string of at least 6 characters"]
    assert sd.settings_problems({"openpai_admin_password": 1234567}) == short
    for port in (True, "80a", 65536, -1, None):
        assert [p.split(":")[0] for p in sd.settings_problems({"openpai_admin_password": "s3cret-pw",
                                                                "pylon_port": port})] == ["pylon_port"], port
