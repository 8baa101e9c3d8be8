"""The portal in a real browser, against a live platform (the lab through pylon).

In order: a wrong password is refused on the page; login; the default VC's GPUs;
a GPU chart with data points; a 1-GPU job from the form to SUCCEEDED with its
log; invalid YAML and an invalid form field answered next to the field; a
running job stopped from its page; the jobs list; logout. Screenshots of the
jobs list, a job's detail and the cluster page go to PAI_ARTIFACTS.
"""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import Portal

JOB_TIMEOUT_S = 420


def fill_form(portal: Portal, name: str, commands: str, gpu: int = 0) -> None:
    portal.open("/submit")
    portal.type("#job-name", name)
    portal.wait("the default VC in the form", lambda: "default" in [
        o.get_attribute("value") for o in Select(portal.el("#job-vc")).options])
    Select(portal.el("#job-vc")).select_by_value("default")
    portal.type("#job-image", portal.image)
    portal.type("[name=role-0-name]", "main")
    portal.type("[name=role-0-gpu]", str(gpu))
    portal.type("[name=role-0-memoryMB]", "1024")
    portal.type("[name=role-0-commands]", commands)
    portal.el("#form-submit").click()


def state_of(portal: Portal) -> str:
    return portal.text("#job-state")


def test_a_wrong_password_shows_an_error(portal: Portal) -> None:
    portal.login(password=portal.password + "-wrong")
    message = portal.wait("the login error", lambda: portal.text("#login-error"))
    assert "Wrong user name or password" in message
    assert portal.driver.execute_script("return localStorage.getItem('pai.token')") is None


def test_login_shows_the_user_and_the_jobs(portal: Portal) -> None:
    portal.login()
    portal.wait("the jobs page", lambda: portal.text("main h1") == "Jobs")
    assert portal.text("#who").startswith(portal.user)
    # an admin sees the links into the admin UIs, and pylon lets the portal's cookie through
    links = [a.get_attribute("href") for a in portal.driver.find_elements(By.CSS_SELECTOR, "a.admin-link")]
    assert any(h.endswith("/yarn/") for h in links) and any(h.endswith("/prometheus/") for h in links)


def test_the_default_vc_shows_its_gpus(portal: Portal) -> None:
    portal.open("/cluster")
    shown = portal.wait("the default VC's GPU total", lambda: portal.driver.execute_script(
        "const e = document.querySelector('[data-vc=default] .vc-gpu-total'); return e && e.textContent"))
    expected = portal.api("/virtual-clusters/default")["resourcesTotal"]["GPUs"]
    assert int(shown) == expected and expected > 0, (shown, expected)
    bar_text = portal.text("[data-vc=default] .vc-gpu .num")
    assert bar_text.endswith(f"/ {expected}")


def test_the_nodes_and_a_gpu_chart_with_data(portal: Portal) -> None:
    portal.open("/cluster")
    nodes = portal.api("/cluster/nodes")["nodes"]
    gpu_nodes = [n for n in nodes if n["gpuCount"] > 0]
    assert gpu_nodes, nodes
    for n in nodes:
        row = portal.el(f"tr[data-node='{n['name']}']")
        assert n["name"] in row.text
        if n["kubernetes"]["ready"] is not None:
            assert row.find_element(By.CSS_SELECTOR, "td.k8s").text == ("Ready" if n["kubernetes"]["ready"] else "NotReady")
    gpu_row = portal.el(f"tr[data-node='{gpu_nodes[0]['name']}']").text
    assert f"{gpu_nodes[0]['gpuCount']} ×" in gpu_row and "RUNNING" in gpu_row and "live" in gpu_row
    # the chart draws Prometheus' samples (the portal refreshes every 30 s; a new page load is quicker)
    def points() -> int:
        portal.open("/cluster")
        paths = portal.wait("the GPU charts", lambda: portal.driver.find_elements(
            By.CSS_SELECTOR, "figure.chart[data-metric=gpu-util] path.series")
            or portal.driver.find_elements(By.CSS_SELECTOR, "figure.chart[data-metric=gpu-util] p.empty"), 30)
        return sum(int(p.get_attribute("data-points") or 0) for p in paths if p.tag_name == "path")
    count = portal.wait("a GPU utilisation chart with data points", lambda: points() >= 2, 180, 10)
    assert count
    assert portal.text("#hdfs-capacity").startswith("HDFS:") and "live" in portal.text("#hdfs-capacity")
    portal.screenshot("cluster")


