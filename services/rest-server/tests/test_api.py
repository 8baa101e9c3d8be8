"""API tests of every endpoint against the fake ResourceManager: shapes, codes, auth, grants, restarts."""

from __future__ import annotations

import base64
import threading
import time

import jwt
import pytest
import yaml

from pai_rest_server import jobs as jobs_module

from conftest import ADMIN, EXAMPLE_JOB, bearer, create_user, job_yaml, login
from fake_rm import CLUSTER_TS

PREFIXES = ["/api", "/rest-server/api"]


def submit(client, headers, body, ctype="text/yaml"):
    return client.post("/api/v2/jobs", content=body, headers={**headers, "content-type": ctype})


def poll(client, headers, full_name, until=("SUCCEEDED", "FAILED", "STOPPED"), tries=12):
    for _ in range(tries):
        body = client.get(f"/api/v2/jobs/{full_name}", headers=headers).json()
        if body["jobStatus"]["state"] in until:
            return body
    return body


def assert_error(resp, status, code, *fragments):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


# --- info, unknown routes ---

@pytest.mark.parametrize("prefix", PREFIXES)
def test_info_without_and_with_token(client, admin_headers, prefix):
    for headers in ({}, admin_headers):
        resp = client.get(f"{prefix}/v2/info", headers=headers)
        assert resp.status_code == 200
        body = resp.json()
        assert body["launcherType"] == "yarn" and body["authnMethod"] == "basic"
        assert body["name"] == "PAI RESTful API" and isinstance(body["version"], str)


def test_unknown_route_and_method_are_no_api_error(client, admin_headers):
    assert_error(client.get("/api/v2/nothing", headers=admin_headers), 404, "NoApiError")
    assert_error(client.patch("/api/v2/info"), 404, "NoApiError")
    assert_error(client.get("/elsewhere"), 404, "NoApiError")


# --- login / logout / authn info ---

def test_login_form_and_json(client):
    form = login(client)
    assert form["user"] == "admin" and form["admin"] is True and form["token"]
    resp = client.post("/rest-server/api/v2/authn/basic/login",
                       json={"username": ADMIN[0], "password": ADMIN[1], "expiration": 60})
    assert resp.status_code == 200 and resp.json()["token"]


def test_login_errors(client):
    url = "/api/v2/authn/basic/login"
    assert_error(client.post(url, data={"username": "admin", "password": "wrong-pass"}), 400,
                 "IncorrectPasswordError", "Password is incorrect.")
    assert_error(client.post(url, data={"username": "nobody", "password": "whatever"}), 400, "NoUserError")
    assert_error(client.post(url, data={"username": "bad name", "password": "whatever"}), 400,
                 "InvalidParametersError", "username")
    assert_error(client.post(url, data={"username": "admin", "password": "short"}), 400,
                 "InvalidParametersError", "password")
    assert_error(client.post(url, data={"username": "admin", "password": ADMIN[1], "expiration": "59"}), 400,
                 "InvalidParametersError", "expiration")
    assert_error(client.post(url, data={"username": "admin", "password": ADMIN[1], "expiration": "x"}), 400,
                 "InvalidParametersError", "expiration")
    assert_error(client.post(url, content=b"{not json", headers={"content-type": "application/json"}), 400,
                 "InvalidParametersError", "JSON")
    assert_error(client.post(url, json=["a"]), 400, "InvalidParametersError")


def test_token_errors(client):
    url = "/api/v2/virtual-clusters"
    assert_error(client.get(url), 401, "UnauthorizedUserError", "Guest is not allowed to do this operation.")
    assert_error(client.get(url, headers={"Authorization": "Bearer nonsense"}), 401, "UnauthorizedUserError",
                 "Your token is invalid.")
    token = login(client)["token"]
    assert_error(client.get(url, headers={"Authorization": f"Token {token}"}), 401, "UnauthorizedUserError",
                 "Your token is invalid.")
    forged = jwt.encode({"username": "admin", "jti": "x", "exp": int(time.time()) + 60}, "another-secret-" * 3,
                        algorithm="HS256")
    assert_error(client.get(url, headers=bearer(forged)), 401, "UnauthorizedUserError")


def test_token_expires(client):
    token = login(client, expiration=60)["token"]
    platform = client.app.state.platform
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60 and claims["application"] is False
    expired = platform.auth.issue(platform.users.get("admin"), -1)
    assert_error(client.get("/api/v2/jobs", headers=bearer(expired)), 401, "UnauthorizedUserError")
    assert client.get("/api/v2/jobs", headers=bearer(token)).status_code == 200


def test_logout_revokes_token(client):
    headers = bearer(login(client)["token"])
    other = bearer(login(client)["token"])
    resp = client.delete("/api/v2/authn/basic/logout", headers=headers)
    assert resp.status_code == 200 and resp.json() == {"message": "Logout successfully"}
    assert_error(client.get("/api/v2/jobs", headers=headers), 401, "UnauthorizedUserError")
    assert client.get("/api/v2/jobs", headers=other).status_code == 200
    assert_error(client.delete("/api/v2/authn/basic/logout"), 401, "UnauthorizedUserError")


@pytest.mark.parametrize("path", ["/api/v1/authn/info", "/api/v2/authn/info", "/rest-server/api/v2/authn/info"])
def test_authn_info(client, path):
    assert client.get(path).json() == {"authn_type": "basic", "loginURI": "/api/v1/authn/basic/login",
                                       "loginURIMethod": "post"}


