"""The cluster's nodes as one view (``GET /api/v2/cluster/nodes``, for the web portal).

Four sources, each read once per request and each allowed to fail alone (its
columns are then ``null`` and ``problems`` says why, never an error answer):

- the cluster model (``cluster.yaml`` of the ConfigMap, ``cluster_file``): every
  host with its address, SKU, GPU model and count, memory and vcores, groups;
- Kubernetes (``kubernetes_api_url``, the pod's service-account token): Ready;
- YARN (the ResourceManager): the NodeManager's state and its use;
- HDFS (``hdfs_namenode_url``, the NameNode's JMX): live or dead DataNode, capacity.

Hosts are matched across sources by any of their names or their address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import httpx
import yaml

from .yarn import Node, YarnBackend, YarnError, json_object

log = logging.getLogger(__name__)

NAMENODE_INFO = "Hadoop:service=NameNode,name=NameNodeInfo"


class SourceError(Exception):
    """One source of the view could not be read (the message says which and why)."""


@dataclass(frozen=True)
class ClusterSources:
    """Where the view's sources are; an empty URL or path is a source not configured."""

    cluster_file: str = ""
    hdfs_namenode_url: str = ""
    hadoop_user: str = "pai"
    kubernetes_api_url: str = ""
    kubernetes_token_file: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    kubernetes_ca_file: str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    timeout_s: float = 10.0


def _host(address: str) -> str:
    """``host`` of ``host:port``."""
    return address.rsplit(":", 1)[0] if ":" in address else address


def read_model_hosts(path: str) -> list[dict[str, Any]]:
    """The hosts of the cluster model file (``hosts:`` of cluster.yaml)."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"cluster model {path}: {type(exc).__name__}: {exc}") from None
    hosts = doc.get("hosts") if isinstance(doc, dict) else None
    if not isinstance(hosts, list):
        raise SourceError(f"cluster model {path}: no list of hosts")
    return [h for h in hosts if isinstance(h, dict) and h.get("name")]


def parse_namenode_info(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """HDFS capacity and each DataNode's state (``live``/``dead``, keyed by host name and by address)
    from a NameNode ``/jmx?qry=...NameNodeInfo`` answer."""
    beans = doc.get("beans") or []
    bean = beans[0] if isinstance(beans, list) and beans and isinstance(beans[0], dict) else None
    if bean is None:
        raise SourceError("NameNode: no NameNodeInfo in its JMX answer")
    states: dict[str, str] = {}
    counts = {"live": 0, "dead": 0}
    for key, state in (("LiveNodes", "live"), ("DeadNodes", "dead")):
        raw = bean.get(key) or "{}"
        try:
            nodes = yaml.safe_load(raw) if isinstance(raw, str) else raw
        except yaml.YAMLError:
            nodes = {}
        for name, info in (nodes or {}).items() if isinstance(nodes, dict) else []:
            counts[state] += 1
            states[_host(str(name))] = state
            if isinstance(info, dict) and info.get("xferaddr"):
                states[_host(str(info["xferaddr"]))] = state
    capacity = {
        "capacityBytes": int(bean.get("Total") or 0),
        "usedBytes": int(bean.get("Used") or 0),
        "remainingBytes": int(bean.get("Free") or 0),
        "liveDataNodes": counts["live"],
        "deadDataNodes": counts["dead"],
    }
    return capacity, states


def parse_kubernetes_nodes(doc: dict[str, Any]) -> dict[str, bool]:
    """Each Kubernetes node's Ready condition, keyed by node name and by its addresses."""
    ready: dict[str, bool] = {}
    for item in doc.get("items") or []:
        if not isinstance(item, dict):
            continue
        status = item.get("status") or {}
        is_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in status.get("conditions") or [] if isinstance(c, dict))
        name = str((item.get("metadata") or {}).get("name") or "")
        if name:
            ready[name] = is_ready
        for addr in status.get("addresses") or []:
            if isinstance(addr, dict) and addr.get("address"):
                ready[str(addr["address"])] = is_ready
    return ready


