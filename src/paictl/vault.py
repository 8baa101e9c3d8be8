"""Vault passwords for inventories with encrypted files (e.g. the vault.yml that
`paictl config generate` writes): --vault-password-file, --ask-vault-pass, or
Ansible's own ANSIBLE_VAULT_PASSWORD_FILE."""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile

from paictl.errors import PaictlError

_prompted = {}


def add_arguments(parser):
    parser.add_argument("--vault-password-file", action="append", metavar="FILE", default=[],
                        help="file holding the vault password (repeatable)")
    parser.add_argument("--ask-vault-pass", action="store_true", help="ask for the vault password")


def password_files(args):
    """Password files for ``args``: given ones, and a private 0600 file for a prompted password."""
    files = list(getattr(args, "vault_password_file", None) or [])
    for path in files:
        if not os.path.isfile(path):
            raise PaictlError("--vault-password-file %s: no such file" % path)
    if getattr(args, "ask_vault_pass", False):
        if "file" not in _prompted:
            secret = getpass.getpass("Vault password: ")
            folder = tempfile.mkdtemp(prefix="paictl-vault-")
            path = os.path.join(folder, "password")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secret + "\n")
            _prompted["file"], _prompted["folder"] = path, folder
        files.append(_prompted["file"])
    return files


def cleanup():
    folder = _prompted.pop("folder", None)
    _prompted.pop("file", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def setup_loader(loader, files):
    """Give Ansible's DataLoader (and the process's vault context, used for inline
    ``!vault`` values) the secrets of ``files``, then ANSIBLE_VAULT_PASSWORD_FILE."""
    from ansible import constants as C
    from ansible.parsing.vault import VaultSecretsContext, get_file_vault_secret
    files = list(files)
    if C.DEFAULT_VAULT_PASSWORD_FILE:
        files.append(C.DEFAULT_VAULT_PASSWORD_FILE)
    secrets = []
    for path in files:
        secret = get_file_vault_secret(filename=path, vault_id=C.DEFAULT_VAULT_IDENTITY, loader=loader)
        secret.load()
        secrets.append((C.DEFAULT_VAULT_IDENTITY, secret))
    loader.set_vault_secrets(secrets)
    context = VaultSecretsContext.current(optional=True)
    if context is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    else:
        context.secrets = secrets
