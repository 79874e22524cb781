"""Sender ID requests (SID-1…3, TEN-5): end user → reseller → owner, declines with reasons, cancels, bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.senders.schemas import WHATSAPP_FIELDS
from core.senders.tables import Sender
from core.settings import load_settings
from core.tenancy.tables import AuditEntry, PartnerRequest
from tests.factories import api_token, make_world, outbox, post_form, sign_in
from tests.isolation import foreign_id_responses

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def request_files(*documents: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("documents", (name, content, "application/pdf")) for name, content in documents]


async def ask(client, headers, name="ShopNow", channel="sms", documents=(("licence.pdf", PDF),), comment="Our shop"):
    return await client.post(
        "/api/senders/requests",
        headers=headers,
        data={"channel": channel, "name": name, "comment": comment},
        files=request_files(*documents) or None,
    )


def campaign(sender_id: int) -> dict:
    return {
        "name": "Launch",
        "sender_id": sender_id,
        "text": "Hello",
        "numbers": ["+34612345679"],
        "send_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }


async def chain_world(client_for):
    world = await make_world()
    user = client_for(world.a.host)
    reseller = client_for(world.a.host)
    owner = client_for(world.owner_host)
    return (
        world,
        (user, await api_token(user, world.a.end_user_admin)),
        (reseller, await api_token(reseller, world.a.reseller_admin)),
        (owner, await api_token(owner, "owner@main.test")),
    )


async def test_end_user_request_passed_up_by_the_reseller_and_confirmed_by_the_owner(client_for):
    world, (user, uh), (reseller, rh), (owner, oh) = await chain_world(client_for)
    created = await ask(user, uh)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "new" and request["holder_id"] == world.a.reseller_id
    assert request["attachments"] == [{"name": "licence.pdf", "size": len(PDF)}]
    waiting = next(s for s in (await user.get("/api/senders/all", headers=uh)).json() if s["name"] == "ShopNow")
    assert waiting["status"] == "waiting"
    # SID-3: a waiting sender ID cannot be used yet, in the API as in the wizard.
    refused = await user.post("/api/campaigns", json=campaign(waiting["id"]), headers=uh)
    assert refused.status_code == 422 and refused.json()["field"] == "sender_id"

    inbox = (await reseller.get("/api/admin/requests?status=open&kind=sender_id", headers=rh)).json()
    assert [r["id"] for r in inbox["items"]] == [request["id"]]
    # The reseller reads the document on the inbox page before passing the request up.
    await sign_in(reseller, world.a.reseller_admin)
    document = await reseller.get(f"/admin/requests/{request['id']}/files/0")
    assert document.status_code == 200 and document.content == PDF
    assert "licence.pdf" in document.headers["content-disposition"]
    early = await reseller.post(f"/api/admin/requests/{request['id']}/decision", headers=rh, json={"action": "confirm"})
    assert early.status_code == 403  # only the owner confirms
    passed = await reseller.post(
        f"/api/admin/requests/{request['id']}/decision", headers=rh, json={"action": "pass_up"}
    )
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "in_progress" and passed.json()["holder_id"] != world.a.reseller_id

    held = (await owner.get("/api/admin/requests?mine=true", headers=oh)).json()
    assert [r["id"] for r in held["items"]] == [request["id"]]
    # The sender waits for this request: the owner decides it there, not by setting the sender by hand.
    by_hand = await owner.patch(f"/api/admin/senders/{waiting['id']}", headers=oh, json={"status": "enabled"})
    assert by_hand.status_code == 409 and "waits for its request" in by_hand.json()["detail"]
    assert (await owner.delete(f"/api/admin/senders/{waiting['id']}", headers=oh)).status_code == 409
    confirmed = await owner.post(
        f"/api/admin/requests/{request['id']}/decision", headers=oh, json={"action": "confirm"}
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert (await Sender.select(Sender.status).where(Sender.id == waiting["id"]).first()) == {"status": "enabled"}
    enabled = (await user.get("/api/senders?channel=sms", headers=uh)).json()
    assert "ShopNow" in [s["name"] for s in enabled]
    sent = await user.post("/api/campaigns", json=campaign(waiting["id"]), headers=uh)
    assert sent.status_code == 201, sent.text
    mails = await outbox(world.a.end_user_admin, "request_decided")
    assert len(mails) == 1 and "confirmed" in mails[0]["subject"]
    assert mails[0]["portal_id"] == world.a.portal_id and "Brand a" in mails[0]["html_body"]  # the user's brand
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert {"request.create", "request.pass_up", "request.confirm"} <= set(actions)
    again = await owner.post(f"/api/admin/requests/{request['id']}/decision", headers=oh, json={"action": "decline"})
    assert again.status_code == 409


async def test_a_decline_by_the_reseller_carries_its_reason_to_the_end_user(client_for):
    world, (user, uh), (reseller, rh), (owner, oh) = await chain_world(client_for)
    request = (await ask(user, uh, name="CheapPills")).json()
    url = f"/api/admin/requests/{request['id']}/decision"
    no_reason = await reseller.post(url, headers=rh, json={"action": "decline", "reason": "  "})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    declined = await reseller.post(url, headers=rh, json={"action": "decline", "reason": "Misleading brand name"})
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    # No sender is left behind to be used, and the owner can no longer confirm.
    assert not await Sender.exists().where(Sender.name == "CheapPills")
    assert (await owner.post(url, headers=oh, json={"action": "confirm"})).status_code in (404, 409)
    seen = (await user.get(f"/api/senders/requests/{request['id']}", headers=uh)).json()
    assert seen["status"] == "declined" and seen["reason"] == "Misleading brand name"
    await sign_in(user, world.a.end_user_admin)
    listing = await user.get("/senders")
    assert listing.status_code == 200 and "Misleading brand name" in listing.text
    detail = await user.get(f"/senders/requests/{request['id']}")
    assert "Misleading brand name" in detail.text and "Declined" in detail.text
    mails = await outbox(world.a.end_user_admin, "request_decided")
    assert len(mails) == 1 and "Misleading brand name" in mails[0]["text_body"]
    audit = await AuditEntry.select().where(AuditEntry.action == "request.decline").first()
    assert audit is not None and audit["user_email"] == world.a.reseller_admin
    assert "Misleading brand name" in audit["summary"]


async def test_a_canceled_request_cannot_be_confirmed(client_for):
    world, (user, uh), (reseller, rh), (owner, oh) = await chain_world(client_for)
    request = (await ask(user, uh)).json()
    passed = await reseller.post(
        f"/api/admin/requests/{request['id']}/decision", headers=rh, json={"action": "pass_up"}
    )
    assert passed.status_code == 200
    await sign_in(user, world.a.end_user_admin)
    canceled = await post_form(user, f"/senders/requests/{request['id']}/cancel")
    assert canceled.status_code in (302, 303)
    row = await PartnerRequest.select(PartnerRequest.status).where(PartnerRequest.id == request["id"]).first()
    assert row == {"status": "canceled"}
    refused = await owner.post(f"/api/admin/requests/{request['id']}/decision", headers=oh, json={"action": "confirm"})
    assert refused.status_code == 409 and "canceled" in refused.json()["detail"].lower()
    assert not await Sender.exists().where(Sender.name == "ShopNow")
    assert (await user.post(f"/api/senders/requests/{request['id']}/cancel", headers=uh)).status_code == 409


async def test_another_resellers_inbox_never_shows_the_request(app, client_for):
    world, (user, uh), _, _ = await chain_world(client_for)
    request = (await ask(user, uh)).json()
    other = client_for(world.b.host)
    bh = await api_token(other, world.b.reseller_admin)
    assert (await other.get("/api/admin/requests?status=", headers=bh)).json()["items"] == []
    assert (await other.get(f"/api/admin/requests/{request['id']}", headers=bh)).status_code == 404
    sneaky = await other.post(
        f"/api/admin/requests/{request['id']}/decision", headers=bh, json={"action": "decline", "reason": "mine"}
    )
    assert sneaky.status_code == 404
    await sign_in(other, world.b.reseller_admin)
    page = await other.get("/admin/requests?status=")
    assert page.status_code == 200 and f"/admin/requests/{request['id']}" not in page.text
    # The harness: every id route answers 404 to tenant B's users for tenant A's request and sender.
    world.a.request_id = request["id"]  # type: ignore[attr-defined]
    world.a.sender_id = request["payload"]["sender_id"]
    for email in (world.b.reseller_admin, world.b.end_user_admin):
        client = client_for(world.b.host)
        await sign_in(client, email)
        assert await foreign_id_responses(app, client, world.a, await api_token(client, email)) == {}
    assert (await PartnerRequest.select(PartnerRequest.status).first()) == {"status": "new"}


def stored_documents() -> list[Path]:
    root = Path(load_settings().var_dir) / "sender_requests"
    return sorted(root.rglob("*")) if root.exists() else []


async def test_bad_input_names_the_field_and_saves_nothing(client_for):
    world, (user, uh), _, _ = await chain_world(client_for)
    senders_before = await Sender.count()
    files_before = stored_documents()
    cases = [
        ({"name": "ABCDEFGHIJKL"}, "name"),  # 12 letters
        ({"name": "1234567890123456"}, "name"),  # 16 digits
        ({"documents": (("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100),)}, "documents"),
        ({"documents": (("big.pdf", PDF + b"0" * (12 * 1024 * 1024)),)}, "documents"),
        ({"channel": "pigeon"}, "channel"),
    ]
    for changes, field in cases:
        response = await ask(user, uh, **changes)
        assert response.status_code == 422, (changes.keys(), response.text)
        assert response.json()["field"] == field, response.json()
    assert await PartnerRequest.count() == 0
    assert await Sender.count() == senders_before
    assert stored_documents() == files_before
    # The page shows the same errors on the form, with what was typed.
    await sign_in(user, world.a.end_user_admin)
    form = await post_form(user, "/senders/requests", {"channel": "sms", "name": "ABCDEFGHIJKL", "comment": "x"})
    assert form.status_code == 422 and "up to 11 letters" in form.text and 'value="ABCDEFGHIJKL"' in form.text
    assert await PartnerRequest.count() == 0


async def test_the_page_form_sends_a_request_and_unsubscribe_disables_an_enabled_sender(client_for):
    world = await make_world()
    user = client_for(world.a.host)
    await sign_in(user, world.a.end_user_admin)
    assert (await user.get("/senders/new")).status_code == 200
    token = user.cookies.get("csrftoken", "")
    sent = await user.post(
        "/senders/requests",
        data={"channel": "viber", "name": "4915112345", "comment": "", "_csrf_token": token},
        files=request_files(("id.pdf", PDF)),
    )
    assert sent.status_code in (302, 303), sent.text
    row = await PartnerRequest.select().first()
    assert row["kind"] == "sender_id" and row["holder"] == world.a.reseller_id
    listing = await user.get("/senders")
    assert "4915112345" in listing.text and "Waiting" in listing.text
    assert (await user.get(f"/senders/requests/{row['id']}/files/0")).content == PDF
    unsubscribed = await post_form(user, f"/senders/{world.a.sender_id}/unsubscribe")
    assert unsubscribed.status_code in (302, 303)
    assert (await Sender.select(Sender.status).where(Sender.id == world.a.sender_id).first()) == {"status": "disabled"}
    assert (await post_form(user, f"/senders/{world.a.sender_id}/unsubscribe")).status_code == 409


async def test_the_wizard_offers_and_accepts_only_enabled_sender_ids_of_its_channel(client_for):
    world, (user, uh), _, _ = await chain_world(client_for)
    waiting = (await ask(user, uh, name="NotYet")).json()["payload"]["sender_id"]
    viber = (await ask(user, uh, name="ViberOnly", channel="viber")).json()["payload"]["sender_id"]
    await Sender.update({Sender.status: "enabled"}).where(Sender.id == viber)
    await sign_in(user, world.a.end_user_admin)
    offered = (await user.get("/campaigns/new")).text
    assert "BrandA" in offered and "NotYet" not in offered and "ViberOnly" not in offered
    setup = {"step": "1", "goto": "2", "name": "Autumn", "channel": "sms", "text": "Hi"}
    for sender_id in (waiting, viber):
        refused = await post_form(user, "/campaigns/new", {**setup, "sender_id": str(sender_id)})
        assert refused.status_code == 422 and "enabled sender IDs for this channel" in refused.text
        by_api = await user.post("/api/campaigns", json=campaign(sender_id), headers=uh)
        assert by_api.status_code == 422 and by_api.json()["field"] == "sender_id"
    accepted = await post_form(user, "/campaigns/new", {**setup, "sender_id": str(world.a.sender_id)})
    assert accepted.status_code == 200 and 'name="mode"' in accepted.text


async def test_the_openapi_document_describes_the_request_routes(client_for):
    await make_world()
    schema = (await client_for("main.test").get("/schema/openapi.json")).json()
    body = schema["paths"]["/api/senders/requests"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert set(body["schema"]["properties"]) == {"channel", "name", "comment", "documents", "logo", *WHATSAPP_FIELDS}
    assert "get" in schema["paths"]["/api/admin/requests"]
    assert "post" in schema["paths"]["/api/admin/requests/{request_id}/decision"]


async def test_the_same_sender_id_asked_for_twice_at_once_makes_one_request(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    headers = await api_token(client, world.a.end_user_admin)
    files = lambda: [p for p in stored_documents() if p.is_file()]  # noqa: E731
    before = len(files())
    answers = await asyncio.gather(ask(client, headers, name="Twice"), ask(client, headers, name="Twice"))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert await Sender.count().where(Sender.name == "Twice") == 1
    assert await PartnerRequest.count() == 1
    assert len(files()) - before == 1  # the refused copy's upload is gone


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def test_a_whatsapp_request_carries_the_business_profile_and_refuses_each_bad_field(client_for):
    world, (user, uh), (reseller, _rh), _ = await chain_world(client_for)
    good = {
        "channel": "whatsapp",
        "name": "ShopNow",
        "business_manager_id": "1234567890",
        "phone": "+34 612 345 678",
        "description": "Shoes and bags",
        "email": "hello@shop.example",
        "website": "https://shop.example",
    }
    for changes, field in (
        ({"business_manager_id": ""}, "business_manager_id"),
        ({"business_manager_id": "12ab"}, "business_manager_id"),
        ({"phone": ""}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"email": "not an address"}, "email"),
        ({"website": "shop.example"}, "website"),
    ):
        refused = await user.post("/api/senders/requests", headers=uh, data={**good, **changes})
        assert refused.status_code in (400, 422) and refused.json()["field"] == field, (changes, refused.text)
    gif = await user.post(
        "/api/senders/requests",
        headers=uh,
        data=good,
        files=[("logo", ("logo.png", b"GIF89a" + b"\0" * 9, "image/png"))],
    )
    assert gif.status_code == 422 and gif.json()["field"] == "logo"
    assert (await user.get("/api/senders/requests", headers=uh)).json() == []  # nothing was kept of the refusals
    created = await user.post(
        "/api/senders/requests",
        headers=uh,
        data=good,
        files=[("logo", ("me.png", PNG, "image/png")), *request_files(("licence.pdf", PDF))],
    )
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["payload"]["phone"] == "34612345678" and request["payload"]["business_manager_id"] == "1234567890"
    assert [a["name"] for a in request["attachments"]] == ["logo.png", "licence.pdf"]
    # The reseller sees the profile in its inbox and downloads the logo as a picture.
    await sign_in(reseller, world.a.reseller_admin)
    page = (await reseller.get(f"/admin/requests/{request['id']}")).text
    assert "1234567890" in page and "+34612345678" in page and "Shoes and bags" in page
    logo = await reseller.get(f"/admin/requests/{request['id']}/files/0")
    assert logo.status_code == 200 and logo.content == PNG and logo.headers["content-type"] == "image/png"
    # An SMS request ignores the WhatsApp fields.
    sms = await ask(user, uh, name="Plain")
    assert "business_manager_id" not in sms.json()["payload"]
