"""Contacts Structs: contacts, groups, custom fields, stop-list changes and the table's filter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.web.pagination import DEFAULT_PER_PAGE, PageNumber, PerPageNumber
from core.web.params import Id

Gender = Literal["", "female", "male", "other"]
Name = Annotated[str, Meta(max_length=100)]
Ids = Annotated[list[Id], Meta(max_length=100_000)]


class ContactIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    phone: Annotated[str, Meta(min_length=1, max_length=40)]
    groups: Annotated[list[Id], Meta(min_length=1, max_length=200, description="At least one group id")]
    first_name: Name = ""
    last_name: Name = ""
    birth_date: date | None = None
    gender: Gender = ""
    comments: Annotated[str, Meta(max_length=2000)] = ""
    custom: dict[Annotated[str, Meta(max_length=40)], Any] = {}
    blocked_senders: Annotated[list[Id], Meta(max_length=200)] = []
    blocked_all: bool = False


class ContactUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    phone: Annotated[str, Meta(min_length=1, max_length=40)] | UnsetType = UNSET
    groups: Annotated[list[Id], Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    first_name: Name | UnsetType = UNSET
    last_name: Name | UnsetType = UNSET
    birth_date: date | UnsetType | None = UNSET
    gender: Gender | UnsetType = UNSET
    comments: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    custom: dict[Annotated[str, Meta(max_length=40)], Any] | UnsetType = UNSET
    blocked_senders: Annotated[list[Id], Meta(max_length=200)] | UnsetType = UNSET
    blocked_all: bool | UnsetType = UNSET


class GroupRef(msgspec.Struct, kw_only=True):
    id: int
    name: str


class SenderRef(msgspec.Struct, kw_only=True):
    id: int
    name: str
    channel: str


class ContactView(msgspec.Struct, kw_only=True):
    id: int
    phone: str
    groups: list[GroupRef]
    first_name: str
    last_name: str
    birth_date: date | None
    gender: str
    comments: str
    custom: dict[str, Any]
    blocked_all: bool
    blocked_senders: list[SenderRef]
    created_by: str
    created_at: datetime
    updated_at: datetime


SortKey = Literal["phone", "first_name", "last_name", "created_at", "updated_at", "birth_date"]


class ContactFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the contacts table shows: every field filterable, sortable columns, a page (CON-3)."""

    phone: Annotated[str, Meta(max_length=40)] = ""
    first_name: Name = ""
    last_name: Name = ""
    comments: Annotated[str, Meta(max_length=200)] = ""
    gender: Gender | None = None
    group_id: Id | None = None
    blocked_sender_id: Id | None = None
    blocked: bool | None = None
    created_from: date | None = None
    created_to: date | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    custom: dict[Annotated[str, Meta(max_length=40)], Annotated[str, Meta(max_length=200)]] = {}
    sort: SortKey = "created_at"
    descending: bool = True
    page: PageNumber = 1
    per_page: PerPageNumber = DEFAULT_PER_PAGE


class Selection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rows picked in the table: explicit ids, or every contact matching ``filter`` ("all N matching")."""

    ids: Ids = []
    all_matching: bool = False
    filter: ContactFilter = msgspec.field(default_factory=ContactFilter)


class GroupIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=120)]
    description: Annotated[str, Meta(max_length=500)] = ""


class GroupUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    name: Annotated[str, Meta(min_length=1, max_length=120)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET


class GroupView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    description: str
    contacts: int
    created_at: datetime


DataType = Literal["text", "number", "date", "boolean", "list"]


class FieldIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=60)]
    data_type: DataType = "text"
    required: bool = False
    choices: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=100)] = []


class FieldUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Only the name and whether it is required can change (CON-2)."""

    name: Annotated[str, Meta(min_length=1, max_length=60)] | UnsetType = UNSET
    required: bool | UnsetType = UNSET


class FieldView(msgspec.Struct, kw_only=True):
    id: int
    name: str
    variable: str
    data_type: DataType
    required: bool
    choices: list[str]


class StopListChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Block (merge) or unblock sender IDs for the selected contacts; no sender ids with all=True is every one."""

    selection: Selection
    sender_ids: Annotated[list[Id], Meta(max_length=200)] = []
    all_senders: bool = False


GroupActionKind = Literal["add", "remove", "move"]


class GroupAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    selection: Selection
    group_id: Id
    action: GroupActionKind


class ColumnSetting(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One column of a user's table settings: a system column's key or a custom field's variable."""

    key: Annotated[str, Meta(min_length=1, max_length=40)]
    visible: bool = True


ContactMode = Literal["add_update", "add_new", "update"]
StopMode = Literal["exclude", "unblock", "block"]
ImportStatus = Literal["uploaded", "queued", "running", "done", "failed"]
FileKind = Literal["csv", "xls", "xlsx"]


class ImportPreview(msgspec.Struct, kw_only=True):
    """An uploaded file's first rows as text, with a guess at its header and at the mapping (CON-6)."""

    kind: FileKind
    encoding: str = ""
    delimiter: str = ""
    notice: str = ""
    columns: int
    rows: list[list[str]]
    has_header: bool
    suggested: dict[int, str]


class ImportStart(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How to import an uploaded file: the column mapping, the modes and the target group (CON-6, CON-7)."""

    mapping: Annotated[
        dict[int, Annotated[str, Meta(max_length=60)]],
        Meta(
            max_length=200,
            description="Column index (from 0) → phone, first_name, last_name, birth_date, gender, comments,"
            " custom.<variable> or unused; Phone is required, each field once",
        ),
    ]
    has_header: bool = False
    contact_mode: ContactMode = "add_update"
    stop_mode: StopMode = "exclude"
    sender_ids: Annotated[list[Id], Meta(max_length=200, description="Sender IDs for the stop list; none = all")] = []
    group_id: Id | None = None
    new_group: Annotated[str, Meta(max_length=120, description="Create this group and import into it")] = ""


class ImportView(msgspec.Struct, kw_only=True):
    id: int
    filename: str
    size: int
    status: ImportStatus
    contact_mode: ContactMode
    stop_mode: StopMode
    sender_ids: list[int]
    group: GroupRef | None
    user_email: str
    total: int
    processed: int
    percent: int
    added: int
    updated: int
    skipped: int
    invalid: int
    has_invalid_file: bool
    error: str
    created_at: datetime
    finished_at: datetime | None


class ImportUploaded(msgspec.Struct, kw_only=True):
    import_: ImportView = msgspec.field(name="import")
    preview: ImportPreview
