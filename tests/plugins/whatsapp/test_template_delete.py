"""Deleting a WhatsApp template: an admin deletes it through the API or the page, WhatsApp's stand-in deletes that
language of it too, the deletion is audited; operators are refused; campaigns that send it are named first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.campaigns.schemas import CampaignCreate
from core.campaigns.services import create_campaign, start_campaign
from core.campaigns.tables import Campaign
from core.message_templates.tables import VendorTemplate
from core.tenancy.tables import AuditEntry
from tests.factories import api_token, post_form, sign_in
from tests.plugins.whatsapp.conftest import WhatsAppWorld
from tests.waiting import eventually

TEMPLATE = {"name": "order_ready", "category": "utility", "body": "Order {{1}} is ready"}


async def _submitted(client, headers, wa: WhatsAppWorld, language: str = "es") -> int:
    """A template submitted through the API, as Meta holds it, once approved."""
    created = await client.post("/api/vendor-templates", json=TEMPLATE | {"language": language}, headers=headers)
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]

    async def approved() -> bool:
        row = await VendorTemplate.select(VendorTemplate.status).where(VendorTemplate.id == template_id).first()
        return row["status"] == "approved"

    await eventually(approved)
    return template_id


def _api(client_for, wa: WhatsAppWorld):
    return client_for(wa.tenant.host), {"Authorization": f"Bearer {wa.tenant.api_key}"}


async def _campaign(app, wa: WhatsAppWorld, template_id: int, name: str, send_at: datetime | None = None) -> int:
    data = CampaignCreate(
        name=name,
        channel="whatsapp",
        sender_id=wa.sender_id,
        text="Order A-1 is ready",
        numbers=["34607000001"],
        vendor_template_id=template_id,
        send_at=send_at,
    )
    return (await create_campaign(app.state.portal, wa.actor, data)).id


async def test_an_admin_deletes_a_template_from_whatsapp_too_and_only_that_language(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    spanish = await _submitted(client, headers, whatsapp, "es")
    english = await _submitted(client, headers, whatsapp, "en_US")
    spanish_id = (await VendorTemplate.select().where(VendorTemplate.id == spanish).first())["vendor_template_id"]

    answer = await client.delete(f"/api/vendor-templates/{spanish}", headers=headers)
    assert answer.status_code == 204, answer.text
    assert (await client.get(f"/api/vendor-templates/{spanish}", headers=headers)).status_code == 404
    assert [(t.name, t.language) for t in whatsapp.meta.deleted_templates] == [("order_ready", "es")]
    # Meta still holds the English one, and so do we.
    assert [(t.name, t.language) for t in whatsapp.meta.templates.values()] == [("order_ready", "en_US")]
    assert spanish_id not in whatsapp.meta.templates
    assert (await client.get(f"/api/vendor-templates/{english}", headers=headers)).json()["status"] == "approved"
    audited = await AuditEntry.select().where(AuditEntry.action == "vendor_template.delete").first()
    assert (audited["object_id"], audited["partner"]) == (spanish, whatsapp.tenant.end_user_id)
    assert "order_ready" in audited["summary"] and "(es)" in audited["summary"]
    # Gone twice is not found; a template Meta no longer holds is deleted here all the same.
    assert (await client.delete(f"/api/vendor-templates/{spanish}", headers=headers)).status_code == 404
    whatsapp.meta.templates.clear()
    assert (await client.delete(f"/api/vendor-templates/{english}", headers=headers)).status_code == 204
    assert not await VendorTemplate.exists().where(VendorTemplate.id == english)


async def test_operators_cannot_delete_templates(app, client_for, whatsapp):
    client = client_for(whatsapp.tenant.host)
    await sign_in(client, whatsapp.tenant.end_user_operator)
    headers = await api_token(client, whatsapp.tenant.end_user_operator)
    answer = await client.delete(f"/api/vendor-templates/{whatsapp.template_id}", headers=headers)
    assert answer.status_code == 403
    assert "Operators cannot delete WhatsApp templates" in answer.text
    page = await client.get("/templates/whatsapp")
    assert "order_update" in page.text and f'data-testid="delete-{whatsapp.template_id}"' not in page.text
    refused = await post_form(client, f"/templates/whatsapp/{whatsapp.template_id}/delete", {})
    assert refused.status_code == 403
    assert await VendorTemplate.exists().where(VendorTemplate.id == whatsapp.template_id)


async def test_a_scheduled_campaign_is_named_first_and_fails_at_launch_once_deleted_anyway(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    template_id = await _submitted(client, headers, whatsapp)
    later = datetime.now(UTC) + timedelta(days=1)
    scheduled = await _campaign(app, whatsapp, template_id, "Tomorrow's orders", later)
    assert (await Campaign.select(Campaign.status).where(Campaign.id == scheduled).first())["status"] == "scheduled"

    warned = await client.delete(f"/api/vendor-templates/{template_id}", headers=headers)
    assert warned.status_code == 409 and warned.json()["field"] == "force"
    assert "Tomorrow's orders" in warned.json()["detail"] and "will fail when they start" in warned.json()["detail"]
    assert whatsapp.meta.deleted_templates == []
    assert await VendorTemplate.exists().where(VendorTemplate.id == template_id)

    forced = await client.delete(f"/api/vendor-templates/{template_id}", params={"force": "true"}, headers=headers)
    assert forced.status_code == 204, forced.text
    assert await start_campaign(app.state.portal, scheduled, {"scheduled"}) is False
    row = await Campaign.select().where(Campaign.id == scheduled).first()
    assert (row["status"], row["status_reason"]) == ("failed", "The template was deleted")
    assert whatsapp.meta.submitted == {}


async def test_a_campaign_still_sending_the_template_refuses_its_deletion_even_forced(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    template_id = await _submitted(client, headers, whatsapp)
    later = datetime.now(UTC) + timedelta(days=1)
    sending = await _campaign(app, whatsapp, template_id, "Orders going out", later)
    await Campaign.update({Campaign.status: "paused"}).where(Campaign.id == sending)  # started, then paused
    for params in ({}, {"force": "true"}):
        refused = await client.delete(f"/api/vendor-templates/{template_id}", params=params, headers=headers)
        assert refused.status_code == 409, refused.text
        assert "still sending" in refused.json()["detail"] and "Orders going out" in refused.json()["detail"]
        assert refused.json()["field"] == "vendor_template_id"
    assert whatsapp.meta.deleted_templates == []
    assert await VendorTemplate.exists().where(VendorTemplate.id == template_id)
    # A finished campaign never holds it back.
    await Campaign.update({Campaign.status: "completed"}).where(Campaign.id == sending)
    assert (await client.delete(f"/api/vendor-templates/{template_id}", headers=headers)).status_code == 204


async def test_the_page_deletes_from_the_tile_after_naming_the_scheduled_campaigns(app, client_for, whatsapp):
    api, headers = _api(client_for, whatsapp)
    template_id = await _submitted(api, headers, whatsapp)
    client = client_for(whatsapp.tenant.host)
    await sign_in(client, whatsapp.tenant.end_user_admin)
    page = await client.get("/templates/whatsapp")
    tile = page.text[page.text.index(f'data-testid="vendor-template-{template_id}"') :]
    form = tile[tile.index("<form") : tile.index("</form>")]
    assert f'action="/templates/whatsapp/{template_id}/delete"' in form and "data-confirm=" in form

    later = datetime.now(UTC) + timedelta(days=1)
    scheduled = await _campaign(app, whatsapp, template_id, "Tomorrow's orders", later)
    warning = await post_form(client, f"/templates/whatsapp/{template_id}/delete", {})
    assert warning.status_code == 409
    assert f'href="/campaigns/{scheduled}"' in warning.text and 'data-testid="delete-anyway"' in warning.text
    await Campaign.update({Campaign.status: "in_progress"}).where(Campaign.id == scheduled)
    blocked = await post_form(client, f"/templates/whatsapp/{template_id}/delete", {"force": "1"})
    assert blocked.status_code == 409 and "still sending this template" in blocked.text
    assert 'data-testid="delete-anyway"' not in blocked.text
    await Campaign.update({Campaign.status: "scheduled"}).where(Campaign.id == scheduled)

    deleted = await post_form(client, f"/templates/whatsapp/{template_id}/delete", {"force": "1"})
    assert deleted.status_code in (302, 303) and deleted.headers["location"] == "/templates/whatsapp?done=deleted"
    after = await client.get(deleted.headers["location"])
    assert "Template deleted, from WhatsApp too." in after.text
    assert f'data-testid="vendor-template-{template_id}"' not in after.text
    assert [t.name for t in whatsapp.meta.deleted_templates] == ["order_ready"]


async def test_when_whatsapp_refuses_nothing_is_deleted(app, client_for, whatsapp):
    client, headers = _api(client_for, whatsapp)
    template_id = await _submitted(client, headers, whatsapp)
    whatsapp.meta.access_token = "rotated"
    answer = await client.delete(f"/api/vendor-templates/{template_id}", headers=headers)
    assert answer.status_code == 502 and "error 190" in answer.text
    assert await VendorTemplate.exists().where(VendorTemplate.id == template_id)
    page_client = client_for(whatsapp.tenant.host)
    await sign_in(page_client, whatsapp.tenant.end_user_admin)
    page = await post_form(page_client, f"/templates/whatsapp/{template_id}/delete", {})
    assert page.status_code == 502 and "error 190" in page.text and "order_ready" in page.text
