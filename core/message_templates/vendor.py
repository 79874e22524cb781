"""Vendor templates (CHN-3): a partner's WhatsApp templates, submitted through the channel for approval, their
verdicts recorded from the vendor's answer and webhooks; campaigns may use only approved ones."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from core.actor import Actor
from core.db import is_sqlite, unique_or, write_transaction
from core.errors import Conflict, InvalidInput, NotFound, ProviderError
from core.message_templates.schemas import SCHEDULED_USERS, TemplateUser, users_named
from core.message_templates.tables import VendorTemplate
from core.message_templates.vendor_schemas import (
    TemplateButton,
    TemplateHeader,
    VendorTemplateCreate,
    VendorTemplateView,
)
from core.portal import Portal
from core.providers import (
    TemplateChannel,
    TemplateRemoval,
    TemplateReview,
    TemplateSubmission,
    template_param_numbers,
)
from core.rawsql import RawSql
from core.tenancy import audit
from core.tenancy.scope import owned, require_admin
from core.web.i18n import N_, Message

STATUSES = ("pending", "approved", "rejected")

# What still sends a vendor template (a scheduled or running campaign), looked up by partner, channel, name and
# language before it is deleted. Campaigns register their look-up here at import, so this module knows nothing
# of them.
VENDOR_TEMPLATE_USERS: list[Callable[[int, str, str, str], Awaitable[list[TemplateUser]]]] = []


# An authentication template's text is Meta's own, {{1}} the code (in the template's language on the phone); the
# footer, when the code expires, too. Stored as such, so that the tiles, the wizard and campaigns read them.
AUTH_BODY = "{{1}} is your verification code."
AUTH_SECURITY = " For your security, do not share this code."
AUTH_FOOTER = "This code expires in {} minutes."
_AUTH_FOOTER = re.compile(r"^This code expires in (\d+) minutes\.$")
COPY_CODE = "Copy code"  # the copy-code button's caption when none is given


def auth_body(security: bool) -> str:
    return AUTH_BODY + (AUTH_SECURITY if security else "")


def _expiry(category: str, footer: str) -> int | None:
    found = _AUTH_FOOTER.match(footer) if category == "authentication" else None
    return int(found[1]) if found else None


def view(row: dict[str, Any]) -> VendorTemplateView:
    authentication = row["category"] == "authentication"
    return VendorTemplateView(
        id=row["id"],
        channel=row["channel"],
        name=row["name"],
        language=row["language"],
        category=row["category"],
        body=row["body"],
        header=msgspec.json.decode(row["header"], type=TemplateHeader) if row["header"] else None,
        footer=row["footer"],
        buttons=msgspec.json.decode(row["buttons"], type=list[TemplateButton]),
        add_security_recommendation=authentication and row["body"] == auth_body(True),
        code_expiration_minutes=_expiry(row["category"], row["footer"]),
        params=len(template_param_numbers(row["body"])),
        status=row["status"],
        reason=row["reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_vendor_templates(actor: Actor, channel: str = "", status: str = "") -> list[VendorTemplateView]:
    """The company's vendor templates, newest first; ``status`` "approved" gives those a campaign may use."""
    where: Combinable = owned(VendorTemplate, actor)
    if channel:
        where &= VendorTemplate.channel == channel
    if status:
        where &= VendorTemplate.status == status
    rows = await VendorTemplate.select().where(where).order_by(VendorTemplate.id, ascending=False)
    return [view(r) for r in rows]


async def own_vendor_template(actor: Actor, template_id: int) -> dict[str, Any]:
    row = await VendorTemplate.select().where((VendorTemplate.id == template_id) & owned(VendorTemplate, actor)).first()
    if row is None:
        raise NotFound("Vendor template")
    return row


async def get_vendor_template(actor: Actor, template_id: int) -> VendorTemplateView:
    return view(await own_vendor_template(actor, template_id))


def filled(body: str, params: list[str]) -> str:
    """The body with parameter n replaced by ``params[n-1]`` (an unfilled one left empty): a campaign's text."""
    return re.sub(r"\{\{\s*(\d+)\s*\}\}", lambda m: params[int(m[1]) - 1] if int(m[1]) <= len(params) else "", body)


