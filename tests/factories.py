"""A world of two reseller tenants under one owner, built through the real services."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from core.accounts.api_keys import ApiKeyCreate, create_key
from core.accounts.bootstrap import create_owner
from core.accounts.passwords import hash_password
from core.accounts.schemas import UserCreate
from core.accounts.services import load_actor
from core.accounts.tables import User
from core.actor import Actor
from core.billing.rate_schemas import RateIn, RatePlanCreate
from core.billing.rates import add_rate, assign_plan, create_plan
from core.billing.schemas import BalanceAdjustment
from core.billing.services import adjust_balance
from core.contacts.fields import create_field
from core.contacts.groups import create_group
from core.contacts.imports import create_import
from core.contacts.schemas import ContactIn, FieldIn, GroupIn
from core.contacts.services import create_contact
from core.numbering.services import list_networks, load_book
from core.senders.schemas import SenderCreate
from core.senders.services import create_sender
from core.settings import load_settings
from core.tenancy.schemas import PartnerCreate, PortalCreate
from core.tenancy.services import create_partner, create_portal

PASSWORD = "correct-horse-battery"
TINY_BOOK = b"country_iso,country,dial_code,mcc,mnc,network,prefixes\nES,Spain,34,214,01,Vodafone,34607\n"
_hash_cache: list[str] = []


async def password_hash() -> str:
    """One real argon2 hash per run: seeding users should not cost 100 ms each."""
    if not _hash_cache:
        _hash_cache.append(await hash_password(PASSWORD))
    return _hash_cache[0]


async def add_user(partner_id: int, email: str, role: str = "admin", first_name: str = "Test") -> int:
    row = User(
        partner=partner_id,
        email=email,
        password_hash=await password_hash(),
        first_name=first_name,
        last_name="User",
        role=role,
        created_at=datetime.now(UTC),
    )
    await row.save()
    return row.id


@dataclass
class Tenant:
    """One reseller with its own portal and an end-user company under it."""

    tag: str
    host: str
    reseller_id: int
    portal_id: int
    end_user_id: int
    reseller_admin: str
    reseller_operator: str
    end_user_admin: str
    end_user_operator: str
    api_key_id: int
    api_key: str
    sender_id: int
    contact_id: int
    group_id: int
    field_id: int
    import_id: int
    rate_plan_id: int = 0
    rate_id: int = 0
    country_id: int = 0  # the owner's numbering book: the same rows for both tenants, never theirs
    network_id: int = 0


@dataclass
class World:
    owner: Actor
    owner_host: str
    owner_portal_id: int
    a: Tenant
    b: Tenant


async def make_world() -> World:
    owner = await create_owner(
        "Owner Co", "EUR", UserCreate(email="owner@main.test", first_name="Olga", last_name="Owner", password=PASSWORD)
    )
    main = await create_portal(owner, PortalCreate(slug="main", brand_name="Main Portal", hosts=["main.test"]))
    await load_book(None, TINY_BOOK)
    vodafone = (await list_networks(owner, query="Vodafone")).items[0]
    tenants = []
    for tag in ("a", "b"):
        reseller = await create_partner(owner, PartnerCreate(name=f"Reseller {tag.upper()}", kind="reseller"))
        admin = f"admin@{tag}.test"
        admin_id = await add_user(reseller.id, admin)
        await add_user(reseller.id, f"operator@{tag}.test", role="operator")
        reseller_actor = await load_actor(admin_id, 0, check_portal=False)
        assert reseller_actor is not None
        portal = await create_portal(
            reseller_actor, PortalCreate(slug=f"brand-{tag}", brand_name=f"Brand {tag}", hosts=[f"{tag}.test"])
        )
        end_user = await create_partner(
            reseller_actor, PartnerCreate(name=f"Company {tag.upper()}", kind="end_user", portal_id=portal.id)
        )
        end_user_admin_id = await add_user(end_user.id, f"user@{tag}.test")
        await add_user(end_user.id, f"op@{tag}.test", role="operator")
        end_user_actor = await load_actor(end_user_admin_id, portal.id)
        assert end_user_actor is not None
        key = await create_key(end_user_actor, ApiKeyCreate(name=f"Key {tag}", period="30d"))
        sender = await create_sender(owner, end_user.id, SenderCreate(channel="sms", name=f"Brand{tag.upper()}"))
        group = await create_group(end_user_actor, GroupIn(name=f"Customers {tag}"))
        field = await create_field(end_user_actor, FieldIn(name="Loyalty level"))
        contact = await create_contact(
            end_user_actor,
            ContactIn(phone=f"+3461234500{ord(tag) % 10}", groups=[group.id], first_name=f"Client {tag}"),
        )
        uploaded = await create_import(
            end_user_actor, "contacts.csv", b"Phone\n+34612345100\n", var_dir=load_settings().var_dir
        )
        await adjust_balance(owner, reseller.id, BalanceAdjustment(amount=Decimal(1000), reason="Opening balance"))
        plan = await create_plan(reseller_actor, RatePlanCreate(name=f"SMS {tag.upper()}", channel="sms"))
        rate = await add_rate(reseller_actor, plan.id, RateIn(country_iso="ES", mcc="214", price=Decimal("0.05")))
        await assign_plan(reseller_actor, plan.id, end_user.id)
        tenants.append(
            Tenant(
                tag=tag,
                host=f"{tag}.test",
                reseller_id=reseller.id,
                portal_id=portal.id,
                end_user_id=end_user.id,
                reseller_admin=admin,
                reseller_operator=f"operator@{tag}.test",
                end_user_admin=f"user@{tag}.test",
                end_user_operator=f"op@{tag}.test",
                api_key_id=key.api_key.id,
                api_key=key.key,
                sender_id=sender.id,
                contact_id=contact.id,
                group_id=group.id,
                field_id=field.id,
                import_id=uploaded.import_.id,
                rate_plan_id=plan.id,
                rate_id=rate.id,
                country_id=vodafone.country_id,
                network_id=vodafone.id,
            )
        )
    return World(owner=owner, owner_host="main.test", owner_portal_id=main.id, a=tenants[0], b=tenants[1])


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the real form, CSRF token included."""
    await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "next": "/", "_csrf_token": client.cookies.get("csrftoken", "")},
    )


