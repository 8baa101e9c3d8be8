"""The platform-services model (plugins/module_utils/services.py): the service table and
its start order, the image table (registry, mirror, offline bundle with SHA256SUMS), and
the Prometheus configuration and alert rules, checked by Debian's promtool when present."""

from __future__ import annotations

import copy
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from paictl import inventory

from ansible_collections.openpai.cluster.plugins.filter.services import FilterModule
from ansible_collections.openpai.cluster.plugins.module_utils import services
from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")


def default_table(**extra):
    """The role's default service table, templated as a play would see it."""
    from ansible.template import Templar

    variables = dict(inventory.role_defaults("services"))
    variables.update(extra)
    return Templar(loader=None, variables=variables).template(variables["services_table"])


def entry(name, prerequisites=(), **over):
    item = {"name": name, "node_group": "pai_master", "kind": "Deployment", "ports": {"http": 8000},
            "image": {"registry": "docker.io", "name": "openpai/" + name, "tag": "1.0"},
            "prerequisites": list(prerequisites), "readiness": {"type": "http", "port": "http", "path": "/"}}
    item.update(over)
    return item


# ---------------------------------------------------------------- the table

def test_the_default_table_is_valid_and_complete():
    table = default_table()
    assert services.service_problems(table) == []
    by_name = services.services_by_name(table)
    assert set(by_name) == {"pylon", "prometheus", "node-exporter", "gpu-exporter", "alertmanager",
                            "rest-server", "webportal"}
    assert {n: e["ports"] for n, e in by_name.items()} == {
        "pylon": {"http": 80}, "prometheus": {"web": 9091}, "node-exporter": {"metrics": 9100},
        "gpu-exporter": {"metrics": 9102}, "alertmanager": {"web": 9093}, "rest-server": {"http": 9186},
        "webportal": {"http": 9286}}
    assert {n: (e["node_group"], e["kind"]) for n, e in by_name.items()} == {
        "pylon": ("pai_master", "Deployment"), "prometheus": ("pai_master", "Deployment"),
        "node-exporter": ("all", "DaemonSet"), "gpu-exporter": ("gpu", "DaemonSet"),
        "alertmanager": ("pai_master", "Deployment"), "rest-server": ("pai_master", "Deployment"),
        "webportal": ("pai_master", "Deployment")}
    assert default_table(pylon_port=8080)[-1]["ports"] == {"http": 8080}


def test_default_start_order_puts_prerequisites_first():
    order = services.start_order(default_table())
    assert order == ["node-exporter", "gpu-exporter", "alertmanager", "prometheus", "rest-server", "webportal",
                     "pylon"]
    assert services.stop_order(default_table()) == list(reversed(order))


def test_a_selection_starts_what_it_needs():
    table = default_table()
    assert services.start_order(table, ["prometheus"]) == ["node-exporter", "gpu-exporter", "alertmanager",
                                                           "prometheus"]
    assert services.start_order(table, "webportal") == ["rest-server", "webportal"]
    assert services.start_order(table, ["alertmanager", "node-exporter"]) == ["node-exporter", "alertmanager"]
    assert services.stop_order(table, ["prometheus", "pylon"]) == ["pylon", "prometheus"]


def test_order_follows_prerequisites_not_table_order():
    table = [entry("c", ["b"]), entry("b", ["a"]), entry("a"), entry("d")]
    assert services.start_order(table) == ["a", "b", "c", "d"]


def test_a_cycle_is_refused_naming_its_services():
    table = [entry("a", ["c"]), entry("b", ["a"]), entry("c", ["b"]), entry("d", ["a"]), entry("e")]
    problems = services.service_problems(table)
    assert len(problems) == 1
    assert problems[0].startswith("services: prerequisite cycle: ")
    cycle = problems[0].split(": ", 2)[2].split(" -> ")
    assert set(cycle) == {"a", "b", "c"} and cycle[0] == cycle[-1]
    with pytest.raises(ModelError, match="prerequisite cycle"):
        services.start_order(table, ["e"])


