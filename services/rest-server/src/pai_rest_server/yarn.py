"""The YARN layer: what the server needs from YARN (an interface), the ResourceManager REST client that
provides it (cluster scheduler and nodes, application reports, the YARN Services API), the service spec of a
job, and the mapping of YARN states to OpenPAI states."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .protocol import JobProtocol, role_script

GPU = "yarn.io/gpu"


class YarnError(Exception):
    """YARN could not be reached or answered unexpectedly."""


class YarnRejected(YarnError):
    """YARN refused a request (4xx); the message is YARN's diagnostics."""


@dataclass
class Resources:
    """Memory (MB), vcores and GPUs."""

    memory: int = 0
    vcores: int = 0
    gpu: int = 0

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(self.memory + other.memory, self.vcores + other.vcores, self.gpu + other.gpu)


@dataclass
class Queue:
    """A CapacityScheduler leaf queue: percentages are absolute (of the whole cluster)."""

    name: str
    capacity: float
    max_capacity: float
    used_capacity: float
    state: str
    num_applications: int
    num_active: int
    num_pending: int
    partition: str
    used: Resources


@dataclass
class Node:
    """A NodeManager as the RM reports it."""

    host: str
    http_address: str
    state: str
    labels: list[str]
    total: Resources
    used: Resources = field(default_factory=Resources)


@dataclass
class ContainerReport:
    """One component instance of a YARN service."""

    index: int
    container_id: str | None
    state: str
    ip: str | None
    hostname: str | None
    bare_host: str | None
    launch_ms: int | None


@dataclass
class ServiceReport:
    """What the Services API says about a service."""

    state: str
    app_id: str | None
    components: dict[str, list[ContainerReport]] = field(default_factory=dict)
    diagnostics: str | None = None


@dataclass
class AppReport:
    """What the RM says about an application."""

    state: str
    final_status: str
    started_ms: int | None
    launched_ms: int | None
    finished_ms: int | None
    diagnostics: str | None
    tracking_url: str | None
    progress: float | None


class YarnBackend(Protocol):
    """What the REST server needs from YARN."""

    def queues(self) -> list[Queue]: ...

    def nodes(self) -> list[Node]: ...

    def submit_service(self, spec: dict[str, Any]) -> str | None: ...

    def service(self, name: str) -> ServiceReport | None: ...

    def app(self, app_id: str) -> AppReport | None: ...

    def stop(self, name: str, app_id: str | None) -> None: ...

    def start(self, name: str) -> None: ...

    def container_log(self, node: str, container_id: str, file: str, tail_bytes: int | None) -> str | None: ...


