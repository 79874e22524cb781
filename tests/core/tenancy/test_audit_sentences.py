# ruff: noqa: RUF001  (Russian and Turkish letters in the expected sentences are meant)
"""The audit log as sentences (X-5, issue 18 item 4): who did what to which object with before and after values,
in the reader's language at read time; an end-user company's admins read their own log, partners their subtree's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.accounts import api_keys
from core.accounts.api_keys import CallbackUrlIn
from core.accounts.schemas import UserCreate
from core.accounts.services import create_user
from core.accounts.tables import User
from core.message_templates.schemas import TemplateUpdate
from core.message_templates.services import update_template
from core.senders.schemas import SenderUpdate
from core.senders.services import update_sender
from core.tenancy import audit
from core.tenancy.audit_sentences import SENTENCES, sentence
from core.tenancy.schemas import PartnerUpdate
from core.tenancy.services import update_partner
from core.tenancy.tables import AuditEntry
from tests.core.contacts.helpers import actor_of
from tests.core.message_templates.helpers import template
from tests.factories import World, api_token, make_world, sign_in

ROOT = Path(__file__).resolve().parents[3]


async def newest(world: World, language: str = "en", actor: Any = None) -> str:
    """The newest entry's sentence as ``actor`` (the owner) reads it in ``language``."""
    found = await audit.list_entries(actor or world.owner, per_page=1, language=language)
    return found.items[0].sentence


async def test_a_credit_limit_change_names_who_what_and_both_values_in_each_language() -> None:
    world = await make_world()
    await update_partner(world.owner, world.a.reseller_id, PartnerUpdate(credit_limit=Decimal(500)))
    assert await newest(world) == "Olga Owner changed the credit limit of Reseller A from 0.00 EUR to 500.00 EUR"
    assert await newest(world, "es") == (
        "Olga Owner cambió el campo «límite de crédito» de Reseller A de 0.00 EUR a 500.00 EUR"
    )
    # The summary stays English and searchable; only fields that changed are recorded.
    row = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert row["summary"] == "Changed credit_limit of Reseller A"
    await update_partner(world.owner, world.a.reseller_id, PartnerUpdate(credit_limit=Decimal(500), name="Skyline"))
    assert await newest(world) == "Olga Owner changed the name of Reseller A from Reseller A to Skyline"


async def test_blocking_a_partner_and_several_changes_at_once() -> None:
    world = await make_world()
    await update_partner(world.owner, world.b.reseller_id, PartnerUpdate(blocked=True))
    assert await newest(world) == "Olga Owner blocked Reseller B"
    assert await newest(world, "ru") == "Olga Owner заблокировал(а) Reseller B"
    await update_partner(world.owner, world.b.reseller_id, PartnerUpdate(blocked=False, credit_limit=Decimal("2.5")))
    assert await newest(world) == "Olga Owner unblocked Reseller B: credit limit from 0.00 EUR to 2.50 EUR"


async def test_sender_template_and_campaign_actions(app: Any) -> None:
    world = await make_world()
    await update_sender(world.owner, world.a.sender_id, SenderUpdate(status="disabled"))
    assert await newest(world) == "Olga Owner changed the status of BrandA from Enabled to Disabled"
    assert (
        await newest(world, "tr")
        == "Olga Owner, BrandA için durum alanını Etkin değerinden Devre dışı değerine değiştirdi"
    )
    await update_sender(world.owner, world.a.sender_id, SenderUpdate(status="enabled"))
    end_user = await actor_of(world.a)
    made = await template(app, end_user, world.a.sender_id, flash=False)
    assert await newest(world, actor=end_user) == "Test User created template Welcome"
    await update_template(app.state.portal, end_user, made.id, TemplateUpdate(name="Hello", text="Hi there"))
    assert await newest(world, actor=end_user) == (
        "Test User changed template Welcome: name from Welcome to Hello; "
        "text from Hi {first_name}, welcome! to Hi there"
    )


async def test_a_user_created_and_api_key_actions_in_two_languages() -> None:
    world = await make_world()
    reseller = await actor_of(world.a, world.a.reseller_admin)
    await create_user(
        reseller,
        world.a.end_user_id,
        UserCreate(
            email="anna@a.test", first_name="Anna", last_name="Smith", password="Sup3r-secret-pass", role="operator"
        ),
    )
    assert await newest(world) == "Test User created operator Anna Smith of Company A"
    assert await newest(world, "es") == "Test User creó al operador Anna Smith de Company A"
    end_user = await actor_of(world.a)
    await api_keys.set_callback_url(
        end_user, world.a.api_key_id, CallbackUrlIn(callback_url="https://127.0.0.1/hook"), allow_private=True
    )
    assert await newest(world) == (
        "Test User set the callback URL of API key Key a: callback URL from none to https://127.0.0.1/hook"
    )
    assert await newest(world, "es") == (
        "Test User configuró la URL de callback de la clave API Key a: "
        "URL de callback de ninguno a https://127.0.0.1/hook"
    )
    await api_keys.remove_key(end_user, world.a.api_key_id)
    assert await newest(world) == "Test User removed API key Key a"


