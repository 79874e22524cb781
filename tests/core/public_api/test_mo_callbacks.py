"""MO callbacks (MO-4) through the signed outbox: Callback Settings route them by sender ID, else to the default URL;
MO is tied to the partner whose sender ID it was sent to, and the parent's MO option gates it all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from core.accounts.tables import ApiKey
from core.db import is_sqlite, write_transaction
from core.dispatch.callbacks import forget_expectations, mo_partners, sign
from core.dispatch.receipts import record_inbound
from core.dispatch.tables import CallbackOutbox, Edr, InboundRecord, MoExpectation, MoRoute
from core.providers import InboundMessage
from core.rawsql import RawSql
from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from core.tenancy.tables import Partner
from tests.core.public_api.conftest import bearer, wait_for_edrs
from tests.core.public_api.test_callbacks import deliver_until, outbox, receiver  # noqa: F401 — the fixture
from tests.factories import api_token, post_form, sign_in
from tests.isolation import foreign_id_responses

MT = {"channels": "SMS", "from": "BrandA", "to": "34612345001", "message": "Reply STOP to opt out"}


def mo(source: str, destination: str, text: str, channel: str = "sms") -> InboundMessage:
    return InboundMessage(channel=channel, source=source, destination=destination, text=text)


def delivered_mo(rows: list[dict[str, Any]]) -> bool:
    return any(r["event"] == "MO" and r["state"] == "delivered" for r in rows)


async def allow_mo(partner_id: int, on: bool = True) -> None:
    await Partner.update({Partner.options: {"mo_enabled": on}}).where(Partner.id == partner_id)


async def test_an_mo_reaches_its_sender_ids_route_signed_then_the_default_url(app, client_for, sms, receiver):  # noqa: F811
    await allow_mo(sms.tenant.end_user_id)
    client = client_for(sms.tenant.host)
    token = await api_token(client, sms.tenant.end_user_admin)
    settings = await client.put("/api/callback-settings", headers=token, json={"default_url": receiver.url + "?d"})
    assert settings.status_code == 200 and settings.json()["default_url"] == receiver.url + "?d"
    route = await client.post(
        "/api/callback-settings/routes", headers=token, json={"sender": "BrandA", "url": receiver.url + "?r"}
    )
    assert route.status_code == 201, route.text
    secret = (await client.post("/api/callback-settings/secret", headers=token)).json()["callback_secret"]
    # An MT first, so the stand-in SMSC has a bound ESME; then the handset answers through the real SMPP path.
    await client.post("/api/send_sms", json=MT, headers=bearer(sms.tenant.api_key))
    await wait_for_edrs({"DELIVERED"}, 1)
    await sms.smsc.inject_mo("34612345001", "BrandA", "STOP")
    await deliver_until(
        app.state.portal, lambda rows: any(r["event"] == "MO" and r["state"] == "delivered" for r in rows)
    )
    stored = await InboundRecord.select().first()
    assert stored["partner"] == sms.tenant.end_user_id and stored["text"] == "STOP"
    headers, body = next((h, b) for h, b in receiver.received if b"STOP" in b)
    assert headers["x-signature"] == sign(secret, headers["x-timestamp"], body)
    data = msgspec.json.decode(body)
    assert {k: data[k] for k in ("dnis", "status", "channel", "message", "sender")} == {
        "dnis": "34612345001",
        "status": "DELIVERED",
        "channel": "SMS",
        "message": "STOP",
        "sender": "BrandA",
    }
    mo_row = next(r for r in await outbox() if r["event"] == "MO")
    assert mo_row["url"] == receiver.url + "?r" and mo_row["api_key"] is None
    # Without its route, the sender ID's MO go to the default URL.
    assert (
        await client.delete(f"/api/callback-settings/routes/{route.json()['id']}", headers=token)
    ).status_code == 204
    await record_inbound(
        app.state.portal, [InboundMessage(channel="sms", source="34612345002", destination="BrandA", text="Hi")]
    )
    mo_urls = [r["url"] for r in await outbox() if r["event"] == "MO"]
    assert mo_urls == [receiver.url + "?r", receiver.url + "?d"]


async def test_an_mo_answering_an_accept_mo_message_goes_to_its_api_keys_url(app, client_for, sms, receiver):  # noqa: F811
    """Guide 13.3.2: MO to a number and sender ID an MT with acceptMO went to reach that key's callback URL, signed
    with the key's secret; other numbers' MO keep the Callback Settings; an expired expectation does too."""
    tenant = sms.tenant
    await allow_mo(tenant.end_user_id)
    await ApiKey.update({ApiKey.callback_url: receiver.url + "?key"}).where(ApiKey.id == tenant.api_key_id)
    key_secret = (await ApiKey.select(ApiKey.callback_secret).where(ApiKey.id == tenant.api_key_id).first())[
        "callback_secret"
    ]
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    await client.put("/api/callback-settings", headers=token, json={"default_url": receiver.url + "?default"})
    sent = await client.post(
        "/api/send_sms", json={**MT, "to": "34612345001", "acceptMO": True}, headers=bearer(tenant.api_key)
    )
    assert sent.status_code == 200, sent.text
    await client.post("/api/send_sms", json={**MT, "to": "34612345002"}, headers=bearer(tenant.api_key))
    await record_inbound(
        app.state.portal,
        [mo("34612345001", "BrandA", "YES"), mo("34612345002", "BrandA", "NO"), mo("34612345001", "BrandB", "?")],
    )
    by_text = {msgspec.json.decode(r["body"])["message"]: r for r in await outbox() if r["event"] == "MO"}
    assert by_text["YES"]["url"] == receiver.url + "?key" and by_text["YES"]["api_key"] == tenant.api_key_id
    assert by_text["NO"]["url"] == receiver.url + "?default" and by_text["NO"]["api_key"] is None
    assert "?" not in by_text  # BrandB is the other tenant's sender ID: its MO, and MO is off there
    await deliver_until(
        app.state.portal, lambda rows: all(r["state"] == "delivered" for r in rows if r["event"] == "MO")
    )
    headers, body = next((h, b) for h, b in receiver.received if b"YES" in b)
    assert headers["x-signature"] == sign(key_secret, headers["x-timestamp"], body)

    await MoExpectation.update({MoExpectation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        MoExpectation.api_key == tenant.api_key_id
    )
    assert await forget_expectations() == 1
    await record_inbound(app.state.portal, [mo("34612345001", "BrandA", "LATE")])
    late = next(r for r in await outbox() if b"LATE" in r["body"].encode())
    assert late["url"] == receiver.url + "?default" and late["api_key"] is None


async def test_mo_off_means_no_settings_and_no_callbacks(app, client_for, sms):
    client = client_for(sms.tenant.host)
    token = await api_token(client, sms.tenant.end_user_admin)
    refused = await client.put("/api/callback-settings", headers=token, json={"default_url": "https://crm.test/mo"})
    assert refused.status_code == 403 and "MO messages are off" in refused.json()["detail"]
    assert (await client.get("/api/callback-settings", headers=token)).json() == {
        "mo_enabled": False,
        "default_url": "",
        "routes": [],
    }
    # Settings left from when MO was on send nothing while it is off; the MO is still stored for the partner.
    await allow_mo(sms.tenant.end_user_id)
    assert (
        await client.put("/api/callback-settings", headers=token, json={"default_url": "https://crm.test/mo"})
    ).status_code == 200
    await allow_mo(sms.tenant.end_user_id, on=False)
    await record_inbound(
        app.state.portal, [InboundMessage(channel="sms", source="34612345002", destination="BrandA", text="Hi")]
    )
    assert await outbox() == []
    assert (await InboundRecord.select(InboundRecord.partner).first())["partner"] == sms.tenant.end_user_id


async def test_a_shared_sender_id_is_tied_by_who_last_sent_to_the_number(app, sms):
    world = sms.world
    for tenant in (world.a, world.b):
        await create_sender(world.owner, tenant.end_user_id, SenderCreate(channel="sms", name="Shared"))
    now = datetime.now(UTC)
    await Edr.insert(
        Edr(
            partner=world.b.end_user_id,
            channel="sms",
            sender="Shared",
            destination="34699000111",
            status="DELIVERED",
            created_at=now,
        )
    )
    messages = [
        InboundMessage(channel="sms", source="34699000111", destination="Shared", text="yes"),
        InboundMessage(channel="sms", source="34699000222", destination="Shared", text="who?"),
        InboundMessage(channel="sms", source="34699000333", destination="BrandA", text="a"),
        InboundMessage(channel="sms", source="34699000444", destination="Nobody", text="?"),
        InboundMessage(channel="viber", source="34699000555", destination="BrandA", text="other channel"),
    ]
    async with write_transaction() as tx:
        found = await mo_partners(RawSql(tx.connection, sqlite=is_sqlite()), messages)
    assert found == [world.b.end_user_id, None, world.a.end_user_id, None, None]


async def test_callback_settings_page_and_other_tenants_routes(app, client_for, sms):
    world = sms.world
    await allow_mo(world.a.end_user_id)
    await allow_mo(world.b.end_user_id)
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/callback-settings")
    assert page.status_code == 200 and "No routes yet" in page.text and 'href="/callback-settings"' in page.text
    bad = await post_form(client, "/callback-settings/routes", {"sender": "BrandB", "url": "https://crm.test/mo"})
    assert bad.status_code == 422 and "not one of your sender IDs" in bad.text
    added = await post_form(client, "/callback-settings/routes", {"sender": "BrandA", "url": "https://crm.test/a"})
    assert added.status_code in (302, 303)
    twice = await post_form(client, "/callback-settings/routes", {"sender": "BrandA", "url": "https://crm.test/b"})
    assert twice.status_code == 409
    shown = await client.get("/callback-settings")
    assert "https://crm.test/a" in shown.text and 'data-testid="mo-routes"' in shown.text
    # Another company's route: every route id answers 404 and nothing changes.
    b_client = client_for(world.b.host)
    b_token = await api_token(b_client, world.b.end_user_admin)
    theirs = await b_client.post(
        "/api/callback-settings/routes", headers=b_token, json={"sender": "BrandB", "url": "https://b.test/mo"}
    )
    world.b.route_id = theirs.json()["id"]
    headers = await api_token(client, world.a.end_user_admin)
    assert await foreign_id_responses(app, client, world.b, headers, only={"route_id"}) == {}
    kept = await MoRoute.select(MoRoute.url).where(MoRoute.id == world.b.route_id).first()
    assert kept["url"] == "https://b.test/mo"
    assert await CallbackOutbox.count() == 0
