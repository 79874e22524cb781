"""HTML form data → msgspec Structs, with errors that name the field, the same way the JSON API does."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from litestar import Request
from msgspec import inspect as mi

from core.errors import InvalidInput
from core.web.i18n import N_, NAMED_ERROR

T = TypeVar("T")

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.S)


def split_field(text: str) -> tuple[str | None, str]:
    """msgspec's 'Expected `int` - at `$.options.x`' or our hooks' 'amount: must not be zero' → (field, message)."""
    match = _AT.match(text)
    message, path = (match["message"], match["path"]) if match else (text, None)
    field = (path or "").replace("[", ".").replace("]", "") or None
    if field is None and (named := NAMED_ERROR.match(message)):
        field, message = named["field"], named["message"]
    if field is None and (missing := _MISSING.match(message)):
        field, message = missing["field"], N_("required")
    return field, _plain_words(message)


_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
# msgspec's wording → what a person filling a form understands; anything else is shown as it is.
_PLAIN = (
    (re.compile(r"^Expected `str` of length >= 1$"), lambda m: N_("required")),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), lambda m: f"at least {m[1]} characters"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), lambda m: f"at most {m[1]} characters"),
    (re.compile(r"^Expected `array` of length >= 1$"), lambda m: N_("choose at least one")),
    (re.compile(r"^Expected `array` of length >= (\d+)$"), lambda m: f"at least {m[1]} items"),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), lambda m: f"at most {m[1]} items"),
    (re.compile(r"^Expected `str` matching regex .*$"), lambda m: N_("not in the expected format")),
    (re.compile(r"^Expected `int` <= (\d+)$"), lambda m: f"at most {m[1]}"),
    (re.compile(r"^Expected `int` >= (\d+)$"), lambda m: f"at least {m[1]}"),
    (re.compile(r"^Expected `(int|float|decimal)`.*$"), lambda m: N_("must be a number")),
)


def _plain_words(message: str) -> str:
    for pattern, words in _PLAIN:
        if match := pattern.match(message):
            return words(match)
    return message


def validation_error(exc: msgspec.ValidationError) -> InvalidInput:
    """A msgspec error → InvalidInput (422) whose detail starts with the field it names."""
    field, message = split_field(str(exc))
    return InvalidInput(f"{field}: {message}" if field else message, field=field)


def convert(data: Any, struct_type: type[T]) -> T:
    """``msgspec.convert`` that raises InvalidInput (422) naming the field instead of ValidationError."""
    try:
        return msgspec.convert(data, struct_type, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None


def _plain(info: mi.Type) -> mi.Type:
    """Strip Optional from a field's type (inspect already drops UNSET): the form value's shape is left."""
    if isinstance(info, mi.Metadata):
        return _plain(info.type)
    if isinstance(info, mi.UnionType):
        kinds = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return _plain(kinds[0]) if len(kinds) == 1 else info
    return info


def _collect(form: Any, info: mi.StructType, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in info.fields:
        key = prefix + field.name
        kind = _plain(field.type)
        if isinstance(kind, mi.StructType):
            data[field.name] = _collect(form, kind, key + ".")
        elif isinstance(kind, mi.BoolType):
            # An unchecked checkbox sends nothing at all.
            data[field.name] = key in form
        elif isinstance(kind, mi.ListType) and isinstance(_plain(kind.item_type), mi.StructType):
            continue  # a list of records has no plain form encoding; the page passes it in ``overrides``
        elif isinstance(kind, mi.ListType | mi.TupleType | mi.VarTupleType | mi.SetType):
            values: list[str] = []
            for raw in form.getall(key) if key in form else []:
                values.extend(v.strip() for v in re.split(r"[\n,]", raw) if v.strip())
            data[field.name] = values
        elif key in form:
            value = form.get(key)
            declared = field.type.type if isinstance(field.type, mi.Metadata) else field.type  # Annotated: its type
            if (
                value == ""
                and not field.required
                and isinstance(declared, mi.UnionType)
                and any(isinstance(t, mi.NoneType) for t in declared.types)
            ):
                value = None
            data[field.name] = value
    return data


async def parse_form(request: Request, struct_type: type[T], **overrides: Any) -> T:
    """Read the request's form into ``struct_type``; checkboxes, multi-selects and 'options.x' names work.

    ``overrides`` supplies fields the page encodes its own way (e.g. one record per line of a textarea).
    """
    form = await request.form()
    info = mi.type_info(struct_type)
    assert isinstance(info, mi.StructType)
    return convert({**_collect(form, info, ""), **overrides}, struct_type)


def parse_day(text: str, field: str) -> date | None:
    """A YYYY-MM-DD filter value; empty means no bound.

    Raises:
        InvalidInput: not a date, naming the field.
    """
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Not a date (YYYY-MM-DD)", field=field) from None


def check_web_address(value: str, field: str) -> None:
    """An http(s) address with a host and no spaces, or nothing.

    Raises:
        InvalidInput: on ``field``.
    """
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.hostname or " " in value):
        raise InvalidInput(N_("Enter a web address starting with https://"), field=field)
