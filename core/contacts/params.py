"""Query strings and forms → the contacts table's filter, the same for pages, the REST API and exports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core.contacts.schemas import ContactFilter
from core.web.forms import convert

_FIELDS = {f.name for f in msgspec.structs.fields(ContactFilter)} - {"custom"}


def contact_filter(params: Mapping[str, Any]) -> ContactFilter:
    """Plain keys are filter fields, 'custom.<variable>' keys filter custom fields; empty values are ignored."""
    data: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for key, value in params.items():
        if value in ("", None):
            continue
        if key.startswith("custom."):
            custom[key.removeprefix("custom.")] = str(value)
        elif key in _FIELDS:
            data[key] = value
    return convert({**data, "custom": custom}, ContactFilter)
