"""Raw statements on a transaction's own connection (asyncpg or aiosqlite) for the bulk hot paths.

Piccolo serves CRUD; imports and dispatch need COPY, arrays and RETURNING over thousands of rows at once.
Statements are written for PostgreSQL; on SQLite the same text runs with ?N parameters and without casts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class RawSql:
    """One connection's statements; ``sqlite`` says which driver is underneath."""

    def __init__(self, connection: Any, *, sqlite: bool) -> None:
        self.connection = connection
        self.sqlite = sqlite

    def _sql(self, sql: str) -> str:
        return re.sub(r"\$(\d+)", r"?\1", re.sub(r"::\w+(\[\])?", "", sql)) if self.sqlite else sql

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        if self.sqlite:
            cursor = await self.connection.execute(self._sql(sql), args)
            count = cursor.rowcount
            await cursor.close()
            return count
        status = await self.connection.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sqlite:
            cursor = await self.connection.executemany(self._sql(sql), rows)
            await cursor.close()
        else:
            await self.connection.executemany(sql, rows)

    async def rows(self, sql: str, *args: Any) -> list[Mapping[str, Any]]:
        """A statement's rows, read-only by column name (a SELECT, or a write with RETURNING).

        asyncpg's records are returned as they are: copying 5,000 of them into dicts per chunk showed in profiles.
        """
        if self.sqlite:
            return list(await self.connection.execute_fetchall(self._sql(sql), args))
        return await self.connection.fetch(sql, *args)

    async def column(self, sql: str, *args: Any) -> list[Any]:
        """The first column of a statement's rows."""
        if self.sqlite:
            rows = await self.connection.execute_fetchall(self._sql(sql), args)
            return [next(iter(r.values())) if isinstance(r, dict) else r[0] for r in rows]
        return [r[0] for r in await self.connection.fetch(sql, *args)]

    async def bulk(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Write many rows at once: COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        if self.sqlite:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 — our table and column names
            cursor = await self.connection.executemany(sql, rows)
            await cursor.close()
        else:
            await self.connection.copy_records_to_table(table, records=rows, columns=columns)
