"""/api/send_sms with several ``channels`` and ``fallbackTtl`` (CMP-7 through the API): Viber first against the Viber
stand-in over HTTP, then SMS against the stand-in SMSC for whoever Viber did not reach — undelivered, or not
delivered within the TTL — once, under the same transaction id, each attempt paid at its own channel's price."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest

from core.accounts.tables import ApiKey
from core.billing.tables import LedgerEntry
from core.contacts.schemas import Selection, StopListChange
from core.contacts.stoplist import block
from core.contacts.tables import Contact
from core.dispatch.tables import CallbackOutbox, Edr, VendorConnection
from core.public_api.cascade import hand_over
from core.public_api.services import STOP_LISTED
from core.public_api.tables import ApiCascade
from core.senders.tables import Sender
from plugins.sms.simulator import StandInSmsc
from tests.core.dispatch.conftest import ES_ALL, add_plan, fund
from tests.core.public_api.conftest import balance, bearer
from tests.plugins.viber.conftest import VIBER_RATE, ViberWorld, aggregator, served, viber  # noqa: F401 — fixtures
from tests.waiting import eventually

REACHED, MISSED, SILENT = "34607000001", "34607000002", "34607000003"
SENDER = "BrandA"  # the tenant's SMS sender ID, enabled on Viber too for these tests


@pytest.fixture
async def cascade(viber: ViberWorld) -> AsyncIterator[tuple[ViberWorld, StandInSmsc]]:  # noqa: F811
    """The Viber world with the stand-in SMSC, an SMS plan, and the SMS sender ID enabled on Viber as well."""
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
    await Sender.insert(
        Sender(partner=viber.tenant.end_user_id, channel="viber", name=SENDER, status="enabled", created_at=now)
    )
    await add_plan(viber.tenant.end_user_id)
    try:
        yield viber, smsc
    finally:
        await smsc.stop()


def _body(numbers: list[str], **extra: object) -> dict[str, object]:
    return {
        "channels": ["viber", "sms"],
        "from": SENDER,
        "to": ",".join(numbers),
        "message": "Spring sale -20%",
        "fallbackTtl": 60,
        **extra,
    }


async def _send(app, vw: ViberWorld, client_for, body: dict[str, object]) -> dict[str, str]:
    reply = await client_for(vw.tenant.host).post("/api/send_sms", json=body, headers=bearer(vw.tenant.api_key))
    assert reply.status_code == 200, reply.text
    return dict(r.split(":", 1) for r in reply.json()["results"])


async def _attempts(number: str) -> list[dict]:
    return await Edr.select().where(Edr.campaign.is_null() & (Edr.destination == number)).order_by(Edr.id)


async def _settled(app, numbers: dict[str, list[tuple[str, str]]]) -> dict[str, list[dict]]:
    """Run the hand-over (as the worker's cron does every 10 s, here twice at once) until every number's attempts
    are ``[(channel, status), …]``."""

    async def done() -> dict[str, list[dict]] | None:
        portal = app.state.portal
        await asyncio.gather(hand_over(portal), hand_over(portal))
        found = {number: await _attempts(number) for number in numbers}
        seen = {number: [(r["channel"], r["status"]) for r in rows] for number, rows in found.items()}
        return found if seen == numbers else None

    return await eventually(done, within=40, every=0.1)


async def test_viber_misses_one_and_reaches_the_other_sms_goes_once_to_the_first_only(app, cascade, client_for):
    vw, smsc = cascade
    vw.aggregator.outcomes = {MISSED: "undelivered"}
    await ApiKey.update({ApiKey.callback_url: "https://callbacks.example.com/status"}).where(
        ApiKey.id == vw.tenant.api_key_id
    )
    before = await balance(vw.tenant.end_user_id)
    results = await _send(app, vw, client_for, _body([REACHED, MISSED]))
    found = await _settled(
        app, {REACHED: [("viber", "DELIVERED")], MISSED: [("viber", "UNDELIVERED"), ("sms", "DELIVERED")]}
    )
    assert smsc.submitted == {MISSED: 1} and vw.aggregator.submitted == {REACHED: 1, MISSED: 1}
    viber_missed, sms_missed = found[MISSED]
    # One transaction id per recipient, as answered; the SMS is the same message from the same sender ID.
    assert viber_missed["transaction_id"] == sms_missed["transaction_id"] == results[MISSED]
    assert found[REACHED][0]["transaction_id"] == results[REACHED]
    assert viber_missed["cascaded"] and not sms_missed["cascaded"] and not found[REACHED][0]["cascaded"]
    assert (sms_missed["sender"], sms_missed["text"], sms_missed["api_key"]) == (
        SENDER,
        "Spring sale -20%",
        vw.tenant.api_key_id,
    )
    # Money: each attempt once at its channel's price; the undelivered Viber one is paid back (By Delivered plan).
    assert found[REACHED][0]["price"] == viber_missed["price"] == VIBER_RATE
    sms_price = sms_missed["price"]
    assert sms_price > 0
    assert await eventually(lambda: _balance_is(vw, before - VIBER_RATE - sms_price))
    ledger = {
        r["description"].split(" · ")[1]: r["amount"]
        for r in await LedgerEntry.select().where(
            (LedgerEntry.kind == "api") & (LedgerEntry.partner == vw.tenant.end_user_id)
        )
    }
    assert ledger == {"VIBER": -VIBER_RATE, "SMS": -sms_price}
    # Nothing waits any more, and further passes hand nothing on.
    assert await ApiCascade.count() == 0
    assert await hand_over(app.state.portal) == 0 and smsc.submitted == {MISSED: 1}
    # The callbacks tell both attempts apart by channel; the last one of the transaction is the SMS delivered.
    rows = (
        await CallbackOutbox.select()
        .where(CallbackOutbox.transaction_id == results[MISSED])
        .order_by(CallbackOutbox.id)
    )
    events = [(msgspec.json.decode(r["body"])["channel"], r["event"]) for r in rows]
    assert ("VIBER", "UNDELIVERED") in events and events[-1] == ("SMS", "DELIVERED")
    assert events.index(("VIBER", "UNDELIVERED")) < events.index(("SMS", "SENT"))


async def _balance_is(vw: ViberWorld, amount: int) -> bool:
    return await balance(vw.tenant.end_user_id) == amount


async def test_viber_silent_past_the_ttl_gets_the_sms_and_both_attempts_are_paid(app, cascade, client_for):
    vw, smsc = cascade
    vw.aggregator.outcomes = {SILENT: "never"}
    before = await balance(vw.tenant.end_user_id)
    results = await _send(app, vw, client_for, _body([SILENT], fallbackTtl="1"))
    found = await _settled(app, {SILENT: [("viber", "SENT"), ("sms", "DELIVERED")]})
    viber_attempt, sms_attempt = found[SILENT]
    assert viber_attempt["cascaded"] and smsc.submitted == {SILENT: 1}
    assert sms_attempt["sent_at"] >= viber_attempt["sent_at"]
    # The Viber message was sent and has no report yet: it stays paid, and so is the SMS.
    assert await balance(vw.tenant.end_user_id) == before - VIBER_RATE - sms_attempt["price"]
    # The transaction's status shows the outcome and both attempts.
    client = client_for(vw.tenant.host)
    shown = await client.get(f"/api/send_sms/{results[SILENT]}", headers=bearer(vw.tenant.api_key))
    assert shown.status_code == 200, shown.text
    view = shown.json()
    assert (view["transactionID"], view["dnis"], view["status"], view["channel"]) == (
        results[SILENT],
        SILENT,
        "DELIVERED",
        "SMS",
    )
    assert [(a["channel"], a["status"], a["handedOn"]) for a in view["attempts"]] == [
        ("VIBER", "SENT", True),
        ("SMS", "DELIVERED", False),
    ]
    assert view["nextChannels"] == []


async def test_another_company_cannot_see_the_transaction(app, cascade, client_for):
    vw, _smsc = cascade
    vw.aggregator.outcomes = {SILENT: "never"}
    results = await _send(app, vw, client_for, _body([SILENT], fallbackTtl=3600))
    own = await client_for(vw.tenant.host).get(f"/api/send_sms/{results[SILENT]}", headers=bearer(vw.tenant.api_key))
    assert own.status_code == 200 and own.json()["nextChannels"] == ["SMS"]
    other = vw.world.b
    foreign = await client_for(other.host).get(f"/api/send_sms/{results[SILENT]}", headers=bearer(other.api_key))
    assert foreign.status_code == 404
    listed = await client_for(other.host).get("/api/edrs", params={"source": "api"}, headers=bearer(other.api_key))
    assert listed.status_code == 200 and listed.json()["items"] == []
    attempt = (await _attempts(SILENT))[0]
    record = await client_for(other.host).get(f"/api/edrs/{attempt['id']}", headers=bearer(other.api_key))
    assert record.status_code == 404
    unknown = await client_for(vw.tenant.host).get("/api/send_sms/not-a-transaction", headers=bearer(vw.tenant.api_key))
    assert unknown.status_code == 404


async def test_the_next_attempt_is_checked_when_it_is_due_and_reported_failed_when_it_cannot_go(
    app, cascade, client_for
):
    """The SMS sender ID's stop list and the balance are checked when the SMS is due, not when Viber was sent."""
    vw, smsc = cascade
    contact = await Contact.select(Contact.phone).where(Contact.id == vw.tenant.contact_id).first()
    stopped = contact["phone"].lstrip("+")
    poor = "34612000002"  # any Spanish network: an SMS costs ES_ALL, more than both Viber messages paid back
    vw.aggregator.outcomes = {poor: "undelivered", stopped: "undelivered"}
    # The contact stops the SMS sender ID only: the Viber sender ID of the same name is another row, still allowed.
    change = StopListChange(selection=Selection(ids=[vw.tenant.contact_id]), sender_ids=[vw.tenant.sender_id])
    await block(vw.actor, change)
    await fund(vw.tenant.end_user_id, 2 * VIBER_RATE - await balance(vw.tenant.end_user_id))  # the Viber messages
    await ApiKey.update({ApiKey.callback_url: "https://callbacks.example.com/status"}).where(
        ApiKey.id == vw.tenant.api_key_id
    )
    results = await _send(app, vw, client_for, _body([poor, stopped]))
    expected = [("viber", "UNDELIVERED"), ("sms", "FAILED")]
    found = await _settled(app, {poor: expected, stopped: expected})
    for number in (poor, stopped):
        failed = found[number][1]
        assert failed["transaction_id"] == results[number] and failed["price"] == 0 and failed["batch"] is None
    assert found[stopped][1]["error"] == STOP_LISTED
    # Both Viber messages were paid back (By Delivered); the one SMS due costs more than that.
    assert ES_ALL > 2 * VIBER_RATE
    assert "Insufficient balance" in found[poor][1]["error"] and not smsc.submitted
    assert await balance(vw.tenant.end_user_id) == 2 * VIBER_RATE
    # The failed SMS attempts are reported like any failed message, with their channel.
    rows = await CallbackOutbox.select().where(CallbackOutbox.transaction_id.is_in(list(results.values())))
    reported = {(r["transaction_id"], msgspec.json.decode(r["body"])["channel"], r["event"]) for r in rows}
    assert {(results[n], "SMS", "FAILED") for n in (poor, stopped)} <= reported


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"channels": ["viber", "pigeon"]}, "channels", "unknown channel 'pigeon'"),
        ({"channels": "viber,VIBER"}, "channels", "twice"),
        ({"channels": ["sms", "viber"]}, "channels", "SMS must be the last"),
        ({"fallbackTtl": 0}, "fallbackTtl", "from 1 to"),
        ({"fallbackTtl": "soon"}, "fallbackTtl", "whole number of seconds"),
        ({"fallbackTtl": 72 * 3600 + 1}, "fallbackTtl", "from 1 to 259200"),
        ({"isFlashed": True}, "isFlashed", "not for a cascade"),
    ],
)
async def test_bad_cascade_parameters_are_refused_naming_them(app, cascade, client_for, changes, field, words):
    vw, _smsc = cascade
    reply = await client_for(vw.tenant.host).post(
        "/api/send_sms", json=_body([REACHED], **changes), headers=bearer(vw.tenant.api_key)
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["field"] == field and words in reply.json()["detail"]
    assert await Edr.count() == 0 and await ApiCascade.count() == 0


async def test_a_single_channel_ignores_fallback_ttl_and_a_sender_missing_on_a_later_channel_is_said(
    app, cascade, client_for
):
    vw, _smsc = cascade
    single = await _send(app, vw, client_for, _body([REACHED], channels="viber", fallbackTtl=30))
    assert len(single[REACHED]) == 36 and await ApiCascade.count() == 0  # the guide: only used with several channels
    query = {"channels": "viber,sms", "from": "ShopViber", "to": MISSED, "message": "Hi", "fallbackTtl": "30"}
    reply = await client_for(vw.tenant.host).get("/api/send_sms", params=query, headers=bearer(vw.tenant.api_key))
    assert reply.json()["results"] == [f"{MISSED}:For message: can't validate sender ShopViber on SMS"]
    assert await Edr.count() == 1