# --- the pylon auth_request check ---

def test_authn_check(client, admin_headers):
    url = "/api/v2/authn/check"
    alice = create_user(client, admin_headers, "alice")
    ok = client.get(url, headers=alice)
    assert ok.status_code == 200 and ok.headers["X-PAI-User"] == "alice" and ok.headers["X-PAI-Admin"] == "false"
    resp = client.get(url + "?admin=true", headers=alice)
    assert_error(resp, 401, "UnauthorizedUserError", "not an admin")
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get(url + "?admin=true", headers=admin_headers).status_code == 200
    basic = "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    assert client.get(url + "?admin=true", headers={"Authorization": basic}).status_code == 200
    wrong = "Basic " + base64.b64encode(b"admin:not-the-password").decode()
    assert_error(client.get(url, headers={"Authorization": wrong}), 401, "UnauthorizedUserError")
    assert_error(client.get(url, headers={"Authorization": "Basic !!!"}), 401, "UnauthorizedUserError")
    token = login(client)["token"]
    client.cookies.set("pai_token", token)
    assert client.get(url + "?admin=true").status_code == 200
    client.cookies.set("pai_token", "garbage")
    assert_error(client.get(url), 401, "UnauthorizedUserError")
    client.cookies.clear()
    assert_error(client.get(url), 401, "UnauthorizedUserError", "Guest")
    assert client.head(url, headers=admin_headers).status_code == 200


# --- users ---

def test_users(client, admin_headers):
    alice = create_user(client, admin_headers, "alice")
    for path in ("/api/v2/users/alice", "/api/v2/user/alice", "/api/v2/users/alice/",
                 "/rest-server/api/v2/user/alice/"):
        resp = client.get(path, headers=alice)
        assert resp.status_code == 200, path
        body = resp.json()
        assert body["username"] == "alice" and body["admin"] is False and body["virtualCluster"] == ["default"]
        assert "password" not in body and "password_hash" not in body
    admin = client.get("/api/v2/users/admin", headers=alice).json()
    assert admin["admin"] is True and set(admin["virtualCluster"]) == {"default", "research"}
    assert_error(client.get("/api/v2/users/nobody", headers=alice), 404, "NoUserError")
    assert_error(client.get("/api/v2/users/me", headers=alice), 404, "NoUserError")
    assert_error(client.get("/api/v2/users/alice"), 401, "UnauthorizedUserError")
    listed = client.get("/api/v2/users", headers=admin_headers).json()
    assert [u["username"] for u in listed] == ["admin", "alice"]
    assert_error(client.get("/api/v2/users", headers=alice), 403, "ForbiddenUserError")


def test_create_user_errors(client, admin_headers):
    alice = create_user(client, admin_headers, "alice")
    url = "/api/v2/users"
    assert_error(client.post(url, json={"username": "bob", "password": "secret-1"}, headers=alice), 403,
                 "ForbiddenUserError")
    assert_error(client.post(url, json={"username": "alice", "password": "secret-1"}, headers=admin_headers), 409,
                 "ConflictUserError")
    assert_error(client.post(url, json={"username": "b c", "password": "secret-1"}, headers=admin_headers), 400,
                 "InvalidParametersError", "username")
    assert_error(client.post(url, json={"username": "bob", "password": "x"}, headers=admin_headers), 400,
                 "InvalidParametersError", "password")
    assert_error(client.post(url, json={"username": "bob", "password": "secret-1", "admin": "yes"},
                             headers=admin_headers), 400, "InvalidParametersError", "admin")
    assert_error(client.post(url, json={"username": "bob", "password": "secret-1", "virtualCluster": ["nope"]},
                             headers=admin_headers), 400, "NoVirtualClusterError", "nope")
    assert_error(client.post(url, json={"username": "bob", "password": "secret-1", "shoeSize": 9},
                             headers=admin_headers), 400, "InvalidParametersError", "shoeSize")


def test_grant_vcs_and_update_users(client, admin_headers):
    alice = create_user(client, admin_headers, "alice", vcs=["default"])
    assert_error(submit(client, alice, job_yaml("r1", vc="research")), 403, "ForbiddenUserError", "research")
    resp = client.put("/api/v2/users/alice/virtualcluster", json={"virtualCluster": ["default", "research"]},
                      headers=admin_headers)
    assert resp.status_code == 200
    assert client.get("/api/v2/users/alice", headers=alice).json()["virtualCluster"] == ["default", "research"]
    assert submit(client, alice, job_yaml("r1", vc="research")).status_code == 202
    assert_error(client.put("/api/v2/users/alice/virtualcluster", json={"virtualCluster": ["x"]},
                            headers=admin_headers), 400, "NoVirtualClusterError")
    assert_error(client.put("/api/v2/users/alice/virtualcluster", json={"virtualCluster": ["default"]},
                            headers=alice), 403, "ForbiddenUserError")
    assert_error(client.put("/api/v2/users/ghost/virtualcluster", json={"virtualCluster": ["default"]},
                            headers=admin_headers), 404, "NoUserError")
    # v1.8-style PUT /users: admins change anything; users change their own password with the old one.
    resp = client.put("/api/v2/users", json={"data": {"username": "alice", "virtualCluster": ["research"]}},
                      headers=admin_headers)
    assert resp.status_code == 200
    assert client.get("/api/v2/users/alice", headers=alice).json()["virtualCluster"] == ["research"]
    assert_error(client.put("/api/v2/users", json={"data": {"username": "alice", "admin": True}}, headers=alice),
                 403, "ForbiddenUserError")
    assert_error(client.put("/api/v2/users", json={"data": {"username": "alice", "password": "new-secret"}},
                            headers=alice), 400, "InvalidParametersError", "oldPassword")
    assert_error(client.put("/api/v2/users", json={"data": {"username": "alice", "password": "new-secret",
                                                            "oldPassword": "wrong-one"}}, headers=alice),
                 400, "IncorrectPasswordError")
    resp = client.put("/api/v2/users", json={"data": {"username": "alice", "password": "new-secret",
                                                      "oldPassword": "user-secret-1"}}, headers=alice)
    assert resp.status_code == 200
    assert login(client, "alice", "new-secret")["user"] == "alice"


