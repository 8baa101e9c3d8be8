"""Virtual clusters: CapacityScheduler leaf queues with totals and use read from the ResourceManager."""

from __future__ import annotations

import math
from typing import Any

from .yarn import Node, Queue, Resources


def _resources(memory: float, vcores: float, gpu: float) -> dict[str, int]:
    """Both spellings the clients read: vCores/cpu, GPUs/gpu, memory in MB."""
    cpu, gpus, mem = (int(math.floor(x + 1e-6)) for x in (vcores, gpu, memory))
    return {"cpu": cpu, "vCores": cpu, "memory": mem, "gpu": gpus, "GPUs": gpus}


def partition_nodes(nodes: list[Node], partition: str) -> list[Node]:
    """The running nodes of a node-label partition ("" is the default partition: nodes without a label)."""
    out = []
    for n in nodes:
        if n.state not in ("RUNNING", ""):
            continue
        labels = [x for x in n.labels if x]
        if (partition and partition in labels) or (not partition and not labels):
            out.append(n)
    return out


def vc_info(queue: Queue, nodes: list[Node]) -> dict[str, Any]:
    """The OpenPAI view of one VC (v0.17: totals = partition totals × absolute capacity)."""
    members = partition_nodes(nodes, queue.partition)
    total = Resources()
    for n in members:
        total = total + n.total
    share = queue.capacity / 100.0
    guaranteed = _resources(total.memory * share, total.vcores * share, total.gpu * share)
    return {
        "capacity": queue.capacity,
        "usedCapacity": queue.used_capacity,
        "maxCapacity": queue.max_capacity,
        "dedicated": bool(queue.partition),
        "numActiveJobs": queue.num_active,
        "numJobs": queue.num_applications,
        "numPendingJobs": queue.num_pending,
        "status": queue.state,
        "nodeList": sorted(n.host for n in members),
        "resourcesUsed": _resources(queue.used.memory, queue.used.vcores, queue.used.gpu),
        "resourcesGuaranteed": guaranteed,
        "resourcesTotal": dict(guaranteed),
    }


def largest_fit(nodes: list[Node], partition: str, cpu: int, memory_mb: int, gpu: int) -> tuple[bool, Resources]:
    """Whether one running node of the partition can hold a container; also the largest totals seen."""
    members = partition_nodes(nodes, partition)
    biggest = Resources(max((n.total.memory for n in members), default=0),
                        max((n.total.vcores for n in members), default=0),
                        max((n.total.gpu for n in members), default=0))
    fits = any(n.total.vcores >= cpu and n.total.memory >= memory_mb and n.total.gpu >= gpu for n in members)
    return fits, biggest
