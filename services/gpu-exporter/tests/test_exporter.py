"""The GPU exporter against the lab's fixture nvidia-smi (its real `-q -x` output) and
handcrafted nvidia-smi answers: no GPUs, N/A values, a missing, failing, hanging or
garbage-printing tool. Metrics are read over HTTP from the real server, as Prometheus does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gpu_exporter import reader
from gpu_exporter.__main__ import build_registry, parse_args

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "collections/ansible_collections/openpai/cluster/roles/lab/files/nvidia-smi"
MIB = 1 << 20


def fake_tool(tmp_path: Path, body: str) -> str:
    """An executable stand-in for nvidia-smi: a shell script with `body`."""
    path = tmp_path / "nvidia-smi"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def lab_tool(tmp_path: Path, monkeypatch, **config) -> str:
    """The lab's fixture nvidia-smi, configured through its JSON file (OPENPAI_LAB_GPUS)."""
    cfg = tmp_path / "gpus.json"
    cfg.write_text(json.dumps(config))
    monkeypatch.setenv("OPENPAI_LAB_GPUS", str(cfg))
    return str(FIXTURE)


def scrape(command: str, source: str = "nvidia-smi", node: str = "worker-1", timeout: float = 10) -> dict:
    """{(name, labels...): value} from one scrape of a real exporter server on a free port."""
    from prometheus_client import start_http_server

    args = parse_args(["--port", "0", "--address", "127.0.0.1", "--node-name", node, "--source", source,
                       "--nvidia-smi", command, "--timeout", str(timeout)], {})
    server, thread = start_http_server(0, addr="127.0.0.1", registry=build_registry(args))
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.server_port, timeout=30) as answer:
            assert answer.status == 200
            text = answer.read().decode()
    finally:
        server.shutdown()
        thread.join(5)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def names(samples: dict) -> set:
    return {key[0] for key in samples}


def test_lab_fixture_gpus_are_exported(tmp_path, monkeypatch):
    tool = lab_tool(tmp_path, monkeypatch, count=3, model="Tesla V100-SXM2-16GB", memory_mib=16160)
    samples = scrape(tool, node="pai-worker1")
    assert value(samples, "nvidiasmi_attached_gpus", node_name="pai-worker1") == 3
    for minor in ("0", "1", "2"):
        gpu = {"node_name": "pai-worker1", "minor_number": minor}
        assert value(samples, "nvidiasmi_memory_total_bytes", **gpu) == 16160 * MIB
        assert value(samples, "nvidiasmi_memory_used_bytes", **gpu) == 0
        assert value(samples, "nvidiasmi_utilization_gpu", **gpu) == 0
        assert value(samples, "nvidiasmi_utilization_memory", **gpu) == 0
        assert value(samples, "nvidiasmi_temperature", **gpu) == 32
    assert value(samples, "nvidiasmi_utilization_gpu", node_name="pai-worker1", minor_number="3") is None
    info = [k for k in samples if k[0] == "nvidiasmi_gpu_info"]
    assert len(info) == 3
    labels = dict(info[0][1])
    assert labels["model"] == "Tesla V100-SXM2-16GB" and labels["driver_version"] == "550.54.15"
    assert labels["uuid"].startswith("GPU-")
    assert value(samples, "gpu_exporter_read_error", node_name="pai-worker1", reason="none") == 0


def test_lab_fixture_without_gpus_reports_zero(tmp_path, monkeypatch):
    # The fixture (like nvidia-smi) exits 6 with "No devices were found": zero GPUs, not an error.
    tool = lab_tool(tmp_path, monkeypatch, count=0)
    samples = scrape(tool)
    assert value(samples, "nvidiasmi_attached_gpus", node_name="worker-1") == 0
    assert value(samples, "gpu_exporter_read_error", node_name="worker-1", reason="none") == 0
    assert not [k for k in samples if k[0] == "nvidiasmi_utilization_gpu"]


def test_fixture_xml_parses_like_the_real_tool(tmp_path, monkeypatch):
    lab_tool(tmp_path, monkeypatch, count=2, model="Tesla K80", memory_mib=11441, driver_version="535.1")
    out = subprocess.run([sys.executable, str(FIXTURE), "-q", "-x"], capture_output=True, text=True, check=True,
                         env=dict(os.environ))
    reading = reader.parse_xml(out.stdout)
    assert [g.minor_number for g in reading.gpus] == ["0", "1"]
    assert reading.driver_version == "535.1"
    assert {g.model for g in reading.gpus} == {"Tesla K80"}
    assert len({g.uuid for g in reading.gpus}) == 2


EDGE_XML = """<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>535.183.01</driver_version>
  <attached_gpus>2</attached_gpus>
  <gpu id="00000000:3B:00.0">
    <product_name>NVIDIA A100-PCIE-40GB</product_name>
    <uuid>GPU-aaaa</uuid>
    <minor_number>3</minor_number>
    <fb_memory_usage><total>40960 MiB</total><used>1024 MiB</used></fb_memory_usage>
    <utilization><gpu_util>N/A</gpu_util><memory_util>[Not Supported]</memory_util></utilization>
    <temperature><gpu_temp>N/A</gpu_temp></temperature>
  </gpu>
  <gpu id="00000000:AF:00.0">
    <product_name>NVIDIA A100-PCIE-40GB</product_name>
    <uuid>GPU-bbbb</uuid>
    <minor_number>N/A</minor_number>
    <fb_memory_usage><total>40 GiB</total><used>N/A</used></fb_memory_usage>
    <utilization><gpu_util>87 %</gpu_util><memory_util>45 %</memory_util></utilization>
  </gpu>
</nvidia_smi_log>
"""