def test_delete_user(client, admin_headers):
    alice = create_user(client, admin_headers, "alice")
    assert_error(client.delete("/api/v2/users/admin", headers=alice), 403, "ForbiddenUserError")
    assert_error(client.delete("/api/v2/users/admin", headers=admin_headers), 403, "ForbiddenUserError")
    assert client.delete("/api/v2/users/alice", headers=admin_headers).status_code == 200
    assert_error(client.get("/api/v2/jobs", headers=alice), 401, "UnauthorizedUserError")
    assert_error(client.delete("/api/v2/users/alice", headers=admin_headers), 404, "NoUserError")


# --- virtual clusters ---

def test_virtual_clusters(client, admin_headers, fake_rm):
    vcs = client.get("/rest-server/api/v2/virtual-clusters", headers=admin_headers).json()
    assert set(vcs) == {"default", "research"}
    d = vcs["default"]
    for key in ("capacity", "usedCapacity", "maxCapacity", "dedicated", "numActiveJobs", "numJobs",
                "numPendingJobs", "status", "nodeList", "resourcesUsed", "resourcesGuaranteed", "resourcesTotal"):
        assert key in d
    # 70 % of 24576 MB, 12 vcores, 4 GPUs.
    assert d["capacity"] == 70.0 and d["status"] == "RUNNING" and d["nodeList"] == ["cpu-worker", "gpu-worker"]
    assert d["resourcesTotal"] == {"cpu": 8, "vCores": 8, "memory": 17203, "gpu": 2, "GPUs": 2}
    assert d["resourcesUsed"]["GPUs"] == 0
    fake_rm.queues = [("default", 100.0, 100.0)]
    one = client.get("/api/v2/virtual-clusters/default", headers=admin_headers).json()
    assert one["resourcesTotal"]["GPUs"] == 4 and one["resourcesTotal"]["memory"] == 24576
    assert_error(client.get("/api/v2/virtual-clusters/research", headers=admin_headers), 404,
                 "NoVirtualClusterError")
    assert_error(client.get("/api/v2/virtual-clusters"), 401, "UnauthorizedUserError")


def test_vc_use_follows_running_jobs(client, admin_headers):
    assert submit(client, admin_headers, job_yaml("long", commands="['sleep 600']", gpu=2)).status_code == 202
    poll(client, admin_headers, "admin~long", until=("RUNNING",))
    used = client.get("/api/v2/virtual-clusters/default", headers=admin_headers).json()["resourcesUsed"]
    assert used == {"cpu": 1, "vCores": 1, "memory": 512, "gpu": 2, "GPUs": 2}


def test_yarn_down_is_503_not_500(client, admin_headers, fake_rm):
    fake_rm.down = True
    assert_error(client.get("/api/v2/virtual-clusters", headers=admin_headers), 503, "YarnUnavailableError")
    assert_error(submit(client, admin_headers, job_yaml("j")), 503, "YarnUnavailableError")
    fake_rm.down = False
    assert submit(client, admin_headers, job_yaml("j")).status_code == 202  # the failed try left no record


# --- jobs: submit, detail, config ---

