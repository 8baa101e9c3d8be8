"""The HTTP API: OpenPAI REST API v2 under ``/api`` and ``/rest-server/api`` (see README.md)."""

from __future__ import annotations

import json
import logging
import threading
from contextlib import asynccontextmanager
from typing import Annotated, Any, AsyncIterator, Literal

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .auth import COOKIE_NAME, Authenticator, Caller
from .cluster import ClusterSources, ClusterView
from .db import Job, make_engine, make_sessions, server_secret
from .errors import ApiError, field_path, forbidden, install_handlers, invalid_parameters, unauthorized
from .jobs import JobService, yarn_unavailable
from .protocol import parse_body, validate
from .settings import Settings
from .users import UserService, user_view
from .vcs import vc_info
from .yarn import ResourceManagerClient, YarnBackend, YarnError

log = logging.getLogger("pai_rest_server")

Username = Annotated[str, StringConstraints(pattern=r"^[\w.-]+$", max_length=255)]
Password = Annotated[str, StringConstraints(min_length=6, max_length=1024)]


# --- request and response models -------------------------------------------------------------------------------

class Info(BaseModel):
    name: str = "PAI RESTful API"
    version: str
    launcherType: Literal["yarn"] = "yarn"
    authnMethod: Literal["basic"] = "basic"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: Username
    password: Password
    expiration: Annotated[int, Field(ge=60, le=604800)] = 86400


class LoginResponse(BaseModel):
    user: str
    token: str
    admin: bool
    hasGitHubPAT: bool = False


class Message(BaseModel):
    message: str


class Accepted(BaseModel):
    status: int = 202
    message: str


class CreateUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    username: Username
    password: Password
    admin: bool = False
    email: str = ""
    virtualCluster: list[str] = ["default"]
    extension: dict[str, Any] = {}


class GrantVcs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    virtualCluster: list[str]


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    username: Username
    email: str | None = None
    virtualCluster: list[str] | None = None
    admin: bool | None = None
    password: Password | None = None
    oldPassword: str | None = None


class UpdateUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    data: UserPatch
    patch: bool = True


