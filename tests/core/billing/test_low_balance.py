"""Low balance (issue 11 item 6): the header's live balance and the banner below the threshold a user sets."""

from __future__ import annotations

from decimal import Decimal

import httpx

from core.billing.schemas import BalanceAdjustment
from core.billing.services import adjust_balance
from tests.factories import make_world, post_form, sign_in


async def save_profile(client: httpx.AsyncClient, alert: str) -> httpx.Response:
    return await post_form(
        client,
        "/account",
        {
            "first_name": "Ann",
            "last_name": "Admin",
            "language": "en",
            "date_format": "YYYY-MM-DD",
            "timezone": "UTC",
            "theme": "light",
            "low_balance_alert": alert,
        },
    )


async def test_the_banner_shows_below_the_threshold_and_the_balance_is_polled_live(client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert 'data-testid="low-balance"' not in (await client.get("/")).text
    saved = await save_profile(client, "300")
    assert saved.status_code in (302, 303), saved.text
    assert 'value="300"' in (await client.get("/account")).text
    home = (await client.get("/")).text
    assert "Your balance is below 300.00 EUR, the warning level you set." in home and 'href="/top-up/"' in home
    assert 'hx-get="/balance"' in home
    assert (await client.get("/balance")).text == "0.00 EUR"

    await adjust_balance(world.owner, world.a.end_user_id, BalanceAdjustment(amount=Decimal(500), reason="Paid"))
    assert (await client.get("/balance")).text == "500.00 EUR"
    assert 'data-testid="low-balance"' not in (await client.get("/")).text

    refused = await save_profile(client, "-5")
    assert refused.status_code == 422 and "low_balance_alert: must not be negative" in refused.text
    assert (await save_profile(client, "")).status_code in (302, 303)
    await adjust_balance(world.owner, world.a.end_user_id, BalanceAdjustment(amount=Decimal(-500), reason="Back"))
    assert 'data-testid="low-balance"' not in (await client.get("/")).text


async def test_the_balance_fragment_needs_a_session(client_for):
    world = await make_world()
    response = await client_for(world.a.host).get("/balance")
    assert response.status_code in (302, 303, 401) and "0.00" not in response.text
