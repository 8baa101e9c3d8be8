"""The static page: every asset there, nothing from outside, the image's nginx
configuration valid, and the YAML the form writes read back as the same protocol."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pai_webportal import ASSETS, STATIC_DIR

HERE = Path(__file__).parent
ROOT = HERE.parent


def test_node_unit_tests_pass() -> None:
    out = subprocess.run(["node", "--test", str(HERE / "js")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"^# fail 0$", out.stdout, re.M) and re.search(r"^# pass [1-9]", out.stdout, re.M)


def test_every_asset_is_in_the_image_and_referenced() -> None:
    present = sorted(p.name for p in STATIC_DIR.iterdir() if p.is_file())
    assert present == sorted(ASSETS)
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert {"app.js", "style.css"} <= set(refs)
    for ref in refs:
        assert ref.startswith("data:") or (STATIC_DIR / ref).is_file(), ref
    # every module app.js imports exists and exports what it takes
    app = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    lib = (STATIC_DIR / "lib.js").read_text(encoding="utf-8")
    names, module = re.search(r"import \{([^}]*)\} from \"\./([\w.]+)\"", app).groups()
    assert module == "lib.js"
    exported = set(re.findall(r"^export (?:function|const) (\w+)", lib, re.M))
    missing = {n.strip() for n in names.split(",") if n.strip()} - exported
    assert not missing, missing


def test_nothing_is_fetched_from_outside() -> None:
    for name in ASSETS:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, f"{name}: {sorted(urls)}"
        assert "@import" not in text and "//cdn" not in text


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is installed by .ci/run")
def test_image_nginx_configuration_is_valid(tmp_path: Path) -> None:
    conf = (ROOT / "image" / "nginx.conf").read_text(encoding="utf-8")
    conf = conf.replace("/usr/share/openpai/webportal", str(STATIC_DIR)).replace("/tmp/", f"{tmp_path}/")
    conf = conf.replace("listen 9286;", "listen 127.0.0.1:19286;")
    path = tmp_path / "nginx.conf"
    path.write_text(conf, encoding="utf-8")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    out = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_the_form_yaml_reads_back_as_the_protocol() -> None:
    script = """
      import { buildJob, toYaml } from "%s";
      const job = buildJob({ name: "j-1", virtualCluster: "default", image: "openpai/lab-job:1",
        roles: [{ name: "train", instances: "2", cpu: "1", memoryMB: "1024", gpu: "1",
                  commands: "echo \\"a: b\\" # no comment\\nnvidia-smi -L\\n- dash\\n'quoted'" },
                { name: "ps", instances: "1", cpu: "1", memoryMB: "512", gpu: "0", commands: "" }] });
      console.log(JSON.stringify({ job, yaml: toYaml(job) }));
    """ % (STATIC_DIR / "lib.js").as_uri()
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert yaml.safe_load(data["yaml"]) == data["job"]