class ExecutionType(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: Literal["STOP", "START"]


# --- helpers -------------------------------------------------------------------------------------------------------

class StripTrailingSlash:
    """``/api/v2/users/alice/`` is served as ``/api/v2/users/alice`` (the portal adds slashes)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = dict(scope)
            scope["path"] = scope["path"].rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def parse_model(model: type[BaseModel], data: Any) -> Any:
    """``model`` from ``data``; 400 InvalidParametersError naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise invalid_parameters("; ".join(problems)) from None


async def json_body(request: Request) -> Any:
    """The request's JSON body; 400 InvalidParametersError when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid_parameters("body: malformed JSON") from None


def job_summary(job: Job) -> dict[str, Any]:
    """A job of the list (GET /jobs)."""
    return {
        "name": job.name, "username": job.username, "state": job.state, "subState": job.sub_state,
        "executionType": job.execution_type, "retries": job.retries,
        "retryDetails": {"user": job.retries, "platform": 0, "resource": 0}, "retryDelayTime": None,
        "submissionTime": job.submission_ms, "createdTime": job.submission_ms, "launchedTime": job.launched_ms,
        "completedTime": job.completed_ms, "appExitCode": job.exit_code, "virtualCluster": job.virtual_cluster,
        "totalGpuNumber": job.total_gpu, "totalTaskNumber": job.total_tasks,
        "totalTaskRoleNumber": job.total_task_roles, "tags": list(job.tags or []),
    }


def job_detail(job: Job) -> dict[str, Any]:
    """A job's status with every task role and one status per instance (GET /jobs/{user}~{name})."""
    roles = (job.protocol or {}).get("taskRoles") or {}
    task_roles = {}
    for role, spec in roles.items():
        count = int(spec.get("instances", 1))
        gpu = int((spec.get("resourcePerInstance") or {}).get("gpu", 0))
        known = {t["taskIndex"]: t for t in (job.tasks or {}).get(role, [])}
        statuses = []
        for i in range(count):
            t = dict(known.get(i) or {"taskIndex": i, "taskState": "WAITING", "retries": 0, "containerId": None,
                                      "containerIp": None, "containerHostname": None, "containerPorts": {},
                                      "containerGpus": gpu, "containerLog": None, "containerExitCode": None,
                                      "launchedTime": None, "completedTime": None})
            statuses.append(t)
        task_roles[role] = {"taskRoleStatus": {"name": role}, "taskStatuses": statuses}
    terminal = job.state in ("SUCCEEDED", "FAILED", "STOPPED")
    return {
        "name": job.name,
        "jobStatus": {
            "username": job.username, "state": job.state, "subState": job.sub_state,
            "executionType": job.execution_type, "retries": job.retries,
            "retryDetails": {"user": job.retries, "platform": 0, "resource": 0}, "retryDelayTime": None,
            "createdTime": job.submission_ms, "completedTime": job.completed_ms, "attemptId": job.retries,
            "attemptState": job.state, "appId": job.app_id, "appProgress": job.progress,
            "appTrackingUrl": job.tracking_url, "appLaunchedTime": job.launched_ms,
            "appCompletedTime": job.completed_ms, "appExitCode": job.exit_code,
            "appExitSpec": None, "appExitDiagnostics": job.exit_diagnostics,
            "appExitMessages": {"diagnostics": job.exit_diagnostics} if terminal and job.exit_diagnostics else None,
            "appExitTriggerMessage": job.exit_diagnostics if terminal else None,
            "appExitTriggerTaskRoleName": None, "appExitTriggerTaskIndex": None,
            "virtualCluster": job.virtual_cluster, "yarnServiceName": job.service_name,
        },
        "taskRoles": task_roles,
    }


# --- who is calling ---------------------------------------------------------------------------------------------

def current_caller(request: Request) -> Caller:
    """The caller of a Bearer token (401 with the note's messages otherwise)."""
    platform: "Platform" = request.app.state.platform
    return platform.auth.from_authorization(request.headers.get("authorization"))


def current_admin(c: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """The caller, who must be an admin (403 otherwise)."""
    if not c.admin:
        raise forbidden(f"Non-admin user {c.username} is not allowed to do this operation.")
    return c


Authed = Annotated[Caller, Depends(current_caller)]
Admin = Annotated[Caller, Depends(current_admin)]


# --- the application -------------------------------------------------------------------------------------------

class Platform:
    """Everything a request handler needs, built once per app."""

    def __init__(self, settings: Settings, backend: YarnBackend, hasher: PasswordHasher | None = None):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessions(self.engine)
        secret = settings.token_secret or server_secret(self.sessions, "token-secret")
        self.auth = Authenticator(self.sessions, secret, hasher)
        self.users = UserService(self.sessions, self.auth)
        self.jobs = JobService(self.sessions, backend, settings)
        self.backend = backend
        self.cluster = ClusterView(ClusterSources(
            cluster_file=settings.cluster_file, hdfs_namenode_url=settings.hdfs_namenode_url,
            hadoop_user=settings.yarn_user, kubernetes_api_url=settings.kubernetes_api_url,
            kubernetes_token_file=settings.kubernetes_token_file, kubernetes_ca_file=settings.kubernetes_ca_file,
            timeout_s=settings.yarn_timeout_s), backend)
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def start(self) -> None:
        """Create the admin, reconcile open jobs with YARN, start the background poll."""
        self.users.ensure_admin(self.settings.admin_username, self.settings.admin_password)
        try:
            count = self.jobs.reconcile()
            log.info("reconciled %d open job(s) with YARN", count)
        except Exception as exc:  # noqa: BLE001 -- a start must not fail because YARN is not up yet
            log.warning("reconcile at start failed: %s", exc)
        if self.settings.poll_interval_s > 0:
            self._poller = threading.Thread(target=self._poll, name="yarn-poll", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.settings.poll_interval_s):
            try:
                self.jobs.reconcile()
            except Exception as exc:  # noqa: BLE001 -- the loop must survive any one bad round
                log.warning("background reconcile failed: %s", exc)

    def close(self) -> None:
        """Stop the poll and release the database."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self.engine.dispose()

    def vc_names(self) -> list[str]:
        """The VC names YARN has (503 when YARN cannot be asked)."""
        try:
            return [q.name for q in self.backend.queues()]
        except YarnError as exc:
            raise yarn_unavailable(exc) from None


def create_app(settings: Settings, backend: YarnBackend | None = None, hasher: PasswordHasher | None = None) -> FastAPI:
    """The ASGI app; ``backend`` defaults to the ResourceManager of ``settings``."""
    own_backend = backend is None
    backend = backend or ResourceManagerClient(settings.yarn_rm_url, settings.yarn_user, settings.yarn_timeout_s,
                                               submit_timeout_s=settings.yarn_submit_timeout_s,
                                               nm_webapp_port=settings.nm_webapp_port)
    platform = Platform(settings, backend, hasher)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(platform.start)
        try:
            yield
        finally:
            platform.close()
            if own_backend and isinstance(backend, ResourceManagerClient):
                backend.close()

    app = FastAPI(title="OpenPAI REST server (YARN)", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/api/v2/openapi.json")
    app.state.platform = platform
    install_handlers(app)
    router = build_router(platform)
    app.include_router(router, prefix="/api")
    app.include_router(router, prefix="/rest-server/api")
    app.add_middleware(StripTrailingSlash)
    return app


def build_router(p: Platform) -> APIRouter:
    """Every endpoint, relative to ``/api``."""
    r = APIRouter()

    # --- info and authn ---

    @r.get("/v2/info", response_model=Info)
    def info() -> Info:
        return Info(version=__version__)

    @r.post("/v2/authn/basic/login", response_model=LoginResponse)
    async def login(request: Request) -> LoginResponse:
        ctype = request.headers.get("content-type", "").lower()
        if "json" in ctype:
            data = await json_body(request)
        else:
            data = dict(await request.form())
        req = parse_model(LoginRequest, data)
        if req.expiration > p.settings.max_token_expiration_s:
            raise invalid_parameters(f"expiration: must be at most {p.settings.max_token_expiration_s}")
        user = await run_in_threadpool(p.auth.check_password, req.username, req.password)
        return LoginResponse(user=user.username, token=p.auth.issue(user, req.expiration), admin=user.admin)

    @r.delete("/v2/authn/basic/logout", response_model=Message)
    def logout(c: Authed) -> Message:
        p.auth.revoke(c)
        return Message(message="Logout successfully")

    def authn_info() -> dict[str, str]:
        return {"authn_type": "basic", "loginURI": "/api/v1/authn/basic/login", "loginURIMethod": "post"}

    r.add_api_route("/v1/authn/info", authn_info, methods=["GET"])
    r.add_api_route("/v2/authn/info", authn_info, methods=["GET"])

    @r.api_route("/v2/authn/check", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    def authn_check(request: Request, admin: str = "false") -> Response:
        challenge = {"WWW-Authenticate": 'Basic realm="OpenPAI", charset="UTF-8"'}
        header = request.headers.get("authorization", "")
        try:
            if header.lower().startswith("basic "):
                c = p.auth.from_basic(header)
            elif header:
                c = p.auth.from_authorization(header)
            elif request.cookies.get(COOKIE_NAME):
                c = p.auth.verify_token(request.cookies[COOKIE_NAME])
            else:
                raise unauthorized("Guest is not allowed to do this operation.")
        except ApiError as exc:
            raise ApiError(401, exc.code, exc.message, challenge) from None
        if admin.lower() == "true" and not c.admin:
            raise ApiError(401, "UnauthorizedUserError", f"User {c.username} is not an admin.", challenge)
        return JSONResponse({"username": c.username, "admin": c.admin},
                            headers={"X-PAI-User": c.username, "X-PAI-Admin": str(c.admin).lower()})

    # --- users ---

    def vcs_for_view() -> list[str]:
        try:
            return [q.name for q in p.backend.queues()]
        except YarnError:
            return []

    def get_user(username: str, c: Authed) -> dict[str, Any]:
        user = p.users.get(username)
        return user_view(user, vcs_for_view() if user.admin else None)

    r.add_api_route("/v2/users/{username}", get_user, methods=["GET"])
    r.add_api_route("/v2/user/{username}", get_user, methods=["GET"])

    @r.get("/v2/users")
    def list_users(c: Admin) -> list[dict[str, Any]]:
        vcs = vcs_for_view()
        return [user_view(u, vcs) for u in p.users.all()]

    def check_vcs(names: list[str], field: str) -> None:
        known = set(p.vc_names())
        unknown = sorted(set(names) - known)
        if unknown:
            raise ApiError(400, "NoVirtualClusterError", f"{field}: no virtual cluster {', '.join(unknown)}")

    @r.post("/v2/users", status_code=201, response_model=Message)
    async def create_user(request: Request, c: Admin) -> Message:
        req = parse_model(CreateUser, await json_body(request))
        await run_in_threadpool(check_vcs, req.virtualCluster, "virtualCluster")
        await run_in_threadpool(p.users.create, req.username, req.password, req.admin, req.email,
                                req.virtualCluster, req.extension)
        return Message(message="User is created successfully")

    @r.put("/v2/users", response_model=Message)
    async def update_user(request: Request, c: Authed) -> Message:
        req = parse_model(UpdateUser, await json_body(request)).data
        self_only = req.virtualCluster is None and req.admin is None
        if not c.admin and not (self_only and req.username == c.username):
            raise forbidden(f"User {c.username} is not allowed to update user {req.username}.")
        if req.password is not None and not c.admin:
            if req.oldPassword is None:
                raise invalid_parameters("data.oldPassword: required to change your own password")
            await run_in_threadpool(p.auth.check_password, c.username, req.oldPassword)
        if req.virtualCluster is not None:
            await run_in_threadpool(check_vcs, req.virtualCluster, "data.virtualCluster")
        await run_in_threadpool(lambda: p.users.update(req.username, vcs=req.virtualCluster, admin=req.admin,
                                                       email=req.email, password=req.password))
        return Message(message="Update user successfully.")

    @r.put("/v2/users/{username}/virtualcluster", response_model=Message)
    async def grant_vcs(username: str, request: Request, c: Admin) -> Message:
        req = parse_model(GrantVcs, await json_body(request))
        await run_in_threadpool(check_vcs, req.virtualCluster, "virtualCluster")
        await run_in_threadpool(lambda: p.users.update(username, vcs=req.virtualCluster))
        return Message(message="Update user virtual clusters successfully.")

    @r.delete("/v2/users/{username}", response_model=Message)
    def delete_user(username: str, c: Admin) -> Message:
        if username == c.username:
            raise forbidden("An admin cannot delete themself.")
        p.users.delete(username)
        return Message(message="User is deleted successfully")

    # --- virtual clusters ---

    def all_vcs() -> dict[str, dict[str, Any]]:
        try:
            queues, nodes = p.backend.queues(), p.backend.nodes()
        except YarnError as exc:
            raise yarn_unavailable(exc) from None
        return {q.name: vc_info(q, nodes) for q in queues}

    @r.get("/v2/virtual-clusters")
    def list_vcs(c: Authed) -> dict[str, dict[str, Any]]:
        return all_vcs()

    @r.get("/v2/virtual-clusters/{vc}")
    def get_vc(vc: str, c: Authed) -> dict[str, Any]:
        vcs = all_vcs()
        if vc not in vcs:
            raise ApiError(404, "NoVirtualClusterError", f"Virtual cluster {vc} is not found.")
        return vcs[vc]

    # --- the cluster's nodes (this server's own endpoint, for the web portal) ---

    @r.get("/v2/cluster/nodes")
    def cluster_nodes(c: Authed) -> dict[str, Any]:
        return p.cluster.nodes()

    # --- jobs ---

    @r.get("/v2/jobs")
    def list_jobs(request: Request, c: Authed) -> Any:
        result = p.jobs.list(dict(request.query_params))
        if isinstance(result, tuple):
            total, page = result
            return {"totalCount": total, "data": [job_summary(j) for j in page]}
        return [job_summary(j) for j in result]

    @r.post("/v2/jobs", status_code=202, response_model=Accepted)
    async def submit(request: Request, c: Authed) -> Accepted:
        raw = parse_body(await request.body(), request.headers.get("content-type", "text/yaml"))
        job = validate(raw)
        record = await run_in_threadpool(p.jobs.submit, c, raw, job)
        return Accepted(message=f"Update job {record.name} for user {record.username} successfully.")

    @r.get("/v2/jobs/{full_name}")
    def get_job(full_name: str, c: Authed) -> dict[str, Any]:
        return job_detail(p.jobs.refresh(p.jobs.get(full_name)))

    @r.get("/v2/jobs/{full_name}/attempts/{attempt_id}")
    def get_job_attempt(full_name: str, attempt_id: int, c: Authed) -> dict[str, Any]:
        job = p.jobs.refresh(p.jobs.get(full_name))
        if attempt_id != job.retries:
            raise ApiError(404, "NoJobError", f"Attempt {attempt_id} of job {full_name} is not found.")
        return job_detail(job)

    @r.get("/v2/jobs/{full_name}/config")
    def get_config(full_name: str, c: Authed) -> Response:
        job = p.jobs.get(full_name)
        if not job.config_yaml:
            raise ApiError(404, "NoJobConfigError", f"Config of job {full_name} is not found.")
        return Response(job.config_yaml, status_code=200, media_type="text/yaml")

    @r.get("/v2/jobs/{full_name}/taskRoles/{role}/taskIndex/{index}/logs/{file}")
    def task_log(full_name: str, role: str, index: int, file: str, c: Authed, tail: int | None = None) -> Response:
        text = p.jobs.task_log(full_name, role, index, file, tail)
        return Response(text, status_code=200, media_type="text/plain; charset=utf-8")

    @r.put("/v2/jobs/{full_name}/executionType", status_code=202, response_model=Accepted)
    async def execution_type(full_name: str, request: Request, c: Authed) -> Accepted:
        req = parse_model(ExecutionType, await json_body(request))
        await run_in_threadpool(p.jobs.set_execution_type, c, full_name, req.value)
        return Accepted(message=f"Execute job {full_name} successfully.")

    return r
