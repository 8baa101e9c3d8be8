"""The Prometheus collector: one read of the GPUs per scrape, turned into metric families.

Metric names follow OpenPAI's job-exporter (microsoft/pai, src/job-exporter) where it has
one; the others are ours. Every sample carries ``node_name``; per-GPU samples also
``minor_number`` (the GPU's /dev/nvidiaN number, as job-exporter labels them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gpu_exporter.reader import FAILED, Reading, ReadError

LOG = logging.getLogger("gpu_exporter")

# name -> (help, Gpu attribute). job-exporter's names: nvidiasmi_utilization_gpu,
# nvidiasmi_utilization_memory, nvidiasmi_temperature; the memory ones are ours.
PER_GPU = (
    ("nvidiasmi_utilization_gpu", "GPU core utilisation of the card (percent)", "utilization_gpu"),
    ("nvidiasmi_utilization_memory", "GPU memory controller utilisation of the card (percent)",
     "utilization_memory"),
    ("nvidiasmi_memory_used_bytes", "GPU memory used on the card (bytes)", "memory_used_bytes"),
    ("nvidiasmi_memory_total_bytes", "GPU memory of the card (bytes)", "memory_total_bytes"),
    ("nvidiasmi_temperature", "GPU temperature of the card (degrees Celsius)", "temperature"),
)
ATTACHED = "nvidiasmi_attached_gpus"      # job-exporter's GPU count (its gpu_exporter.py)
INFO = "nvidiasmi_gpu_info"
READ_ERROR = "gpu_exporter_read_error"
READ_ERRORS_TOTAL = "gpu_exporter_read_errors"   # exposed as gpu_exporter_read_errors_total
READ_SECONDS = "gpu_exporter_read_duration_seconds"
REASONS = ("not_found", "failed", "timeout", "bad_output", "nvml_error")


class GpuCollector(Collector):
    """Reads the GPUs with ``read()`` on every scrape; a failed read gives the error
    metric (and no GPU count), never an exception to the HTTP server."""

    def __init__(self, node_name: str, read: Callable[[], Reading]) -> None:
        self.node_name = node_name
        self._read = read
        self._errors = {reason: 0 for reason in REASONS}

    def collect(self) -> Iterator:
        start = time.monotonic()
        reading, error = None, None
        try:
            reading = self._read()
        except ReadError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever the reader does
            error = ReadError(FAILED, "unexpected %s: %s" % (type(exc).__name__, exc))
        elapsed = time.monotonic() - start
        node = self.node_name

        failing = GaugeMetricFamily(READ_ERROR, "1 when the last read of the GPUs failed (label reason), else 0 (reason none)",
                                    labels=["node_name", "reason"])
        if error is None:
            failing.add_metric([node, "none"], 0)
        else:
            self._errors[error.reason] = self._errors.get(error.reason, 0) + 1
            failing.add_metric([node, error.reason], 1)
            LOG.warning("reading the GPUs failed (%s): %s", error.reason, error.message)
        yield failing
        total = CounterMetricFamily(READ_ERRORS_TOTAL, "Failed reads of the GPUs since start, by reason",
                                    labels=["node_name", "reason"])
        for reason, count in sorted(self._errors.items()):
            total.add_metric([node, reason], count)
        yield total
        seconds = GaugeMetricFamily(READ_SECONDS, "Time the last read of the GPUs took", labels=["node_name"])
        seconds.add_metric([node], elapsed)
        yield seconds
        if reading is None:
            return

        attached = GaugeMetricFamily(ATTACHED, "Number of GPUs the driver sees on this node", labels=["node_name"])
        attached.add_metric([node], len(reading.gpus))
        yield attached
        info = GaugeMetricFamily(INFO, "One per GPU: its model, UUID and driver version",
                                 labels=["node_name", "minor_number", "model", "uuid", "driver_version"])
        for gpu in reading.gpus:
            info.add_metric([node, gpu.minor_number, gpu.model, gpu.uuid, reading.driver_version], 1)
        yield info
        for name, text, attribute in PER_GPU:
            family = GaugeMetricFamily(name, text, labels=["node_name", "minor_number"])
            for gpu in reading.gpus:
                value = getattr(gpu, attribute)
                if value is not None:  # N/A: no sample rather than a made-up number
                    family.add_metric([node, gpu.minor_number], value)
            yield family