def test_submit_example_job_to_success(client, admin_headers, fake_rm):
    resp = client.post("/rest-server/api/v2/jobs", content=EXAMPLE_JOB,
                       headers={**admin_headers, "content-type": "text/yaml"})
    assert resp.status_code == 202
    assert resp.json() == {"status": 202, "message": "Update job hello-gpu for user admin successfully."}
    first = client.get("/api/v2/jobs/admin~hello-gpu", headers=admin_headers).json()
    assert first["name"] == "hello-gpu" and first["jobStatus"]["state"] in ("WAITING", "RUNNING")
    assert set(first["taskRoles"]) == {"gpu_worker", "cpu_worker"}
    done = poll(client, admin_headers, "admin~hello-gpu")
    status = done["jobStatus"]
    assert status["state"] == "SUCCEEDED" and status["appExitCode"] == 0
    assert status["appId"].startswith("application_") and status["completedTime"] is not None
    assert status["virtualCluster"] == "default" and status["executionType"] == "START"
    gpu_task = done["taskRoles"]["gpu_worker"]["taskStatuses"][0]
    assert gpu_task["taskIndex"] == 0 and gpu_task["taskState"] == "SUCCEEDED"
    assert gpu_task["containerGpus"] == 1 and gpu_task["containerExitCode"] == 0
    assert gpu_task["containerHostname"] == "gpu-worker"
    # each instance's times: YARN's launch time, and when the server saw it end
    assert gpu_task["launchedTime"] == CLUSTER_TS + 1000
    assert gpu_task["completedTime"] >= status["createdTime"]
    assert first["taskRoles"]["gpu_worker"]["taskStatuses"][0]["completedTime"] is None
    assert gpu_task["containerLog"] == "/rest-server/api/v2/jobs/admin~hello-gpu/taskRoles/gpu_worker/taskIndex/0/logs/stdout"
    # What went to YARN: one component per role, sized, GPU as yarn.io/gpu, queue = VC, NEVER restart.
    posts = [r for r in fake_rm.requests if r[0] == "POST"]
    assert len(posts) == 1 and posts[0][2] == {"user.name": "pai"}
    spec = posts[0][3]
    assert spec["queue"] == "default" and len(spec["name"]) <= 63
    comps = {c["name"]: c for c in spec["components"]}
    assert set(comps) == {"gpu-worker", "cpu-worker"}
    g = comps["gpu-worker"]
    assert g["number_of_containers"] == 1 and g["restart_policy"] == "NEVER"
    assert g["resource"] == {"cpus": 1, "memory": "1024", "additional": {"yarn.io/gpu": {"value": 1, "unit": ""}}}
    assert "additional" not in comps["cpu-worker"]["resource"]
    env = g["configuration"]["env"]
    assert env["PAI_JOB_NAME"] == "admin~hello-gpu" and env["PAI_USER_NAME"] == "admin"
    assert env["PAI_TASK_ROLE_NAME"] == env["PAI_CURRENT_TASK_ROLE_NAME"] == "gpu_worker"
    assert env["PAI_TASK_INDEX"] == "${COMPONENT_ID}" and env["PAI_GPU_COUNT"] == "1"
    assert env["PAI_DOCKER_IMAGE"] == "openpai/lab-job:1"
    assert env["PAI_TASK_ROLE_cpu_worker_HOST_LIST"] == "${CPU-WORKER-0_HOST}"
    script = base64.b64decode(env["PAI_TASK_COMMANDS_B64"]).decode()
    assert script.splitlines()[0] == 'echo "gpu_worker starting on $(hostname)"'
    assert g["launch_command"] == "/opt/openpai/launcher/pai-launch"


def test_submit_json_body_and_dict_protocol_version(client, admin_headers):
    body = yaml.safe_load(job_yaml("as-json"))
    body["protocolVersion"] = "2"
    import json
    assert submit(client, admin_headers, json.dumps(body), "application/json").status_code == 202


