"""Issue 17's XSS crawl: a marked payload in every user-writable text, every page rendered as every role, none raw."""

from __future__ import annotations

from core.contacts.tables import Contact
from tests.core.web.crawl import WRITABLE, add_objects, page_urls
from tests.factories import World, make_world, sign_in

# Short enough for the narrowest text column (a sender name); breaks out of attributes and opens a tag.
PAYLOAD = '"><i x=Z9>'
RAW = "<i x=Z9>"


async def _fill(app: object, world: World, client_for: object) -> None:
    """Objects of every kind the pages show, for tenant A; then the payload in every writable text."""
    await add_objects(app, world, client_for(world.a.host))  # type: ignore[operator]
    for table, columns in WRITABLE.items():
        for row in await table.select(table._meta.primary_key):
            # The row id keeps names unique where they must be (a partner's senders, groups, fields).
            text = f"{PAYLOAD}{row['id']}"
            await table.update({getattr(table, c): text for c in columns}).where(table._meta.primary_key == row["id"])
    await Contact.update({Contact.custom: {"loyalty_level": PAYLOAD}}, force=True)


async def test_no_page_renders_user_text_as_markup_for_any_role(app, client_for):
    world = await make_world()
    await _fill(app, world, client_for)
    pages = page_urls(app, world)
    assert "/contacts" in pages and f"/campaigns/{world.a.campaign_id}" in pages  # type: ignore[attr-defined]
    raw, broken, seen = [], [], 0
    for host, email in (
        (world.owner_host, "owner@main.test"),
        (world.a.host, world.a.reseller_admin),
        (world.a.host, world.a.end_user_admin),
    ):
        client = client_for(host)
        assert (await sign_in(client, email)).status_code in (302, 303)
        for url in pages:
            response = await client.get(url)
            if response.status_code >= 500:
                broken.append(f"{email} GET {url}: {response.status_code}")
            if "html" in response.headers.get("content-type", "") and response.status_code == 200:
                seen += "Z9" in response.text
                if RAW in response.text:
                    raw.append(f"{email} GET {url}")
    assert not broken, broken
    assert not raw, f"user text rendered as markup on: {raw}"
    # The crawl must have met the payload (escaped) on many pages, or it proves nothing.
    assert seen >= 20, seen
