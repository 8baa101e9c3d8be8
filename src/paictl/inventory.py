"""An inventory (directory, file or OpenPAI layout.yaml) loaded with Ansible's own
inventory code, so paictl sees exactly what ansible-playbook sees."""

from __future__ import annotations

import contextlib
from pathlib import Path

from paictl import project, sources, vault
from paictl.errors import PaictlError

# Variables Ansible adds to every host that are not part of the inventory.
MAGIC_VARS = {
    "ansible_config_file", "ansible_facts", "ansible_playbook_python", "ansible_version", "group_names",
    "groups", "inventory_dir", "inventory_file", "inventory_hostname", "inventory_hostname_short",
    "playbook_dir", "hostvars", "omit", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_batch",
    "ansible_dependent_role_names", "ansible_role_names", "role_names", "ansible_collection_name",
    "ansible_run_tags", "ansible_skip_tags", "ansible_check_mode", "ansible_diff_mode", "ansible_forks",
    "ansible_inventory_sources", "ansible_limit", "ansible_verbosity", "environment",
}
# Variables the fact-free validation reads from each host.
HOST_KEYS = ("openpai_machine_type", "ansible_host", "ansible_connection", "openpai_address")


def plain(value):
    """Ansible's tagged containers and strings as plain Python (for YAML/JSON output)."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def role_defaults(*roles):
    """Role defaults (lowest precedence), as ansible-playbook would load them, in order."""
    from ansible.parsing.dataloader import DataLoader
    loader = DataLoader()
    merged = {}
    for role in roles:
        path = project.collection() / "roles" / role / "defaults" / "main.yml"
        data = loader.load_from_file(str(path), cache="none", trusted_as_template=True) or {}
        merged.update(data)
    return merged


class Inventory:
    """Groups and variables of one inventory source."""

    def __init__(self, source, vault_files=()):
        path = Path(source)
        if not path.exists():
            raise PaictlError("inventory %s: no such file or directory" % source)
        project.init_ansible()
        from ansible.errors import AnsibleError
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        from ansible.vars.manager import VariableManager

        found = sources.problems(path)
        if len(found) == 1:
            raise PaictlError(found[0])
        if found:
            raise PaictlError("inventory %s: %d problem(s) in its files; fix them first" % (source, len(found)),
                              found)
        self.path = path.resolve()
        self.loader = DataLoader()
        failures = []
        try:
            vault.setup_loader(self.loader, vault_files)
            with _parse_failures_collected(failures):
                self.manager = InventoryManager(loader=self.loader, sources=[str(self.path)])
        except AnsibleError as exc:
            text = _first_line(exc)
            if "vault" in text.lower() and "decrypt" in text.lower():
                text += " (give --vault-password-file FILE or --ask-vault-pass)"
            if failures and "vault" not in text.lower():
                raise _failures_error(source, failures) from None
            raise PaictlError("inventory %s: %s" % (source, text)) from None
        if failures:  # some file of a directory was not read: its hosts would be missing
            raise _failures_error(source, failures)
        self.variables = VariableManager(loader=self.loader, inventory=self.manager)
        self.groups = {name: [h.name for h in group.get_hosts()] for name, group in self.manager.groups.items()}
        self.hosts = [h.name for h in self.manager.get_hosts()]
        self._raw = {}

    # -- variables ---------------------------------------------------------
    def raw_vars(self, host):
        """The host's inventory variables (group_vars, host_vars, plugin vars), untemplated."""
        if host not in self._raw:
            allv = self._get_vars(self.manager.get_host(host), include_hostvars=False)
            self._raw[host] = {k: v for k, v in allv.items() if k not in MAGIC_VARS}
        return self._raw[host]

    def all_vars(self):
        """Variables of group 'all' (what the implicit localhost sees), untemplated."""
        allv = self._get_vars(self.manager.localhost, include_hostvars=False)
        return {k: v for k, v in allv.items() if k not in MAGIC_VARS and k not in ("ansible_connection",
                                                                                     "ansible_python_interpreter")}

    def hostvars(self):
        """Ansible's ``hostvars`` for templates; each host's variables are read once."""
        if getattr(self, "_hostvars", None) is None:
            from ansible.vars.hostvars import HostVars

            class _CachedHostVars(HostVars):
                _memo = {}

                def raw_get(self, host_name):
                    if host_name not in self._memo:
                        self._memo[host_name] = super().raw_get(host_name)
                    return self._memo[host_name]

            self._hostvars = _CachedHostVars(self.manager, self.variables, self.loader)
            self._hostvars._memo = {}
        return self._hostvars

    def host_template_vars(self, host):
        """Everything a template sees for ``host`` (without role defaults and facts)."""
        self.hostvars()
        return self._get_vars(self.manager.get_host(host), include_hostvars=True)

    def _get_vars(self, host, include_hostvars):
        from ansible.errors import AnsibleError
        try:
            return self.variables.get_vars(host=host, include_hostvars=include_hostvars)
        except AnsibleError as exc:
            text = _first_line(exc)
            if "vault" in text.lower() or "decrypt" in text.lower():
                text += " (give --vault-password-file FILE or --ask-vault-pass)"
            raise PaictlError("inventory %s: %s" % (self.path, text)) from None

    def templar(self, variables):
        from ansible.template import Templar
        return Templar(loader=self.loader, variables=variables)

    def templated(self, variables, keys):
        """``keys`` of ``variables``, templated (missing keys are left out)."""
        from ansible.errors import AnsibleError
        templar = self.templar(variables)
        out = {}
        for key in keys:
            if key in variables:
                try:
                    out[key] = plain(templar.template(variables[key]))
                except AnsibleError as exc:
                    text = _first_line(exc)
                    if "vault" in text.lower():
                        text += " (give --vault-password-file FILE or --ask-vault-pass)"
                    raise PaictlError("variable %r: %s" % (key, text)) from None
        return out

    def cluster_vars(self):
        """Cluster-wide variables over the collection's defaults, templated."""
        variables = dict(role_defaults("openpai"))
        variables.update(self.all_vars())
        # The profiles need a host's hostvars: they are computed per host, not here.
        keys = [k for k in variables if k.startswith("openpai_")
                and k not in ("openpai_address", "openpai_host", "openpai_cluster")]
        return self.templated(variables, keys)

    def check_vars(self):
        """Per-host variables the fact-free validation reads."""
        return {h: self.templated(self.raw_vars(h), HOST_KEYS) for h in self.hosts}


