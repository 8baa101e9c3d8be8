"""Server settings: environment variables, optionally a YAML file, checked once at start.

Every setting has an environment name ``PAI_REST_<NAME>`` and a key ``<name>`` (lower case) in the optional
YAML file named by ``PAI_REST_CONFIG_FILE``; the environment wins. Secrets may also be given as files
(``PAI_REST_ADMIN_PASSWORD_FILE``, ``PAI_REST_TOKEN_SECRET_FILE``) so they never appear in a process listing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

USERNAME_RE = re.compile(r"^[\w.-]+$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names every problem."""


@dataclass(frozen=True)
class Settings:
    """What a deployer gives the server (see README.md, "Settings")."""

    admin_username: str = "admin"
    admin_password: str = field(default="", repr=False)
    database_url: str = "sqlite:////var/lib/openpai/rest-server/rest-server.db"
    host: str = "0.0.0.0"
    port: int = 9186
    token_secret: str = field(default="", repr=False)
    yarn_rm_url: str = "http://localhost:8088"
    yarn_user: str = "pai"
    yarn_timeout_s: float = 15.0
    yarn_submit_timeout_s: float = 120.0
    nm_webapp_port: int = 8042
    launcher_command: str = "/opt/openpai/launcher/pai-launch"
    registry_domain: str = ""
    poll_interval_s: float = 10.0
    max_token_expiration_s: int = 604800
    # The node view (GET /api/v2/cluster/nodes): the cluster model, the NameNode's
    # web address, the Kubernetes API (the pod's service-account token and CA).
    cluster_file: str = ""
    hdfs_namenode_url: str = ""
    kubernetes_api_url: str = ""
    kubernetes_token_file: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    kubernetes_ca_file: str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file of ``database_url``, or None for another database."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len(prefix):])
        return None


_INT_FIELDS = {"port", "nm_webapp_port", "max_token_expiration_s"}
_FLOAT_FIELDS = {"yarn_timeout_s", "yarn_submit_timeout_s", "poll_interval_s"}
_FILE_SECRETS = {"admin_password", "token_secret"}


def _read_file_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The mapping in PAI_REST_CONFIG_FILE, or {} when that is unset."""
    path = env.get("PAI_REST_CONFIG_FILE", "")
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"PAI_REST_CONFIG_FILE: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"PAI_REST_CONFIG_FILE: {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"PAI_REST_CONFIG_FILE: {path} must hold a mapping of settings")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise SettingsError(f"PAI_REST_CONFIG_FILE: unknown settings {', '.join(unknown)}")
    return dict(data)


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from ``env`` (default os.environ), the config file and keyword overrides.

    Raises SettingsError naming each bad or missing setting.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = _read_file_values(env)
    problems: list[str] = []
    for f in fields(Settings):
        key = "PAI_REST_" + f.name.upper()
        if key in env:
            values[f.name] = env[key]
        if f.name in _FILE_SECRETS and key + "_FILE" in env:
            try:
                values[f.name] = Path(env[key + "_FILE"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"{key}_FILE: cannot read {env[key + '_FILE']}: {exc.strerror}")
    values.update(overrides)
    for name in list(values):
        raw = values[name]
        if name in _INT_FIELDS:
            try:
                values[name] = int(raw)
            except (TypeError, ValueError):
                problems.append(f"PAI_REST_{name.upper()}: {raw!r} is not an integer")
                values.pop(name)
        elif name in _FLOAT_FIELDS:
            try:
                values[name] = float(raw)
            except (TypeError, ValueError):
                problems.append(f"PAI_REST_{name.upper()}: {raw!r} is not a number")
                values.pop(name)
        elif raw is not None:
            values[name] = str(raw)
    settings = Settings(**values)
    problems.extend(_check(settings))
    if problems:
        raise SettingsError("; ".join(problems))
    return settings


def _check(s: Settings) -> list[str]:
    """Problems with a built Settings, one message per field."""
    problems = []
    if not USERNAME_RE.match(s.admin_username):
        problems.append("PAI_REST_ADMIN_USERNAME: must match ^[\\w.-]+$")
    if len(s.admin_password) < 6:
        problems.append("PAI_REST_ADMIN_PASSWORD: must be set, at least 6 characters")
    if not (0 < s.port < 65536):
        problems.append("PAI_REST_PORT: must be between 1 and 65535")
    if not s.yarn_rm_url.startswith(("http://", "https://")):
        problems.append("PAI_REST_YARN_RM_URL: must be an http:// or https:// URL")
    if not USERNAME_RE.match(s.yarn_user):
        problems.append("PAI_REST_YARN_USER: must match ^[\\w.-]+$")
    if s.poll_interval_s < 0:
        problems.append("PAI_REST_POLL_INTERVAL_S: must be >= 0 (0 turns the background poll off)")
    if s.token_secret and len(s.token_secret) < 32:
        problems.append("PAI_REST_TOKEN_SECRET: must be at least 32 characters")
    if not 60 <= s.max_token_expiration_s <= 604800:
        problems.append("PAI_REST_MAX_TOKEN_EXPIRATION_S: must be between 60 and 604800")
    return problems
