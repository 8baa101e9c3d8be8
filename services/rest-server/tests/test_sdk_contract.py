"""OpenPAI's official JS SDK (npm @microsoft/openpai-js-sdk 0.1.5) against the server under uvicorn on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from conftest import ADMIN, FAST_HASHER
from pai_rest_server.app import create_app
from pai_rest_server.yarn import ResourceManagerClient

SDK_DIR = Path(__file__).parent / "sdk"


def npm_ready() -> str | None:
    """Why the contract test cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed"
    if not (SDK_DIR / "node_modules" / "@microsoft" / "openpai-js-sdk").is_dir():
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, capture_output=True,
                                text=True, timeout=600)
        if result.returncode != 0:
            pytest.fail(f"npm ci failed in {SDK_DIR}: {result.stderr[-2000:]}")
    return None


@pytest.fixture
def server(fake_rm, settings_for):
    settings = settings_for()
    backend = ResourceManagerClient(settings.yarn_rm_url, settings.yarn_user, transport=fake_rm.transport)
    app = create_app(settings, backend=backend, hasher=FAST_HASHER)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_js_sdk_contract(server):
    reason = npm_ready()
    if reason:
        pytest.skip(f"JS SDK contract test skipped: {reason}")
    env = dict(os.environ, PAI_URL=server, PAI_USER=ADMIN[0], PAI_PASSWORD=ADMIN[1])
    result = subprocess.run(["node", "contract.js"], cwd=SDK_DIR, capture_output=True, text=True, env=env, timeout=300)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "contract: all steps passed" in result.stdout
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") >= 13
