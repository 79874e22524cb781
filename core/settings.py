"""Runtime settings: one msgspec Struct read from the environment and an optional TOML file."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Every setting of the portal; README.md documents each one."""

    database_url: str = ""
    redis_url: str = ""
    smtp_url: str = ""
    var_dir: str = str(ROOT / "var")
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_scheme: Literal["http", "https"] = "https"
    public_port: int = 0
    dev: bool = False
    plugins: tuple[str, ...] | None = None
    cookie_secure: bool = True
    web_workers: int = 1
    trusted_proxies: str = "127.0.0.1"
    worker_concurrency: int = 20
    send_concurrency: int = 16
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    session_max_age: int = 12 * 3600
    # argon2id's cost for new password hashes: argon2-cffi's defaults (RFC 9106's low-memory profile).
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024
    api_token_ttl: int = 900
    metrics_token: str = ""
    callbacks_allow_private: bool = False
    webhook_base_url: str = ""
    plugin_settings: dict[str, dict[str, Any]] = {}

    @property
    def embedded_database(self) -> bool:
        return not self.database_url

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def sqlite_path(self) -> Path:
        return Path(self.var_dir) / "portal.sqlite"


# Environment variable → Settings field. PORTAL_* names are ours; the rest are the usual twelve-factor names.
_ENV = {
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "SMTP_URL": "smtp_url",
    "PORT": "port",
    "PORTAL_VAR_DIR": "var_dir",
    "PORTAL_SECRET_KEY": "secret_key",
    "PORTAL_HOST": "host",
    "PORTAL_PUBLIC_SCHEME": "public_scheme",
    "PORTAL_PUBLIC_PORT": "public_port",
    "PORTAL_DEV": "dev",
    "PORTAL_PLUGINS": "plugins",
    "PORTAL_COOKIE_SECURE": "cookie_secure",
    "PORTAL_WEB_WORKERS": "web_workers",
    "PORTAL_TRUSTED_PROXIES": "trusted_proxies",
    "PORTAL_WORKER_CONCURRENCY": "worker_concurrency",
    "PORTAL_SEND_CONCURRENCY": "send_concurrency",
    "PORTAL_LOGIN_MAX_FAILURES": "login_max_failures",
    "PORTAL_LOGIN_LOCKOUT_SECONDS": "login_lockout_seconds",
    "PORTAL_SESSION_MAX_AGE": "session_max_age",
    "PORTAL_PASSWORD_TIME_COST": "password_time_cost",
    "PORTAL_PASSWORD_MEMORY_KIB": "password_memory_kib",
    "PORTAL_API_TOKEN_TTL": "api_token_ttl",
    "PORTAL_METRICS_TOKEN": "metrics_token",
    "PORTAL_CALLBACKS_ALLOW_PRIVATE": "callbacks_allow_private",
    "PORTAL_WEBHOOK_BASE_URL": "webhook_base_url",
}


def _coerce(field: str, raw: str) -> Any:
    if field in {"dev", "cookie_secure", "callbacks_allow_private"}:
        return raw.strip().lower() in _TRUE
    if field == "plugins":
        return tuple(name.strip() for name in raw.split(",") if name.strip())
    return raw


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from ``PORTAL_CONFIG`` (a TOML file, optional) overlaid by environment variables.

    Raises:
        msgspec.ValidationError: naming the setting whose value has the wrong type.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    config_file = env.get("PORTAL_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            data = tomllib.load(fh)
        values.update({k: v for k, v in data.items() if k != "plugins"})
        values["plugin_settings"] = data.get("plugins", {})
    for name, field in _ENV.items():
        if env.get(name, "") != "":
            values[field] = _coerce(field, env[name])
    if "cookie_secure" not in values and values.get("dev"):
        # Local runs serve plain http on *.localhost, where a Secure cookie would never come back.
        values["cookie_secure"] = False
    if "callbacks_allow_private" not in values and values.get("dev"):
        # The demo's callback receivers run on this machine, which production refuses (SSRF).
        values["callbacks_allow_private"] = True
    settings = msgspec.convert(values, Settings, strict=False)
    if settings.dev:
        # Local runs serve plain http on *.localhost:PORT with no proxy in front: mailed links must point there.
        local = {"public_scheme": "http", "public_port": settings.port}
        settings = msgspec.structs.replace(settings, **{k: v for k, v in local.items() if k not in values})
    if not settings.secret_key:
        settings = msgspec.structs.replace(settings, secret_key=_persistent_secret(Path(settings.var_dir)))
    return settings


def _persistent_secret(var_dir: Path) -> str:
    """A random key kept under var/ so sessions survive restarts of an embedded install."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