def test_unknown_prerequisites_are_one_message():
    problems = services.service_problems([entry("a", ["ghost"]), entry("b", ["a", "phantom"])])
    assert problems == ["services: unknown prerequisite(s): a needs ghost; b needs phantom"]


def test_an_unknown_selection_is_refused():
    with pytest.raises(ModelError, match=r"unknown service\(s\): grafana \(known: "):
        services.start_order(default_table(), ["grafana", "prometheus"])


def test_every_bad_field_is_named():
    bad = entry("Bad_Name", node_group="gpus", kind="StatefulSet", ports={"http": 70000},
                image={"registry": "docker.io", "name": "Openpai/X", "tag": ""},
                readiness={"type": "http", "port": "web", "path": "healthz"})
    problems = services.service_problems([bad, entry("ok"), entry("ok")])
    assert "services[0].name: 'Bad_Name' is not a DNS label (lowercase letters, digits, '-')" in problems
    assert "services[0].node_group: 'gpus' is not one of pai_master, all, gpu" in problems
    assert "services[0].kind: 'StatefulSet' is not one of Deployment, DaemonSet" in problems
    assert "services[0].ports.http: 70000 is not a TCP port" in problems
    assert "services[0].image.name: 'Openpai/X' is not an image repository name" in problems
    assert "services[0].image.tag: '' is not an image tag" in problems
    assert "services[0].readiness.port: 'web' is not one of the service's ports" in problems
    assert "services[0].readiness.path: must start with '/'" in problems
    assert "services[2] (ok).name: duplicate name" in problems
    assert services.service_problems([]) == ["services: must be a non-empty list"]


def test_filters_turn_model_errors_into_filter_errors():
    from ansible.errors import AnsibleFilterError

    filters = FilterModule().filters()
    assert filters["services_start_order"](default_table(), ["pylon"])[-1] == "pylon"
    with pytest.raises(AnsibleFilterError, match="prerequisite cycle: a -> a"):
        filters["services_start_order"]([entry("a", ["a"])])


def test_service_hosts_from_node_groups():
    groups = {"kube_control_plane": ["m"], "kube_node": ["w1", "w2"], "pai_master": ["m"], "pai_worker": ["w1", "w2"]}
    by_name = services.services_by_name(default_table())
    assert services.service_hosts(by_name["pylon"], groups, ["w1"]) == ["m"]
    assert services.service_hosts(by_name["node-exporter"], groups, ["w1"]) == ["m", "w1", "w2"]
    assert services.service_hosts(by_name["gpu-exporter"], groups, ["w1"]) == ["w1"]


# ---------------------------------------------------------------- images

def test_image_references_for_registry_and_mirror():
    table = default_table()
    plan = {i["service"]: i for i in services.image_plan(table)}
    assert plan["prometheus"]["ref"] == "docker.io/openpai/prometheus:0.1.0"
    assert plan["prometheus"]["file"] == "openpai_prometheus_0.1.0.tar"
    assert plan["prometheus"]["controller_path"] is None
    mirrored = {i["service"]: i["ref"] for i in services.image_plan(table, "mirror", "mirror.example.edu.cn:5000/pai/")}
    assert mirrored["pylon"] == "mirror.example.edu.cn:5000/pai/openpai/pylon:0.1.0"
    with pytest.raises(ModelError, match="services_image_mirror: required"):
        services.image_plan(table, "mirror")
    with pytest.raises(ModelError, match="services_image_source: 'ftp' is not one of registry, mirror, bundle"):
        services.image_plan(table, "ftp")
    with pytest.raises(ModelError, match="services_bundle_dir: required"):
        services.image_plan(table, "bundle")


