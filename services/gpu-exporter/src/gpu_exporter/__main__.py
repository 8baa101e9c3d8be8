"""openpai-gpu-exporter: serve this node's GPU metrics for Prometheus.

Settings (flag, else environment variable, else default):
  --port            GPU_EXPORTER_PORT     9102 (OpenPAI's job-exporter port)
  --address         GPU_EXPORTER_ADDRESS  0.0.0.0
  --node-name       NODE_NAME             this machine's host name
  --source          GPU_EXPORTER_SOURCE   auto (NVML, else nvidia-smi), nvml or nvidia-smi
  --nvidia-smi      NVIDIA_SMI            nvidia-smi (a command on PATH or a path)
  --timeout         GPU_EXPORTER_TIMEOUT  10 (seconds nvidia-smi may take)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading

from prometheus_client import CollectorRegistry, start_http_server

from gpu_exporter import reader
from gpu_exporter.collector import GpuCollector


def parse_args(argv: list[str] | None, environ: dict[str, str]) -> argparse.Namespace:
    """The settings from flags and environment; argparse reports bad values (exit 2)."""
    parser = argparse.ArgumentParser(prog="openpai-gpu-exporter", description="Per-GPU metrics for Prometheus.")
    parser.add_argument("--port", type=int, default=int(environ.get("GPU_EXPORTER_PORT") or 9102))
    parser.add_argument("--address", default=environ.get("GPU_EXPORTER_ADDRESS") or "0.0.0.0")
    parser.add_argument("--node-name", default=environ.get("NODE_NAME") or socket.gethostname())
    parser.add_argument("--source", choices=reader.SOURCES, default=environ.get("GPU_EXPORTER_SOURCE") or "auto")
    parser.add_argument("--nvidia-smi", dest="nvidia_smi", default=environ.get("NVIDIA_SMI") or "nvidia-smi")
    parser.add_argument("--timeout", type=float, default=float(environ.get("GPU_EXPORTER_TIMEOUT") or 10))
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port: %d is not a TCP port" % args.port)
    if args.timeout <= 0:
        parser.error("--timeout: must be positive")
    return args


def build_registry(args: argparse.Namespace) -> CollectorRegistry:
    """A registry holding only the GPU collector (no process/platform metrics of the exporter)."""
    registry = CollectorRegistry()
    registry.register(GpuCollector(args.node_name, lambda: reader.read(args.source, args.nvidia_smi, args.timeout)))
    return registry


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        args = parse_args(argv, dict(os.environ))
    except ValueError as exc:  # a non-numeric GPU_EXPORTER_PORT / _TIMEOUT
        sys.stderr.write("openpai-gpu-exporter: bad setting: %s\n" % exc)
        return 2
    try:
        server, _thread = start_http_server(args.port, addr=args.address, registry=build_registry(args))
    except OSError as exc:
        sys.stderr.write("openpai-gpu-exporter: cannot listen on %s:%d: %s\n"
                         % (args.address, args.port, exc.strerror or exc))
        return 1
    logging.info("serving GPU metrics of node %s on %s:%d (source %s)",
                 args.node_name, args.address, server.server_port, args.source)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
