"""Raw statements on a transaction's own connection (asyncpg or aiosqlite) for the bulk hot paths.

Piccolo serves CRUD; imports and dispatch need COPY, arrays and RETURNING over thousands of rows at once.
Statements are written for PostgreSQL; on SQLite the same text runs with ?N parameters and without casts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


class RawSql:
    """One connection's statements; ``sqlite`` says which driver is underneath."""

    def __init__(self, connection: Any, *, sqlite: bool) -> None:
        self.connection = connection
        self.sqlite = sqlite

    def _sql(self, sql: str) -> str:
        return re.sub(r"\$(\d+)", r"?\1", re.sub(r"::\w+(\[\])?", "", sql)) if self.sqlite else sql

    def in_ids(self, ids: Sequence[Any], start: int = 1, kind: str = "bigint") -> tuple[str, list[Any]]:
        """``IN`` over ids (of PostgreSQL type ``kind``: text for names), from placeholder ``$start``, with its
        arguments: one array parameter on PostgreSQL (one plan whatever the count), one placeholder per id on
        SQLite."""
        if self.sqlite:
            return "IN (" + ", ".join(f"${n}" for n in range(start, start + len(ids))) + ")", list(ids)
        return f"= ANY(${start}::{kind}[])", [list(ids)]

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

    async def update_rows(
        self,
        table: str,
        key: tuple[str, str],
        columns: Sequence[tuple[str, str]],
        rows: Sequence[tuple[Any, ...]],
        *,
        where: str = "",
    ) -> None:
        """Set ``columns`` of many rows found by ``key``, each row's values ``(key, *columns)``.

        ``key`` and ``columns`` are (name, PostgreSQL type). ``where``: a further condition on the table's own
        columns. One statement on PostgreSQL (the values as arrays, unnested and joined on the key): a batch's 500
        single-row updates cost the server a statement each, which showed in the dispatch profile. executemany on
        SQLite, where a statement costs no round trip.
        """
        if not rows:
            return
        also = f" AND {where}" if where else ""
        if self.sqlite:
            sets = ", ".join(f"{name} = ${n}" for n, (name, _) in enumerate(columns, start=1))
            await self.executemany(
                f"UPDATE {table} SET {sets} WHERE {key[0]} = ${len(columns) + 1}{also}",  # noqa: S608 — our names
                [(*row[1:], row[0]) for row in rows],
            )
            return
        sets = ", ".join(f"{name} = v.c{n}" for n, (name, _) in enumerate(columns, start=1))
        arrays = ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate([key, *columns], start=1))
        names = ", ".join(["k", *(f"c{n}" for n in range(1, len(columns) + 1))])
        await self.connection.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names})"  # noqa: S608 — our names and types
            f" WHERE {table}.{key[0]} = v.k{also}",
            *(list(values) for values in zip(*rows, strict=True)),
        )

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