def _check_body(body: str) -> None:
    numbers = template_param_numbers(body)
    if numbers != list(range(1, len(numbers) + 1)):
        raise InvalidInput(N_("Number the parameters {{1}}, {{2}}… without gaps"), field="body")


_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _authentication(data: VendorTemplateCreate) -> VendorTemplateCreate:
    """An authentication template as Meta builds it: its fixed text (the security sentence if asked), the code's
    expiry as its footer, and one copy-code button; each refusal names its field."""
    body = auth_body(data.add_security_recommendation)
    if data.body and data.body != body:
        raise InvalidInput(
            N_("An authentication template's text is WhatsApp's own: leave the body empty"), field="body"
        )
    if data.header:
        raise InvalidInput(N_("An authentication template takes no header"), field="header")
    minutes = data.code_expiration_minutes
    if data.footer and data.footer != (AUTH_FOOTER.format(minutes) if minutes else ""):
        raise InvalidInput(
            N_("An authentication template's footer is when its code expires: give the minutes instead"),
            field="footer",
        )
    buttons = data.buttons or [TemplateButton(kind="copy_code", text=COPY_CODE)]
    for n, button in enumerate(buttons):
        if button.kind != "copy_code" or button.url or button.phone_number or n:
            raise InvalidInput(N_("An authentication template has one button: copy code"), field=f"buttons.{n}")
    return msgspec.structs.replace(
        data, body=body, footer=AUTH_FOOTER.format(minutes) if minutes else "", buttons=buttons
    )


def _check_parts(data: VendorTemplateCreate) -> None:
    """Meta's rules for the body, header, footer and buttons of a utility or marketing template, each refusal
    naming its field."""
    if not data.body.strip():
        raise InvalidInput(N_("Write the template's text"), field="body")
    if data.add_security_recommendation:
        raise InvalidInput(N_("Only an authentication template has this"), field="add_security_recommendation")
    if data.code_expiration_minutes is not None:
        raise InvalidInput(N_("Only an authentication template has this"), field="code_expiration_minutes")
    header = data.header
    if header is not None:
        if header.kind == "text":
            if not header.text.strip() or template_param_numbers(header.text) not in ([], [1]) or header.url:
                raise InvalidInput(
                    N_("A text header needs its text, with at most the parameter {{1}}"), field="header.text"
                )
        elif header.kind == "location":
            if header.text or header.url:
                raise InvalidInput(N_("A location header has neither text nor link"), field="header")
        elif not header.url.startswith("https://") or header.text:
            raise InvalidInput(N_("A media header needs its link, starting with https://"), field="header.url")
    if template_param_numbers(data.footer):
        raise InvalidInput(N_("The footer takes no parameters"), field="footer")
    kinds = [button.kind for button in data.buttons]
    for n, button in enumerate(data.buttons):
        if button.kind == "url" and not _link_ok(button.url):
            raise InvalidInput(
                N_("A link starting with https://, with at most the parameter {{1}} at its end"),
                field=f"buttons.{n}.url",
            )
        if button.kind == "phone_number" and not _PHONE.match(button.phone_number):
            raise InvalidInput(
                N_("A phone number in international format, such as +34600000000"), field=f"buttons.{n}.phone_number"
            )
        if button.kind == "copy_code":
            raise InvalidInput(N_("Only an authentication template has a copy code button"), field=f"buttons.{n}.kind")
        if (button.kind != "url" and button.url) or (button.kind != "phone_number" and button.phone_number):
            raise InvalidInput(
                N_("Only a link button has a link and only a phone button a number"), field=f"buttons.{n}"
            )
        if kinds[: n + 1].count("url") > 2 or kinds[: n + 1].count("phone_number") > 1:
            raise InvalidInput(N_("At most 2 link buttons and 1 phone button"), field=f"buttons.{n}")


def _link_ok(url: str) -> bool:
    numbers = template_param_numbers(url)
    return url.startswith("https://") and (not numbers or (numbers == [1] and url.rstrip().endswith("}}")))


