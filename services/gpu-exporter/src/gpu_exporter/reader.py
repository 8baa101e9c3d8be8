"""Read the GPUs of this node: from NVML (nvidia-ml-py) or from ``nvidia-smi -q -x``.

Both readers return a :class:`Reading` (the GPUs with their numbers, any of which may
be unknown) or raise :class:`ReadError` with a short reason code and a message. They
never raise anything else for a bad tool, a bad output or a missing library.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Reason codes of ReadError (the label `reason` of the error metric).
NOT_FOUND = "not_found"        # nvidia-smi is not installed / not on the given path
FAILED = "failed"              # it ran and exited non-zero (other than "no devices")
TIMEOUT = "timeout"            # it did not answer in time
BAD_OUTPUT = "bad_output"      # its output is not the XML we expect
NVML = "nvml_error"            # NVML is not usable (library missing, driver not loaded, ...)

# nvidia-smi's exit status and message when the driver sees no GPU at all.
NO_DEVICES_RC = 6
NO_DEVICES_TEXT = "No devices were found"

_UNITS = {"B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
_NUMBER = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%]*)\s*$")


class ReadError(Exception):
    """The GPUs could not be read; ``reason`` is one of the codes above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Gpu:
    """One GPU. Numbers are None where the tool answers N/A or nothing."""

    minor_number: str
    model: str = ""
    uuid: str = ""
    utilization_gpu: float | None = None      # percent
    utilization_memory: float | None = None   # percent
    memory_used_bytes: float | None = None
    memory_total_bytes: float | None = None
    temperature: float | None = None          # degrees Celsius


@dataclass
class Reading:
    """What one read saw: the GPUs and the driver's version ("" when unknown)."""

    gpus: list[Gpu] = field(default_factory=list)
    driver_version: str = ""
    source: str = ""


def parse_number(text: str | None, unit: str = "") -> float | None:
    """The number in an nvidia-smi value such as ``"37 %"``, ``"32 C"`` or ``"11441 MiB"``.

    Memory values (unit "bytes") are converted to bytes; ``N/A``, ``[N/A]``, ``[Not
    Supported]``, an empty value or an unknown unit give None."""
    if text is None:
        return None
    match = _NUMBER.match(text)
    if not match:
        return None
    value = float(match.group(1))
    suffix = match.group(2)
    if unit == "bytes":
        factor = _UNITS.get(suffix.upper() if suffix else "B")
        return None if factor is None else value * factor
    return value


def _text(node: ET.Element, path: str) -> str | None:
    found = node.find(path)
    return None if found is None or found.text is None else found.text.strip()


def parse_xml(text: str) -> Reading:
    """A Reading from the output of ``nvidia-smi -q -x``; ReadError(BAD_OUTPUT) when it is not that."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ReadError(BAD_OUTPUT, "nvidia-smi -q -x: not XML (%s)" % exc) from None
    if root.tag != "nvidia_smi_log":
        raise ReadError(BAD_OUTPUT, "nvidia-smi -q -x: root element is <%s>, not <nvidia_smi_log>" % root.tag)
    reading = Reading(driver_version=_text(root, "driver_version") or "", source="nvidia-smi")
    for position, node in enumerate(root.findall("gpu")):
        minor = _text(node, "minor_number")
        if minor is None or not minor.isdigit():
            minor = str(position)  # N/A on some platforms: the GPU's position in the listing
        reading.gpus.append(Gpu(
            minor_number=minor,
            model=_text(node, "product_name") or "",
            uuid=_text(node, "uuid") or "",
            utilization_gpu=parse_number(_text(node, "utilization/gpu_util")),
            utilization_memory=parse_number(_text(node, "utilization/memory_util")),
            memory_used_bytes=parse_number(_text(node, "fb_memory_usage/used"), "bytes"),
            memory_total_bytes=parse_number(_text(node, "fb_memory_usage/total"), "bytes"),
            temperature=parse_number(_text(node, "temperature/gpu_temp")),
        ))
    return reading


def read_nvidia_smi(command: str = "nvidia-smi", timeout: float = 10.0) -> Reading:
    """Run ``COMMAND -q -x`` and parse it. "No devices were found" is a reading of zero GPUs."""
    try:
        done = subprocess.run([command, "-q", "-x"], capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ReadError(NOT_FOUND, "%s: not found" % command) from None
    except PermissionError:
        raise ReadError(NOT_FOUND, "%s: not executable" % command) from None
    except subprocess.TimeoutExpired:
        raise ReadError(TIMEOUT, "%s -q -x: no answer in %g s" % (command, timeout)) from None
    except OSError as exc:
        raise ReadError(FAILED, "%s: %s" % (command, exc.strerror or exc)) from None
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode == NO_DEVICES_RC and NO_DEVICES_TEXT in output:
        return Reading(source="nvidia-smi")
    if done.returncode != 0:
        last = (output.strip().splitlines() or [""])[-1][:200]
        raise ReadError(FAILED, "%s -q -x exited %d: %s" % (command, done.returncode, last))
    return parse_xml(done.stdout)


def _nvml_value(call, *args):
    """``call(*args)``, or None when NVML says the value is not supported/available."""
    import pynvml

    try:
        return call(*args)
    except pynvml.NVMLError:
        return None


def _nvml_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def read_nvml() -> Reading:
    """Read the GPUs through NVML; ReadError(NVML) when the library or the driver is not usable."""
    try:
        import pynvml
    except ImportError:
        raise ReadError(NVML, "nvidia-ml-py is not installed") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise ReadError(NVML, "NVML: %s" % exc) from None
    try:
        reading = Reading(driver_version=_nvml_str(_nvml_value(pynvml.nvmlSystemGetDriverVersion)), source="nvml")
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            minor = _nvml_value(pynvml.nvmlDeviceGetMinorNumber, handle)
            rates = _nvml_value(pynvml.nvmlDeviceGetUtilizationRates, handle)
            memory = _nvml_value(pynvml.nvmlDeviceGetMemoryInfo, handle)
            reading.gpus.append(Gpu(
                minor_number=str(index if minor is None else minor),
                model=_nvml_str(_nvml_value(pynvml.nvmlDeviceGetName, handle)),
                uuid=_nvml_str(_nvml_value(pynvml.nvmlDeviceGetUUID, handle)),
                utilization_gpu=None if rates is None else float(rates.gpu),
                utilization_memory=None if rates is None else float(rates.memory),
                memory_used_bytes=None if memory is None else float(memory.used),
                memory_total_bytes=None if memory is None else float(memory.total),
                temperature=_nvml_value(pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU),
            ))
        return reading
    except pynvml.NVMLError as exc:
        raise ReadError(NVML, "NVML: %s" % exc) from None
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


SOURCES = ("auto", "nvml", "nvidia-smi")


def read(source: str = "auto", command: str = "nvidia-smi", timeout: float = 10.0) -> Reading:
    """Read with the chosen source; ``auto`` tries NVML first and falls back to nvidia-smi
    when NVML is not usable (the error then is nvidia-smi's)."""
    if source == "nvml":
        return read_nvml()
    if source == "nvidia-smi":
        return read_nvidia_smi(command, timeout)
    try:
        return read_nvml()
    except ReadError:
        return read_nvidia_smi(command, timeout)
