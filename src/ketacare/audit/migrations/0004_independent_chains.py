"""Several independent audit chains, so that audited work no longer queues on one head.

The events written so far become chain 0 (their hashes unchanged: chain 0's events do not name
their chain); heads for chains 1-7 start empty. Heads are protected as the events are: the
database refuses to delete one, to truncate the table, or to move a head anywhere but forward
onto an event of its own chain with that event's hash."""

from django.db import migrations, models

GENESIS = "0" * 64
CHAINS = 8  # ketacare.audit.models.CHAINS when this migration was written

# SQLite rebuilds a table to alter a column, and the rebuilt table has lost its triggers: the
# events' append-only triggers (0002) are created again after the rebuild (and, going back,
# after the reverse rebuild).
SQLITE_EVENTS = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]

SQLITE = [
    *SQLITE_EVENTS,
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_chainhead
       BEGIN SELECT RAISE(ABORT, 'audit chain heads cannot be removed'); END""",
    """CREATE TRIGGER audit_head_starts_empty BEFORE INSERT ON audit_chainhead
       WHEN NEW.seq != 0 OR NEW.hash != hex(zeroblob(32))
       BEGIN SELECT RAISE(ABORT, 'an audit chain head starts at the beginning'); END""",
    """CREATE TRIGGER audit_head_moves_forward BEFORE UPDATE ON audit_chainhead
       WHEN NEW.id != OLD.id OR NEW.chain != OLD.chain OR NEW.seq <= OLD.seq
         OR NOT EXISTS (SELECT 1 FROM audit_auditevent e
                        WHERE e.chain = NEW.chain AND e.seq = NEW.seq AND e.hash = NEW.hash)
       BEGIN SELECT RAISE(ABORT,
         'an audit chain head only moves forward, onto an event of its chain'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER audit_head_no_delete",
    "DROP TRIGGER audit_head_starts_empty",
    "DROP TRIGGER audit_head_moves_forward",
]

POSTGRES = [
    """CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           IF NEW.seq <> 0 OR NEW.hash <> repeat('0', 64) THEN
             RAISE EXCEPTION 'an audit chain head starts at the beginning';
           END IF;
           RETURN NEW;
         END IF;
         IF TG_OP = 'UPDATE' THEN
           IF NEW.id <> OLD.id OR NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq
              OR NOT EXISTS (SELECT 1 FROM audit_auditevent e
                             WHERE e.chain = NEW.chain AND e.seq = NEW.seq
                               AND e.hash = NEW.hash) THEN
             RAISE EXCEPTION 'an audit chain head only moves forward, onto an event of its chain';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit chain heads cannot be removed';
       END $$""",
    """CREATE TRIGGER audit_head_guard_rows BEFORE INSERT OR UPDATE OR DELETE
       ON audit_chainhead FOR EACH ROW EXECUTE FUNCTION audit_head_guard()""",
    """CREATE TRIGGER audit_head_guard_truncate BEFORE TRUNCATE
       ON audit_chainhead FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER audit_head_guard_rows ON audit_chainhead",
    "DROP TRIGGER audit_head_guard_truncate ON audit_chainhead",
    "DROP FUNCTION audit_head_guard()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


def add_heads(apps, schema_editor):
    head = apps.get_model("audit", "ChainHead")
    # Explicit ids (chain + 1, as the first head's is 1): PostgreSQL's id sequence was never
    # advanced by the first head's explicit id.
    for number in range(1, CHAINS):
        head.objects.get_or_create(chain=number, defaults={"id": number + 1, "hash": GENESIS})


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_alter_auditevent_action")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, _run({"sqlite": SQLITE_EVENTS})),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("chain", "seq"), name="audit_event_one_per_place"
            ),
        ),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-id"]}),
        migrations.RemoveIndex(model_name="auditevent", name="audit_audit_patient_36c015_idx"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_audit_actor_i_4ccb81_idx"),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["patient", "-id"], name="audit_audit_patient_by_id"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "-id"], name="audit_audit_actor_by_id"),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="chain",
            field=models.PositiveSmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="chainhead",
            name="chain",
            field=models.PositiveSmallIntegerField(unique=True),
        ),
        migrations.RunPython(add_heads, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
