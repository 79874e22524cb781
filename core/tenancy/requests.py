"""Requests that travel up the partner tree (TEN-5): one mechanism for every kind, each kind acting on its outcome."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.actor import Actor
from core.db import json_value, starts_with, write_transaction
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.tenancy import audit
from core.tenancy.schemas import (
    LATER_STATUSES,
    OPEN_REQUEST_STATUSES,
    REQUEST_STATUS_LABELS,
    RequestAttachment,
    RequestDecision,
    RequestStatus,
    RequestView,
)
from core.tenancy.scope import in_subtree, require_manager
from core.tenancy.tables import Partner, PartnerRequest
from core.web.i18n import N_
from core.web.pagination import DEFAULT_PER_PAGE, Page, paginate

if TYPE_CHECKING:
    from core.portal import Portal

log = logging.getLogger(__name__)

ClosedCallback = Callable[[RequestView], Awaitable[None]]
DecisionListener = Callable[["Portal", RequestView], Awaitable[None]]


async def _nothing(_: RequestView) -> None:
    return None


@dataclass(frozen=True)
class RequestKind:
    """What a domain registers for its kind: a label, and what happens to its objects when a request ends.

    The callbacks run inside the transaction that ends the request, so the request and its effect commit together.
    """

    name: str
    label: str
    on_confirmed: ClosedCallback
    # Declined by a partner above, or canceled by the requester: undo what the request reserved.
    on_dropped: ClosedCallback = _nothing


_kinds: dict[str, RequestKind] = {}
_listeners: list[DecisionListener] = []


def register_kind(kind: RequestKind) -> None:
    """Called at start-up by the domain that owns the kind (tenancy must not import the domains above it)."""
    _kinds[kind.name] = kind


def kinds() -> dict[str, str]:
    """Registered kinds and their labels, for the inbox's filter."""
    return {name: kind.label for name, kind in _kinds.items()}


def add_decision_listener(listener: DecisionListener) -> None:
    """Called after a confirmation or a decline committed (the requester's e-mail is one)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _kind(name: str) -> RequestKind:
    kind = _kinds.get(name)
    if kind is None:
        raise InvalidInput(f"Unknown request kind {name!r}", field="kind")
    return kind


_COLUMNS = (
    *PartnerRequest.all_columns(),
    PartnerRequest.partner.name.as_alias("partner_name"),
    PartnerRequest.holder.name.as_alias("holder_name"),
)


def _view(row: dict[str, Any]) -> RequestView:
    kind = _kinds.get(row["kind"])
    return RequestView(
        id=row["id"],
        kind=row["kind"],
        kind_label=kind.label if kind else row["kind"],
        partner_id=row["partner"],
        partner_name=row["partner_name"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        status=row["status"],
        subject=row["subject"],
        reason=row["reason"],
        payload=json_value(row["payload"]) or {},
        attachments=[RequestAttachment(name=a["name"], size=a["size"]) for a in json_value(row["attachments"]) or []],
        requester_email=row["requester_email"],
        requester_language=row["requester_language"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def status_label(status: str) -> str:
    return REQUEST_STATUS_LABELS.get(status, status)


# Creating -----------------------------------------------------------------------------------------------------
async def create_request(
    actor: Actor,
    *,
    kind: str,
    subject: str,
    payload: dict[str, Any],
    attachments: list[dict[str, Any]] | None = None,
) -> int:
    """Put a request into the inbox of the actor's parent; call it inside the transaction that reserves its object.

    ``attachments``: ``[{"name", "path" (relative to the var dir), "size"}]``, files the caller already stored.
    """
    _kind(kind)
    own = await Partner.select(Partner.parent).where(Partner.id == actor.partner_id).first()
    if own is None or own["parent"] is None:
        raise Forbidden("The system owner has no one to ask; it sets these itself in the Admin Panel")
    now = datetime.now(UTC)
    rows = await PartnerRequest.insert(
        PartnerRequest(
            kind=kind,
            partner=actor.partner_id,
            partner_path=actor.partner_path,
            holder=own["parent"],
            status="new",
            subject=subject[:200],
            reason="",
            payload=payload,
            attachments=attachments or [],
            requester_user_id=actor.user_id,
            requester_email=actor.email,
            requester_language=actor.language,
            created_at=now,
            updated_at=now,
        )
    ).returning(PartnerRequest.id)
    request_id = int(rows[0]["id"])
    await audit.record(
        actor,
        "request.create",
        f"Requested {subject}",
        object_type="request",
        object_id=request_id,
        details={"kind": kind},
        name=subject,
    )
    return request_id


# Reading ------------------------------------------------------------------------------------------------------
def _filtered(where: Any, kind: str, status: str) -> Any:
    if kind:
        where &= PartnerRequest.kind == kind
    if status == "open":
        where &= PartnerRequest.status.is_in(list(OPEN_REQUEST_STATUSES))
    elif status:
        where &= PartnerRequest.status == status
    return where


async def list_inbox(
    actor: Actor,
    *,
    kind: str = "",
    status: str = "",
    held_only: bool = False,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[RequestView]:
    """Requests of the partners below the actor (ADM-1), newest first; ``held_only``: those waiting for it."""
    require_manager(actor)
    where = starts_with(PartnerRequest.partner_path, actor.partner_path) & (PartnerRequest.partner != actor.partner_id)
    if held_only:
        where &= PartnerRequest.holder == actor.partner_id
    found = await paginate(
        PartnerRequest.select(*_COLUMNS).order_by(PartnerRequest.id, ascending=False),
        _filtered(where, kind, status),
        page=page,
        per_page=per_page,
    )
    return found.with_items([_view(r) for r in found.items])


async def list_own(actor: Actor, *, kind: str = "", status: str = "") -> list[RequestView]:
    """The requests of the actor's own partner, newest first."""
    where = _filtered(PartnerRequest.partner == actor.partner_id, kind, status)
    rows = await PartnerRequest.select(*_COLUMNS).where(where).order_by(PartnerRequest.id, ascending=False)
    return [_view(r) for r in rows]