def _num(value: Any, default: float = 0.0) -> float:
    """A number from JSON, tolerating strings and null."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def parse_resources(obj: Any) -> Resources:
    """A Hadoop 3 ResourceInfo (``memory``, ``vCores``, ``resourceInformations``) as Resources."""
    if not isinstance(obj, dict):
        return Resources()
    gpu = 0
    infos = (obj.get("resourceInformations") or {}).get("resourceInformation") or []
    for info in infos if isinstance(infos, list) else []:
        if isinstance(info, dict) and info.get("name") == GPU:
            gpu = int(_num(info.get("value")))
    return Resources(int(_num(obj.get("memory"))), int(_num(obj.get("vCores"))), gpu)


def _leaf_queues(queue: dict[str, Any]) -> list[dict[str, Any]]:
    """Every leaf queue below ``queue`` (depth first)."""
    children = (queue.get("queues") or {}).get("queue") or []
    if isinstance(children, dict):
        children = [children]
    if not children:
        return [queue]
    return [leaf for child in children for leaf in _leaf_queues(child)]


def parse_scheduler(doc: dict[str, Any]) -> list[Queue]:
    """The leaf queues of a ``/ws/v1/cluster/scheduler`` answer (CapacityScheduler only)."""
    info = (doc.get("scheduler") or {}).get("schedulerInfo") or {}
    if info.get("type") != "capacityScheduler":
        raise YarnError(f"the RM runs {info.get('type') or 'an unknown'} scheduler; the CapacityScheduler is needed")
    out = []
    for q in _leaf_queues(info):
        out.append(Queue(
            name=str(q.get("queueName")),
            capacity=_num(q.get("absoluteCapacity", q.get("capacity"))),
            max_capacity=_num(q.get("absoluteMaxCapacity", q.get("maxCapacity")), 100.0),
            used_capacity=_num(q.get("absoluteUsedCapacity", q.get("usedCapacity"))),
            state=str(q.get("state") or "RUNNING"),
            num_applications=int(_num(q.get("numApplications"))),
            num_active=int(_num(q.get("numActiveApplications"))),
            num_pending=int(_num(q.get("numPendingApplications"))),
            partition=str(q.get("defaultNodeLabelExpression") or ""),
            used=parse_resources(q.get("resourcesUsed")),
        ))
    return out


def parse_nodes(doc: dict[str, Any]) -> list[Node]:
    """The nodes of a ``/ws/v1/cluster/nodes`` answer (``"nodes": null`` when there are none)."""
    nodes = (doc.get("nodes") or {}).get("node") or []
    out = []
    for n in nodes if isinstance(nodes, list) else [nodes]:
        total = parse_resources(n.get("totalResource"))
        if total.memory == 0 and total.vcores == 0:
            total = parse_resources(n.get("usedResource")) + parse_resources(n.get("availableResource"))
            if total.memory == 0:
                total = Resources(int(_num(n.get("usedMemoryMB")) + _num(n.get("availMemoryMB"))),
                                  int(_num(n.get("usedVirtualCores")) + _num(n.get("availableVirtualCores"))), 0)
        used = parse_resources(n.get("usedResource"))
        if used.memory == 0 and used.vcores == 0:
            used = Resources(int(_num(n.get("usedMemoryMB"))), int(_num(n.get("usedVirtualCores"))), used.gpu)
        out.append(Node(host=str(n.get("nodeHostName") or ""), http_address=str(n.get("nodeHTTPAddress") or ""),
                        state=str(n.get("state") or ""), labels=[str(x) for x in n.get("nodeLabels") or []],
                        total=total, used=used))
    return out


_INSTANCE_RE = re.compile(r"-(\d+)$")


def parse_service(doc: dict[str, Any]) -> ServiceReport:
    """A Services API ``GET /app/v1/services/{name}`` answer."""
    comps: dict[str, list[ContainerReport]] = {}
    for comp in doc.get("components") or []:
        name = str(comp.get("name"))
        reports = []
        for c in comp.get("containers") or []:
            m = _INSTANCE_RE.search(str(c.get("component_instance_name") or ""))
            if m is None:
                continue
            launch = c.get("launch_time")
            reports.append(ContainerReport(
                index=int(m.group(1)), container_id=c.get("id"), state=str(c.get("state") or ""),
                ip=c.get("ip"), hostname=c.get("hostname"), bare_host=c.get("bare_host"),
                launch_ms=int(launch) if isinstance(launch, (int, float)) else None))
        comps[name] = reports
    return ServiceReport(state=str(doc.get("state") or ""), app_id=doc.get("id"), components=comps,
                         diagnostics=doc.get("diagnostics"))


def parse_app(doc: dict[str, Any]) -> AppReport:
    """An RM ``GET /ws/v1/cluster/apps/{id}`` answer."""
    app = doc.get("app") or {}

    def _ms(key: str) -> int | None:
        value = int(_num(app.get(key)))
        return value or None

    return AppReport(state=str(app.get("state") or ""), final_status=str(app.get("finalStatus") or ""),
                     started_ms=_ms("startedTime"), launched_ms=_ms("launchTime"), finished_ms=_ms("finishedTime"),
                     diagnostics=app.get("diagnostics") or None, tracking_url=app.get("trackingUrl"),
                     progress=_num(app.get("progress")) if app.get("progress") is not None else None)


class ResourceManagerClient:
    """YarnBackend over the RM's REST API and its Services API (``/app/v1``), as ``user.name=<yarn_user>``."""

    def __init__(self, base_url: str, yarn_user: str, timeout_s: float = 15.0,
                 transport: httpx.BaseTransport | None = None, submit_timeout_s: float = 120.0,
                 nm_webapp_port: int = 8042):
        self.yarn_user = yarn_user
        self.nm_webapp_port = nm_webapp_port
        self.submit_timeout_s = max(submit_timeout_s, timeout_s)
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                 headers={"Accept": "application/json"})

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def _call(self, method: str, path: str, json_body: Any = None, timeout_s: float | None = None) -> httpx.Response:
        """One request with ``user.name``; transport failures become YarnError."""
        extra: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            return self.http.request(method, path, params={"user.name": self.yarn_user}, json=json_body, **extra)
        except httpx.HTTPError as exc:
            raise YarnError(f"ResourceManager {method} {path}: {type(exc).__name__}: {exc}") from None

    def _json(self, method: str, path: str, json_body: Any = None, missing_ok: bool = False) -> dict[str, Any] | None:
        resp = self._call(method, path, json_body)
        if missing_ok and resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise YarnError(f"ResourceManager {method} {path}: HTTP {resp.status_code}: {_diagnostics(resp)}")
        try:
            return json_object(resp)
        except ValueError as exc:
            raise YarnError(f"ResourceManager {method} {path}: {exc}") from None

    def queues(self) -> list[Queue]:
        return parse_scheduler(self._json("GET", "/ws/v1/cluster/scheduler") or {})

    def nodes(self) -> list[Node]:
        return parse_nodes(self._json("GET", "/ws/v1/cluster/nodes") or {})

    def submit_service(self, spec: dict[str, Any]) -> str | None:
        # The RM writes the spec (and, without a dependency tarball, every jar) to HDFS before it answers.
        resp = self._call("POST", "/app/v1/services", spec, timeout_s=self.submit_timeout_s)
        if 400 <= resp.status_code < 500:
            raise YarnRejected(_diagnostics(resp))
        if resp.status_code >= 300:
            raise YarnError(f"ResourceManager POST /app/v1/services: HTTP {resp.status_code}: {_diagnostics(resp)}")
        m = re.search(r"application_\d+_\d+", resp.text)
        return m.group(0) if m else None

    def service(self, name: str) -> ServiceReport | None:
        doc = self._json("GET", f"/app/v1/services/{name}", missing_ok=True)
        return None if doc is None else parse_service(doc)

    def app(self, app_id: str) -> AppReport | None:
        doc = self._json("GET", f"/ws/v1/cluster/apps/{app_id}", missing_ok=True)
        return None if doc is None else parse_app(doc)

    def start(self, name: str) -> None:
        resp = self._call("PUT", f"/app/v1/services/{name}", {"state": "STARTED"})
        if resp.status_code >= 300:
            raise YarnError(f"ResourceManager: cannot start service {name}: HTTP {resp.status_code}: "
                            f"{_diagnostics(resp)}")

    def stop(self, name: str, app_id: str | None) -> None:
        resp = self._call("PUT", f"/app/v1/services/{name}", {"state": "STOPPED"})
        if resp.status_code < 300:
            return
        if app_id is None:
            if resp.status_code == 404:
                return
            raise YarnError(f"ResourceManager: cannot stop service {name}: HTTP {resp.status_code}")
        kill = self._call("PUT", f"/ws/v1/cluster/apps/{app_id}/state", {"state": "KILLED"})
        if kill.status_code >= 300 and kill.status_code != 404:
            raise YarnError(f"ResourceManager: cannot kill {app_id}: HTTP {kill.status_code}: {_diagnostics(kill)}")


    def container_log(self, node: str, container_id: str, file: str, tail_bytes: int | None) -> str | None:
        """A container's log file (its last ``tail_bytes``) from the NodeManager on ``node``; None if it has none."""
        url = f"http://{node}:{self.nm_webapp_port}/ws/v1/node/containerlogs/{container_id}/{file}"
        params: dict[str, Any] = {"user.name": self.yarn_user}
        if tail_bytes is not None:
            params["size"] = -tail_bytes  # NMWebServices: a negative size reads from the end
        try:
            resp = self.http.get(url, params=params, headers={"Accept": "text/plain"})
        except httpx.HTTPError as exc:
            raise YarnError(f"NodeManager {node}: {type(exc).__name__}: {exc}") from None
        if resp.status_code in (400, 404):  # unknown container, or its logs are gone
            return None
        if resp.status_code >= 300:
            raise YarnError(f"NodeManager {node}: GET {container_id}/{file}: HTTP {resp.status_code}: "
                            f"{_diagnostics(resp)}")
        return unwrap_nm_log(resp.text)


