"""Database engine selection (SQLite embedded or PostgreSQL), write transactions and migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator
from piccolo.custom_types import Combinable
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from core.settings import Settings

log = logging.getLogger(__name__)
CLOSE_POOL_S = 10

# Core piccolo apps in dependency order; plugins' apps are appended by the register_piccolo_apps hook.
CORE_APPS = (
    "core.tenancy.piccolo_app",
    "core.accounts.piccolo_app",
    "core.billing.piccolo_app",
    "core.mail.piccolo_app",
    "core.senders.piccolo_app",
    "core.contacts.piccolo_app",
    "core.message_templates.piccolo_app",
    "core.numbering.piccolo_app",
    "core.campaigns.piccolo_app",
    "core.dispatch.piccolo_app",
    "core.public_api.piccolo_app",
    "core.statistics.piccolo_app",
)


def make_engine(settings: Settings) -> Engine:
    """SQLite under var/ when no DATABASE_URL is set, else PostgreSQL."""
    if settings.embedded_database:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers work during a write; it is a property of the file, so setting it once sticks.
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        return SQLiteEngine(path=str(path), timeout=30)
    scheme = urlsplit(settings.database_url).scheme
    if scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL: unsupported scheme {scheme!r} (use postgresql://)")
    return PostgresEngine(config={"dsn": settings.database_url})


def engine() -> Engine:
    """The engine of the PICCOLO_CONF module (core.piccolo_conf), found the way piccolo's tables find it."""
    found = engine_finder()
    if found is None:
        raise RuntimeError("PICCOLO_CONF names no module with a DB engine")
    return found


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """A transaction that takes the write lock up front on SQLite (no "database is locked" on upgrade)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate) as tx:
            yield tx
    else:
        transaction = db.transaction()
        try:
            async with transaction as tx:
                yield tx
        finally:
            # piccolo hands its pooled connection back after the commit or rollback: a cancellation landing in either
            # (a job stopped at shutdown or aborted) skipped that, leaving the connection checked out for good and
            # the pool's close waiting on it forever. Releasing a connection twice does nothing (asyncpg).
            connection = getattr(transaction, "connection", None)
            if isinstance(db, PostgresEngine) and db.pool is not None and connection is not None:
                await db.pool.release(connection)


@contextmanager
def unique_or(error: Exception) -> Iterator[None]:
    """Raise ``error`` for a unique-index violation in the block: two writers raced past the same existence check.

    On PostgreSQL's READ COMMITTED both see "not taken" and insert; the index keeps one and the other gets ``error``
    (a 409 naming the field) instead of a 500.
    """
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise error from None
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):
            raise
        raise error from None


async def newest_first(table: type[Table], where: Combinable, size: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of ``table`` matching ``where``, newest first, ``size`` at a time: keyset pages by id (no OFFSET,
    so the last page costs what the first does), for exports that stream millions of rows."""
    key = table._meta.primary_key
    last: int | None = None
    while True:
        query = table.select().where(where if last is None else where & (key < last))
        rows = await query.order_by(key, ascending=False).limit(size)
        if not rows:
            return
        last = rows[-1][key._meta.name]
        yield rows


def refresh_app_registry() -> None:
    """Rebuild piccolo's app list from the plugins registered now (some register after piccolo_conf loaded)."""
    from piccolo.conf.apps import AppRegistry, Finder

    from core.plugins import plugin_piccolo_apps

    conf = Finder().get_piccolo_conf_module()
    if conf is None:
        raise RuntimeError("PICCOLO_CONF names no importable module")
    conf.APP_REGISTRY = AppRegistry(apps=[*CORE_APPS, *plugin_piccolo_apps()])


async def migrate() -> None:
    """Apply every pending migration of core's and plugins' piccolo apps, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    refresh_app_registry()
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")


async def _session_untouched(connection: asyncpg.Connection) -> None:
    """The pool's reset, after asyncpg's own (which rolls back a transaction left open): nothing more.

    The portal keeps no session state on a connection: its advisory locks, settings and temporary tables all end
    with their transaction (``pg_advisory_xact_lock``, ``SET LOCAL``, ``set_config(…, true)``, ``ON COMMIT DROP``),
    and it neither LISTENs nor holds cursors. So asyncpg's default reset (``RESET ALL``, ``UNLISTEN *``…) would be
    one more round trip after every pooled query for nothing: a request of /api/send_sms makes about twenty.
    """


async def open_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(max_size=20, reset=_session_untouched)


async def close_pool() -> None:
    """Close the pool; a connection still checked out after CLOSE_POOL_S (its task gone) is cut off instead of
    holding the process's shutdown forever."""
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        try:
            # asyncpg terminates the pool when its graceful close is cancelled.
            await asyncio.wait_for(db.pool.close(), CLOSE_POOL_S)
        except TimeoutError:
            log.warning(
                "database pool: a connection was still in use after %s s; the pool was terminated", CLOSE_POOL_S
            )
        db.pool = None


# Backslash escapes LIKE's wildcards; PostgreSQL assumes it, SQLite has no escape character unless told.
LIKE_ESCAPE = "ESCAPE '\\'"


class _Like(ComparisonOperator):
    template = "{name} LIKE {value} " + LIKE_ESCAPE


class _ILike(ComparisonOperator):
    template = "{name} ILIKE {value} " + LIKE_ESCAPE


def like_literal(text: str) -> str:
    """``text`` for a LIKE pattern in which it matches only itself: '%', '_' and the escape are escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, text: str, *, ignore_case: bool = False) -> Where:
    """Rows whose ``column`` contains ``text`` literally (SQLite's LIKE ignores ASCII case either way)."""
    operator = _ILike if ignore_case and not is_sqlite() else _Like
    return Where(column=column, value=f"%{like_literal(text)}%", operator=operator)


def icontains(column: Any, text: str) -> Where:
    """Case-insensitive 'contains' filter; SQLite's LIKE already ignores ASCII case and has no ILIKE."""
    return contains(column, text, ignore_case=True)


def starts_with(column: Any, prefix: str) -> Where:
    """Rows whose ``column`` starts with ``prefix`` literally (a partner path, a number prefix)."""
    return Where(column=column, value=f"{like_literal(prefix)}%", operator=_Like)


def json_value(value: Any) -> Any:
    """A JSON column's value: piccolo hands them back as text unless asked to load them."""
    return msgspec.json.decode(value) if isinstance(value, str) else value


def must_exist(row: dict[str, Any] | None) -> dict[str, Any]:
    """A queried row the caller knows is there: it just wrote it, or a foreign key or the session holds it."""
    if row is None:
        raise LookupError("a row that must exist is missing")
    return row
