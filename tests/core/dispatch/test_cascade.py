"""Cascades (CMP-7) through the real engine: Viber first against the Viber stand-in over HTTP, then SMS against the
stand-in SMSC for whoever Viber did not reach — undelivered, or not delivered within the TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.campaigns.schemas import CampaignCreate, CampaignFilter, CascadeStepIn
from core.campaigns.services import act, create_campaign, get_campaign, list_campaigns
from core.campaigns.tables import Campaign
from core.dispatch.sweeper import sweep
from core.dispatch.tables import Edr, VendorConnection
from core.errors import InvalidInput, NotFound
from plugins.sms.simulator import StandInSmsc
from tests.core.dispatch.conftest import add_plan
from tests.factories import post_form, sign_in
from tests.plugins.viber.conftest import ViberWorld, aggregator, served, viber  # noqa: F401 — the fixtures
from tests.waiting import eventually

REACHED, MISSED, SILENT = "34607000001", "34607000002", "34607000003"


@pytest.fixture
async def cascade(viber: ViberWorld) -> AsyncIterator[tuple[ViberWorld, StandInSmsc]]:  # noqa: F811
    """The Viber world with the stand-in SMSC and an SMS plan for the same company."""
    smsc = StandInSmsc(receipt_delay=0.05)
    await smsc.start("127.0.0.1", 0)
    now = datetime.now(UTC)
    await VendorConnection.insert(
        VendorConnection(
            channel="sms",
            name="SMSC",
            settings=smsc.connection_settings(),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
    )
    await add_plan(viber.tenant.end_user_id)
    try:
        yield viber, smsc
    finally:
        await smsc.stop()


def _data(vw: ViberWorld, numbers: list[str], ttl: int = 60, **changes) -> CampaignCreate:
    fields = {
        "channel": "viber",
        "sender_id": vw.sender_id,
        "text": "Spring sale -20%",
        "numbers": numbers,
        "fallback_ttl": ttl,
        "cascade": [CascadeStepIn(channel="sms", sender_id=vw.tenant.sender_id)],
        **changes,
    }
    return CampaignCreate(**fields)


async def _finished(app, campaign_id: int) -> dict:
    """Sweep (as the worker's cron does every 10 s) until the cascade's first step is finished."""

    async def done() -> dict | None:
        await sweep(app.state.portal)
        row = await Campaign.select().where(Campaign.id == campaign_id).first()
        return row if row["status"] in ("completed", "failed", "paused") else None

    return await eventually(done, within=40, every=0.2)


async def test_whom_viber_reaches_gets_no_sms_and_the_cascade_completes(app, cascade):
    vw, smsc = cascade
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED]))
    assert [(s.channel, s.fallback_ttl) for s in created.steps] == [("viber", 60), ("sms", None)]
    row = await _finished(app, created.id)
    assert row["status"] == "completed"
    view = await get_campaign(vw.actor, created.id)
    assert (view.status, view.delivered, view.sent) == ("completed", 1, 1)
    assert [s.status for s in view.steps] == ["completed", "completed"] and view.steps[1].total == 0
    assert not smsc.submitted
    # The vendor is told to stop trying when the SMS would take over, not after the campaign's whole validity.
    assert [r.validity_period for r in vw.aggregator.last_requests] == [60]


async def test_whom_viber_misses_or_does_not_reach_in_time_gets_the_sms_under_one_transaction(app, cascade):
    vw, smsc = cascade
    vw.aggregator.outcomes = {MISSED: "undelivered", SILENT: "never"}
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED, MISSED, SILENT], ttl=2))
    row = await _finished(app, created.id)
    assert row["status"] == "completed"
    assert sorted(smsc.submitted) == [MISSED, SILENT] and max(smsc.submitted.values()) == 1
    edrs = await Edr.select().where(Edr.destination.is_in([REACHED, MISSED, SILENT])).order_by(Edr.id)
    attempts = {(e["destination"], e["channel"]): e for e in edrs}
    assert set(attempts) == {(REACHED, "viber"), (MISSED, "viber"), (SILENT, "viber"), (MISSED, "sms"), (SILENT, "sms")}
    assert attempts[(SILENT, "viber")]["status"] == "SENT" and attempts[(SILENT, "viber")]["cascaded"]
    assert attempts[(MISSED, "viber")]["status"] == "UNDELIVERED"
    for number in (MISSED, SILENT):  # one transaction ties the attempts; the SMS says the same
        assert attempts[(number, "viber")]["transaction_id"] == attempts[(number, "sms")]["transaction_id"]
        assert attempts[(number, "sms")]["status"] == "DELIVERED" and attempts[(number, "sms")]["text"] is None
    view = await get_campaign(vw.actor, created.id)
    assert (view.delivered, view.undelivered, view.failed) == (3, 0, 0)
    # The cascade costs what its attempts cost: the delivered Viber message and two SMS.
    charged = sum(e["price"] for e in edrs if e["status"] == "DELIVERED")
    assert view.cost == sum(step.cost for step in view.steps) and int(view.cost * 1_000_000) == charged
    assert [s.total for s in view.steps] == [3, 2]


async def test_a_cascade_is_listed_and_acted_on_as_one_campaign(app, cascade, client_for):
    vw, _smsc = cascade
    later = datetime(2100, 1, 1, tzinfo=UTC)
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED], send_at=later))
    listed = await list_campaigns(vw.actor, CampaignFilter())
    assert [c.id for c in listed.items] == [created.id] and listed.total == 1
    step = await Campaign.select(Campaign.id, Campaign.status).where(Campaign.root_id == created.id).first()
    assert step["status"] == "step"
    with pytest.raises(NotFound):
        await get_campaign(vw.actor, step["id"])
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    page = await client.get(f"/campaigns/{created.id}")
    shown = page.text[page.text.index('data-testid="cascade-steps"') :]
    assert "VIBER" in shown and "SMS" in shown and "1 minute" in shown and "Not started" in shown
    assert (await client.get(f"/campaigns/{step['id']}")).status_code == 404
    await act(app.state.portal, vw.actor, created.id, "cancel")
    statuses = await Campaign.select(Campaign.status).where(Campaign.id.is_in([created.id, step["id"]]))
    assert [r["status"] for r in statuses] == ["canceled", "canceled"]


@pytest.mark.parametrize(
    ("changes", "steps", "field", "words"),
    [
        ({"fallback_ttl": None}, None, "fallback_ttl", "first channel's TTL"),
        ({}, [], "fallback_ttl", "add the channel to try next"),
        ({"channel": "sms"}, [("viber", "viber")], "cascade.0.channel", "SMS must be the last"),
        ({}, [("viber", "viber")], "cascade.0.channel", "already a step"),
        ({}, [("pigeon", "sms")], "cascade.0.channel", "Unknown channel"),
        ({}, [("sms", "other")], "cascade.0.sender_id", "enabled sender IDs"),
    ],
)
async def test_a_wrong_cascade_is_refused_naming_the_field(app, cascade, changes, steps, field, words):
    vw, _smsc = cascade
    senders = {"sms": vw.tenant.sender_id, "viber": vw.sender_id, "other": vw.world.b.sender_id}
    if steps is not None:
        changes["cascade"] = [CascadeStepIn(channel=channel, sender_id=senders[who]) for channel, who in steps]
    if changes.get("channel") == "sms":
        changes["sender_id"] = vw.tenant.sender_id
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED], **changes))
    assert refused.value.field == field and words in refused.value.detail
    assert not await Campaign.exists()


async def test_the_api_creates_a_cascade_and_shows_its_steps(app, cascade, client_for):
    vw, _smsc = cascade
    client = client_for(vw.tenant.host)
    headers = {"Authorization": f"Bearer {vw.tenant.api_key}"}
    body = {
        "channel": "viber",
        "sender_id": vw.sender_id,
        "text": "Hello",
        "numbers": [REACHED],
        "fallback_ttl": 300,
        "cascade": [{"channel": "sms", "sender_id": vw.tenant.sender_id}],
        "send_at": "2100-01-01T10:00:00+00:00",
    }
    created = await client.post("/api/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    steps = created.json()["steps"]
    assert [(s["channel"], s["fallback_ttl"]) for s in steps] == [("viber", 300), ("sms", None)]
    bad = await client.post("/api/campaigns", json={**body, "fallback_ttl": None}, headers=headers)
    assert bad.status_code == 422 and "TTL" in bad.json()["detail"]


async def test_the_wizard_offers_a_fallback_channel_and_creates_the_cascade(app, cascade, client_for):
    vw, _smsc = cascade
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    form = {
        "step": "3",
        "goto": "3",
        "name": "Viber then SMS",
        "channel": "viber",
        "sender_id": str(vw.sender_id),
        "text": "Spring sale",
        "mode": "numbers",
        "numbers_text": REACHED,
        "send_mode": "later",
        "send_date": "2099-05-01",
        "send_time": "10:00",
        "timezone": "UTC",
    }
    step3 = await post_form(client, "/campaigns/new", {**form, "command": "cascade_add"})
    fieldset = step3.text[step3.text.index('data-testid="cascade"') :]
    assert f'value="sms:{vw.tenant.sender_id}"' in fieldset and "SMS · BrandA" in fieldset
    chosen = {**form, "cascade_to": f"sms:{vw.tenant.sender_id}", "fallback_minutes": "5"}
    previewed = await post_form(client, "/campaigns/new", chosen)
    assert 'data-testid="cascade-note"' in previewed.text and "after 5 minutes" in previewed.text
    created = await post_form(client, "/campaigns/new", {**chosen, "command": "send"})
    assert created.status_code in (302, 303), created.text[-600:]
    row = await Campaign.select().where(Campaign.name == "Viber then SMS").first()
    view = await get_campaign(vw.actor, row["id"])
    assert [(s.channel, s.fallback_ttl) for s in view.steps] == [("viber", 300), ("sms", None)]
    wrong = await post_form(client, "/campaigns/new", {**chosen, "fallback_minutes": "soon", "command": "send"})
    assert wrong.status_code == 422 and "Minutes before the next channel" in wrong.text


async def test_a_contact_stop_listed_for_the_sms_sender_gets_no_sms(app, cascade, client_for):
    vw, smsc = cascade
    vw.aggregator.outcomes = {MISSED: "undelivered"}
    client = client_for(vw.tenant.host)
    headers = {"Authorization": f"Bearer {vw.tenant.api_key}"}
    contact = {"phone": f"+{MISSED}", "groups": [vw.tenant.group_id], "blocked_senders": [vw.tenant.sender_id]}
    assert (await client.post("/api/contacts", json=contact, headers=headers)).status_code == 201
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED, MISSED]))
    assert (await _finished(app, created.id))["status"] == "completed"
    assert not smsc.submitted
    view = await get_campaign(vw.actor, created.id)
    step = await Campaign.select(Campaign.stop_listed, Campaign.total).where(Campaign.root_id == created.id).first()
    assert (step["stop_listed"], step["total"], view.delivered) == (1, 0, 1)
