"""The node view: model, Kubernetes, YARN and HDFS merged per host; each source may fail alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conftest import bearer, create_user, login
from fake_rm import FakeResourceManager
from pai_rest_server.cluster import ClusterSources, ClusterView, parse_namenode_info
from pai_rest_server.yarn import ResourceManagerClient

HOSTS = [
    {"name": "master", "node_name": "master", "address": "10.0.0.1", "sku": "m", "gpu_count": 0, "gpu_model": "",
     "mem_mib": 8192, "vcores": 4, "groups": ["pai_master"]},
    {"name": "gpu-worker", "node_name": "gpu-worker", "address": "10.0.0.2", "sku": "k80", "gpu_count": 4,
     "gpu_model": "Tesla K80", "mem_mib": 16384, "vcores": 8, "groups": ["pai_worker"]},
    {"name": "cpu-worker", "node_name": "cpu-worker", "address": "10.0.0.3", "sku": "cpu", "gpu_count": 0,
     "gpu_model": "", "mem_mib": 8192, "vcores": 4, "groups": ["pai_worker"]},
]


def namenode_doc(live: dict[str, str], dead: dict[str, str]) -> dict[str, Any]:
    def nodes(table: dict[str, str]) -> str:
        return json.dumps({f"{name}:9866": {"xferaddr": f"{addr}:9866"} for name, addr in table.items()})
    return {"beans": [{"name": "Hadoop:service=NameNode,name=NameNodeInfo", "Total": 3000, "Used": 1000,
                       "Free": 1500, "LiveNodes": nodes(live), "DeadNodes": nodes(dead)}]}


def kube_doc(ready: dict[str, bool]) -> dict[str, Any]:
    return {"items": [{"metadata": {"name": n}, "status": {
        "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": str(r)}],
        "addresses": [{"type": "Hostname", "address": n}]}} for n, r in ready.items()]}


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({"cluster": {"master": "master"}, "hosts": HOSTS}), encoding="utf-8")
    return path


class Sources:
    """A NameNode and a Kubernetes API answering from tables, or failing."""

    def __init__(self) -> None:
        self.kube: dict[str, bool] = {"master": True, "gpu-worker": True, "cpu-worker": False}
        self.live = {"gpu-worker": "10.0.0.2"}
        self.dead = {"cpu-worker": "10.0.0.3"}
        self.kube_status = 200
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "nn.test" and request.url.path == "/jmx":
            return httpx.Response(200, json=namenode_doc(self.live, self.dead))
        if request.url.host == "kube.test" and request.url.path == "/api/v1/nodes":
            if self.kube_status != 200:
                return httpx.Response(self.kube_status, json={"kind": "Status", "message": "forbidden"})
            return httpx.Response(200, json=kube_doc(self.kube))
        raise httpx.ConnectError("connection refused", request=request)


def make_view(model_file: Path, sources: Sources, fake_rm: FakeResourceManager, tmp_path: Path,
              **overrides: Any) -> ClusterView:
    token = tmp_path / "token"
    token.write_text("sa-token\n", encoding="utf-8")
    values: dict[str, Any] = dict(cluster_file=str(model_file), hdfs_namenode_url="http://nn.test:9870",
                                  hadoop_user="pai", kubernetes_api_url="https://kube.test:6443",
                                  kubernetes_token_file=str(token), kubernetes_ca_file=str(tmp_path / "no-ca"))
    values.update(overrides)
    backend = ResourceManagerClient("http://rm.test:8088", "pai", transport=fake_rm.transport)
    return ClusterView(ClusterSources(**values), backend, transport=httpx.MockTransport(sources.handle))


def by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in answer["nodes"]}


def test_every_source_merged_per_host(model_file: Path, fake_rm: FakeResourceManager, tmp_path: Path) -> None:
    sources = Sources()
    answer = make_view(model_file, sources, fake_rm, tmp_path).nodes()
    assert answer["problems"] == {}
    nodes = by_name(answer)
    assert list(nodes) == ["master", "gpu-worker", "cpu-worker"]
    gpu = nodes["gpu-worker"]
    assert (gpu["sku"], gpu["gpuModel"], gpu["gpuCount"], gpu["memoryMB"], gpu["vcores"]) == \
        ("k80", "Tesla K80", 4, 16384, 8)
    assert gpu["kubernetes"] == {"ready": True}
    assert gpu["yarn"]["state"] == "RUNNING" and gpu["yarn"]["gpu"] == {"total": 4, "used": 0}
    assert gpu["yarn"]["memoryMB"] == {"total": 16384, "used": 0}
    assert gpu["hdfs"] == {"datanode": "live"}
    assert nodes["cpu-worker"]["kubernetes"] == {"ready": False}
    assert nodes["cpu-worker"]["hdfs"] == {"datanode": "dead"}
    # the master runs no NodeManager and no DataNode
    assert nodes["master"]["yarn"] is None and nodes["master"]["hdfs"] == {"datanode": None}
    assert answer["hdfs"] == {"capacityBytes": 3000, "usedBytes": 1000, "remainingBytes": 1500,
                              "liveDataNodes": 1, "deadDataNodes": 1}
    # the token goes to Kubernetes only, the Hadoop user to the NameNode only
    kube = [r for r in sources.requests if r.url.host == "kube.test"]
    assert kube[0].headers["authorization"] == "Bearer sa-token"
    nn = [r for r in sources.requests if r.url.host == "nn.test"]
    assert "authorization" not in nn[0].headers and nn[0].url.params["user.name"] == "pai"


def test_a_failing_source_leaves_its_columns_empty(model_file: Path, fake_rm: FakeResourceManager,
                                                   tmp_path: Path) -> None:
    sources = Sources()
    sources.kube_status = 403
    fake_rm.down = True
    answer = make_view(model_file, sources, fake_rm, tmp_path, hdfs_namenode_url="http://gone.test:9870").nodes()
    assert set(answer["problems"]) == {"kubernetes", "yarn", "hdfs"}
    assert "HTTP 403" in answer["problems"]["kubernetes"]
    assert "ConnectError" in answer["problems"]["hdfs"]
    nodes = by_name(answer)
    assert nodes["gpu-worker"]["kubernetes"] == {"ready": None}
    assert nodes["gpu-worker"]["yarn"] is None and nodes["gpu-worker"]["hdfs"] == {"datanode": None}
    assert nodes["gpu-worker"]["gpuCount"] == 4  # the model still answers
    assert answer["hdfs"] is None


def test_without_a_model_the_nodemanagers_are_the_nodes(fake_rm: FakeResourceManager, tmp_path: Path) -> None:
    view = make_view(tmp_path / "missing.yaml", Sources(), fake_rm, tmp_path)
    answer = view.nodes()
    assert "model" in answer["problems"] and "missing.yaml" in answer["problems"]["model"]
    nodes = by_name(answer)
    assert set(nodes) == {"gpu-worker", "cpu-worker"}
    assert nodes["gpu-worker"]["gpuCount"] == 4 and nodes["gpu-worker"]["kubernetes"] == {"ready": True}


def test_a_missing_token_is_a_problem_not_an_error(model_file: Path, fake_rm: FakeResourceManager,
                                                   tmp_path: Path) -> None:
    view = make_view(model_file, Sources(), fake_rm, tmp_path, kubernetes_token_file=str(tmp_path / "none"))
    answer = view.nodes()
    assert "service-account token" in answer["problems"]["kubernetes"]


def test_namenode_info_tolerates_empty_tables() -> None:
    capacity, states = parse_namenode_info({"beans": [{"Total": 0, "LiveNodes": "{}", "DeadNodes": ""}]})
    assert capacity["liveDataNodes"] == 0 and states == {}


def test_endpoint_needs_a_login_and_answers_any_user(make_client: Any, model_file: Path) -> None:
    client = make_client(cluster_file=str(model_file))
    assert client.get("/api/v2/cluster/nodes").status_code == 401
    admin = bearer(login(client)["token"])
    student = create_user(client, admin, "student", ["default"])
    for headers in (admin, student):
        resp = client.get("/api/v2/cluster/nodes", headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert [n["name"] for n in body["nodes"]] == ["master", "gpu-worker", "cpu-worker"]
        assert body["problems"]["kubernetes"].startswith("Kubernetes: not configured")
        assert body["problems"]["hdfs"].startswith("HDFS: not configured")
        # through pylon's prefix too
        assert client.get("/rest-server/api/v2/cluster/nodes", headers=headers).status_code == 200


def test_a_source_answering_no_json_object_is_named(model_file: Path, fake_rm: FakeResourceManager,
                                                    tmp_path: Path) -> None:
    class Odd(Sources):
        def handle(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "nn.test":
                return httpx.Response(200, text="<html>login</html>")
            if request.url.host == "kube.test":
                return httpx.Response(200, json=[1, 2])
            return super().handle(request)

    answer = make_view(model_file, Odd(), fake_rm, tmp_path).nodes()
    assert answer["problems"]["hdfs"] == "NameNode: the answer is not JSON"
    assert answer["problems"]["kubernetes"] == "Kubernetes: the answer is not a JSON object"