class ClusterView:
    """Builds the node view from the sources; ``transport`` is for tests."""

    def __init__(self, sources: ClusterSources, backend: YarnBackend,
                 transport: httpx.BaseTransport | None = None):
        self.sources = sources
        self.backend = backend
        self.transport = transport

    def _get_json(self, what: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            with httpx.Client(timeout=self.sources.timeout_s, transport=self.transport,
                              verify=kwargs.pop("verify", True)) as client:
                resp = client.get(url, **kwargs)
        except (httpx.HTTPError, OSError) as exc:
            raise SourceError(f"{what}: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 300:
            raise SourceError(f"{what}: HTTP {resp.status_code}")
        try:
            return json_object(resp)
        except ValueError as exc:
            raise SourceError(f"{what}: {exc}") from None

    def _kubernetes(self) -> dict[str, bool]:
        s = self.sources
        if not s.kubernetes_api_url:
            raise SourceError("Kubernetes: not configured (kubernetes_api_url)")
        try:
            token = Path(s.kubernetes_token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SourceError(f"Kubernetes: cannot read the service-account token: {exc.strerror}") from None
        verify: Any = s.kubernetes_ca_file if Path(s.kubernetes_ca_file).is_file() else True
        doc = self._get_json("Kubernetes", s.kubernetes_api_url.rstrip("/") + "/api/v1/nodes",
                             headers={"Authorization": f"Bearer {token}"}, verify=verify)
        return parse_kubernetes_nodes(doc)

    def _hdfs(self) -> tuple[dict[str, Any], dict[str, str]]:
        s = self.sources
        if not s.hdfs_namenode_url:
            raise SourceError("HDFS: not configured (hdfs_namenode_url)")
        doc = self._get_json("NameNode", s.hdfs_namenode_url.rstrip("/") + "/jmx",
                             params={"qry": NAMENODE_INFO, "user.name": s.hadoop_user})
        return parse_namenode_info(doc)

    def _yarn(self) -> list[Node]:
        try:
            return self.backend.nodes()
        except YarnError as exc:
            raise SourceError(f"YARN: {exc}") from None

    def _model(self) -> list[dict[str, Any]]:
        if not self.sources.cluster_file:
            raise SourceError("cluster model: not configured (cluster_file)")
        return read_model_hosts(self.sources.cluster_file)

    def nodes(self) -> dict[str, Any]:
        """The answer of ``GET /api/v2/cluster/nodes``."""
        problems: dict[str, str] = {}

        def attempt(name: str, read: Callable[[], Any]) -> Any:
            try:
                return read()
            except SourceError as exc:
                log.warning("cluster view: %s", exc)
                problems[name] = str(exc)
                return None

        model = attempt("model", self._model) or []
        ready = attempt("kubernetes", self._kubernetes)
        yarn_nodes = attempt("yarn", self._yarn)
        hdfs = attempt("hdfs", self._hdfs)
        capacity, datanodes = hdfs if hdfs is not None else (None, None)

        by_key: dict[str, Node] = {}
        for n in yarn_nodes or []:
            for key in (n.host, _host(n.http_address)):
                if key:
                    by_key.setdefault(key, n)

        out: list[dict[str, Any]] = []
        seen: set[int] = set()

        def lookup(table: dict[str, Any] | None, keys: list[str]) -> Any:
            if table is None:
                return None
            return next((table[k] for k in keys if k in table), None)

        def row(keys: list[str], base: dict[str, Any]) -> dict[str, Any]:
            nm = next((by_key[k] for k in keys if k in by_key), None)
            if nm is not None:
                seen.add(id(nm))
            yarn = None if nm is None else {
                "state": nm.state,
                "memoryMB": {"total": nm.total.memory, "used": nm.used.memory},
                "vcores": {"total": nm.total.vcores, "used": nm.used.vcores},
                "gpu": {"total": nm.total.gpu, "used": nm.used.gpu},
            }
            base.update({
                "kubernetes": {"ready": lookup(ready, keys)},
                "yarn": yarn,
                "hdfs": {"datanode": lookup(datanodes, keys)},
            })
            return base

        for h in model:
            keys = [str(k) for k in (h.get("node_name"), h.get("name"), h.get("address")) if k]
            out.append(row(keys, {
                "name": str(h.get("name")),
                "address": str(h.get("address") or ""),
                "sku": h.get("sku"),
                "roles": [str(g) for g in h.get("groups") or []],
                "gpuModel": str(h.get("gpu_model") or ""),
                "gpuCount": int(h.get("gpu_count") or 0),
                "memoryMB": h.get("mem_mib"),
                "vcores": h.get("vcores"),
            }))
        # NodeManagers the model does not list (a node added outside the inventory).
        for n in yarn_nodes or []:
            if id(n) in seen:
                continue
            seen.add(id(n))
            keys = [k for k in (n.host, _host(n.http_address)) if k]
            out.append(row(keys, {"name": n.host, "address": _host(n.http_address), "sku": None, "roles": [],
                                  "gpuModel": "", "gpuCount": n.total.gpu, "memoryMB": None, "vcores": None}))
        return {"nodes": out, "hdfs": capacity, "problems": problems}
