"""Auto-replies (TPL-4, MO-2, MO-3): reply templates answer MO by keyword and priority through the same channel and
sender ID, billed as "Reply to MO", with their subscription actions; gated by the parent's options; never twice."""

from __future__ import annotations

from typing import Any

from core.billing.tables import LedgerEntry
from core.contacts.stoplist import blocked
from core.contacts.tables import Contact, ContactGroupMember
from core.dispatch.receipts import record_inbound
from core.dispatch.tables import Edr, InboundRecord
from core.message_templates.replies import keywords_of, matching
from core.providers import InboundMessage
from core.public_api.auto_replies import answer_inbound
from core.tenancy.tables import Partner
from tests.core.public_api.conftest import bearer, wait_for_edrs
from tests.factories import api_token, post_form, sign_in
from tests.isolation import foreign_id_responses
from tests.waiting import eventually

HANDSET = "34612345001"


async def allow(partner_id: int, *, mo: bool = True, replies: bool = True) -> None:
    await Partner.update({Partner.options: {"mo_enabled": mo, "auto_replies": replies}}).where(Partner.id == partner_id)


def mo(text: str, source: str = HANDSET, destination: str = "BrandA") -> InboundMessage:
    return InboundMessage(channel="sms", source=source, destination=destination, text=text)


async def replies_to(number: str) -> list[dict[str, Any]]:
    return await Edr.select().where(Edr.campaign.is_null() & (Edr.destination == number)).order_by(Edr.id)


def test_the_highest_priority_then_the_newest_template_whose_keyword_starts_the_message_answers() -> None:
    assert keywords_of(" Stop, STOP ,  opt   out,, ") == ["stop", "opt out"]
    templates = [
        {"id": 1, "priority": 5, "keywords": "stop,end"},
        {"id": 2, "priority": 9, "keywords": "stop"},
        {"id": 3, "priority": 9, "keywords": "stop"},
        {"id": 4, "priority": 10, "keywords": "info"},
        {"id": 5, "priority": 1, "keywords": "opt out"},
    ]
    assert matching(templates, "  STOP please ")["id"] == 3  # priority 9 twice: the newer
    assert matching(templates, "end")["id"] == 1
    assert matching(templates, "Opt   Out now")["id"] == 5
    assert matching(templates, "stopped") is None and matching(templates, "please stop") is None
    assert matching(templates, "") is None


