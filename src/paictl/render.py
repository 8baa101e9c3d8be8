"""paictl config render: each host's files, rendered from the roles' own templates
and defaults with the inventory's variables, without contacting any host."""

from __future__ import annotations

from pathlib import Path

from paictl import inventory, project
from paictl.errors import PaictlError

ALL_HOSTS = ("kube_control_plane", "kube_node", "pai_master", "pai_worker")
# What the roles write: (role, variable listing the role's templates, output folder, hosts, roles whose
# defaults the role sees besides BASE_ROLES). Every template is "<file>.j2" in the role's templates/ and
# lands in DIR/<host>/<folder>/<file>. Hosts: groups, or a callable (inventory -> host names).
TARGETS = (
    ("hadoop", "hadoop_config_files", "hadoop", ("pai_master", "pai_worker"), ()),
    ("docker", "docker_config_files", "docker", ALL_HOSTS, ()),
    ("containerd", "containerd_config_files", "containerd", ALL_HOSTS, ()),
    # kubeadm init on the first control-plane host, kubeadm join on every other node.
    ("kubernetes_control_plane", "kubernetes_control_plane_config_files", "kubeadm",
     lambda inv: inv.groups.get("kube_control_plane", [])[:1], ("kubernetes",)),
    ("kubernetes_worker", "kubernetes_worker_config_files", "kubeadm",
     lambda inv: [h for h in _members(inv, ("kube_control_plane", "kube_node"))
                  if h not in inv.groups.get("kube_control_plane", [])[:1]], ("kubernetes",)),
)
BASE_ROLES = ("openpai",)


def _members(inv, groups):
    return [h for h in inv.hosts if any(h in inv.groups.get(g, ()) for g in groups)]


def run(args, out):
    inv = inventory.load(args)
    found = inventory.problems(inv)
    if found:
        raise PaictlError("%s: %d problem(s); nothing rendered" % (args.inventory, len(found)), found)
    written = render(inv, Path(args.output))
    hosts = {p.relative_to(Path(args.output)).parts[0] for p in written}
    out.write("rendered %d files for %d hosts into %s\n" % (len(written), len(hosts), args.output))
    return 0


def render(inv, outdir):
    from ansible.errors import AnsibleError
    from ansible.template import trust_as_template

    from paictl import jinja_cache
    jinja_cache.enable()

    written = []
    for role, files_var, folder, groups, shared_roles in TARGETS:
        defaults = inventory.role_defaults(*BASE_ROLES, *shared_roles, role)
        hosts = groups(inv) if callable(groups) else _members(inv, groups)
        template_dir = project.collection() / "roles" / role / "templates"
        sources = {}
        templar = inv.templar({})  # one templar: compiled expressions are reused across hosts
        for host in hosts:
            variables = dict(defaults)
            variables.update(inv.host_template_vars(host))
            templar.available_variables = variables
            try:
                names = templar.template(variables[files_var])
                for name in names:
                    if name not in sources:
                        sources[name] = trust_as_template((template_dir / (name + ".j2")).read_text())
                    text = templar.template(sources[name])
                    dest = outdir / host / folder / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_text(text)
                    written.append(dest)
            except AnsibleError as exc:
                raise PaictlError("host %r: rendering %s failed: %s" % (host, role, inventory._first_line(exc))) \
                    from None
            except OSError as exc:
                raise PaictlError("cannot write %s: %s" % (exc.filename or outdir, exc.strerror)) from None
    return written


