from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-26T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "set-based references for the tables imports fill, on PostgreSQL"

# A foreign key checks every inserted row with its own query: for a 300,000-row import that is 900,000 lookups
# (partner of each contact, contact and group of each membership), about a third of the import's time. These
# references are kept instead by statement-level triggers that check a whole COPY or INSERT in one query, lock
# the referenced rows FOR KEY SHARE as a foreign key does (a concurrent delete waits, or the check fails), and
# cascade deletes in one statement. SQLite keeps its ordinary foreign keys: the tables were created with them.
# An import that writes the memberships of contacts it has just inserted says so with the transaction-local
# setting portal.own_rows_of = 'contact'; the check then only counts them.
REFERENCES = (
    # (table, column, referenced table, the foreign key it replaces)
    ("contact", "partner", "partner", "contact_partner_fkey"),
    ("contact_group_member", "contact", "contact", "contact_group_member_contact_fkey"),
    ("contact_group_member", "group", "contact_group", "contact_group_member_group_fkey"),
)

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_reference_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    EXECUTE format('SELECT count(DISTINCT %I) FROM portal_new_rows', TG_ARGV[0]) INTO wanted;
    IF current_setting('portal.own_rows_of', true) = TG_ARGV[1] THEN
        -- The statement points only at rows this transaction inserted: no one else sees them, so no one can
        -- delete them meanwhile, and locking them would only cost time.
        EXECUTE format('SELECT count(*) FROM %I AS r WHERE r.id IN (SELECT %I FROM portal_new_rows)',
            TG_ARGV[1], TG_ARGV[0]) INTO found;
    ELSE
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM %I AS r WHERE r.id IN (SELECT %I FROM portal_new_rows)'
            ' FOR KEY SHARE OF r) AS x', TG_ARGV[1], TG_ARGV[0]) INTO found;
    END IF;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            '%s.%s refers to a row of %s that does not exist', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$
"""

CASCADE_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_reference_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I WHERE %I IN (SELECT id FROM portal_old_rows)', TG_ARGV[0], TG_ARGV[1]);
    RETURN NULL;
END $$
"""


def _statements(table: str, column: str, referenced: str, constraint: str) -> list[str]:
    name = f"{table}_{column}_ref"
    check = f"EXECUTE FUNCTION portal_reference_check('{column}', '{referenced}')"
    return [
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS portal_new_rows"
        f" FOR EACH STATEMENT {check}",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} REFERENCING NEW TABLE AS portal_new_rows"
        f" FOR EACH STATEMENT {check}",
        f"CREATE TRIGGER {name}_cascade AFTER DELETE ON {referenced} REFERENCING OLD TABLE AS portal_old_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION portal_reference_cascade('{table}', '{column}')",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contacts", description=DESCRIPTION)

    async def create() -> None:
        from core.db import engine

        db = engine()
        if not isinstance(db, PostgresEngine):
            return
        await db.run_ddl(CHECK_FUNCTION)
        await db.run_ddl(CASCADE_FUNCTION)
        for reference in REFERENCES:
            for statement in _statements(*reference):
                await db.run_ddl(statement)

    async def drop() -> None:
        from core.db import engine

        db = engine()
        if not isinstance(db, PostgresEngine):
            return
        for table, column, referenced, constraint in REFERENCES:
            name = f"{table}_{column}_ref"
            for suffix, on in (("insert", table), ("update", table), ("cascade", referenced)):
                await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}_{suffix} ON {on}")
            await db.run_ddl(
                f'ALTER TABLE {table} ADD CONSTRAINT {constraint} FOREIGN KEY ("{column}") REFERENCES {referenced} (id)'
                " ON UPDATE CASCADE ON DELETE CASCADE"
            )
        await db.run_ddl("DROP FUNCTION IF EXISTS portal_reference_check()")
        await db.run_ddl("DROP FUNCTION IF EXISTS portal_reference_cascade()")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
