"""The wizard's cascade of several steps (CMP-7): later steps added, moved and removed with the form's own buttons
(no script needed), each with its sender ID and minutes; SMS kept last; the service's refusals beside the step they
name; the preview pricing each step; Repeat bringing every step back; the details showing TTLs in minutes or hours.

A third channel that takes free text comes from the fake plugin's Telegram channel, registered for these tests, so
that a cascade can have three steps: Viber → Telegram → SMS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core import hookimpl
from core.campaigns.schemas import CampaignFilter, CascadeStepIn
from core.campaigns.services import create_campaign, get_campaign, list_campaigns
from core.plugins import pm, reset_registries
from core.senders.tables import Sender
from tests.core.dispatch.test_cascade import MISSED, REACHED, _data, cascade  # noqa: F401 — the fixture
from tests.factories import post_form, sign_in
from tests.fake_plugin.plugin import TelegramChannel
from tests.plugins.viber.conftest import ViberWorld, aggregator, served, viber  # noqa: F401 — the fixtures


class _Telegram:
    """Only the fake plugin's channel: its routes, tables and other providers play no part here."""

    @hookimpl
    def register_channels(self, register: Any) -> None:
        register(TelegramChannel())


@pytest.fixture
def telegram_channel() -> Iterator[None]:
    pm.register(_Telegram(), "telegram-channel")
    reset_registries()
    yield
    pm.unregister(name="telegram-channel")
    reset_registries()


@pytest.fixture
async def three(cascade, telegram_channel) -> tuple[ViberWorld, int]:  # noqa: F811
    """The Viber world with SMS and an enabled Telegram sender ID: (world, Telegram sender id)."""
    vw, _smsc = cascade
    now = datetime.now(UTC)
    row = await Sender.insert(
        Sender(partner=vw.tenant.end_user_id, channel="telegram", name="ShopBot", status="enabled", created_at=now)
    ).returning(Sender.id)
    return vw, row[0]["id"]


def _form(vw: ViberWorld, **changes: Any) -> dict[str, Any]:
    return {
        "step": "3",
        "goto": "3",
        "name": "Three steps",
        "channel": "viber",
        "sender_id": str(vw.sender_id),
        "text": "Spring sale",
        "mode": "numbers",
        "numbers_text": f"{REACHED}\n{MISSED}",
        "fallback_minutes": "5",
        **changes,
    }


def _steps(page: str) -> list[str]:
    """The cascade's later steps as the page shows them, each row's HTML."""
    return re.findall(r'<li data-testid="cascade-step">(.*?)</li>', page, re.S)


def _chosen(row: str) -> str:
    return re.search(r'<option value="([^"]*)" selected>', row)[1]