def test_na_values_give_no_sample_but_the_gpu_counts(tmp_path):
    (tmp_path / "out.xml").write_text(EDGE_XML)
    samples = scrape(fake_tool(tmp_path, "cat '%s'\n" % (tmp_path / "out.xml")))
    assert value(samples, "nvidiasmi_attached_gpus", node_name="worker-1") == 2
    first = {"node_name": "worker-1", "minor_number": "3"}
    second = {"node_name": "worker-1", "minor_number": "1"}  # minor N/A: its position in the listing
    assert value(samples, "nvidiasmi_utilization_gpu", **first) is None
    assert value(samples, "nvidiasmi_utilization_memory", **first) is None
    assert value(samples, "nvidiasmi_temperature", **first) is None
    assert value(samples, "nvidiasmi_memory_used_bytes", **first) == 1024 * MIB
    assert value(samples, "nvidiasmi_memory_total_bytes", **first) == 40960 * MIB
    assert value(samples, "nvidiasmi_utilization_gpu", **second) == 87
    assert value(samples, "nvidiasmi_utilization_memory", **second) == 45
    assert value(samples, "nvidiasmi_memory_total_bytes", **second) == 40 * (1 << 30)
    assert value(samples, "nvidiasmi_memory_used_bytes", **second) is None


def test_no_gpu_elements_is_zero_gpus(tmp_path):
    samples = scrape(fake_tool(tmp_path, "echo '<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>'\n"))
    assert value(samples, "nvidiasmi_attached_gpus", node_name="worker-1") == 0


@pytest.mark.parametrize("body, reason", [
    ("echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'; exit 9\n", "failed"),
    ("echo 'this is not xml <'\n", "bad_output"),
    ("echo '<other/>'\n", "bad_output"),
    ("sleep 30\n", "timeout"),
])
def test_a_failing_tool_gives_the_error_metric(tmp_path, body, reason):
    started = time.monotonic()
    samples = scrape(fake_tool(tmp_path, body), timeout=1)
    assert time.monotonic() - started < 20
    assert value(samples, "gpu_exporter_read_error", node_name="worker-1", reason=reason) == 1
    assert value(samples, "gpu_exporter_read_errors_total", node_name="worker-1", reason=reason) == 1
    assert "nvidiasmi_attached_gpus" not in names(samples)


def test_a_missing_tool_gives_the_error_metric(tmp_path):
    samples = scrape(str(tmp_path / "no-such-nvidia-smi"))
    assert value(samples, "gpu_exporter_read_error", node_name="worker-1", reason="not_found") == 1
    assert "nvidiasmi_attached_gpus" not in names(samples)


def test_auto_falls_back_to_nvidia_smi_without_nvml(tmp_path, monkeypatch):
    # This machine has nvidia-ml-py but no libnvidia-ml: NVML is not usable, nvidia-smi answers.
    with pytest.raises(reader.ReadError) as info:
        reader.read_nvml()
    assert info.value.reason == "nvml_error"
    tool = lab_tool(tmp_path, monkeypatch, count=2)
    samples = scrape(tool, source="auto")
    assert value(samples, "nvidiasmi_attached_gpus", node_name="worker-1") == 2


def test_nvml_source_without_the_library_is_an_error_metric(tmp_path):
    samples = scrape(str(tmp_path / "unused"), source="nvml")
    assert value(samples, "gpu_exporter_read_error", node_name="worker-1", reason="nvml_error") == 1


@pytest.mark.parametrize("text, unit, expected", [
    ("37 %", "", 37.0), ("32 C", "", 32.0), ("11441 MiB", "bytes", 11441 * MIB), ("N/A", "", None),
    ("[N/A]", "", None), ("", "", None), ("12 PB", "bytes", None), ("2.5 GiB", "bytes", 2.5 * (1 << 30)),
])
def test_parse_number(text, unit, expected):
    assert reader.parse_number(text, unit) == expected


def test_settings_come_from_the_environment():
    args = parse_args([], {"NODE_NAME": "gpu-7", "GPU_EXPORTER_PORT": "9200", "GPU_EXPORTER_SOURCE": "nvml"})
    assert (args.node_name, args.port, args.source) == ("gpu-7", 9200, "nvml")
    assert parse_args([], {}).port == 9102


def test_the_program_serves_and_stops_on_sigterm(tmp_path, monkeypatch):
    tool = lab_tool(tmp_path, monkeypatch, count=1)
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, NODE_NAME="lab-gpu", NVIDIA_SMI=tool, GPU_EXPORTER_SOURCE="nvidia-smi")
    proc = subprocess.Popen([sys.executable, "-m", "gpu_exporter", "--port", str(port), "--address", "127.0.0.1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        text = None
        for _ in range(100):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as answer:
                    text = answer.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert text is not None, "the exporter did not answer"
        assert 'nvidiasmi_attached_gpus{node_name="lab-gpu"} 1.0' in text
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_a_busy_port_is_one_line_not_a_traceback():
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "gpu_exporter", "--port", str(port), "--address", "127.0.0.1"],
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1:%d" % port in done.stderr
    assert "Traceback" not in done.stderr