@contextlib.contextmanager
def _parse_failures_collected(failures):
    """While Ansible parses an inventory, collect its "Failed to parse inventory with 'X' plugin" reports
    (several paragraphs each) as ``(plugin, error)`` instead of printing them."""
    from ansible.utils.display import Display
    display = Display()

    def error_as_warning(msg, exception, *args, **kwargs):
        plugin = str(msg).split("'")[1] if str(msg).count("'") >= 2 else ""
        failures.append((plugin, exception))

    def warning(msg, *args, **kwargs):
        if not str(msg).startswith("Unable to parse "):
            return original_warning(msg, *args, **kwargs)
        return None

    original_warning = display.warning
    display.error_as_warning, display.warning = error_as_warning, warning
    try:
        yield
    finally:
        del display.error_as_warning, display.warning


def _failures_error(source, failures):
    """One line per inventory file Ansible could not parse: the most specific plugin's reason."""
    by_file = {}
    for plugin, exc in failures:
        by_file.setdefault(_failure_file(exc), []).append((plugin, exc))
    lines = []
    for path, tried in by_file.items():
        suffix = Path(path).suffix if path else ""
        preferred = ("layout", "yaml") if suffix in sources.YAML_SUFFIXES else ("ini",)
        chosen = next((t for p in preferred for t in tried if t[0].split(".")[-1] == p), tried[-1])
        reason = _first_line(chosen[1])
        for prefix in ("Failed to parse inventory: ", "Failed to parse %s: " % path):
            reason = reason[len(prefix):] if reason.startswith(prefix) else reason
        lines.append("%s: cannot be read as an inventory (%s plugin): %s"
                     % (path or source, chosen[0] or "every", reason))
    if len(lines) == 1:
        return PaictlError(lines[0])
    return PaictlError("inventory %s: %d file(s) cannot be read" % (source, len(lines)), lines)


def _failure_file(exc):
    """The inventory file an Ansible parse error is about (from its origin), or ''."""
    import re
    for text in (str(getattr(exc, "obj", "") or ""), str(exc)):
        match = re.search(r"source '([^']+)'", text) or re.search(r"^(/[^:\n]+)", text)
        if match:
            return match.group(1)
    return ""


def _first_line(exc):
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def model():
    """The collection's model module (shared with the filters)."""
    project.init_ansible()
    from ansible_collections.openpai.cluster.plugins.module_utils import model as m
    return m


def layout_model():
    project.init_ansible()
    from ansible_collections.openpai.cluster.plugins.module_utils import layout as lm
    return lm


def load(args):
    """The inventory named by ``args.inventory``, with the vault passwords ``args`` gives."""
    return Inventory(args.inventory, vault.password_files(args))


def problems(inv: Inventory, addresses_given=True):
    """Every fact-free problem of the inventory (the same function the preflight role runs).

    ``addresses_given=False`` for `paictl lab up`, which gives every host its address.
    """
    return model().inventory_problems(inv.check_vars(), inv.groups, inv.cluster_vars(),
                                      addresses_given=addresses_given)


def warnings(inv: Inventory):
    """What a valid inventory does that its user should know (not problems: a deploy goes ahead)."""
    return model().inventory_warnings(inv.groups)
