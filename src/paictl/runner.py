"""Run a playbook through ansible-runner and follow its events: a live progress
display (plays, tasks, host results), then a per-host summary."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from paictl import project

COUNTERS = ("ok", "changed", "failed", "unreachable", "skipped")
_QUIET_ACTIONS = ("validate_argument_spec", "ansible.builtin.validate_argument_spec")
_STATS_KEYS = {"ok": "ok", "changed": "changed", "failures": "failed", "dark": "unreachable",
               "skipped": "skipped", "rescued": None, "ignored": None, "processed": None}
MASK = "********"
# Inventory variables whose values are secrets (paths to key files are not).
_SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|private_key)(_|$)", re.I)


def secret_values(variables):
    """The string values of the secret-named variables among ``variables`` (an
    iterable of name -> value mappings; vault values are decrypted when the vault
    password was given), to be masked in every message paictl shows or prints."""
    from ansible.parsing.vault import EncryptedString

    found = set()
    for mapping in variables:
        for name, value in mapping.items():
            name = str(name)
            if not _SECRET_NAME.search(name) or name.endswith("_file"):
                continue
            if isinstance(value, EncryptedString):
                try:
                    value = str(value)
                except Exception:  # noqa: BLE001 -- not decryptable here, so not printable by Ansible either
                    continue
            if isinstance(value, str) and len(value) >= 3 and "{{" not in value:
                found.add(str(value))
    return found


class Progress:
    """Turns runner events into lines; silent when ``out`` is None."""

    def __init__(self, out, secrets=()):
        self.out = out
        self.stats = {}
        self.artifact_data = {}
        self.failures = []   # (host, task, message, "failed"|"unreachable"), masked
        self.error = ""      # ansible-playbook's own words when it stopped before any play
        self._task = None
        self._quiet = False
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def mask(self, text):
        """``text`` with every known secret value replaced by MASK."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def failures_by_host(self, hosts=None):
        """``{host: [{"task", "message", "status"}]}`` of the failed and unreachable
        results, in order; only ``hosts`` when given (e.g. the hosts whose final
        counters say they failed: a failure a rescue block handled is left out)."""
        out = {}
        for host, task, message, status in self.failures:
            if hosts is None or host in hosts:
                out.setdefault(host, []).append({"task": task, "message": message, "status": status})
        return out

    def _write(self, line):
        if self.out is not None:
            self.out.write(line + "\n")
            self.out.flush()

    def __call__(self, event):
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self._write("\nPLAY  %s" % (data.get("play") or data.get("name") or "").strip())
        elif kind == "playbook_on_task_start":
            self._task = (data.get("task") or "").strip()
            # Ansible's own argument checks of each role are shown only when they fail.
            self._quiet = data.get("task_action") in _QUIET_ACTIONS
            if not self._quiet:
                self._write("  TASK  %s" % self._task)
        elif kind.startswith("runner_on_") or kind.startswith("runner_item_on_"):
            self._host_event(kind, data)
        elif kind == "playbook_on_stats":
            for key, name in _STATS_KEYS.items():
                if name is None:
                    continue
                for host, count in (data.get(key) or {}).items():
                    self.stats.setdefault(host, dict.fromkeys(COUNTERS, 0))[name] = int(count)
            self.artifact_data = data.get("artifact_data") or {}
        return True

    def _host_event(self, kind, data):
        host = data.get("host") or data.get("remote_addr") or "?"
        result = data.get("res") or {}
        if kind in ("runner_on_start", "runner_item_on_ok", "runner_item_on_skipped", "runner_on_no_hosts"):
            return
        if kind == "runner_item_on_failed":
            return  # the task's own failure event follows
        if kind == "runner_on_ok":
            status = "changed" if result.get("changed") else "ok"
        elif kind == "runner_on_skipped":
            status = "skipped"
        elif kind == "runner_on_unreachable":
            status = "UNREACHABLE"
        elif kind == "runner_on_failed":
            if data.get("ignore_errors"):
                return
            status = "FAILED"
        else:
            return
        if self._quiet and status not in ("FAILED", "UNREACHABLE"):
            return
        if self._quiet:
            self._write("  TASK  %s" % self._task)
        line = "    %-11s %s" % (status, host)
        if status == "ok" and data.get("task_action") in ("debug", "ansible.builtin.debug") and result.get("msg"):
            line += "\n" + "\n".join("        " + m for m in self.mask(_message(result)).splitlines())
        if status in ("FAILED", "UNREACHABLE"):
            message = self.mask(_message(result))
            self.failures.append((host, self._task, message, status.lower()))
            line += "\n" + "\n".join("        " + m for m in message.splitlines())
        self._write(line)


