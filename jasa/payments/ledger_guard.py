"""The ledger's guard in the database: ``payments_ledgerentry`` refuses UPDATE, and DELETE except with its tenant.

``LedgerEntry.save()``/``delete()`` already refuse in Python, but a queryset ``update()``, raw SQL or a
psql session bypass them. The guard holds for every client of the database:

- UPDATE of any ledger row is refused at once, on SQLite and PostgreSQL (a trigger raising an
  integrity error: ``IntegrityError`` in Django on both).
- DELETE: on PostgreSQL a deferred constraint trigger checks at commit that the row's workspace was
  deleted in the same transaction, so deleting a whole workspace (``Workspace.delete()``: Django's
  collector deletes the ledger rows, then the payments, invoices and the workspace) commits, while a
  DELETE of ledger rows on their own fails the commit. TRUNCATE (test flushes) fires no row trigger.
  On SQLite DELETE is not guarded in the database: a trigger there cannot tell a tenant's deletion
  from a stray DELETE without naming ``accounts_workspace`` in its body, and SQLite then refuses
  every later table rebuild of ``accounts_workspace`` that Django's migrations do ("error in trigger
  …: no such table"); test flushes also DELETE tables in an arbitrary order. There the ORM refuses
  (``LedgerEntry.delete()`` and ``LedgerEntry.objects…delete()``) and the RESTRICT foreign keys keep
  payments and invoices from going without their workspace.

SQLite drops a table's triggers when Django rebuilds the table (most ALTERs of ``payments_ledgerentry``
on SQLite). A migration that alters the ledger table must therefore end with
``migrations.RunPython(ledger_guard.install, ledger_guard.uninstall)``; :func:`missing` (checked by a
test after all migrations, and by the daily ledger check) says when one forgot.
"""

from __future__ import annotations

TABLE = "payments_ledgerentry"
NO_UPDATE = "payments_ledger_no_update"
DELETE_WITH_WORKSPACE = "payments_ledger_delete_with_workspace"
MESSAGE = "ledger entries are append-only"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS {NO_UPDATE} BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {NO_UPDATE}"]

# restrict_violation (23001) is an integrity error: Django raises IntegrityError, as on SQLite.
_POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION {NO_UPDATE}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: UPDATE of entry % refused', OLD.id USING ERRCODE = 'restrict_violation';
    END $$""",
    f"DROP TRIGGER IF EXISTS {NO_UPDATE} ON {TABLE}",
    f"""CREATE TRIGGER {NO_UPDATE} BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {NO_UPDATE}()""",
    # Runs at commit (or SET CONSTRAINTS … IMMEDIATE), when the workspace's own deletion has happened.
    f"""CREATE OR REPLACE FUNCTION {DELETE_WITH_WORKSPACE}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM accounts_workspace WHERE id = OLD.workspace_id) THEN
            RAISE EXCEPTION '{MESSAGE}: entry % was deleted without its workspace', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END $$""",
    f"DROP TRIGGER IF EXISTS {DELETE_WITH_WORKSPACE} ON {TABLE}",
    f"""CREATE CONSTRAINT TRIGGER {DELETE_WITH_WORKSPACE} AFTER DELETE ON {TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {DELETE_WITH_WORKSPACE}()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {NO_UPDATE} ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {DELETE_WITH_WORKSPACE} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {NO_UPDATE}()",
    f"DROP FUNCTION IF EXISTS {DELETE_WITH_WORKSPACE}()",
]


def expected(vendor: str) -> list[str]:
    """The trigger names the guard consists of on this database vendor."""
    if vendor == "postgresql":
        return [NO_UPDATE, DELETE_WITH_WORKSPACE]
    if vendor == "sqlite":
        return [NO_UPDATE]
    return []


def _run(schema_editor, statements: list[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)  # None: no placeholders, the % are PL/pgSQL's own


def install(apps, schema_editor) -> None:
    """RunPython forwards: create (or re-create) the guard. Idempotent."""
    vendor = schema_editor.connection.vendor
    _run(schema_editor, _POSTGRES if vendor == "postgresql" else _SQLITE if vendor == "sqlite" else [])


def uninstall(apps, schema_editor) -> None:
    """RunPython backwards: drop the guard."""
    vendor = schema_editor.connection.vendor
    _run(schema_editor, _POSTGRES_DROP if vendor == "postgresql" else _SQLITE_DROP if vendor == "sqlite" else [])


def missing(connection) -> list[str]:
    """The guard's triggers this database lacks (empty when it is in place)."""
    names = expected(connection.vendor)
    if not names:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                           [TABLE])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name not in present]