def json_object(resp: httpx.Response) -> dict[str, Any]:
    """An answer's JSON object; ValueError saying what it is instead (not JSON, or not an object)."""
    try:
        data = resp.json()
    except ValueError:
        raise ValueError("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data


def unwrap_nm_log(text: str) -> str:
    """The file's own text from a NodeManager ``containerlogs`` answer, which wraps it (Hadoop 3: a
    ``Container:``/``LogType:``/``LogLength:``/``LogContents:`` header, then ``End of LogType:...``);
    a text without that wrapper is returned as it is."""
    if not text.startswith("Container: "):
        return text
    head, sep, body = text.partition("\nLogContents:\n")
    if not sep:
        return text
    length = re.search(r"^LogLength:(\d+)$", head, re.M)
    end = body.rfind("End of LogType:")
    if end < 0:
        return body
    content = body[:end]
    if length is not None and len(content.encode("utf-8")) == int(length.group(1)) + 1 and content.endswith("\n"):
        content = content[:-1]  # the newline the NodeManager adds after a file that has none
    return content


def _diagnostics(resp: httpx.Response) -> str:
    """YARN's reason in an error answer (ServiceStatus.diagnostics, RemoteException.message or text)."""
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip()[:500] or resp.reason_phrase
    if isinstance(data, dict):
        if data.get("diagnostics"):
            return str(data["diagnostics"])
        remote = data.get("RemoteException")
        if isinstance(remote, dict) and remote.get("message"):
            return str(remote["message"])
    return resp.text.strip()[:500]


# --- names -----------------------------------------------------------------------------------------------

def dns_label(text: str, limit: int) -> str:
    """``text`` as a DNS label YARN accepts: lower case letters, digits and inner hyphens, at most ``limit``."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    label = re.sub(r"-{2,}", "-", label)[:limit].strip("-")
    return label or "x"


def service_name(username: str, job_name: str, submission_ms: int, attempt: int = 0) -> str:
    """A unique service name (≤ 63 characters, DNS-like) for one attempt of ``username~job_name``."""
    digest = hashlib.sha256(f"{username}~{job_name}~{submission_ms}~{attempt}".encode()).hexdigest()[:8]
    return f"pai-{dns_label(f'{username}-{job_name}', 50)}-{digest}"


def component_names(roles: list[str]) -> dict[str, str]:
    """A distinct YARN component name (≤ 40 characters, DNS-like) for each task role."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for role in roles:
        base = dns_label(role.replace("_", "-"), 36)
        name, n = base, 1
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        out[role] = name
    return out


# --- the service spec of a job ------------------------------------------------------------------------------

def env_name(role: str) -> str:
    """A task role name as it appears inside environment variable names."""
    return re.sub(r"[^A-Za-z0-9_]", "_", role)


def build_service_spec(job: JobProtocol, username: str, name: str, components: dict[str, str],
                       launcher_command: str, registry_domain: str = "", yarn_user: str = "") -> dict[str, Any]:
    """The Services API body of a job: one component per task role, each instance a container sized by
    ``resourcePerInstance`` (with ``yarn.io/gpu``), running the launcher with the PAI_* environment."""
    roles = list(job.taskRoles)
    common: dict[str, str] = {
        "PAI_JOB_NAME": f"{username}~{job.name}",
        "PAI_USER_NAME": username,
        "PAI_VIRTUAL_CLUSTER": job.virtual_cluster,
        "PAI_TASK_ROLE_LIST": ",".join(roles),
        "PAI_TASK_ROLE_COUNT": str(len(roles)),
        "PAI_JOB_SERVICE_NAME": name,
    }
    for role in roles:
        count = job.taskRoles[role].instances
        comp = components[role]
        common[f"PAI_TASK_ROLE_INSTANCES_{env_name(role)}"] = str(count)
        # Substituted by the service AM for instances it already knows; the launcher drops unresolved ones.
        hosts = [f"${{{comp.upper()}-{i}_HOST}}" for i in range(count)]
        ips = [f"${{{comp.upper()}-{i}_IP}}" for i in range(count)]
        common[f"PAI_TASK_ROLE_{env_name(role)}_HOST_LIST"] = ",".join(hosts)
        common[f"PAI_TASK_ROLE_{env_name(role)}_IP_LIST"] = ",".join(ips)
        if registry_domain:
            user = dns_label(yarn_user.replace("_", "-"), 63)
            common[f"PAI_TASK_ROLE_{env_name(role)}_DNS_LIST"] = ",".join(
                f"{comp}-{i}.{name}.{user}.{registry_domain}" for i in range(count))
    out_components = []
    for role in roles:
        tr = job.taskRoles[role]
        image = job.docker_image(role)
        env = dict(common)
        env.update({
            "PAI_TASK_ROLE_NAME": role,
            "PAI_CURRENT_TASK_ROLE_NAME": role,
            "PAI_TASK_INDEX": "${COMPONENT_ID}",
            "PAI_COMPONENT_INSTANCE_NAME": "${COMPONENT_INSTANCE_NAME}",
            "PAI_CONTAINER_ID": "${CONTAINER_ID}",
            "PAI_DOCKER_IMAGE": str(image.uri),
            "PAI_GPU_COUNT": str(tr.resourcePerInstance.gpu),
            "PAI_CPU_COUNT": str(tr.resourcePerInstance.cpu),
            "PAI_MEMORY_MB": str(tr.resourcePerInstance.memoryMB),
            "PAI_SHM_MB": str(tr.extraContainerOptions.shmMB),
            "PAI_TASK_COMMANDS_B64": base64.b64encode(role_script(job, role).encode()).decode(),
        })
        if image.auth is not None and image.auth.username:
            env["PAI_DOCKER_REGISTRY"] = image.auth.registryuri or ""
            env["PAI_DOCKER_USERNAME"] = image.auth.username
            env["PAI_DOCKER_PASSWORD"] = image.auth.password or ""
        resource: dict[str, Any] = {"cpus": tr.resourcePerInstance.cpu, "memory": str(tr.resourcePerInstance.memoryMB)}
        if tr.resourcePerInstance.gpu > 0:
            resource["additional"] = {GPU: {"value": tr.resourcePerInstance.gpu, "unit": ""}}
        properties: dict[str, str] = {"yarn.service.default-readiness-check.enabled": "false"}
        if tr.taskRetryCount > 0:
            properties["yarn.service.container-failure.retry.max"] = str(tr.taskRetryCount)
            properties["yarn.service.container-failure.retry-interval-ms"] = "5000"
        out_components.append({
            "name": components[role],
            "number_of_containers": tr.instances,
            "launch_command": launcher_command,
            "resource": resource,
            "restart_policy": "ON_FAILURE" if tr.taskRetryCount > 0 else "NEVER",
            "configuration": {"env": env, "properties": properties},
        })
    return {
        "name": name,
        "version": "1",
        "description": f"OpenPAI job {username}~{job.name}",
        "queue": job.virtual_cluster,
        "components": out_components,
        "configuration": {"properties": {"yarn.service.am-restart.max-attempts": "2"}},
    }


# --- states ---------------------------------------------------------------------------------------------------

RUNNING_CONTAINER_STATES = {"RUNNING_BUT_UNREADY", "READY", "STARTED", "NEEDS_UPGRADE", "UPGRADING"}


def task_state(container_state: str) -> str:
    """An OpenPAI task state for a component instance state."""
    if container_state in RUNNING_CONTAINER_STATES:
        return "RUNNING"
    if container_state == "SUCCEEDED":
        return "SUCCEEDED"
    if container_state in {"FAILED", "FAILED_UPGRADE"}:
        return "FAILED"
    if container_state == "STOPPED":
        return "STOPPED"
    return "WAITING"


def job_state(service: ServiceReport | None, app: AppReport | None, stop_requested: bool) -> tuple[str, str]:
    """(OpenPAI state, raw sub-state) from what YARN says.

    The RM's application report decides terminal states (the Services API reports a finished service as
    STOPPED whatever its outcome); while the application runs, the service state and its instances decide
    WAITING vs RUNNING.
    """
    if app is not None and app.state in {"FINISHED", "FAILED", "KILLED"}:
        sub = f"APPLICATION_{app.state}_{app.final_status or 'UNDEFINED'}"
        if stop_requested or app.state == "KILLED" or app.final_status == "KILLED":
            return ("STOPPED" if stop_requested else "FAILED"), sub
        if app.state == "FINISHED" and app.final_status == "SUCCEEDED":
            return "SUCCEEDED", sub
        return "FAILED", sub
    if service is not None and service.app_id is None and app is None and service.state == "STOPPED":
        # The spec is persisted but no application submitted yet (ServiceClient.actionCreate writes the spec
        # first; getStatus then says STOPPED without an id): not an outcome.
        return ("STOPPING" if stop_requested else "WAITING"), "SERVICE_UNSUBMITTED"
    if service is not None:
        sub = f"SERVICE_{service.state or 'UNKNOWN'}"
        if service.state == "SUCCEEDED":
            return "SUCCEEDED", sub
        if service.state == "FAILED":
            return "FAILED", sub
        if service.state == "STOPPED":
            return ("STOPPED" if stop_requested else "FAILED"), sub
        running = any(c.state in RUNNING_CONTAINER_STATES or c.state in {"SUCCEEDED", "FAILED"}
                      for reports in service.components.values() for c in reports)
        state = "RUNNING" if running else "WAITING"
        return ("STOPPING" if stop_requested else state), sub
    if app is not None:
        sub = f"APPLICATION_{app.state}"
        if app.state == "RUNNING":
            return ("STOPPING" if stop_requested else "RUNNING"), sub
        return ("STOPPING" if stop_requested else "WAITING"), sub
    return ("STOPPING" if stop_requested else "WAITING"), "SUBMITTED"