def entry(action: str, **details: Any) -> dict[str, Any]:
    return {"action": action, "summary": "Stored summary", "object_id": 7, "user_email": "x@y.test", "details": details}


def test_counts_take_each_language_s_plural_forms() -> None:
    said = {
        n: sentence(entry("stoplist.block", actor_name="Anna Smith", params={"count": n}), "ru") for n in (1, 2, 5, 21)
    }
    assert said == {
        1: "Anna Smith добавил(а) 1 контакт в стоп-лист",
        2: "Anna Smith добавил(а) 2 контакта в стоп-лист",
        5: "Anna Smith добавил(а) 5 контактов в стоп-лист",
        21: "Anna Smith добавил(а) 21 контакт в стоп-лист",
    }
    assert sentence(entry("stoplist.block", actor_name="Anna Smith", params={"count": 1}), "en") == (
        "Anna Smith added 1 contact to the stop list"
    )


def test_old_and_unknown_entries_show_their_stored_summary() -> None:
    assert sentence(entry("partner.block"), "es") == "Stored summary"  # written before sentences: no actor name
    assert sentence(entry("plugin.something", actor_name="Anna"), "es") == "Stored summary"
    assert sentence(entry("partner.block", actor_name="Anna"), "en") == "Anna blocked #7"
    # A value shown as the reader sees it: yes/no, money, none.
    changed = [{"field": "flash_sms", "before": False, "after": True}]
    assert sentence(entry("partner.update", actor_name="Anna", object_name="Skyline", changes=changed), "es") == (
        "Anna cambió el campo «SMS flash» de Skyline de no a sí"
    )


def test_an_update_with_more_to_say_keeps_its_own_sentence() -> None:
    price = [{"field": "price", "before": audit.money(50_000, "EUR"), "after": audit.money(60_000, "EUR")}]
    row = entry("rate_plan.rate.update", actor_name="Anna", object_name="SMS A", params={"destination": "ES 214 01"})
    row["details"]["changes"] = price
    assert sentence(row, "en") == "Anna changed the rate for ES 214 01 in SMS A: price from 0.05 EUR to 0.06 EUR"
    all_networks = {"destination": ["ES", audit.label("All networks")], "price": audit.amount("0.015", "EUR")}
    row = entry("rate_plan.rate.create", actor_name="Anna", object_name="SMS A", params=all_networks)
    assert sentence(row, "es").startswith("Anna fijó la tarifa de ES, ") and sentence(row, "es").endswith("0.015 EUR")


def test_every_recorded_action_has_a_sentence() -> None:
    recorded = set()
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        for call in re.findall(r"audit\.record\(\s*\w+,\s*f?\"([^\"]+)\"", path.read_text()):
            recorded.add(call)
    keys = {key.split("/")[0] for key in SENTENCES}
    expanded = set()
    for action in recorded:
        if "{" in action:  # campaign.{action}, request.{decision.action}: every value has its own sentence
            prefix = action.split("{")[0]
            assert any(key.startswith(prefix) for key in keys), action
        else:
            expanded.add(action)
    assert len(recorded) > 60 and expanded - keys == set()


async def test_an_end_user_admin_reads_only_the_company_s_log(client_for: Any) -> None:
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = (await client.get("/account/activity")).text
    assert "Test User created API key Key a" in page and "Test User created group Customers a" in page
    # Neither the reseller's own entries nor the other tenant's.
    assert "Key b" not in page and "created end-user company" not in page and "Customers b" not in page
    assert "/account/activity" in (await client.get("/account")).text
    operator = client_for(world.a.host)
    await sign_in(operator, world.a.end_user_operator)
    assert (await operator.get("/account/activity")).status_code == 403
    assert (await client.get("/admin/audit")).status_code in (403, 404)


async def test_a_reseller_reads_its_subtree_never_another_tenant_in_its_language(client_for: Any) -> None:
    world = await make_world()
    await AuditEntry.update({AuditEntry.created_at: datetime(2026, 1, 2, tzinfo=UTC)}, force=True)
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    page = (await client.get("/admin/audit")).text
    assert "Test User created API key Key a" in page  # its end user's entry
    assert "Test User created end-user company Company A under Reseller A" in page  # its own
    assert "Key b" not in page and "Company B" not in page and "Reseller B" not in page
    assert "Olga Owner" not in page  # the owner's entries are above the reseller
    await User.update({User.language: "es"}).where(User.email == world.a.reseller_admin)
    spanish = (await client.get("/admin/audit")).text
    assert "Test User creó la clave API Key a" in spanish and "Key b" not in spanish
    headers = await api_token(client, world.a.reseller_admin)
    api = (await client.get("/api/admin/audit", params={"action": "api_key.create"}, headers=headers)).json()
    assert [item["sentence"] for item in api["items"]] == ["Test User creó la clave API Key a"]
