"""Cascades with a WhatsApp step (CMP-7) through the real engine and the stand-ins over HTTP: WhatsApp first, then
SMS for whom it did not reach; and Viber → WhatsApp → SMS, the WhatsApp step sending its own approved template."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from core.campaigns.schemas import CampaignCreate, CascadeStepIn
from core.campaigns.services import create_campaign, get_campaign
from core.campaigns.tables import Campaign
from core.dispatch.sweeper import sweep
from core.dispatch.tables import Edr, VendorConnection
from core.errors import InvalidInput
from core.senders.tables import Sender
from plugins.sms.simulator import StandInSmsc
from plugins.viber.simulator import StandInViber
from tests.core.dispatch.conftest import add_plan
from tests.factories import post_form, sign_in
from tests.plugins.viber.conftest import add_connection as add_viber_connection
from tests.plugins.viber.conftest import add_viber_plan, aggregator  # noqa: F401 — the fixture
from tests.plugins.whatsapp.conftest import WhatsAppWorld, meta, served, whatsapp  # noqa: F401 — the fixtures
from tests.waiting import eventually

REACHED, MISSED, SILENT = "34607000001", "34607000002", "34607000003"
FILLED = "Hi Ana, your order A-7 is on its way"


@dataclass
class Stand:
    wa: WhatsAppWorld
    smsc: StandInSmsc
    viber: StandInViber
    viber_sender: int


@pytest.fixture
async def stand(whatsapp: WhatsAppWorld, aggregator: StandInViber) -> AsyncIterator[Stand]:  # noqa: F811
    """The WhatsApp world with the stand-in SMSC and the stand-in Viber aggregator, each with a plan and a sender."""
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
    await add_plan(whatsapp.tenant.end_user_id)
    await add_viber_connection("Stand-in Viber", aggregator.connection_settings())
    await add_viber_plan(whatsapp.tenant.end_user_id)
    sender = await Sender.insert(
        Sender(partner=whatsapp.tenant.end_user_id, channel="viber", name="ShopViber", status="enabled", created_at=now)
    ).returning(Sender.id)
    try:
        yield Stand(whatsapp, smsc, aggregator, sender[0]["id"])
    finally:
        await smsc.stop()


def _whatsapp_first(s: Stand, numbers: list[str], ttl: int = 60, **changes) -> CampaignCreate:
    fields = {
        "channel": "whatsapp",
        "sender_id": s.wa.sender_id,
        "vendor_template_id": s.wa.template_id,
        "text": FILLED,
        "numbers": numbers,
        "fallback_ttl": ttl,
        "cascade": [CascadeStepIn(channel="sms", sender_id=s.wa.tenant.sender_id)],
        **changes,
    }
    return CampaignCreate(**fields)


def _whatsapp_step(s: Stand, **changes) -> CascadeStepIn:
    fields = {
        "channel": "whatsapp",
        "sender_id": s.wa.sender_id,
        "vendor_template_id": s.wa.template_id,
        "text": "Hi {first_name}, your order A-7 is on its way",
        "fallback_ttl": 60,
        **changes,
    }
    return CascadeStepIn(**fields)


async def _finished(app, campaign_id: int) -> dict:
    """Sweep (as the worker's cron does every 10 s) until the cascade's first step is finished."""

    async def done() -> dict | None:
        await sweep(app.state.portal)
        row = await Campaign.select().where(Campaign.id == campaign_id).first()
        return row if row["status"] in ("completed", "failed", "paused") else None

    return await eventually(done, within=40, every=0.2)


async def test_whatsapp_first_then_sms_for_whom_it_failed_or_did_not_reach_in_time(app, stand):
    stand.wa.meta.outcomes = {MISSED: "failed", SILENT: "never"}
    created = await create_campaign(
        app.state.portal, stand.wa.actor, _whatsapp_first(stand, [REACHED, MISSED, SILENT], 2)
    )
    assert [(s.channel, s.fallback_ttl) for s in created.steps] == [("whatsapp", 2), ("sms", None)]
    assert (await _finished(app, created.id))["status"] == "completed"
    assert sorted(stand.smsc.submitted) == [MISSED, SILENT] and max(stand.smsc.submitted.values()) == 1
    assert sorted(stand.wa.meta.submitted) == [REACHED, MISSED, SILENT]
    edrs = await Edr.select().where(Edr.destination.is_in([REACHED, MISSED, SILENT])).order_by(Edr.id)
    attempts = {(e["destination"], e["channel"]): e for e in edrs}
    assert set(attempts) == {
        (REACHED, "whatsapp"),
        (MISSED, "whatsapp"),
        (SILENT, "whatsapp"),
        (MISSED, "sms"),
        (SILENT, "sms"),
    }
    assert attempts[(MISSED, "whatsapp")]["status"] == "UNDELIVERED"
    assert attempts[(SILENT, "whatsapp")]["status"] == "SENT" and attempts[(SILENT, "whatsapp")]["cascaded"]
    step = await Campaign.select().where(Campaign.root_id == created.id).first()
    assert step["text"] == FILLED  # the SMS says what the template said
    for number in (MISSED, SILENT):
        sms = attempts[(number, "sms")]
        assert sms["transaction_id"] == attempts[(number, "whatsapp")]["transaction_id"]
        assert sms["status"] == "DELIVERED" and sms["text"] is None
    view = await get_campaign(stand.wa.actor, created.id)
    assert (view.delivered, view.undelivered, view.failed) == (3, 0, 0)
    assert [s.total for s in view.steps] == [3, 2]
    # Each attempt is charged on its own: the delivered WhatsApp message and the two SMS.
    charged = sum(e["price"] for e in edrs if e["status"] == "DELIVERED")
    assert view.cost == sum(s.cost for s in view.steps) and int(view.cost * 1_000_000) == charged
    assert view.steps[0].cost > 0 and view.steps[1].cost > 0


async def test_viber_then_whatsapp_with_its_own_template_then_sms(app, stand, client_for):
    headers = {"Authorization": f"Bearer {stand.wa.tenant.api_key}"}
    client = client_for(stand.wa.tenant.host)
    contact = {"phone": f"+{MISSED}", "first_name": "Ana", "groups": [stand.wa.tenant.group_id]}
    assert (await client.post("/api/contacts", json=contact, headers=headers)).status_code == 201
    stand.viber.outcomes = {MISSED: "undelivered", SILENT: "undelivered"}
    stand.wa.meta.outcomes = {SILENT: "failed"}
    data = CampaignCreate(
        channel="viber",
        sender_id=stand.viber_sender,
        text="Spring sale -20%",
        numbers=[REACHED, MISSED, SILENT],
        fallback_ttl=60,
        cascade=[_whatsapp_step(stand), CascadeStepIn(channel="sms", sender_id=stand.wa.tenant.sender_id)],
    )
    created = await create_campaign(app.state.portal, stand.wa.actor, data)
    assert [s.channel for s in created.steps] == ["viber", "whatsapp", "sms"]
    assert (await _finished(app, created.id))["status"] == "completed"
    assert sorted(stand.wa.meta.submitted) == [MISSED, SILENT]
    assert sorted(stand.smsc.submitted) == [SILENT]
    sent = {r.to.lstrip("+"): r for r in stand.wa.meta.last_requests}
    assert sent[MISSED].template.name == "order_update"
    params = [p.text for c in sent[MISSED].template.components for p in c.parameters]
    assert params == ["Ana", "A-7"]  # the contact's own name, filled when the step was handed its recipients
    edrs = {(e["destination"], e["channel"]): e for e in await Edr.select()}
    assert edrs[(MISSED, "whatsapp")]["text"] == FILLED and edrs[(MISSED, "whatsapp")]["status"] == "DELIVERED"
    # The SMS after the WhatsApp step says the campaign's text again, not the template's.
    sms_step = await Campaign.select().where((Campaign.root_id == created.id) & (Campaign.channel == "sms")).first()
    assert sms_step["text"] == "Spring sale -20%" and edrs[(SILENT, "sms")]["text"] is None
    assert len({e["transaction_id"] for (number, _), e in edrs.items() if number == SILENT}) == 1
    view = await get_campaign(stand.wa.actor, created.id)
    assert [s.total for s in view.steps] == [3, 2, 1] and view.delivered == 3


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"vendor_template_id": None}, "cascade.0.vendor_template_id", "approved WhatsApp templates"),
        ({"text": "Hi , your order A-7 is on its way"}, "cascade.0.text", "Fill in every parameter"),
        ({"text": "Hi {nickname}, your order A-7 is on its way"}, "cascade.0.text", "Unknown variable"),
        ({"header_param": "Spring"}, "cascade.0.header_param", "takes no value"),
    ],
)
async def test_a_whatsapp_step_without_a_filled_approved_template_is_refused(app, stand, changes, field, words):
    data = CampaignCreate(
        channel="viber",
        sender_id=stand.viber_sender,
        text="Spring sale",
        numbers=[REACHED],
        fallback_ttl=60,
        cascade=[_whatsapp_step(stand, **changes)],
    )
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, stand.wa.actor, data)
    assert refused.value.field == field and words in refused.value.detail
    assert not await Campaign.exists()


async def test_a_step_on_another_channel_takes_no_template(app, stand):
    step = CascadeStepIn(channel="sms", sender_id=stand.wa.tenant.sender_id, text="Own text")
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, stand.wa.actor, _whatsapp_first(stand, [REACHED], cascade=[step]))
    assert refused.value.field == "cascade.0.text"
    step = CascadeStepIn(channel="sms", sender_id=stand.wa.tenant.sender_id, vendor_template_id=stand.wa.template_id)
    with pytest.raises(InvalidInput) as refused:
        await create_campaign(app.state.portal, stand.wa.actor, _whatsapp_first(stand, [REACHED], cascade=[step]))
    assert refused.value.field == "cascade.0.vendor_template_id"


async def test_the_api_creates_whatsapp_cascades_and_prices_each_step(app, stand, client_for):
    client = client_for(stand.wa.tenant.host)
    headers = {"Authorization": f"Bearer {stand.wa.tenant.api_key}"}
    body = {
        "channel": "viber",
        "sender_id": stand.viber_sender,
        "text": "Hello",
        "numbers": [REACHED],
        "fallback_ttl": 300,
        "cascade": [
            {
                "channel": "whatsapp",
                "sender_id": stand.wa.sender_id,
                "vendor_template_id": stand.wa.template_id,
                "text": FILLED,
                "fallback_ttl": 120,
            },
            {"channel": "sms", "sender_id": stand.wa.tenant.sender_id},
        ],
        "send_at": "2100-01-01T10:00:00+00:00",
    }
    preview = await client.post("/api/campaigns/preview", json=body, headers=headers)
    assert preview.status_code == 200, preview.text
    steps = preview.json()["steps"]
    assert [(s["channel"], s["fallback_after"]) for s in steps] == [("whatsapp", 300), ("sms", 120)]
    assert all(float(s["total"]) > 0 for s in steps)
    created = await client.post("/api/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert [(s["channel"], s["fallback_ttl"]) for s in created.json()["steps"]] == [
        ("viber", 300),
        ("whatsapp", 120),
        ("sms", None),
    ]
    step = await Campaign.select().where(Campaign.channel == "whatsapp").first()
    assert step["text"] == FILLED and "order_update" in str(step["content"])
    first = {**body, "channel": "whatsapp", "sender_id": stand.wa.sender_id, "vendor_template_id": stand.wa.template_id}
    first |= {"text": FILLED, "cascade": [body["cascade"][1]]}
    created = await client.post("/api/campaigns", json=first, headers=headers)
    assert created.status_code == 201, created.text
    assert [s["channel"] for s in created.json()["steps"]] == ["whatsapp", "sms"]


def _wizard_form(s: Stand, **changes) -> dict:
    return {
        "step": "3",
        "goto": "3",
        "name": "With WhatsApp",
        "channel": "viber",
        "sender_id": str(s.viber_sender),
        "text": "Spring sale",
        "mode": "numbers",
        "numbers_text": REACHED,
        "send_mode": "later",
        "send_date": "2099-05-01",
        "send_time": "10:00",
        "timezone": "UTC",
        "fallback_minutes": "5",
        **changes,
    }


async def test_the_wizard_builds_viber_then_whatsapp_then_sms_with_the_step_template(app, stand, client_for):
    client = client_for(stand.wa.tenant.host)
    await sign_in(client, stand.wa.tenant.end_user_admin)
    steps = {"cascade_to": [f"whatsapp:{stand.wa.sender_id}", f"sms:{stand.wa.tenant.sender_id}"]}
    steps |= {"cascade_minutes": ["10", "60"]}
    offered = await post_form(client, "/campaigns/new", _wizard_form(stand, command="cascade_add"))
    assert f'value="whatsapp:{stand.wa.sender_id}"' in offered.text[offered.text.index('data-testid="cascade"') :]
    shown = await post_form(client, "/campaigns/new", _wizard_form(stand, **steps))
    block = shown.text[shown.text.index('data-testid="cascade-template"') :]
    assert f'<option value="{stand.wa.template_id}"' in block and "order_update (es)" in block
    unchosen = await post_form(client, "/campaigns/new", _wizard_form(stand, **steps, command="send"))
    assert unchosen.status_code == 422 and "Choose one of your approved templates" in unchosen.text
    chosen = _wizard_form(stand, **steps, step_vendor_template_id=str(stand.wa.template_id))
    with_params = await post_form(client, "/campaigns/new", chosen)
    assert with_params.text.count('name="step_param"') == 2
    filled = {**chosen, "step_param": ["{first_name}", "A-7"]}
    previewed = await post_form(client, "/campaigns/new", filled)
    costs = previewed.text[previewed.text.index('data-testid="cascade-costs"') :]
    assert "WHATSAPP" in costs and "SMS" in costs
    created = await post_form(client, "/campaigns/new", {**filled, "command": "send"})
    assert created.status_code in (302, 303), created.text[-800:]
    row = await Campaign.select().where(Campaign.name == "With WhatsApp").first()
    view = await get_campaign(stand.wa.actor, row["id"])
    assert [(s.channel, s.fallback_ttl) for s in view.steps] == [("viber", 300), ("whatsapp", 600), ("sms", None)]
    step = await Campaign.select().where((Campaign.root_id == row["id"]) & (Campaign.channel == "whatsapp")).first()
    assert step["text"] == "Hi {first_name}, your order A-7 is on its way"


async def test_the_wizard_cascades_from_whatsapp_to_sms(app, stand, client_for):
    client = client_for(stand.wa.tenant.host)
    await sign_in(client, stand.wa.tenant.end_user_admin)
    form = _wizard_form(
        stand,
        channel="whatsapp",
        sender_id=str(stand.wa.sender_id),
        vendor_template_id=str(stand.wa.template_id),
        param=["Ana", "A-7"],
        cascade_to=f"sms:{stand.wa.tenant.sender_id}",
    )
    previewed = await post_form(client, "/campaigns/new", form)
    assert 'data-testid="cascade-first"' in previewed.text and 'data-testid="cascade-note"' in previewed.text
    created = await post_form(client, "/campaigns/new", {**form, "command": "send"})
    assert created.status_code in (302, 303), created.text[-800:]
    row = await Campaign.select().where(Campaign.name == "With WhatsApp").first()
    view = await get_campaign(stand.wa.actor, row["id"])
    assert [(s.channel, s.fallback_ttl) for s in view.steps] == [("whatsapp", 300), ("sms", None)]
    assert view.text == FILLED and view.template_name == "order_update"
