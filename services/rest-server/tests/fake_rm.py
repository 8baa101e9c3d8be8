"""A fake Hadoop 3.4 ResourceManager for the tests: the RM REST endpoints and the YARN Services API the server
calls, answering with the JSON shapes of Hadoop's DAOs (ResourceManagerRest.md, YarnServiceAPI.md).

Services advance one step each time their status is read: ACCEPTED (no containers) → STARTED (containers
RUNNING_BUT_UNREADY) → STABLE (READY) → instances finish (SUCCEEDED, or FAILED when the role's commands
contain ``exit 1``; never when they contain ``sleep``) → the application FINISHED with SUCCEEDED/FAILED, after
which the Services API reports the service as STOPPED without containers (as ServiceClient does for a
finished application)."""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

CLUSTER_TS = 1700000000000


def resource(memory: int, vcores: int, gpu: int) -> dict[str, Any]:
    """A Hadoop 3 ResourceInfo with resourceInformations (memory-mb, vcores, yarn.io/gpu)."""
    def info(name: str, units: str, value: int) -> dict[str, Any]:
        return {"attributes": {}, "maximumAllocation": 9223372036854775807, "minimumAllocation": 0,
                "name": name, "resourceType": "COUNTABLE", "units": units, "value": value}
    return {"memory": memory, "vCores": vcores, "resourceInformations": {"resourceInformation": [
        info("memory-mb", "Mi", memory), info("vcores", "", vcores), info("yarn.io/gpu", "", gpu)]}}


@dataclass
class FakeService:
    spec: dict[str, Any]
    app_id: str | None  # None between persisting the spec and submitting the application
    user: str
    step: int = 0
    app_state: str = "ACCEPTED"
    final_status: str = "UNDEFINED"
    stopped: bool = False
    apps: list[str] = field(default_factory=list)


