"""Jobs: submit to YARN, keep the record, follow YARN (the source of truth), stop, list."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import yaml
from sqlalchemy import asc, delete, desc, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .auth import Caller
from .db import TERMINAL_STATES, Job, User
from .errors import ApiError, forbidden, invalid_parameters
from .protocol import JobProtocol, invalid, masked
from .settings import Settings
from .vcs import largest_fit
from .yarn import (AppReport, ServiceReport, YarnBackend, YarnError, YarnRejected, build_service_spec,
                   component_names, job_state, service_name, task_state)

log = logging.getLogger("pai_rest_server")

EXIT_STOPPED = -7351
EXIT_TASK_STOPPED = -7400
LOST_AFTER_MS = 300_000
ORDER_FIELDS = {
    "jobName": Job.name, "submissionTime": Job.submission_ms, "username": Job.username,
    "vc": Job.virtual_cluster, "retries": Job.retries, "totalTaskNumber": Job.total_tasks,
    "totalGpuNumber": Job.total_gpu, "state": Job.state, "completionTime": Job.completed_ms,
}
MAX_LIMIT = 50000


# The task log files the API serves: name -> the file the task's container writes in its log directory.
LOG_FILES = {"stdout": "stdout.txt", "stderr": "stderr.txt"}
MAX_LOG_TAIL = 16 * 1024 * 1024


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


def yarn_unavailable(exc: YarnError) -> ApiError:
    """503 when YARN cannot be asked (not the caller's fault, and not a 500)."""
    return ApiError(503, "YarnUnavailableError", f"YARN is not reachable now: {exc}")


class JobService:
    """Job operations over the records and a YarnBackend."""

    def __init__(self, sessions: sessionmaker[Session], backend: YarnBackend, settings: Settings):
        self.sessions = sessions
        self.backend = backend
        self.settings = settings
        # one lock per job (by its service name, known before the record is), held by its submission, a stop
        # or a refresh; a stop waits for it, a refresh answers the stored record instead
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    # --- submit ---------------------------------------------------------------------------------------------

    def submit(self, caller: Caller, raw: dict[str, Any], job: JobProtocol) -> Job:
        """Record and submit a job; 409 on a duplicate name, 400/403 for VC problems, 503 without YARN."""
        with self.sessions() as s:
            if s.scalar(select(Job.id).where(Job.username == caller.username, Job.name == job.name)) is not None:
                raise ApiError(409, "ConflictJobError", f"Job name {caller.username}~{job.name} already exists.")
            user = s.get(User, caller.username)
        vc = job.virtual_cluster
        try:
            queues = {q.name: q for q in self.backend.queues()}
            nodes = self.backend.nodes()
        except YarnError as exc:
            raise yarn_unavailable(exc) from None
        if vc not in queues:
            raise ApiError(400, "NoVirtualClusterError", f"Virtual cluster {vc} is not found.")
        if not caller.admin and (user is None or vc not in (user.virtual_clusters or [])):
            raise forbidden(f"User {caller.username} is not allowed to do operation in {vc}.")
        if nodes:
            problems = []
            for role, tr in job.taskRoles.items():
                r = tr.resourcePerInstance
                fits, big = largest_fit(nodes, queues[vc].partition, r.cpu, r.memoryMB, r.gpu)
                if not fits:
                    problems.append(
                        f"taskRoles.{role}.resourcePerInstance: no node of virtual cluster {vc} can hold cpu {r.cpu}, "
                        f"memoryMB {r.memoryMB}, gpu {r.gpu} (largest node: cpu {big.vcores}, memoryMB {big.memory}, "
                        f"gpu {big.gpu})")
            if problems:
                raise invalid(problems)
        submitted = now_ms()
        name = service_name(caller.username, job.name, submitted)
        with self._locks[name]:
            # Held until the application id is recorded: the RM persists the spec before it submits the
            # application, and a refresh in between would read that as a stopped service.
            return self._record_and_submit(caller, raw, job, vc, submitted, name)

    def _record_and_submit(self, caller: Caller, raw: dict[str, Any], job: JobProtocol, vc: str, submitted: int,
                           name: str) -> Job:
        gpus, tasks, roles = job.totals()
        stored = masked(raw)
        record = Job(
            username=caller.username, name=job.name, virtual_cluster=vc,
            config_yaml=yaml.safe_dump(stored, sort_keys=False, allow_unicode=True), protocol=stored,
            service_name=name,
            components=component_names(list(job.taskRoles)), state="WAITING", sub_state="SUBMITTED",
            execution_type="START", retries=0, job_retry_count=job.jobRetryCount, submission_ms=submitted,
            total_gpu=gpus, total_tasks=tasks, total_task_roles=roles, tasks={}, tags=[])
        try:
            with self.sessions.begin() as s:
                s.add(record)
        except IntegrityError:
            raise ApiError(409, "ConflictJobError", f"Job name {caller.username}~{job.name} already exists.") from None
        try:
            app_id = self._submit_attempt(record, job)
        except YarnError as exc:
            if not isinstance(exc, YarnRejected) and self._service_exists(record.service_name):
                # The RM took the job but its answer did not arrive: keep the record, reconciling follows it.
                log.warning("job %s: %s; YARN has service %s, so the job stands", record.full_name, exc,
                            record.service_name)
                return record
            with self.sessions.begin() as s:
                s.execute(delete(Job).where(Job.id == record.id))
            if isinstance(exc, YarnRejected):
                raise invalid([f"YARN refused the job: {exc}"]) from None
            raise yarn_unavailable(exc) from None
        with self.sessions.begin() as s:
            row = s.get(Job, record.id)
            row.app_id = app_id
            record = row
        log.info("job %s submitted as YARN service %s (%s)", record.full_name, record.service_name, app_id)
        return record

    def _service_exists(self, name: str) -> bool:
        """Whether YARN knows service ``name`` (False when it cannot be asked either)."""
        try:
            return self.backend.service(name) is not None
        except YarnError:
            return False

    def _submit_attempt(self, record: Job, job: JobProtocol) -> str | None:
        """POST the service of one attempt; the application id if YARN says it."""
        spec = build_service_spec(job, record.username, record.service_name, record.components,
                                  self.settings.launcher_command, self.settings.registry_domain,
                                  self.settings.yarn_user)
        return self.backend.submit_service(spec)

    # --- read ---------------------------------------------------------------------------------------------------

    def get(self, full_name: str) -> Job:
        """The record of ``user~name``; 404 NoJobError."""
        username, sep, name = full_name.partition("~")
        if not sep or not username or not name:
            raise ApiError(404, "NoJobError", f"Job {full_name} is not found.")
        with self.sessions() as s:
            job = s.scalar(select(Job).where(Job.username == username, Job.name == name))
        if job is None:
            raise ApiError(404, "NoJobError", f"Job {full_name} is not found.")
        return job

    def list(self, params: dict[str, str]) -> list[Job] | tuple[int, list[Job]]:
        """Records matching the query of ``GET /jobs``; (total, page) with ``withTotalCount=true``."""
        query = select(Job)

        def _csv(key: str) -> list[str]:
            return [x for x in (params.get(key) or "").split(",") if x]

        if _csv("username"):
            query = query.where(Job.username.in_(_csv("username")))
        if _csv("vc"):
            query = query.where(Job.virtual_cluster.in_(_csv("vc")))
        if _csv("state"):
            query = query.where(Job.state.in_(_csv("state")))
        keyword = params.get("keyword")
        if keyword:
            query = query.where(or_(Job.name.contains(keyword, autoescape=True),
                                    Job.username.contains(keyword, autoescape=True),
                                    Job.virtual_cluster.contains(keyword, autoescape=True)))
        offset = _int_param(params, "offset", 0, 0, None)
        limit = _int_param(params, "limit", 5000, 1, MAX_LIMIT)
        order = params.get("order") or "submissionTime,DESC"
        field_name, _, direction = order.partition(",")
        direction = (direction or "ASC").upper()
        if field_name not in ORDER_FIELDS or direction not in ("ASC", "DESC"):
            raise invalid_parameters(f"order: must be <field>,ASC|DESC with field one of {', '.join(ORDER_FIELDS)}")
        with_total = params.get("withTotalCount", "false").lower()
        if with_total not in ("true", "false"):
            raise invalid_parameters("withTotalCount: must be true or false")
        column = ORDER_FIELDS[field_name]
        sort = asc(column) if direction == "ASC" else desc(column)
        with self.sessions() as s:
            rows = list(s.scalars(query.order_by(sort, asc(Job.id))))
        rows = _tag_filter(rows, _csv("tagsContain"), _csv("tagsNotContain"))
        page = rows[offset:offset + limit]
        return (len(rows), page) if with_total == "true" else page

    # --- follow YARN ----------------------------------------------------------------------------------------------

    def refresh(self, job: Job) -> Job:
        """Bring a non-terminal record up to date with YARN; on YARN errors the record stays as it was.

        While the job's submission, stop or another refresh is in flight, the stored record is the answer:
        a reader never waits for YARN's answer to somebody else (a submission may take the whole submit
        timeout), and the RM is not asked between persisting a spec and starting its application."""
        if job.state in TERMINAL_STATES:
            return job
        lock = self._locks[job.service_name]
        if not lock.acquire(blocking=False):
            with self.sessions() as s:
                return s.get(Job, job.id) or job
        try:
            with self.sessions() as s:
                current = s.get(Job, job.id)
            if current is None or current.state in TERMINAL_STATES:
                return current or job  # gone (its submission failed) or finished meanwhile
            job = current
            try:
                return self._refresh_locked(job)
            except YarnError as exc:
                log.warning("job %s: cannot read YARN state: %s", job.full_name, exc)
                return job
        finally:
            lock.release()

    def _refresh_locked(self, job: Job) -> Job:
        service = self.backend.service(job.service_name)
        app_id = job.app_id or (service.app_id if service else None)
        app = self.backend.app(app_id) if app_id else None
        stop = job.execution_type == "STOP"
        state, sub = job_state(service, app, stop)
        tasks = self._tasks(job, service) if service is not None and service.components else dict(job.tasks or {})
        diagnostics = app.diagnostics if app else (service.diagnostics if service else None)
        lost = self._lost(job, service, app, app_id, sub)
        if lost is not None:
            state, sub, diagnostics = ("STOPPED" if stop else "FAILED"), "YARN_LOST", lost
        elif state in ("RUNNING", "WAITING") and service is not None:
            decided = self._completion(job, tasks)
            if decided is not None:
                state, sub, diagnostics = decided
                try:
                    self.backend.stop(job.service_name, app_id)
                except YarnError as exc:
                    log.warning("job %s: cannot stop the rest of service %s: %s", job.full_name, job.service_name, exc)
        with self.sessions.begin() as s:
            row = s.get(Job, job.id)
            row.app_id = app_id
            row.sub_state = sub
            row.tasks = tasks
            if app is not None:
                row.tracking_url = app.tracking_url
                row.progress = app.progress
                row.launched_ms = row.launched_ms or app.launched_ms or app.started_ms
            if state == "RUNNING" and row.launched_ms is None:
                row.launched_ms = now_ms()
            if state in TERMINAL_STATES:
                self._finish(row, state, app.finished_ms if app else None, diagnostics)
            else:
                row.state = state
            job = row
        if job.state == "FAILED" and job.retries < job.job_retry_count and job.execution_type != "STOP":
            job = self._retry(job)
        return job

    @staticmethod
    def _lost(job: Job, service: ServiceReport | None, app: AppReport | None, app_id: str | None, sub: str) -> str | None:
        """Why YARN has lost the job, or None: it knows neither the service nor its application (at once when
        an application id was recorded, else after LOST_AFTER_MS), or it kept the spec without ever starting
        an application for it (job_state's SERVICE_UNSUBMITTED) for LOST_AFTER_MS."""
        if app is not None:
            return None
        overdue = now_ms() - job.submission_ms > LOST_AFTER_MS
        if service is None and (app_id is not None or overdue):
            return f"YARN has no record of service {job.service_name} ({app_id or 'no application id'})."
        if service is not None and app_id is None and sub == "SERVICE_UNSUBMITTED" and overdue:
            return f"YARN kept the spec of service {job.service_name} but never started an application for it."
        return None

    def _tasks(self, job: Job, service: ServiceReport) -> dict[str, list[dict[str, Any]]]:
        """Task statuses per role from the service's component instances (previous ones kept if gone)."""
        out: dict[str, list[dict[str, Any]]] = {}
        previous = job.tasks or {}
        roles = (job.protocol or {}).get("taskRoles") or {}
        for role, comp in job.components.items():
            spec = roles.get(role) or {}
            count = int(spec.get("instances", 1))
            gpu = int((spec.get("resourcePerInstance") or {}).get("gpu", 0))
            by_index = {c.index: c for c in service.components.get(comp, [])}
            old = {t["taskIndex"]: t for t in previous.get(role, [])}
            statuses = []
            for i in range(count):
                c = by_index.get(i)
                if c is None:
                    statuses.append(old.get(i) or _task(i, "WAITING", gpu))
                    continue
                t = _task(i, task_state(c.state), gpu)
                host = c.bare_host or c.hostname
                t.update(containerId=c.container_id, containerIp=c.ip, containerHostname=host,
                         containerLog=self._log_url(job, role, i, c.container_id), launchedTime=c.launch_ms)
                if t["taskState"] == "SUCCEEDED":
                    t["containerExitCode"] = 0
                if t["taskState"] in TERMINAL_STATES:
                    t["completedTime"] = (old.get(i) or {}).get("completedTime") or now_ms()
                statuses.append(t)
            out[role] = statuses
        return out

    @staticmethod
    def _log_url(job: Job, role: str, index: int, container_id: str | None) -> str | None:
        """Where a task's stdout is read through pylon (``task_log``), once it has a container."""
        if not container_id:
            return None
        return f"/rest-server/api/v2/jobs/{quote(job.full_name)}/taskRoles/{quote(role)}/taskIndex/{index}/logs/stdout"

    def task_log(self, full_name: str, role: str, index: int, file: str, tail_bytes: int | None) -> str:
        """A task instance's ``stdout`` or ``stderr`` (its last ``tail_bytes``, at most MAX_LOG_TAIL), read from
        its NodeManager at the container's address."""
        if file not in LOG_FILES:
            raise invalid_parameters(f"file: must be one of {', '.join(LOG_FILES)}")
        if tail_bytes is not None and not 0 < tail_bytes <= MAX_LOG_TAIL:
            raise invalid_parameters(f"tail: must be between 1 and {MAX_LOG_TAIL} bytes")
        job = self.refresh(self.get(full_name))
        tasks = (job.tasks or {}).get(role)
        if tasks is None:
            raise ApiError(404, "NoTaskRoleError", f"Task role {role} of job {full_name} is not found.")
        task = next((t for t in tasks if t.get("taskIndex") == index), None)
        if task is None:
            raise ApiError(404, "NoTaskError", f"Task {role}[{index}] of job {full_name} is not found.")
        node = task.get("containerIp") or task.get("containerHostname")
        container_id = task.get("containerId")
        if not node or not container_id:
            raise ApiError(404, "NoTaskLogError", f"Task {role}[{index}] of job {full_name} has no container yet.")
        try:
            text = self.backend.container_log(node, container_id, LOG_FILES[file], tail_bytes or MAX_LOG_TAIL)
        except YarnError as exc:
            raise yarn_unavailable(exc) from None
        if text is None:
            raise ApiError(404, "NoTaskLogError",
                           f"The {file} of task {role}[{index}] of job {full_name} is gone from its node "
                           f"(NodeManagers keep logs for yarn.nodemanager.log.retain-seconds).")
        return text

    @staticmethod
    def _completion(job: Job, tasks: dict[str, list[dict[str, Any]]]) -> tuple[str, str, str] | None:
        """A final state the protocol's completion policy decides before YARN does, if any."""
        roles = (job.protocol or {}).get("taskRoles") or {}
        for role, statuses in tasks.items():
            completion = (roles.get(role) or {}).get("completion") or {}
            min_failed = completion.get("minFailedInstances", 1)
            failed = sum(1 for t in statuses if t["taskState"] == "FAILED")
            if min_failed not in (None, -1) and failed >= int(min_failed):
                return "FAILED", "COMPLETION_POLICY_FAILED", f"{failed} instance(s) of task role {role} failed"
        for role, statuses in tasks.items():
            completion = (roles.get(role) or {}).get("completion") or {}
            min_succeeded = completion.get("minSucceededInstances")
            succeeded = sum(1 for t in statuses if t["taskState"] == "SUCCEEDED")
            if min_succeeded not in (None, -1) and succeeded >= int(min_succeeded):
                return "SUCCEEDED", "COMPLETION_POLICY_SUCCEEDED", f"{succeeded} instance(s) of {role} succeeded"
        return None

    @staticmethod
    def _finish(row: Job, state: str, finished_ms: int | None, diagnostics: str | None) -> None:
        """Mark a record terminal: state, time, exit code, and the tasks still open."""
        row.state = state
        row.completed_ms = finished_ms or now_ms()
        row.exit_code = {"SUCCEEDED": 0, "STOPPED": EXIT_STOPPED}.get(state, 1)
        row.exit_diagnostics = diagnostics
        tasks = {}
        for role, statuses in (row.tasks or {}).items():
            closed = []
            for t in statuses:
                t = dict(t)
                if t["taskState"] in ("WAITING", "RUNNING", "STOPPING"):
                    t["taskState"] = state
                    t["containerExitCode"] = {"SUCCEEDED": 0, "STOPPED": EXIT_TASK_STOPPED}.get(state, 1)
                    t["completedTime"] = row.completed_ms
                closed.append(t)
            tasks[role] = closed
        row.tasks = tasks

    def _retry(self, job: Job) -> Job:
        """Start the next attempt of a failed job (jobRetryCount): YARN restarts the service from the spec it
        keeps (the record has secrets masked, so it is never resubmitted from here)."""
        attempt = job.retries + 1
        with self.sessions.begin() as s:
            row = s.get(Job, job.id)
            row.retries, row.app_id = attempt, None
            row.state, row.sub_state, row.tasks = "WAITING", "RETRYING", {}
            row.completed_ms = row.exit_code = row.exit_diagnostics = None
            job = row
        try:
            self.backend.start(job.service_name)
        except YarnError as exc:
            with self.sessions.begin() as s:
                row = s.get(Job, job.id)
                self._finish(row, "FAILED", None, f"retry {attempt} could not be started: {exc}")
                return row
        return job

    def reconcile(self) -> int:
        """Refresh every non-terminal record (at start and periodically); the number looked at."""
        with self.sessions() as s:
            open_jobs = list(s.scalars(select(Job).where(Job.state.not_in(TERMINAL_STATES))))
        for job in open_jobs:
            self.refresh(job)
        return len(open_jobs)

    # --- stop / start ---------------------------------------------------------------------------------------------

    def set_execution_type(self, caller: Caller, full_name: str, value: str) -> Job:
        """STOP kills the job's YARN service (STOPPED follows); START is accepted for a running job only."""
        job = self.get(full_name)
        if not caller.admin and caller.username != job.username:
            raise forbidden(f"User {caller.username} is not allowed to stop job {full_name}.")
        if value == "START":
            if job.state in TERMINAL_STATES:
                raise invalid_parameters("value: START of a finished job is not supported; submit it again")
            return job
        if job.state in TERMINAL_STATES:
            return job
        with self._locks[job.service_name]:
            with self.sessions.begin() as s:
                row = s.get(Job, job.id)
                row.execution_type = "STOP"
                if row.state not in TERMINAL_STATES:
                    row.state = "STOPPING"
                job = row
            try:
                self.backend.stop(job.service_name, job.app_id)
            except YarnError as exc:
                raise yarn_unavailable(exc) from None
        return self.refresh(job)

    def count(self) -> int:
        """How many records there are."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count(Job.id))) or 0)


def _task(index: int, state: str, gpus: int) -> dict[str, Any]:
    """A task status with nothing known yet but its state."""
    return {"taskIndex": index, "taskState": state, "retries": 0, "containerId": None, "containerIp": None,
            "containerHostname": None, "containerPorts": {}, "containerGpus": gpus, "containerLog": None,
            "containerExitCode": None, "launchedTime": None, "completedTime": None}


def _int_param(params: dict[str, str], key: str, default: int, low: int, high: int | None) -> int:
    """An integer query parameter within [low, high]; 400 InvalidParametersError naming it."""
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameters(f"{key}: must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise invalid_parameters(f"{key}: must be {bound}")
    return value


def _tag_filter(rows: list[Job], contain: list[str], not_contain: list[str]) -> list[Job]:
    """Rows having any of ``contain`` (if given) and none of ``not_contain``."""
    out = []
    for row in rows:
        tags = set(row.tags or [])
        if contain and not tags.intersection(contain):
            continue
        if tags.intersection(not_contain):
            continue
        out.append(row)
    return out
