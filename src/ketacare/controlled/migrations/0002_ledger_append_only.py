"""Ledger entries are append-only in the database itself, as audit events are: neither the ORM
nor raw SQL through the application's connection can change or remove one (a correction is a
new, reversing entry)."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER controlled_ledger_no_update BEFORE UPDATE ON controlled_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
    """CREATE TRIGGER controlled_ledger_no_delete BEFORE DELETE ON controlled_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER controlled_ledger_no_update",
    "DROP TRIGGER controlled_ledger_no_delete",
]

POSTGRES = [
    """CREATE FUNCTION controlled_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$""",
    """CREATE TRIGGER controlled_ledger_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
       ON controlled_ledgerentry FOR EACH STATEMENT
       EXECUTE FUNCTION controlled_ledger_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER controlled_ledger_append_only ON controlled_ledgerentry",
    "DROP FUNCTION controlled_ledger_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("controlled", "0001_ledger")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