@pytest.fixture
def bundle(tmp_path):
    """An offline bundle of the default table's image tarballs with a matching SHA256SUMS."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    lines = []
    for item in services.image_plan(default_table()):
        data = ("tarball of %s\n" % item["ref"]).encode()
        (folder / item["file"]).write_bytes(data)
        lines.append("%s  %s" % (hashlib.sha256(data).hexdigest(), item["file"]))
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return folder


def test_a_matching_bundle_is_accepted(bundle):
    assert services.check_bundle(default_table(), str(bundle)) == []
    plan = services.image_plan(default_table(), "bundle", bundle_dir=str(bundle),
                               bundle_sums=services.parse_sha256sums((bundle / "SHA256SUMS").read_text()))
    assert all(i["sha256"] and i["controller_path"].startswith(str(bundle)) for i in plan)


def test_a_wrong_missing_or_unlisted_tarball_is_refused_one_line_each(bundle):
    (bundle / "openpai_pylon_0.1.0.tar").write_bytes(b"tampered\n")
    (bundle / "openpai_prometheus_0.1.0.tar").unlink()
    sums = [line for line in (bundle / "SHA256SUMS").read_text().splitlines()
            if not line.endswith("openpai_webportal_0.1.0.tar")]
    (bundle / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    problems = services.check_bundle(default_table(), str(bundle))
    tampered = hashlib.sha256(b"tampered\n").hexdigest()
    assert len(problems) == 3
    assert "%s/openpai_pylon_0.1.0.tar: SHA-256 %s does not match" % (bundle, tampered) in problems[2]
    assert "%s/openpai_prometheus_0.1.0.tar: missing" % bundle in problems
    assert "openpai_webportal_0.1.0.tar: not listed in %s/SHA256SUMS" % bundle in problems


def test_a_bundle_without_sums_lists_every_tarball(bundle):
    (bundle / "SHA256SUMS").unlink()
    problems = services.check_bundle(default_table(), str(bundle))
    assert len(problems) == 7 and all(": not listed in " in p for p in problems)


def test_bundle_problems_from_stat_results():
    plan = services.image_plan([entry("a"), entry("b")], "bundle", bundle_dir="/b",
                               bundle_sums={"openpai_a_1.0.tar": "0" * 64})
    assert services.bundle_problems(plan, {"/b/openpai_a_1.0.tar": "0" * 64, "/b/openpai_b_1.0.tar": "1" * 64}) == [
        "openpai_b_1.0.tar: not listed in SHA256SUMS"]


# ---------------------------------------------------------------- Prometheus

HOSTS = [
    {"name": "pai-master", "address": "10.10.0.1", "gpu_count": 0,
     "groups": ["kube_control_plane", "pai_master"]},
    {"name": "pai-worker1", "address": "10.10.0.2", "gpu_count": 4, "groups": ["kube_node", "pai_worker"]},
    {"name": "pai-worker2", "address": "10.10.0.3", "gpu_count": 0, "groups": ["kube_node", "pai_worker"]},
]


def test_hadoop_prometheus_names_follow_hadoop():
    # The cases of Hadoop's own TestPrometheusMetricsSink, then the ones the rules use.
    assert services.hadoop_prometheus_name("RpcTime", "SomeMetrics") == "rpc_time_some_metrics"
    assert services.hadoop_prometheus_name("OMRpcTime", "OMInfoKeys") == "om_rpc_time_om_info_keys"
    assert services.hadoop_prometheus_name("RpcTime", "small") == "rpc_time_small"
    assert services.hadoop_prometheus_name("JvmMetrics", "GcCountG1 Old Generation") == \
        "jvm_metrics_gc_count_g1_old_generation"
    assert services.hadoop_prometheus_name(
        "org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl", "DfsUsed") == \
        "org_apache_hadoop_hdfs_server_datanode_fsdataset_impl_fs_dataset_impl_dfs_used"
    assert services.DATANODES_DEAD == "fs_namesystem_num_dead_data_nodes"
    assert services.NODEMANAGERS_LOST == "cluster_metrics_num_lost_n_ms"


def _jobs(config):
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_scrape_jobs_from_the_inventory():
    config = services.prometheus_config(HOSTS)
    jobs = _jobs(config)
    assert set(jobs) == {"prometheus", "node-exporter", "gpu-exporter", "yarn-resourcemanager", "hdfs-namenode",
                         "kubernetes-apiserver"}
    assert [c["targets"][0] for c in jobs["node-exporter"]["static_configs"]] == [
        "10.10.0.1:9100", "10.10.0.2:9100", "10.10.0.3:9100"]
    assert jobs["gpu-exporter"]["static_configs"] == [{"targets": ["10.10.0.2:9102"],
                                                       "labels": {"node_name": "pai-worker1"}}]
    assert jobs["yarn-resourcemanager"]["metrics_path"] == "/prom"
    assert jobs["yarn-resourcemanager"]["static_configs"][0]["targets"] == ["10.10.0.1:8088"]
    assert jobs["hdfs-namenode"]["static_configs"][0]["targets"] == ["10.10.0.1:50070"]
    assert jobs["kubernetes-apiserver"]["scheme"] == "https"
    assert jobs["kubernetes-apiserver"]["static_configs"][0]["targets"] == ["10.10.0.1:6443"]
    assert jobs["prometheus"]["metrics_path"] == "/prometheus/metrics"
    assert config["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": ["10.10.0.1:9093"]}],
                                                    "path_prefix": "/alertmanager"}]
    assert "kubernetes_sd_configs" not in yaml.safe_dump(config)


def test_no_gpu_nodes_no_gpu_job_and_settings_override():
    hosts = copy.deepcopy(HOSTS)
    hosts[1]["gpu_count"] = 0
    config = services.prometheus_config(hosts, {"node_exporter_port": 19100, "scrape_interval": "15s"})
    assert "gpu-exporter" not in _jobs(config)
    assert _jobs(config)["node-exporter"]["static_configs"][0]["targets"] == ["10.10.0.1:19100"]
    assert config["global"]["scrape_interval"] == "15s"
    assert "openpai-expected" not in [g["name"] for g in services.alert_rules(hosts)["groups"]]


def test_bad_hosts_and_settings_are_named():
    with pytest.raises(ModelError) as info:
        services.prometheus_config([{"name": "a", "gpu_count": -1}, {"name": "b", "address": "10.0.0.2"}])
    assert str(info.value) == ("host a: no address (set ansible_host or openpai_address); "
                               "host a.gpu_count: -1 is not a GPU count")
    with pytest.raises(ModelError, match=r"services_prometheus: unknown setting\(s\) scrape_intervall"):
        services.prometheus_config(HOSTS, {"scrape_intervall": "1m"})


def test_alert_rules_cover_the_issue():
    rules = services.alert_rules(HOSTS)
    expected = rules["groups"][0]["rules"]
    assert expected == [{"record": "openpai_node_expected_gpus", "expr": "vector(4)",
                         "labels": {"node_name": "pai-worker1"}}]
    alerts = {r["alert"]: r for r in rules["groups"][1]["rules"]}
    assert set(alerts) == {"NodeDown", "GpuCountBelowSku", "GpuExporterDown", "GpuReadFailing", "DiskAlmostFull",
                           "NodeManagerLost", "HdfsDataNodeDead"}
    assert alerts["HdfsDataNodeDead"]["expr"] == "fs_namesystem_num_dead_data_nodes > 0"
    assert alerts["NodeManagerLost"]["expr"] == "cluster_metrics_num_lost_n_ms > 0"


def _write_prometheus_files(tmp_path, hosts=HOSTS):
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("t\n")
    ca.write_text("")
    rules = tmp_path / "rules" / "openpai.yml"
    rules.parent.mkdir()
    settings = {"apiserver_token_file": str(token), "apiserver_ca_file": str(ca),
                "rule_files": [str(tmp_path / "rules" / "*.yml")]}
    rules.write_text(yaml.safe_dump(services.alert_rules(hosts, settings), sort_keys=False))
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(services.prometheus_config(hosts, settings), sort_keys=False))
    return config, rules


@needs_promtool
def test_promtool_checks_the_config_and_rules(tmp_path):
    config, rules = _write_prometheus_files(tmp_path)
    res = subprocess.run([PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 1 rule files found" in res.stdout + res.stderr
    res = subprocess.run([PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 8 rules found" in res.stdout + res.stderr


@needs_promtool
def test_promtool_refuses_kubernetes_sd(tmp_path):
    # Why the generator uses static_configs: Debian's Prometheus has no Kubernetes discovery.
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"scrape_configs": [{"job_name": "k", "kubernetes_sd_configs": [
        {"role": "node"}]}]}))
    res = subprocess.run([PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0


RULE_TEST = """\
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{{job="node-exporter", instance="10.10.0.3:9100", node_name="pai-worker2"}}'
        values: '1 1 0x15'
      - series: 'up{{job="node-exporter", instance="10.10.0.2:9100", node_name="pai-worker1"}}'
        values: '1x17'
      - series: 'nvidiasmi_attached_gpus{{job="gpu-exporter", instance="10.10.0.2:9102", node_name="pai-worker1"}}'
        values: '4 4 3x15'
    alert_rule_test:
      - eval_time: 3m
        alertname: NodeDown
        exp_alerts: []
      - eval_time: 6m
        alertname: NodeDown
        exp_alerts:
          - exp_labels: {{severity: critical, job: node-exporter, instance: "10.10.0.3:9100", node_name: pai-worker2}}
            exp_annotations:
              summary: "Node pai-worker2 (10.10.0.3:9100) is down: its node-exporter does not answer"
      - eval_time: 4m
        alertname: GpuCountBelowSku
        exp_alerts: []
      - eval_time: 10m
        alertname: GpuCountBelowSku
        exp_alerts:
          - exp_labels: {{severity: critical, job: gpu-exporter, instance: "10.10.0.2:9102", node_name: pai-worker1}}
            exp_annotations:
              summary: "Node pai-worker1 sees 3 GPU(s), fewer than its SKU's"
