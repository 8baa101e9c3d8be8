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
