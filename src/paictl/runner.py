"""Run a playbook through ansible-runner and follow its events: a live progress
display (plays, tasks, host results), then a per-host summary."""

from __future__ import annotations

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


class Progress:
    """Turns runner events into lines; silent when ``out`` is None."""

    def __init__(self, out):
        self.out = out
        self.stats = {}
        self.artifact_data = {}
        self.failures = []
        self._task = None
        self._quiet = False

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
            line += "\n" + "\n".join("        " + m for m in _message(result).splitlines())
        if status in ("FAILED", "UNREACHABLE"):
            message = _message(result)
            self.failures.append((host, self._task, message))
            line += "\n" + "\n".join("        " + m for m in message.splitlines())
        self._write(line)


def _message(result):
    msg = result.get("msg")
    if isinstance(msg, list):
        msg = "\n".join(str(m) for m in msg)
    if not msg and result.get("stderr"):
        msg = result["stderr"]
    if not msg and result.get("censored"):
        msg = result["censored"]
    return str(msg or "failed (no message)").strip()


def run_playbook(playbook, inventory_path, out, limit=None, tags=None, check=False, extravars=None,
                 vault_files=()):
    """Run ``playbook`` (a path or a collection playbook name) and return ``(status, rc, progress)``."""
    import ansible_runner

    progress = Progress(out)
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
        if rc not in (0, None) and not progress.stats and out is not None:
            # ansible-playbook stopped before any play (e.g. a syntax error): show its words.
            text = result.stdout.read() if hasattr(result.stdout, "read") else ""
            tail = [line for line in text.splitlines() if line.strip()][-15:]
            if tail:
                sys.stderr.write("\n".join(tail) + "\n")
    finally:
        shutil.rmtree(str(private), ignore_errors=True)
    return status, rc, progress


def summary_lines(stats):
    width = max([len(h) for h in stats] + [4])
    lines = ["%-*s  %s" % (width, "HOST", "  ".join("%11s" % c for c in COUNTERS))]
    for host in sorted(stats):
        lines.append("%-*s  %s" % (width, host, "  ".join("%11d" % stats[host][c] for c in COUNTERS)))
    return lines