def _offered(row: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', row)


async def _signed_in(vw: ViberWorld, client_for: Any) -> Any:
    client = client_for(vw.tenant.host)
    await sign_in(client, vw.tenant.end_user_admin)
    return client


async def test_a_three_step_cascade_is_previewed_and_created_from_the_form(app, three, client_for):
    vw, bot = three
    client = await _signed_in(vw, client_for)
    sms = vw.tenant.sender_id
    form = _form(vw, cascade_to=[f"telegram:{bot}", f"sms:{sms}"], cascade_minutes=["120", "60"])
    page = await post_form(client, "/campaigns/new", form)
    assert page.status_code == 200, page.text[-600:]
    rows = _steps(page.text)
    assert [_chosen(r) for r in rows] == [f"telegram:{bot}", f"sms:{sms}"]
    # Only the last step has no minutes of its own; SMS is offered on the last step only.
    assert 'name="cascade_minutes" value="120"' in rows[0] and 'type="number"' not in rows[1]
    assert all(not v.startswith("sms:") for v in _offered(rows[0])) and f"sms:{sms}" in _offered(rows[1])
    table = page.text[page.text.index('data-testid="cascade-costs"') :]
    table = table[: table.index("</table>")]
    cells = [re.sub(r"<[^>]+>", "|", row) for row in table.split("<tr>")[2:-1]]
    assert "TELEGRAM" in cells[0] and "ShopBot" in cells[0] and "5 minutes" in cells[0]
    assert "SMS" in cells[1] and "BrandA" in cells[1] and "2 hours" in cells[1]
    assert 'data-testid="worst-case-total"' in table

    later = {"send_mode": "later", "send_date": "2100-01-01", "send_time": "10:00", "command": "send"}
    sent = await post_form(client, "/campaigns/new", {**form, **later})
    assert sent.status_code in (302, 303), sent.text[-600:]
    [created] = (await list_campaigns(vw.actor, CampaignFilter())).items
    view = await get_campaign(vw.actor, created.id)
    assert [(s.channel, s.sender_id, s.fallback_ttl) for s in view.steps] == [
        ("viber", vw.sender_id, 300),
        ("telegram", bot, 7200),
        ("sms", sms, None),
    ]
    details = (await client.get(f"/campaigns/{created.id}")).text
    shown = details[details.index('data-testid="cascade-steps"') :]
    shown = shown[: shown.index("</table>")]
    assert "5 minutes" in shown and "2 hours" in shown and "seconds" not in shown


async def test_the_buttons_add_move_and_remove_steps_keeping_sms_last(app, three, client_for):
    vw, bot = three
    client = await _signed_in(vw, client_for)
    sms = f"sms:{vw.tenant.sender_id}"
    first = await post_form(client, "/campaigns/new", _form(vw))
    assert 'data-testid="cascade-add"' in first.text and not _steps(first.text)
    added = await post_form(client, "/campaigns/new", _form(vw, command="cascade_add"))
    [row] = _steps(added.text)
    assert _chosen(row) == f"telegram:{bot}" and "autofocus" in row  # a channel other than SMS comes first
    # SMS added after it; a further step goes before SMS, which stays last.
    two = _form(vw, cascade_to=[sms], cascade_minutes=["60"], command="cascade_add")
    rows = _steps((await post_form(client, "/campaigns/new", two)).text)
    assert [_chosen(r) for r in rows] == [f"telegram:{bot}", sms]
    both = _form(vw, cascade_to=[f"telegram:{bot}", sms], cascade_minutes=["7", "60"])
    page = (await post_form(client, "/campaigns/new", both)).text
    assert 'data-testid="cascade-add"' not in page  # every channel is a step
    rows = _steps(page)
    # Moving SMS up (or Telegram down) would put SMS before another step: the buttons are disabled…
    assert re.search(r'value="cascade_down:0"[^>]*disabled', rows[0])
    assert re.search(r'value="cascade_up:1"[^>]*disabled', rows[1])
    # … and the command, posted anyway, changes nothing.
    moved = await post_form(client, "/campaigns/new", {**both, "command": "cascade_up:1"})
    assert [_chosen(r) for r in _steps(moved.text)] == [f"telegram:{bot}", sms]
    removed = await post_form(client, "/campaigns/new", {**both, "command": "cascade_remove:0"})
    [row] = _steps(removed.text)
    assert _chosen(row) == sms and 'data-testid="cascade-add"' in removed.text
    # Without SMS, Telegram moves freely, and its minutes move with it.
    none = await post_form(client, "/campaigns/new", {**both, "command": "cascade_remove:1"})
    [row] = _steps(none.text)
    assert _chosen(row) == f"telegram:{bot}" and 'name="cascade_minutes" value="7"' in row
    emptied = await post_form(client, "/campaigns/new", {**both, "cascade_to": [sms], "command": "cascade_remove:0"})
    assert not _steps(emptied.text) and 'data-testid="cascade-costs"' not in emptied.text


@pytest.mark.parametrize(
    ("steps", "minutes", "row", "words"),
    [
        (["telegram:{bot}", "sms:999999"], ["10", "60"], 1, "enabled sender IDs for SMS"),
        (["telegram:{bot}", "sms:{sms}"], ["", "60"], 0, "Minutes before the next channel"),
        (["sms:{sms}", "telegram:{bot}"], ["10", "60"], 1, "SMS must be the last"),
        (["telegram:{bot}", "telegram:{bot}"], ["10", "60"], 1, "already a step"),
    ],
)
async def test_a_refused_step_shows_the_services_reason_beside_it(app, three, client_for, steps, minutes, row, words):
    vw, bot = three
    client = await _signed_in(vw, client_for)
    targets = [s.format(bot=bot, sms=vw.tenant.sender_id) for s in steps]
    form = _form(vw, cascade_to=targets, cascade_minutes=minutes, command="send")
    page = await post_form(client, "/campaigns/new", form)
    assert page.status_code == 422 and 'aria-current="step"><span class="n">3' in page.text
    rows = _steps(page.text)
    assert words in rows[row] and 'class="field-error"' not in rows[1 - row], rows
    # The preview (no command) shows the same refusal beside the same step.
    preview = await post_form(client, "/campaigns/new", {**form, "command": ""})
    assert preview.status_code == 200 and words in _steps(preview.text)[row]


async def test_the_first_channels_minutes_are_checked_beside_them(app, three, client_for):
    vw, bot = three
    client = await _signed_in(vw, client_for)
    form = _form(vw, cascade_to=[f"telegram:{bot}"], fallback_minutes="0", command="send")
    page = await post_form(client, "/campaigns/new", form)
    shown = page.text[page.text.index('data-testid="cascade-first"') :]
    assert page.status_code == 422 and 'class="field-error"' in shown[: shown.index("</li>")]
    assert not (await list_campaigns(vw.actor, CampaignFilter())).items


async def test_repeat_brings_back_every_step_with_its_minutes(app, three, client_for):
    vw, bot = three
    later = datetime(2100, 1, 1, tzinfo=UTC)
    steps = [
        CascadeStepIn(channel="telegram", sender_id=bot, fallback_ttl=7200),
        CascadeStepIn(channel="sms", sender_id=vw.tenant.sender_id),
    ]
    created = await create_campaign(
        app.state.portal, vw.actor, _data(vw, [REACHED], ttl=300, cascade=steps, send_at=later)
    )
    client = await _signed_in(vw, client_for)
    page = (await client.get(f"/campaigns/new?repeat={created.id}")).text
    assert re.findall(r'name="cascade_to" value="([^"]*)"', page) == [f"telegram:{bot}", f"sms:{vw.tenant.sender_id}"]
    assert re.findall(r'name="cascade_minutes" value="([^"]*)"', page)[:1] == ["120"]
    assert 'name="fallback_minutes" value="5"' in page
    # On Complete & Send, the steps are there to change, in their order.
    form = {"step": "1", "goto": "3", "name": "Again", "channel": "viber", "sender_id": str(vw.sender_id)}
    form |= {"text": "Spring sale", "mode": "numbers", "numbers_text": REACHED, "fallback_minutes": "5"}
    form |= {"cascade_to": [f"telegram:{bot}", f"sms:{vw.tenant.sender_id}"], "cascade_minutes": ["120", "60"]}
    rows = _steps((await post_form(client, "/campaigns/new", form)).text)
    assert [_chosen(r) for r in rows] == form["cascade_to"] and 'value="120"' in rows[0]


async def test_without_a_cascade_channel_the_steps_are_kept_but_not_sent(app, three, client_for):
    """Steps added on Viber, then SMS chosen as the first channel: no cascade is offered or sent, and switching
    back to Viber finds the steps again."""
    vw, bot = three
    client = await _signed_in(vw, client_for)
    form = _form(vw, channel="sms", sender_id=str(vw.tenant.sender_id), cascade_to=[f"telegram:{bot}"])
    page = await post_form(client, "/campaigns/new", form)
    assert page.status_code == 200 and 'data-testid="cascade"' not in page.text
    assert f'name="cascade_to" value="telegram:{bot}"' in page.text and 'data-testid="cost-preview"' in page.text
    assert 'data-testid="cascade-costs"' not in page.text
