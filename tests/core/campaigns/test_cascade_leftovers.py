"""Cascades (CMP-7) around the engine: the cost preview prices every step for the worst case (service, REST and
wizard), the cost details name each line's channel, Repeat keeps the fallback, and the EDR list's campaign filter
shows every step's messages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import cost_details, cost_preview, create_campaign
from core.statistics.schemas import EdrFilter
from core.statistics.services import list_edrs
from tests.core.dispatch.test_cascade import (  # noqa: F401 — the fixture
    MISSED,
    REACHED,
    SILENT,
    _data,
    _finished,
    cascade,
)
from tests.factories import post_form, sign_in
from tests.plugins.viber.conftest import aggregator, served, viber  # noqa: F401 — the fixtures
from tests.waiting import eventually

ABROAD = "447700900123"  # no Viber rate for the United Kingdom: not sent on Viber, so not handed on to SMS
LONG = "Spring sale on everything in the shop, this week only, with free delivery on every order. " * 2  # 2 SMS parts


async def test_the_preview_prices_each_later_step_for_everyone_the_step_before_could_reach(app, cascade):  # noqa: F811
    vw, _smsc = cascade
    portal = app.state.portal
    preview = await cost_preview(portal, vw.actor, _data(vw, [REACHED, MISSED, SILENT, ABROAD], ttl=300, text=LONG))
    assert (preview.recipients, preview.no_rate, preview.total) == (4, 1, Decimal("0.06"))  # 3 Viber messages
    [sms] = preview.steps
    # The same recipients on SMS alone cost what the SMS step costs at most.
    alone = await cost_preview(
        portal,
        vw.actor,
        CampaignCreate(channel="sms", sender_id=vw.tenant.sender_id, text=LONG, numbers=[REACHED, MISSED, SILENT]),
    )
    assert (sms.channel, sms.sender, sms.fallback_after) == ("sms", "BrandA", 300)
    assert (sms.recipients, sms.parts, sms.no_rate, sms.from_packs) == (3, 6, 0, 0)
    assert sms.total == alone.total > 0 and sms.currency == alone.currency
    assert preview.worst_case_total == preview.total + sms.total
    assert alone.steps == [] and alone.worst_case_total == alone.total


async def test_the_api_preview_has_the_steps_and_the_worst_case(app, cascade, client_for):  # noqa: F811
    vw, _smsc = cascade
    client = client_for(vw.tenant.host)
    headers = {"Authorization": f"Bearer {vw.tenant.api_key}"}
    body = msgspec.to_builtins(_data(vw, [REACHED, MISSED], ttl=120))
    answer = await client.post("/api/campaigns/preview", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["total"] == "0.04" and [(s["channel"], s["recipients"]) for s in data["steps"]] == [("sms", 2)]
    assert Decimal(data["worst_case_total"]) == Decimal(data["total"]) + Decimal(data["steps"][0]["total"])
    alone = {**body, "cascade": [], "fallback_ttl": None}
    single = await client.post("/api/campaigns/preview", json=alone, headers=headers)
    assert single.json()["steps"] == [] and single.json()["worst_case_total"] == single.json()["total"]


async def test_the_wizard_shows_what_each_channel_costs_at_most(app, cascade, client_for):  # noqa: F811
    vw, _smsc = cascade
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    form = {
        "step": "3",
        "goto": "3",
        "channel": "viber",
        "sender_id": str(vw.sender_id),
        "text": "Spring sale",
        "mode": "numbers",
        "numbers_text": f"{REACHED}\n{MISSED}",
        "cascade_to": f"sms:{vw.tenant.sender_id}",
        "fallback_minutes": "5",
    }
    page = await post_form(client, "/campaigns/new", form)
    assert page.status_code == 200, page.text[-600:]
    table = page.text[page.text.index('data-testid="cascade-costs"') :]
    table = table[: table.index("</table>")]
    assert "If nobody is reached on the channel before" in table and "SMS" in table and "BrandA" in table
    assert "5 minutes" in table and 'data-testid="worst-case-total"' in table
    without = await post_form(client, "/campaigns/new", {**form, "cascade_to": ""})
    assert 'data-testid="cascade-costs"' not in without.text


async def test_the_cost_details_name_each_lines_channel(app, cascade, client_for):  # noqa: F811
    vw, _smsc = cascade
    vw.aggregator.outcomes = {MISSED: "undelivered"}
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED, MISSED]))
    assert (await _finished(app, created.id))["status"] == "completed"
    lines = await cost_details(vw.actor, created.id)
    assert [(line.channel, line.recipients) for line in lines] == [("viber", 1), ("sms", 1)]
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    page = (await client.get(f"/campaigns/{created.id}")).text
    table = page[page.index('data-testid="cost-details"') :]
    head, rows = table[: table.index("</thead>")], table[table.index("<tbody>") : table.index("</tbody>")]
    assert head.index("Channel") < head.index("Country")
    assert [row.split("</td>")[0].rsplit(">", 1)[-1] for row in rows.split("<tr>")[1:]] == ["VIBER", "SMS"]


async def test_repeat_prefills_the_later_step_and_the_first_channels_minutes(app, cascade, client_for):  # noqa: F811
    vw, _smsc = cascade
    later = datetime(2100, 1, 1, tzinfo=UTC)
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED], ttl=300, send_at=later))
    single = await create_campaign(
        app.state.portal, vw.actor, _data(vw, [REACHED], ttl=None, cascade=[], send_at=later)
    )
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    page = (await client.get(f"/campaigns/new?repeat={created.id}")).text
    assert f'name="cascade_to" value="sms:{vw.tenant.sender_id}"' in page
    assert 'name="fallback_minutes" value="5"' in page
    plain = (await client.get(f"/campaigns/new?repeat={single.id}")).text
    assert 'name="cascade_to"' not in plain and 'name="fallback_minutes" value="60"' in plain


async def test_the_edr_list_of_a_cascades_campaign_has_every_steps_messages(app, cascade, client_for):  # noqa: F811
    vw, _smsc = cascade
    vw.aggregator.outcomes = {MISSED: "undelivered"}
    created = await create_campaign(app.state.portal, vw.actor, _data(vw, [REACHED, MISSED]))
    other = await create_campaign(app.state.portal, vw.actor, _data(vw, [SILENT], ttl=None, cascade=[]))
    assert (await _finished(app, created.id))["status"] == "completed"
    found = await list_edrs(vw.actor, EdrFilter(campaign_id=created.id))
    assert sorted((e.channel, e.destination) for e in found.items) == [
        ("sms", MISSED),
        ("viber", REACHED),
        ("viber", MISSED),
    ]
    # The SMS step's message names the cascade's campaign, the one its link and the filter know.
    assert {(e.campaign_id, e.campaign_name) for e in found.items} == {(created.id, created.name)}

    async def others() -> list[str]:
        return [e.destination for e in (await list_edrs(vw.actor, EdrFilter(campaign_id=other.id))).items]

    assert await eventually(others) == [SILENT]
    client = client_for(vw.tenant.host)
    headers = {"Authorization": f"Bearer {vw.tenant.api_key}"}
    listed = await client.get(f"/api/edrs?campaign_id={created.id}", headers=headers)
    assert listed.status_code == 200 and listed.json()["total"] == 3
