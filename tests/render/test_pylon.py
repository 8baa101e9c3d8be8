"""pylon's nginx configuration (roles/services/templates/pylon-nginx.conf.j2), rendered with
Ansible's templar from the role's defaults, checked by Debian's `nginx -t`, and then served
by a real nginx on loopback in front of small stand-in upstreams: /healthz without login,
the admin UIs refused without credentials and admitted with HTTP Basic, a Bearer token or
the portal's cookie (as the REST server's check decides), redirects and links under /yarn/,
/rest-server/api rewritten with its query string kept."""

from __future__ import annotations

import base64
import http.server
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from paictl import inventory

TEMPLATE = ROOT / "collections/ansible_collections/openpai/cluster/roles/services/templates/pylon-nginx.conf.j2"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)")
BASIC = "Basic " + base64.b64encode(b"admin:s3cret").decode()


def render(**overrides) -> str:
    """The template rendered as the role renders it: role defaults, then `overrides`."""
    from ansible.template import Templar, trust_as_template

    variables = dict(inventory.role_defaults("services"))
    variables["services_master_address"] = "10.10.0.1"  # openpai_cluster.master_address in a play
    variables.update(overrides)
    templar = Templar(loader=None, variables=variables)
    return templar.template(trust_as_template(TEMPLATE.read_text()))


def nginx_test(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    return subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_defaults_listen_on_80_and_proxy_to_the_master():
    text = render(services_master_address="10.10.0.1")
    assert "listen 80;" in text
    assert "proxy_pass http://10.10.0.1:9186/api/v2/authn/check?admin=true;" in text
    assert "proxy_pass http://10.10.0.1:8088;" in text and "proxy_pass http://10.10.0.1:50070;" in text
    assert "proxy_pass http://10.10.0.1:9286;" in text
    assert "ssl_certificate" not in text
    assert text.count("auth_request /_pylon_auth;") == 4  # yarn, hdfs, prometheus, alertmanager


def test_pylon_port_and_hadoop_ports_from_the_inventory():
    text = render(pylon_port=8080, hadoop_resourcemanager_webapp_port=18088, services_master_address="10.0.0.9")
    assert "listen 8080;" in text and "proxy_pass http://10.0.0.9:18088;" in text


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path):
    res = nginx_test(tmp_path, render(services_pylon_nginx_pid=str(tmp_path / "nginx.pid")))
    assert res.returncode == 0, res.stderr
    assert "syntax is ok" in res.stderr


@needs_nginx
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_nginx_accepts_the_tls_configuration(tmp_path):
    cert, key = tmp_path / "pylon.crt", tmp_path / "pylon.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pylon",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    text = render(pylon_port=443, services_pylon_tls_certificate=str(cert), services_pylon_tls_key=str(key),
                  services_pylon_nginx_pid=str(tmp_path / "nginx.pid"))
    assert "listen 443 ssl;" in text and "ssl_certificate %s;" % cert in text
    res = nginx_test(tmp_path, text)
    assert res.returncode == 0, res.stderr


@needs_nginx
def test_nginx_refuses_a_broken_upstream(tmp_path):
    # nginx -t really checks what we render: an upstream URL without a scheme is refused.
    res = nginx_test(tmp_path, render(services_pylon_nginx_pid=str(tmp_path / "nginx.pid"),
                                      services_pylon_upstreams={"webportal": "10.0.0.1:9286", "rest_server": "x",
                                                                "yarn": "y", "hdfs": "z", "prometheus": "p",
                                                                "alertmanager": "a"}))
    assert res.returncode != 0