"""


@needs_promtool
def test_promtool_proves_node_down_and_gpu_count_fire(tmp_path):
    _, rules = _write_prometheus_files(tmp_path)
    test_file = tmp_path / "test.yml"
    test_file.write_text(RULE_TEST.format(rules=rules))
    res = subprocess.run([PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    # And the rule test does fail when the SKU says 3 GPUs (nothing below it).
    hosts = copy.deepcopy(HOSTS)
    hosts[1]["gpu_count"] = 3
    three = tmp_path / "three"
    three.mkdir()
    _, rules = _write_prometheus_files(three, hosts)
    test_file.write_text(RULE_TEST.format(rules=rules))
    res = subprocess.run([PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "GpuCountBelowSku" in res.stdout + res.stderr


# ---------------------------------------------------------------- the role, run by ansible-playbook

PLAYBOOK = """\
- hosts: node1
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: openpai.cluster.services
    - ansible.builtin.debug:
        msg: "IMAGES {{ services_images | map(attribute='sha256') | select | length }}"
"""


def run_role(tmp_path, **variables):
    import os
    import sys

    root = Path(__file__).resolve().parents[2]
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"node1": {}}, "vars": dict(
        {"ansible_python_interpreter": sys.executable}, **variables)}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=str(root / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(root / "collections"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook)],
                          env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=600)


def test_the_role_accepts_a_matching_bundle_and_refuses_a_bad_one(tmp_path, bundle):
    res = run_role(tmp_path, services_image_source="bundle", services_bundle_dir=str(bundle))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "IMAGES 7" in res.stdout
    (bundle / "openpai_pylon_0.1.0.tar").write_bytes(b"tampered\n")
    (bundle / "openpai_prometheus_0.1.0.tar").unlink()
    res = run_role(tmp_path, services_image_source="bundle", services_bundle_dir=str(bundle))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Offline image bundle refused:" in out
    assert "%s/openpai_prometheus_0.1.0.tar: missing" % bundle in out
    assert "%s/openpai_pylon_0.1.0.tar: SHA-256 %s does not match" % (
        bundle, hashlib.sha256(b"tampered\n").hexdigest()) in out
    assert "Traceback" not in out


def test_the_role_refuses_a_cycle_in_the_table(tmp_path):
    table = [entry("a", ["b"]), entry("b", ["a"])]
    res = run_role(tmp_path, services_table=table)
    assert res.returncode != 0
    assert "services_table: services: prerequisite cycle: a -> b -> a" in res.stdout