def components(data: VendorTemplateCreate) -> list[dict[str, Any]]:
    """The template as Meta's components (HEADER, BODY, FOOTER, BUTTONS), each parameter with the example Meta
    asks for; an authentication template's are Meta's flags instead of its texts."""
    if data.category == "authentication":
        auth: list[dict[str, Any]] = [{"type": "BODY", "add_security_recommendation": data.add_security_recommendation}]
        if data.code_expiration_minutes:
            auth.append({"type": "FOOTER", "code_expiration_minutes": data.code_expiration_minutes})
        otp = [{"type": "OTP", "otp_type": "COPY_CODE", "text": b.text} for b in data.buttons]
        return [*auth, {"type": "BUTTONS", "buttons": otp}]
    body, header, footer, buttons = data.body, data.header, data.footer, data.buttons
    parts: list[dict[str, Any]] = []
    if header is not None:
        head: dict[str, Any] = {"type": "HEADER", "format": header.kind.upper()}
        if header.kind == "text":
            head["text"] = header.text
            if template_param_numbers(header.text):
                head["example"] = {"header_text": ["1"]}
        elif header.kind != "location":
            head["example"] = {"header_handle": [header.url]}
        parts.append(head)
    parts.append({"type": "BODY", "text": body})
    if footer:
        parts.append({"type": "FOOTER", "text": footer})
    if buttons:
        rows: list[dict[str, Any]] = []
        for button in buttons:
            row: dict[str, Any] = {"type": button.kind.upper(), "text": button.text}
            if button.kind == "url":
                row["url"] = button.url
                if template_param_numbers(button.url):
                    row["example"] = [filled(button.url, ["1"])]
            elif button.kind == "phone_number":
                row["phone_number"] = button.phone_number
            rows.append(row)
        parts.append({"type": "BUTTONS", "buttons": rows})
    return parts


