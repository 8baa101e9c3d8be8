"""bench/bench_lab.py's pieces that need no lab: the floor playbook and the task counts."""

import importlib.util
import subprocess
import sys

import yaml

from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_lab", ROOT / "bench" / "bench_lab.py")
bench_lab = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_lab)


def test_the_floor_is_a_valid_playbook_of_that_many_stat_tasks(tmp_path):
    book = tmp_path / "floor.yml"
    book.write_text(yaml.safe_dump(bench_lab.floor_playbook(7), sort_keys=False))
    [play] = yaml.safe_load(book.read_text())
    assert play["hosts"] == "all" and play["gather_facts"] is False
    assert [list(t)[1] for t in play["tasks"]] == ["ansible.builtin.stat"] * 7
    ansible = str(ROOT / ".venv" / "bin" / "ansible-playbook")
    done = subprocess.run([ansible, "--syntax-check", "-i", "localhost,", str(book)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tasks_per_host_counts_what_ran_on_the_nodes():
    doc = {"hosts": {"localhost": {"ok": 5, "changed": 0, "skipped": 1, "failed": 0, "unreachable": 0},
                     "m": {"ok": 200, "changed": 1, "skipped": 60, "failed": 0, "unreachable": 0}}}
    assert bench_lab.tasks_per_host(doc) == {"m": 261}
