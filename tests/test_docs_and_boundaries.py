"""House rules that keep the plugin surface honest: every hook documented and tested, plugins use only `core`."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from core import hookspecs

ROOT = Path(__file__).resolve().parent.parent


def hook_names() -> list[str]:
    return [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "campaign_portal_spec")]


def test_every_hook_has_a_section_in_plugin_hooks_md_with_its_parameters():
    """Each hook is a heading ``## name(param, param)`` listing exactly the hookspec's parameters, in order."""
    headings = re.findall(r"^## (\w+)\(([^)]*)\)\s*$", (ROOT / "docs" / "plugin_hooks.md").read_text(), re.M)
    documented = {name: [p.strip() for p in params.split(",") if p.strip()] for name, params in headings}
    specs = {name: list(inspect.signature(getattr(hookspecs, name)).parameters) for name in hook_names()}
    assert len(specs) >= 14
    assert len(headings) == len(documented), "a hook has two sections"
    assert documented == specs


def test_every_hook_has_a_test_named_after_it():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    missing = [name for name in hook_names() if not re.search(rf"def test_hook_{name}\(", tests)]
    assert missing == []


def test_plugins_import_nothing_from_core_but_its_public_surface():
    offenders = []
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("core.")]
    assert offenders == []


def test_builtin_plugins_are_registered_as_entry_points():
    pyproject = (ROOT / "pyproject.toml").read_text()
    for name in ("sms", "viber", "whatsapp", "shortener", "payments"):
        assert f'{name} = "plugins.{name}.plugin"' in pyproject
