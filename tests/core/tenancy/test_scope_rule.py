"""Tenant scope lives in core.tenancy.scope and the services: no handler writes a partner condition itself."""

from __future__ import annotations

import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "core"
# `Table.partner == …`, `partner_id == …`, `… == actor.partner_id`: a scope condition written by hand.
INLINE = re.compile(r"\.partner(?:\.id)?\s*==|\bpartner_id\s*==|==\s*[\w.]*\bpartner(?:_id)?\b(?!\w)")


def handler_modules() -> list[Path]:
    found = {*CORE.rglob("controllers.py"), *CORE.rglob("controllers/*.py"), *CORE.rglob("api.py")}
    return sorted(p for p in found if "piccolo_migrations" not in p.parts)


def inline_conditions(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if INLINE.search(line.split("#")[0])]


def test_the_pattern_sees_the_usual_spellings():
    spelled = ["Contact.partner == actor.partner_id", "partner_id == actor.partner_id", "x == actor.partner_id"]
    assert [inline_conditions(line) for line in spelled] == [[1], [1], [1]]
    assert inline_conditions("where = owned(Contact, actor) & (Contact.partner_name == 'x')") == []


def test_no_handler_writes_a_partner_condition_inline():
    modules = handler_modules()
    assert len(modules) > 10  # the glob still finds the handlers
    offending = [
        f"{path.relative_to(CORE.parent)}:{number}"
        for path in modules
        for number in inline_conditions(path.read_text())
    ]
    assert offending == [], "use core.tenancy.scope (owned, of_visible_partner, in_subtree, is_own) in a service"
