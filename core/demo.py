"""Demo data for a newcomer: an owner, a branded reseller, an end-user company with two users."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from core.accounts import services as accounts
from core.accounts.bootstrap import create_owner, owner_actor
from core.accounts.schemas import UserCreate
from core.accounts.tables import User
from core.actor import Actor
from core.billing import packs, payments, rates
from core.billing import services as billing
from core.billing.pack_schemas import PackCreate
from core.billing.rate_schemas import RateIn, RatePlanCreate
from core.billing.schemas import BalanceAdjustment, PaymentAccountIn
from core.contacts.groups import create_group
from core.contacts.schemas import ContactIn, GroupIn
from core.contacts.services import create_contact
from core.db import must_exist
from core.dispatch.connections import ConnectionIn, create_connection
from core.message_templates.replies import create_reply
from core.message_templates.reply_schemas import ReplyCreate
from core.message_templates.tables import VendorTemplate
from core.numbering import services as numbering
from core.plugins import registries
from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from core.tenancy import services as tenancy
from core.tenancy import short_domains
from core.tenancy.schemas import PartnerCreate, PartnerOptions, PortalCreate, ShortDomainCreate


class DemoAccount(msgspec.Struct, kw_only=True):
    portal: str
    url: str
    email: str
    password: str
    role: str
    partner: str


STAND_IN_PAYMENTS_PORT = 12111  # the payment system stand-in's, unless PORTAL_STANDIN_PAYMENTS_PORT
STAND_IN_SMSC_PORT = 2775  # `portal run` in dev mode starts the stand-in SMSC here, unless PORTAL_STANDIN_SMS_PORT
STAND_IN_VIBER_PORT = 8781  # … and the stand-in Viber aggregator here, unless PORTAL_STANDIN_VIBER_PORT
STAND_IN_WHATSAPP_PORT = 8782  # … and the stand-in WhatsApp Cloud API here, unless PORTAL_STANDIN_WHATSAPP_PORT
# `portal simulate`'s default ports, the demo's.
STAND_IN_PORTS = {
    "sms": STAND_IN_SMSC_PORT,
    "viber": STAND_IN_VIBER_PORT,
    "whatsapp": STAND_IN_WHATSAPP_PORT,
    "payments": STAND_IN_PAYMENTS_PORT,
}
DEMO_SHORT_DOMAIN = "go.localhost"

# Packs Skyline offers its clients (Acme's Purchase screen), and one the owner offers Skyline (BIL-3).
DEMO_PACKS = (
    PackCreate(
        name="Spain SMS 1000", channel="sms", country_iso="ES", price=Decimal(38), messages=1000, validity_days=365
    ),
    PackCreate(
        name="Spain Vodafone 500",
        channel="sms",
        country_iso="ES",
        networks=["21401"],
        price=Decimal(16),
        messages=500,
        mode="delivered",
        validity_days=30,
    ),
    PackCreate(name="Germany SMS 250", channel="sms", country_iso="DE", price=Decimal("17.50"), messages=250),
    PackCreate(
        name="Viber Spain 300", channel="viber", country_iso="ES", price=Decimal(5), messages=300, validity_days=90
    ),
)
OWNER_DEMO_PACK = PackCreate(
    name="Wholesale Spain 100k",
    channel="sms",
    country_iso="ES",
    price=Decimal(2900),
    messages=100_000,
    validity_days=365,
)
OWNER = UserCreate(email="owner@demo.localhost", first_name="Olivia", last_name="Owner", password="owner-demo-pass")
RESELLER = UserCreate(
    email="admin@skyline.localhost", first_name="Rafael", last_name="Reseller", password="skyline-demo-pass"
)
ACME_ADMIN = UserCreate(email="anna@acme.localhost", first_name="Anna", last_name="Admin", password="acme-admin-pass")
ACME_OPERATOR = UserCreate(
    email="oleg@acme.localhost", first_name="Oleg", last_name="Operator", password="acme-operator-pass", role="operator"
)


# The demo's SMS prices (EUR per segment): a few networks and one country-wide All networks rate.
DEMO_RATES = (
    RateIn(country_iso="ES", mcc="214", mnc="07", price=Decimal("0.032")),
    RateIn(country_iso="ES", mcc="214", mnc="01", price=Decimal("0.034")),
    RateIn(country_iso="ES", mcc="214", price=Decimal("0.045")),
    RateIn(country_iso="DE", mcc="262", price=Decimal("0.075")),
    RateIn(country_iso="GB", mcc="234", price=Decimal("0.038")),
    RateIn(country_iso="BA", mcc="218", mnc="90", price=Decimal("0.052")),
    RateIn(country_iso="BA", mcc="218", price=Decimal("0.06")),
)

# Viber is charged per message, on delivery.
DEMO_VIBER_RATES = (
    RateIn(country_iso="ES", mcc="214", price=Decimal("0.018")),
    RateIn(country_iso="DE", mcc="262", price=Decimal("0.025")),
    RateIn(country_iso="GB", mcc="234", price=Decimal("0.022")),
    RateIn(country_iso="BA", mcc="218", price=Decimal("0.02")),
)

# WhatsApp too, per template message delivered (utility rates; Meta prices marketing higher).
DEMO_WHATSAPP_RATES = (
    RateIn(country_iso="ES", mcc="214", price=Decimal("0.02")),
    RateIn(country_iso="DE", mcc="262", price=Decimal("0.055")),
    RateIn(country_iso="GB", mcc="234", price=Decimal("0.022")),
    RateIn(country_iso="BA", mcc="218", price=Decimal("0.03")),
)


async def seed_demo(port: int = 8000) -> list[DemoAccount]:
    """Create the demo tree once; later calls only list the accounts."""
    if not (await numbering.summary()).countries:
        await numbering.load_seed()  # the numbering book the project ships
    owner = await owner_actor()
    if owner is None:
        owner = await create_owner("Campaign Portal Owner", "EUR", OWNER)
        demo_portal = await tenancy.create_portal(
            owner,
            PortalCreate(
                slug="demo",
                brand_name="Campaign Portal Demo",
                hosts=["demo.localhost", "localhost", "127.0.0.1"],
                help_email="help@demo.localhost",
                terms_url="https://demo.localhost/terms",
                self_registration=True,
            ),
        )
        channels = registries().channels.names()
        skyline = await tenancy.create_partner(
            owner,
            PartnerCreate(
                name="Skyline Messaging",
                kind="reseller",
                portal_id=demo_portal.id,
                options=PartnerOptions(channels=channels, mo_enabled=True, auto_replies=True, flash_sms=True),
            ),
        )
        await accounts.create_user(owner, skyline.id, RESELLER)
        await billing.adjust_balance(
            owner, skyline.id, BalanceAdjustment(amount=Decimal(5000), reason="Demo opening balance")
        )
        reseller = await accounts.load_actor(
            (await accounts.list_users(owner, skyline.id)).items[0].id, 0, check_portal=False
        )
        assert reseller is not None
        skyline_portal = await tenancy.create_portal(
            reseller,
            PortalCreate(
                slug="skyline",
                brand_name="Skyline Messaging",
                hosts=["reseller.localhost"],
                theme="skyline",
                help_email="support@skyline.localhost",
            ),
        )
        acme = await tenancy.create_partner(
            reseller,
            PartnerCreate(
                name="Acme Retail",
                kind="end_user",
                portal_id=skyline_portal.id,
                options=PartnerOptions(channels=channels, mo_enabled=True, auto_replies=True, flash_sms=True),
            ),
        )
        await accounts.create_user(reseller, acme.id, ACME_ADMIN)
        # A short domain granted down to Acme, so that its campaigns can shorten a link (URL-1).
        short = await short_domains.create_domain(owner, ShortDomainCreate(host=DEMO_SHORT_DOMAIN))
        await short_domains.grant(owner, short.id, skyline.id)
        await short_domains.grant(reseller, short.id, acme.id)
        await accounts.create_user(reseller, acme.id, ACME_OPERATOR)
        await billing.adjust_balance(
            reseller, acme.id, BalanceAdjustment(amount=Decimal(250), reason="Demo opening balance")
        )
        plan = await rates.create_plan(owner, RatePlanCreate(name="Standard SMS", channel="sms", mode="submitted"))
        for rate in DEMO_RATES:
            await rates.add_rate(owner, plan.id, rate)
        await rates.assign_plan(owner, plan.id, skyline.id)
        await rates.assign_plan(owner, plan.id, acme.id)
        if "viber" in channels:
            viber = await rates.create_plan(
                owner, RatePlanCreate(name="Standard Viber", channel="viber", mode="delivered")
            )
            for rate in DEMO_VIBER_RATES:
                await rates.add_rate(owner, viber.id, rate)
            await rates.assign_plan(owner, viber.id, skyline.id)
            await rates.assign_plan(owner, viber.id, acme.id)
        if "whatsapp" in channels:
            whatsapp = await rates.create_plan(
                owner, RatePlanCreate(name="Standard WhatsApp", channel="whatsapp", mode="delivered")
            )
            for rate in DEMO_WHATSAPP_RATES:
                await rates.add_rate(owner, whatsapp.id, rate)
            await rates.assign_plan(owner, whatsapp.id, skyline.id)
            await rates.assign_plan(owner, whatsapp.id, acme.id)
        for offer in DEMO_PACKS:
            if offer.channel in channels:
                await packs.create_offer(reseller, offer)
        await packs.create_offer(owner, OWNER_DEMO_PACK)
        # A plan of Skyline's own that its clients may pick themselves: Acme's Purchase screen offers it.
        premium = await rates.create_plan(
            reseller, RatePlanCreate(name="Skyline SMS Premium", channel="sms", selectable=True)
        )
        for rate in DEMO_RATES[:4]:
            await rates.add_rate(
                reseller, premium.id, msgspec.structs.replace(rate, price=rate.price + Decimal("0.01"))
            )
        await seed_sending(owner, acme.id)
        await seed_payments(owner)
    demo_url, skyline_url = f"http://demo.localhost:{port}", f"http://reseller.localhost:{port}"
    return [
        DemoAccount(
            portal="Campaign Portal Demo",
            url=demo_url + "/admin",
            email=OWNER.email,
            password=OWNER.password,
            role="system owner admin",
            partner="Campaign Portal Owner",
        ),
        DemoAccount(
            portal="Skyline Messaging",
            url=skyline_url + "/admin",
            email=RESELLER.email,
            password=RESELLER.password,
            role="reseller admin",
            partner="Skyline Messaging",
        ),
        DemoAccount(
            portal="Skyline Messaging",
            url=skyline_url + "/",
            email=ACME_ADMIN.email,
            password=ACME_ADMIN.password,
            role="end-user admin",
            partner="Acme Retail",
        ),
        DemoAccount(
            portal="Skyline Messaging",
            url=skyline_url + "/",
            email=ACME_OPERATOR.email,
            password=ACME_OPERATOR.password,
            role="end-user operator",
            partner="Acme Retail",
        ),
    ]


async def seed_sending(owner: Actor, company_id: int) -> None:
    """What a first campaign needs: sender IDs, a small contact group, and the local stand-ins (an SMSC and a
    Viber aggregator) as vendors."""
    await create_sender(owner, company_id, SenderCreate(channel="sms", name="ACME"))
    if "viber" in registries().channels:
        await create_sender(owner, company_id, SenderCreate(channel="viber", name="ACME Shop"))
    if "whatsapp" in registries().channels:
        await create_sender(owner, company_id, SenderCreate(channel="whatsapp", name="34910000000"))
    admin = must_exist(await User.select(User.id).where(User.email == ACME_ADMIN.email).first())
    company = await accounts.load_actor(admin["id"], 0, check_portal=False)
    assert company is not None, "the demo's company admin was just created active"
    group = await create_group(company, GroupIn(name="Newsletter"))
    for phone, first_name in (("+34607000001", "Lucia"), ("+34615000002", "Mateo"), ("+4915100000003", "Jonas")):
        await create_contact(company, ContactIn(phone=phone, groups=[group.id], first_name=first_name))
    # Replies to the demo's MO: an opt-out that blocks the sender ID for the number, and answers to questions.
    await create_reply(
        company,
        ReplyCreate(
            name="Opt-out",
            keywords="stop, unsubscribe",
            priority=9,
            text="You will get no more offers from ACME. Reply START to come back.",
            action="unsubscribe",
        ),
    )
    await create_reply(
        company, ReplyCreate(name="Welcome back", keywords="start", text="Welcome back!", action="subscribe")
    )
    await create_reply(
        company,
        ReplyCreate(name="Opening hours", keywords="hours, open", text="We are open 9:00-21:00, Monday to Saturday."),
    )
    # Another port for the demo's stand-in: two demos on one machine (tests running side by side) must not share one.
    port = int(os.environ.get("PORTAL_STANDIN_SMS_PORT") or STAND_IN_SMSC_PORT)
    stand_in = {"host": "127.0.0.1", "port": port, "system_id": "portal", "password": "secret"}
    await create_connection(owner, ConnectionIn(channel="sms", name="Stand-in SMSC", settings=stand_in))
    if "viber" in registries().channels:
        viber_port = int(os.environ.get("PORTAL_STANDIN_VIBER_PORT") or STAND_IN_VIBER_PORT)
        # The stand-in's own defaults (plugins/viber/simulator.py): its API key and the secret it signs with.
        viber = {
            "api_url": f"http://127.0.0.1:{viber_port}",
            "api_key": "demo-key",
            "webhook_secret": "viber-demo-secret",
        }
        await create_connection(owner, ConnectionIn(channel="viber", name="Stand-in Viber", settings=viber))
    if "whatsapp" in registries().channels:
        whatsapp_port = int(os.environ.get("PORTAL_STANDIN_WHATSAPP_PORT") or STAND_IN_WHATSAPP_PORT)
        # The stand-in's own defaults (plugins/whatsapp/simulator.py): token, ids, app secret and verify token.
        whatsapp = {
            "api_url": f"http://127.0.0.1:{whatsapp_port}",
            "access_token": "demo-token",
            "phone_number_id": "100200300",
            "business_account_id": "900800700",
            "app_secret": "whatsapp-demo-secret",
            "verify_token": "whatsapp-demo-verify",
        }
        connection = await create_connection(
            owner, ConnectionIn(channel="whatsapp", name="Stand-in WhatsApp", settings=whatsapp)
        )
        # One template Meta has approved already, so that a WhatsApp campaign can be sent at once.
        await approved_template(company_id, connection.id)


async def approved_template(company_id: int, connection_id: int) -> None:
    now = datetime.now(UTC)
    await VendorTemplate.insert(
        VendorTemplate(
            partner=company_id,
            channel="whatsapp",
            connection=connection_id,
            name="order_update",
            language="en_US",
            category="utility",
            body="Hi {{1}}, your order {{2}} is on its way. Reply STOP to opt out.",
            status="approved",
            vendor_template_id="demo-1",
            created_at=now,
            updated_at=now,
        )
    )


async def seed_payments(owner: Actor) -> None:
    """The owner's payment account, on the local Stripe stand-in: its partners (and theirs, whose own provider
    offers none) top up through it."""
    if "stripe" not in registries().payment_providers:
        return
    port = int(os.environ.get("PORTAL_STANDIN_PAYMENTS_PORT") or STAND_IN_PAYMENTS_PORT)
    # The stand-in's own test key and signing secret (plugins/payments/stand_in.py), as Stripe's dashboard shows them.
    settings = {
        "secret_key": "sk_test_standin",
        "webhook_secret": "whsec_standin",
        "currency": "EUR",
        "api_base": f"http://127.0.0.1:{port}",
    }
    await payments.save_payment_account(
        owner, PaymentAccountIn(provider="stripe", name="Card payments (stand-in)", settings=settings)
    )