def test_job_config_is_yaml_with_secrets_masked(client, admin_headers, fake_rm):
    body = job_yaml("secret-job", commands="['echo <% $secrets.token %> <% $parameters.epochs %>']",
                    extra="secrets: {token: hunter2-xyz}\nparameters: {epochs: 3}\n")
    assert submit(client, admin_headers, body).status_code == 202
    resp = client.get("/api/v2/jobs/admin~secret-job/config", headers=admin_headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/yaml")
    config = yaml.safe_load(resp.text)
    assert config["secrets"] == {"token": "******"} and config["name"] == "secret-job"
    assert config["taskRoles"]["main"]["commands"] == ["echo <% $secrets.token %> <% $parameters.epochs %>"]
    assert "hunter2-xyz" not in resp.text
    platform = client.app.state.platform
    db_file = platform.settings.sqlite_path
    platform.engine.dispose()
    assert b"hunter2-xyz" not in db_file.read_bytes()
    # The container gets the rendered commands.
    env = [r for r in fake_rm.requests if r[0] == "POST"][0][3]["components"][0]["configuration"]["env"]
    assert base64.b64decode(env["PAI_TASK_COMMANDS_B64"]).decode() == "echo hunter2-xyz 3"
    assert_error(client.get("/api/v2/jobs/admin~nope/config", headers=admin_headers), 404, "NoJobError")


def test_duplicate_job_is_409_even_when_finished(client, admin_headers):
    assert submit(client, admin_headers, job_yaml("dup")).status_code == 202
    assert_error(submit(client, admin_headers, job_yaml("dup")), 409, "ConflictJobError", "admin~dup")
    poll(client, admin_headers, "admin~dup")
    assert_error(submit(client, admin_headers, job_yaml("dup")), 409, "ConflictJobError")
    alice = create_user(client, admin_headers, "alice")
    assert submit(client, alice, job_yaml("dup")).status_code == 202  # unique per user


@pytest.mark.parametrize("body, field", [
    ("protocolVersion: 2\nname: x\n  bad: [indent\n", "malformed YAML at line"),
    ("- just\n- a list\n", "must be a mapping"),
    ("", "empty"),
    (job_yaml("x").replace("gpu: 0", "gpu: one"), "taskRoles.main.resourcePerInstance.gpu"),
    (job_yaml("x").replace("gpu: 0", "gpu: -1"), "taskRoles.main.resourcePerInstance.gpu"),
    (job_yaml("x").replace("cpu: 1, ", ""), "taskRoles.main.resourcePerInstance.cpu"),
    (job_yaml("x").replace("instances: 1", "instances: 0"), "taskRoles.main.instances"),
    (job_yaml("x").replace("commands: [echo hi]", "commands: []"), "taskRoles.main.commands"),
    (job_yaml("x").replace("dockerImage: img", "dockerImage: other"), "taskRoles.main.dockerImage"),
    (job_yaml("x").replace("name: x", "name: 'bad name'"), "name"),
    (job_yaml("x").replace("type: job", "type: service"), "type"),
    (job_yaml("x").replace("protocolVersion: 2", "protocolVersion: 1"), "protocolVersion"),
    (job_yaml("x").replace("  main:", "  bad-role:"), "taskRoles"),
    (job_yaml("x") + "colour: red\n", "colour"),
    (job_yaml("x").replace("    commands:", "    shoeSize: 9\n    commands:"), "taskRoles.main.shoeSize"),
    (job_yaml("x").replace("protocolVersion: 2\n", ""), "protocolVersion"),
    (job_yaml("x") + "jobRetryCount: -2\n", "jobRetryCount"),
    (job_yaml("x").replace("uri: 'openpai/lab-job:1'", "uri: ''"), "prerequisites[0].uri"),
    (job_yaml("x").replace("    commands:", "    completion: {minFailedInstances: 5}\n    commands:"),
     "taskRoles.main.completion.minFailedInstances"),
])
def test_bad_protocol_names_the_field(client, admin_headers, body, field):
    resp = submit(client, admin_headers, body)
    assert_error(resp, 400, "InvalidProtocolError", field)


def test_protocol_errors_are_listed_together(client, admin_headers):
    body = job_yaml("x").replace("gpu: 0", "gpu: one").replace("memoryMB: 512", "memoryMB: lots")
    message = submit(client, admin_headers, body).json()["message"]
    assert "taskRoles.main.resourcePerInstance.gpu" in message
    assert "taskRoles.main.resourcePerInstance.memoryMB" in message


def test_submit_vc_and_fit_errors(client, admin_headers, fake_rm):
    assert_error(submit(client, admin_headers, job_yaml("x", vc="nowhere")), 400, "NoVirtualClusterError", "nowhere")
    assert_error(submit(client, admin_headers, job_yaml("x", gpu=8)), 400, "InvalidProtocolError",
                 "taskRoles.main.resourcePerInstance", "gpu 4")
    assert_error(submit(client, {"content-type": "text/yaml"}, job_yaml("x")), 401, "UnauthorizedUserError")
    fake_rm.reject_next = "Component main: resource exceeds the queue's maximum allocation"
    assert_error(submit(client, admin_headers, job_yaml("x")), 400, "InvalidProtocolError", "YARN refused")
    assert client.get("/api/v2/jobs/admin~x", headers=admin_headers).status_code == 404


def test_a_submission_whose_answer_is_lost_keeps_the_job_yarn_has(client, admin_headers, fake_rm):
    # The RM created the service, but its answer timed out: the job stands and runs to its end.
    fake_rm.time_out_next_create = True
    assert submit(client, admin_headers, job_yaml("slow")).status_code == 202
    assert len(fake_rm.services) == 1
    assert poll(client, admin_headers, "admin~slow")["jobStatus"]["state"] == "SUCCEEDED"
    # The RM down before it took anything: 503, and no record left behind.
    fake_rm.down = True
    assert_error(submit(client, admin_headers, job_yaml("never")), 503, "YarnUnavailableError")
    fake_rm.down = False
    assert client.get("/api/v2/jobs/admin~never", headers=admin_headers).status_code == 404
    assert len(fake_rm.services) == 1


def test_the_background_poll_leaves_a_submission_in_flight_alone(make_client, fake_rm):
    # The RM persists the spec before it submits the application; the poll reading the service in between (it
    # says STOPPED, without an id) must not end the job.
    client = make_client(poll_interval_s=0.01)
    headers = bearer(login(client)["token"])
    fake_rm.hold_next_create = threading.Event()
    hold = fake_rm.hold_next_create
    answers: list = []
    submitting = threading.Thread(target=lambda: answers.append(submit(client, headers, job_yaml("racy"))))
    submitting.start()
    assert fake_rm.create_held.wait(5)
    reads_before = sum(1 for r in fake_rm.requests if r[0] == "GET" and r[1].startswith("/app/v1/services/"))
    time.sleep(0.3)  # some thirty rounds of the poll
    hold.set()
    submitting.join(10)
    assert answers and answers[0].status_code == 202, answers
    done = poll(client, headers, "admin~racy")
    assert done["jobStatus"]["state"] == "SUCCEEDED", done["jobStatus"]
    assert done["jobStatus"]["appId"] == next(iter(fake_rm.services.values())).app_id
    # nothing asked YARN about the job while its submission was in flight
    assert reads_before == 0


def test_a_reader_gets_the_stored_record_while_the_submission_is_in_flight(client, admin_headers, fake_rm):
    # The RM holds the submission (as a slow HDFS upload does): a GET of the job answers at once, WAITING,
    # without asking YARN, and the job runs once the submission is answered.
    fake_rm.hold_next_create = hold = threading.Event()
    answers: list = []
    submitting = threading.Thread(target=lambda: answers.append(submit(client, admin_headers, job_yaml("slow"))))
    submitting.start()
    try:
        assert fake_rm.create_held.wait(5)
        reads: list = []
        reader = threading.Thread(target=lambda: reads.append(client.get("/api/v2/jobs/admin~slow",
                                                                          headers=admin_headers)))
        reader.start()
        reader.join(3)
        assert not reader.is_alive(), "the GET waited for the submission"
        during = reads[0]
        assert during.status_code == 200
        assert (during.json()["jobStatus"]["state"], during.json()["jobStatus"]["appId"]) == ("WAITING", None)
        assert not [r for r in fake_rm.requests if r[0] == "GET" and r[1].startswith("/app/v1/services/")]
    finally:
        hold.set()
        submitting.join(10)
    assert answers and answers[0].status_code == 202, answers
    assert poll(client, admin_headers, "admin~slow")["jobStatus"]["state"] == "SUCCEEDED"


def test_a_spec_yarn_never_started_ends_as_lost(client, admin_headers, fake_rm, monkeypatch):
    # The RM wrote the spec, then failed before it submitted an application (it answers 500): the job waits
    # for it, and is lost once that has taken too long.
    fake_rm.persist_then_fail_next_create = True
    assert submit(client, admin_headers, job_yaml("orphan")).status_code == 202
    waiting = client.get("/api/v2/jobs/admin~orphan", headers=admin_headers).json()["jobStatus"]
    assert (waiting["state"], waiting["subState"], waiting["appId"]) == ("WAITING", "SERVICE_UNSUBMITTED", None)
    monkeypatch.setattr(jobs_module, "LOST_AFTER_MS", 0)
    lost = client.get("/api/v2/jobs/admin~orphan", headers=admin_headers).json()["jobStatus"]
    assert (lost["state"], lost["subState"]) == ("FAILED", "YARN_LOST")
    assert "never started" in lost["appExitDiagnostics"]


def test_failed_job_and_completion_policy(client, admin_headers, fake_rm):
    body = job_yaml("fails", commands="['echo start', 'exit 1']", instances=2)
    assert submit(client, admin_headers, body).status_code == 202
    done = poll(client, admin_headers, "admin~fails")
    assert done["jobStatus"]["state"] == "FAILED" and done["jobStatus"]["appExitCode"] != 0
    states = [t["taskState"] for t in done["taskRoles"]["main"]["taskStatuses"]]
    assert states == ["FAILED", "FAILED"]
    # The policy (minFailedInstances: 1) decided before YARN did and stopped the rest of the service.
    assert done["jobStatus"]["subState"] == "COMPLETION_POLICY_FAILED"
    assert any(r[0] == "PUT" and r[3] == {"state": "STOPPED"} for r in fake_rm.requests)


def test_job_retry_count_restarts_the_service(client, admin_headers, fake_rm):
    body = job_yaml("retry", commands="['exit 1']", extra="jobRetryCount: 1\n")
    assert submit(client, admin_headers, body).status_code == 202
    done = poll(client, admin_headers, "admin~retry", tries=20)
    assert done["jobStatus"]["state"] == "FAILED" and done["jobStatus"]["retries"] == 1
    assert any(r[0] == "PUT" and r[3] == {"state": "STARTED"} for r in fake_rm.requests)
    svc = next(iter(fake_rm.services.values()))
    assert len(svc.apps) == 2 and done["jobStatus"]["appId"] == svc.apps[1]


def test_task_retry_count_maps_to_on_failure(client, admin_headers, fake_rm):
    body = job_yaml("tr").replace("    commands:", "    taskRetryCount: 2\n    commands:")
    assert submit(client, admin_headers, body).status_code == 202
    comp = [r for r in fake_rm.requests if r[0] == "POST"][0][3]["components"][0]
    assert comp["restart_policy"] == "ON_FAILURE"
    assert comp["configuration"]["properties"]["yarn.service.container-failure.retry.max"] == "2"


def test_get_job_errors(client, admin_headers):
    assert_error(client.get("/api/v2/jobs/admin~nothing", headers=admin_headers), 404, "NoJobError",
                 "Job admin~nothing is not found.")
    assert_error(client.get("/api/v2/jobs/no-tilde", headers=admin_headers), 404, "NoJobError")
    assert_error(client.get("/api/v2/jobs/admin~x"), 401, "UnauthorizedUserError")


def test_any_user_reads_any_job_and_attempts(client, admin_headers):
    assert submit(client, admin_headers, job_yaml("shared")).status_code == 202
    alice = create_user(client, admin_headers, "alice")
    assert client.get("/api/v2/jobs/admin~shared", headers=alice).status_code == 200
    assert client.get("/api/v2/jobs/admin~shared/attempts/0", headers=alice).json()["name"] == "shared"
    assert_error(client.get("/api/v2/jobs/admin~shared/attempts/3", headers=alice), 404, "NoJobError")


# --- stop ---

def test_stop_running_job(client, admin_headers, fake_rm):
    assert submit(client, admin_headers, job_yaml("sleeper", commands="['sleep 600']")).status_code == 202
    assert poll(client, admin_headers, "admin~sleeper", until=("RUNNING",))["jobStatus"]["state"] == "RUNNING"
    resp = client.put("/api/v2/jobs/admin~sleeper/executionType", json={"value": "STOP"}, headers=admin_headers)
    assert resp.status_code == 202
    assert resp.json() == {"status": 202, "message": "Execute job admin~sleeper successfully."}
    done = poll(client, admin_headers, "admin~sleeper")
    assert done["jobStatus"]["state"] == "STOPPED" and done["jobStatus"]["executionType"] == "STOP"
    assert done["jobStatus"]["appExitCode"] == -7351
    assert done["taskRoles"]["main"]["taskStatuses"][0]["taskState"] == "STOPPED"
    svc = next(iter(fake_rm.services.values()))
    assert svc.stopped
    # Stopping again is accepted and changes nothing.
    again = client.put("/api/v2/jobs/admin~sleeper/executionType", json={"value": "STOP"}, headers=admin_headers)
    assert again.status_code == 202
    assert poll(client, admin_headers, "admin~sleeper")["jobStatus"]["state"] == "STOPPED"


def test_stop_waiting_job_and_errors(client, admin_headers):
    assert submit(client, admin_headers, job_yaml("w", commands="['sleep 600']")).status_code == 202
    alice = create_user(client, admin_headers, "alice")
    url = "/api/v2/jobs/admin~w/executionType"
    assert_error(client.put(url, json={"value": "STOP"}, headers=alice), 403, "ForbiddenUserError")
    assert_error(client.put(url, json={"value": "PAUSE"}, headers=admin_headers), 400, "InvalidParametersError",
                 "value")
    assert_error(client.put(url, content=b"{", headers=admin_headers), 400, "InvalidParametersError")
    assert_error(client.put("/api/v2/jobs/admin~none/executionType", json={"value": "STOP"},
                            headers=admin_headers), 404, "NoJobError")
    assert client.put(url, json={"value": "STOP"}, headers=admin_headers).status_code == 202
    assert poll(client, admin_headers, "admin~w")["jobStatus"]["state"] == "STOPPED"


# --- list ---

def test_list_jobs_filters_order_paging(client, admin_headers):
    alice = create_user(client, admin_headers, "alice", vcs=["default", "research"])
    assert submit(client, admin_headers, job_yaml("a-one")).status_code == 202
    assert submit(client, alice, job_yaml("b-two", vc="research", gpu=1)).status_code == 202
    assert submit(client, alice, job_yaml("c-three", commands="['sleep 600']", instances=2)).status_code == 202
    poll(client, alice, "alice~b-two")
    poll(client, admin_headers, "admin~a-one")
    poll(client, alice, "alice~c-three", until=("RUNNING",))

    def names(query=""):
        resp = client.get(f"/api/v2/jobs{query}", headers=alice)
        assert resp.status_code == 200, resp.text
        return [j["name"] for j in resp.json()]

    assert names() == ["c-three", "b-two", "a-one"]  # submissionTime,DESC by default
    assert names("?order=jobName,ASC") == ["a-one", "b-two", "c-three"]
    assert names("?order=totalTaskNumber,DESC")[0] == "c-three"
    assert names("?username=alice") == ["c-three", "b-two"]
    assert names("?username=admin,alice&vc=research") == ["b-two"]
    assert names("?state=RUNNING,WAITING") == ["c-three"]
    assert names("?state=SUCCEEDED") == ["b-two", "a-one"]
    assert names("?state=SUCCEEDED&username=alice") == ["b-two"]
    assert names("?keyword=thr") == ["c-three"]
    assert names("?keyword=research") == ["b-two"]
    assert names("?keyword=%25") == []
    assert names("?offset=1&limit=1") == ["b-two"]
    counted = client.get("/api/v2/jobs?withTotalCount=true&limit=2", headers=alice).json()
    assert counted["totalCount"] == 3 and len(counted["data"]) == 2
    summary = client.get("/api/v2/jobs?username=alice&vc=research", headers=alice).json()[0]
    assert summary["totalGpuNumber"] == 1 and summary["totalTaskNumber"] == 1 and summary["totalTaskRoleNumber"] == 1
    assert summary["username"] == "alice" and summary["virtualCluster"] == "research"
    assert summary["state"] == "SUCCEEDED" and summary["completedTime"] is not None
    assert_error(client.get("/api/v2/jobs?limit=50001", headers=alice), 400, "InvalidParametersError", "limit")
    assert_error(client.get("/api/v2/jobs?offset=-1", headers=alice), 400, "InvalidParametersError", "offset")
    assert_error(client.get("/api/v2/jobs?limit=abc", headers=alice), 400, "InvalidParametersError", "limit")
    assert_error(client.get("/api/v2/jobs?order=shoeSize,ASC", headers=alice), 400, "InvalidParametersError", "order")
    assert_error(client.get("/api/v2/jobs?order=jobName,UP", headers=alice), 400, "InvalidParametersError", "order")
    assert_error(client.get("/api/v2/jobs?withTotalCount=maybe", headers=alice), 400, "InvalidParametersError")
    assert_error(client.get("/api/v2/jobs"), 401, "UnauthorizedUserError", "Guest")


# --- restarts ---

def test_records_survive_restart_and_reconcile(make_client, fake_rm):
    first = make_client()
    headers = bearer(login(first)["token"])
    assert submit(first, headers, job_yaml("done")).status_code == 202
    poll(first, headers, "admin~done")
    assert submit(first, headers, job_yaml("open", commands="['sleep 600']")).status_code == 202
    first.__exit__(None, None, None)
    # While the server is down, the long job is killed on YARN.
    svc = next(s for s in fake_rm.services.values() if "open" in s.spec["name"])
    svc.app_state, svc.final_status = "KILLED", "KILLED"
    second = make_client()
    # The token of the first instance is still valid (the signing key lives in the database).
    done = second.get("/api/v2/jobs/admin~done", headers=headers).json()
    assert done["jobStatus"]["state"] == "SUCCEEDED"
    assert second.get("/api/v2/jobs/admin~done/config", headers=headers).status_code == 200
    # Reconciled at start: no request for it was needed.
    platform = second.app.state.platform
    with platform.sessions() as s:
        from pai_rest_server.db import Job
        from sqlalchemy import select
        row = s.scalar(select(Job).where(Job.name == "open"))
    assert row.state == "FAILED" and row.sub_state.startswith("APPLICATION_KILLED")
    assert_error(submit(second, headers, job_yaml("done")), 409, "ConflictJobError")


def test_admin_from_settings_kept_across_restarts(make_client):
    first = make_client()
    headers = bearer(login(first)["token"])
    assert first.put("/api/v2/users", json={"data": {"username": "admin", "password": "changed-pass"}},
                     headers=headers).status_code == 200
    first.__exit__(None, None, None)
    second = make_client()
    assert login(second, "admin", "changed-pass")["admin"] is True  # not reset by the start


def test_background_poll_follows_jobs(make_client, fake_rm):
    client = make_client(poll_interval_s=0.05)
    headers = bearer(login(client)["token"])
    assert submit(client, headers, job_yaml("bg")).status_code == 202
    platform = client.app.state.platform
    deadline = time.time() + 10
    while time.time() < deadline:
        with platform.sessions() as s:
            from pai_rest_server.db import Job
            from sqlalchemy import select
            state = s.scalar(select(Job.state).where(Job.name == "bg"))
        if state == "SUCCEEDED":
            break
        time.sleep(0.05)
    assert state == "SUCCEEDED"


# --------------------------------------------------------------------------- task logs

def test_task_logs_come_from_the_containers_nodemanager(client, admin_headers, fake_rm):
    assert client.post("/api/v2/jobs", content=EXAMPLE_JOB,
                       headers={**admin_headers, "content-type": "text/yaml"}).status_code == 202
    done = poll(client, admin_headers, "admin~hello-gpu")
    task = done["taskRoles"]["gpu_worker"]["taskStatuses"][0]
    # The link in the job's detail is the API's own path (through pylon), read with the caller's token.
    resp = client.get(task["containerLog"], headers=admin_headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert resp.text == fake_rm.log_text(task["containerId"], "stdout.txt")
    # Asked of the NodeManager at the container's address, as the YARN user, never anonymously.
    node_calls = [r for r in fake_rm.requests if r[1].startswith("/ws/v1/node/")]
    assert node_calls[-1][1] == f"/ws/v1/node/containerlogs/{task['containerId']}/stdout.txt"
    assert node_calls[-1][2]["user.name"] == "pai"
    stderr = client.get("/api/v2/jobs/admin~hello-gpu/taskRoles/cpu_worker/taskIndex/0/logs/stderr?tail=100",
                        headers=admin_headers)
    cpu = done["taskRoles"]["cpu_worker"]["taskStatuses"][0]
    assert stderr.status_code == 200
    assert stderr.text == fake_rm.log_text(cpu["containerId"], "stderr.txt").encode()[-100:].decode()


def test_task_log_errors(client, admin_headers, fake_rm):
    base = "/api/v2/jobs/admin~hello-gpu/taskRoles"
    assert client.get(f"{base}/gpu_worker/taskIndex/0/logs/stdout", headers=admin_headers).json()["code"] == \
        "NoJobError"
    assert client.post("/api/v2/jobs", content=EXAMPLE_JOB,
                       headers={**admin_headers, "content-type": "text/yaml"}).status_code == 202
    done = poll(client, admin_headers, "admin~hello-gpu")
    cases = [
        (f"{base}/gpu_worker/taskIndex/0/logs/stdout", None, 401, "UnauthorizedUserError"),
        (f"{base}/nope/taskIndex/0/logs/stdout", admin_headers, 404, "NoTaskRoleError"),
        (f"{base}/gpu_worker/taskIndex/3/logs/stdout", admin_headers, 404, "NoTaskError"),
        (f"{base}/gpu_worker/taskIndex/x/logs/stdout", admin_headers, 400, "InvalidParametersError"),
        (f"{base}/gpu_worker/taskIndex/0/logs/syslog", admin_headers, 400, "InvalidParametersError"),
        (f"{base}/gpu_worker/taskIndex/0/logs/stdout?tail=0", admin_headers, 400, "InvalidParametersError"),
    ]
    for url, headers, status, code in cases:
        resp = client.get(url, headers=headers or {})
        assert (resp.status_code, resp.json()["code"]) == (status, code), url
        assert resp.json()["message"]
    assert "file: must be one of stdout, stderr" in client.get(cases[4][0], headers=admin_headers).json()["message"]
    fake_rm.logs_gone.add(done["taskRoles"]["gpu_worker"]["taskStatuses"][0]["containerId"])
    gone = client.get(f"{base}/gpu_worker/taskIndex/0/logs/stdout", headers=admin_headers)
    assert gone.status_code == 404 and gone.json()["code"] == "NoTaskLogError"
    assert "retain-seconds" in gone.json()["message"]
    fake_rm.down = True
    down = client.get(f"{base}/cpu_worker/taskIndex/0/logs/stdout", headers=admin_headers)
    assert down.status_code == 503 and down.json()["code"] == "YarnUnavailableError"
