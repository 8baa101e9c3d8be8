"""OpenPAI job protocol v2: parsing (YAML or JSON), validation naming each bad field, masking, rendering."""

from __future__ import annotations

import copy
import json
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .errors import ApiError

JOB_NAME_RE = r"^[a-zA-Z0-9_-]+$"
TASK_ROLE_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MASK = "******"
NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    """Unknown fields are refused and values are not coerced (a "1" is not an integer)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    """Objects the protocol leaves open (prerequisites carry type-specific fields)."""

    model_config = ConfigDict(extra="allow", strict=True)


class DockerAuth(_Strict):
    username: str | None = None
    password: str | None = None
    registryuri: str | None = None


class Prerequisite(_Open):
    name: str
    type: Literal["dockerimage", "script", "output", "data"]
    uri: str | list[str] | None = None
    auth: DockerAuth | None = None
    contributor: str | None = None
    description: str | None = None
    version: str | None = None
    plugin: str | None = None
    callbacks: list[Any] | None = None
    failurePolicy: str | None = None


class Resource(_Strict):
    cpu: PosInt
    memoryMB: PosInt
    gpu: NonNegInt
    ports: dict[str, NonNegInt] | None = None


class Completion(_Strict):
    minFailedInstances: int | None = 1
    minSucceededInstances: int | None = None


class ExtraContainerOptions(_Strict):
    shmMB: PosInt = 512
    infiniband: bool | None = None


class TaskRole(_Strict):
    instances: PosInt = 1
    dockerImage: str
    resourcePerInstance: Resource
    commands: Annotated[list[str], Field(min_length=1)]
    completion: Completion = Completion()
    taskRetryCount: NonNegInt = 0
    extraContainerOptions: ExtraContainerOptions = ExtraContainerOptions()
    data: str | None = None
    output: str | None = None
    script: str | None = None
    prerequisites: list[str] | None = None
    hivedScheduler: dict[str, Any] | None = None


class DeploymentRole(_Strict):
    preCommands: list[str] = []
    postCommands: list[str] = []


class Deployment(_Strict):
    name: str
    taskRoles: dict[str, DeploymentRole]


class Defaults(_Strict):
    virtualCluster: str = "default"
    deployment: str | None = None


class JobProtocol(_Strict):
    protocolVersion: Literal[2, "2"]
    name: Annotated[str, StringConstraints(pattern=JOB_NAME_RE, max_length=255)]
    type: Literal["job"]
    version: str | int | float | None = None
    contributor: str | None = None
    description: str | None = None
    prerequisites: list[Prerequisite] = []
    parameters: dict[str, Any] = {}
    secrets: dict[str, Any] | str = {}
    jobRetryCount: NonNegInt = 0
    taskRoles: Annotated[dict[str, TaskRole], Field(min_length=1)]
    deployments: list[Deployment] = []
    defaults: Defaults = Defaults()
    extras: dict[str, Any] = {}

    @field_validator("taskRoles")
    @classmethod
    def _role_names(cls, roles: dict[str, TaskRole]) -> dict[str, TaskRole]:
        bad = [name for name in roles if not TASK_ROLE_RE.match(name)]
        if bad:
            raise ValueError(f"task role names must match {TASK_ROLE_RE.pattern}: {', '.join(bad)}")
        return roles

    @property
    def virtual_cluster(self) -> str:
        """The VC (YARN queue) the job runs in."""
        return self.defaults.virtualCluster

    def totals(self) -> tuple[int, int, int]:
        """(GPUs, tasks, task roles) of the whole job."""
        gpus = sum(r.instances * r.resourcePerInstance.gpu for r in self.taskRoles.values())
        tasks = sum(r.instances for r in self.taskRoles.values())
        return gpus, tasks, len(self.taskRoles)

    def docker_image(self, role: str) -> Prerequisite:
        """The dockerimage prerequisite of a task role (validated to exist)."""
        ref = self.taskRoles[role].dockerImage
        return next(p for p in self.prerequisites if p.type == "dockerimage" and p.name == ref)


def invalid(problems: list[str]) -> ApiError:
    """400 InvalidProtocolError listing the problems."""
    return ApiError(400, "InvalidProtocolError", "; ".join(problems))


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The submitted protocol as a mapping: JSON for application/json, YAML for text/* and the rest."""
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise invalid(["body: the job protocol is empty"])
    try:
        if "json" in content_type.lower():
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or getattr(exc, "msg", None) or "cannot be parsed"
        raise invalid([f"body: malformed {'JSON' if 'json' in content_type.lower() else 'YAML'}{where}: {reason}"]) from None
    if not isinstance(data, dict):
        raise invalid(["body: the job protocol must be a mapping"])
    return data