def csrf(client: httpx.AsyncClient) -> str:
    return client.cookies.get("csrftoken", "")


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, object] | None = None) -> httpx.Response:
    """A form POST as a browser sends it after loading a page (the CSRF cookie exists by then)."""
    if not csrf(client):
        await client.get("/login")
    return await client.post(url, data={**(data or {}), "_csrf_token": csrf(client)})


async def api_token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    basic = base64.b64encode(f"{email}:{password}".encode()).decode()
    response = await client.post("/api/auth/login", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def outbox(to: str, template: str | None = None) -> list[dict]:
    """Mails rendered for ``to`` (newest first), as the outbox table holds them before and after delivery."""
    from core.mail.tables import MailMessage

    where = MailMessage.to_address == to
    if template:
        where &= MailMessage.template == template
    return await MailMessage.select().where(where).order_by(MailMessage.id, ascending=False)


def link_in(text: str) -> str:
    """The first https link with a token in a mail body, as a path (the test client has the host)."""
    import re

    match = re.search(r"https?://[^/\s]+(/[^\s\"<]*token=[\w-]+)", text)
    assert match, text
    return match.group(1)


async def set_portal_flags(portal_id: int, **flags: object) -> None:
    """Change a portal's settings the way the Admin Panel would, and drop the host cache."""
    from core.tenancy.resolver import resolver
    from core.tenancy.tables import PortalRecord

    await PortalRecord.update({getattr(PortalRecord, k): v for k, v in flags.items()}).where(
        PortalRecord.id == portal_id
    )
    resolver.clear()