async def _row(actor: Actor, request_id: int) -> dict[str, Any]:
    """The request when it is the actor's own partner's or comes from below it, else NotFound."""
    row = (
        await PartnerRequest.select(*_COLUMNS)
        .where((PartnerRequest.id == request_id) & in_subtree(actor, PartnerRequest.partner_path))
        .first()
    )
    if row is None:
        raise NotFound("Request")
    return row


async def get_request(actor: Actor, request_id: int) -> RequestView:
    return _view(await _row(actor, request_id))


async def attachment(actor: Actor, request_id: int, index: int, var_dir: str) -> tuple[Path, str]:
    """The stored file and its name, for the requester and the partners above it."""
    row = await _row(actor, request_id)
    files = json_value(row["attachments"]) or []
    if not 0 <= index < len(files):
        raise NotFound("Attachment")
    path = Path(var_dir) / files[index]["path"]
    if not path.is_file():
        raise NotFound("Attachment")
    return path, files[index]["name"]


# Deciding -----------------------------------------------------------------------------------------------------
async def _move(row: dict[str, Any], to: str, *, holder: int, reason: str = "") -> None:
    """A conditional update: of two people deciding at once, the second finds the request no longer open."""
    changed = (
        await PartnerRequest.update(
            {
                PartnerRequest.status: to,
                PartnerRequest.holder: holder,
                PartnerRequest.reason: reason,
                PartnerRequest.updated_at: datetime.now(UTC),
            }
        )
        .where(
            (PartnerRequest.id == row["id"])
            & (PartnerRequest.status == row["status"])
            & (PartnerRequest.holder == row["holder"])
        )
        .returning(PartnerRequest.id)
    )
    if not changed:
        raise Conflict("Someone else decided this request a moment ago; reload it")


def _require_open(row: dict[str, Any]) -> None:
    if row["status"] not in OPEN_REQUEST_STATUSES:
        raise Conflict(f"This request is already {REQUEST_STATUS_LABELS[row['status']].lower()}")


