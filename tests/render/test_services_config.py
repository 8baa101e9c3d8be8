"""The configuration files a config push stores besides prometheus.yml and pylon's nginx
configuration (tested in tests/unit/test_services.py and test_pylon.py): Alertmanager's
(receivers from the inventory, none by default; amtool check-config when installed) and the
REST server's settings file, read by the REST server's own settings loader."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT
from paictl import inventory

TEMPLATES = ROOT / "collections/ansible_collections/openpai/cluster/roles/services/templates"
AMTOOL = shutil.which("amtool")


def render(name, **overrides):
    from ansible.template import Templar, trust_as_template

    variables = dict(inventory.role_defaults("openpai"))   # the services role depends on openpai
    variables.update(inventory.role_defaults("services"))
    variables.update({"services_master_address": "10.10.0.1",
                      "openpai_cluster": {"master_address": "10.10.0.1", "apiserver_address": "10.10.0.9"}})
    variables.update(overrides)
    return Templar(loader=None, variables=variables).template(trust_as_template((TEMPLATES / name).read_text()))


def rest_settings_module():
    path = ROOT / "services/rest-server/src/pai_rest_server/settings.py"
    spec = importlib.util.spec_from_file_location("pai_rest_settings_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_alertmanager_has_no_receiver_by_default():
    doc = yaml.safe_load(render("alertmanager.yml.j2"))
    assert doc["receivers"] == [{"name": "default"}]
    assert doc["route"]["receiver"] == "default" and doc["route"]["group_by"] == ["alertname", "node_name"]


def test_alertmanager_receivers_and_route_from_the_inventory(tmp_path):
    hook = {"name": "ops", "webhook_configs": [{"url": "http://10.0.0.5:5001/alerts"}]}
    doc = yaml.safe_load(render("alertmanager.yml.j2", services_alertmanager_receivers=[hook],
                                services_alertmanager_route={"receiver": "ops", "repeat_interval": "1h"}))
    assert doc["receivers"] == [{"name": "default"}, hook]
    assert doc["route"]["receiver"] == "ops" and doc["route"]["repeat_interval"] == "1h"
    assert doc["route"]["group_wait"] == "30s"
    if AMTOOL:
        conf = tmp_path / "alertmanager.yml"
        conf.write_text(yaml.safe_dump(doc))
        res = subprocess.run([AMTOOL, "check-config", str(conf)], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr


def test_the_rest_server_accepts_its_settings_file(tmp_path):
    settings = rest_settings_module()
    conf = tmp_path / "rest-server.yaml"
    conf.write_text(render("rest-server.yaml.j2", openpai_admin_username="root",
                           hadoop_resourcemanager_webapp_port=18088))
    loaded = settings.load_settings({"PAI_REST_CONFIG_FILE": str(conf), "PAI_REST_ADMIN_PASSWORD": "s3cret-pw"})
    assert loaded.admin_username == "root"
    assert loaded.yarn_rm_url == "http://10.10.0.1:18088"
    assert loaded.port == 9186
    # Jobs go to YARN as the user whose HDFS home role hadoop_hdfs makes, through the
    # launcher role job_runtime installs.
    assert loaded.yarn_user == "pai"
    assert loaded.launcher_command == "/opt/openpai/launcher/pai-launch"
    # The node view: the cluster model the pod mounts, the NameNode's web UI, the API server.
    assert loaded.cluster_file == "/etc/openpai/cluster.yaml"
    assert loaded.hdfs_namenode_url == "http://10.10.0.1:50070"
    assert loaded.kubernetes_api_url == "https://10.10.0.9:6443"
    assert "password" not in conf.read_text() and "secret" not in conf.read_text()


def test_a_bad_rest_server_override_is_refused_by_the_rest_server(tmp_path):
    settings = rest_settings_module()
    conf = tmp_path / "rest-server.yaml"
    conf.write_text(render("rest-server.yaml.j2", services_rest_server_settings={"no_such_setting": 1}))
    with pytest.raises(settings.SettingsError, match="unknown settings no_such_setting"):
        settings.load_settings({"PAI_REST_CONFIG_FILE": str(conf), "PAI_REST_ADMIN_PASSWORD": "s3cret-pw"})