async def create_vendor_template(
    portal: Portal, actor: Actor, data: VendorTemplateCreate, *, ip: str = ""
) -> VendorTemplateView:
    """Store the template as pending and submit it through the channel's first enabled connection; the vendor's
    verdict comes with its answer or later by webhook (``record_reviews``)."""
    provider = portal.registries.channels.get(data.channel)
    if provider is None or not isinstance(provider, TemplateChannel):
        raise InvalidInput(f"Templates are not approved by the vendor on the channel {data.channel!r}", field="channel")
    if data.category == "authentication":
        data = _authentication(data)
    else:
        _check_parts(data)
    _check_body(data.body)
    connections = await portal.vendor_connections(data.channel)
    if not connections:
        raise InvalidInput(N_("No vendor account takes templates on this channel yet"), field="channel")
    connection = connections[0]
    taken = Conflict(N_("The vendor's account already has a template of this name and language"), field="name")
    now = datetime.now(UTC)
    with unique_or(taken):
        async with write_transaction():
            if await VendorTemplate.exists().where(
                (VendorTemplate.connection == connection.id)
                & (VendorTemplate.name == data.name)
                & (VendorTemplate.language == data.language)
            ):
                raise taken
            rows = await VendorTemplate.insert(
                VendorTemplate(
                    partner=actor.partner_id,
                    channel=data.channel,
                    connection=connection.id,
                    name=data.name,
                    language=data.language,
                    category=data.category,
                    body=data.body,
                    header=msgspec.json.encode(data.header).decode() if data.header else "",
                    footer=data.footer,
                    buttons=msgspec.json.encode(data.buttons).decode(),
                    status="pending",
                    created_by=actor.user_id,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(VendorTemplate.id)
            template_id = rows[0]["id"]
            await audit.record(
                actor,
                "vendor_template.create",
                f"Submitted template {data.name!r} ({data.language}) for approval",
                object_type="vendor_template",
                object_id=template_id,
                ip=ip,
                name=data.name,
                params={"language": data.language},
            )
    submission = TemplateSubmission(
        name=data.name,
        language=data.language,
        category=data.category.upper(),
        components=components(data),
    )
    try:
        review = await provider.submit_template(connection, submission)
    except ProviderError as exc:
        review = TemplateReview(vendor_template_id="", status="rejected", reason=exc.detail)
    await _record_answer(template_id, review)
    return await get_vendor_template(actor, template_id)


async def _record_answer(template_id: int, review: TemplateReview) -> None:
    """The submission's answer: its id, and its verdict unless a webhook already brought a later one."""
    async with write_transaction() as tx:
        await RawSql(tx.connection, sqlite=is_sqlite()).execute(
            "UPDATE vendor_template SET vendor_template_id = $1, updated_at = $2,"
            " status = CASE WHEN status = 'pending' THEN $3 ELSE status END,"
            " reason = CASE WHEN status = 'pending' THEN $4 ELSE reason END WHERE id = $5",
            review.vendor_template_id[:64],
            datetime.now(UTC),
            review.status,
            review.reason[:200],
            template_id,
        )


async def record_reviews(connection_id: int, reviews: tuple[TemplateReview, ...]) -> int:
    """The vendor's verdicts from a webhook of one connection: only its own templates change, found by the
    vendor's id or, when the verdict overtook the submission's answer, by name and language. How many changed."""
    changed = 0
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        for review in reviews:
            if review.status not in STATUSES:
                continue
            changed += await sql.execute(
                "UPDATE vendor_template SET status = $1, reason = $2, updated_at = $3 WHERE connection = $4"
                " AND ((vendor_template_id = $5 AND vendor_template_id <> '') OR (name = $6 AND language = $7))",
                review.status,
                review.reason[:200],
                datetime.now(UTC),
                connection_id,
                review.vendor_template_id,
                review.name,
                review.language,
            )
    return changed


async def vendor_template_users(actor: Actor, template_id: int) -> list[TemplateUser]:
    """The campaigns that would lose this template if it were deleted now: scheduled ones, and those sending."""
    return await _users(await own_vendor_template(actor, template_id))


async def _users(row: dict[str, Any]) -> list[TemplateUser]:
    found: list[TemplateUser] = []
    for look_up in VENDOR_TEMPLATE_USERS:
        found.extend(await look_up(row["partner"], row["channel"], row["name"], row["language"]))
    return found


async def delete_vendor_template(
    portal: Portal, actor: Actor, template_id: int, *, force: bool = False, ip: str = ""
) -> None:
    """Delete a vendor template, from the vendor's account first (when its channel can) and then here.

    As with campaign templates (TPL-5), scheduled campaigns that send it need ``force`` (the user was warned;
    they fail when they are due to start); one still sending it refuses the deletion outright, since its remaining
    messages would be refused by the vendor.

    Raises:
        Forbidden: an operator asked. Conflict: campaigns use it. ProviderError: the vendor refused or cannot be
        reached; nothing was deleted.
    """
    require_admin(actor, "delete WhatsApp templates")
    row = await own_vendor_template(actor, template_id)
    users = await _users(row)
    sending = [u for u in users if u.sending]
    if sending:
        raise Conflict(
            Message(
                N_("Campaigns still sending use this template: %(names)s. Wait until they finish or cancel them."),
                {"names": users_named(sending)},
            ),
            field="vendor_template_id",
        )
    if users and not force:
        raise Conflict(Message(SCHEDULED_USERS, {"names": users_named(users)}), field="force")
    provider = portal.registries.channels.get(row["channel"])
    if row["vendor_template_id"] and isinstance(provider, TemplateRemoval):
        # Through the connection it was submitted to; one since removed or disabled holds nothing to delete.
        connections = await portal.vendor_connections(row["channel"])
        for connection in (c for c in connections if c.id == row["connection"]):
            await provider.delete_template(connection, row["name"], row["vendor_template_id"])
    async with write_transaction():
        await VendorTemplate.delete().where(VendorTemplate.id == template_id)
        await audit.record(
            actor,
            "vendor_template.delete",
            f"Deleted template {row['name']!r} ({row['language']})",
            object_type="vendor_template",
            object_id=template_id,
            ip=ip,
            name=row["name"],
            params={"language": row["language"]},
        )


async def vendor_template_kept(partner_id: int, channel: str, name: str, language: str) -> bool:
    """Whether the partner still has this vendor template: a scheduled campaign sending a deleted one fails at
    launch."""
    return bool(
        await VendorTemplate.exists().where(
            (VendorTemplate.partner == partner_id)
            & (VendorTemplate.channel == channel)
            & (VendorTemplate.name == name)
            & (VendorTemplate.language == language)
        )
    )
