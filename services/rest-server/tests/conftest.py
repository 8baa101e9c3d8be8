"""Fixtures: a server app on a temporary SQLite file, talking to the fake ResourceManager."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from fake_rm import FakeResourceManager  # noqa: E402 -- needs the path above
from pai_rest_server.app import create_app  # noqa: E402
from pai_rest_server.settings import Settings, load_settings  # noqa: E402
from pai_rest_server.yarn import ResourceManagerClient  # noqa: E402

ADMIN = ("admin", "admin-secret-1")
# Real argon2id, cheap parameters so that the suite stays fast.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

EXAMPLE_JOB = """\
protocolVersion: 2
name: hello-gpu
type: job
jobRetryCount: 0
prerequisites:
  - {name: image, type: dockerimage, uri: "openpai/lab-job:1"}
taskRoles:
  gpu_worker:
    instances: 1
    dockerImage: image
    resourcePerInstance: {cpu: 1, memoryMB: 1024, gpu: 1}
    commands:
      - echo "gpu_worker starting on $(hostname)"
      - if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L; else hostname; fi
  cpu_worker:
    instances: 1
    dockerImage: image
    resourcePerInstance: {cpu: 1, memoryMB: 1024, gpu: 0}
    commands: [hostname, echo cpu_worker done]
defaults: {virtualCluster: default}
extras: {submitFrom: example}
"""


def job_yaml(name: str, commands: str = "[echo hi]", vc: str = "default", gpu: int = 0, instances: int = 1,
             extra: str = "") -> str:
    """A small one-role job protocol."""
    return (f"protocolVersion: 2\nname: {name}\ntype: job\n"
            "prerequisites:\n  - {name: img, type: dockerimage, uri: 'openpai/lab-job:1'}\n"
            f"taskRoles:\n  main:\n    instances: {instances}\n    dockerImage: img\n"
            f"    resourcePerInstance: {{cpu: 1, memoryMB: 512, gpu: {gpu}}}\n    commands: {commands}\n"
            f"defaults: {{virtualCluster: {vc}}}\n{extra}")


@pytest.fixture
def fake_rm() -> FakeResourceManager:
    return FakeResourceManager()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def _make(**overrides: object) -> Settings:
        values = dict(admin_username=ADMIN[0], admin_password=ADMIN[1],
                      database_url=f"sqlite:///{tmp_path / 'rest.db'}", yarn_rm_url="http://rm.test:8088",
                      poll_interval_s=0)
        values.update(overrides)
        return load_settings(env={}, **values)
    return _make


@pytest.fixture
def make_client(fake_rm: FakeResourceManager, settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Start a server (lifespan included) on the shared SQLite file; several may be made (restarts)."""
    opened: list[TestClient] = []

    def _make(**overrides: object) -> TestClient:
        settings = settings_for(**overrides)
        backend = ResourceManagerClient(settings.yarn_rm_url, settings.yarn_user, transport=fake_rm.transport)
        client = TestClient(create_app(settings, backend=backend, hasher=FAST_HASHER))
        client.__enter__()
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def login(client: TestClient, username: str = ADMIN[0], password: str = ADMIN[1], expiration: int = 4000) -> dict:
    resp = client.post("/api/v2/authn/basic/login",
                       data={"username": username, "password": password, "expiration": str(expiration)})
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(token: str) -> dict[str, str]:
    """The SDK's headers: a Bearer token and a JSON content-type even on bodiless requests."""
    return {"Authorization": f"Bearer {token}", "content-type": "application/json"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return bearer(login(client)["token"])


def create_user(client: TestClient, headers: dict[str, str], username: str, vcs: list[str] | None = None,
                password: str = "user-secret-1", admin: bool = False) -> dict[str, str]:
    """Create a user as admin and return that user's headers."""
    body: dict = {"username": username, "password": password, "admin": admin}
    if vcs is not None:
        body["virtualCluster"] = vcs
    resp = client.post("/api/v2/users", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return bearer(login(client, username, password)["token"])
