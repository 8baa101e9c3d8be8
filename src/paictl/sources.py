"""The files of an inventory source, checked before Ansible reads them.

Ansible reports a broken inventory file as several paragraphs, one per inventory
plugin it tried, often without the file or the line; a YAML error in
``group_vars`` comes without the file. This module reads the same files first
(the inventory file or directory, and the ``group_vars``/``host_vars`` next to
it) and returns one line per problem, naming the file, the line and, for host
variables, the host:

* an empty or comment-only inventory file,
* YAML syntax errors,
* a YAML inventory whose groups, ``hosts``, ``vars`` or ``children`` are not
  mappings, or whose hosts' variables are a string or a list,
* a variables file that is not a mapping.

Only the structure is read (``yaml.compose``): no value is constructed, so
``!vault`` and ``!unsafe`` values and Jinja expressions are never evaluated, and
files encrypted as a whole with ansible-vault are left to Ansible.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterator, List, Optional

import yaml

YAML_SUFFIXES = (".yml", ".yaml", ".json")
VARS_SUFFIXES = ("",) + YAML_SUFFIXES
GROUP_SECTIONS = ("hosts", "vars", "children")
_LAYOUT_NAMES = ("layout.yaml", "layout.yml")
_COMMENT_ONLY = re.compile(r"^\s*(#.*|;.*|---\s*|\.\.\.\s*)?$")
_TAG_KIND = {
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def problems(source: Path) -> List[str]:
    """Every problem of the files Ansible would read for inventory ``source``, one line each.

    Files are named as reached from ``source`` as given (relative stays relative).
    """
    source = Path(source)
    base = source if source.is_dir() else source.parent
    found: List[str] = []
    if source.is_dir():
        inventory_files = list(_inventory_files(source))
        if not inventory_files:
            return ["%s: no inventory file in the directory (e.g. hosts.yml)" % source]
        for path in inventory_files:
            found.extend(_inventory_file_problems(path, alone=False))
    else:
        found.extend(_inventory_file_problems(source, alone=True))
        if found and found[0].endswith(": the file is empty"):
            return found
    for folder in ("group_vars", "host_vars"):
        for path in _vars_files(base / folder):
            found.extend(_vars_file_problems(path))
    return found


# --------------------------------------------------------------------------- which files

def _ignored(name: str) -> bool:
    """Entries Ansible skips in an inventory directory (hidden, group_vars, ignored extensions...)."""
    from ansible.inventory.manager import IGNORED
    return bool(IGNORED.search(name.encode("utf-8", "surrogateescape")))


def _inventory_files(folder: Path) -> Iterator[Path]:
    """The files of an inventory directory that Ansible takes as inventory sources, recursively."""
    for entry in sorted(os.listdir(str(folder))):
        if _ignored(entry):
            continue
        path = folder / entry
        if path.is_dir():
            yield from _inventory_files(path)
        elif path.is_file():
            yield path


def _vars_files(folder: Path) -> Iterator[Path]:
    """``group_vars``/``host_vars`` files Ansible loads: NAME, NAME.yml/.yaml/.json, or a folder of them."""
    if not folder.is_dir():
        return
    for entry in sorted(os.listdir(str(folder))):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = folder / entry
        if path.is_dir():
            yield from _vars_files(path)
        elif path.is_file() and path.suffix in VARS_SUFFIXES:
            yield path


# --------------------------------------------------------------------------- one file

def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # Ansible says why it cannot read it


def _compose_checked(text: str, where: str, found: List[str]):
    """The YAML node tree of ``text``; a syntax error is appended to ``found`` (and None returned).

    Text that is JSON is valid for Ansible (its loader tries JSON first) even where YAML
    would refuse it (tabs): then a YAML error is not reported.
    """
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        if _is_json(text):
            return None
        if isinstance(exc, yaml.MarkedYAMLError):
            found.append(_syntax_problem(where, exc))
        else:
            found.append("%s: not valid YAML: %s" % (where, str(exc).splitlines()[0] if str(exc) else "error"))
    return None


def _is_json(text: str) -> bool:
    if not text.lstrip().startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _syntax_problem(where: str, exc: "yaml.MarkedYAMLError") -> str:
    mark = exc.problem_mark or exc.context_mark
    at = ", line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else ""
    what = exc.problem or "syntax error"
    if exc.context:
        what = "%s (%s)" % (what, exc.context)
    return "%s%s: not valid YAML: %s" % (where, at, what)


def _is_empty(text: str) -> bool:
    return all(_COMMENT_ONLY.match(line) for line in text.splitlines())


def _inventory_file_problems(path: Path, alone: bool) -> List[str]:
    """Problems of one inventory file; ``alone`` when it is the whole source (then empty is a problem)."""
    text = _read(path)
    if text is None or text.startswith("$ANSIBLE_VAULT"):
        return []
    where = str(path)
    if _is_empty(text):
        return ["%s: the file is empty" % where] if alone else []
    if path.suffix not in YAML_SUFFIXES and path.name not in _LAYOUT_NAMES:
        return []  # INI, a script, ...: Ansible's own plugins judge it
    found: List[str] = []
    node = _compose_checked(text, where, found)
    if node is None or found:
        return found
    _key_problems(node, where, found)
    if found:
        return found
    if not isinstance(node, yaml.MappingNode):
        if path.name in _LAYOUT_NAMES:
            return found  # the layout reader names what it expected
        return ["%s: a YAML inventory is a mapping of group names (all: {hosts: ...}), got %s"
                % (where, _kind(node))]
    keys = {_scalar(k) for k, _ in node.value}
    if "plugin" in keys or "machine-list" in keys or path.name in _LAYOUT_NAMES:
        return found  # an inventory plugin's configuration, or an OpenPAI layout (read by its plugin)
    for key, value in node.value:
        _group_problems(_scalar(key), value, where, found)
    return found


def _group_problems(group: str, node, where: str, found: List[str]) -> None:
    """A YAML inventory group: a mapping of hosts, vars and children (or empty)."""
    if _is_null(node):
        return
    if not isinstance(node, yaml.MappingNode):
        found.append("%s, line %d: group %r: expected a mapping with hosts, vars or children, got %s"
                     % (where, _line(node), group, _kind(node)))
        return
    for key, value in node.value:
        section = _scalar(key)
        if section not in GROUP_SECTIONS:
            found.append("%s, line %d: group %r: unknown key %r (known: %s)"
                         % (where, _line(key), group, section, ", ".join(GROUP_SECTIONS)))
            continue
        if _is_null(value) or _is_string(value):
            continue  # Ansible reads a string as a mapping with one key
        if not isinstance(value, yaml.MappingNode):
            found.append("%s, line %d: group %r: %r must be a mapping, got %s"
                         % (where, _line(value), group, section, _kind(value)))
            continue
        for name_node, child in value.value:
            name = _scalar(name_node)
            if section == "hosts":
                _host_problems(name_node, name, child, where, found)
            elif section == "children":
                _group_problems(name, child, where, found)


def _host_problems(name_node, name, node, where: str, found: List[str]) -> None:
    if not _is_string(name_node):
        found.append("%s, line %d: host %r: a host name must be a string (quote it)"
                     % (where, _line(name_node), name))
    elif not (_is_null(node) or isinstance(node, yaml.MappingNode)):
        found.append("%s, line %d: host %r: its variables must be a mapping (name: value) or empty, got %s"
                     % (where, _line(node), name, _kind(node)))


def _vars_file_problems(path: Path) -> List[str]:
    text = _read(path)
    if text is None or text.startswith("$ANSIBLE_VAULT") or _is_empty(text):
        return []
    where = str(path)
    found: List[str] = []
    node = _compose_checked(text, where, found)
    if node is not None:
        _key_problems(node, where, found)
    if node is not None and not found and not _is_null(node) and not isinstance(node, yaml.MappingNode):
        found.append("%s: expected a mapping of variable names to values, got %s" % (where, _kind(node)))
    return found


def _key_problems(node, where: str, found: List[str]) -> None:
    """Mapping keys that are mappings or lists: valid YAML, but no loader can use them. Mostly an unquoted
    Jinja expression (``a: {{ b }}``)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, (yaml.MappingNode, yaml.SequenceNode)):
                    found.append("%s, line %d, column %d: not valid YAML: a key is %s (quote a Jinja expression: "
                                 "a: \"{{ b }}\")" % (where, _line(key), key.start_mark.column + 1, _kind(key)))
                    return
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


# --------------------------------------------------------------------------- nodes

def _scalar(node) -> object:
    return node.value if isinstance(node, yaml.ScalarNode) else "<%s>" % _kind(node)


def _is_null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _is_string(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag not in (
        "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


def _kind(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _TAG_KIND.get(node.tag, "a string")


def _line(node) -> int:
    return node.start_mark.line + 1
