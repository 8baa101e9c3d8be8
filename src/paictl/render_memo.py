"""Render once per distinct input, inside ``paictl config render`` only.

Most of a host's files do not depend on the host: core-site.xml is the same on
every host, yarn-site.xml differs only by SKU and groups. A template is therefore
rendered once per *input*: the variables it reads, directly or through other
variables' templates (found in the Jinja syntax tree), with their raw values for
that host. Hosts with equal inputs get the text rendered for the first of them.

The analysis is conservative: a template that could read variables it does not
name (``lookup``/``query``, ``vars``/``varnames``, ``include``/``import``) or that
cannot be parsed is rendered for every host."""

from __future__ import annotations

import jinja2
import jinja2.meta
import jinja2.nodes

# The same object for every host: their contents are reached only through names
# that are themselves inputs (``hostvars[hadoop_master_host]``).
SHARED_NAMES = frozenset({"hostvars", "groups", "omit"})
# Names whose use means "any variable": the template is rendered per host.
DYNAMIC_NAMES = frozenset({"vars", "varnames"})
DYNAMIC_CALLS = frozenset({"lookup", "query", "q"})
_MISSING = ("missing",)


class _AnyName(dict):
    """Filters and tests of any name: the syntax tree is analysed, never run."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        return _any

    def get(self, name, default=None):
        return _any


def _any(*args, **kwargs):  # pragma: no cover - never called: templates are only parsed
    return None


class Memo:
    """Rendered results keyed by the raw values of what a template reads."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"])
        self._env.filters = _AnyName()
        self._env.tests = _AnyName()
        self._source_deps: dict[str, frozenset | None] = {}
        self._value_deps: dict[int, tuple[object, frozenset | None]] = {}
        self._prints: dict[int, tuple[object, object]] = {}
        self._results: dict[tuple, object] = {}
        self.hits = 0
        self.misses = 0

    # -- what a template reads ---------------------------------------------
    def source_names(self, text: str) -> frozenset | None:
        """Variable names a template string reads; None when that cannot be known."""
        if text not in self._source_deps:
            self._source_deps[text] = self._parse(text)
        return self._source_deps[text]

    def _parse(self, text: str) -> frozenset | None:
        try:
            tree = self._env.parse(text)
            names = jinja2.meta.find_undeclared_variables(tree)
        except jinja2.TemplateError:
            return None
        if names & DYNAMIC_NAMES:
            return None
        if any(isinstance(n.node, jinja2.nodes.Name) and n.node.name in DYNAMIC_CALLS
               for n in tree.find_all(jinja2.nodes.Call)):
            return None
        if any(True for _ in tree.find_all((jinja2.nodes.Include, jinja2.nodes.Import,
                                            jinja2.nodes.FromImport, jinja2.nodes.Extends))):
            return None
        return frozenset(names)

    def value_names(self, value: object) -> frozenset | None:
        """Names the templates inside ``value`` (strings, keys and items of containers) read."""
        if isinstance(value, str):
            return self.source_names(value) if ("{{" in value or "{%" in value) else frozenset()
        if not isinstance(value, (dict, list, tuple)):
            return frozenset()
        known = self._value_deps.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        names: frozenset | None = frozenset()
        items = [x for kv in value.items() for x in kv] if isinstance(value, dict) else value
        for item in items:
            found = self.value_names(item)
            if found is None:
                names = None
                break
            names |= found
        self._value_deps[id(value)] = (value, names)  # the value is kept: its id stays its own
        return names

    def inputs(self, roots: frozenset | None, variables: dict) -> frozenset | None:
        """Every variable ``roots`` read, transitively through the variables' own templates."""
        if roots is None:
            return None
        seen: set = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in SHARED_NAMES or name not in variables:
                continue
            found = self.value_names(variables[name])
            if found is None:
                return None
            todo.extend(found - seen)
        return frozenset(seen)

    # -- raw values as keys ------------------------------------------------
    def fingerprint(self, value: object) -> object:
        """A hashable form of a raw value: equal for equal data with equal template trust."""
        if isinstance(value, str):
            from ansible.template import is_trusted_as_template
            return ("s", str.__str__(value), is_trusted_as_template(value))
        if isinstance(value, (bool, int, float)) or value is None:
            return (type(value).__name__, value)
        known = self._prints.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        if isinstance(value, dict):
            printed = ("d", tuple((self.fingerprint(k), self.fingerprint(v)) for k, v in value.items()))
        elif isinstance(value, (list, tuple)):
            printed = ("l", tuple(self.fingerprint(v) for v in value))
        else:  # an object of its own: equal only to itself
            printed = ("o", id(value))
        self._prints[id(value)] = (value, printed)
        return printed

    def key(self, what: object, names: frozenset | None, variables: dict, host: str) -> tuple:
        """The memo key of ``what`` rendered with ``variables`` (per host when inputs are unknown)."""
        if names is None:
            return (what, "host", host)
        return (what, tuple((n, self.fingerprint(variables.get(n, _MISSING)))
                            for n in sorted(names) if n not in SHARED_NAMES))

    # -- use ---------------------------------------------------------------
    def render(self, what: object, roots: frozenset | None, variables: dict, host: str, produce):
        """``produce(variables)`` for the first host with these inputs; the stored result for the others.

        Before producing, every templated variable the template reads is itself rendered once
        per distinct input and handed over as plain data (``hostvars | cluster_profile(groups)``
        is then computed once for the cluster, not once per template and host)."""
        inputs = self.inputs(roots, variables)
        key = self.key(what, inputs, variables, host)
        if key in self._results:
            self.hits += 1
            return self._results[key]
        self.misses += 1
        own = what[1] if isinstance(what, tuple) and what[:1] in (("var",), ("value",)) else None
        result = self._results[key] = produce(self._with_rendered(inputs, variables, host, own, produce))
        return result

    def _with_rendered(self, inputs, variables, host, own, produce):
        """``variables`` with the templated ones among ``inputs`` (but ``own``) replaced by their values."""
        if not inputs:
            return variables
        done = None
        for name in sorted(inputs):
            if name == own or name in SHARED_NAMES or name not in variables:
                continue
            if not self.value_names(variables[name]) and not _has_template(variables[name]):
                continue
            value = self.render(("value", name), frozenset({name}), variables, host,
                                lambda v, name=name: _plain_or_failed(produce, v, name))
            if value is not _FAILED:
                done = dict(variables) if done is None else done
                done[name] = value
        return variables if done is None else done


_FAILED = ("failed",)


def _has_template(value) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


def _plain_or_failed(produce, variables, name):
    """The variable ``name`` rendered to plain data (lazy containers resolved now); _FAILED on an error:
    the template that reads it then renders it itself, and fails only if it really uses it."""
    try:
        return _plain(produce(variables, name))
    except Exception:  # noqa: BLE001 - any failure leaves the variable to the template, as Ansible would
        return _FAILED


def _plain(value):
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