def test_a_one_gpu_job_from_the_form_succeeds_and_shows_its_log(portal: Portal) -> None:
    name = f"portal-gpu{portal.suffix}"
    fill_form(portal, name, 'echo "visible GPUs: ${CUDA_VISIBLE_DEVICES:-${NVIDIA_VISIBLE_DEVICES:-none}}"\n'
                            "echo portal-job-done\nsleep 25", gpu=1)  # seen running: its log link (see verify_jobs)
    portal.wait("the job's page", lambda: portal.text("#job-detail h1") == name, 60)
    final = portal.wait("the job to end", lambda: state_of(portal) in ("SUCCEEDED", "FAILED", "STOPPED")
                        and state_of(portal), JOB_TIMEOUT_S, 3)
    assert final == "SUCCEEDED", portal.text("#job-detail")
    row = portal.el("tr[data-task='main-0']")
    assert "SUCCEEDED" in row.text
    assert row.find_elements(By.CSS_SELECTOR, "td")[3].text == "1"  # its GPU
    row.find_element(By.CSS_SELECTOR, "a.log-stdout").click()
    log = portal.wait("the task's stdout", lambda: "portal-job-done" in portal.text("#log-view")
                      and portal.text("#log-view"), 60)
    assert "portal-job-done" in log
    # the task saw exactly one GPU, and the log is the task's own output (no NodeManager wrapper)
    assert re.search(r"^visible GPUs: \d+$", log, re.M), log
    assert not log.startswith("Container: ")
    portal.screenshot("job-detail")


def test_invalid_yaml_and_an_invalid_field_are_shown_next_to_them(portal: Portal) -> None:
    portal.open("/submit")
    portal.el("#tab-yaml").click()
    box = portal.el("#job-yaml")
    box.clear()
    box.send_keys("protocolVersion: 2\nname: [unclosed\n")
    portal.el("#yaml-submit").click()
    message = portal.wait("the YAML error", lambda: portal.text("#yaml-error"))
    assert "malformed YAML" in message and "line" in message
    # a field the server refuses: its message next to that field, not elsewhere
    fill_form(portal, f"portal-bad{portal.suffix}", "echo never", gpu=-1)
    gpu_error = portal.wait("the GPU field's error",
                            lambda: portal.text(".field-error[data-for='role:0:gpu']"))
    assert "gpu" in gpu_error
    assert portal.text(".field-error[data-for='name']") == ""
    assert "#/submit" in portal.driver.current_url


def test_a_running_job_is_stopped_from_its_page(portal: Portal) -> None:
    name = f"portal-long{portal.suffix}"
    fill_form(portal, name, "echo started\nsleep 600")
    portal.wait("the job's page", lambda: portal.text("#job-detail h1") == name, 60)
    portal.wait("the job to run", lambda: state_of(portal) == "RUNNING", JOB_TIMEOUT_S, 3)
    portal.el("#job-stop").click()
    final = portal.wait("the job to stop", lambda: state_of(portal) in ("STOPPED", "FAILED", "SUCCEEDED")
                        and state_of(portal), 180, 3)
    assert final == "STOPPED"
    assert not portal.driver.find_elements(By.CSS_SELECTOR, "#job-stop")


def test_the_jobs_list_filters_and_pages(portal: Portal) -> None:
    portal.open("/jobs")
    gpu_job = f"{portal.user}~portal-gpu{portal.suffix}"
    row = portal.el(f"tr[data-job='{gpu_job}']")
    assert "SUCCEEDED" in row.text
    # newest first: the stopped job (submitted later) is above the GPU job
    rows = [r.get_attribute("data-job") for r in portal.driver.find_elements(By.CSS_SELECTOR, "tr[data-job]")]
    assert rows.index(f"{portal.user}~portal-long{portal.suffix}") < rows.index(gpu_job)
    total = portal.api("/jobs?withTotalCount=true&limit=1")["totalCount"]
    assert f"· {total} jobs" in portal.text("#jobs-pager")
    portal.screenshot("jobs")
    Select(portal.el("#filter-state")).select_by_value("STOPPED")
    portal.wait("the STOPPED filter", lambda: "state=STOPPED" in portal.driver.current_url)
    portal.wait("only stopped jobs", lambda: all("STOPPED" in r.text for r in portal.driver.find_elements(
        By.CSS_SELECTOR, "tr[data-job]")) and portal.driver.find_elements(By.CSS_SELECTOR, "tr[data-job]"))
    assert not portal.driver.find_elements(By.CSS_SELECTOR, f"tr[data-job='{gpu_job}']")


def test_a_clone_opens_the_config_under_a_new_name(portal: Portal) -> None:
    full = f"{portal.user}~portal-gpu{portal.suffix}"
    portal.open(f"/jobs/{full}")
    portal.el("#job-clone").click()
    text = portal.wait("the cloned YAML", lambda: portal.el("#job-yaml").get_attribute("value"))
    assert f"name: portal-gpu{portal.suffix}-copy" in text and "gpu: 1" in text


def test_logout(portal: Portal) -> None:
    portal.open("/jobs")
    portal.el("#logout").click()
    portal.wait("the login page", lambda: portal.driver.find_elements(By.CSS_SELECTOR, "#login-form"))
    assert portal.driver.execute_script("return localStorage.getItem('pai.token')") is None
