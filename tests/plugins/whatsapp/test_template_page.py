"""The WhatsApp templates page: the company's templates with their verdicts, and the form submitting one with its
header, footer and buttons to the stand-in; refusals shown beside their fields with nothing submitted."""

from __future__ import annotations

from core.message_templates.tables import VendorTemplate
from tests.factories import post_form, sign_in
from tests.plugins.whatsapp.conftest import WhatsAppWorld, add_template
from tests.waiting import eventually

FORM = {
    "name": "order_shipped",
    "language": "es",
    "category": "utility",
    "header.kind": "text",
    "header.text": "Order {{1}}",
    "header.url": "",
    "body": "Hello {{1}}, your order ships today",
    "footer": "Reply STOP to opt out",
    "button_rows": "2",
    "buttons.0.kind": "url",
    "buttons.0.text": "Track it",
    "buttons.0.url": "https://shop.example/track/{{1}}",
    "buttons.0.phone_number": "",
    "buttons.1.kind": "phone_number",
    "buttons.1.text": "Call us",
    "buttons.1.url": "",
    "buttons.1.phone_number": "+34600000000",
}


async def _signed_in(client_for, wa: WhatsAppWorld):
    client = client_for(wa.tenant.host)
    await sign_in(client, wa.tenant.end_user_admin)
    return client


async def test_the_page_lists_the_company_templates_with_their_verdicts(client_for, whatsapp):
    await add_template(whatsapp.tenant.end_user_id, whatsapp.connection_id, name="still_pending", status="pending")
    await add_template(whatsapp.world.b.end_user_id, whatsapp.connection_id, name="their_template")
    client = await _signed_in(client_for, whatsapp)
    templates = await client.get("/templates")
    assert 'href="/templates/whatsapp"' in templates.text
    page = await client.get("/templates/whatsapp")
    assert page.status_code == 200
    assert f'data-testid="vendor-template-{whatsapp.template_id}"' in page.text and "order_update" in page.text
    assert "still_pending" in page.text and "their_template" not in page.text
    pending = await client.get("/templates/whatsapp", params={"status": "pending"})
    assert "still_pending" in pending.text and "order_update" not in pending.text
    none = await client.get("/templates/whatsapp", params={"status": "rejected"})
    assert "No WhatsApp template has this status." in none.text


async def test_the_empty_page_says_what_to_do(client_for, whatsapp):
    await VendorTemplate.delete(force=True)
    client = await _signed_in(client_for, whatsapp)
    page = await client.get("/templates/whatsapp")
    assert "No WhatsApp templates yet." in page.text and 'href="/templates/whatsapp/new"' in page.text


async def test_the_form_submits_header_footer_and_buttons_and_the_list_shows_the_verdict(client_for, whatsapp):
    client = await _signed_in(client_for, whatsapp)
    new = await client.get("/templates/whatsapp/new")
    assert new.status_code == 200 and 'name="header.kind"' in new.text and 'data-testid="add-button"' in new.text
    # Adding and removing button rows redraws the form with what was typed.
    added = await post_form(client, "/templates/whatsapp", FORM | {"command": "add"})
    assert added.status_code == 200 and 'name="buttons.2.kind"' in added.text and 'value="Call us"' in added.text
    removed = await post_form(client, "/templates/whatsapp", FORM | {"command": "remove-0"})
    assert 'name="buttons.1.kind"' not in removed.text and 'value="Call us"' in removed.text
    assert 'value="Track it"' not in removed.text
    created = await post_form(client, "/templates/whatsapp", FORM)
    assert created.status_code in (302, 303), created.text
    [submitted] = whatsapp.meta.templates.values()
    assert (submitted.name, submitted.language, submitted.category) == ("order_shipped", "es", "UTILITY")
    assert [part["type"] for part in submitted.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert submitted.components[3]["buttons"][1] == {
        "type": "PHONE_NUMBER",
        "text": "Call us",
        "phone_number": "+34600000000",
    }
    row = await VendorTemplate.select(VendorTemplate.id).where(VendorTemplate.name == "order_shipped").first()

    async def approved() -> bool:
        page = await client.get("/templates/whatsapp", params={"status": "approved"})
        return f'data-testid="vendor-template-{row["id"]}"' in page.text

    await eventually(approved)
    page = await client.get("/templates/whatsapp")
    assert f'data-testid="buttons-{row["id"]}"' in page.text and "Reply STOP to opt out" in page.text


async def test_an_authentication_template_shows_its_own_fields_and_is_sent_as_meta_builds_it(client_for, whatsapp):
    client = await _signed_in(client_for, whatsapp)
    shown = await post_form(client, "/templates/whatsapp", FORM | {"category": "authentication", "command": "refresh"})
    assert 'name="header.kind"' not in shown.text and 'name="footer"' not in shown.text
    assert 'name="body"' not in shown.text and 'name="button_rows" value="0"' in shown.text
    assert 'name="add_security_recommendation"' in shown.text and 'name="code_expiration_minutes"' in shown.text
    assert 'name="copy_code" value="Copy code"' in shown.text and "{{1}} is your verification code." in shown.text
    auth = FORM | {"category": "authentication", "name": "code", "copy_code": "Copy it"}
    too_long = await post_form(client, "/templates/whatsapp", auth | {"code_expiration_minutes": "91"})
    assert too_long.status_code == 422 and 'class="field-error"' in too_long.text
    after = too_long.text[too_long.text.index('name="code_expiration_minutes"') :]
    assert 'aria-invalid="true"' in after[: after.index(">") + 1]
    created = await post_form(
        client, "/templates/whatsapp", auth | {"add_security_recommendation": "1", "code_expiration_minutes": "10"}
    )
    assert created.status_code in (302, 303), created.text
    [submitted] = whatsapp.meta.templates.values()
    assert submitted.components == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy it"}]},
    ]
    page = await client.get("/templates/whatsapp")
    assert "do not share this code" in page.text and "This code expires in 10 minutes." in page.text


async def test_bad_inputs_are_shown_beside_their_fields_and_nothing_is_submitted(client_for, whatsapp):
    client = await _signed_in(client_for, whatsapp)
    cases = {
        "buttons.0.url": {"buttons.0.url": "http://shop.example"},
        "buttons.1.phone_number": {"buttons.1.phone_number": "600000000"},
        "buttons.0.text": {"buttons.0.text": ""},
        "header.text": {"header.text": "Order {{1}} {{2}}"},
        "header.url": {"header.kind": "image"},
        "footer": {"footer": "Bye {{1}}"},
        "name": {"name": "Order Shipped"},
        "body": {"body": "Hello {{2}}"},
    }
    for field, change in cases.items():
        page = await post_form(client, "/templates/whatsapp", FORM | change)
        assert page.status_code == 422, (field, page.status_code)
        html = page.text
        assert f'name="{field}"' in html, field
        after = html[html.index(f'name="{field}"') :]
        assert 'aria-invalid="true"' in after[: after.index(">") + 1], field
        assert 'class="field-error"' in after[: after.index("</label>")], field
    assert whatsapp.meta.templates == {}
    assert not await VendorTemplate.exists().where(VendorTemplate.name == "order_shipped")