class _Upstream(http.server.BaseHTTPRequestHandler):
    """A stand-in for one upstream: echoes its name and the request line; the REST
    server's check admits admin's Basic, the Bearer token "good" or cookie pai_token=good; the
    Bearer token "user" (a non-admin) only when the check does not ask for an admin."""

    name = "?"
    seen: list

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.seen.append((self.name, self.path, dict(self.headers)))
        path = self.path.split("?")[0] if self.name in ("yarn", "hdfs") else self.path
        if self.name == "rest" and self.path.startswith("/api/v2/authn/check"):
            ok = (self.headers.get("Authorization") in (BASIC, "Bearer good")
                  or "pai_token=good" in (self.headers.get("Cookie") or "")
                  or (self.headers.get("Authorization") == "Bearer user" and "admin=true" not in self.path))
            self._answer(200 if ok else 401, "checked")
        elif self.name == "yarn" and path == "/":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/cluster" % self.server.server_port)
            self.end_headers()
        elif self.name == "yarn" and path == "/cluster":
            port = self.server.server_port
            self._answer(200, '<a href="/cluster/app/app_1">app</a> <script src="/static/yarn.js"></script> '
                              "<a href='http://127.0.0.1:%d/conf'>conf</a>" % port, "text/html")
        else:
            self._answer(200, "%s %s" % (self.name, self.path))

    def _answer(self, status, body, kind="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url, headers=None):
    """(status, headers, body) without following redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


@pytest.fixture
def pylon(tmp_path):
    """A real nginx with the rendered configuration in front of stand-in upstreams."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package nginx)")
    seen = []
    servers, upstreams = [], {}
    for key, name in (("webportal", "portal"), ("rest_server", "rest"), ("yarn", "yarn"), ("hdfs", "hdfs"),
                      ("prometheus", "prometheus"), ("alertmanager", "alertmanager")):
        handler = type("Upstream_" + name, (_Upstream,), {"name": name, "seen": seen})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        upstreams[key] = "http://127.0.0.1:%d" % server.server_port
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(pylon_port=port, services_pylon_upstreams=upstreams,
                           services_pylon_nginx_pid=str(tmp_path / "nginx.pid")))
    proc = subprocess.Popen([NGINX, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(100):
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            proc.terminate()
            pytest.fail("nginx did not start: %s" % proc.communicate(timeout=10)[0])
        yield base, upstreams, seen
    finally:
        proc.terminate()
        proc.wait(10)
        for server in servers:
            server.shutdown()


def test_healthz_answers_without_login(pylon):
    base, _, _ = pylon
    status, _, body = get(base + "/healthz")
    assert (status, body) == (200, "ok\n")


@pytest.mark.parametrize("path", ["/yarn/", "/hdfs/", "/prometheus/", "/alertmanager/"])
def test_admin_uis_need_a_login(pylon, path):
    base, _, seen = pylon
    status, headers, _ = get(base + path)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic realm=")
    assert not [s for s in seen if s[0] not in ("rest",)], "an admin UI was reached without login"
    checks = [s for s in seen if s[0] == "rest"]
    assert checks and checks[-1][1] == "/api/v2/authn/check?admin=true"
    assert checks[-1][2]["X-Original-URI"] == path


@pytest.mark.parametrize("headers", [{"Authorization": BASIC}, {"Authorization": "Bearer good"},
                                     {"Cookie": "lang=en; pai_token=good"}])
def test_admin_uis_answer_after_login(pylon, headers):
    base, _, _ = pylon
    for path, expected in (("/hdfs/dfshealth.html", "hdfs /dfshealth.html?user.name=admin"),
                           ("/hdfs/jmx?qry=Hadoop:*", "hdfs /jmx?qry=Hadoop:*&user.name=admin"),
                           ("/prometheus/graph?g0.expr=up", "prometheus /prometheus/graph?g0.expr=up"),
                           ("/alertmanager/api/v2/status", "alertmanager /alertmanager/api/v2/status")):
        status, _, body = get(base + path, headers)
        assert (status, body) == (200, expected)
    assert get(base + "/yarn/", {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()})[0] == 401


def test_yarn_redirects_and_links_stay_under_the_prefix(pylon):
    base, upstreams, _ = pylon
    status, headers, _ = get(base + "/yarn/", {"Authorization": BASIC})
    assert status == 302
    assert headers["Location"].endswith("/yarn/cluster") and upstreams["yarn"] not in headers["Location"]
    status, _, body = get(base + "/yarn/cluster", {"Authorization": BASIC})
    assert status == 200
    assert 'href="/yarn/cluster/app/app_1"' in body and 'src="/yarn/static/yarn.js"' in body
    assert "href='/yarn/conf'" in body and upstreams["yarn"] not in body


def test_hadoop_uis_are_asked_as_the_pylon_user_without_the_users_credentials(pylon):
    base, _, seen = pylon
    status, _, body = get(base + "/yarn/cluster/apps?states=RUNNING", {"Authorization": BASIC,
                                                                      "Cookie": "pai_token=x; hadoop.auth=forged"})
    assert status == 200
    [(name, path, headers)] = [s for s in seen if s[0] == "yarn"]
    assert path == "/cluster/apps?states=RUNNING&user.name=admin"
    assert "Authorization" not in headers and "Cookie" not in headers


def test_rest_server_api_is_rewritten_with_its_query(pylon):
    base, _, seen = pylon
    status, _, body = get(base + "/rest-server/api/v2/jobs?username=alice&offset=5")
    assert (status, body) == (200, "rest /api/v2/jobs?username=alice&offset=5")


def test_everything_else_goes_to_the_portal(pylon):
    base, _, _ = pylon
    assert get(base + "/job-detail.html?username=a")[2] == "portal /job-detail.html?username=a"


def test_prometheus_query_api_is_open_to_every_user_the_rest_to_admins(pylon):
    """The portal's charts: query and query_range for any logged-in user; the UI and every other API only admins."""
    base, _, seen = pylon
    user = {"Authorization": "Bearer user"}
    status, _, body = get(base + "/prometheus/api/v1/query_range?query=up&step=30", user)
    assert (status, body) == (200, "prometheus /prometheus/api/v1/query_range?query=up&step=30")
    checks = [s for s in seen if s[0] == "rest"]
    assert checks[-1][1] == "/api/v2/authn/check"
    [(_, _, headers)] = [s for s in seen if s[0] == "prometheus"]
    assert "Authorization" not in headers  # the user's token stays in pylon
    assert get(base + "/prometheus/api/v1/query?query=up", user)[0] == 200
    for path in ("/prometheus/graph", "/prometheus/api/v1/admin/tsdb/snapshot", "/prometheus/api/v1/query_rangex",
                 "/alertmanager/"):
        assert get(base + path, user)[0] == 401, path
    assert get(base + "/prometheus/api/v1/query_range?query=up")[0] == 401