async def decide(
    portal: Portal | None, actor: Actor, request_id: int, decision: RequestDecision, *, ip: str = ""
) -> RequestView:
    """The holder's decision: confirm (the owner only), decline with a reason, or pass up to its own parent."""
    row = await _row(actor, request_id)
    if row["partner"] == actor.partner_id:
        raise NotFound("Request")  # one's own requests are decided above, never in one's own inbox
    _require_open(row)
    if row["holder"] != actor.partner_id:
        raise Conflict(f"This request waits for {row['holder_name']}, not for you")
    kind = _kind(row["kind"])
    reason = decision.reason.strip()
    async with write_transaction():
        if decision.action == "confirm":
            if not actor.is_owner:
                raise Forbidden("Only the system owner confirms requests; pass it up instead")
            await _move(row, "confirmed", holder=row["holder"])
            await kind.on_confirmed(_view({**row, "status": "confirmed"}))
            summary = f"Confirmed the request of {row['partner_name']}: {row['subject']}"
        elif decision.action == "decline":
            if not reason:
                raise InvalidInput(N_("Give the reason for declining; the requester sees it"), field="reason")
            await _move(row, "declined", holder=row["holder"], reason=reason)
            await kind.on_dropped(_view({**row, "status": "declined", "reason": reason}))
            summary = f"Declined the request of {row['partner_name']}: {row['subject']} ({reason})"
        else:
            if actor.is_owner:
                raise Conflict("The system owner has no one to pass requests to; confirm or decline it")
            own = await Partner.select(Partner.parent).where(Partner.id == actor.partner_id).first()
            if own is None or own["parent"] is None:
                raise Conflict("There is no partner above yours to pass this request to")
            await _move(row, "in_progress", holder=own["parent"])
            summary = f"Passed up the request of {row['partner_name']}: {row['subject']}"
        await audit.record(
            actor,
            f"request.{decision.action}",
            summary,
            object_type="request",
            object_id=request_id,
            details={"kind": row["kind"], "reason": reason},
            ip=ip,
            name=row["subject"],
            params={"partner": row["partner_name"], "reason": reason},
        )
    view = await get_request(actor, request_id)
    if portal is not None and view.status in ("confirmed", "declined"):
        await _tell(portal, view)
    return view


async def cancel(actor: Actor, request_id: int, *, ip: str = "") -> RequestView:
    """The requester withdraws an open request; a canceled request can no longer be confirmed."""
    row = await _row(actor, request_id)
    if row["partner"] != actor.partner_id:
        raise NotFound("Request")
    _require_open(row)
    async with write_transaction():
        await _move(row, "canceled", holder=row["holder"])
        await _kind(row["kind"]).on_dropped(_view({**row, "status": "canceled"}))
        await audit.record(
            actor,
            "request.cancel",
            f"Canceled the request: {row['subject']}",
            object_type="request",
            object_id=request_id,
            details={"kind": row["kind"]},
            ip=ip,
            name=row["subject"],
        )
    return await get_request(actor, request_id)


async def follow_up(kind: str, partner_id: int, key: str, value: int, status: RequestStatus) -> None:
    """Record what became of a confirmed request's object later on (``LATER_STATUSES``), as its kind reports it:
    the newest such request of ``partner_id`` whose payload has ``key`` == ``value``. Call it in the transaction of
    the change; a request still open or declined is left alone."""
    found = await requests_about(kind, partner_id, key, value, LATER_STATUSES)
    if found:
        await PartnerRequest.update(
            {PartnerRequest.status: status, PartnerRequest.updated_at: datetime.now(UTC)}
        ).where(PartnerRequest.id == found[0])


async def requests_about(
    kind: str, partner_id: int, key: str, value: int, statuses: Iterable[RequestStatus]
) -> list[int]:
    """The ids of ``partner_id``'s requests of ``kind`` in one of ``statuses`` whose payload has ``key`` == ``value``
    (the object a request is about), newest first."""
    rows = (
        await PartnerRequest.select(PartnerRequest.id, PartnerRequest.payload)
        .where(
            (PartnerRequest.kind == kind)
            & (PartnerRequest.partner == partner_id)
            & PartnerRequest.status.is_in(list(statuses))
        )
        .order_by(PartnerRequest.id, ascending=False)
    )
    return [r["id"] for r in rows if (json_value(r["payload"]) or {}).get(key) == value]


async def withdraw(actor: Actor, request_id: int, *, ip: str = "") -> None:
    """Cancel the request when it is still open: its object was deleted or asked for again."""
    if (await get_request(actor, request_id)).status in OPEN_REQUEST_STATUSES:
        await cancel(actor, request_id, ip=ip)


async def _tell(portal: Portal, view: RequestView) -> None:
    for listener in _listeners:
        try:
            await listener(portal, view)
        except Exception:  # a failing notice must not undo a decision that already committed
            log.exception("request %s: decision listener %r failed", view.id, listener)
