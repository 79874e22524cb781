"""What the page crawls share (XSS, pseudo-language, brands): objects of every kind, the page routes, the texts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import httpx
import msgspec
from litestar.routes import HTTPRoute
from piccolo.table import Table

from core.accounts.tables import ApiKey, User
from core.billing import packs, purchase
from core.billing.pack_schemas import PackCreate
from core.billing.schemas import BalanceAdjustment
from core.billing.services import adjust_balance
from core.billing.tables import HeldPack, LedgerEntry, Pack, RatePlan
from core.campaigns.tables import Campaign
from core.contacts.tables import Contact, ContactField, ContactGroup, ContactImport
from core.dispatch.tables import Edr, InboundRecord, VendorConnection
from core.message_templates.replies import create_reply
from core.message_templates.reply_schemas import ReplyCreate
from core.message_templates.schemas import TemplateCreate
from core.message_templates.services import create_template
from core.numbering.tables import Country, Network
from core.senders.tables import Sender
from core.tenancy.schemas import PartnerOptions, ShortDomainCreate
from core.tenancy.short_domains import create_domain, grant
from core.tenancy.tables import AuditEntry, Partner, PartnerRequest, PortalRecord
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.core.senders.test_sender_requests import ask
from tests.factories import World, api_token
from tests.isolation import ID_PROVIDERS

# Pages that end the session or only serve files or data; everything else with a GET is an HTML page.
SKIPPED = re.compile(r"^/(logout|static|healthz|metrics|schema|api/)|/(export|download|documents)\b")
_PARAM = re.compile(r"{(\w+):\w+}")

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
    Pack: ("name",),
    HeldPack: ("name",),
    Contact: ("first_name", "last_name", "comments"),
    ContactGroup: ("name", "description"),
    ContactField: ("name",),
    ContactImport: ("filename", "error"),
    Campaign: ("name", "sender_name", "text", "status_reason"),
    VendorConnection: ("name",),
    Edr: ("text", "sender", "error", "vendor_status", "network", "country"),
    InboundRecord: ("text", "source"),
}


async def add_objects(app: object, world: World, client: httpx.AsyncClient) -> None:
    """Objects of every kind the pages show, for tenant A (``client`` is on its host): its id fields are set."""
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
        InboundRecord(channel="sms", source="34612345678", destination="BrandA", text="Hi", received_at=now)
    )
    connection = await VendorConnection.insert(
        VendorConnection(channel="sms", name="SMSC", settings={}, created_at=now, updated_at=now)
    ).returning(VendorConnection.id)
    # Auto-replies and short links need the parent's leave: everything the end user may have, it has.
    options = PartnerOptions(channels=["sms", "viber"], mo_enabled=True, auto_replies=True, flash_sms=True)
    await Partner.update({Partner.options: msgspec.to_builtins(options)}).where(Partner.id == world.a.end_user_id)
    actor = await actor_of(world.a)
    reply = await create_reply(actor, ReplyCreate(name="Opening hours", keywords="hours", text="Open 9-21"))
    domain = await create_domain(world.owner, ShortDomainCreate(host="go.a.test"))
    await grant(world.owner, domain.id, world.a.reseller_id)
    request = await ask(client, await api_token(client, world.a.end_user_admin))
    assert request.status_code == 201, request.text
    reseller = await actor_of(world.a, world.a.reseller_admin)
    offer = await packs.create_offer(
        reseller,
        PackCreate(
            name="Spain 1000", channel="sms", country_iso="ES", networks=["21401"], price=Decimal(5), messages=1000
        ),
    )
    await adjust_balance(reseller, world.a.end_user_id, BalanceAdjustment(amount=Decimal(50), reason="Top up"))
    await purchase.buy_pack(await actor_of(world.a), offer.id)
    world.a.offer_id = offer.id  # type: ignore[attr-defined]
    world.a.campaign_id = campaign.id  # type: ignore[attr-defined]
    world.a.template_id = template.id  # type: ignore[attr-defined]
    world.a.edr_id = edr[0]["id"]  # type: ignore[attr-defined]
    world.a.connection_id = connection[0]["id"]  # type: ignore[attr-defined]
    world.a.request_id = request.json()["id"]  # type: ignore[attr-defined]
    world.a.reply_id = reply.id  # type: ignore[attr-defined]
    world.a.short_domain_id = domain.id  # type: ignore[attr-defined]
    world.a.ledger_entry_id = (await LedgerEntry.select(LedgerEntry.id).first())["id"]  # type: ignore[attr-defined]


def page_urls(app: object, world: World) -> list[str]:
    """Every GET page route of the app, with tenant A's ids in it."""
    urls = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods or SKIPPED.search(route.path):
            continue
        params = _PARAM.findall(route.path)
        if any(p not in ID_PROVIDERS for p in params):
            continue
        urls.append(_PARAM.sub(lambda m: str(ID_PROVIDERS[m.group(1)](world.a)), route.path))
    return sorted(set(urls))


# Attributes a reader sees or hears, and the data attributes whose text the pages' scripts show
# (core/web/static/*.js, campaigns/wizard.js: confirmations, counters, labels they swap in).
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
SCRIPT_TEXTS = {
    "data-confirm",
    "data-never",
    "data-until",
    "data-done",
    "data-template-all",
    "data-template-one",
    "data-template-many",
    "data-promotion",
    "data-transaction",
    *(f"data-parts-{category}" for category in ("one", "two", "few", "many", "other")),
}
_BUTTON_INPUTS = {"submit", "button", "reset"}


@dataclass(frozen=True)
class Shown:
    where: str  # "text", "code" (inside <pre> or <code>) or the attribute's name
    text: str


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Shown] = []
        self.hidden = 0  # inside <script> or <style>
        self.code = 0  # inside <pre> or <code>: programs and field names read the same in every language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self.hidden += 1
        if tag in ("pre", "code"):
            self.code += 1
        for name, value in values.items():
            if name in SHOWN_ATTRIBUTES or name in SCRIPT_TEXTS:
                self.found.append(Shown(name, value))
        if tag == "input" and values.get("type") in _BUTTON_INPUTS and "value" in values:
            self.found.append(Shown("value", values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1
        if tag in ("pre", "code") and self.code:
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.found.append(Shown("code" if self.code else "text", data))


def shown_texts(html: str) -> list[Shown]:
    """The visible text nodes and the shown attributes of a page, entities decoded."""
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return [shown for shown in parser.found if shown.text.strip()]
