"""Settings from the environment and a TOML file; the `portal` command on a fresh var/ directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import msgspec
import pytest

from core.settings import load_settings


def test_environment_and_config_file(tmp_path):
    config = tmp_path / "portal.toml"
    config.write_text('port = 9000\nweb_workers = 3\n[plugins.sms]\nhost = "smsc.example"\n')
    settings = load_settings(
        {
            "PORTAL_CONFIG": str(config),
            "PORTAL_VAR_DIR": str(tmp_path),
            "PORT": "9100",
            "PORTAL_PLUGINS": "sms, viber",
            "PORTAL_DEV": "1",
            "DATABASE_URL": "postgresql://u@db/x",
        }
    )
    assert settings.port == 9100 and settings.web_workers == 3  # the environment wins over the file
    assert settings.plugins == ("sms", "viber") and settings.dev and not settings.cookie_secure
    assert settings.plugin_settings == {"sms": {"host": "smsc.example"}}
    assert not settings.embedded_database and settings.embedded_redis
    assert len(settings.secret_key) > 40
    assert load_settings({"PORTAL_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key  # kept in var/


def test_links_are_https_without_a_port_unless_dev_or_set(tmp_path):
    """Mailed links take scheme and port from the settings (never the request): a local run's own, else HTTPS."""
    base = {"PORTAL_VAR_DIR": str(tmp_path), "PORT": "9100"}
    production = load_settings(base)
    assert (production.public_scheme, production.public_port) == ("https", 0)
    local = load_settings({**base, "PORTAL_DEV": "1"})
    assert (local.public_scheme, local.public_port) == ("http", 9100)
    chosen = load_settings({**base, "PORTAL_DEV": "1", "PORTAL_PUBLIC_SCHEME": "https", "PORTAL_PUBLIC_PORT": "8443"})
    assert (chosen.public_scheme, chosen.public_port) == ("https", 8443)
    with pytest.raises(msgspec.ValidationError, match="public_scheme"):
        load_settings({**base, "PORTAL_PUBLIC_SCHEME": "ftp"})


def test_a_bad_setting_names_itself(tmp_path):
    with pytest.raises(msgspec.ValidationError, match="port"):
        load_settings({"PORTAL_VAR_DIR": str(tmp_path), "PORT": "eighty"})


def portal(args: list[str], var_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PORTAL_CONFIG")}
    env["PORTAL_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_demo_seeds_once_and_prints_the_accounts(tmp_path):
    first = portal(["demo", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    accounts = json.loads(first.stdout)  # the JSON alone: migrations report on stderr
    assert "migration" in first.stderr
    assert {a["email"] for a in accounts} == {
        "owner@demo.localhost",
        "admin@skyline.localhost",
        "anna@acme.localhost",
        "oleg@acme.localhost",
    }
    assert {a["url"].split("/")[2] for a in accounts} == {"demo.localhost:8000", "reseller.localhost:8000"}
    again = portal(["demo"], tmp_path)
    assert again.returncode == 0 and "anna@acme.localhost" in again.stdout
    assert (tmp_path / "portal.sqlite").exists()
    owner = portal(["createowner", "--email", "x@y.test", "--password", "long-password-1"], tmp_path)
    assert owner.returncode == 1 and "already has a system owner" in owner.stderr


def test_createowner_validates_and_portal_web_refuses_embedded_mode(tmp_path):
    weak = portal(["createowner", "--email", "root@example.test", "--password", "short"], tmp_path)
    assert weak.returncode == 1 and "password" in weak.stderr
    ok = portal(["createowner", "--email", "root@example.test", "--password", "long-password-1"], tmp_path)
    assert ok.returncode == 0 and "root@example.test" in ok.stdout
    web = portal(["web"], tmp_path)
    assert web.returncode == 2 and "DATABASE_URL" in web.stderr


@pytest.mark.parametrize("form", ["json", ""])
def test_logs_are_json_lines_when_asked_and_the_queue_is_quiet_by_default(form):
    script = (
        "import logging, sys; from core.cli import configure_logging; configure_logging('', sys.argv[1]);"
        "logging.getLogger('saq').info('tick'); logging.getLogger('core.dispatch').warning('vendor %s down', 'A')"
    )
    done = subprocess.run([sys.executable, "-c", script, form], capture_output=True, text=True, timeout=60, check=True)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "tick" not in done.stderr
    if form == "json":
        entry = json.loads(lines[0])
        assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "core.dispatch", "vendor A down")
    else:
        assert lines[0].endswith("WARNING core.dispatch: vendor A down")
