"""The dashboard (DSH-1 first cut): numbers equal the EDRs, days in the user's zone, subtree and client scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.accounts.tables import User
from core.dispatch.tables import InboundRecord
from core.statistics import dashboard as dashboard_module
from core.statistics.dashboard import dashboard
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.core.statistics.test_edr import edr
from tests.factories import api_token, make_world, sign_in

CENT = 10_000  # micro-units


async def test_graphs_count_the_edrs_of_the_period_by_status_and_channel(app, client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a, name="Black Friday")
    now = datetime.now(UTC)
    for status, count in (("DELIVERED", 3), ("UNDELIVERED", 2), ("FAILED", 1)):
        for _ in range(count):
            await edr(world.a.end_user_id, status=status, price=5 * CENT, campaign=campaign.id, created_at=now)
    await edr(world.a.end_user_id, status="SEEN", channel="viber", price=2 * CENT, created_at=now)
    await edr(world.a.end_user_id, status="DELIVERED", created_at=now - timedelta(days=40))  # outside 30 days
    await edr(world.b.end_user_id, status="DELIVERED", created_at=now)  # another tenant's

    d = await dashboard(actor, "30d")
    assert [(s.key, s.messages) for s in d.by_status] == [
        ("DELIVERED", 3),
        ("UNDELIVERED", 2),
        ("FAILED", 1),
        ("SEEN", 1),
    ]
    assert {s.key: (s.messages, str(s.cost)) for s in d.by_channel} == {"sms": (6, "0.3"), "viber": (1, "0.02")}
    assert d.total_messages == 7 and str(d.total_cost) == "0.32" and d.currency == "EUR"
    assert d.last_campaign is not None and d.last_campaign.name == "Black Friday"
    assert [(s.key, s.messages) for s in d.last_campaign.by_status] == [
        ("DELIVERED", 3),
        ("UNDELIVERED", 2),
        ("FAILED", 1),
    ]
    assert (await dashboard(actor, "90d")).total_messages == 8

    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/?period=30d")
    assert page.status_code == 200
    assert "Black Friday" in page.text and 'data-value="3"' in page.text and "0.32 EUR" in page.text
    assert 'aria-current="true">30 days' in page.text and "Client" not in page.text  # an end user has no clients
    api = await client.get("/api/dashboard?period=today", headers=await api_token(client, world.a.end_user_admin))
    assert api.status_code == 200 and api.json()["total_messages"] == 7
    assert (await client.get("/?period=year")).status_code == 400


async def test_days_are_the_users_days_far_from_utc(app):
    world = await make_world()
    await User.update({User.timezone: "Pacific/Kiritimati"}).where(User.email == world.a.end_user_admin)  # UTC+14
    actor = await actor_of(world.a)
    zone = ZoneInfo("Pacific/Kiritimati")
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    await edr(world.a.end_user_id, created_at=midnight.astimezone(UTC) + timedelta(minutes=1))  # today there
    await edr(world.a.end_user_id, created_at=midnight.astimezone(UTC) - timedelta(minutes=1))  # yesterday there
    today = await dashboard(actor, "today")
    assert today.total_messages == 1 and today.first_day == today.last_day == midnight.date()
    assert (await dashboard(actor, "7d")).total_messages == 2


async def test_a_reseller_sees_its_subtree_or_one_client_and_never_another_tenant(app, client_for, monkeypatch):
    world = await make_world()
    now = datetime.now(UTC)
    await edr(world.a.end_user_id, created_at=now, price=CENT)
    await edr(world.a.reseller_id, created_at=now, price=CENT)
    await edr(world.b.end_user_id, created_at=now, price=CENT)
    reseller = await actor_of(world.a, world.a.reseller_admin)
    assert (await dashboard(reseller, "today")).total_messages == 2
    monkeypatch.setattr(dashboard_module, "MAX_LISTED_PARTNERS", 1)  # a subtree too big to list: the sub-select
    assert (await dashboard(reseller, "today")).total_messages == 2
    monkeypatch.undo()
    one = await dashboard(reseller, "today", world.a.end_user_id)
    assert one.total_messages == 1 and [c.id for c in one.clients] == [world.a.end_user_id]

    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    page = await client.get(f"/?client={world.a.end_user_id}")
    assert page.status_code == 200 and f'value="{world.a.end_user_id}" selected' in page.text
    assert (await client.get(f"/?client={world.b.end_user_id}")).status_code == 404
    headers = await api_token(client, world.a.reseller_admin)
    assert (await client.get(f"/api/dashboard?client_id={world.b.end_user_id}", headers=headers)).status_code == 404
    assert (await client.get("/api/dashboard?client_id=99999999999999999999", headers=headers)).status_code == 400

    end_user = client_for(world.a.host)
    await sign_in(end_user, world.a.end_user_admin)
    assert (await end_user.get(f"/?client={world.a.reseller_id}")).status_code == 404  # its own parent is out of reach


async def mo(partner: int | None, *, channel: str = "sms", sender: str = "BrandA", received_at: datetime) -> None:
    await InboundRecord.insert(
        InboundRecord(
            partner=partner,
            channel=channel,
            source="34612345678",
            destination=sender,
            text="Hi",
            received_at=received_at,
        )
    )


async def test_mo_graphs_count_replies_by_channel_and_sender_id_with_the_rest_added_up(app, client_for, monkeypatch):
    world = await make_world()
    actor = await actor_of(world.a)
    now = datetime.now(UTC)
    for _ in range(3):
        await mo(world.a.end_user_id, sender="BrandA", received_at=now)
    await mo(world.a.end_user_id, sender="BrandB", received_at=now)
    await mo(world.a.end_user_id, channel="viber", sender="BrandV", received_at=now)
    await mo(world.a.end_user_id, sender="BrandA", received_at=now - timedelta(days=40))  # outside 30 days
    await mo(world.b.end_user_id, sender="BrandA", received_at=now)  # another tenant's
    await mo(None, sender="BrandA", received_at=now)  # matched no partner

    d = await dashboard(actor, "30d")
    assert [(s.key, s.messages) for s in d.mo_by_channel] == [("sms", 4), ("viber", 1)] and d.total_mo == 5
    assert [(s.key, s.messages) for s in d.mo_by_sender] == [("BrandA", 3), ("BrandB", 1), ("BrandV", 1)]
    monkeypatch.setattr(dashboard_module, "TOP_SENDERS", 1)
    d = await dashboard(actor, "30d")
    assert [(s.key, s.messages) for s in d.mo_by_sender] == [("BrandA", 3), (dashboard_module.OTHER_SENDERS, 2)]

    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/?period=30d")
    assert page.status_code == 200 and "Other sender IDs" in page.text and "BrandA" in page.text
    api = await client.get("/api/dashboard?period=30d", headers=await api_token(client, world.a.end_user_admin))
    assert api.json()["total_mo"] == 5
    other = client_for(world.b.host)
    await sign_in(other, world.b.end_user_admin)
    page = await other.get("/?period=30d")
    assert "Other sender IDs" not in page.text and (await dashboard(await actor_of(world.b), "30d")).total_mo == 1


async def test_no_replies_show_an_empty_state(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get("/")
    assert page.text.count("No replies from your recipients in this period.") == 2