def _location(loc: tuple) -> str:
    """A pydantic location as the protocol's dotted field name (list items as [i])."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"str", "int", "float", "list[str]", "list[any]", "constrained-str"} or "[" in str(part):
            continue  # union branch names are noise
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def validate(data: dict[str, Any]) -> JobProtocol:
    """A checked JobProtocol, or 400 InvalidProtocolError naming every bad field."""
    try:
        job = JobProtocol.model_validate(data)
    except ValidationError as exc:
        seen: dict[str, str] = {}
        for err in exc.errors():
            seen.setdefault(_location(err["loc"]), err["msg"])
        raise invalid([f"{where}: {msg}" for where, msg in seen.items()]) from None
    problems: list[str] = []
    names: set[tuple[str, str]] = set()
    for i, pre in enumerate(job.prerequisites):
        if (pre.type, pre.name) in names:
            problems.append(f"prerequisites[{i}].name: duplicate {pre.type} prerequisite {pre.name}")
        names.add((pre.type, pre.name))
        if pre.type == "dockerimage" and not (isinstance(pre.uri, str) and pre.uri):
            problems.append(f"prerequisites[{i}].uri: a dockerimage prerequisite needs a uri")
    for role_name, role in job.taskRoles.items():
        if ("dockerimage", role.dockerImage) not in names:
            problems.append(f"taskRoles.{role_name}.dockerImage: no dockerimage prerequisite named {role.dockerImage}")
        for attr in ("data", "output", "script"):
            ref = getattr(role, attr)
            if ref is not None and (attr, ref) not in names:
                problems.append(f"taskRoles.{role_name}.{attr}: no {attr} prerequisite named {ref}")
        for attr in ("minFailedInstances", "minSucceededInstances"):
            value = getattr(role.completion, attr)
            if value is not None and value != -1 and not 1 <= value <= role.instances:
                problems.append(f"taskRoles.{role_name}.completion.{attr}: must be between 1 and instances "
                                f"({role.instances}), or -1/null")
    deployments = {d.name for d in job.deployments}
    for i, dep in enumerate(job.deployments):
        for role_name in dep.taskRoles:
            if role_name not in job.taskRoles:
                problems.append(f"deployments[{i}].taskRoles.{role_name}: no such task role")
    if job.defaults.deployment is not None and job.defaults.deployment not in deployments:
        problems.append(f"defaults.deployment: no deployment named {job.defaults.deployment}")
    if problems:
        raise invalid(problems)
    return job


def masked(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the raw protocol with every secret value (and registry password) masked."""
    out = copy.deepcopy(data)
    secrets = out.get("secrets")
    if isinstance(secrets, dict):
        out["secrets"] = {k: MASK for k in secrets}
    elif secrets:
        out["secrets"] = MASK
    for pre in out.get("prerequisites") or []:
        if isinstance(pre, dict) and isinstance(pre.get("auth"), dict) and "password" in pre["auth"]:
            pre["auth"]["password"] = MASK
    return out


_TAG_RE = re.compile(r"<%\s*\$(parameters|secrets)\.([A-Za-z0-9_.-]+)\s*%>")


def _lookup(tree: Any, dotted: str) -> Any:
    """tree[a][b]... for ``a.b``, or None."""
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def render(text: str, job: JobProtocol) -> str:
    """Replace ``<% $parameters.x %>`` and ``<% $secrets.x %>``; unknown tags stay as written."""

    def _sub(m: re.Match[str]) -> str:
        source = job.parameters if m.group(1) == "parameters" else job.secrets
        value = _lookup(source, m.group(2))
        return m.group(0) if value is None else str(value)

    return _TAG_RE.sub(_sub, text)


def role_script(job: JobProtocol, role: str) -> str:
    """The shell script one instance of ``role`` runs: deployment pre-commands, commands, post-commands."""
    dep = next((d for d in job.deployments if d.name == job.defaults.deployment), None)
    dep_role = dep.taskRoles.get(role) if dep else None
    lines = list(dep_role.preCommands) if dep_role else []
    lines += job.taskRoles[role].commands
    lines += list(dep_role.postCommands) if dep_role else []
    return render("\n".join(line.strip() for line in lines), job)
