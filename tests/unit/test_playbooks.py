"""Entry points: site.yml and playbooks/ are thin wrappers of the collection's playbooks,
and each one validates the inventory before any other play."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION_PLAYBOOKS = ROOT / "collections/ansible_collections/openpai/cluster/playbooks"
LAYERS = ["preflight", "hosts", "kubernetes", "hadoop", "services", "verify"]


def imports(path):
    plays = yaml.safe_load(path.read_text())
    return [p.get("ansible.builtin.import_playbook") for p in plays]


def expand(name):
    """The plays of collection playbook ``name``, imports followed."""
    out = []
    for play in yaml.safe_load((COLLECTION_PLAYBOOKS / (name + ".yml")).read_text()):
        target = play.get("ansible.builtin.import_playbook")
        out.extend(expand(target.split(".")[-1]) if target else [play])
    return out


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_has_a_thin_top_level_wrapper(layer):
    wrapper = ROOT / "playbooks" / (layer + ".yml")
    targets = imports(wrapper)
    assert all(targets), "%s: only import_playbook entries" % wrapper
    assert targets[-1] == "openpai.cluster." + layer


@pytest.mark.parametrize("entry", ["site.yml", "playbooks/site.yml"] + ["playbooks/%s.yml" % name for name in LAYERS])
def test_each_entry_point_validates_first(entry):
    plays = []
    for target in imports(ROOT / entry):
        plays.extend(expand(target.split(".")[-1]))
    first = plays[0]
    assert first["hosts"] == "localhost" and "always" in first["tags"]
    assert first["tasks"][0]["ansible.builtin.include_role"]["tasks_from"] == "inventory"
    # ...and only once.
    assert sum(1 for p in plays if p.get("hosts") == "localhost" and "always" in p.get("tags", [])) == 1


def test_every_collection_layer_is_in_site():
    site = [t.split(".")[-1] for t in imports(COLLECTION_PLAYBOOKS / "site.yml")]
    assert site == LAYERS


def test_a_plain_site_run_deploys_the_services_and_every_services_play_has_its_tag():
    plays = yaml.safe_load((COLLECTION_PLAYBOOKS / "site.yml").read_text())
    services = [p for p in plays if p.get("ansible.builtin.import_playbook") == "openpai.cluster.services"]
    assert len(services) == 1 and "never" not in (services[0].get("tags") or [])
    assert all("services" in play["tags"] for play in expand("services"))

