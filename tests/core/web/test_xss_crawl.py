"""Issue 17's XSS crawl: a marked payload in every user-writable text, every page rendered as every role, none raw."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from litestar.routes import HTTPRoute
from piccolo.table import Table

from core.accounts.tables import ApiKey, User
from core.billing.tables import LedgerEntry, RatePlan
from core.campaigns.tables import Campaign
from core.contacts.tables import Contact, ContactField, ContactGroup, ContactImport
from core.dispatch.tables import Edr, InboundRecord, VendorConnection
from core.message_templates.schemas import TemplateCreate
from core.message_templates.services import create_template
from core.numbering.tables import Country, Network
from core.senders.tables import Sender
from core.tenancy.tables import AuditEntry, Partner, PartnerRequest, PortalRecord
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.core.senders.test_sender_requests import ask
from tests.factories import World, api_token, make_world, sign_in
from tests.isolation import ID_PROVIDERS

# Short enough for the narrowest text column (a sender name); breaks out of attributes and opens a tag.
PAYLOAD = '"><i x=Z9>'
RAW = "<i x=Z9>"
# Every column a user, a vendor or an imported file can put free text into.
WRITABLE: dict[type[Table], tuple[str, ...]] = {
    Partner: ("name",),
    PortalRecord: ("brand_name", "consent_text"),
    AuditEntry: ("summary",),
    PartnerRequest: ("subject", "reason"),
    User: ("first_name", "last_name"),
    ApiKey: ("name",),
    Sender: ("name",),
    Country: ("name",),
    Network: ("name",),
    LedgerEntry: ("description",),
    RatePlan: ("name",),
    Contact: ("first_name", "last_name", "comments"),
    ContactGroup: ("name", "description"),
    ContactField: ("name",),
    ContactImport: ("filename", "error"),
    Campaign: ("name", "sender_name", "text", "status_reason"),
    VendorConnection: ("name",),
    Edr: ("text", "sender", "error", "vendor_status", "network", "country"),
    InboundRecord: ("text", "source"),
}
# Pages that end the session or only serve files; everything else with a GET is rendered.
SKIPPED = re.compile(r"^/(logout|static|healthz|metrics|schema|api/)|/(export|download|documents)\b")
_PARAM = re.compile(r"{(\w+):\w+}")


async def _fill(app: object, world: World, client_for: object) -> None:
    """Objects of every kind the pages show, for tenant A; then the payload in every writable text."""
    actor = await actor_of(world.a)
    now = datetime.now(UTC)
    campaign = await scheduled_campaign(app, actor, world.a)
    template = await create_template(
        app.state.portal,  # type: ignore[attr-defined]
        actor,
        TemplateCreate(name="Welcome", sender_id=world.a.sender_id, text="Hi"),
    )
    edr = await Edr.insert(
        Edr(
            partner=world.a.end_user_id,
            campaign=campaign.id,
            channel="sms",
            sender="BrandA",
            destination="34612345678",
            status="UNDELIVERED",
            created_at=now,
        )
    ).returning(Edr.id)
    await InboundRecord.insert(
        InboundRecord(
            channel="sms", source="34612345678", destination="BrandA", text="Hi", received_at=datetime.now(UTC)
        )
    )
    connection = await VendorConnection.insert(
        VendorConnection(channel="sms", name="SMSC", settings={}, created_at=now, updated_at=now)
    ).returning(VendorConnection.id)
    client = client_for(world.a.host)  # type: ignore[operator]
    request = await ask(client, await api_token(client, world.a.end_user_admin))
    assert request.status_code == 201, request.text
    world.a.campaign_id = campaign.id  # type: ignore[attr-defined]
    world.a.template_id = template.id  # type: ignore[attr-defined]
    world.a.edr_id = edr[0]["id"]  # type: ignore[attr-defined]
    world.a.connection_id = connection[0]["id"]  # type: ignore[attr-defined]
    world.a.request_id = request.json()["id"]  # type: ignore[attr-defined]
    world.a.ledger_entry_id = (await LedgerEntry.select(LedgerEntry.id).first())["id"]  # type: ignore[attr-defined]
    for table, columns in WRITABLE.items():
        for row in await table.select(table._meta.primary_key):
            # The row id keeps names unique where they must be (a partner's senders, groups, fields).
            text = f"{PAYLOAD}{row['id']}"
            await table.update({getattr(table, c): text for c in columns}).where(table._meta.primary_key == row["id"])
    await Contact.update({Contact.custom: {"loyalty_level": PAYLOAD}}, force=True)


def _pages(app: object, world: World) -> list[str]:
    urls = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods or SKIPPED.search(route.path):
            continue
        params = _PARAM.findall(route.path)
        if any(p not in ID_PROVIDERS for p in params):
            continue
        urls.append(_PARAM.sub(lambda m: str(ID_PROVIDERS[m.group(1)](world.a)), route.path))
    return sorted(set(urls))


async def test_no_page_renders_user_text_as_markup_for_any_role(app, client_for):
    world = await make_world()
    await _fill(app, world, client_for)
    pages = _pages(app, world)
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
