# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""Hadoop configuration files as data: a mapping of property to value becomes
the XML that Hadoop reads. Values are rendered as text; booleans as true/false."""

from __future__ import annotations

from xml.sax.saxutils import escape

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>\n')


def property_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(property_text(v) for v in value)
    return str(value)


def hadoop_xml(properties, comment=None):
    """Render ``properties`` (a mapping) as a Hadoop ``<configuration>`` document,
    sorted by name so that the file is stable across runs. A property whose value
    is None is left out (Hadoop then uses its own default)."""
    if not isinstance(properties, dict):
        raise TypeError("hadoop_xml expects a mapping of property names to values, got %s"
                        % type(properties).__name__)
    lines = [HEADER.rstrip("\n")]
    if comment:
        lines.append("<!-- %s -->" % escape(str(comment)).replace("--", "- -"))
    lines.append("<configuration>")
    for name in sorted(properties, key=str):
        if properties[name] is None:
            continue
        lines.append("  <property>")
        lines.append("    <name>%s</name>" % escape(str(name)))
        lines.append("    <value>%s</value>" % escape(property_text(properties[name])))
        lines.append("  </property>")
    lines.append("</configuration>")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- verification

def _resource_gpus(resource):
    infos = ((resource or {}).get("resourceInformations") or {}).get("resourceInformation") or []
    for info in infos:
        if info.get("name") == "yarn.io/gpu":
            return int(info.get("value") or 0)
    return 0


def running_nodemanagers(nodes_json):
    """``[memory MB, vcores, GPUs]`` of each RUNNING NodeManager in ``/ws/v1/cluster/nodes``, sorted."""
    nodes = (((nodes_json or {}).get("nodes") or {}).get("node")) or []
    out = []
    for node in nodes:
        if node.get("state") != "RUNNING":
            continue
        total = node.get("totalResource") or {}
        out.append([int(total.get("memory") or 0), int(total.get("vCores") or 0), _resource_gpus(total)])
    return sorted(out)


def scheduler_queues(scheduler_json):
    """Leaf queue name -> capacity (percent, rounded to 2 places) of ``/ws/v1/cluster/scheduler``."""
    info = ((scheduler_json or {}).get("scheduler") or {}).get("schedulerInfo") or {}
    queues = ((info.get("queues") or {}).get("queue")) or []
    return {q["queueName"]: round(float(q.get("capacity") or 0), 2) for q in queues if "queueName" in q}


def yarn_report(fsstate_json, nodes_json, scheduler_json, expected_nodemanagers, virtual_clusters):
    """What the running HDFS and YARN say against what the inventory expects.

    ``expected_nodemanagers``: host -> NodeManager resources (profile.expected_nodemanagers);
    ``virtual_clusters``: ``openpai_virtual_clusters``. Returns the report with a list
    of ``problems`` (empty when everything matches), one line each.
    """
    beans = (fsstate_json or {}).get("beans") or [{}]
    live = int(beans[0].get("NumLiveDataNodes") or 0)
    expected = sorted([int(r["memory_mb"]), int(r["vcores"]), int(r["gpus"])]
                      for r in (expected_nodemanagers or {}).values())
    nodes = running_nodemanagers(nodes_json)
    queues = scheduler_queues(scheduler_json)
    problems = []
    if live != len(expected):
        problems.append("HDFS: %d live DataNodes, the inventory has %d workers" % (live, len(expected)))
    if nodes != expected:
        problems.append("YARN: RUNNING NodeManagers [memory MB, vcores, GPUs] %s, the SKUs give %s"
                        % (nodes, expected))
    for name in sorted(virtual_clusters or {}):
        want = float((virtual_clusters[name] or {}).get("capacity", 0))
        got = queues.get(name)
        # The REST API reports capacities as floats (30 may read 30.000002).
        if got is None:
            problems.append("YARN: queue %r (capacity %s) is missing" % (name, want))
        elif abs(got - want) > 0.01:
            problems.append("YARN: queue %r has capacity %s, the inventory says %s" % (name, got, want))
    return {"live_datanodes": live, "expected_datanodes": len(expected), "nodes": nodes,
            "expected_nodes": expected, "queues": queues, "problems": problems}
