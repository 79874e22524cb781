"""Click callbacks (URL-2): a key that asked for clicks gets each stored click posted, signed, to its callback URL."""

from __future__ import annotations

import msgspec

from core.accounts.tables import ApiKey
from core.dispatch.tables import CallbackOutbox
from plugins.shortener.tables import ShortLinkRow
from tests.core.dispatch.conftest import SmsWorld
from tests.core.public_api.test_callbacks import deliver_until, documented_verify, receiver  # noqa: F401 — the fixture
from tests.factories import post_form, sign_in
from tests.plugins.shortener.conftest import DOMAIN, IPHONE, clicks_stored
from tests.plugins.shortener.test_links import _shortened


async def _opt_in(client_for, sms: SmsWorld, url: str, clicks: bool) -> None:
    """Save the key's callback URL and the clicks box on its callbacks page, as its admin does."""
    client = client_for(sms.tenant.host)
    await sign_in(client, sms.tenant.end_user_admin)
    form = {"callback_url": url, **({"click_callbacks": "on"} if clicks else {})}
    saved = await post_form(client, f"/api-keys/{sms.tenant.api_key_id}/callbacks/url", form)
    assert saved.status_code in (302, 303)
    page = await client.get(f"/api-keys/{sms.tenant.api_key_id}/callbacks")
    assert ('name="click_callbacks" checked' in page.text) is clicks


async def test_a_click_is_posted_signed_to_a_key_that_asked_for_clicks(app, sms: SmsWorld, client_for, receiver):  # noqa: F811
    await _opt_in(client_for, sms, receiver.url, clicks=True)
    campaign_id, codes = await _shortened(app, sms, ["34612000001", "34612000002"])
    assert await CallbackOutbox.count().where(CallbackOutbox.event == "CLICK") == 0  # sending posts no click
    answer = await client_for(DOMAIN).get(f"/{codes[0]}", headers={"User-Agent": IPHONE})
    assert answer.status_code == 302
    await clicks_stored(app.state.portal, 1)

    await deliver_until(
        app.state.portal,
        lambda rows: [r["state"] for r in rows if r["event"] == "CLICK"] == ["delivered"],
    )
    clicks = [(h, b) for h, b in receiver.received if msgspec.json.decode(b).get("event") == "CLICK"]
    assert len(clicks) == 1
    headers, body = clicks[0]
    secret = (await ApiKey.select(ApiKey.callback_secret).where(ApiKey.id == sms.tenant.api_key_id).first())[
        "callback_secret"
    ]
    assert documented_verify()(secret, headers["x-timestamp"], body, headers["x-signature"])
    data = msgspec.json.decode(body)
    link = await ShortLinkRow.select().where(ShortLinkRow.code == codes[0]).first()
    assert data == {
        "event": "CLICK",
        "clickID": data["clickID"],
        "code": codes[0],
        "shortUrl": f"{DOMAIN}/{codes[0]}",
        "campaignID": campaign_id,
        "dnis": link["destination"],
        "eventTime": data["eventTime"],
        "os": "iOS",
        "browser": "Mobile Safari",
        "device": "iPhone",
    }
    row = await CallbackOutbox.select().where(CallbackOutbox.event == "CLICK").first()
    assert row["transaction_id"] == data["clickID"] and row["api_key"] == sms.tenant.api_key_id


async def test_a_key_that_did_not_ask_for_clicks_gets_none(app, sms: SmsWorld, client_for, receiver):  # noqa: F811
    await _opt_in(client_for, sms, receiver.url, clicks=False)
    _, codes = await _shortened(app, sms, ["34612000001"])
    await client_for(DOMAIN).get(f"/{codes[0]}", headers={"User-Agent": IPHONE})
    await clicks_stored(app.state.portal, 1)
    assert await CallbackOutbox.count().where(CallbackOutbox.event == "CLICK") == 0
