"""Piccolo's configuration module (PICCOLO_CONF): the engine and every app, plugins' included."""

from piccolo.conf.apps import AppRegistry

from core.db import CORE_APPS, make_engine
from core.plugins import load_plugins, plugin_piccolo_apps
from core.settings import load_settings

_settings = load_settings()
load_plugins(_settings.plugins)

DB = make_engine(_settings)
APP_REGISTRY = AppRegistry(apps=[*CORE_APPS, *plugin_piccolo_apps()])
