"""The campaign state machine (CMP-1): which action each status allows, and the reason when it does not."""

from __future__ import annotations

from typing import Literal

from core.web.i18n import N_

Status = Literal["waiting", "scheduled", "in_progress", "paused", "completed", "failed", "canceled"]
Action = Literal["pause", "resume", "cancel", "repeat", "delete", "start"]

STATUS_LABELS: dict[str, str] = {
    "waiting": N_("Waiting"),
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "paused": N_("Paused"),
    "completed": N_("Completed"),
    "failed": N_("Failed"),
    "canceled": N_("Canceled"),
}

ALLOWED: dict[str, frozenset[str]] = {
    "pause": frozenset({"in_progress"}),
    "resume": frozenset({"paused"}),
    "cancel": frozenset({"paused", "scheduled", "waiting"}),
    "repeat": frozenset({"canceled", "completed", "failed"}),
    "delete": frozenset(STATUS_LABELS) - {"in_progress"},
    "start": frozenset({"scheduled"}),
}

FINISHED = frozenset({"completed", "failed", "canceled"})


def actions_for(status: str) -> list[str]:
    """The actions a campaign in ``status`` offers, in the order the list shows them."""
    return [action for action, statuses in ALLOWED.items() if status in statuses]


def refusal(action: str, status: str) -> str | None:
    """Why ``action`` is not allowed now, or None when it is."""
    allowed = ALLOWED[action]
    if status in allowed:
        return None
    wanted = " or ".join(STATUS_LABELS[s] for s in STATUS_LABELS if s in allowed)
    return f"A campaign that is {STATUS_LABELS[status]} cannot be {_PAST[action]}; only one that is {wanted} can"


_PAST = {
    "pause": "paused",
    "resume": "resumed",
    "cancel": "canceled",
    "repeat": "repeated",
    "delete": "deleted",
    "start": "started now",
}
