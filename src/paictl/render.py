"""paictl config render: each host's files, rendered from the roles' own templates
and defaults with the inventory's variables, without contacting any host.

Which host gets which file comes from the collection's playbooks, loaded with
Ansible's own Playbook/Play/Role objects: every play of ``playbooks/site.yml`` (and
what it imports), its ``hosts`` pattern resolved by the InventoryManager, and every
task of the play (roles, their meta dependencies, ``include_role`` and static
``import_tasks``/``include_tasks``) that is a ``template`` task of a role writing
the files the role lists in ``<role>_config_files``: looping over that list, or with
a fixed ``src: <file>.j2`` for a file of it. Those files are rendered from the role's
``templates/<file>.j2`` into ``DIR/<host>/<folder>/<file>``, ``<folder>`` being the
role's ``<role>_config_folder`` (default: the role's name). Variables are layered as
Ansible layers them for that task (role defaults with their dependency chain,
inventory, play and role vars, role params); facts do not exist here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paictl import inventory, project
from paictl.errors import PaictlError

PLAYBOOK = "playbooks/site.yml"
TEMPLATE_ACTIONS = frozenset({"template", "ansible.builtin.template", "ansible.legacy.template"})


@dataclass
class Target:
    """One template task of one play that writes a role's config files on the play's hosts."""

    play: str
    role: str                 # the role's short name: its variables are <role>_config_files/_folder
    template_dir: Path
    hosts: list
    only: str | None          # the one file of <role>_config_files a fixed ``src`` writes; None: all
    low: dict                 # role defaults, as Ansible layers them for the task
    high: dict                # play vars, role vars, task vars and role params


def run(args, out):
    inv = inventory.load(args)
    found = inventory.problems(inv)
    if found:
        raise PaictlError("%s: %d problem(s); nothing rendered" % (args.inventory, len(found)), found)
    written = render(inv, Path(args.output))
    hosts = {p.relative_to(Path(args.output)).parts[0] for p in written}
    out.write("rendered %d files for %d hosts into %s\n" % (len(written), len(hosts), args.output))
    return 0


# -- which host gets which file: the playbooks ---------------------------------
def targets(inv, playbook: Path | None = None) -> list:
    """The config-file template tasks of ``playbook`` (default: the collection's site.yml), in run order."""
    from ansible.errors import AnsibleError
    from ansible.playbook import Playbook

    path = playbook or project.collection() / PLAYBOOK
    try:
        book = Playbook.load(str(path), variable_manager=inv.variables, loader=inv.loader)
        found = []
        for play in book.get_plays():
            hosts = [h.name for h in inv.manager.get_hosts(play.hosts)]
            seen = set()
            for block in play.compile():
                for task in _tasks(block, play, inv):
                    target = _target(play, task, hosts)
                    if target and (target.role, target.template_dir, target.only) not in seen:
                        seen.add((target.role, target.template_dir, target.only))
                        found.append(target)
        return found
    except AnsibleError as exc:
        raise PaictlError("%s: %s" % (path, inventory._first_line(exc))) from None


def _tasks(block, play, inv):
    """Every task under ``block``, ``include_role`` and static ``include_tasks`` expanded."""
    from ansible.playbook.block import Block
    from ansible.playbook.role_include import IncludeRole
    from ansible.playbook.task_include import TaskInclude

    for item in block.block + block.rescue + block.always:
        if isinstance(item, Block):
            yield from _tasks(item, play, inv)
        elif isinstance(item, IncludeRole):
            blocks, _handlers = item.get_block_list(play=play, variable_manager=inv.variables, loader=inv.loader)
            for sub in blocks:
                yield from _tasks(sub, play, inv)
        elif isinstance(item, TaskInclude) and item.action in _include_tasks_actions():
            for sub in _included_blocks(item, play, inv):
                yield from _tasks(sub, play, inv)
        else:
            yield item


def _include_tasks_actions():
    from ansible import constants as C
    return C._ACTION_INCLUDE_TASKS


def _included_blocks(task, play, inv):
    """The blocks of an ``include_tasks`` whose file name is static (a templated name renders nothing here)."""
    from ansible.playbook.helpers import load_list_of_blocks
    from ansible.template import is_trusted_as_template

    name = task.args.get("_raw_params")
    if not isinstance(name, str) or (is_trusted_as_template(name) and ("{{" in name or "{%" in name)):
        return []
    base = Path(task._role._role_path) / "tasks" if task._role else Path(play.get_search_path()[0])
    path = base / name
    if not path.is_file():
        return []
    data = inv.loader.load_from_file(str(path), trusted_as_template=True) or []
    return load_list_of_blocks(data, play=play, role=task._role, task_include=task,
                               variable_manager=inv.variables, loader=inv.loader)


def _target(play, task, hosts):
    """A Target when ``task`` templates files its role lists in ``<role>_config_files``."""
    role = task._role
    if role is None or task.action not in TEMPLATE_ACTIONS:
        return None
    name = role.get_name(include_role_fqcn=False)
    files_var = name + "_config_files"
    if _reads(task.loop, files_var):
        only = None
    else:
        src = task.args.get("src")
        if not isinstance(src, str) or not src.endswith(".j2") or "{" in src or "/" in src:
            return None
        only = src[:-len(".j2")]  # kept only where the host's <role>_config_files lists it
        if files_var not in role.get_default_vars():
            return None
    from ansible.utils.vars import combine_vars
    chain = task.get_dep_chain()
    low = {}
    for play_role in play.roles:
        if play_role.public:
            low = combine_vars(low, play_role.get_default_vars())
    low = combine_vars(low, role.get_default_vars(dep_chain=chain))
    high = dict(play.get_vars())
    for play_role in play.roles:
        if play_role.public:
            high = combine_vars(high, play_role.get_vars(include_params=False, only_exports=True))
    high = combine_vars(high, role.get_vars(chain, include_params=False, only_exports=False))
    high = combine_vars(high, task.get_vars())
    high = combine_vars(high, role.get_role_params(chain))
    high = combine_vars(high, task.get_include_params())
    return Target(play.get_name(), name, Path(role._role_path) / "templates", hosts, only, low, high)


def _reads(expression, variable):
    """Whether a loop expression (``"{{ x_config_files }}"``) reads ``variable``."""
    if not isinstance(expression, str):
        return False
    from paictl.render_memo import Memo
    names = Memo().source_names(expression)
    return bool(names) and variable in names


# -- addresses -----------------------------------------------------------------
def address_problems(unaddressed) -> list:
    """One line per host whose address the inventory alone cannot tell."""
    return ["host %r: its address is not in the inventory (set ansible_host)" % host for host in unaddressed]


def _address_known(templar, variables):
    """False when the host profile (``openpai_host``) says the host has no address; True without a profile."""
    if "openpai_host" not in variables:
        return True
    templar.available_variables = variables
    profile = templar.template(variables["openpai_host"])
    return not (hasattr(profile, "get") and "address" in profile and profile.get("address") is None)


# -- rendering -----------------------------------------------------------------
def render(inv, outdir, playbook=None, share=True):
    """Write every host's files under ``outdir``; returns the paths written.

    ``share``: render a template once per distinct input (render_memo) rather than once per host."""
    from ansible.errors import AnsibleError
    from ansible.template import trust_as_template
    from ansible.utils.vars import combine_vars

    from paictl import jinja_cache
    from paictl.render_memo import Memo
    jinja_cache.enable()

    memo = Memo()
    templar = inv.templar({})  # one templar: compiled expressions are reused across hosts
    host_vars = {}
    sources = {}
    plan = {}                  # (host, folder, file) -> (target, variables): the last play writing it wins
    unaddressed = []
    checked = set()

    def rendered(what, roots, variables, host, value):
        def produce(available, name=None):
            templar.available_variables = available
            return templar.template(value if name is None else available[name])
        if not share:
            return produce(variables)
        return memo.render(what, roots, variables, host, produce)

    for target in targets(inv, playbook):
        files_var, folder_var = target.role + "_config_files", target.role + "_config_folder"
        for host in target.hosts:
            if host not in host_vars:
                host_vars[host] = _template_vars(inv, host)
            variables = combine_vars(combine_vars(target.low, host_vars[host]), target.high)
            try:
                if host not in checked:
                    checked.add(host)
                    if not _address_known(templar, variables):
                        unaddressed.append(host)
                names = rendered(("var", files_var), frozenset({files_var}), variables, host, variables[files_var])
                folder = target.role
                if folder_var in variables:
                    folder = str(rendered(("var", folder_var), frozenset({folder_var}), variables, host,
                                          variables[folder_var]))
            except (AnsibleError, KeyError) as exc:
                raise PaictlError("host %r: rendering %s failed: %s"
                                  % (host, target.role, _message(exc, files_var))) from None
            for name in names:
                if target.only is None or str(name) == target.only:
                    plan[(host, folder, str(name))] = (target, variables)
    if unaddressed:
        raise PaictlError("%d host(s) without an address; nothing rendered" % len(unaddressed),
                          address_problems(unaddressed))

    written = []
    folders = set()
    for (host, folder, name), (target, variables) in plan.items():
        source_path = target.template_dir / (name + ".j2")
        try:
            if source_path not in sources:
                sources[source_path] = trust_as_template(source_path.read_text())
            source = sources[source_path]
            text = rendered(("file", source_path), memo.source_names(source), variables, host, source)
        except AnsibleError as exc:
            raise PaictlError("host %r: rendering %s failed: %s" % (host, target.role, inventory._first_line(exc))) \
                from None
        except OSError as exc:
            raise PaictlError("cannot read %s: %s" % (exc.filename or source_path, exc.strerror)) from None
        dest = outdir / host / folder / name
        try:
            if (host, folder) not in folders:
                dest.parent.mkdir(parents=True, exist_ok=True)
                folders.add((host, folder))
            dest.write_text(text)
        except OSError as exc:
            raise PaictlError("cannot write %s: %s" % (exc.filename or outdir, exc.strerror)) from None
        written.append(dest)
    return written


def _template_vars(inv, host):
    """What a template sees of ``host`` without a play: Ansible's ``get_vars(host)`` with ``hostvars``.

    Read from the inventory's (memoised) hostvars, so each host's variables are gathered once,
    whether a template asks for them as its own or through ``hostvars[host]``."""
    from ansible.errors import AnsibleError
    hostvars = inv.hostvars()
    try:
        variables = dict(hostvars.raw_get(host))
    except AnsibleError as exc:
        raise PaictlError("inventory %s: host %r: %s" % (inv.path, host, inventory._first_line(exc))) from None
    variables["hostvars"] = hostvars
    return variables


def _message(exc, files_var):
    if isinstance(exc, KeyError):
        return "%s is not defined" % files_var
    return inventory._first_line(exc)
