"""A compile cache for Jinja, used only inside ``paictl config render``.

Ansible compiles every template expression anew for every host; rendering the
same role templates for hundreds of hosts then spends most of its time in the
Jinja compiler. Compiled code depends only on the source and the environment's
compile-time settings, so it is memoised on exactly those. Nothing changes for
ansible-playbook runs: the cache lives in this process only."""

from __future__ import annotations

import jinja2

_original_compile = jinja2.Environment.compile
_cache = {}


def _settings(env):
    return (type(env), env.trim_blocks, env.lstrip_blocks, env.keep_trailing_newline, env.newline_sequence,
            env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix,
            env.line_comment_prefix, env.optimized, env.is_async, env.finalize is not None,
            repr(env.autoescape), tuple(sorted(env.extensions)))


def _escape_backslashes():
    try:
        from ansible._internal._templating._jinja_bits import _TemplateCompileContext
    except ImportError:  # pragma: no cover - a future ansible-core without it
        return None
    ctx = _TemplateCompileContext.current(optional=True)
    return bool(ctx and ctx.escape_backslashes)


def _cached_compile(self, source, name=None, filename=None, raw=False, defer_init=False):
    if not isinstance(source, str):  # parsed trees (expressions) are compiled as usual
        return _original_compile(self, source, name, filename, raw, defer_init)
    key = (source, name, filename, raw, defer_init, _escape_backslashes(), _settings(self))
    code = _cache.get(key)
    if code is None:
        code = _cache[key] = _original_compile(self, source, name, filename, raw, defer_init)
    return code


def enable():
    jinja2.Environment.compile = _cached_compile
