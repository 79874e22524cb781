"""A table owned by the fake plugin."""

from piccolo.columns import Varchar
from piccolo.table import Table


class FakeNote(Table, tablename="fake_note"):
    text = Varchar(length=100)