class FakeResourceManager:
    """State and an httpx handler; ``transport`` plugs it into the server's RM client."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False
        self.services: dict[str, FakeService] = {}
        self.apps: dict[str, str] = {}  # app id -> service name
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.next_app = 1
        self.reject_next: str | None = None
        # the RM creates the next service but its answer never arrives (a slow submission)
        self.time_out_next_create = False
        # the next create persists the spec, then waits (without holding the RM) until this is set before it
        # submits the application, as ServiceClient.actionCreate does: ``create_held`` says it is waiting
        self.hold_next_create: threading.Event | None = None
        self.create_held = threading.Event()
        # the next create persists the spec and then fails (HTTP 500) before it submits an application
        self.persist_then_fail_next_create = False
        # NodeManagers: the containers whose logs they have (id -> node address), and ids whose logs are gone
        self.container_nodes: dict[str, str] = {}
        self.logs_gone: set[str] = set()
        self.queues = [  # name, capacity (of root), max, gpu used
            ("default", 70.0, 100.0), ("research", 30.0, 50.0)]
        self.nodes = [
            ("gpu-worker", 16384, 8, 4), ("cpu-worker", 8192, 4, 0)]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- helpers -------------------------------------------------------------------------------------------

    def _json(self, status: int, body: Any) -> httpx.Response:
        return httpx.Response(status, json=body)

    def _not_found(self, what: str) -> httpx.Response:
        return self._json(404, {"RemoteException": {"exception": "NotFoundException",
                                                     "message": f"java.lang.Exception: {what} not found",
                                                     "javaClassName": "org.apache.hadoop.yarn.webapp.NotFoundException"}})

    @staticmethod
    def _commands(comp: dict[str, Any]) -> str:
        env = (comp.get("configuration") or {}).get("env") or {}
        return base64.b64decode(env.get("PAI_TASK_COMMANDS_B64", "")).decode()

    def _running(self, svc: FakeService) -> bool:
        return svc.app_state in ("ACCEPTED", "RUNNING")

    def totals(self) -> tuple[int, int, int]:
        return (sum(n[1] for n in self.nodes), sum(n[2] for n in self.nodes), sum(n[3] for n in self.nodes))

    def used(self, queue: str) -> tuple[int, int, int]:
        mem = vc = gpu = 0
        for svc in self.services.values():
            if svc.spec.get("queue", "default") != queue or svc.app_state != "RUNNING" or svc.step < 1:
                continue
            for comp in svc.spec["components"]:
                n = comp["number_of_containers"]
                r = comp["resource"]
                mem += n * int(r["memory"])
                vc += n * int(r["cpus"])
                gpu += n * int(((r.get("additional") or {}).get("yarn.io/gpu") or {}).get("value", 0))
        return mem, vc, gpu

    # --- endpoints -----------------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content) if request.content else None
        params = dict(request.url.params)
        if self.hold_next_create is not None and request.method == "POST" and "user.name" in params:
            return self._held_create(body, params["user.name"])
        with self.lock:
            self.requests.append((request.method, request.url.path, params, body))
            if "user.name" not in params:  # simple auth with anonymous access off (the lab's setting)
                return httpx.Response(401, text="Authentication required")
            if request.url.path.startswith("/ws/v1/node/"):
                return self.node_log(request.url.host, request.url.path, params)
            answer = self._route(request.method, request.url.path, params, body)
            if self.time_out_next_create and request.method == "POST":
                self.time_out_next_create = False
                raise httpx.ReadTimeout("timed out", request=request)
            return answer

    def _route(self, method: str, path: str, params: dict[str, str], body: Any) -> httpx.Response:
        if method == "GET" and path == "/ws/v1/cluster/scheduler":
            return self._json(200, self.scheduler())
        if method == "GET" and path == "/ws/v1/cluster/nodes":
            return self._json(200, self.nodes_doc())
        if method == "POST" and path == "/app/v1/services":
            return self.create(body, params["user.name"])
        m = re.fullmatch(r"/app/v1/services/([^/]+)", path)
        if m and method == "GET":
            return self.get_service(m.group(1))
        if m and method == "PUT":
            return self.put_service(m.group(1), body or {})
        m = re.fullmatch(r"/ws/v1/cluster/apps/(application_\d+_\d+)", path)
        if m and method == "GET":
            return self.get_app(m.group(1))
        m = re.fullmatch(r"/ws/v1/cluster/apps/(application_\d+_\d+)/state", path)
        if m and method == "PUT":
            return self.kill_app(m.group(1))
        return self._not_found(path)

    def scheduler(self) -> dict[str, Any]:
        mem, vc, gpu = self.totals()
        leaves = []
        for name, cap, maxcap in self.queues:
            umem, uvc, ugpu = self.used(name)
            active = sum(1 for s in self.services.values()
                         if s.spec.get("queue") == name and s.app_state == "RUNNING")
            pending = sum(1 for s in self.services.values()
                          if s.spec.get("queue") == name and s.app_state == "ACCEPTED")
            leaves.append({
                "type": "capacitySchedulerLeafQueueInfo", "queueName": name, "queuePath": f"root.{name}",
                "capacity": cap, "usedCapacity": round(100.0 * umem / max(mem * cap / 100, 1), 2),
                "maxCapacity": maxcap, "absoluteCapacity": cap, "absoluteMaxCapacity": maxcap,
                "absoluteUsedCapacity": round(100.0 * umem / mem, 2), "numApplications": active + pending,
                "numActiveApplications": active, "numPendingApplications": pending, "numContainers": 0,
                "state": "RUNNING", "usedResources": f"<memory:{umem}, vCores:{uvc}, yarn.io/gpu: {ugpu}>",
                "resourcesUsed": resource(umem, uvc, ugpu), "nodeLabels": ["*"], "defaultNodeLabelExpression": None,
                "maxApplications": 10000, "userLimit": 100, "userLimitFactor": 1.0, "users": None,
            })
        return {"scheduler": {"schedulerInfo": {
            "type": "capacityScheduler", "capacity": 100.0, "usedCapacity": 0.0, "maxCapacity": 100.0,
            "queueName": "root", "queues": {"queue": leaves}}}}

    def nodes_doc(self) -> dict[str, Any]:
        nodes = []
        for host, mem, vc, gpu in self.nodes:
            nodes.append({
                "rack": "/default-rack", "state": "RUNNING", "id": f"{host}:45454", "nodeHostName": host,
                "nodeHTTPAddress": f"{host}:8042", "lastHealthUpdate": CLUSTER_TS, "version": "3.4.2",
                "healthReport": "", "numContainers": 0, "usedMemoryMB": 0, "availMemoryMB": mem,
                "usedVirtualCores": 0, "availableVirtualCores": vc, "nodeLabels": [],
                "usedResource": resource(0, 0, 0), "availableResource": resource(mem, vc, gpu),
                "totalResource": resource(mem, vc, gpu),
            })
        return {"nodes": {"node": nodes}}

    def create(self, spec: dict[str, Any], user: str) -> httpx.Response:
        if self.reject_next:
            reason, self.reject_next = self.reject_next, None
            return self._json(400, {"diagnostics": reason})
        name = spec.get("name", "")
        if name in self.services:
            return self._json(400, {"diagnostics": f"Service name {name} is already taken."})
        if spec.get("queue") not in [q[0] for q in self.queues]:
            return self._json(400, {"diagnostics": f"Queue {spec.get('queue')} does not exist"})
        if self.persist_then_fail_next_create:
            self.persist_then_fail_next_create = False
            self.services[name] = FakeService(spec=spec, app_id=None, user=user)
            return self._json(500, {"diagnostics": "Failed to create service: the RM went away"})
        app_id = self._new_app()
        self.services[name] = FakeService(spec=spec, app_id=app_id, user=user, apps=[app_id])
        self.apps[app_id] = name
        return self._json(202, {"uri": f"/app/v1/services/{name}",
                                "diagnostics": f"Application ID: {app_id}", "state": "ACCEPTED"})

    def _held_create(self, spec: dict[str, Any], user: str) -> httpx.Response:
        hold, self.hold_next_create = self.hold_next_create, None
        name = spec.get("name", "")
        with self.lock:
            self.requests.append(("POST", "/app/v1/services", {"user.name": user}, spec))
            self.services[name] = FakeService(spec=spec, app_id=None, user=user)
        self.create_held.set()
        assert hold is not None and hold.wait(10), "the test never let the held create go on"
        with self.lock:
            svc = self.services[name]
            svc.app_id = self._new_app()
            svc.apps.append(svc.app_id)
            self.apps[svc.app_id] = name
        return self._json(202, {"uri": f"/app/v1/services/{name}",
                                "diagnostics": f"Application ID: {svc.app_id}", "state": "ACCEPTED"})

    def _new_app(self) -> str:
        app_id = f"application_{CLUSTER_TS}_{self.next_app:04d}"
        self.next_app += 1
        return app_id

    def _instance_state(self, svc: FakeService, comp: dict[str, Any]) -> str:
        if svc.step <= 1:
            return "RUNNING_BUT_UNREADY"
        commands = self._commands(comp)
        if svc.step == 2 or "sleep" in commands:
            return "READY"
        return "FAILED" if "exit 1" in commands else "SUCCEEDED"

    def advance(self, svc: FakeService) -> None:
        """One step of the service's life."""
        if not self._running(svc):
            return
        never_ends = any("sleep" in self._commands(c) for c in svc.spec["components"])
        if never_ends and svc.step >= 2:
            return
        svc.step += 1
        if svc.step == 1:
            svc.app_state = "RUNNING"
        if svc.step >= 4:
            failed = any("exit 1" in self._commands(c) for c in svc.spec["components"])
            svc.app_state, svc.final_status = "FINISHED", ("FAILED" if failed else "SUCCEEDED")

    def get_service(self, name: str) -> httpx.Response:
        svc = self.services.get(name)
        if svc is None:
            return self._json(404, {"diagnostics": f"Service {name} not found", "code": 404})
        if svc.app_id is None:  # spec persisted, no application yet: ServiceClient.getStatus says STOPPED, no id
            return self._json(200, {"name": name, "state": "STOPPED"})
        self.advance(svc)
        if not self._running(svc):
            return self._json(200, {"name": name, "state": "STOPPED", "id": svc.app_id,
                                    "components": [{"name": c["name"], "containers": []}
                                                   for c in svc.spec["components"]]})
        comps = []
        service_state = "ACCEPTED" if svc.step == 0 else ("STARTED" if svc.step == 1 else "STABLE")
        for ci, comp in enumerate(svc.spec["components"]):
            containers = []
            if svc.step >= 1:
                for i in range(comp["number_of_containers"]):
                    host = "gpu-worker" if comp["resource"].get("additional") else "cpu-worker"
                    container_id = f"container_e01_{svc.app_id[12:]}_01_{ci * 100 + i + 2:06d}"
                    self.container_nodes[container_id] = f"10.0.{ci}.{i + 10}"
                    containers.append({
                        "id": container_id,
                        "ip": f"10.0.{ci}.{i + 10}", "hostname": f"{comp['name']}-{i}.{name}.{svc.user}.example",
                        "state": self._instance_state(svc, comp), "launch_time": CLUSTER_TS + 1000,
                        "bare_host": host, "component_instance_name": f"{comp['name']}-{i}"})
            comps.append({"name": comp["name"], "state": "STABLE" if svc.step >= 2 else "FLEXING",
                          "number_of_containers": comp["number_of_containers"], "resource": comp["resource"],
                          "launch_command": comp["launch_command"], "containers": containers,
                          "configuration": comp.get("configuration", {})})
        return self._json(200, {"name": name, "version": svc.spec.get("version"), "id": svc.app_id,
                                "lifetime": -1, "state": service_state, "queue": svc.spec.get("queue"),
                                "components": comps, "configuration": {}, "quicklinks": {}})

    @staticmethod
    def log_text(container_id: str, file: str) -> str:
        """What a container wrote to ``file`` (stdout.txt, stderr.txt): many numbered lines."""
        return "".join(f"{file} of {container_id} line {n}\n" for n in range(2000))

    def node_log(self, host: str, path: str, params: dict[str, str]) -> httpx.Response:
        """NMWebServices ``GET /ws/v1/node/containerlogs/{id}/{file}`` (``size`` < 0: the last bytes)."""
        m = re.fullmatch(r"/ws/v1/node/containerlogs/([^/]+)/([^/]+)", path)
        if m is None:
            return self._not_found(path)
        container_id, file = m.groups()
        if self.container_nodes.get(container_id) != host or container_id in self.logs_gone:
            return self._not_found(f"container {container_id} on {host}")
        if file not in ("stdout.txt", "stderr.txt"):
            return self._not_found(f"log file {file}")
        text = self.log_text(container_id, file)
        size = int(params.get("size", 0))
        if size < 0:
            text = text.encode()[size:].decode()
        return httpx.Response(200, text=text, headers={"Content-Type": "text/plain"})

    def put_service(self, name: str, body: dict[str, Any]) -> httpx.Response:
        svc = self.services.get(name)
        if svc is None:
            return self._json(404, {"diagnostics": f"Service {name} not found", "code": 404})
        if body.get("state") == "STOPPED":
            if self._running(svc):
                svc.stopped = True
                svc.app_state, svc.final_status = "FINISHED", "ENDED"
            return self._json(200, {"diagnostics": f"Service {name} is successfully stopped.", "state": "STOPPED"})
        if body.get("state") == "STARTED":
            if self._running(svc):
                return self._json(400, {"diagnostics": f"Service {name} is already running"})
            svc.app_id = self._new_app()
            svc.apps.append(svc.app_id)
            self.apps[svc.app_id] = name
            svc.step, svc.app_state, svc.final_status, svc.stopped = 0, "ACCEPTED", "UNDEFINED", False
            return self._json(200, {"diagnostics": f"Service {name} is successfully started.", "state": "ACCEPTED"})
        return self._json(400, {"diagnostics": "unsupported update"})

    def get_app(self, app_id: str) -> httpx.Response:
        name = self.apps.get(app_id)
        if name is None:
            return self._not_found(f"app with id: {app_id}")
        svc = self.services[name]
        if app_id != svc.app_id:  # an earlier attempt of a restarted service
            state, final = "FINISHED", "FAILED"
        else:
            state, final = svc.app_state, svc.final_status
        finished = CLUSTER_TS + 60000 if state in ("FINISHED", "FAILED", "KILLED") else 0
        return self._json(200, {"app": {
            "id": app_id, "user": svc.user, "name": name, "queue": svc.spec.get("queue"), "state": state,
            "finalStatus": final, "progress": 100.0 if finished else 50.0, "trackingUI": "ApplicationMaster",
            "trackingUrl": f"http://rm:8088/proxy/{app_id}/", "diagnostics": "",
            "clusterId": CLUSTER_TS, "applicationType": "yarn-service", "applicationTags": "",
            "startedTime": CLUSTER_TS, "launchTime": CLUSTER_TS + 500, "finishedTime": finished,
            "elapsedTime": 60000, "amContainerLogs": f"http://gpu-worker:8042/node/containerlogs/x/{svc.user}",
            "amHostHttpAddress": "gpu-worker:8042", "allocatedMB": -1, "allocatedVCores": -1,
            "runningContainers": -1}})

    def kill_app(self, app_id: str) -> httpx.Response:
        name = self.apps.get(app_id)
        if name is None:
            return self._not_found(f"app with id: {app_id}")
        svc = self.services[name]
        if self._running(svc):
            svc.app_state, svc.final_status = "KILLED", "KILLED"
        return self._json(202, {"state": "KILLED"})