async def test_a_keyword_is_answered_billed_as_reply_to_mo_and_unsubscribes_the_contact(app, client_for, sms):
    tenant = sms.tenant
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    created = await client.post(
        "/api/reply-templates",
        headers=token,
        json={
            "name": "Opt-out",
            "keywords": "Stop, unsubscribe",
            "priority": 7,
            "text": "You will get no more messages from BrandA.",
            "action": "unsubscribe",
            "group_id": tenant.group_id,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["keywords"] == ["stop", "unsubscribe"]
    await client.post("/api/reply-templates", headers=token, json={"name": "Info", "keywords": "info", "text": "Hi!"})
    # An MT first, so the stand-in SMSC has a bound ESME; then the handset answers over real SMPP.
    sent = await client.post(
        "/api/send_sms",
        json={"channels": "SMS", "from": "BrandA", "to": HANDSET, "message": "Sale today"},
        headers=bearer(tenant.api_key),
    )
    assert sent.status_code == 200, sent.text
    await wait_for_edrs({"DELIVERED"}, 1)
    before = int((await Partner.select(Partner.balance).where(Partner.id == tenant.end_user_id).first())["balance"])
    await sms.smsc.inject_mo(HANDSET, "BrandA", "stop please")

    async def answered() -> list[dict[str, Any]]:
        rows = await replies_to(HANDSET)
        return [r for r in rows if r["text"].startswith("You will get") and r["status"] == "DELIVERED"]

    reply = (await eventually(answered))[0]
    assert (reply["sender"], reply["channel"]) == ("BrandA", "sms") and reply["price"] > 0
    inbound = await InboundRecord.select().where(InboundRecord.text == "stop please").first()
    assert inbound["reply"] == reply["transaction_id"]
    ledger = await LedgerEntry.select().where(
        (LedgerEntry.partner == tenant.end_user_id) & (LedgerEntry.kind == "reply")
    )
    assert len(ledger) == 1 and ledger[0]["amount"] == -reply["price"]
    assert ledger[0]["description"].startswith("Reply to MO · SMS")
    after = int((await Partner.select(Partner.balance).where(Partner.id == tenant.end_user_id).first())["balance"])
    assert before - after == reply["price"]
    # Unsubscribed: BrandA is blocked for the number, which joined the group; the API now refuses it.
    assert await blocked(tenant.end_user_id, tenant.sender_id, [HANDSET]) == {HANDSET}
    contact = (
        await Contact.select(Contact.id)
        .where((Contact.partner == tenant.end_user_id) & (Contact.phone == HANDSET))
        .first()
    )
    assert await ContactGroupMember.exists().where(
        (ContactGroupMember.contact == contact["id"]) & (ContactGroupMember.group == tenant.group_id)
    )
    again = await client.post(
        "/api/send_sms",
        json={"channels": "SMS", "from": "BrandA", "to": HANDSET, "message": "Sale"},
        headers=bearer(tenant.api_key),
    )
    assert again.json()["results"] == [f"{HANDSET}:Stop-listed: the recipient blocked this sender ID"]

    # A subscribe template unblocks it again.
    await client.post(
        "/api/reply-templates",
        headers=token,
        json={"name": "Opt-in", "keywords": "start", "action": "subscribe"},
    )
    await record_inbound(app.state.portal, [mo("START")])

    async def unblocked() -> bool:
        return not await blocked(tenant.end_user_id, tenant.sender_id, [HANDSET])

    await eventually(unblocked)

    async def settled() -> bool:
        # The subscription commits before the MO row's outcome does (auto_replies._settle): wait for that too.
        row = await InboundRecord.select(InboundRecord.reply).where(InboundRecord.text == "START").first()
        return row["reply"] != "…"

    await eventually(settled)
    start = await InboundRecord.select().where(InboundRecord.text == "START").first()
    assert start["reply"] == "subscribe by Opt-in"  # no text: nothing sent, the action applied


async def test_a_retried_job_never_answers_twice_and_unmatched_or_foreign_mo_get_nothing(app, client_for, sms):
    tenant = sms.tenant
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    await client.post("/api/reply-templates", headers=token, json={"name": "Info", "keywords": "info", "text": "Hi!"})
    await record_inbound(
        app.state.portal,
        [mo("INFO"), mo("hello", source="34612345002"), mo("INFO", source="34612345003", destination="Nobody")],
    )

    async def one_reply() -> list[dict[str, Any]]:
        return await replies_to(HANDSET)

    await eventually(one_reply)
    ids = [r["id"] for r in await InboundRecord.select(InboundRecord.id)]
    assert await answer_inbound(app.state.portal, ids) == 0  # a retry of the same job: claimed already
    assert len(await replies_to(HANDSET)) == 1
    assert await replies_to("34612345002") == [] and await replies_to("34612345003") == []


async def test_options_off_send_nothing_and_refuse_templates(app, client_for, sms):
    tenant = sms.tenant
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    await client.post("/api/reply-templates", headers=token, json={"name": "Info", "keywords": "info", "text": "Hi!"})
    await allow(tenant.end_user_id, replies=False)
    refused = await client.post("/api/reply-templates", headers=token, json={"name": "X", "keywords": "x", "text": "y"})
    assert refused.status_code == 422 and "Auto-replies are off" in refused.text
    await record_inbound(app.state.portal, [mo("INFO")])
    stored = await InboundRecord.select(InboundRecord.id).first()
    assert await answer_inbound(app.state.portal, [stored["id"]]) == 0
    assert await replies_to(HANDSET) == []

    await sign_in(client, tenant.end_user_admin)
    page = await client.get("/templates/replies")
    assert page.status_code == 200 and "Auto-replies are off for your company" in page.text
    assert "Info" in page.text and "/templates/replies/new" not in page.text


async def test_the_page_validates_each_field_and_keeps_what_was_typed(app, client_for, sms):
    tenant, other = sms.tenant, sms.world.b
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    await sign_in(client, tenant.end_user_admin)
    assert "No reply templates yet" in (await client.get("/templates/replies")).text
    form = {"name": "Opt-out", "channel": "sms", "keywords": " , ", "priority": "5", "text": "Bye", "action": "none"}
    bad = await post_form(client, "/templates/replies", form)
    assert bad.status_code == 422 and "Give at least one keyword" in bad.text and 'value="Opt-out"' in bad.text
    bad = await post_form(client, "/templates/replies", {**form, "keywords": "stop", "priority": "11"})
    assert bad.status_code == 422 and 'name="priority"' in bad.text and "Bye" in bad.text
    bad = await post_form(client, "/templates/replies", {**form, "keywords": "stop", "text": ""})
    assert bad.status_code == 422 and "Write a reply, or choose what to do with the contact" in bad.text
    bad = await post_form(client, "/templates/replies", {**form, "keywords": "stop", "group_id": str(other.group_id)})
    assert bad.status_code == 422 and "Choose one of your contact groups" in bad.text
    good = await post_form(client, "/templates/replies", {**form, "keywords": "STOP, End", "group_id": ""})
    assert good.status_code in (302, 303), good.text
    listed = await client.get(good.headers["location"])
    assert "Reply template created." in listed.text and ">stop</span>" in listed.text and ">end</span>" in listed.text
    taken = await post_form(client, "/templates/replies", {**form, "name": "opt-OUT", "keywords": "x"})
    assert taken.status_code == 409 and "already exists" in taken.text
    reply_id = (
        await client.get("/api/reply-templates", headers=await api_token(client, tenant.end_user_admin))
    ).json()["items"][0]["id"]
    edited = await post_form(client, f"/templates/replies/{reply_id}", {**form, "keywords": "quit", "priority": "9"})
    assert edited.status_code in (302, 303)
    assert ">quit</span>" in (await client.get("/templates/replies")).text
    assert (await post_form(client, f"/templates/replies/{reply_id}/delete")).status_code in (302, 303)
    assert "No reply templates yet" in (await client.get("/templates/replies")).text


async def test_reply_templates_of_another_tenant_are_out_of_reach(app, client_for, sms):
    world = sms.world
    for tenant in (world.a, world.b):
        await allow(tenant.end_user_id)
        client = client_for(tenant.host)
        made = await client.post(
            "/api/reply-templates",
            headers=await api_token(client, tenant.end_user_admin),
            json={"name": "Info", "keywords": "info", "text": "Hi"},
        )
        assert made.status_code == 201, made.text
        tenant.reply_id = made.json()["id"]  # type: ignore[attr-defined]
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    headers = await api_token(client, world.a.end_user_admin)
    assert await foreign_id_responses(app, client, world.b, headers, only={"reply_id"}) == {}
    assert [r["name"] for r in (await client.get("/api/reply-templates", headers=headers)).json()["items"]] == ["Info"]


async def test_a_batch_is_answered_in_one_request_and_a_numbers_latest_message_wins(app, client_for, sms):
    tenant = sms.tenant
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    for body in (
        {"name": "Opt-out", "keywords": "stop", "text": "Bye", "action": "unsubscribe"},
        {"name": "Opt-in", "keywords": "start", "text": "Welcome back", "action": "subscribe"},
    ):
        assert (await client.post("/api/reply-templates", headers=token, json=body)).status_code == 201
    others = [f"3461234510{n}" for n in range(5)]
    # One number says STOP and then START in the same batch; five others say STOP.
    await record_inbound(app.state.portal, [mo("STOP"), mo("START"), *(mo("stop", source=n) for n in others)])

    async def all_settled() -> list[dict[str, Any]]:
        rows = await InboundRecord.select().order_by(InboundRecord.id)
        return rows if all(r["reply"] not in ("", "…") for r in rows) else []

    stop, start = (await eventually(all_settled))[:2]
    assert stop["reply"] == "A later message of this number to this sender ID was answered instead"
    replies = await replies_to(HANDSET)
    assert [r["text"] for r in replies] == ["Welcome back"] and start["reply"] == replies[0]["transaction_id"]
    assert not await blocked(tenant.end_user_id, tenant.sender_id, [HANDSET])  # START came last: subscribed
    assert await blocked(tenant.end_user_id, tenant.sender_id, others) == set(others)
    assert [len(await replies_to(n)) for n in others] == [1] * len(others)
    edrs = await Edr.select(Edr.batch).where(Edr.campaign.is_null() & (Edr.text.is_in(["Bye", "Welcome back"])))
    assert len({e["batch"] for e in edrs}) == 1  # six answers, one accepted request


async def test_reply_variables_are_filled_from_the_writers_contact_and_unknown_ones_are_refused(app, client_for, sms):
    tenant = sms.tenant
    await allow(tenant.end_user_id)
    client = client_for(tenant.host)
    token = await api_token(client, tenant.end_user_admin)
    unknown = await client.post(
        "/api/reply-templates", headers=token, json={"name": "Hi", "keywords": "hi", "text": "Hi {nickname}"}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "text" and "{nickname}" in unknown.json()["detail"]
    body = {"name": "Hi", "keywords": "hi", "text": "Hi {first_name}, we got your message from {phone}."}
    assert (await client.post("/api/reply-templates", headers=token, json=body)).status_code == 201
    known = await client.post(
        "/api/contacts", headers=token, json={"phone": HANDSET, "groups": [tenant.group_id], "first_name": "Ana"}
    )
    assert known.status_code == 201, known.text
    stranger = "34612345009"
    await record_inbound(app.state.portal, [mo("hi"), mo("HI there", source=stranger)])

    async def both_answered() -> list[str]:
        texts = [r["text"] for n in (HANDSET, stranger) for r in await replies_to(n)]
        return texts if len(texts) == 2 else []

    assert await eventually(both_answered) == [
        f"Hi Ana, we got your message from {HANDSET}.",
        f"Hi , we got your message from {stranger}.",  # not a contact: only the phone is known
    ]