def _message(result):
    """What a result says: its msg, else its stderr, else Ansible's no_log notice;
    for a loop, each failed item's own message under it (with its label unless
    the task hides its items with no_log)."""
    msg = result.get("msg")
    if isinstance(msg, list):
        msg = "\n".join(str(m) for m in msg)
    if not msg and result.get("stderr"):
        msg = result["stderr"]
    if not msg and result.get("censored"):
        msg = result["censored"]
    text = str(msg or "failed (no message)").strip()
    items = [r for r in result.get("results") or () if isinstance(r, dict) and r.get("failed")]
    for item in items:
        text += "\n%s: %s" % (_item_label(item), _message(item).replace("\n", "\n  "))
    return text


def _item_label(item):
    if item.get("_ansible_no_log") or "censored" in item:
        return "item"
    label = item.get("_ansible_item_label", item.get("item"))
    if not isinstance(label, str):
        label = json.dumps(label, sort_keys=True, default=str)
    return "item " + (label if len(label) <= 80 else label[:77] + "...")


def run_playbook(playbook, inventory_path, out, limit=None, tags=None, check=False, extravars=None,
                 vault_files=(), secrets=()):
    """Run ``playbook`` (a path or a collection playbook name) and return ``(status, rc, progress)``.

    ``out``: where the live display goes (None: silent); ``secrets``: values masked
    in every message shown or kept in ``progress.failures``."""
    import ansible_runner

    progress = Progress(out, secrets)
    private = Path(tempfile.mkdtemp(prefix="paictl-run-"))
    cmdline = []
    if check:
        cmdline.append("--check")
    for path in vault_files:
        cmdline += ["--vault-password-file", str(Path(path).resolve())]
    if inventory_path is None:
        # Plays that only run on the controller get an inventory of just localhost.
        local = private / "localhost.ini"
        local.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        inventory_path = local
    try:
        result = ansible_runner.run(
            private_data_dir=str(private),
            project_dir=str(project.root()),
            playbook=str(playbook),
            inventory=str(Path(inventory_path).resolve()),
            limit=limit,
            tags=tags,
            extravars=extravars or None,
            cmdline=" ".join(shlex.quote(c) for c in cmdline) or None,
            envvars=project.ansible_env(),
            event_handler=progress,
            quiet=True,
            suppress_env_files=True,
            json_mode=False,
        )
        status, rc = result.status, result.rc
        if rc not in (0, None) and not progress.stats:
            # ansible-playbook stopped before any play (e.g. a syntax error): show its words.
            text = result.stdout.read() if hasattr(result.stdout, "read") else ""
            tail = [line for line in text.splitlines() if line.strip()][-15:]
            progress.error = progress.mask("\n".join(tail))
            if tail and out is not None:
                sys.stderr.write(progress.error + "\n")
    finally:
        shutil.rmtree(str(private), ignore_errors=True)
    return status, rc, progress


def summary_lines(stats):
    width = max([len(h) for h in stats] + [4])
    lines = ["%-*s  %s" % (width, "HOST", "  ".join("%11s" % c for c in COUNTERS))]
    for host in sorted(stats):
        lines.append("%-*s  %s" % (width, host, "  ".join("%11d" % stats[host][c] for c in COUNTERS)))
    return lines
